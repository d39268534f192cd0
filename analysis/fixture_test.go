package analysis

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/sbinet/npyio/npz"
)

const fixturePath = "../testdata/analysis/analysis_fixtures.npz"

// fixture reads one array of testdata/analysis/analysis_fixtures.npz
// (written by gen_analysis_fixtures.py) into a new slice of type T.
func fixture[T float32 | float64](t *testing.T, key string) []T {
	t.Helper()
	return fixtureFrom[T](t, fixturePath, key)
}

// fixtureFrom reads array key of the .npz file at path.
func fixtureFrom[T float32 | float64](t *testing.T, path, key string) []T {
	t.Helper()
	f, err := npz.Open(filepath.FromSlash(path))
	if err != nil {
		t.Fatalf("open fixture: %v", err)
	}
	defer f.Close()
	var v []T
	if err := f.Read(key+".npy", &v); err != nil {
		t.Fatalf("fixture key %q: %v", key, err)
	}
	return v
}

// close64 reports |got − want| ≤ atol + rtol·|want|.
func close64(got, want, atol, rtol float64) bool {
	return math.Abs(got-want) <= atol+rtol*math.Abs(want)
}

func TestZScoreRowsMatchesScipy(t *testing.T) {
	resp := fixture[float32](t, "resp1")
	want := fixture[float64](t, "zscore1")
	z, err := ZScoreRows(resp, 12, 50)
	if err != nil {
		t.Fatal(err)
	}
	// z is float32 computed from float64 sums: one float32 rounding of
	// values of size ≲3, so 1e-6 absolute + 1e-6 relative.
	for i := range want {
		if !close64(float64(z[i]), want[i], 1e-6, 1e-6) {
			t.Fatalf("z[%d] = %v, scipy %v", i, z[i], want[i])
		}
	}
}

func TestZScoreConstantRowIsZero(t *testing.T) {
	x := []float32{1, 2, 3, 4, 5, 5, 5, 5}
	z, err := ZScoreRows(x, 2, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range z[4:] {
		if v != 0 {
			t.Errorf("constant row z[%d] = %v, want 0", i, v)
		}
	}
	// Row 0: (x−2.5)/√1.25, exact formula.
	for i, v := range z[:4] {
		want := (float64(i+1) - 2.5) / math.Sqrt(1.25)
		if !close64(float64(v), want, 1e-6, 0) {
			t.Errorf("z[%d] = %v, want %v", i, v, want)
		}
	}
}

func TestRDMAndRSAMatchTutorial(t *testing.T) {
	resp1 := fixture[float32](t, "resp1")
	resp2 := fixture[float32](t, "resp2")
	want1 := fixture[float64](t, "rdm1")
	want2 := fixture[float64](t, "rdm2")
	wantRSA := fixture[float64](t, "rsa12")[0]

	r1, err := RDM(resp1, 12, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := RDM(resp2, 12, 30, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Entries are in [0, 2]; float32 z-scores and a float32 dot product
	// of ≤50 terms give errors of a few 1e-7; 1e-5 leaves margin.
	for name, c := range map[string]struct {
		got  []float32
		want []float64
	}{"rdm1": {r1, want1}, "rdm2": {r2, want2}} {
		for i := range c.want {
			if !close64(float64(c.got[i]), c.want[i], 1e-5, 0) {
				t.Fatalf("%s[%d,%d] = %v, numpy %v", name, i/12, i%12, c.got[i], c.want[i])
			}
		}
	}
	got, err := RSA(r1, r2, 12)
	if err != nil {
		t.Fatal(err)
	}
	// RSA is accumulated in float64 from the float32 RDMs above.
	if !close64(got, wantRSA, 1e-4, 0) {
		t.Fatalf("RSA = %v, numpy %v", got, wantRSA)
	}
	if math.Abs(wantRSA) < 0.2 {
		t.Fatalf("fixture RSA %v is too close to 0 to test anything", wantRSA)
	}
}

func TestGaussianFilterMatchesScipy(t *testing.T) {
	long := fixture[float64](t, "filter_long_x")
	short := fixture[float64](t, "filter_short_x")
	for _, b := range []Boundary{Wrap, Reflect} {
		for _, c := range []struct {
			key   string
			x     []float64
			sigma float64
		}{
			{"filter_long_" + b.String(), long, 5},
			{"filter_short_" + b.String(), short, 3},
			{"filter_sigma1.7_" + b.String(), long, 1.7},
		} {
			want := fixture[float64](t, c.key)
			got, err := GaussianFilter1D(c.x, c.sigma, b)
			if err != nil {
				t.Fatal(err)
			}
			// Same weights and same sums in float64: only summation
			// order differs, so 1e-12.
			for i := range want {
				if !close64(got[i], want[i], 1e-12, 1e-12) {
					t.Fatalf("%s[%d] = %v, scipy %v", c.key, i, got[i], want[i])
				}
			}
		}
	}
}

func TestPreferredStimulusMatchesScipy(t *testing.T) {
	resp := fixture[float32](t, "pref_resp")
	stim := fixture[float32](t, "pref_stimuli")
	for _, b := range []Boundary{Wrap, Reflect} {
		want := fixture[float64](t, "pref_"+b.String())
		got, err := PreferredStimulus(resp, 60, 20, stim, 5, b)
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%v: unit %d prefers %v, scipy %v", b, i, got[i], want[i])
			}
		}
	}
}

func TestTSNEMatchesSklearnTranscription(t *testing.T) {
	x := fixture[float64](t, "tsne_x")
	y0 := fixture[float64](t, "tsne_y0")
	wantP := fixture[float64](t, "tsne_p")
	wantY := fixture[float64](t, "tsne_y")
	wantKL := fixture[float64](t, "tsne_kl")

	// P: same bisection, same arithmetic up to the per-row distance
	// shift; agreement to rounding.
	p := jointProbabilities(x, 40, 5, 8)
	for i := range wantP {
		if !close64(p[i], wantP[i], 1e-15, 1e-9) {
			t.Fatalf("P[%d,%d] = %v, reference %v", i/40, i%40, p[i], wantP[i])
		}
	}
	y, kl, err := TSNE(x, 40, 5, TSNEOptions{Perplexity: 8, Iterations: 150, ExaggerationIterations: 50, EarlyExaggeration: 4, LearningRate: 5, InitY: y0})
	if err != nil {
		t.Fatal(err)
	}
	// Only summation order differs; with the fixture's gentle step the
	// 150 steps keep that at ~1e-13 of the embedding's spread (measured),
	// so 1e-9 has margin and still catches any change of algorithm.
	var spread float64
	for _, v := range wantY {
		spread = math.Max(spread, math.Abs(v))
	}
	for i := range wantY {
		if !close64(y[i], wantY[i], 1e-9*spread, 0) {
			t.Fatalf("y[%d] = %v, reference %v (spread %v)", i, y[i], wantY[i], spread)
		}
	}
	if len(kl) != len(wantKL) {
		t.Fatalf("%d KL values, reference %d", len(kl), len(wantKL))
	}
	for i := range wantKL {
		if !close64(kl[i], wantKL[i], 1e-9, 1e-6) {
			t.Errorf("KL[%d] = %v, reference %v", i, kl[i], wantKL[i])
		}
	}
}
