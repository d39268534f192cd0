package analysis

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// RidgeFolds is the number of cross-validation folds of RidgeCV:
// stimulus i is in validation fold i mod RidgeFolds, so that each fold
// samples the whole (sorted) orientation range.
const RidgeFolds = 5

// DefaultRidgeAlphas returns the regularisation grid RidgeCV searches
// when none is given: 10⁻², 10⁻¹, …, 10⁶.
func DefaultRidgeAlphas() []float64 {
	a := make([]float64, 9)
	for i := range a {
		a[i] = math.Pow10(i - 2) // exact decimals, as 1e-2 … 1e6 in NumPy
	}
	return a
}

// RidgeOptions configure RidgeCV.
type RidgeOptions struct {
	// Alphas is the grid of regularisation strengths; nil means
	// DefaultRidgeAlphas. Each must be positive and finite.
	Alphas []float64
	// GEMM runs the one large product (nil: CPUGEMM; BackendGEMM puts it
	// on a kernels.Backend).
	GEMM GEMM
}

// RidgeResult is a ridge regression baseline of every neuron.
type RidgeResult struct {
	// Alphas is the grid searched; Alpha the one chosen per neuron.
	Alphas []float64
	Alpha  []float64
	// CVR2 is the mean validation R² of the chosen alpha.
	CVR2 []float64
	// Pred (S×N) is the refitted model's prediction for the S stimuli.
	Pred []float32
	// The scores of the prediction against resp_test (ScoreEncoding),
	// taken before Pred was rounded to float32.
	EncodingScores
}

// RidgeCV fits, for each of the N neurons, a ridge regression from the
// features x (S stimuli × D features, e.g. a network layer's activity)
// to resp_train (S×N), choosing alpha per neuron by cross-validation
// with himalaya's RidgeCV semantics (solver "svd", fit_intercept=True,
// local_alpha):
//
//   - X and Y are centred; in each of the RidgeFolds folds (stimulus i
//     in fold i mod RidgeFolds) the training rows are centred again on
//     their own means, which the validation rows are shifted by too;
//   - a fold's prediction is Xval·V·diag(s/(s²+α))·Uᵀ·Ytrain + mean, from
//     one thin SVD Xtrain = U·diag(s)·Vᵀ for all alphas and neurons;
//   - the score is R² per neuron (0 where the validation responses are
//     constant, as himalaya's r2_score), averaged over folds, plus
//     10⁻¹⁰·ln α so that ties go to the larger alpha; its first maximum
//     picks the neuron's alpha;
//   - the model is refitted on all S stimuli with that alpha, and its
//     prediction for them is scored against resp_test (the other half
//     of the trials of the same stimuli).
//
// The SVDs and every S×S operator are float64 on the CPU. Each fold's
// prediction is linear in Ytrain, so the operators of every fold and
// alpha (and of the refits) are stacked into one (2·A·S)×S matrix and
// multiplied with the centred responses in a single product of
// 2·(2·A·S)·S·N flops, which runs on o.GEMM in blocks of neurons of
// 2²¹ values of the result; Ytrain is read once, and float32 appears
// only in that product.
func RidgeCV(x []float32, S, D int, train, test []float32, N int, o RidgeOptions) (*RidgeResult, error) {
	if S < RidgeFolds {
		return nil, fmt.Errorf("analysis: ridge: %d stimuli, want at least %d (one per cross-validation fold)", S, RidgeFolds)
	}
	if err := checkMatrix("ridge: features", x, S, D); err != nil {
		return nil, err
	}
	if err := checkFinite("ridge: features", x, D); err != nil {
		return nil, err
	}
	if err := checkHalves("ridge", "resp_train", train, "resp_test", test, S, N, RidgeFolds); err != nil {
		return nil, err
	}
	alphas := o.Alphas
	if alphas == nil {
		alphas = DefaultRidgeAlphas()
	}
	if len(alphas) == 0 {
		return nil, fmt.Errorf("analysis: ridge: empty alpha grid, want at least one alpha (nil for the default)")
	}
	for i, a := range alphas {
		if !(a > 0) || math.IsInf(a, 0) {
			return nil, fmt.Errorf("analysis: ridge: alpha[%d] = %v, want positive and finite", i, a)
		}
	}
	alphas = append([]float64(nil), alphas...)
	g := o.GEMM
	if g == nil {
		g = CPUGEMM
	}
	ops, err := ridgeOperators(x, S, D, alphas)
	if err != nil {
		return nil, err
	}
	A := len(alphas)

	// Y centred on its column means (float64 sums). Every operator maps
	// a constant column to itself, so predicting the centred responses
	// and adding the means back is the same prediction, and the float32
	// product never carries a large offset.
	mu := columnMeans(train, S, N)

	res := &RidgeResult{
		Alphas: alphas,
		Alpha:  make([]float64, N),
		CVR2:   make([]float64, N),
		Pred:   make([]float32, S*N),
	}
	predc := make([]float32, S*N) // Pred − mu, before rounding: see scoreEncoding
	rows := 2 * A * S
	chunk := max(1, min(N, ridgeMaxProduct/rows))
	yc := make([]float32, S*chunk)
	p := make([]float32, rows*chunk)
	bias := make([]float64, A)
	for a, al := range alphas {
		bias[a] = 1e-10 * math.Log(al) // himalaya's tie-break towards larger alphas
	}
	for c0 := 0; c0 < N; c0 += chunk {
		nc := min(chunk, N-c0)
		yc, p := yc[:S*nc], p[:rows*nc]
		for s := 0; s < S; s++ {
			for j := 0; j < nc; j++ {
				yc[s*nc+j] = float32(float64(train[s*N+c0+j]) - mu[c0+j])
			}
		}
		if err := g(p, ops, yc, rows, nc, S, false); err != nil {
			return nil, fmt.Errorf("analysis: ridge: operators·Y (%d×%d·%d×%d): %w", rows, S, S, nc, err)
		}
		parallelRange(nc, func(lo, hi int) {
			ridgeScores(res, predc, mu, p, yc, lo, hi, c0, nc, S, N, bias)
		})
	}
	sc, err := scoreEncoding(predc, mu, train, test, S, N)
	if err != nil {
		return nil, err
	}
	res.EncodingScores = *sc
	return res, nil
}

