package enginetest

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/vkneuro/vkneuro/engine"
)

// One Manager is shared by all tests of a process: opening an instance and
// compiling pipelines on lavapipe costs far more than most tests.
var (
	mu      sync.Mutex
	shared  *engine.Manager
	openErr error
)

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
	mu.Lock()
	defer mu.Unlock()
	if shared == nil || shared.Closed() {
		shared, openErr = engine.Open(engine.Options{AllowCPU: true})
		if openErr != nil {
			shared = nil
		}
	}
	if openErr != nil {
		if os.Getenv("VKNEURO_REQUIRE_VULKAN") == "1" {
			t.Fatalf("enginetest: VKNEURO_REQUIRE_VULKAN=1 but Vulkan cannot be opened: %v", openErr)
		}
		if errors.Is(openErr, engine.ErrNoVulkan) || errors.Is(openErr, engine.ErrNoDevice) {
			t.Skipf("enginetest: skipping, no Vulkan: %v", openErr)
		}
		t.Fatalf("enginetest: opening Vulkan: %v", openErr)
	}
	m := shared
	before := len(m.ValidationErrors())
	t.Cleanup(func() {
		if errs := m.ValidationErrors(); len(errs) > before {
			t.Errorf("enginetest: %d validation error(s) during the test:\n%s", len(errs)-before, strings.Join(errs[before:], "\n"))
		}
	})
	return m
}
