package analysis

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

func randMatrix(rng *rand.Rand, rows, cols int) []float32 {
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// naiveRDM is 1 − Pearson correlation of rows, straight from the
// definition in float64.
func naiveRDM(x []float32, S, N int) []float64 {
	m := make([]float64, S*S)
	for a := 0; a < S; a++ {
		for b := 0; b < S; b++ {
			var ma, mb float64
			for i := 0; i < N; i++ {
				ma += float64(x[a*N+i])
				mb += float64(x[b*N+i])
			}
			ma /= float64(N)
			mb /= float64(N)
			var sab, saa, sbb float64
			for i := 0; i < N; i++ {
				da, db := float64(x[a*N+i])-ma, float64(x[b*N+i])-mb
				sab += da * db
				saa += da * da
				sbb += db * db
			}
			m[a*S+b] = 1 - sab/math.Sqrt(saa*sbb)
		}
	}
	return m
}

func TestRDMIsOneMinusCorrelation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	// 300 rows: above gonum's 4-block threshold, so the parallel Sgemm
	// path is checked. 40 × 23,589: the tutorials' neuron count, where
	// float32 accumulation is longest; rows share a component so that
	// correlations span (−1, 1) rather than sitting near 0.
	for _, shape := range [][2]int{{300, 700}, {40, 23589}} {
		S, N := shape[0], shape[1]
		x := randMatrix(rng, S, N)
		common := randMatrix(rng, 1, N)
		for s := 0; s < S; s++ {
			w := float32(s%7) - 3
			for i := 0; i < N; i++ {
				x[s*N+i] += w * common[i]
			}
		}
		got, err := RDM(x, S, N, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := naiveRDM(x, S, N)
		// The float32 dot product of N z-scores carries a relative
		// error ~ε·√N (1e-5 at N = 23,589; measured max 9e-7);
		// 2e-5 absolute on entries in [0, 2] leaves margin.
		var worst float64
		for i := range want {
			worst = math.Max(worst, math.Abs(float64(got[i])-want[i]))
			if !close64(float64(got[i]), want[i], 2e-5, 0) {
				t.Fatalf("%d×%d: rdm[%d,%d] = %v, want %v", S, N, i/S, i%S, got[i], want[i])
			}
		}
		t.Logf("%d×%d: max |RDM − float64 reference| = %.2g", S, N, worst)
	}
}

func TestRDMUsesGivenGEMM(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := randMatrix(rng, 5, 9)
	calls := 0
	g := func(c, a, b []float32, m, n, k int, transB bool) error {
		calls++
		if m != 5 || n != 5 || k != 9 || !transB {
			t.Errorf("gemm called with m=%d n=%d k=%d transB=%v", m, n, k, transB)
		}
		return CPUGEMM(c, a, b, m, n, k, transB)
	}
	if _, err := RDM(x, 5, 9, g); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("gemm called %d times, want 1", calls)
	}
	boom := errors.New("device lost")
	_, err := RDM(x, 5, 9, func(c, a, b []float32, m, n, k int, transB bool) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("RDM error %v, want it to wrap %v", err, boom)
	}
}

func TestCPUGEMMNoTrans(t *testing.T) {
	a := []float32{1, 2, 3, 4, 5, 6} // 2×3
	b := []float32{1, 0, 0, 1, 1, 1} // 3×2
	want := []float32{4, 5, 10, 11}  // a·b
	c := make([]float32, 4)
	if err := CPUGEMM(c, a, b, 2, 2, 3, false); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c, want) {
		t.Fatalf("a·b = %v, want %v", c, want)
	}
	if err := CPUGEMM(c[:3], a, b, 2, 2, 3, false); err == nil {
		t.Fatal("short c accepted")
	}
}

