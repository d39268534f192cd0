package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// clusters returns n points in dims dimensions drawn around 3 centres
// 10 apart (unit noise) and their labels.
func clusters(n, dims int, seed uint64) ([]float64, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := make([][]float64, 3)
	for c := range centres {
		centres[c] = make([]float64, dims)
		centres[c][c] = 10
	}
	x := make([]float64, n*dims)
	lab := make([]int, n)
	for i := 0; i < n; i++ {
		lab[i] = i % 3
		for d := 0; d < dims; d++ {
			x[i*dims+d] = centres[lab[i]][d] + rng.NormFloat64()
		}
	}
	return x, lab
}

func TestPerplexityCalibration(t *testing.T) {
	x, _ := clusters(150, 20, 1)
	for _, perp := range []float64{5, 30} {
		p := conditionalP(x, 150, 20, perp)
		for i := 0; i < 150; i++ {
			var h, sum float64
			for _, v := range p[i*150 : (i+1)*150] {
				sum += v
				if v > 0 {
					h -= v * math.Log(v)
				}
			}
			// The bisection stops within 1e-5 nats of log(perplexity).
			if !close64(sum, 1, 1e-12, 0) || !close64(h, math.Log(perp), 2e-5, 0) {
				t.Fatalf("perplexity %v row %d: Σp = %v, entropy %v, want %v", perp, i, sum, h, math.Log(perp))
			}
			if p[i*150+i] != 0 {
				t.Fatalf("p[%d,%d] = %v, want 0", i, i, p[i*150+i])
			}
		}
	}
}

func TestJointProbabilitiesSymmetric(t *testing.T) {
	x, _ := clusters(60, 5, 2)
	p := jointProbabilities(x, 60, 5, 10)
	var sum float64
	for i := 0; i < 60; i++ {
		for j := 0; j < 60; j++ {
			sum += p[i*60+j]
			if p[i*60+j] != p[j*60+i] {
				t.Fatalf("p[%d,%d] = %v ≠ p[%d,%d] = %v", i, j, p[i*60+j], j, i, p[j*60+i])
			}
		}
	}
	if !close64(sum, 1, 1e-9, 0) {
		t.Fatalf("Σp = %v, want 1", sum)
	}
}

func TestTSNEGradientMatchesFiniteDifferences(t *testing.T) {
	x, _ := clusters(30, 4, 3)
	p := jointProbabilities(x, 30, 4, 8)
	s := newTSNEState(p, 30)
	rng := rand.New(rand.NewPCG(4, 4))
	y := make([]float64, 60)
	for i := range y {
		y[i] = rng.NormFloat64()
	}
	s.gradient(y, 1, false)
	grad := slices.Clone(s.grad)
	const h = 1e-6
	for _, i := range []int{0, 7, 33, 59} {
		y0 := y[i]
		y[i] = y0 + h
		fp := s.gradient(y, 1, true)
		y[i] = y0 - h
		fm := s.gradient(y, 1, true)
		y[i] = y0
		fd := (fp - fm) / (2 * h)
		// Central differences of a smooth float64 function: error
		// O(h²) + O(ε/h) ≈ 1e-10 on gradients of size ~1e-2.
		if !close64(grad[i], fd, 1e-8, 1e-5) {
			t.Errorf("∂KL/∂y[%d] = %v, finite difference %v", i, grad[i], fd)
		}
	}
}

// knnAgreement is the fraction of points whose k nearest neighbours in
// the 2-D embedding y are in majority of their own label.
func knnAgreement(y []float64, lab []int, k int) float64 {
	n := len(lab)
	good := 0
	for i := 0; i < n; i++ {
		idx := make([]int, 0, n-1)
		for j := 0; j < n; j++ {
			if j != i {
				idx = append(idx, j)
			}
		}
		d := func(j int) float64 {
			a, b := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
			return a*a + b*b
		}
		slices.SortFunc(idx, func(a, b int) int {
			switch {
			case d(a) < d(b):
				return -1
			case d(a) > d(b):
				return 1
			}
			return 0
		})
		same := 0
		for _, j := range idx[:k] {
			if lab[j] == lab[i] {
				same++
			}
		}
		if 2*same > k {
			good++
		}
	}
	return float64(good) / float64(n)
}

func TestTSNESeparatesClusters(t *testing.T) {
	x, lab := clusters(150, 20, 5)
	for _, init := range []TSNEInit{InitPCA, InitRandom} {
		y, kl, err := TSNE(x, 150, 20, TSNEOptions{Perplexity: 20, Iterations: 500, Init: init, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(y) != 300 || len(kl) != 10 {
			t.Fatalf("init %d: len(y) = %d, len(kl) = %d; want 300, 10", init, len(y), len(kl))
		}
		if a := knnAgreement(y, lab, 10); a < 0.95 {
			t.Errorf("init %d: 10-NN label agreement %v, want ≥ 0.95", init, a)
		}
		// KL after exaggeration (iteration 300 on) must fall and end
		// well below where it started.
		after := kl[5:]
		if !(after[len(after)-1] < after[0]) {
			t.Errorf("init %d: KL did not decrease after exaggeration: %v", init, kl)
		}
		for i := 1; i < len(after); i++ {
			if after[i] > after[i-1]*1.01 {
				t.Errorf("init %d: KL rose from %v to %v at check %d", init, after[i-1], after[i], i+5)
			}
		}
		if kl[len(kl)-1] > 1.5 {
			t.Errorf("init %d: final KL %v, want < 1.5 for separable clusters", init, kl[len(kl)-1])
		}
	}
}

func TestTSNEDeterministicPerSeed(t *testing.T) {
	x, _ := clusters(60, 6, 6)
	o := TSNEOptions{Perplexity: 10, Iterations: 300, Init: InitRandom, Seed: 42}
	y1, _, err := TSNE(x, 60, 6, o)
	if err != nil {
		t.Fatal(err)
	}
	y2, _, err := TSNE(x, 60, 6, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(y1, y2) {
		t.Error("same seed gave different embeddings")
	}
	o.Seed = 43
	y3, _, err := TSNE(x, 60, 6, o)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(y1, y3) {
		t.Error("seeds 42 and 43 gave the same embedding")
	}
}

func TestTSNEBadInput(t *testing.T) {
	x, _ := clusters(20, 3, 7)
	for name, c := range map[string]struct {
		x          []float64
		rows, dims int
		o          TSNEOptions
	}{
		"perplexity ≥ points": {x, 20, 3, TSNEOptions{Perplexity: 20}},
		"short x":             {x[:50], 20, 3, TSNEOptions{Perplexity: 5}},
		"NaN":                 {append([]float64{math.NaN()}, x[1:]...), 20, 3, TSNEOptions{Perplexity: 5}},
		"one point":           {x[:3], 1, 3, TSNEOptions{Perplexity: 5}},
		"pca init 1-D":        {x[:20], 20, 1, TSNEOptions{Perplexity: 5}},
	} {
		if _, _, err := TSNE(c.x, c.rows, c.dims, c.o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
