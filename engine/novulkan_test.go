package engine

import (
	"errors"
	"strings"
	"testing"
)

// TestNoDriver points the loader at a driver list that does not exist, as
// on a machine without mesa-vulkan-drivers: Devices and Open must return
// ErrNoVulkan with install advice, not crash.
func TestNoDriver(t *testing.T) {
	if err := loadVulkan(); err != nil {
		t.Skipf("no loader: %v", err)
	}
	// Go's os.Setenv reaches C's environment, which the loader reads at
	// vkCreateInstance.
	t.Setenv("VK_ICD_FILENAMES", "/nonexistent/vkneuro_no_icd.json")
	t.Setenv("VK_DRIVER_FILES", "/nonexistent/vkneuro_no_icd.json")
	if _, err := Devices(); !errors.Is(err, ErrNoVulkan) {
		t.Errorf("Devices without a driver: err = %v, want ErrNoVulkan", err)
	} else if !strings.Contains(err.Error(), "mesa-vulkan-drivers") {
		t.Errorf("error %q does not say what to install", err)
	}
	m, err := Open(Options{AllowCPU: true})
	if !errors.Is(err, ErrNoVulkan) || m != nil {
		t.Errorf("Open without a driver: %v, %v; want nil, ErrNoVulkan", m, err)
	}
}
