package models

import (
	"testing"

	"github.com/vkneuro/vkneuro/engine/enginetest"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
)

type testBackend struct {
	name string
	be   kernels.Backend
	slow bool // a CPU Vulkan driver (lavapipe): keep work small
}

// forEachBackend runs f in a subtest per backend: "cpu", and "vulkan" on
// the shared enginetest device (skipped without Vulkan unless
// VKNEURO_REQUIRE_VULKAN=1).
func forEachBackend(t *testing.T, f func(t *testing.T, bk testBackend)) {
	t.Run("cpu", func(t *testing.T) {
		c := cpu.New()
		defer c.Close()
		f(t, testBackend{name: "cpu", be: c})
	})
	t.Run("vulkan", func(t *testing.T) {
		bk := openVulkan(t)
		f(t, bk)
	})
}

func openVulkan(t *testing.T) testBackend {
	t.Helper()
	m := enginetest.Open(t)
	be, err := vulkan.New(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	return testBackend{name: "vulkan", be: be, slow: m.Info().CPU}
}
