package analysis

import (
	"fmt"
	"math"
	"slices"
)

// Summary condenses a per-neuron score over the neurons where it is
// defined (finite): N counts them, so a score that excludes neurons
// (NaN entries) says how many it kept. Quantiles interpolate linearly
// between order statistics, as numpy.percentile's default.
type Summary struct {
	Median float64 `json:"median"`
	Mean   float64 `json:"mean"`
	Q25    float64 `json:"q25"`
	Q75    float64 `json:"q75"`
	N      int     `json:"n"`
}

// Summarize returns the Summary of the finite values of x. It is an
// error when none is finite: a summary of nothing has no median, and
// NaN fields could not be written as JSON.
func Summarize(x []float64) (Summary, error) {
	v := make([]float64, 0, len(x))
	var sum float64
	for _, f := range x {
		if !math.IsNaN(f) && !math.IsInf(f, 0) {
			v = append(v, f)
			sum += f
		}
	}
	if len(v) == 0 {
		return Summary{}, fmt.Errorf("analysis: summary: none of %d values is finite", len(x))
	}
	slices.Sort(v)
	return Summary{
		Median: percentileSorted(v, 0.5),
		Mean:   sum / float64(len(v)),
		Q25:    percentileSorted(v, 0.25),
		Q75:    percentileSorted(v, 0.75),
		N:      len(v),
	}, nil
}

// percentileSorted is numpy.percentile(v, 100·q) (method "linear") of
// ascending v: the value at fractional rank q·(n−1).
func percentileSorted(v []float64, q float64) float64 {
	h := q * float64(len(v)-1)
	lo := int(math.Floor(h))
	if lo >= len(v)-1 {
		return v[len(v)-1]
	}
	return v[lo] + (h-float64(lo))*(v[lo+1]-v[lo])
}

// checkHalves validates two S×N response matrices that must share a
// shape, naming them in errors; S must be at least minS.
func checkHalves(op, nameA string, a []float32, nameB string, b []float32, S, N, minS int) error {
	if S < minS || N < 1 {
		return fmt.Errorf("analysis: %s: S = %d stimuli, N = %d neurons, want S ≥ %d and N ≥ 1", op, S, N, minS)
	}
	if len(a) != S*N || len(b) != S*N {
		return fmt.Errorf("analysis: %s: %s has %d values and %s %d, want both S×N = %d×%d = %d (the two halves must have the same shape)",
			op, nameA, len(a), nameB, len(b), S, N, S*N)
	}
	if err := checkFinite(op+": "+nameA, a, N); err != nil {
		return err
	}
	return checkFinite(op+": "+nameB, b, N)
}

// ColumnCorrelation returns the Pearson correlation over the S rows
// between column n of a and column n of b (both S×N), for every n,
// accumulated in float64. A constant column has no direction to
// correlate with: its correlation is 0 (scipy gives NaN), as the
// z-scoring of RDMs treats constant rows, so one silent neuron cannot
// turn a median into NaN.
func ColumnCorrelation(a, b []float32, S, N int) ([]float64, error) {
	if err := checkHalves("column correlation", "a", a, "b", b, S, N, 2); err != nil {
		return nil, err
	}
	return columnCorrelation(a, b, S, N), nil
}

func columnCorrelation(a, b []float32, S, N int) []float64 {
	r := make([]float64, N)
	// Row-major data: each worker owns a block of columns and scans the
	// rows, so that memory is read in order.
	parallelRange(N, func(lo, hi int) {
		w := hi - lo
		ma, mb := make([]float64, w), make([]float64, w)
		for s := 0; s < S; s++ {
			ra, rb := a[s*N+lo:s*N+hi], b[s*N+lo:s*N+hi]
			for j := range ra {
				ma[j] += float64(ra[j])
				mb[j] += float64(rb[j])
			}
		}
		for j := range ma {
			ma[j] /= float64(S)
			mb[j] /= float64(S)
		}
		sab, saa, sbb := make([]float64, w), make([]float64, w), make([]float64, w)
		for s := 0; s < S; s++ {
			ra, rb := a[s*N+lo:s*N+hi], b[s*N+lo:s*N+hi]
			for j := range ra {
				da, db := float64(ra[j])-ma[j], float64(rb[j])-mb[j]
				sab[j] += da * db
				saa[j] += da * da
				sbb[j] += db * db
			}
		}
		for j := range sab {
			if saa[j] > 0 && sbb[j] > 0 {
				r[lo+j] = sab[j] / math.Sqrt(saa[j]*sbb[j])
			}
		}
	})
	return r
}

