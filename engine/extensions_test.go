package engine

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// TestExtraExtensions enables the surface and swapchain extensions a
// swapchain needs, and checks that an unknown extension is refused with
// its name in the error.
func TestExtraExtensions(t *testing.T) {
	openTest(t, Options{
		Validation:         os.Getenv("VKNEURO_VALIDATION") == "1",
		InstanceExtensions: []string{"VK_KHR_surface"},
		DeviceExtensions:   []string{"VK_KHR_swapchain"},
	})
	for _, opts := range []Options{
		{AllowCPU: true, InstanceExtensions: []string{"VK_VKNEURO_no_such_extension"}},
		{AllowCPU: true, DeviceExtensions: []string{"VK_VKNEURO_no_such_extension"}},
	} {
		m, err := Open(opts)
		if err == nil {
			m.Close()
			t.Fatalf("Open(%+v) succeeded, want an error for the unknown extension", opts)
		}
		if errors.Is(err, ErrNoVulkan) {
			t.Skip(err)
		}
		if !strings.Contains(err.Error(), "VK_VKNEURO_no_such_extension") {
			t.Errorf("error %q does not name the missing extension", err)
		}
	}
}
