package analysis

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/kernels/cpu"
)

// ridgeFixture is one case of encoding_fixtures.npz: S = 60 stimuli,
// N = 240 neurons, D features.
type ridgeFixture struct {
	name              string
	D                 int
	x, train, test    []float32
	alpha, cv, r, fev []float64
	pred              []float64
}

const ridgeS, ridgeN = 60, 240

func loadRidgeFixture(t *testing.T, name string, D int) ridgeFixture {
	k := "ridge_" + name + "_"
	return ridgeFixture{
		name: name, D: D,
		x:     encFixture[float32](t, k+"x"),
		train: encFixture[float32](t, k+"train"),
		test:  encFixture[float32](t, k+"test"),
		alpha: encFixture[float64](t, k+"alpha"),
		cv:    encFixture[float64](t, k+"cv"),
		r:     encFixture[float64](t, k+"r"),
		fev:   encFixture[float64](t, k+"feve"),
		pred:  encFixture[float64](t, k+"pred"),
	}
}

// checkRidgeMatchesNumPy holds RidgeCV on g to the NumPy transcription
// of himalaya's RidgeCV: the same alpha for every neuron, scores within
// 1e-4.
func checkRidgeMatchesNumPy(t *testing.T, g GEMM) {
	alphas := encFixture[float64](t, "ridge_alphas")
	for i, a := range DefaultRidgeAlphas() {
		if a != alphas[i] {
			t.Fatalf("default alpha %d = %v, fixture grid %v", i, a, alphas[i])
		}
	}
	for _, c := range []struct {
		name string
		D    int
	}{{"narrow", 20}, {"wide", 150}} {
		f := loadRidgeFixture(t, c.name, c.D)
		res, err := RidgeCV(f.x, ridgeS, f.D, f.train, f.test, ridgeN, RidgeOptions{GEMM: g})
		if err != nil {
			t.Fatal(err)
		}
		var worstCV, worstPred float64
		for n := 0; n < ridgeN; n++ {
			if res.Alpha[n] != f.alpha[n] {
				t.Errorf("%s: neuron %d chose alpha %v, numpy %v", c.name, n, res.Alpha[n], f.alpha[n])
			}
			worstCV = math.Max(worstCV, math.Abs(res.CVR2[n]-f.cv[n]))
			for s := 0; s < ridgeS; s++ {
				worstPred = math.Max(worstPred, math.Abs(float64(res.Pred[s*ridgeN+n])-f.pred[s*ridgeN+n]))
			}
		}
		// One float32 product of k = 60 terms: CV scores move by ~1e-7
		// (measured ≤ 1.1e-7; the fixture's alpha choices are ≥ 1e-6
		// apart); predictions are float32 values of size ~20 (the offsets),
		// measured ≤ 6e-6 off.
		if worstCV > 1e-6 || worstPred > 5e-5 {
			t.Errorf("%s: max |ΔCV R²| = %.2g (want ≤ 1e-6), max |Δpred| = %.2g (want ≤ 5e-5)", c.name, worstCV, worstPred)
		}
		checkScores(t, c.name+" test correlation", res.TestCorr, f.r, 1e-4)
		checkScores(t, c.name+" FEVE", res.FEVE, f.fev, 1e-4)
		t.Logf("%s: max |ΔCV R²| %.2g, max |Δpred| %.2g", c.name, worstCV, worstPred)
	}
}

func TestRidgeCVMatchesNumPy(t *testing.T) {
	t.Run("CPUGEMM", func(t *testing.T) { checkRidgeMatchesNumPy(t, nil) })
	t.Run("backend=cpu", func(t *testing.T) {
		be := cpu.New()
		defer be.Close()
		checkRidgeMatchesNumPy(t, BackendGEMM(be))
	})
}