func TestRDMConstantRow(t *testing.T) {
	x := []float32{1, 2, 3, 7, 7, 7, 3, 2, 1}
	m, err := RDM(x, 3, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Row 1 is constant: dissimilarity 1 to everything (see ZScoreRows).
	for j := 0; j < 3; j++ {
		if m[3+j] != 1 || m[j*3+1] != 1 {
			t.Errorf("constant row/column entry %d: %v %v, want 1", j, m[3+j], m[j*3+1])
		}
	}
	// Rows 0 and 2 are perfectly anti-correlated.
	if !close64(float64(m[2]), 2, 1e-6, 0) || !close64(float64(m[0]), 0, 1e-6, 0) {
		t.Errorf("rdm = %v", m)
	}
}

func TestRDMBadShape(t *testing.T) {
	if _, err := RDM(make([]float32, 10), 3, 4, nil); err == nil {
		t.Error("10 values accepted as 3×4")
	}
	if _, err := RDM(nil, 0, 4, nil); err == nil {
		t.Error("0 rows accepted")
	}
	x := make([]float32, 12)
	x[7] = float32(math.NaN())
	if _, err := RDM(x, 3, 4, nil); err == nil || !strings.Contains(err.Error(), "[1, 3]") {
		t.Errorf("NaN at [1, 3]: error %v, want one naming [1, 3]", err)
	}
	if _, err := PCA(x, 3, 4, 2); err == nil {
		t.Error("PCA accepted NaN")
	}
}

func TestRSAProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	S := 20
	a, err := RDM(randMatrix(rng, S, 40), S, 40, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := RSA(a, a, S); err != nil || !close64(r, 1, 1e-12, 0) {
		t.Errorf("RSA(a, a) = %v, %v; want 1", r, err)
	}
	// An affine map of the upper triangle keeps |r| = 1; the diagonal
	// and lower triangle must not matter.
	b := make([]float32, len(a))
	for i := 0; i < S; i++ {
		for j := 0; j < S; j++ {
			switch {
			case j > i:
				b[i*S+j] = 3 - 2*a[i*S+j]
			default:
				b[i*S+j] = float32(rng.NormFloat64())
			}
		}
	}
	// b = 3 − 2a in float32: rounding of ~1e-7 relative moves r by less than 1e-6.
	if r, err := RSA(a, b, S); err != nil || !close64(r, -1, 1e-6, 0) {
		t.Errorf("RSA(a, 3−2a) = %v, %v; want −1", r, err)
	}
	flat := make([]float32, S*S)
	if _, err := RSA(a, flat, S); err == nil {
		t.Error("constant RDM accepted")
	}
	nan := slices.Clone(a)
	nan[1] = float32(math.NaN())
	if _, err := RSA(a, nan, S); err == nil {
		t.Error("NaN RDM accepted")
	}
	if _, err := RSA(a, a[:S*S-1], S); err == nil {
		t.Error("short RDM accepted")
	}
}

func TestTuningCurvesSortByStimulus(t *testing.T) {
	// 3 stimuli × 2 units, rows given out of stimulus order.
	resp := []float32{
		30, 300, // stimulus 20
		10, 100, // stimulus −10
		20, 200, // stimulus 5
	}
	x, curves, err := TuningCurves(resp, 3, 2, []float32{20, -10, 5}, []int{1, 0})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x, []float64{-10, 5, 20}) {
		t.Errorf("x = %v", x)
	}
	if !slices.Equal(curves[0], []float64{100, 200, 300}) || !slices.Equal(curves[1], []float64{10, 20, 30}) {
		t.Errorf("curves = %v", curves)
	}
	if _, _, err := TuningCurves(resp, 3, 2, []float32{20, -10, 5}, []int{2}); err == nil {
		t.Error("unit 2 of 2 accepted")
	}
	if _, _, err := TuningCurves(resp, 3, 2, []float32{1, 2}, []int{0}); err == nil {
		t.Error("2 stimuli for 3 rows accepted")
	}
}

