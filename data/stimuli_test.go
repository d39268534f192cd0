package data

import (
	"math"
	"path/filepath"
	"testing"
)

// fixtures reads testdata/data/fixtures.npz, written by
// testdata/data/gen_data_fixtures.py from the tutorials' NumPy code.
func fixtures(t testing.TB) map[string]*Array {
	t.Helper()
	fx, err := ReadNPZ(filepath.Join("..", "testdata", "data", "fixtures.npz"))
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

func fixture(t testing.TB, fx map[string]*Array, key string) *Array {
	t.Helper()
	a := fx[key]
	if a == nil {
		t.Fatalf("fixture %q missing; rerun testdata/data/gen_data_fixtures.py", key)
	}
	return a
}

func float64s(a []float32) []float64 {
	out := make([]float64, len(a))
	for i, v := range a {
		out[i] = float64(v)
	}
	return out
}

// closeTo reports the first index where got and want differ by more than
// atol + rtol·|want|, or −1.
func closeTo(got, want []float32, atol, rtol float64) int {
	for i := range want {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(w) != math.IsNaN(g) || math.Abs(g-w) > atol+rtol*math.Abs(w) {
			return i
		}
	}
	return -1
}

func TestGratingShapes(t *testing.T) {
	for _, tc := range []struct {
		res  float64
		h, w int
	}{
		{0, 48, 64},     // default res 0.1
		{0.1, 48, 64},   // Tutorial 3
		{0.025, 12, 16}, // Bonus tutorial's encoding model
		{0.033, 16, 22}, // np.arange(0, 21.12) has 22 elements
		{1, 480, 640},
	} {
		pix, h, w := Grating(10, GratingOptions{Res: tc.res})
		if h != tc.h || w != tc.w || len(pix) != h*w {
			t.Errorf("res %v: got %d×%d with %d pixels, want %d×%d", tc.res, h, w, len(pix), tc.h, tc.w)
		}
	}
}

// Grating values are thresholded to 0, 0.5 and 1 (minus 0.5 when centred),
// so they must match NumPy exactly; a difference would be a flipped sign
// of cos near a zero crossing or a wrong patch boundary.
func TestGratingFixtures(t *testing.T) {
	fx := fixtures(t)
	angles := float64s(fixture(t, fx, "angles").Data)
	enc := float64s(fixture(t, fx, "enc_angles").Data)
	for _, tc := range []struct {
		key    string
		angles []float64
		o      GratingOptions
	}{
		{"grating_t3", angles, GratingOptions{}},
		{"grating_t3_patch", angles[:4], GratingOptions{Patch: true}},
		{"grating_t2", angles[:4], GratingOptions{Centred: true}},
		{"grating_t2_patch", angles[:4], GratingOptions{Patch: true, Centred: true}},
		{"grating_t2_sf14_res005", angles[:4], GratingOptions{SF: 1.0 / 14, Res: 0.05, Centred: true}},
		{"grating_enc", enc, GratingOptions{Res: 0.025, Centred: true}},
		{"grating_t3_res0033", []float64{20}, GratingOptions{Res: 0.033}},
	} {
		want := fixture(t, fx, tc.key)
		pix, h, w := Gratings(tc.angles, tc.o)
		if len(want.Shape) != 3 || want.Shape[0] != len(tc.angles) || want.Shape[1] != h || want.Shape[2] != w {
			t.Errorf("%s: got [%d %d %d], want shape %v", tc.key, len(tc.angles), h, w, want.Shape)
			continue
		}
		for k, a := range tc.angles {
			one, _, _ := Grating(a, tc.o)
			img := pix[k*h*w : (k+1)*h*w]
			if i := closeTo(img, want.Data[k*h*w:(k+1)*h*w], 0, 0); i >= 0 {
				t.Errorf("%s: angle %v: pixel (%d,%d) = %v, want %v", tc.key, a, i/w, i%w, img[i], want.Data[k*h*w+i])
			}
			if i := closeTo(one, img, 0, 0); i >= 0 {
				t.Errorf("%s: angle %v: Grating and Gratings differ at pixel %d", tc.key, a, i)
			}
		}
	}
}

func TestGratingInvalid(t *testing.T) {
	for _, o := range []GratingOptions{
		{Res: -0.1}, {Res: math.NaN()}, {Res: math.Inf(1)}, {SF: math.NaN()}, {SF: -1}, {Res: 100},
	} {
		if pix, h, w := Grating(0, o); pix != nil || h != 0 || w != 0 {
			t.Errorf("Grating(0, %+v) = %d pixels, %d×%d, want nil, 0, 0", o, len(pix), h, w)
		}
		if pix, h, w := Gratings([]float64{0, 1}, o); pix != nil || h != 0 || w != 0 {
			t.Errorf("Gratings(%+v) = %d pixels, %d×%d, want nil, 0, 0", o, len(pix), h, w)
		}
	}
}

// Filters are computed in float32 as NumPy does; exp and cos there use
// SIMD float32 implementations accurate to a few ulp, and the division by
// the maximum passes that on: the measured largest difference is 1.8e-7
// (1–2 ulp at magnitude 1); 1e-6 leaves room for other SIMD paths. The
// fixtures come from NumPy 1.x casting rules, as the tutorials ran; NumPy 2
// computes the Gabor phase in float64 and differs by up to 2e-6.
const filterAtol = 1e-6

func TestFiltersFixtures(t *testing.T) {
	fx := fixtures(t)
	for _, tc := range []struct {
		out, K int
		demean bool
		key    string
	}{
		{6, 7, false, "filters_6_7"},
		{4, 5, false, "filters_4_5"},
		{8, 7, false, "filters_8_7"},
		{3, 4, false, "filters_3_4"},
		{2, 3, false, "filters_2_3"},
		{5, 1, false, "filters_5_1"},
		{6, 7, true, "filters_demean_6_7"},
		{8, 7, true, "filters_demean_8_7"},
		{4, 5, true, "filters_demean_4_5"},
	} {
		want := fixture(t, fx, tc.key)
		got := Filters(tc.out, tc.K)
		if tc.demean {
			Demean(got, tc.out, tc.K)
		}
		wantShape := []int{tc.out, 1, tc.K, tc.K}
		if len(want.Shape) != 4 || want.Shape[0] != tc.out || want.Shape[2] != tc.K {
			t.Fatalf("%s: fixture shape %v, want %v", tc.key, want.Shape, wantShape)
		}
		if len(got) != len(want.Data) {
			t.Errorf("%s: %d values, want %d", tc.key, len(got), len(want.Data))
			continue
		}
		if i := closeTo(got, want.Data, filterAtol, 0); i >= 0 {
			t.Errorf("%s: value %d = %v, want %v", tc.key, i, got[i], want.Data[i])
		}
	}
}

func TestFiltersProperties(t *testing.T) {
	const out, K = 6, 7
	f := Filters(out, K)
	kk := K * K
	for o := 0; o < out; o++ {
		var m float64
		for _, v := range f[o*kk : (o+1)*kk] {
			m = math.Max(m, math.Abs(float64(v)))
		}
		if m != 1 {
			t.Errorf("filter %d: max |v| = %v, want 1", o, m)
		}
	}
	for i := 0; i < kk; i++ {
		if f[kk+i] != -f[i] {
			t.Fatalf("filter 1 is not the negative of filter 0 at tap %d", i)
		}
	}
	Demean(f, out, K)
	for o := 0; o < out; o++ {
		var s float64
		for _, v := range f[o*kk : (o+1)*kk] {
			s += float64(v)
		}
		// 49 float32 values of magnitude ≤ 2 each carry ≤ 1.2e-7 error.
		if math.Abs(s/float64(kk)) > 1e-6 {
			t.Errorf("demeaned filter %d has mean %v", o, s/float64(kk))
		}
	}
	if Filters(1, 7) != nil || Filters(6, 0) != nil {
		t.Error("Filters with out < 2 or K < 1 should return nil")
	}
}

func TestDemeanPanicsOnBadLength(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Demean with a wrong length did not panic")
		}
	}()
	Demean(make([]float32, 10), 2, 3)
}
