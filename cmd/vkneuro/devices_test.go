package main

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/engine"
)

// TestDevicesPeak lists the devices and measures the chosen one's peak.
func TestDevicesPeak(t *testing.T) {
	if _, err := engine.Devices(); errors.Is(err, engine.ErrNoVulkan) && os.Getenv("VKNEURO_REQUIRE_VULKAN") != "1" {
		t.Skip(err)
	}
	useSharedVulkan(t)
	code, stdout, stderr := runCmd(t, "devices", "-peak")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"device 0: ", "chosen: device ", "FP32 peak: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout does not have %q:\n%s", want, stdout)
		}
	}
	if code, _, stderr := runCmd(t, "devices", "extra"); code != exitUsage || !strings.Contains(stderr, `unexpected arguments ["extra"]`) {
		t.Errorf("devices extra: exit %d, stderr %q", code, stderr)
	}
}
