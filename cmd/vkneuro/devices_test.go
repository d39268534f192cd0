package main

import (
	"errors"
	"os"
	"testing"

	"github.com/vkneuro/vkneuro/engine"
)

// TestRunPeak lists the devices and measures the chosen one's peak.
func TestRunPeak(t *testing.T) {
	err := run(true, true)
	if errors.Is(err, engine.ErrNoVulkan) && os.Getenv("VKNEURO_REQUIRE_VULKAN") != "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
}
