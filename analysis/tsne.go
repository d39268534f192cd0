package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// TSNEInit chooses the starting embedding of TSNE.
type TSNEInit int

const (
	// InitPCA starts from the first two principal components scaled to
	// a standard deviation of 1e-4 along the first, as scikit-learn's
	// default init="pca". It does not use the seed.
	InitPCA TSNEInit = iota
	// InitRandom starts from 1e-4·N(0, 1) points drawn with the seed.
	InitRandom
)

// TSNEOptions are the parameters of TSNE. Zero values select
// scikit-learn's defaults (the tutorials call TSNE(n_components=2)).
type TSNEOptions struct {
	Perplexity             float64 // effective neighbours per point; 0 → 30
	Iterations             int     // total gradient steps; 0 → 1000
	LearningRate           float64 // 0 → "auto": max(N/EarlyExaggeration/4, 50)
	EarlyExaggeration      float64 // P multiplier in the first phase; 0 → 12
	ExaggerationIterations int     // length of the first phase; 0 → 250
	Init                   TSNEInit
	Seed                   uint64    // for InitRandom
	InitY                  []float64 // rows×2 starting embedding; overrides Init when set
}

const (
	// MaxTSNEPoints bounds the exact O(N²) method: P alone takes 8·N²
	// bytes (200 MB at 5000 points).
	MaxTSNEPoints = 5000

	tsneKLEvery     = 50      // KL is evaluated every this many iterations
	tsneMinGain     = 0.01    // floor of the adaptive gains
	tsneMinGradNorm = 1e-7    // stop when the gradient is this small
	tsneTolerance   = 1e-5    // perplexity search: |H − log perplexity| (nats)
	tsneMaxSteps    = 100     // perplexity search: bisection steps
	machineEpsilon  = 2.2e-16 // floor of P and Q, as scikit-learn
)

func (o TSNEOptions) withDefaults(n int) TSNEOptions {
	if o.Perplexity == 0 {
		o.Perplexity = 30
	}
	if o.Iterations == 0 {
		o.Iterations = 1000
	}
	if o.EarlyExaggeration == 0 {
		o.EarlyExaggeration = 12
	}
	if o.ExaggerationIterations == 0 {
		o.ExaggerationIterations = 250
	}
	if o.LearningRate == 0 {
		o.LearningRate = math.Max(float64(n)/o.EarlyExaggeration/4, 50)
	}
	return o
}

