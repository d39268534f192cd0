package analysis

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Boundary is how GaussianFilter1D extends a signal past its ends, named
// as scipy.ndimage modes.
type Boundary int

const (
	// Wrap continues periodically, (a b c d | a b c d | a b c d): right
	// for tuning curves over a full cycle of orientations.
	Wrap Boundary = iota
	// Reflect mirrors about the edge, (d c b a | a b c d | d c b a):
	// scipy's default, which the bonus tutorial's call
	// gaussian_filter1d(resp_all, 5, axis=0) uses.
	Reflect
)

func (b Boundary) String() string {
	switch b {
	case Wrap:
		return "wrap"
	case Reflect:
		return "reflect"
	}
	return fmt.Sprintf("Boundary(%d)", int(b))
}

// ParseBoundary returns the Boundary of a scipy.ndimage mode name,
// "reflect" or "wrap".
func ParseBoundary(name string) (Boundary, error) {
	for _, b := range []Boundary{Reflect, Wrap} {
		if name == b.String() {
			return b, nil
		}
	}
	return 0, fmt.Errorf("analysis: boundary %q: want %q (scipy's default, the Bonus tutorial's) or %q (the orientation axis as a circle)", name, Reflect, Wrap)
}

// GaussianKernel returns the weights of scipy.ndimage.gaussian_filter1d
// with truncate 4: exp(−x²/2σ²) for x = −r…r, r = ⌊4σ + ½⌋, divided by
// their sum.
func GaussianKernel(sigma float64) ([]float64, error) {
	if !(sigma > 0) || math.IsInf(sigma, 0) {
		return nil, fmt.Errorf("analysis: gaussian kernel: sigma = %v, want a positive finite value", sigma)
	}
	r := int(4*sigma + 0.5)
	w := make([]float64, 2*r+1)
	var sum float64
	for i := range w {
		x := float64(i - r)
		w[i] = math.Exp(-0.5 * x * x / (sigma * sigma))
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	return w, nil
}

// GaussianFilter1D returns x smoothed by a Gaussian of standard
// deviation sigma samples, as scipy.ndimage.gaussian_filter1d(x, sigma,
// mode=b.String()) with the default truncate of 4.
func GaussianFilter1D(x []float64, sigma float64, b Boundary) ([]float64, error) {
	w, err := GaussianKernel(sigma)
	if err != nil {
		return nil, err
	}
	if len(x) == 0 {
		return nil, fmt.Errorf("analysis: gaussian filter: empty signal")
	}
	if b != Wrap && b != Reflect {
		return nil, fmt.Errorf("analysis: gaussian filter: unknown boundary %v", b)
	}
	y := make([]float64, len(x))
	filter1D(y, x, w, b)
	return y, nil
}

// filter1D correlates x with the symmetric kernel w into y.
func filter1D(y, x, w []float64, b Boundary) {
	n, r := len(x), len(w)/2
	for i := range y {
		var s float64
		if i-r >= 0 && i+r < n {
			for k, wk := range w {
				s += wk * x[i-r+k]
			}
		} else {
			for k, wk := range w {
				s += wk * x[extend(i-r+k, n, b)]
			}
		}
		y[i] = s
	}
}

// extend maps an index outside [0, n) back into it; it also handles
// kernels wider than the signal, as scipy does.
func extend(j, n int, b Boundary) int {
	switch b {
	case Wrap:
		j %= n
		if j < 0 {
			j += n
		}
		return j
	default: // Reflect: period 2n, second half mirrored.
		p := 2 * n
		j %= p
		if j < 0 {
			j += p
		}
		if j >= n {
			j = p - 1 - j
		}
		return j
	}
}

// SortedStimuli returns the order that sorts stimuli ascending (stable,
// so equal stimuli keep their row order) and the sorted values.
func SortedStimuli(stimuli []float32) (order []int, sorted []float64) {
	order = make([]int, len(stimuli))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return stimuli[order[a]] < stimuli[order[b]] })
	sorted = make([]float64, len(stimuli))
	for i, o := range order {
		sorted[i] = float64(stimuli[o])
	}
	return order, sorted
}

