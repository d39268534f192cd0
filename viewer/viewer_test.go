//go:build viewer

package viewer

import (
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/engine/swapchain"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
	"github.com/vkneuro/vkneuro/models"
	"github.com/vkneuro/vkneuro/viewer/viewertest"
)

// TestMain re-runs the tests under a virtual X server when there is no
// display.
func TestMain(m *testing.M) {
	viewertest.Main(m, "VKNEURO_VIEWER_UNDER_XVFB", "viewer test")
}

// openManager opens a dedicated Manager with the window extensions and
// validation on. It closes the Manager when the test ends and fails the
// test if the validation layer reported an error, including at teardown.
func openManager(t *testing.T) *engine.Manager {
	t.Helper()
	viewertest.RequireDisplay(t)
	opts, err := Prepare(engine.Options{AllowCPU: true, Validation: true})
	if err != nil {
		viewertest.SkipOrFail(t, "VKNEURO_REQUIRE_VIEWER", "no window system for the viewer: %v", err)
	}
	m, err := engine.Open(opts)
	if err != nil {
		if errors.Is(err, engine.ErrNoVulkan) || errors.Is(err, engine.ErrNoDevice) {
			viewertest.SkipOrFail(t, "VKNEURO_REQUIRE_VULKAN", "no Vulkan: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
		// After Close: the layer reports leaked objects at vkDestroyDevice.
		if errs := m.ValidationErrors(); len(errs) > 0 {
			t.Errorf("%d validation errors:\n%s", len(errs), strings.Join(errs, "\n"))
		}
		if warns := m.ValidationWarnings(); len(warns) > 0 {
			t.Logf("%d validation warnings, first: %s", len(warns), warns[0])
		}
	})
	if !m.Validation() {
		t.Fatal("the validation layer is not active")
	}
	return m
}

// TestTrainingViewer trains Tutorial 3's normative CNN for a few steps on
// the Vulkan backend with the viewer showing every step, resizes the
// window half-way, and checks the screenshot: the filter and feature-map
// tiles vary, the loss curve is drawn, the header has text. The Manager
// runs with validation, which must report no error, including at teardown.
func TestTrainingViewer(t *testing.T) {
	m := openManager(t)

	be, err := vulkan.New(m)
	if err != nil {
		t.Fatal(err)
	}
	const batch, steps = 8, 10
	d, h, w := models.NormativeDataset(models.NormativeTrainAngles(batch*steps, 7))
	model, err := models.NewNormative(be, h, w, 7)
	if err != nil {
		t.Fatal(err)
	}
	defer model.Close()
	weight := model.Param("conv.weight")
	filters, ok := weight.Value.Storage.(*engine.Buffer)
	if !ok || len(weight.Shape) != 4 {
		t.Fatalf("conv.weight is %T of shape %v, want an *engine.Buffer of 4 dimensions", weight.Value.Storage, weight.Shape)
	}
	fshape := [4]int{weight.Shape[0], weight.Shape[1], weight.Shape[2], weight.Shape[3]}
	// The trainer's feature maps live in the model's step Program, which
	// models does not export; the test shows the conv activations of the
	// batch's first sample instead, computed by a forward pass (Hidden)
	// and uploaded.
	maps, err := m.NewBuffer(fshape[0] * h * w)
	if err != nil {
		t.Fatal(err)
	}
	defer maps.Free()

	shot := filepath.Join(t.TempDir(), "live.png")
	v, err := Open(m, Options{Width: 640, Height: 400, MinFrameInterval: time.Nanosecond, Screenshot: shot})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()

	per := h * w
	var loss []float32
	var frame Frame
	start := time.Now()
	for s := range steps {
		x, tg := d.X[s*batch*per:(s+1)*batch*per], d.T[s*batch:(s+1)*batch]
		l, err := model.Step(x, tg)
		if err != nil {
			t.Fatal(err)
		}
		loss = append(loss, l)
		act, feat, err := model.Hidden(x[:per], "conv")
		if err != nil {
			t.Fatal(err)
		}
		if feat != fshape[0]*per {
			t.Fatalf("conv activations: %d per sample, want %d", feat, fshape[0]*per)
		}
		if err := m.Upload(maps, act, 0); err != nil {
			t.Fatal(err)
		}
		frame = Frame{
			Step: s + 1, Loss: loss, StepsPerSec: float64(s+1) / time.Since(start).Seconds(),
			Filters: filters, FilterShape: fshape,
			Maps: maps, MapShape: [4]int{batch, fshape[0], h, w},
		}
		stop, err := v.Frame(frame)
		if err != nil {
			t.Fatal(err)
		}
		if stop {
			t.Fatalf("step %d: the viewer asked to stop, nobody closed it", s)
		}
		if s == steps/2 {
			// Resizing must recreate the swapchain at the new size.
			v.win.SetSize(800, 300)
			deadline := time.Now().Add(5 * time.Second)
			for {
				if fw, fh := v.win.GetFramebufferSize(); fw == 800 && fh == 300 {
					break
				}
				if time.Now().After(deadline) {
					fw, fh := v.win.GetFramebufferSize()
					t.Fatalf("window did not resize: framebuffer %d×%d", fw, fh)
				}
				v.Frame(frame)
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
	if err := v.Render(frame); err != nil {
		t.Fatal(err)
	}
	if n := v.Frames(); n < steps/2 {
		t.Errorf("%d frames shown in %d steps, want at least %d", n, steps, steps/2)
	}
	if ew, eh := v.sc.Extent(); ew != 800 || eh != 300 {
		t.Errorf("swapchain is %d×%d after resizing to 800×300", ew, eh)
	}
	regions := v.Regions(frame)
	linear := v.img.LinearBlit()
	xwin := uint64(v.win.GetX11Window())
	fbW, fbH := v.win.GetFramebufferSize()
	onScreen := filepath.Join(t.TempDir(), "window.rgb")
	grabbed := x11probe(t, "grab", fmt.Sprint(xwin), fmt.Sprint(fbW), fmt.Sprint(fbH), onScreen)

	// Escape asks training to stop.
	if x11probe(t, "escape", fmt.Sprint(xwin)) {
		stopped := false
		for deadline := time.Now().Add(5 * time.Second); !stopped && time.Now().Before(deadline); {
			stop, err := v.Frame(frame)
			if err != nil {
				t.Fatal(err)
			}
			stopped = stop
			time.Sleep(10 * time.Millisecond)
		}
		if !stopped {
			t.Error("Frame did not report stop within 5 s of Escape")
		}
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	img := viewertest.ReadPNG(t, shot)
	if keep := os.Getenv("VKNEURO_VIEWER_SCREENSHOT"); keep != "" {
		// For looking at the frame, e.g. as a CI artefact.
		if b, err := os.ReadFile(shot); err != nil || os.WriteFile(keep, b, 0o644) != nil {
			t.Errorf("keeping the screenshot as %s failed", keep)
		}
	}
	if img.Bounds() != image.Rect(0, 0, 640, 400) {
		t.Fatalf("screenshot is %v, want 640×400", img.Bounds())
	}
	viewertest.CheckRegions(t, img, viewertest.Regions(regions))
	if grabbed {
		checkWindow(t, onScreen, fbW, fbH, img, linear)
	}
}

// x11probe runs testdata/x11probe.py; it reports false if Python or the
// X libraries it loads are missing (failing instead when
// VKNEURO_REQUIRE_VIEWER=1), and fails the test on any other error.
func x11probe(t *testing.T, args ...string) bool {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("VKNEURO_REQUIRE_VIEWER") == "1" {
			t.Fatal("VKNEURO_REQUIRE_VIEWER=1 but python3 is missing for testdata/x11probe.py")
		}
		t.Log("python3 missing: the window's pixels and Escape are not checked")
		return false
	}
	out, err := exec.Command(py, append([]string{"testdata/x11probe.py"}, args...)...).CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "OSError") && os.Getenv("VKNEURO_REQUIRE_VIEWER") != "1" {
			t.Logf("x11probe %s: X libraries missing (Debian: libx11-6 libxtst6), not checked: %s", args[0], out)
			return false
		}
		t.Fatalf("x11probe %s: %v\n%s", args[0], err, out)
	}
	return true
}

// checkWindow compares the window's pixels, grabbed from the X server,
// with the frame scaled to the window as the blit does (bilinear where
// the format allows it, as on lavapipe, else nearest-neighbour):
// in blocks of 20×20 window pixels the mean colours must agree to 4
// levels of 255, which leaves room for rounding and the filter's exact
// sample positions; a window that shows nothing, or another frame, or the
// frame unscaled, differs by far more.
func checkWindow(t *testing.T, path string, w, h int, frame image.Image, linear bool) {
	t.Helper()
	rgb, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(rgb) != 3*w*h {
		t.Fatalf("grabbed %d bytes, want %d for %d×%d", len(rgb), 3*w*h, w, h)
	}
	fw, fh := frame.Bounds().Dx(), frame.Bounds().Dy()
	const block = 20
	worst := 0.0
	for by := 0; by+block <= h; by += block {
		for bx := 0; bx+block <= w; bx += block {
			var got, want [3]float64
			for y := by; y < by+block; y++ {
				for x := bx; x < bx+block; x++ {
					for c := range 3 {
						got[c] += float64(rgb[3*(y*w+x)+c])
					}
					u, v := (float64(x)+0.5)*float64(fw)/float64(w), (float64(y)+0.5)*float64(fh)/float64(h)
					c := nearest(frame, u, v)
					if linear {
						c = bilinear(frame, u, v)
					}
					for i := range 3 {
						want[i] += c[i]
					}
				}
			}
			for c := range 3 {
				worst = max(worst, math.Abs(got[c]-want[c])/block/block)
			}
		}
	}
	if worst > 4 {
		t.Errorf("the window's pixels differ from the frame scaled to %d×%d by up to %.1f levels in a %d-pixel block, want ≤ 4", w, h, worst, block)
	}
	t.Logf("window %d×%d matches the frame to %.2f levels per block", w, h, worst)
}

// bilinear samples img at (u, v) in pixel units, texel centres at +0.5,
// clamped at the border, as Vulkan's linear filter does.
func bilinear(img image.Image, u, v float64) [3]float64 {
	b := img.Bounds()
	x, y := u-0.5, v-0.5
	x0, y0 := math.Floor(x), math.Floor(y)
	fx, fy := x-x0, y-y0
	var out [3]float64
	for _, s := range []struct {
		dx, dy int
		w      float64
	}{{0, 0, (1 - fx) * (1 - fy)}, {1, 0, fx * (1 - fy)}, {0, 1, (1 - fx) * fy}, {1, 1, fx * fy}} {
		px := min(max(int(x0)+s.dx, 0), b.Dx()-1)
		py := min(max(int(y0)+s.dy, 0), b.Dy()-1)
		r, g, bl, _ := img.At(px, py).RGBA()
		out[0] += s.w * float64(r>>8)
		out[1] += s.w * float64(g>>8)
		out[2] += s.w * float64(bl>>8)
	}
	return out
}

// nearest samples img at (u, v) in pixel units.
func nearest(img image.Image, u, v float64) [3]float64 {
	b := img.Bounds()
	r, g, bl, _ := img.At(min(int(u), b.Dx()-1), min(int(v), b.Dy()-1)).RGBA()
	return [3]float64{float64(r >> 8), float64(g >> 8), float64(bl >> 8)}
}

// TestViewerLimits checks the frame-rate limit, frames without filters
// or maps, and that bad options and shapes are refused with errors
// naming the field.
func TestViewerLimits(t *testing.T) {
	m := openManager(t)
	for _, o := range []Options{{Width: 100, Height: 400}, {Screenshot: "frame.jpg"}} {
		if v, err := Open(m, o); err == nil {
			v.Close()
			t.Errorf("Open(%+v) succeeded, want an error", o)
		}
	}
	v, err := Open(m, Options{Width: 320, Height: 240, MinFrameInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	filters, err := m.NewBuffer(2 * 3 * 3 * 3)
	if err != nil {
		t.Fatal(err)
	}
	defer filters.Free()

	if _, err := v.snapshot(); err == nil || !strings.Contains(err.Error(), "no frame") {
		t.Errorf("snapshot before any frame: error %v, want one saying no frame was drawn", err)
	}
	// A frame whose drawing fails after its image was acquired is not
	// presented, and the next frame drops it (a new swapchain) and shows.
	if err := v.present([]draw{{v.drawK, []engine.Resource{v.img}, make([]uint32, pushWords), [3]uint32{1, 1, 1}}}, 320, 240); err == nil || !strings.Contains(err.Error(), "1 bindings given, kernel takes 7") {
		t.Errorf("present with missing buffers: error %v, want one counting them", err)
	}
	if v.Frames() != 0 || v.rendered {
		t.Errorf("a frame that failed to draw counts: %d frames, drawn %v", v.Frames(), v.rendered)
	}
	// Shown at once: nothing shown yet.
	if stop, err := v.Frame(Frame{Step: 1, Loss: []float32{1}}); stop || err != nil {
		t.Fatalf("first Frame: stop %v, err %v", stop, err)
	}
	n := v.Frames()
	if n != 1 {
		t.Fatalf("first Frame showed %d frames, want 1", n)
	}
	// Within MinFrameInterval: only events are polled.
	if _, err := v.Frame(Frame{Step: 2, Loss: []float32{1, 0.5}}); err != nil {
		t.Fatal(err)
	}
	if v.Frames() != n {
		t.Errorf("a Frame within MinFrameInterval was shown (%d frames, want %d)", v.Frames(), n)
	}
	// Render shows it anyway, here with filters and a NaN loss.
	if err := v.Render(Frame{Step: 3, Loss: []float32{1, float32(math.NaN()), 0.5}, Filters: filters, FilterShape: [4]int{2, 3, 3, 3}}); err != nil {
		t.Fatal(err)
	}
	if v.Frames() != n+1 {
		t.Errorf("Render did not show a frame (%d frames, want %d)", v.Frames(), n+1)
	}
	for _, c := range []struct {
		f    Frame
		want string
	}{
		{Frame{Filters: filters, FilterShape: [4]int{2, 3, 3, 4}}, "FilterShape [2 3 3 4] needs 72"},
		{Frame{Filters: filters, FilterShape: [4]int{2, 0, 3, 3}}, "Frame.FilterShape"},
		{Frame{Maps: filters, MapShape: [4]int{4, 3, 5, 5}}, "MapShape [4 3 5 5] needs 75"},
	} {
		if err := v.Render(c.f); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Render with bad shapes: error %v, want one containing %q", err, c.want)
		}
	}
	// Closing the window asks training to stop.
	v.win.SetShouldClose(true)
	if stop, err := v.Frame(Frame{}); err != nil || !stop {
		t.Errorf("Frame after the window was closed: stop %v, err %v; want stop", stop, err)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Frame(Frame{}); err == nil {
		t.Error("Frame after Close succeeded")
	}
}

// TestSwapchain drives the viewer's swapchain directly: a frame that
// was not drawn is not presented, the next Acquire drops it and gives a
// frame that is, and a closed swapchain refuses to acquire.
func TestSwapchain(t *testing.T) {
	m := openManager(t)
	v, err := Open(m, Options{Width: 320, Height: 240, MinFrameInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	fbW, fbH := v.win.GetFramebufferSize()
	f, ok, err := v.sc.Acquire(fbW, fbH)
	if err != nil || !ok {
		t.Fatalf("Acquire: %v, %v", ok, err)
	}
	if !f.Acquired.Pending() {
		t.Error("an acquired frame's Acquired semaphore has no signal pending")
	}
	if err := v.sc.Present(f); err == nil || !strings.Contains(err.Error(), "not drawn") {
		t.Errorf("Present of a frame not drawn: error %v", err)
	}
	if err := v.sc.Present(swapchain.Frame{}); err == nil || !strings.Contains(err.Error(), "not the one") {
		t.Errorf("Present of a frame not acquired: error %v", err)
	}
	if _, ok, err := v.sc.Acquire(0, 240); ok || err != nil {
		t.Errorf("Acquire for a window without area: %v, %v; want false, nil", ok, err)
	}
	f, ok, err = v.sc.Acquire(fbW, fbH)
	if err != nil || !ok {
		t.Fatalf("Acquire after a dropped frame: %v, %v", ok, err)
	}
	seq, err := m.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Close()
	if err := seq.Blit(f.Image, v.img, false); err != nil {
		t.Fatal(err)
	}
	if err := seq.Run(engine.Wait(f.Acquired), engine.Signal(f.Rendered)); err != nil {
		t.Fatal(err)
	}
	if err := v.sc.Present(f); err != nil {
		t.Fatal(err)
	}
	if v.sc.Presented() != 1 || f.Rendered.Pending() {
		t.Errorf("after Present: %d presented, Rendered pending %v; want 1, false", v.sc.Presented(), f.Rendered.Pending())
	}
	if ew, eh := v.sc.Extent(); ew != fbW || eh != fbH {
		t.Errorf("swapchain is %d×%d for a %d×%d framebuffer", ew, eh, fbW, fbH)
	}
	sc := v.sc
	v.sc = nil // closed here, not by v.Close
	if err := sc.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := sc.Acquire(fbW, fbH); !errors.Is(err, engine.ErrClosed) {
		t.Errorf("Acquire after Close: %v, want ErrClosed", err)
	}
}

// BenchmarkRender measures whole frames of the normative network's sizes
// (6×1×7×7 filters, 6×48×64 maps, 1000 losses) at 960×600: drawing,
// blitting and presenting, one frame in flight.
func BenchmarkRender(b *testing.B) {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		b.Skip("no DISPLAY")
	}
	opts, err := Prepare(engine.Options{AllowCPU: true})
	if err != nil {
		b.Skip(err)
	}
	m, err := engine.Open(opts)
	if err != nil {
		b.Skip(err)
	}
	defer m.Close()
	filters, _ := m.NewBuffer(6 * 49)
	maps, _ := m.NewBuffer(6 * 48 * 64)
	w := make([]float32, 6*48*64)
	for i := range w {
		w[i] = float32(math.Sin(float64(i) / 7))
	}
	m.Upload(maps, w, 0)
	m.Upload(filters, w[:6*49], 0)
	loss := make([]float32, 1000)
	for i := range loss {
		loss[i] = float32(1 / (1 + float64(i)/100))
	}
	v, err := Open(m, Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	f := Frame{Step: 1000, Loss: loss, StepsPerSec: 10, Filters: filters, FilterShape: [4]int{6, 1, 7, 7}, Maps: maps, MapShape: [4]int{1, 6, 48, 64}}
	b.ResetTimer()
	for range b.N {
		if err := v.Render(f); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(v.Frames())/b.Elapsed().Seconds(), "frames/s")
}