// TSNE embeds the rows of x (rows points × dims features, row-major) in
// two dimensions with exact t-SNE (van der Maaten & Hinton 2008) as
// scikit-learn's method="exact": squared Euclidean distances, a
// bisection per point for the Gaussian precision whose conditional
// distribution has entropy log(perplexity), P = (P_cond + P_condᵀ)/ΣP,
// Student-t Q, and gradient descent with momentum 0.5 during early
// exaggeration then 0.8, adaptive gains (+0.2 / ×0.8, floor 0.01).
// Rows are processed on all GOMAXPROCS threads; the result depends only
// on x and o. It returns the rows×2 embedding and the KL divergence
// KL(P‖Q) (with the unexaggerated P) after every 50 iterations.
func TSNE(x []float64, rows, dims int, o TSNEOptions) (y, kl []float64, err error) {
	if rows < 2 || dims < 1 || len(x) != rows*dims {
		return nil, nil, fmt.Errorf("analysis: tsne: %d values for %d points × %d dims, want a non-empty matrix with at least 2 points", len(x), rows, dims)
	}
	if rows > MaxTSNEPoints {
		return nil, nil, fmt.Errorf("analysis: tsne: %d points, the exact method is limited to %d (8·N² bytes for P)", rows, MaxTSNEPoints)
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, nil, fmt.Errorf("analysis: tsne: x[%d, %d] = %v, want finite values", i/dims, i%dims, v)
		}
	}
	o = o.withDefaults(rows)
	switch {
	case !(o.Perplexity > 0) || o.Perplexity >= float64(rows):
		return nil, nil, fmt.Errorf("analysis: tsne: perplexity %v, want 0 < perplexity < %d points", o.Perplexity, rows)
	case o.Iterations < 0 || o.ExaggerationIterations < 0:
		return nil, nil, fmt.Errorf("analysis: tsne: negative iteration count (%d, %d)", o.Iterations, o.ExaggerationIterations)
	case !(o.LearningRate > 0) || !(o.EarlyExaggeration > 0):
		return nil, nil, fmt.Errorf("analysis: tsne: learning rate %v and early exaggeration %v, want positive", o.LearningRate, o.EarlyExaggeration)
	}

	p := jointProbabilities(x, rows, dims, o.Perplexity)

	y = make([]float64, 2*rows)
	switch {
	case o.InitY != nil:
		if len(o.InitY) != 2*rows {
			return nil, nil, fmt.Errorf("analysis: tsne: InitY has %d values, want %d points × 2", len(o.InitY), rows)
		}
		copy(y, o.InitY)
	case o.Init == InitPCA:
		if dims < 2 {
			return nil, nil, fmt.Errorf("analysis: tsne: PCA init needs at least 2 input dims, have %d", dims)
		}
		pc, err := pca64(x, rows, dims, 2)
		if err != nil {
			return nil, nil, fmt.Errorf("analysis: tsne: init: %w", err)
		}
		var ss float64
		for r := 0; r < rows; r++ {
			ss += pc.Scores[r*2] * pc.Scores[r*2] // scores are centred
		}
		sd := math.Sqrt(ss / float64(rows))
		if sd == 0 {
			sd = 1
		}
		for i, v := range pc.Scores {
			y[i] = v / sd * 1e-4
		}
	case o.Init == InitRandom:
		rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
		for i := range y {
			y[i] = 1e-4 * rng.NormFloat64()
		}
	default:
		return nil, nil, fmt.Errorf("analysis: tsne: unknown init %d", o.Init)
	}

	s := newTSNEState(p, rows)
	exag := min(o.ExaggerationIterations, o.Iterations)
	kl = s.descend(y, 0, exag, o.EarlyExaggeration, 0.5, o.LearningRate, kl)
	kl = s.descend(y, exag, o.Iterations, 1, 0.8, o.LearningRate, kl)
	return y, kl, nil
}

// conditionalP returns the row-stochastic matrix P_{j|i} whose rows have
// entropy log(perplexity) within tsneTolerance, found by bisection on the
// precision β of exp(−β·d²) as scikit-learn's _binary_search_perplexity.
// Distances are shifted by each row's minimum before exponentiating,
// which leaves P and the entropy unchanged but avoids underflow.
func conditionalP(x []float64, n, dims int, perplexity float64) []float64 {
	d2 := make([]float64, n*n)
	parallelRange(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			xi := x[i*dims : (i+1)*dims]
			for j := 0; j < n; j++ {
				xj := x[j*dims : (j+1)*dims]
				var s float64
				for k, v := range xi {
					t := v - xj[k]
					s += t * t
				}
				d2[i*n+j] = s
			}
		}
	})
	want := math.Log(perplexity)
	p := make([]float64, n*n)
	parallelRange(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row, pr := d2[i*n:(i+1)*n], p[i*n:(i+1)*n]
			dmin := math.Inf(1)
			for j, v := range row {
				if j != i && v < dmin {
					dmin = v
				}
			}
			beta, lo, hi := 1.0, math.Inf(-1), math.Inf(1)
			for step := 0; step < tsneMaxSteps; step++ {
				var sum float64
				for j, v := range row {
					if j == i {
						pr[j] = 0
						continue
					}
					pr[j] = math.Exp(-(v - dmin) * beta)
					sum += pr[j]
				}
				var sdp float64
				for j, v := range row {
					pr[j] /= sum
					sdp += (v - dmin) * pr[j]
				}
				h := math.Log(sum) + beta*sdp
				diff := h - want
				if math.Abs(diff) <= tsneTolerance {
					break
				}
				if diff > 0 { // too flat: sharpen
					lo = beta
					if math.IsInf(hi, 1) {
						beta *= 2
					} else {
						beta = (beta + hi) / 2
					}
				} else {
					hi = beta
					if math.IsInf(lo, -1) {
						beta /= 2
					} else {
						beta = (beta + lo) / 2
					}
				}
			}
		}
	})
	return p
}

