package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// tunedPopulation returns S×N responses of neurons with von Mises
// tuning to orientation (period 180°) plus Gaussian noise, for stimuli
// −90…90°, as a stand-in for the tutorials' V1 data.
func tunedPopulation(S, N int, noise float64, seed uint64) (resp, stim []float32) {
	rng := rand.New(rand.NewPCG(seed, 99))
	resp = make([]float32, S*N)
	stim = make([]float32, S)
	for s := range stim {
		stim[s] = float32(-90 + 180*float64(s)/float64(S))
	}
	for n := 0; n < N; n++ {
		pref := rng.Float64() * math.Pi
		kappa := 1 + 3*rng.Float64()
		for s := 0; s < S; s++ {
			th := float64(stim[s]) * math.Pi / 180
			resp[s*N+n] = float32(math.Exp(kappa*(math.Cos(2*(th-pref))-1)) + noise*rng.NormFloat64())
		}
	}
	return resp, stim
}

// The tutorial's pipeline on synthetic tuned data: RSA ranks a
// population with the same tuning above unstructured noise, and
// PCA(20) → t-SNE keeps stimuli of similar orientation together.
func TestTutorialPipelineOnTunedPopulation(t *testing.T) {
	const S = 180
	v1, stim := tunedPopulation(S, 400, 0.2, 1)
	model, _ := tunedPopulation(S, 300, 0.2, 2)
	noise := randMatrix(rand.New(rand.NewPCG(3, 3)), S, 300)

	rdm := func(x []float32, n int) []float32 {
		m, err := RDM(x, S, n, nil)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	rv1, rmodel, rnoise := rdm(v1, 400), rdm(model, 300), rdm(noise, 300)
	same, err := RSA(rv1, rmodel, S)
	if err != nil {
		t.Fatal(err)
	}
	none, err := RSA(rv1, rnoise, S)
	if err != nil {
		t.Fatal(err)
	}
	if same < 0.8 || math.Abs(none) > 0.1 {
		t.Errorf("RSA with a tuned population %.3f (want > 0.8), with noise %.3f (want ≈ 0)", same, none)
	}

	pc, err := PCA(v1, S, 400, 20)
	if err != nil {
		t.Fatal(err)
	}
	// The ring of orientations lives in the first two components.
	if pc.VarianceRatio[0]+pc.VarianceRatio[1] < 0.3 || pc.Variance[0] < pc.Variance[1] {
		t.Errorf("variance ratios %v", pc.VarianceRatio[:4])
	}
	y, _, err := TSNE(pc.Scores, S, 20, TSNEOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Mean circular orientation gap to the 5 nearest embedded points;
	// stimuli are 1° apart, random neighbours would be 45° off.
	var gap float64
	for i := 0; i < S; i++ {
		idx := make([]int, 0, S-1)
		for j := 0; j < S; j++ {
			if j != i {
				idx = append(idx, j)
			}
		}
		d := func(j int) float64 { return math.Hypot(y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]) }
		slices.SortFunc(idx, func(a, b int) int {
			if d(a) < d(b) {
				return -1
			}
			if d(a) > d(b) {
				return 1
			}
			return 0
		})
		for _, j := range idx[:5] {
			g := math.Abs(float64(stim[i] - stim[j]))
			gap += math.Min(g, 180-g)
		}
	}
	gap /= 5 * S
	if gap > 8 {
		t.Errorf("mean orientation gap to t-SNE neighbours %.1f°, want < 8°", gap)
	}
	t.Logf("RSA same tuning %.3f, noise %.3f; PC variance ratios %.3f %.3f; t-SNE neighbour gap %.2f°", same, none, pc.VarianceRatio[0], pc.VarianceRatio[1], gap)
}
