package viewertest

import (
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"testing"
)

// Main runs the tests of m and exits. Without a display it first re-runs
// the test binary under xvfb-run when that is installed (Debian: xvfb
// xauth), marking the copy with the environment variable marker so that
// the copy runs the tests itself; name prefixes the error message when
// xvfb-run cannot be started.
func Main(m *testing.M, marker, name string) {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" && os.Getenv(marker) == "" {
		if xvfb, err := exec.LookPath("xvfb-run"); err == nil {
			args := append([]string{"-a", "-s", "-screen 0 1280x1024x24", os.Args[0]}, os.Args[1:]...)
			cmd := exec.Command(xvfb, args...)
			cmd.Env = append(os.Environ(), marker+"=1")
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			err := cmd.Run()
			var exit *exec.ExitError
			switch {
			case err == nil:
				os.Exit(0)
			case errors.As(err, &exit):
				os.Exit(exit.ExitCode())
			default:
				os.Stderr.WriteString(name + ": running under xvfb-run: " + err.Error() + "\n")
				os.Exit(1)
			}
		}
	}
	os.Exit(m.Run())
}

// SkipOrFail skips the test for a missing display or Vulkan, unless the
// environment variable env is 1 (CI sets VKNEURO_REQUIRE_VIEWER=1 and
// VKNEURO_REQUIRE_VULKAN=1), which makes it fail instead.
func SkipOrFail(t testing.TB, env, format string, args ...any) {
	t.Helper()
	if os.Getenv(env) == "1" {
		t.Fatalf(env+"=1 but "+format, args...)
	}
	t.Skipf(format, args...)
}

// RequireDisplay skips the test, or fails it under
// VKNEURO_REQUIRE_VIEWER=1, when there is no display to open a window on
// (Main found none and no xvfb-run).
func RequireDisplay(t testing.TB) {
	t.Helper()
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		SkipOrFail(t, "VKNEURO_REQUIRE_VIEWER", "no DISPLAY and no xvfb-run (Debian: xvfb xauth)")
	}
}

// ReadPNG decodes the PNG file at path, failing t if it cannot.
func ReadPNG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// Regions are the parts of a viewer frame, with the fields of
// viewer.Regions (convert with viewertest.Regions(r)); this package cannot
// name that type because viewer's own tests import it.
type Regions struct {
	Header  image.Rectangle
	Filters image.Rectangle
	Maps    image.Rectangle
	Loss    image.Rectangle
}

// CheckRegions tests the pixel statistics of a viewer frame. Thresholds:
// grey levels are 0..255; tiles of trained filters and of feature maps
// span a good part of that range (σ well above 10), a blank region has
// σ = 0. The loss curve, drawn in (255, 184, 38) ± rounding, crosses its
// panel, so it covers at least one pixel per column (less the frame); the
// header's white text covers at least 100 pixels.
func CheckRegions(t testing.TB, img image.Image, r Regions) {
	t.Helper()
	for _, c := range []struct {
		name string
		rect image.Rectangle
	}{{"filters", r.Filters}, {"feature maps", r.Maps}} {
		if c.rect.Empty() {
			t.Errorf("%s: empty region", c.name)
		} else if sd := GreyStddev(img, c.rect); sd < 10 {
			t.Errorf("%s region %v: grey σ = %.2f, want ≥ 10 (tiles drawn)", c.name, c.rect, sd)
		}
	}
	curve := CountPixels(img, r.Loss, func(cr, cg, cb uint32) bool { return cr >= 250 && cg >= 170 && cg <= 200 && cb <= 60 })
	if want := r.Loss.Dx() - 2; curve < want {
		t.Errorf("loss region %v: %d curve pixels, want ≥ %d", r.Loss, curve, want)
	}
	if ink := CountPixels(img, r.Header, func(cr, _, _ uint32) bool { return cr > 200 }); ink < 100 {
		t.Errorf("header %v: %d text pixels, want ≥ 100", r.Header, ink)
	}
}

// GreyStddev is the standard deviation of the grey level (0..255, the mean
// of red, green and blue) over the pixels of r.
func GreyStddev(img image.Image, r image.Rectangle) float64 {
	var s, s2, n float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			g := float64(cr+cg+cb) / 3 / 257
			s, s2, n = s+g, s2+g*g, n+1
		}
	}
	mean := s / n
	return math.Sqrt(max(0, s2/n-mean*mean))
}

// CountPixels counts the pixels of r whose 8-bit colour satisfies ok.
func CountPixels(img image.Image, r image.Rectangle, ok func(cr, cg, cb uint32) bool) int {
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if ok(cr>>8, cg>>8, cb>>8) {
				n++
			}
		}
	}
	return n
}
