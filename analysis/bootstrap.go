package analysis

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// BootstrapOptions configure RSABootstrap.
type BootstrapOptions struct {
	// Resamples is the number of bootstrap resamples; 0 means 1000.
	Resamples int
	// Level is the coverage of the percentile interval; 0 means 0.95.
	Level float64
	// Seed makes the resamples reproducible.
	Seed uint64
}

// RSAInterval is an RSA value with its bootstrap percentile interval.
type RSAInterval struct {
	RSA       float64 `json:"rsa"`
	Lo        float64 `json:"lo"`
	Hi        float64 `json:"hi"`
	Level     float64 `json:"level"`
	Resamples int     `json:"resamples"`
	Seed      uint64  `json:"seed"`
	// Samples are the resamples' RSA values, in resample order.
	Samples []float64 `json:"-"`
}

// BootstrapStimuli returns resamples draws of S stimulus indices with
// replacement, uniform on [0, S), from a PCG generator seeded by seed:
// the same arguments give the same draws on every machine.
func BootstrapStimuli(S, resamples int, seed uint64) [][]int {
	rng := rand.New(rand.NewPCG(seed, 0x5eed_b007))
	idx := make([][]int, resamples)
	for b := range idx {
		d := make([]int, S)
		for i := range d {
			d[i] = rng.IntN(S)
		}
		idx[b] = d
	}
	return idx
}

// RSABootstrap returns RSA(rdm1, rdm2) with a percentile interval over
// o.Resamples resamples of the stimuli (BootstrapStimuli with o.Seed),
// each scored by RSAResampled.
func RSABootstrap(rdm1, rdm2 []float32, S int, o BootstrapOptions) (*RSAInterval, error) {
	if o.Resamples == 0 {
		o.Resamples = 1000
	}
	if o.Resamples < 2 {
		return nil, fmt.Errorf("analysis: rsa bootstrap: %d resamples, want at least 2", o.Resamples)
	}
	iv, err := RSABootstrapFrom(rdm1, rdm2, S, BootstrapStimuli(S, o.Resamples, o.Seed), o.Level)
	if err != nil {
		return nil, err
	}
	iv.Seed = o.Seed
	return iv, nil
}

// RSABootstrapFrom is RSABootstrap over given resamples (each S
// stimulus indices): the interval is numpy.percentile of the resampled
// values at (1 ∓ level)/2 (level 0 means 0.95).
func RSABootstrapFrom(rdm1, rdm2 []float32, S int, resamples [][]int, level float64) (*RSAInterval, error) {
	if level == 0 {
		level = 0.95
	}
	if !(level > 0 && level < 1) {
		return nil, fmt.Errorf("analysis: rsa bootstrap: level %v, want in (0, 1)", level)
	}
	if len(resamples) < 2 {
		return nil, fmt.Errorf("analysis: rsa bootstrap: %d resamples, want at least 2", len(resamples))
	}
	point, err := RSA(rdm1, rdm2, S)
	if err != nil {
		return nil, fmt.Errorf("analysis: rsa bootstrap: %w", err)
	}
	for b, idx := range resamples {
		if err := checkResample(idx, S); err != nil {
			return nil, fmt.Errorf("analysis: rsa bootstrap: resample %d: %w", b, err)
		}
	}
	samples := make([]float64, len(resamples))
	errs := make([]error, len(resamples))
	parallelRange(len(resamples), func(lo, hi int) {
		for b := lo; b < hi; b++ {
			samples[b], errs[b] = rsaResampled(rdm1, rdm2, S, resamples[b])
		}
	})
	for b, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("analysis: rsa bootstrap: resample %d: %w", b, err)
		}
	}
	sorted := slices.Clone(samples)
	slices.Sort(sorted)
	return &RSAInterval{
		RSA:       point,
		Lo:        percentileSorted(sorted, (1-level)/2),
		Hi:        percentileSorted(sorted, (1+level)/2),
		Level:     level,
		Resamples: len(resamples),
		Samples:   samples,
	}, nil
}

func checkResample(idx []int, S int) error {
	if len(idx) != S {
		return fmt.Errorf("%d indices, want S = %d", len(idx), S)
	}
	for i, v := range idx {
		if v < 0 || v >= S {
			return fmt.Errorf("index %d is %d, want in [0, %d)", i, v, S)
		}
	}
	return nil
}

// RSAResampled returns the RSA of the RDMs of the resampled stimuli idx
// (len S, values in [0, S)), dropping the pairs that are two copies of
// one stimulus, as rsatoolbox's bootstrap does: their dissimilarity is
// 0 by construction, not a measurement.
//
// An RDM entry depends only on its two stimuli's responses (each row
// is z-scored over units on its own), so the RDM of the resampled
// responses is the original RDM with rows and columns taken at idx:
// the resamples cost no product of responses, on a backend or not.
func RSAResampled(rdm1, rdm2 []float32, S int, idx []int) (float64, error) {
	if len(rdm1) != S*S || len(rdm2) != S*S {
		return 0, fmt.Errorf("analysis: rsa resampled: RDM lengths %d and %d, want %d×%d = %d", len(rdm1), len(rdm2), S, S, S*S)
	}
	if err := checkResample(idx, S); err != nil {
		return 0, fmt.Errorf("analysis: rsa resampled: %w", err)
	}
	r, err := rsaResampled(rdm1, rdm2, S, idx)
	if err != nil {
		return 0, fmt.Errorf("analysis: rsa resampled: %w", err)
	}
	return r, nil
}

func rsaResampled(rdm1, rdm2 []float32, S int, idx []int) (float64, error) {
	r, _, err := upperPearson(rdm1, rdm2, S, idx)
	return r, err
}

// RSANoiseCeiling returns the RSA between the RDMs of the two halves of
// the trials (resp_train and resp_test, S×N each): how similar two
// measurements of the same population are, the most a model's RDM can
// be expected to match either. The RDMs are returned too, for a
// bootstrap interval of the ceiling.
func RSANoiseCeiling(train, test []float32, S, N int, g GEMM) (ceiling float64, rdmTrain, rdmTest []float32, err error) {
	if err := checkHalves("rsa noise ceiling", "resp_train", train, "resp_test", test, S, N, 3); err != nil {
		return 0, nil, nil, err
	}
	if rdmTrain, err = RDM(train, S, N, g); err != nil {
		return 0, nil, nil, fmt.Errorf("analysis: rsa noise ceiling: resp_train: %w", err)
	}
	if rdmTest, err = RDM(test, S, N, g); err != nil {
		return 0, nil, nil, fmt.Errorf("analysis: rsa noise ceiling: resp_test: %w", err)
	}
	if ceiling, err = RSA(rdmTrain, rdmTest, S); err != nil {
		return 0, nil, nil, fmt.Errorf("analysis: rsa noise ceiling: %w", err)
	}
	return ceiling, rdmTrain, rdmTest, nil
}
