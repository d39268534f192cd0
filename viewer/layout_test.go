package viewer

import (
	"image"
	"math"
	"testing"
)

// TestFitGrid checks that cells keep the tile's aspect ratio (to within
// one pixel of rounding), stay inside the area, and are as large as the
// best column count allows.
func TestFitGrid(t *testing.T) {
	for _, c := range []struct {
		n, w, h int
		aspect  float64
		cols    int // expected best column count
	}{
		{6, 300, 200, 1, 3},         // 3×2 cells of 99 px beat 2×3 of 65
		{1, 300, 200, 1, 1},         // one square cell of 199 px
		{6, 310, 190, 64.0 / 48, 3}, // feature maps 48×64
		{16, 400, 100, 1, 8},        // a wide strip: 8×2
		{1024, 300, 200, 1, 37},     // 6 px cells; fewer columns win ties
	} {
		g := fitGrid(c.n, 5, 7, c.w, c.h, c.aspect)
		if g.cols != c.cols {
			t.Errorf("%d cells of aspect %.2f in %d×%d: %d columns, want %d", c.n, c.aspect, c.w, c.h, g.cols, c.cols)
		}
		r := g.rect(c.n)
		if !r.In(image.Rect(5, 7, 5+c.w, 7+c.h)) {
			t.Errorf("%d cells in %d×%d: grid %v leaves the area", c.n, c.w, c.h, r)
		}
		iw, ih := float64(g.cellW-1), float64(g.cellH-1)
		if math.Abs(iw-ih*c.aspect) > c.aspect+1 {
			t.Errorf("%d cells: content %v×%v, aspect %.3f, want %.3f", c.n, iw, ih, iw/ih, c.aspect)
		}
	}
	if g := fitGrid(10, 0, 0, 5, 5, 1); g.cols != 0 || !g.rect(10).Empty() {
		t.Errorf("10 cells in 5×5 px: %+v, want no grid (cells under 1 px)", g)
	}
}

func TestTextLine(t *testing.T) {
	dst := make([]float32, lineFloats)
	textLine(dst, image.Pt(3, 4), 2, "Loss 1e-3~")
	want := "LOSS 1E-3?"
	if dst[0] != 3 || dst[1] != 4 || dst[2] != 2 || int(dst[3]) != len(want) {
		t.Fatalf("header %v, want [3 4 2 %d]", dst[:4], len(want))
	}
	for i := range want {
		if rune(dst[4+i]) != rune(want[i]) {
			t.Errorf("char %d = %q, want %q", i, rune(dst[4+i]), want[i])
		}
	}
	long := make([]byte, 100)
	for i := range long {
		long[i] = 'A'
	}
	textLine(dst, image.Point{}, 1, string(long))
	if dst[3] != lineChars {
		t.Errorf("a 100-character line keeps %v characters, want %d", dst[3], lineChars)
	}
}

func TestBinLoss(t *testing.T) {
	short := []float32{3, 2, 1}
	if got := binLoss(short, 4); len(got) != 3 || &got[0] != &short[0] {
		t.Errorf("a history shorter than the limit must pass through, got %v", got)
	}
	got := binLoss([]float32{1, 3, 5, 7, 9, 11}, 3)
	want := []float32{2, 6, 10} // means of pairs: exact in float32
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("binLoss = %v, want %v", got, want)
			break
		}
	}
	nan := binLoss([]float32{1, float32(math.NaN()), 2, 2}, 2)
	if !math.IsNaN(float64(nan[0])) || nan[1] != 2 {
		t.Errorf("binLoss with a NaN = %v, want [NaN 2]", nan)
	}
}

// TestLayout checks that the panels of a frame do not overlap and fit in
// it, for the smallest and the default frame sizes.
func TestLayout(t *testing.T) {
	for _, sz := range []image.Point{{320, 240}, {960, 600}, {1920, 1080}} {
		l := newLayout(sz.X, sz.Y)
		frame := image.Rect(0, 0, sz.X, sz.Y)
		rects := []image.Rectangle{l.filterArea, l.mapArea, l.loss}
		for i, r := range rects {
			if r.Empty() || !r.In(frame) {
				t.Errorf("%v: panel %d %v is empty or outside the frame", sz, i, r)
			}
			for _, q := range rects[i+1:] {
				if r.Overlaps(q) {
					t.Errorf("%v: panels %v and %v overlap", sz, r, q)
				}
			}
		}
	}
}
