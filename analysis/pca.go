package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"gonum.org/v1/gonum/mat"
)

// PCAResult is a principal component analysis of a rows×cols matrix.
type PCAResult struct {
	// Scores are the centred rows projected on the first K components
	// (rows×K, row-major), as sklearn's PCA.fit_transform.
	Scores []float64
	K      int
	// Variance of each component's scores (ddof 1, as sklearn's
	// explained_variance_), descending.
	Variance []float64
	// VarianceRatio is Variance over the total variance of all columns.
	VarianceRatio []float64
}

// PCA centres the columns of x (rows observations × cols variables,
// row-major) and returns its first k principal components. Signs are
// fixed so that the largest-magnitude score of each component is
// positive (sklearn's svd_flip convention on U).
//
// It eigendecomposes the smaller of the two Gram matrices, XcXcᵀ
// (rows×rows) or XcᵀXc (cols×cols), formed with gonum's multi-threaded
// Dgemm in float64: for the tutorials' 360 stimuli × 23,589 neurons this
// is a 360×360 problem instead of an SVD of the full matrix. Squaring
// the singular values costs accuracy only in components whose variance
// is below ~1e-12 of the largest, far below what a figure shows.
func PCA(x []float32, rows, cols, k int) (*PCAResult, error) {
	if err := checkMatrix("pca", x, rows, cols); err != nil {
		return nil, err
	}
	if err := checkFinite("pca", x, cols); err != nil {
		return nil, err
	}
	xd := make([]float64, len(x))
	for i, v := range x {
		xd[i] = float64(v)
	}
	return pca64(xd, rows, cols, k)
}

func pca64(x []float64, rows, cols, k int) (*PCAResult, error) {
	if rows < 2 {
		return nil, fmt.Errorf("analysis: pca: %d rows, want at least 2 observations", rows)
	}
	if k < 1 || k > min(rows, cols) {
		return nil, fmt.Errorf("analysis: pca: k = %d components, want 1…min(rows %d, cols %d)", k, rows, cols)
	}
	xc := make([]float64, len(x))
	centre(xc, x, rows, cols)

	impl := gonum.Implementation{}
	small := rows <= cols
	d := cols
	if small {
		d = rows
	}
	g := make([]float64, d*d)
	if small { // G = Xc·Xcᵀ
		impl.Dgemm(blas.NoTrans, blas.Trans, rows, rows, cols, 1, xc, cols, xc, cols, 0, g, rows)
	} else { // C = Xcᵀ·Xc
		impl.Dgemm(blas.Trans, blas.NoTrans, cols, cols, rows, 1, xc, cols, xc, cols, 0, g, cols)
	}
	// Symmetrise exactly: EigenSym reads one triangle only.
	for i := 0; i < d; i++ {
		for j := i + 1; j < d; j++ {
			v := 0.5 * (g[i*d+j] + g[j*d+i])
			g[i*d+j], g[j*d+i] = v, v
		}
	}
	var total float64
	for i := 0; i < d; i++ {
		total += g[i*d+i]
	}
	var eig mat.EigenSym
	if !eig.Factorize(mat.NewSymDense(d, g), true) {
		return nil, fmt.Errorf("analysis: pca: eigendecomposition of the %d×%d Gram matrix did not converge", d, d)
	}
	vals := eig.Values(nil) // ascending
	var vecs mat.Dense
	eig.VectorsTo(&vecs)

	res := &PCAResult{
		Scores:        make([]float64, rows*k),
		K:             k,
		Variance:      make([]float64, k),
		VarianceRatio: make([]float64, k),
	}
	for j := 0; j < k; j++ {
		col := d - 1 - j
		lambda := math.Max(vals[col], 0)
		res.Variance[j] = lambda / float64(rows-1)
		if total > 0 {
			res.VarianceRatio[j] = lambda / total
		}
		if small {
			// Left singular vector u times singular value √λ.
			s := math.Sqrt(lambda)
			for r := 0; r < rows; r++ {
				res.Scores[r*k+j] = vecs.At(r, col) * s
			}
		} else {
			for r := 0; r < rows; r++ {
				var s float64
				for c := 0; c < cols; c++ {
					s += xc[r*cols+c] * vecs.At(c, col)
				}
				res.Scores[r*k+j] = s
			}
		}
		// Sign: make the largest-magnitude score positive.
		best := 0
		for r := 1; r < rows; r++ {
			if math.Abs(res.Scores[r*k+j]) > math.Abs(res.Scores[best*k+j]) {
				best = r
			}
		}
		if res.Scores[best*k+j] < 0 {
			for r := 0; r < rows; r++ {
				res.Scores[r*k+j] = -res.Scores[r*k+j]
			}
		}
	}
	return res, nil
}