// Where the features determine the responses exactly, the smallest
// alpha wins and the test half is predicted as well as the noise allows;
// a neuron that never changes scores 0 at every alpha, and the tie goes
// to the largest alpha as in himalaya.
func TestRidgeCVRecoversLinearNeurons(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	S, D, N := 40, 6, 9
	x := randMatrix(rng, S, D)
	w := randMatrix(rng, D, N)
	train, test := make([]float32, S*N), make([]float32, S*N)
	for s := 0; s < S; s++ {
		for n := 0; n < N-1; n++ {
			var v float64
			for d := 0; d < D; d++ {
				v += float64(x[s*D+d]) * float64(w[d*N+n])
			}
			train[s*N+n] = float32(v + 3)
			test[s*N+n] = float32(v + 3 + 0.01*rng.NormFloat64())
		}
		train[s*N+N-1] = 7
		test[s*N+N-1] = float32(rng.NormFloat64())
	}
	res, err := RidgeCV(x, S, D, train, test, N, RidgeOptions{Alphas: []float64{1, 1e-3, 1e3, 10}})
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < N-1; n++ {
		if res.Alpha[n] != 1e-3 || res.TestCorr[n] < 0.999 || res.CVR2[n] < 0.999 {
			t.Errorf("neuron %d: alpha %v, test r %v, CV R² %v; want 1e-3, > 0.999, > 0.999", n, res.Alpha[n], res.TestCorr[n], res.CVR2[n])
		}
	}
	n := N - 1
	if res.Alpha[n] != 1e3 || res.CVR2[n] != 0 || res.TestCorr[n] != 0 || res.Pred[n] != 7 {
		t.Errorf("constant neuron: alpha %v, CV R² %v, test r %v, prediction %v; want 1000, 0, 0, 7", res.Alpha[n], res.CVR2[n], res.TestCorr[n], res.Pred[n])
	}
}

func TestRidgeCVBadInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	S, D, N := 10, 3, 4
	x, y := randMatrix(rng, S, D), randMatrix(rng, S, N)
	nan := append([]float32(nil), x...)
	nan[4] = float32(math.NaN())
	for _, c := range []struct {
		name string
		run  func() error
		want string
	}{
		{"4 stimuli", func() error { _, err := RidgeCV(x[:4*D], 4, D, y[:4*N], y[:4*N], N, RidgeOptions{}); return err }, "4 stimuli, want at least 5"},
		{"negative alpha", func() error {
			_, err := RidgeCV(x, S, D, y, y, N, RidgeOptions{Alphas: []float64{1, -1}})
			return err
		}, "alpha[1] = -1, want positive"},
		{"zero alpha", func() error { _, err := RidgeCV(x, S, D, y, y, N, RidgeOptions{Alphas: []float64{0}}); return err }, "alpha[0] = 0"},
		{"empty grid", func() error { _, err := RidgeCV(x, S, D, y, y, N, RidgeOptions{Alphas: []float64{}}); return err }, "empty alpha grid"},
		{"halves of different shapes", func() error { _, err := RidgeCV(x, S, D, y, y[:N*(S-1)], N, RidgeOptions{}); return err }, "same shape"},
		{"NaN feature", func() error { _, err := RidgeCV(nan, S, D, y, y, N, RidgeOptions{}); return err }, "features: value [1, 1] is NaN"},
		{"short features", func() error { _, err := RidgeCV(x[:S*D-1], S, D, y, y, N, RidgeOptions{}); return err }, "features: 29 values, want 10×3"},
	} {
		if err := c.run(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// The product is split into column blocks when it would pass
// ridgeMaxProduct values; the blocks must not change the result.
func TestRidgeCVColumnBlocks(t *testing.T) {
	f := loadRidgeFixture(t, "narrow", 20)
	calls := 0
	counting := func(c, a, b []float32, m, n, k int, transB bool) error {
		calls++
		return CPUGEMM(c, a, b, m, n, k, transB)
	}
	whole, err := RidgeCV(f.x, ridgeS, f.D, f.train, f.test, ridgeN, RidgeOptions{GEMM: counting})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("%d products for %d neurons, want 1", calls, ridgeN)
	}
	// Shrink the block size so that 240 neurons take 7 blocks of 37.
	rows := 2 * 9 * ridgeS
	defer func(v int) { ridgeMaxProduct = v }(ridgeMaxProduct)
	ridgeMaxProduct = 37 * rows
	calls = 0
	blocked, err := RidgeCV(f.x, ridgeS, f.D, f.train, f.test, ridgeN, RidgeOptions{GEMM: counting})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 7 {
		t.Errorf("%d products, want 7 blocks", calls)
	}
	for i := range whole.Pred {
		if whole.Pred[i] != blocked.Pred[i] {
			t.Fatalf("pred[%d] = %v in blocks, %v whole", i, blocked.Pred[i], whole.Pred[i])
		}
	}
}