func TestWrapIsInvariantToWhereTheCycleIsCut(t *testing.T) {
	// Orientation is circular: relabelling the stimuli so that the sorted
	// axis starts at another angle must rotate every preferred stimulus
	// by the same angle under Wrap. Reflect treats the cut as an edge and
	// must break this for some unit tuned near it.
	rng := rand.New(rand.NewPCG(9, 10))
	S, N := 36, 40
	resp := make([]float32, S*N)
	for u := 0; u < N; u++ {
		c := rng.Float64() * 2 * math.Pi
		for i := 0; i < S; i++ {
			a := 2*math.Pi*float64(i)/float64(S) - c
			resp[i*N+u] = float32(math.Exp(2*math.Cos(a)) + 0.5*rng.NormFloat64())
		}
	}
	stim := func(shift int) []float32 {
		s := make([]float32, S)
		for i := range s {
			s[i] = float32((10 * (i + shift)) % 360)
		}
		return s
	}
	reflectBroke := false
	for _, b := range []Boundary{Wrap, Reflect} {
		base, err := PreferredStimulus(resp, S, N, stim(0), 2, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, shift := range []int{5, 18, 31} {
			got, err := PreferredStimulus(resp, S, N, stim(shift), 2, b)
			if err != nil {
				t.Fatal(err)
			}
			for u := range got {
				want := math.Mod(base[u]+float64(10*shift), 360)
				if got[u] != want {
					if b == Wrap {
						t.Errorf("wrap, shift %d: unit %d prefers %v°, want %v°", shift, u, got[u], want)
					}
					reflectBroke = true
				}
			}
		}
	}
	if !reflectBroke {
		t.Error("reflect gave the same answers as wrap: the data do not probe the seam")
	}
}

func TestSortByPreferenceAndPermute(t *testing.T) {
	pref := []float64{90, 10, 90, 0}
	idx := SortByPreference(pref)
	if !slices.Equal(idx, []int{3, 1, 0, 2}) {
		t.Fatalf("order = %v", idx)
	}
	w := []float32{1, 2, 3, 4, 5, 6, 7, 8} // 2×4
	p, err := PermuteColumns(w, 2, 4, idx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p, []float32{4, 2, 1, 3, 8, 6, 5, 7}) {
		t.Errorf("permuted = %v", p)
	}
	if _, err := PermuteColumns(w, 2, 4, []int{0, 1, 2, 4}); err == nil {
		t.Error("index 4 of 4 accepted")
	}
}

func TestGaussianKernelErrors(t *testing.T) {
	for _, s := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := GaussianKernel(s); err == nil {
			t.Errorf("sigma %v accepted", s)
		}
	}
	w, err := GaussianKernel(5)
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 41 { // radius int(4·5 + 0.5) = 20
		t.Errorf("len = %d, want 41", len(w))
	}
}

func TestPCAMatchesGonumPC(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, shape := range [][2]int{{40, 90}, {120, 15}} { // both Gram branches
		rows, cols := shape[0], shape[1]
		// Decaying column scales give well-separated eigenvalues, so
		// eigenvectors are defined up to sign only.
		x := make([]float32, rows*cols)
		for r := 0; r < rows; r++ {
			for c := 0; c < cols; c++ {
				x[r*cols+c] = float32(rng.NormFloat64()*math.Pow(0.8, float64(c)) + 2)
			}
		}
		k := 5
		res, err := PCA(x, rows, cols, k)
		if err != nil {
			t.Fatal(err)
		}
		xd := make([]float64, len(x))
		for i, v := range x {
			xd[i] = float64(v)
		}
		a := mat.NewDense(rows, cols, xd)
		var pc stat.PC
		if !pc.PrincipalComponents(a, nil) {
			t.Fatal("gonum PC failed")
		}
		var vecs mat.Dense
		pc.VectorsTo(&vecs)
		vars := pc.VarsTo(nil)
		// Reference scores: centred data times gonum's directions.
		var centred mat.Dense
		centred.CloneFrom(a)
		for c := 0; c < cols; c++ {
			m := stat.Mean(mat.Col(nil, c, a), nil)
			for r := 0; r < rows; r++ {
				centred.Set(r, c, centred.At(r, c)-m)
			}
		}
		var ref mat.Dense
		ref.Mul(&centred, vecs.Slice(0, cols, 0, k))
		var total float64
		for _, v := range vars {
			total += v
		}
		for j := 0; j < k; j++ {
			// Variances: λ from an eigensolver vs σ² from an SVD, in
			// float64: agree to ~1e-10 relative.
			if !close64(res.Variance[j], vars[j], 1e-12, 1e-9) {
				t.Errorf("%v: variance[%d] = %v, gonum %v", shape, j, res.Variance[j], vars[j])
			}
			if !close64(res.VarianceRatio[j], vars[j]/total, 1e-12, 1e-9) {
				t.Errorf("%v: ratio[%d] = %v, want %v", shape, j, res.VarianceRatio[j], vars[j]/total)
			}
			sign := 1.0
			if res.Scores[j]*ref.At(0, j) < 0 {
				sign = -1
			}
			for r := 0; r < rows; r++ {
				if !close64(res.Scores[r*k+j], sign*ref.At(r, j), 1e-8, 1e-7) {
					t.Fatalf("%v: score[%d,%d] = %v, gonum %v (sign %v)", shape, r, j, res.Scores[r*k+j], ref.At(r, j), sign)
				}
			}
		}
	}
}

func TestPCABadK(t *testing.T) {
	x := make([]float32, 12)
	for _, k := range []int{0, 4} {
		if _, err := PCA(x, 4, 3, k); err == nil {
			t.Errorf("k = %d accepted for 4×3", k)
		}
	}
}