// SplitHalfReliability returns, per neuron, the correlation over
// stimuli between its responses in the two halves of the trials
// (resp_train and resp_test of the split file, S×N each).
func SplitHalfReliability(train, test []float32, S, N int) ([]float64, error) {
	if err := checkHalves("split-half reliability", "resp_train", train, "resp_test", test, S, N, 2); err != nil {
		return nil, err
	}
	return columnCorrelation(train, test, S, N), nil
}

// NormalizedCorrelation returns r/√rel per neuron: a prediction fitted
// to one half can correlate with the other half at most as well as the
// neuron's noise-free tuning does, √rel when rel is the split-half
// reliability, so 1 is the ceiling. Where rel ≤ 0 the ceiling is not
// defined: the entry is NaN and counted in excluded.
func NormalizedCorrelation(r, rel []float64) (norm []float64, excluded int, err error) {
	if len(r) != len(rel) || len(r) == 0 {
		return nil, 0, fmt.Errorf("analysis: normalized correlation: %d correlations for %d reliabilities, want equal non-zero counts", len(r), len(rel))
	}
	norm = make([]float64, len(r))
	for i := range r {
		if math.IsNaN(r[i]) || math.IsNaN(rel[i]) {
			return nil, 0, fmt.Errorf("analysis: normalized correlation: neuron %d has r = %v, reliability %v, want numbers", i, r[i], rel[i])
		}
		if rel[i] > 0 {
			norm[i] = r[i] / math.Sqrt(rel[i])
		} else {
			norm[i] = math.NaN()
			excluded++
		}
	}
	return norm, excluded, nil
}

// FEVE returns neuralpredictors' fraction of explainable variance
// explained (measures.compute_FEV) with the two halves as the two
// repeats of each stimulus and pred (S×N) the prediction for both:
//
//	TotalVar = var of all 2S responses (ddof 1)
//	NoiseVar = mean over stimuli of var(train[s], test[s]) (ddof 1)
//	PredVar  = mean over all 2S responses of (response − pred)²
//	FEV      = (TotalVar − NoiseVar)/TotalVar
//	FEVE     = 1 − (PredVar − NoiseVar)/(TotalVar − NoiseVar)
//
// Where the explainable variance TotalVar − NoiseVar is not positive
// FEVE has no meaning (neuralpredictors would divide by it anyway): the
// entry is NaN, and FEV is NaN where TotalVar is 0.
func FEVE(train, test, pred []float32, S, N int) (feve, fev []float64, err error) {
	if err := checkHalves("feve", "resp_train", train, "resp_test", test, S, N, 2); err != nil {
		return nil, nil, err
	}
	if err := checkHalves("feve", "prediction", pred, "resp_test", test, S, N, 2); err != nil {
		return nil, nil, err
	}
	feve, fev = feveOffset(train, test, pred, nil, S, N)
	return feve, fev, nil
}

// feveOffset is FEVE of the prediction pred + offset (offset[n] added to
// column n; nil for none), summed in float64.
func feveOffset(train, test, pred []float32, offset []float64, S, N int) (feve, fev []float64) {
	feve, fev = make([]float64, N), make([]float64, N)
	parallelRange(N, func(lo, hi int) {
		w := hi - lo
		mean := make([]float64, w)
		for s := 0; s < S; s++ {
			for j := lo; j < hi; j++ {
				mean[j-lo] += float64(train[s*N+j]) + float64(test[s*N+j])
			}
		}
		for j := range mean {
			mean[j] /= float64(2 * S)
		}
		total, noise, predErr := make([]float64, w), make([]float64, w), make([]float64, w)
		for s := 0; s < S; s++ {
			for j := lo; j < hi; j++ {
				a, b, p := float64(train[s*N+j]), float64(test[s*N+j]), float64(pred[s*N+j])
				if offset != nil {
					p += offset[j]
				}
				da, db := a-mean[j-lo], b-mean[j-lo]
				total[j-lo] += da*da + db*db
				// The ddof-1 variance of two values is half their squared difference.
				noise[j-lo] += (a - b) * (a - b) / 2
				predErr[j-lo] += (a-p)*(a-p) + (b-p)*(b-p)
			}
		}
		for j := range total {
			tv := total[j] / float64(2*S-1)
			nv := noise[j] / float64(S)
			pv := predErr[j] / float64(2*S)
			fev[lo+j], feve[lo+j] = math.NaN(), math.NaN()
			if tv > 0 {
				fev[lo+j] = (tv - nv) / tv
			}
			if tv-nv > 0 {
				feve[lo+j] = 1 - (pv-nv)/(tv-nv)
			}
		}
	})
	return feve, fev
}