// ridgeScores scores columns [lo, hi) of one block of nc neurons
// (starting at neuron c0): yc holds their centred responses (S×nc), p
// the product of the operators with them ((2·A·S)×nc). It chooses each
// neuron's alpha and stores its prediction. Rows are walked in order,
// with the sums of all the block's neurons side by side, because a
// neuron's column is spread over the whole product.
func ridgeScores(res *RidgeResult, predc []float32, mu []float64, p, yc []float32, lo, hi, c0, nc, S, N int, bias []float64) {
	A, w := len(bias), hi-lo
	// Per fold f and neuron: the validation mean, total and, per alpha,
	// residual sums of squares.
	mean := make([]float64, RidgeFolds*w)
	count := make([]float64, RidgeFolds)
	for s := 0; s < S; s++ {
		f := s % RidgeFolds
		count[f]++
		m := mean[f*w : (f+1)*w]
		for j, v := range yc[s*nc+lo : s*nc+hi] {
			m[j] += float64(v)
		}
	}
	for f := 0; f < RidgeFolds; f++ {
		for j := range w {
			mean[f*w+j] /= count[f]
		}
	}
	tot := make([]float64, RidgeFolds*w)
	sse := make([]float64, A*RidgeFolds*w)
	for s := 0; s < S; s++ {
		f := s % RidgeFolds
		y := yc[s*nc+lo : s*nc+hi]
		m, t := mean[f*w:(f+1)*w], tot[f*w:(f+1)*w]
		for j, v := range y {
			d := float64(v) - m[j]
			t[j] += d * d
		}
		for a := 0; a < A; a++ {
			e := sse[(a*RidgeFolds+f)*w : (a*RidgeFolds+f+1)*w]
			for j, q := range p[(a*S+s)*nc+lo : (a*S+s)*nc+hi] {
				d := float64(y[j]) - float64(q)
				e[j] += d * d
			}
		}
	}
	score := make([]float64, A)
	for j := range w {
		for a := range score {
			var r2 float64
			for f := 0; f < RidgeFolds; f++ {
				if t := tot[f*w+j]; t != 0 { // R² of a constant is 0
					r2 += 1 - sse[(a*RidgeFolds+f)*w+j]/t
				}
			}
			score[a] = r2 / RidgeFolds
		}
		best := 0
		for a := range score {
			if score[a]+bias[a] > score[best]+bias[best] {
				best = a
			}
		}
		n := c0 + lo + j
		res.Alpha[n], res.CVR2[n] = res.Alphas[best], score[best]
		for s := 0; s < S; s++ {
			v := p[((A+best)*S+s)*nc+lo+j]
			predc[s*N+n] = v
			res.Pred[s*N+n] = float32(float64(v) + mu[n])
		}
	}
}