// jointProbabilities symmetrises the conditional P and normalises it to
// sum 1 over i ≠ j, floored at machineEpsilon as scikit-learn.
func jointProbabilities(x []float64, n, dims int, perplexity float64) []float64 {
	p := conditionalP(x, n, dims, perplexity)
	var sum float64
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			v := p[i*n+j] + p[j*n+i]
			p[i*n+j], p[j*n+i] = v, v
			sum += 2 * v
		}
	}
	sum = math.Max(sum, machineEpsilon)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			if i == j {
				p[i*n+j] = 0
				continue
			}
			p[i*n+j] = math.Max(p[i*n+j]/sum, machineEpsilon)
		}
	}
	return p
}

type tsneState struct {
	p      []float64 // joint P, n×n, zero diagonal
	n      int
	grad   []float64
	rowSum []float64 // Σ_j (1+|yi−yj|²)⁻¹ per row
	rowKL  []float64
}

func newTSNEState(p []float64, n int) *tsneState {
	return &tsneState{p: p, n: n, grad: make([]float64, 2*n), rowSum: make([]float64, n), rowKL: make([]float64, n)}
}

// gradient sets s.grad to ∂KL/∂y = 4 Σ_j (exag·p_ij − q_ij)(1+|yi−yj|²)⁻¹ (yi − yj)
// and, when wantKL, returns KL(P‖Q) with the unexaggerated P.
func (s *tsneState) gradient(y []float64, exag float64, wantKL bool) float64 {
	n := s.n
	parallelRange(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			yi0, yi1 := y[2*i], y[2*i+1]
			var sum float64
			for j := 0; j < n; j++ {
				if j == i {
					continue
				}
				d0, d1 := yi0-y[2*j], yi1-y[2*j+1]
				sum += 1 / (1 + d0*d0 + d1*d1)
			}
			s.rowSum[i] = sum
		}
	})
	var z float64
	for _, v := range s.rowSum { // fixed order: independent of the split
		z += v
	}
	invZ := 1 / z
	parallelRange(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			yi0, yi1 := y[2*i], y[2*i+1]
			pr := s.p[i*n : (i+1)*n]
			var g0, g1, kl float64
			for j := 0; j < n; j++ {
				if j == i {
					continue
				}
				d0, d1 := yi0-y[2*j], yi1-y[2*j+1]
				num := 1 / (1 + d0*d0 + d1*d1)
				q := num * invZ
				f := (exag*pr[j] - q) * num
				g0 += f * d0
				g1 += f * d1
				if wantKL {
					kl += pr[j] * math.Log(pr[j]/math.Max(q, machineEpsilon))
				}
			}
			s.grad[2*i], s.grad[2*i+1] = 4*g0, 4*g1
			s.rowKL[i] = kl
		}
	})
	if !wantKL {
		return 0
	}
	var kl float64
	for _, v := range s.rowKL {
		kl += v
	}
	return kl
}

// descend runs iterations [from, to) of gradient descent on y with fresh
// momentum buffers and gains (as each scikit-learn phase), appending the
// KL divergence after every tsneKLEvery-th iteration to kl.
func (s *tsneState) descend(y []float64, from, to int, exag, momentum, lr float64, kl []float64) []float64 {
	update := make([]float64, len(y))
	gains := make([]float64, len(y))
	for i := range gains {
		gains[i] = 1
	}
	for it := from; it < to; it++ {
		check := (it+1)%tsneKLEvery == 0
		e := s.gradient(y, exag, check)
		var norm float64
		for i, g := range s.grad {
			if update[i]*g < 0 {
				gains[i] += 0.2
			} else {
				gains[i] *= 0.8
			}
			gains[i] = math.Max(gains[i], tsneMinGain)
			g *= gains[i]
			norm += g * g
			update[i] = momentum*update[i] - lr*g
			y[i] += update[i]
		}
		if check {
			kl = append(kl, e)
			if math.Sqrt(norm) <= tsneMinGradNorm {
				break
			}
		}
	}
	return kl
}
