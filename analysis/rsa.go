package analysis

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// GEMM computes c = a·bᵀ when transB is set, else c = a·b, where a is
// m×k, b is n×k (transB) or k×n, and c is m×n, all row-major float32.
// It lets a caller run the RDM product on an accelerator (for example
// through a kernels.Backend MatMul); nil selects CPUGEMM.
type GEMM func(c, a, b []float32, m, n, k int, transB bool) error

// CPUGEMM is the GEMM of gonum's pure-Go BLAS (Sgemm), which splits the
// product into 64×64 blocks of c computed on all GOMAXPROCS threads.
func CPUGEMM(c, a, b []float32, m, n, k int, transB bool) error {
	if err := checkGEMM(c, a, b, m, n, k); err != nil {
		return err
	}
	tb, ldb := blas.NoTrans, n
	if transB {
		tb, ldb = blas.Trans, k
	}
	if m == 0 || n == 0 {
		return nil
	}
	gonum.Implementation{}.Sgemm(blas.NoTrans, tb, m, n, k, 1, a, max(k, 1), b, max(ldb, 1), 0, c, n)
	return nil
}

func checkGEMM(c, a, b []float32, m, n, k int) error {
	if m < 0 || n < 0 || k < 0 {
		return fmt.Errorf("analysis: gemm: negative size m=%d n=%d k=%d", m, n, k)
	}
	if len(a) != m*k || len(b) != n*k || len(c) != m*n {
		return fmt.Errorf("analysis: gemm: lengths a=%d b=%d c=%d, want %d, %d, %d for m=%d n=%d k=%d",
			len(a), len(b), len(c), m*k, n*k, m*n, m, n, k)
	}
	return nil
}

func checkMatrix(name string, x []float32, rows, cols int) error {
	if rows <= 0 || cols <= 0 {
		return fmt.Errorf("analysis: %s: shape %d×%d, want positive dimensions", name, rows, cols)
	}
	if len(x) != rows*cols {
		return fmt.Errorf("analysis: %s: %d values, want %d×%d = %d", name, len(x), rows, cols, rows*cols)
	}
	return nil
}

// ZScoreRows returns x (rows×cols, row-major) with each row shifted to
// mean 0 and scaled to population standard deviation 1 (ddof 0), as
// scipy.stats.zscore(x, axis=1). Sums are taken in float64.
//
// A constant row (standard deviation 0, e.g. a stimulus that silences a
// whole ReLU layer) becomes all zeros, where scipy would return NaN: a
// row carrying no pattern then has correlation 0 with every row, so its
// RDM entries are 1 (its diagonal entry included) instead of NaNs that
// would poison every RSA correlation computed from the matrix.
func ZScoreRows(x []float32, rows, cols int) ([]float32, error) {
	if err := checkMatrix("zscore", x, rows, cols); err != nil {
		return nil, err
	}
	if err := checkFinite("zscore", x, cols); err != nil {
		return nil, err
	}
	z := make([]float32, len(x))
	parallelRange(rows, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			zscoreRow(z[r*cols:(r+1)*cols], x[r*cols:(r+1)*cols])
		}
	})
	return z, nil
}

// checkFinite reports the first NaN or ±Inf of a matrix with cols
// columns: one bad response would otherwise silently turn a whole row
// of results into NaN.
func checkFinite(name string, x []float32, cols int) error {
	for i, v := range x {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("analysis: %s: value [%d, %d] is %v, want finite", name, i/cols, i%cols, v)
		}
	}
	return nil
}

func zscoreRow(dst, src []float32) {
	var sum float64
	for _, v := range src {
		sum += float64(v)
	}
	mean := sum / float64(len(src))
	var ss float64
	for _, v := range src {
		d := float64(v) - mean
		ss += d * d
	}
	sd := math.Sqrt(ss / float64(len(src)))
	if sd == 0 {
		clear(dst)
		return
	}
	inv := 1 / sd
	for i, v := range src {
		dst[i] = float32((float64(v) - mean) * inv)
	}
}