// EncodingScores are the per-neuron scores of a prediction of the
// split V1 data: pred (S×N) fitted to resp_train, judged on resp_test.
type EncodingScores struct {
	// TestCorr is the correlation over stimuli of pred with resp_test.
	TestCorr []float64
	// Reliability is the split-half reliability (SplitHalfReliability).
	Reliability []float64
	// NormCorr is TestCorr/√Reliability (NormalizedCorrelation); NaN
	// for the Excluded neurons, whose reliability is not positive.
	NormCorr []float64
	Excluded int
	// FEVE and FEV are as FEVE returns them (NaN where undefined).
	FEVE, FEV []float64
}

// ScoreEncoding computes every EncodingScores field.
func ScoreEncoding(pred, train, test []float32, S, N int) (*EncodingScores, error) {
	if err := checkHalves("encoding scores", "resp_train", train, "resp_test", test, S, N, 2); err != nil {
		return nil, err
	}
	if err := checkHalves("encoding scores", "prediction", pred, "resp_test", test, S, N, 2); err != nil {
		return nil, err
	}
	return scoreEncoding(pred, nil, train, test, S, N)
}

// scoreEncoding scores the prediction pred + offset (see feveOffset).
// Correlations ignore the offset: a strongly regularised prediction
// varies around its mean by less than float32 resolves at the mean's
// magnitude, but keeps its pattern when centred.
func scoreEncoding(pred []float32, offset []float64, train, test []float32, S, N int) (*EncodingScores, error) {
	e := &EncodingScores{
		TestCorr:    columnCorrelation(pred, test, S, N),
		Reliability: columnCorrelation(train, test, S, N),
	}
	var err error
	if e.NormCorr, e.Excluded, err = NormalizedCorrelation(e.TestCorr, e.Reliability); err != nil {
		return nil, err
	}
	e.FEVE, e.FEV = feveOffset(train, test, pred, offset, S, N)
	return e, nil
}

// EncodingSummary is the Summary of each score of EncodingScores, for
// a report's JSON.
type EncodingSummary struct {
	TestCorr    Summary `json:"test_corr"`
	Reliability Summary `json:"split_half_reliability"`
	NormCorr    Summary `json:"normalized_corr"`
	// NormCorrExcluded counts the neurons left out of NormCorr.
	NormCorrExcluded int     `json:"normalized_corr_excluded"`
	FEVE             Summary `json:"feve"`
}

// Summary summarises every score; it fails, naming the score, when a
// score is undefined for every neuron.
func (e *EncodingScores) Summary() (EncodingSummary, error) {
	out := EncodingSummary{NormCorrExcluded: e.Excluded}
	for _, c := range []struct {
		name string
		x    []float64
		dst  *Summary
	}{
		{"test correlation", e.TestCorr, &out.TestCorr},
		{"split-half reliability", e.Reliability, &out.Reliability},
		{"normalized correlation", e.NormCorr, &out.NormCorr},
		{"FEVE", e.FEVE, &out.FEVE},
	} {
		s, err := Summarize(c.x)
		if err != nil {
			return EncodingSummary{}, fmt.Errorf("analysis: encoding summary: %s: %w", c.name, err)
		}
		*c.dst = s
	}
	return out, nil
}

// BestMedianWorst returns the indices of the largest, the median and the
// smallest finite score (the lower median for an even count; the first
// index on ties), e.g. the neurons whose tuning curves a report shows.
func BestMedianWorst(score []float64) (best, median, worst int, err error) {
	idx := make([]int, 0, len(score))
	for i, v := range score {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return 0, 0, 0, fmt.Errorf("analysis: best, median, worst: none of %d scores is finite", len(score))
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case score[a] > score[b]:
			return -1
		case score[a] < score[b]:
			return 1
		}
		return 0
	})
	// Descending order: the worst is the last, the first index among
	// equal smallest scores is the first of their run.
	w := len(idx) - 1
	for w > 0 && score[idx[w-1]] == score[idx[w]] {
		w--
	}
	return idx[0], idx[len(idx)/2], idx[w], nil
}
