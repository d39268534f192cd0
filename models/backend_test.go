package models

import (
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
)

type testBackend struct {
	name string
	be   kernels.Backend
	slow bool // lavapipe: keep work small
}

// testBackends returns the CPU backend and, where a Vulkan device opens,
// the Vulkan backend; both are closed at the end of the test.
func testBackends(t *testing.T) []testBackend {
	c := cpu.New()
	t.Cleanup(func() { c.Close() })
	return []testBackend{{name: "cpu", be: c}}
}
