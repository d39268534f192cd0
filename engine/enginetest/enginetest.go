package enginetest

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/vkneuro/vkneuro/engine"
)

// One Manager per kind is shared by all tests of a process: opening an
// instance and compiling pipelines on lavapipe costs far more than most
// tests.
var (
	mu     sync.Mutex
	shared = map[bool]*sharedManager{} // by Options.Staging
)

type sharedManager struct {
	m   *engine.Manager
	err error
}

// Open returns a Manager on any device, CPU drivers included, with
// validation when VKNEURO_VALIDATION=1. Without Vulkan it skips the test,
// unless VKNEURO_REQUIRE_VULKAN=1 (as in CI), then it fails it.
//
// The Manager is shared by the tests of the process and stays open; a test
// that closes it gets a fresh one for the next test. At cleanup, the test
// fails if validation errors appeared while it ran, so tests that use
// Vulkan must not run in parallel with each other (t.Parallel) or errors
// may be blamed on the wrong test.
func Open(t testing.TB) *engine.Manager {
	t.Helper()
	return open(t, false)
}

// OpenStaging is Open on a second shared Manager of the same device with
// engine.Options.Staging set: buffers are not host-visible and data moves
// through a staging buffer, as on a discrete GPU, so that path is tested
// on any machine.
func OpenStaging(t testing.TB) *engine.Manager {
	t.Helper()
	m := open(t, true)
	if m.Unified() {
		t.Fatalf("enginetest: a Manager opened with Staging reports unified memory")
	}
	return m
}

func open(t testing.TB, staging bool) *engine.Manager {
	t.Helper()
	mu.Lock()
	defer mu.Unlock()
	sh := shared[staging]
	if sh == nil || (sh.m != nil && sh.m.Closed()) {
		m, err := engine.Open(engine.Options{AllowCPU: true, Staging: staging})
		sh = &sharedManager{m: m, err: err}
		shared[staging] = sh
	}
	if openErr := sh.err; openErr != nil {
		if os.Getenv("VKNEURO_REQUIRE_VULKAN") == "1" {
			t.Fatalf("enginetest: VKNEURO_REQUIRE_VULKAN=1 but Vulkan cannot be opened: %v", openErr)
		}
		if errors.Is(openErr, engine.ErrNoVulkan) || errors.Is(openErr, engine.ErrNoDevice) {
			t.Skipf("enginetest: skipping, no Vulkan: %v", openErr)
		}
		t.Fatalf("enginetest: opening Vulkan: %v", openErr)
	}
	m := sh.m
	before := len(m.ValidationErrors())
	t.Cleanup(func() {
		if errs := m.ValidationErrors(); len(errs) > before {
			t.Errorf("enginetest: %d validation error(s) during the test:\n%s", len(errs)-before, strings.Join(errs[before:], "\n"))
		}
	})
	return m
}