// RDM returns the S×S representational dissimilarity matrix of resp
// (S stimuli × N units): 1 − Z·Zᵀ/N with Z = ZScoreRows(resp), i.e. one
// minus the Pearson correlation between the population responses to
// each pair of stimuli. The product runs on g (nil: CPUGEMM).
func RDM(resp []float32, S, N int, g GEMM) ([]float32, error) {
	z, err := ZScoreRows(resp, S, N)
	if err != nil {
		return nil, fmt.Errorf("analysis: rdm: %w", err)
	}
	if g == nil {
		g = CPUGEMM
	}
	m := make([]float32, S*S)
	if err := g(m, z, z, S, S, N, true); err != nil {
		return nil, fmt.Errorf("analysis: rdm: Z·Zᵀ (%d×%d): %w", S, N, err)
	}
	inv := 1 / float64(N)
	for i, v := range m {
		m[i] = float32(1 - float64(v)*inv)
	}
	return m, nil
}

// RSA returns the Pearson correlation between the entries above the
// diagonal of two S×S RDMs (np.triu_indices(S, k=1)), accumulated in
// float64. The diagonal is left out because it is 0 in every RDM and
// the lower triangle because it repeats the upper one.
func RSA(rdm1, rdm2 []float32, S int) (float64, error) {
	if S < 3 {
		return 0, fmt.Errorf("analysis: rsa: S = %d stimuli, want at least 3 (2 off-diagonal pairs)", S)
	}
	if len(rdm1) != S*S || len(rdm2) != S*S {
		return 0, fmt.Errorf("analysis: rsa: RDM lengths %d and %d, want %d×%d = %d", len(rdm1), len(rdm2), S, S, S*S)
	}
	all := make([]int, S)
	for i := range all {
		all[i] = i
	}
	r, _, err := upperPearson(rdm1, rdm2, S, all)
	if err != nil {
		return 0, fmt.Errorf("analysis: rsa: %w", err)
	}
	return r, nil
}

// upperPearson is the Pearson correlation between the entries above the
// diagonal of two S×S RDMs taken at stimuli idx (len S), leaving
// out the pairs of one stimulus with itself, which a resample with
// copies has off the diagonal. It also returns the number of pairs.
// Two passes (means, then centred sums) keep the float64 sums accurate
// even when all dissimilarities sit near 1.
func upperPearson(rdm1, rdm2 []float32, S int, idx []int) (r float64, pairs int, err error) {
	var s1, s2 float64
	for a := 0; a < S; a++ {
		ia := idx[a]
		ra := ia * S
		for b := a + 1; b < S; b++ {
			if ib := idx[b]; ib != ia {
				s1 += float64(rdm1[ra+ib])
				s2 += float64(rdm2[ra+ib])
				pairs++
			}
		}
	}
	if pairs < 2 {
		return 0, pairs, fmt.Errorf("%d pairs of distinct stimuli, want at least 2", pairs)
	}
	m1, m2 := s1/float64(pairs), s2/float64(pairs)
	var sxy, sxx, syy float64
	for a := 0; a < S; a++ {
		ia := idx[a]
		ra := ia * S
		for b := a + 1; b < S; b++ {
			if ib := idx[b]; ib != ia {
				x := float64(rdm1[ra+ib]) - m1
				y := float64(rdm2[ra+ib]) - m2
				sxy += x * y
				sxx += x * x
				syy += y * y
			}
		}
	}
	if math.IsNaN(sxy+sxx+syy) || math.IsInf(sxy+sxx+syy, 0) {
		return 0, pairs, errors.New("an RDM has NaN or infinite entries above the diagonal")
	}
	if sxx == 0 || syy == 0 {
		return 0, pairs, errors.New("an RDM has constant entries over the pairs compared, correlation is undefined")
	}
	return sxy / math.Sqrt(sxx*syy), pairs, nil
}

// parallelRange splits [0, n) into one contiguous chunk per thread and
// runs f on each concurrently. Results must not depend on the split.
func parallelRange(n int, f func(lo, hi int)) {
	w := min(runtime.GOMAXPROCS(0), n)
	if w <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for t := 0; t < w; t++ {
		lo, hi := t*n/w, (t+1)*n/w
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(lo, hi)
		}()
	}
	wg.Wait()
}
