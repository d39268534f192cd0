package report

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/kernels"
)

// The eigenspectrum of the V1 responses' stimulus-related variance, by
// Stringer et al. (2019)'s cross-validated PCA: the principal axes of one
// half of the trials, scored by how much variance they carry in both
// halves (noise, independent between halves, averages out).

// literatureAlpha is the power-law exponent of the grating responses'
// spectrum in Stringer et al. (2019, Nature 571:361, Fig. 3): for
// one-dimensional stimuli (drifting gratings) the exponent is above 1 +
// 2/d = 3, the bound a smooth population code must exceed; the figure
// draws the bound.
const literatureAlpha = 3.0

// minFitVariance is the smallest share of the variance a dimension of the
// power-law fit carries.
const minFitVariance = 1e-3

// spectrum is the cvPCA spectrum of the split data.
type spectrum struct {
	S, N int
	// Variance[k] is the cross-validated variance of component k+1,
	// divided by the total of the positive ones (it can be negative
	// where noise dominates).
	Variance []float64
	// Alpha is the power law fitted over FitLo…FitHi, the dimensions
	// from the second that carry at least minFitVariance, as Stringer et
	// al.'s get_powerlaw (weighted by 1/n in log–log); 0 when fewer than
	// three do.
	Alpha        float64
	FitLo, FitHi int
}

// v1Spectrum computes the cvPCA spectrum of the split data: with
// A = resp_train and B = resp_test centred per neuron over stimuli and
// u_k the eigenvectors of A·Aᵀ, component k carries u_kᵀ·B·Aᵀ·u_k of
// variance shared by both halves (the projection on A's k-th principal
// axis in neuron space, of A times that of B). Both S×S products run on
// the backend.
func (r *report) v1Spectrum(be kernels.Backend) error {
	v := r.split
	if v == nil || v.S < 3 {
		return nil
	}
	S, N := v.S, v.N
	a, b := centred(v.RespTrain, S, N), centred(v.RespTest, S, N)
	gemm := analysis.BackendGEMM(be)
	aa, ba := make([]float32, S*S), make([]float32, S*S)
	if err := gemm(aa, a, a, S, S, N, true); err != nil {
		return fmt.Errorf("V1 spectrum: %w", err)
	}
	if err := gemm(ba, b, a, S, S, N, true); err != nil {
		return fmt.Errorf("V1 spectrum: %w", err)
	}
	g := mat.NewSymDense(S, nil)
	c := mat.NewDense(S, S, nil)
	for i := 0; i < S; i++ {
		for j := 0; j < S; j++ {
			g.SetSym(i, j, (float64(aa[i*S+j])+float64(aa[j*S+i]))/2)
			c.Set(i, j, float64(ba[i*S+j]))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(g, true) {
		return fmt.Errorf("V1 spectrum: the eigendecomposition of resp_train's %d×%d Gram matrix failed", S, S)
	}
	var u mat.Dense
	eig.VectorsTo(&u)
	sp := &spectrum{S: S, N: N}
	var total float64
	for k := S - 1; k >= 0; k-- { // eigenvalues ascend
		uk := u.ColView(k)
		var cu mat.VecDense
		cu.MulVec(c, uk)
		ss := mat.Dot(uk, &cu)
		sp.Variance = append(sp.Variance, ss)
		if ss > 0 {
			total += ss
		}
	}
	if total > 0 {
		for k := range sp.Variance {
			sp.Variance[k] /= total
		}
	}
	// Fit from the second dimension (the first of the 2θ pair is on a
	// par with the second) over the dimensions that carry a measurable
	// share of the variance: beyond them the estimates are noise.
	sp.FitLo, sp.FitHi = 2, 2
	for sp.FitHi < min(len(sp.Variance), S/2) && sp.Variance[sp.FitHi] >= minFitVariance {
		sp.FitHi++
	}
	sp.Alpha = powerLaw(sp.Variance, sp.FitLo, sp.FitHi)
	r.spectrum = sp
	return nil
}

// centred is x (S×N) with each column's mean over the S rows removed.
func centred(x []float32, S, N int) []float32 {
	mean := make([]float64, N)
	for s := 0; s < S; s++ {
		for n, v := range x[s*N : (s+1)*N] {
			mean[n] += float64(v)
		}
	}
	out := make([]float32, len(x))
	for s := 0; s < S; s++ {
		for n, v := range x[s*N : (s+1)*N] {
			out[s*N+n] = float32(float64(v) - mean[n]/float64(S))
		}
	}
	return out
}

// powerLaw fits log ss_n = −α log n + b over n = lo…hi (1-based) by
// least squares weighted by 1/n, as Stringer et al.'s get_powerlaw; it
// returns 0 when a variance in the range is not positive.
func powerLaw(ss []float64, lo, hi int) float64 {
	if hi > len(ss) || lo < 1 || hi-lo < 2 {
		return 0
	}
	var sw, sx, sy, sxx, sxy float64
	for n := lo; n <= hi; n++ {
		if !(ss[n-1] > 0) {
			return 0
		}
		w, x, y := 1/float64(n), -math.Log(float64(n)), math.Log(ss[n-1])
		sw, sx, sy, sxx, sxy = sw+w, sx+w*x, sy+w*y, sxx+w*x*x, sxy+w*x*y
	}
	return (sw*sxy - sx*sy) / (sw*sxx - sx*sx)
}
