//go:build !viewer

package main

import (
	"os"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/viewer"
)

// TestLiveNotBuilt: without -tags viewer, --live is a usage error that
// says how to rebuild, before any data or device is touched.
func TestLiveNotBuilt(t *testing.T) {
	code, _, stderr := runTrain(t, "normative", "--live", "--iters", "1")
	if code != exitUsage || !strings.Contains(stderr, viewer.ErrNotBuilt.Error()) {
		t.Errorf("--live without the viewer: exit %d, stderr %q; want exit %d with %q", code, stderr, exitUsage, viewer.ErrNotBuilt)
	}
	if !strings.Contains(stderr, "-tags viewer") || !strings.Contains(stderr, "libx11-dev") {
		t.Errorf("stderr %q does not say to rebuild with -tags viewer and which packages", stderr)
	}
}

func testMain(m *testing.M) { os.Exit(m.Run()) }
