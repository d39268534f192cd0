//go:build viewer

package main

import (
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/viewer"
	"github.com/vkneuro/vkneuro/viewer/viewertest"
)

// testMain re-runs the tests under a virtual X server when there is no
// display, as the viewer's tests do.
func testMain(m *testing.M) {
	viewertest.Main(m, "VKNEURO_TRAIN_UNDER_XVFB", "vkneuro test")
}

// requireLive skips the test without a display or Vulkan, unless
// VKNEURO_REQUIRE_VIEWER=1 (or VKNEURO_REQUIRE_VULKAN=1) demands them,
// and turns validation on for the Managers --live opens.
func requireLive(t *testing.T) {
	t.Helper()
	viewertest.RequireDisplay(t)
	if _, err := viewer.Prepare(engine.Options{}); err != nil {
		viewertest.SkipOrFail(t, "VKNEURO_REQUIRE_VIEWER", "no window system for the viewer: %v", err)
	}
	m, err := engine.Open(engine.Options{AllowCPU: true})
	if err != nil {
		if errors.Is(err, engine.ErrNoVulkan) || errors.Is(err, engine.ErrNoDevice) {
			viewertest.SkipOrFail(t, "VKNEURO_REQUIRE_VULKAN", "no Vulkan: %v", err)
		}
		t.Fatal(err)
	}
	m.Close()
	t.Setenv("VKNEURO_VALIDATION", "1")
}

// liveRun runs train with the test hooks recording the Manager and the
// frames; frame, if set, is called after each Frame.
type liveRun struct {
	m       *engine.Manager
	regions viewer.Regions // of the last Frame
	frames  int            // Frame calls
}

func runLive(t *testing.T, frame func(*viewer.Viewer, viewer.Frame), args ...string) (lr *liveRun, code int, stderr string) {
	t.Helper()
	lr = &liveRun{}
	onLiveManager = func(m *engine.Manager) { lr.m = m }
	onLiveFrame = func(v *viewer.Viewer, f viewer.Frame) {
		lr.regions = v.Regions(f)
		lr.frames++
		if frame != nil {
			frame(v, f)
		}
	}
	defer func() { onLiveManager, onLiveFrame = nil, nil }()
	code, _, stderr = runTrain(t, args...)
	if lr.m == nil {
		t.Fatalf("train %q did not open a Manager for --live: exit %d, stderr %q", args, code, stderr)
	}
	if !lr.m.Validation() {
		t.Error("the validation layer was not active")
	}
	// After the run: the Manager is closed, and the layer reports leaked
	// objects at vkDestroyDevice.
	if errs := lr.m.ValidationErrors(); len(errs) > 0 {
		t.Errorf("%d validation errors:\n%s", len(errs), strings.Join(errs, "\n"))
	}
	return lr, code, stderr
}

// TestLive trains Tutorial 3's network for a few steps with --live and
// --screenshot and checks the screenshot as the viewer's test does: the
// filter and feature-map tiles vary, the loss curve crosses its panel,
// the header has text. Showing training must not change it: the losses
// equal those of the same run on the Vulkan backend without --live.
func TestLive(t *testing.T) {
	requireLive(t)
	dir := t.TempDir()
	shot := filepath.Join(dir, "live.png")
	liveCSV, plainCSV := filepath.Join(dir, "live.csv"), filepath.Join(dir, "plain.csv")
	args := []string{"normative", "--n-train", "50", "--batch", "10", "--iters", "5", "--quiet"}
	lr, code, stderr := runLive(t, nil, append(args, "--live", "--screenshot", shot, "--metrics", liveCSV)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if code, _, stderr := runTrain(t, append(args, "--backend", "vulkan", "--metrics", plainCSV)...); code != exitOK {
		t.Fatalf("without --live: exit %d: %s", code, stderr)
	}
	if a, b := readCSV(t, liveCSV), readCSV(t, plainCSV); !slices.EqualFunc(a, b, slices.Equal) {
		t.Errorf("losses with --live %v differ from those without %v", a, b)
	}
	if lr.frames != 5 {
		t.Errorf("%d Frame calls for 5 steps, want 5", lr.frames)
	}
	img := viewertest.ReadPNG(t, shot)
	if img.Bounds() != image.Rect(0, 0, 960, 600) {
		t.Fatalf("screenshot is %v, want the default 960×600", img.Bounds())
	}
	viewertest.CheckRegions(t, img, viewertest.Regions(lr.regions))
}

// TestLiveEscape types Escape into the window during step 2 and checks
// that training stops after step 3 (the next Frame sees the key) as it
// does on SIGINT: a checkpoint of step 3 that loads, and the --save
// weights, with exit status 0.
func TestLiveEscape(t *testing.T) {
	requireLive(t)
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("VKNEURO_REQUIRE_VIEWER") == "1" {
			t.Fatal("VKNEURO_REQUIRE_VIEWER=1 but python3 is missing for viewer/testdata/x11probe.py")
		}
		t.Skip("python3 missing: cannot type Escape into the window")
	}
	dir := t.TempDir()
	ck, saved := filepath.Join(dir, "ck"), filepath.Join(dir, "w.npz")
	escape := func(v *viewer.Viewer, f viewer.Frame) {
		if f.Step != 2 {
			return
		}
		win := v.X11Window()
		if win == 0 {
			t.Fatal("the viewer's window is not an X11 window")
		}
		out, err := exec.Command(py, "../../viewer/testdata/x11probe.py", "escape", fmt.Sprint(win)).CombinedOutput()
		if err != nil {
			if strings.Contains(string(out), "OSError") && os.Getenv("VKNEURO_REQUIRE_VIEWER") != "1" {
				t.Skipf("x11probe: X libraries missing (Debian: libx11-6 libxtst6): %s", out)
			}
			t.Fatalf("x11probe escape: %v\n%s", err, out)
		}
		// Wait until the window has the key; it stays pressed for the
		// Frame after step 3, which stops training.
		for deadline := time.Now().Add(5 * time.Second); ; {
			stop, err := v.Frame(f)
			if err != nil {
				t.Fatal(err)
			}
			if stop {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("the viewer did not see Escape within 5 s")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	_, code, stderr := runLive(t, escape, "normative", "--live", "--n-train", "50", "--batch", "10", "--iters", "20",
		"--checkpoint", ck, "--save", saved, "--quiet")
	if code != exitOK || !strings.Contains(stderr, "stopped from the viewer after step 3; checkpoint in "+ck) {
		t.Fatalf("exit %d, stderr %q; want %d and a message that the viewer stopped training after step 3", code, stderr, exitOK)
	}
	meta := readCheckpointMeta(t, ck)
	if meta.Step != 3 {
		t.Errorf("checkpoint at step %d, want 3", meta.Step)
	}
	ckArrays, err := data.ReadNPZ(filepath.Join(ck, meta.File))
	if err != nil {
		t.Fatalf("checkpoint file: %v", err)
	}
	// --save after a viewer stop writes the model as it stands: the
	// checkpoint's parameters.
	sd, err := data.ReadNPZ(saved)
	if err != nil {
		t.Fatalf("--save file: %v", err)
	}
	if len(sd) == 0 {
		t.Fatal("--save file is empty")
	}
	for k, v := range sd {
		if c := ckArrays["param."+k]; c == nil || !slices.Equal(c.Data, v.Data) {
			t.Errorf("%s: the --save weights differ from the checkpoint's", k)
		}
	}
}
