package analysis

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

const encodingFixtures = "../testdata/analysis/encoding_fixtures.npz"

func encFixture[T float32 | float64](t *testing.T, key string) []T {
	t.Helper()
	return fixtureFrom[T](t, encodingFixtures, key)
}

// closeOrBothNaN compares per-neuron scores that are NaN where undefined.
func closeOrBothNaN(got, want, tol float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return close64(got, want, tol, 0)
}

func checkScores(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, numpy %d", name, len(got), len(want))
	}
	for i := range want {
		if !closeOrBothNaN(got[i], want[i], tol) {
			t.Fatalf("%s[%d] = %v, numpy %v", name, i, got[i], want[i])
		}
	}
}

func checkSummary(t *testing.T, name string, got Summary, want []float64) {
	t.Helper()
	g := []float64{got.Median, got.Mean, got.Q25, got.Q75, float64(got.N)}
	for i, label := range []string{"median", "mean", "q25", "q75", "n"} {
		if !close64(g[i], want[i], 1e-6, 0) {
			t.Errorf("%s summary %s = %v, numpy %v", name, label, g[i], want[i])
		}
	}
}

func TestEncodingScoresMatchNumPy(t *testing.T) {
	const S, N = 40, 30
	train := encFixture[float32](t, "enc_train")
	test := encFixture[float32](t, "enc_test")
	pred := encFixture[float32](t, "enc_pred")
	e, err := ScoreEncoding(pred, train, test, S, N)
	if err != nil {
		t.Fatal(err)
	}
	// float64 sums of the same float32 data: agreement to ~1e-12; 1e-9
	// still catches any change of definition.
	checkScores(t, "test correlation", e.TestCorr, encFixture[float64](t, "enc_r"), 1e-9)
	checkScores(t, "reliability", e.Reliability, encFixture[float64](t, "enc_rel"), 1e-9)
	checkScores(t, "normalized correlation", e.NormCorr, encFixture[float64](t, "enc_norm"), 1e-9)
	checkScores(t, "FEVE", e.FEVE, encFixture[float64](t, "enc_feve"), 1e-9)
	checkScores(t, "FEV", e.FEV, encFixture[float64](t, "enc_fev"), 1e-9)
	if want := int(encFixture[float64](t, "enc_excluded")[0]); e.Excluded != want || want == 0 {
		t.Errorf("excluded %d neurons, numpy %d (the fixture must exclude some)", e.Excluded, want)
	}
	// Neuron 3 is constant in resp_test: correlation 0 by definition.
	if e.TestCorr[3] != 0 || e.Reliability[3] != 0 {
		t.Errorf("constant neuron: r = %v, reliability %v, want 0", e.TestCorr[3], e.Reliability[3])
	}
	sum, err := e.Summary()
	if err != nil {
		t.Fatal(err)
	}
	checkSummary(t, "test correlation", sum.TestCorr, encFixture[float64](t, "enc_sum_r"))
	checkSummary(t, "reliability", sum.Reliability, encFixture[float64](t, "enc_sum_rel"))
	checkSummary(t, "normalized correlation", sum.NormCorr, encFixture[float64](t, "enc_sum_norm"))
	checkSummary(t, "FEVE", sum.FEVE, encFixture[float64](t, "enc_sum_feve"))
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"test_corr":{"median":`, `"normalized_corr_excluded":`, `"feve":`, `"q25":`, `"n":`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("summary JSON %s lacks %s", b, key)
		}
	}
}

func TestSummarizeQuantiles(t *testing.T) {
	// numpy.percentile([1, 2, 3, 4, 10], [25, 50, 75]) = 2, 3, 4.
	s, err := Summarize([]float64{4, math.NaN(), 1, 10, 3, 2, math.Inf(1)})
	if err != nil {
		t.Fatal(err)
	}
	if s != (Summary{Median: 3, Mean: 4, Q25: 2, Q75: 4, N: 5}) {
		t.Errorf("summary %+v", s)
	}
	// Interpolated: numpy.percentile([0, 1], 25) = 0.25.
	if s, _ := Summarize([]float64{1, 0}); s.Q25 != 0.25 || s.Median != 0.5 || s.Q75 != 0.75 {
		t.Errorf("two values: %+v", s)
	}
	if _, err := Summarize([]float64{math.NaN()}); err == nil || !strings.Contains(err.Error(), "finite") {
		t.Errorf("all-NaN summary: %v", err)
	}
}

func TestBestMedianWorst(t *testing.T) {
	b, m, w, err := BestMedianWorst([]float64{0.5, math.NaN(), 0.9, 0.1, 0.3, 0.1})
	if err != nil {
		t.Fatal(err)
	}
	// Finite, descending: 0.9 (2), 0.5 (0), 0.3 (4), 0.1 (3), 0.1 (5).
	if b != 2 || m != 4 || w != 3 {
		t.Errorf("best, median, worst = %d, %d, %d; want 2, 4, 3", b, m, w)
	}
	// An even count takes the lower median: 0.4 of 0.8, 0.6, 0.4, 0.2.
	if _, m, _, _ := BestMedianWorst([]float64{0.2, 0.8, 0.4, 0.6}); m != 2 {
		t.Errorf("median of 4 is index %d, want 2 (0.4, the lower median)", m)
	}
	if _, _, _, err := BestMedianWorst([]float64{math.NaN()}); err == nil {
		t.Error("no finite score accepted")
	}
}

func TestEncodingBadInput(t *testing.T) {
	a := make([]float32, 12)
	for i := range a {
		a[i] = float32(i % 5)
	}
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"halves of different shapes", func() error { _, err := SplitHalfReliability(a, a[:9], 4, 3); return err }(), "same shape"},
		{"NaN", func() error {
			b := append([]float32(nil), a...)
			b[7] = float32(math.NaN())
			_, err := SplitHalfReliability(a, b, 4, 3)
			return err
		}(), "resp_test: value [2, 1] is NaN"},
		{"one stimulus", func() error { _, err := ColumnCorrelation(a[:3], a[:3], 1, 3); return err }(), "S ≥ 2"},
		{"short prediction", func() error { _, _, err := FEVE(a, a, a[:6], 4, 3); return err }(), "prediction has 6 values and resp_test 12"},
		{"mismatched reliabilities", func() error { _, _, err := NormalizedCorrelation([]float64{1}, nil); return err }(), "1 correlations for 0"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, c.err, c.want)
		}
	}
}