// ridgeMaxProduct bounds the values of one product of RidgeCV: 8 MiB
// of float32, one block of neurons at a time. The blocks reuse one
// buffer, where a single (2·A·S)×N product (~100 MiB at the tutorials'
// sizes) is memory touched once, whose page faults cost about as much
// as the product (BenchmarkRidgeCV, bench/RESULTS.md); and they stay
// far inside the 128 MiB storage-buffer range Vulkan drivers (lavapipe
// among them) allow one tensor.
var ridgeMaxProduct = 1 << 21

// ridgeOperators returns the (2·A·S)×S float32 matrix whose rows map the
// centred training responses (S×N) to predictions: row a·S+i is the
// cross-validated prediction of stimulus i at alpha a (from the fold
// that holds i out), row (A+a)·S+i the refitted model's prediction of
// stimulus i.
func ridgeOperators(x []float32, S, D int, alphas []float64) ([]float32, error) {
	A := len(alphas)
	xc := make([]float64, S*D)
	centre(xc, x, S, D)
	ops := make([]float32, 2*A*S*S)
	errs := make([]error, RidgeFolds+1)
	// Fold f < RidgeFolds, and the refit as task RidgeFolds.
	parallelRange(RidgeFolds+1, func(lo, hi int) {
		for f := lo; f < hi; f++ {
			if f == RidgeFolds {
				errs[f] = refitOperators(ops[A*S*S:], xc, S, D, alphas)
			} else {
				errs[f] = foldOperators(ops[:A*S*S], xc, S, D, f, alphas)
			}
		}
	})
	for f, err := range errs {
		if err != nil {
			if f == RidgeFolds {
				return nil, fmt.Errorf("analysis: ridge: refit on all %d stimuli: %w", S, err)
			}
			return nil, fmt.Errorf("analysis: ridge: fold %d: %w", f, err)
		}
	}
	return ops, nil
}

// columnMeans returns the means of the columns of the rows×cols matrix
// x, summed in float64.
func columnMeans[T float32 | float64](x []T, rows, cols int) []float64 {
	mean := make([]float64, cols)
	for r := 0; r < rows; r++ {
		for c, v := range x[r*cols : (r+1)*cols] {
			mean[c] += float64(v)
		}
	}
	for c := range mean {
		mean[c] /= float64(rows)
	}
	return mean
}

// centre writes the rows×cols matrix x minus its column means into dst.
func centre[T float32 | float64](dst []float64, x []T, rows, cols int) {
	mean := columnMeans(x, rows, cols)
	for r := 0; r < rows; r++ {
		for c, v := range x[r*cols : (r+1)*cols] {
			dst[r*cols+c] = float64(v) - mean[c]
		}
	}
}