// TuningCurves returns, for each unit (column index) in units, its
// response to every stimulus, ordered by stimulus value; x holds the
// sorted stimulus values. resp is S stimuli × N units.
func TuningCurves(resp []float32, S, N int, stimuli []float32, units []int) (x []float64, curves [][]float64, err error) {
	if err := checkMatrix("tuning curves: resp", resp, S, N); err != nil {
		return nil, nil, err
	}
	if len(stimuli) != S {
		return nil, nil, fmt.Errorf("analysis: tuning curves: %d stimuli for %d response rows", len(stimuli), S)
	}
	order, x := SortedStimuli(stimuli)
	curves = make([][]float64, len(units))
	for k, u := range units {
		if u < 0 || u >= N {
			return nil, nil, fmt.Errorf("analysis: tuning curves: unit %d out of range [0, %d)", u, N)
		}
		c := make([]float64, S)
		for i, o := range order {
			c[i] = float64(resp[o*N+u])
		}
		curves[k] = c
	}
	return x, curves, nil
}

// PreferredStimulus returns for each of the N columns of resp (S stimuli
// × N units) the stimulus value at which its tuning curve, ordered by
// stimulus and smoothed by GaussianFilter1D(σ = sigma bins, boundary b),
// is largest (the first maximum, as numpy's argmax). With the bonus
// tutorial's 360 one-degree bins this is its preferred_orientation.
func PreferredStimulus(resp []float32, S, N int, stimuli []float32, sigma float64, b Boundary) ([]float64, error) {
	if err := checkMatrix("preferred stimulus: resp", resp, S, N); err != nil {
		return nil, err
	}
	if err := checkFinite("preferred stimulus: resp", resp, N); err != nil {
		return nil, err
	}
	if len(stimuli) != S {
		return nil, fmt.Errorf("analysis: preferred stimulus: %d stimuli for %d response rows", len(stimuli), S)
	}
	if b != Wrap && b != Reflect {
		return nil, fmt.Errorf("analysis: preferred stimulus: unknown boundary %v", b)
	}
	w, err := GaussianKernel(sigma)
	if err != nil {
		return nil, fmt.Errorf("analysis: preferred stimulus: %w", err)
	}
	order, x := SortedStimuli(stimuli)
	pref := make([]float64, N)
	parallelRange(N, func(lo, hi int) {
		col := make([]float64, S)
		sm := make([]float64, S)
		for u := lo; u < hi; u++ {
			for i, o := range order {
				col[i] = float64(resp[o*N+u])
			}
			filter1D(sm, col, w, b)
			best := 0
			for i, v := range sm {
				if v > sm[best] {
					best = i
				}
			}
			pref[u] = x[best]
		}
	})
	return pref, nil
}

// SortByPreference returns the column order that sorts units by
// preferred stimulus (stable: ties keep their column order, where
// numpy's default argsort does not promise any order).
func SortByPreference(pref []float64) []int {
	idx := make([]int, len(pref))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case pref[a] < pref[b]:
			return -1
		case pref[a] > pref[b]:
			return 1
		}
		return 0
	})
	return idx
}

// PermuteColumns returns w (rows×cols) with its columns reordered:
// column j of the result is column perm[j] of w, as numpy's w[:, perm].
func PermuteColumns(w []float32, rows, cols int, perm []int) ([]float32, error) {
	if err := checkMatrix("permute columns", w, rows, cols); err != nil {
		return nil, err
	}
	if len(perm) != cols {
		return nil, fmt.Errorf("analysis: permute columns: %d indices for %d columns", len(perm), cols)
	}
	for _, p := range perm {
		if p < 0 || p >= cols {
			return nil, fmt.Errorf("analysis: permute columns: index %d out of range [0, %d)", p, cols)
		}
	}
	out := make([]float32, len(w))
	for r := 0; r < rows; r++ {
		src, dst := w[r*cols:(r+1)*cols], out[r*cols:(r+1)*cols]
		for j, p := range perm {
			dst[j] = src[p]
		}
	}
	return out, nil
}
