package viewertest

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder collects the errors CheckRegions reports instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// Skipf and Fatalf record, then end the goroutine as testing's do.
func (r *recorder) Skipf(format string, args ...any) {
	r.errs = append(r.errs, "skip: "+fmt.Sprintf(format, args...))
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.errs = append(r.errs, "fatal: "+fmt.Sprintf(format, args...))
	runtime.Goexit()
}

// run calls f with r on a goroutine of its own, which Skipf and Fatalf end.
func (r *recorder) run(f func(testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
}

func TestSkipOrFail(t *testing.T) {
	const env = "VKNEURO_VIEWERTEST_SELFTEST"
	for _, c := range []struct{ val, want string }{
		{"", "skip: no widget 7"},
		{"1", "fatal: " + env + "=1 but no widget 7"},
	} {
		t.Setenv(env, c.val)
		rec := &recorder{}
		rec.run(func(tb testing.TB) { SkipOrFail(tb, env, "no widget %d", 7) })
		if len(rec.errs) != 1 || rec.errs[0] != c.want {
			t.Errorf("%s=%q: got %q, want [%q]", env, c.val, rec.errs, c.want)
		}
	}
}

// frame draws a 200×100 image that passes CheckRegions: a checkerboard of
// filter and map tiles, a loss curve across its panel, a white header.
func frame() (*image.RGBA, Regions) {
	img := image.NewRGBA(image.Rect(0, 0, 200, 100))
	r := Regions{
		Header:  image.Rect(0, 0, 200, 20),
		Filters: image.Rect(0, 20, 100, 60),
		Maps:    image.Rect(100, 20, 200, 60),
		Loss:    image.Rect(0, 60, 200, 100),
	}
	for y := 20; y < 60; y++ {
		for x := 0; x < 200; x++ {
			if (x/4+y/4)%2 == 0 {
				img.Set(x, y, color.White)
			}
		}
	}
	for x := 0; x < 200; x++ {
		img.Set(x, 80, color.RGBA{255, 184, 38, 255})
	}
	for y := 5; y < 10; y++ {
		for x := 10; x < 50; x++ {
			img.Set(x, y, color.White)
		}
	}
	return img, r
}

func TestCheckRegions(t *testing.T) {
	img, r := frame()
	rec := &recorder{}
	CheckRegions(rec, img, r)
	if len(rec.errs) > 0 {
		t.Errorf("a drawn frame fails: %q", rec.errs)
	}
	rec = &recorder{}
	CheckRegions(rec, image.NewRGBA(img.Bounds()), r)
	want := []string{"filters region", "feature maps region", "loss region", "header"}
	if len(rec.errs) != len(want) {
		t.Fatalf("a blank frame gives %q, want %d errors", rec.errs, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(rec.errs[i], w) {
			t.Errorf("error %d is %q, want it to start with %q", i, rec.errs[i], w)
		}
	}
	rec = &recorder{}
	CheckRegions(rec, img, Regions{Header: r.Header, Loss: r.Loss})
	if len(rec.errs) != 2 || !strings.Contains(rec.errs[0], "empty region") {
		t.Errorf("missing tile regions give %q, want two empty-region errors", rec.errs)
	}
}

func TestGreyStddevAndCount(t *testing.T) {
	// Half black, half white: grey levels 0 and 255, σ = 127.5.
	img := image.NewRGBA(image.Rect(0, 0, 4, 2))
	for x := 0; x < 4; x++ {
		img.Set(x, 0, color.White)
	}
	if sd := GreyStddev(img, img.Bounds()); math.Abs(sd-127.5) > 1e-9 {
		t.Errorf("σ = %v, want 127.5", sd)
	}
	if n := CountPixels(img, img.Bounds(), func(cr, cg, cb uint32) bool { return cr == 255 && cg == 255 && cb == 255 }); n != 4 {
		t.Errorf("%d white pixels, want 4", n)
	}
}

func TestReadPNG(t *testing.T) {
	img, _ := frame()
	path := filepath.Join(t.TempDir(), "f.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	got := ReadPNG(t, path)
	if got.Bounds() != img.Bounds() {
		t.Fatalf("bounds %v, want %v", got.Bounds(), img.Bounds())
	}
	for _, p := range []image.Point{{0, 20}, {4, 20}, {7, 80}, {20, 7}} {
		r0, g0, b0, _ := img.At(p.X, p.Y).RGBA()
		r1, g1, b1, _ := got.At(p.X, p.Y).RGBA()
		if r0 != r1 || g0 != g1 || b0 != b1 {
			t.Errorf("pixel %v differs after the round trip", p)
		}
	}
}