// thinSVD factorises the rows×cols matrix x = U·diag(s)·Vᵀ.
func thinSVD(x []float64, rows, cols int) (u, v *mat.Dense, s []float64, err error) {
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(rows, cols, x), mat.SVDThin) {
		return nil, nil, nil, fmt.Errorf("SVD of the %d×%d centred features did not converge", rows, cols)
	}
	u, v = new(mat.Dense), new(mat.Dense)
	svd.UTo(u)
	svd.VTo(v)
	return u, v, svd.Values(nil), nil
}

// foldOperators fills the rows of the validation stimuli of fold f in
// each alpha's S×S block of ops. With Xtr, Xval the fold's rows centred
// on the training mean and Xtr = U·diag(s)·Vᵀ, the prediction of the
// validation responses from the training responses Ytr is
//
//	K·(Ytr − 1·m) + 1·m,  K = Xval·V·diag(s/(s²+α))·Uᵀ,  m = mean of Ytr rows,
//
// that is the operator H = K − rowmean(K)·1ᵀ + 1ᵀ/ntr applied to Ytr;
// its columns are placed at the training stimuli, the rest stay 0.
func foldOperators(ops []float32, xc []float64, S, D, f int, alphas []float64) error {
	var tr, val []int
	for i := 0; i < S; i++ {
		if i%RidgeFolds == f {
			val = append(val, i)
		} else {
			tr = append(tr, i)
		}
	}
	ntr, nval := len(tr), len(val)
	mean := make([]float64, D)
	for _, i := range tr {
		for c, v := range xc[i*D : (i+1)*D] {
			mean[c] += v
		}
	}
	for c := range mean {
		mean[c] /= float64(ntr)
	}
	rowsOf := func(idx []int) []float64 {
		m := make([]float64, len(idx)*D)
		for k, i := range idx {
			for c, v := range xc[i*D : (i+1)*D] {
				m[k*D+c] = v - mean[c]
			}
		}
		return m
	}
	u, v, s, err := thinSVD(rowsOf(tr), ntr, D)
	if err != nil {
		return err
	}
	var q mat.Dense // Xval·V, nval×r
	q.Mul(mat.NewDense(nval, D, rowsOf(val)), v)
	w := make([]float64, len(s))
	for a, al := range alphas {
		for c := range w {
			w[c] = s[c] / (s[c]*s[c] + al)
		}
		k := scaledProduct(&q, w, u) // nval×ntr
		block := ops[a*S*S : (a+1)*S*S]
		for vi, i := range val {
			row := k.RawRowView(vi)
			var sum float64
			for _, kv := range row {
				sum += kv
			}
			shift := 1/float64(ntr) - sum/float64(ntr)
			for tj, j := range tr {
				block[i*S+j] = float32(row[tj] + shift)
			}
		}
	}
	return nil
}

// refitOperators fills each alpha's S×S block of ops with the hat
// matrix of the ridge fitted to all stimuli, U·diag(s²/(s²+α))·Uᵀ with
// Xc = U·diag(s)·Vᵀ: the fitted values of the centred responses.
func refitOperators(ops []float32, xc []float64, S, D int, alphas []float64) error {
	u, _, s, err := thinSVD(append([]float64(nil), xc...), S, D)
	if err != nil {
		return err
	}
	w := make([]float64, len(s))
	for a, al := range alphas {
		for c := range w {
			w[c] = s[c] * s[c] / (s[c]*s[c] + al)
		}
		h := scaledProduct(u, w, u)
		block := ops[a*S*S : (a+1)*S*S]
		for i := 0; i < S; i++ {
			for j, hv := range h.RawRowView(i) {
				block[i*S+j] = float32(hv)
			}
		}
	}
	return nil
}

// scaledProduct returns a·diag(w)·bᵀ (gonum's Dgemm, in float64).
func scaledProduct(a *mat.Dense, w []float64, b *mat.Dense) *mat.Dense {
	var aw mat.Dense
	aw.CloneFrom(a)
	r, _ := aw.Dims()
	for i := 0; i < r; i++ {
		row := aw.RawRowView(i)
		for c := range row {
			row[c] *= w[c]
		}
	}
	var out mat.Dense
	out.Mul(&aw, b.T())
	return &out
}
