package engine_test

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/engine/enginetest"
)

// imageKernel is testdata/image_test.comp: binding 0 a storage image,
// binding 1 a buffer; push W, H, mode (0 writes a pattern into the
// image, 1 reads it into the buffer, 2 writes the buffer's values as red).
func imageKernel(t *testing.T, m *engine.Manager) *engine.Kernel {
	t.Helper()
	code, err := os.ReadFile("testdata/image_test.spv")
	if err != nil {
		t.Fatal(err)
	}
	k, err := m.KernelWith("image_test", code, []engine.Binding{engine.StorageImage, engine.StorageBuffer}, 3)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newImage(t *testing.T, m *engine.Manager, w, h int) *engine.Image {
	t.Helper()
	im, err := m.NewImage(w, h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(im.Free)
	return im
}

// texels runs a sequence copying im into a buffer and returns the texels
// as packed RGBA8 (red in the low byte).
func texels(t *testing.T, m *engine.Manager, im *engine.Image) []uint32 {
	t.Helper()
	w, h := im.Size()
	buf := newBuf(t, m, make([]float32, w*h))
	s := newSeq(t, m)
	if err := s.CopyImage(buf, im); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	out := make([]uint32, w*h)
	for i, v := range download(t, m, buf) {
		out[i] = math.Float32bits(v)
	}
	return out
}

func rgba(r, g, b, a uint32) uint32 { return r | g<<8 | b<<16 | a<<24 }

// TestStorageImage writes an image with one dispatch and reads it back
// with a second in the same sequence, and with CopyImage: the barrier
// between commands must cover image memory, and a StorageImage binding
// must reach the shader. The image is zero before anything is drawn.
func TestStorageImage(t *testing.T) {
	m := enginetest.Open(t)
	const w, h, blue = 13, 7, 77 // odd sizes: partial work groups
	im := newImage(t, m, w, h)
	for i, c := range texels(t, m, im) {
		if c != 0 {
			t.Fatalf("new image: texel %d = %#08x, want 0", i, c)
		}
	}
	k := imageKernel(t, m)
	v := newBuf(t, m, append([]float32{blue}, make([]float32, w*h-1)...))
	s := newSeq(t, m)
	for mode := uint32(0); mode < 2; mode++ {
		if err := s.DispatchWith(k, []engine.Resource{im, v}, []uint32{w, h, mode}, 2, 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	got := download(t, m, v)
	packed := texels(t, m, im)
	for y := range h {
		for x := range w {
			i := y*w + x
			if want := float32(x + 256*y + 65536*blue); got[i] != want {
				t.Errorf("texel (%d, %d) read by the kernel = %v, want %v", x, y, got[i], want)
			}
			if want := rgba(uint32(x), uint32(y), blue, 255); packed[i] != want {
				t.Errorf("texel (%d, %d) copied = %#08x, want %#08x", x, y, packed[i], want)
			}
		}
	}
}

// TestImageErrors checks that bindings of the wrong kind, swapchain
// images where only a blit destination may be, and bad sizes are refused
// before anything reaches Vulkan.
func TestImageErrors(t *testing.T) {
	m := enginetest.Open(t)
	k := imageKernel(t, m)
	im := newImage(t, m, 4, 4)
	b := newBuf(t, m, make([]float32, 16))
	fake, err := m.SwapchainImage(0xdead0000, 4, 4) // never reaches Vulkan
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Free()
	s := newSeq(t, m)
	push := []uint32{4, 4, 0}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"buffer for the image", s.DispatchWith(k, []engine.Resource{b, b}, push, 1, 1, 1), "binding 0 is a storage image"},
		{"image for the buffer", s.DispatchWith(k, []engine.Resource{im, im}, push, 1, 1, 1), "binding 1 is a storage buffer"},
		{"swapchain image bound", s.DispatchWith(k, []engine.Resource{fake, b}, push, 1, 1, 1), "swapchain image"},
		{"nil image", s.DispatchWith(k, []engine.Resource{(*engine.Image)(nil), b}, push, 1, 1, 1), "image 0 is nil"},
		{"buffers only", s.Dispatch(k, []*engine.Buffer{b, b}, push, 1, 1, 1), "binding 0 is a storage image"},
		{"blit into itself", s.Blit(im, im, false), "the same"},
		{"blit from a swapchain image", s.Blit(im, fake, false), "only be a destination"},
		{"copy of a swapchain image", s.CopyImage(b, fake), "swapchain image"},
		{"copy into a short buffer", s.CopyImage(newBuf(t, m, make([]float32, 15)), im), "at least 16"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
	if s.Len() != 0 {
		t.Errorf("refused commands were recorded: Len = %d", s.Len())
	}
	if _, err := m.KernelWith("image_test", nil, []engine.Binding{engine.StorageBuffer, engine.StorageBuffer}, 3); err == nil || !strings.Contains(err.Error(), "cached with bindings") {
		t.Errorf("cached kernel asked with other binding kinds: error %v", err)
	}
	lim := int(m.Info().MaxImageDimension2D)
	for _, size := range [][2]int{{0, 4}, {4, -1}, {lim + 1, 1}} {
		if im, err := m.NewImage(size[0], size[1]); err == nil {
			im.Free()
			t.Errorf("NewImage(%d, %d) succeeded", size[0], size[1])
		}
	}
	gone := newImage(t, m, 2, 2)
	if err := s.CopyImage(b, gone); err != nil {
		t.Fatal(err)
	}
	gone.Free()
	if err := s.Run(); err == nil || !strings.Contains(err.Error(), "freed") {
		t.Errorf("Run with a freed image: error %v, want one saying it was freed", err)
	}
}

// TestBlit scales a 2×1 image to 4×1. Nearest-neighbour repeats each
// texel; the bilinear filter samples at texel centres (i+0.5)/2 − 0.5 =
// −0.25, 0.25, 0.75, 1.25 with the edge clamped, so red 0 and 200 become
// 0, 50, 150, 200 (±1 for rounding).
func TestBlit(t *testing.T) {
	m := enginetest.Open(t)
	k := imageKernel(t, m)
	src := newImage(t, m, 2, 1)
	v := newBuf(t, m, []float32{0, 200})
	s := newSeq(t, m)
	if err := s.DispatchWith(k, []engine.Resource{src, v}, []uint32{2, 1, 2}, 1, 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	red := func(c uint32) int { return int(c & 0xff) }
	cases := []struct {
		linear bool
		want   [4]int // red
	}{
		{false, [4]int{0, 0, 200, 200}},
		{true, [4]int{0, 50, 150, 200}},
	}
	for _, c := range cases {
		if c.linear && !src.LinearBlit() {
			if err := newSeq(t, m).Blit(newImage(t, m, 4, 1), src, true); err == nil {
				t.Error("a bilinear Blit the device cannot do was recorded")
			}
			t.Logf("%s cannot blit R8G8B8A8 bilinearly; only nearest is checked", m.Info().Name)
			continue
		}
		dst := newImage(t, m, 4, 1)
		bs := newSeq(t, m)
		if err := bs.Blit(dst, src, c.linear); err != nil {
			t.Fatal(err)
		}
		if err := bs.Run(); err != nil {
			t.Fatal(err)
		}
		for i, c8 := range texels(t, m, dst) {
			if d := red(c8) - c.want[i]; d < -1 || d > 1 {
				t.Errorf("linear=%v: texel %d red = %d, want %d±1", c.linear, i, red(c8), c.want[i])
			}
		}
	}
}

// TestImageShaderUpToDate recompiles testdata/image_test.comp and fails
// when the committed .spv differs.
func TestImageShaderUpToDate(t *testing.T) {
	glslc, err := exec.LookPath("glslc")
	if err != nil {
		t.Skip("glslc not installed (Debian: glslc)")
	}
	out := filepath.Join(t.TempDir(), "image_test.spv")
	// The flags of the Makefile's GLSLCFLAGS.
	if msg, err := exec.Command(glslc, "--target-env=vulkan1.1", "-O", "-o", out, "testdata/image_test.comp").CombinedOutput(); err != nil {
		t.Fatalf("glslc: %v\n%s", err, msg)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("testdata/image_test.spv")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("testdata/image_test.spv is stale: glslc --target-env=vulkan1.1 -O -o testdata/image_test.spv testdata/image_test.comp")
	}
}
