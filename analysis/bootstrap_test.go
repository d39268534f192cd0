package analysis

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func bootRDMs(t *testing.T) (r1, r2 []float32, S int) {
	t.Helper()
	S = 30
	var err error
	if r1, err = RDM(encFixture[float32](t, "boot_resp1"), S, 50, nil); err != nil {
		t.Fatal(err)
	}
	if r2, err = RDM(encFixture[float32](t, "boot_resp2"), S, 40, nil); err != nil {
		t.Fatal(err)
	}
	return r1, r2, S
}

func TestRSABootstrapMatchesNumPy(t *testing.T) {
	r1, r2, S := bootRDMs(t)
	flat := encFixture[float64](t, "boot_idx")
	idx := make([][]int, len(flat)/S)
	for b := range idx {
		idx[b] = make([]int, S)
		for i := range idx[b] {
			idx[b][i] = int(flat[b*S+i])
		}
	}
	iv, err := RSABootstrapFrom(r1, r2, S, idx, 0)
	if err != nil {
		t.Fatal(err)
	}
	// NumPy recomputes both RDMs from the resampled responses in float64;
	// here they are gathered from float32 RDMs (entries off by ≲1e-6).
	want := encFixture[float64](t, "boot_samples")
	checkScores(t, "bootstrap RSA", iv.Samples, want, 1e-4)
	ci := encFixture[float64](t, "boot_ci")
	if !close64(iv.RSA, ci[0], 1e-4, 0) || !close64(iv.Lo, ci[1], 1e-4, 0) || !close64(iv.Hi, ci[2], 1e-4, 0) {
		t.Errorf("RSA %v in [%v, %v], numpy %v in [%v, %v]", iv.RSA, iv.Lo, iv.Hi, ci[0], ci[1], ci[2])
	}
	if iv.Level != 0.95 || iv.Resamples != len(idx) {
		t.Errorf("level %v, %d resamples; want 0.95, %d", iv.Level, iv.Resamples, len(idx))
	}
}

// The gather RSAResampled does equals recomputing the RDMs of the
// resampled responses with RDM and dropping copies of one stimulus.
func TestRSAResampledEqualsRecomputedRDMs(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	S, N1, N2 := 25, 40, 30
	x1, x2 := randMatrix(rng, S, N1), randMatrix(rng, S, N2)
	for s := 0; s < S; s++ { // shared structure: RSA well away from 0
		for i := 0; i < 10; i++ {
			x2[s*N2+i] += 2 * x1[s*N1+i]
		}
	}
	r1, _ := RDM(x1, S, N1, nil)
	r2, _ := RDM(x2, S, N2, nil)
	for _, idx := range BootstrapStimuli(S, 5, 77) {
		rows := func(x []float32, n int) []float32 {
			out := make([]float32, 0, S*n)
			for _, i := range idx {
				out = append(out, x[i*n:(i+1)*n]...)
			}
			return out
		}
		q1, _ := RDM(rows(x1, N1), S, N1, nil)
		q2, _ := RDM(rows(x2, N2), S, N2, nil)
		var a, b []float64
		for i := 0; i < S; i++ {
			for j := i + 1; j < S; j++ {
				if idx[i] != idx[j] {
					a = append(a, float64(q1[i*S+j]))
					b = append(b, float64(q2[i*S+j]))
				}
			}
		}
		want := pearson(a, b)
		got, err := RSAResampled(r1, r2, S, idx)
		if err != nil {
			t.Fatal(err)
		}
		// Same float32 dot products in different GEMM positions: ~1e-7.
		if !close64(got, want, 1e-6, 0) {
			t.Errorf("RSAResampled %v, recomputed RDMs %v", got, want)
		}
	}
}

func pearson(a, b []float64) float64 {
	var ma, mb float64
	for i := range a {
		ma += a[i]
		mb += b[i]
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var sab, saa, sbb float64
	for i := range a {
		sab += (a[i] - ma) * (b[i] - mb)
		saa += (a[i] - ma) * (a[i] - ma)
		sbb += (b[i] - mb) * (b[i] - mb)
	}
	return sab / math.Sqrt(saa*sbb)
}

func TestRSABootstrapSeeded(t *testing.T) {
	r1, r2, S := bootRDMs(t)
	a, err := RSABootstrap(r1, r2, S, BootstrapOptions{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	b, err := RSABootstrap(r1, r2, S, BootstrapOptions{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	c, err := RSABootstrap(r1, r2, S, BootstrapOptions{Seed: 6})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Samples) != 1000 || a.Resamples != 1000 || a.Seed != 5 || a.Level != 0.95 {
		t.Errorf("%d samples, resamples %d, seed %d, level %v; want the defaults 1000 and 0.95 with seed 5", len(a.Samples), a.Resamples, a.Seed, a.Level)
	}
	if !slices.Equal(a.Samples, b.Samples) || a.Lo != b.Lo || a.Hi != b.Hi {
		t.Error("the same seed gave different resamples")
	}
	if slices.Equal(a.Samples, c.Samples) {
		t.Error("seeds 5 and 6 gave the same resamples")
	}
	for _, iv := range []*RSAInterval{a, c} {
		if !(iv.Lo < iv.RSA && iv.RSA < iv.Hi) {
			t.Errorf("seed %d: interval [%v, %v] does not contain the RSA %v", iv.Seed, iv.Lo, iv.Hi, iv.RSA)
		}
		if iv.Hi-iv.Lo > 0.2 || iv.Hi-iv.Lo < 1e-3 {
			t.Errorf("seed %d: interval width %v for 30 stimuli sharing structure", iv.Seed, iv.Hi-iv.Lo)
		}
	}
	// A narrower level gives a nested interval from the same samples.
	n, err := RSABootstrap(r1, r2, S, BootstrapOptions{Seed: 5, Level: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if !(a.Lo < n.Lo && n.Hi < a.Hi) {
		t.Errorf("50%% interval [%v, %v] not inside the 95%% one [%v, %v]", n.Lo, n.Hi, a.Lo, a.Hi)
	}
	// Draws are uniform over the stimuli.
	count := make([]int, S)
	for _, d := range BootstrapStimuli(S, 1000, 1) {
		for _, i := range d {
			count[i]++
		}
	}
	for i, c := range count { // mean 1000, sd ≈ 31
		if c < 850 || c > 1150 {
			t.Errorf("stimulus %d drawn %d times in 30,000 draws, want ≈ 1000", i, c)
		}
	}
}

func TestRSANoiseCeilingMatchesNumPy(t *testing.T) {
	train := encFixture[float32](t, "nc_train")
	test := encFixture[float32](t, "nc_test")
	got, rtr, rte, err := RSANoiseCeiling(train, test, 30, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := encFixture[float64](t, "nc_rsa")[0]; !close64(got, want, 1e-4, 0) {
		t.Errorf("noise ceiling %v, numpy %v", got, want)
	}
	if r, _ := RSA(rtr, rte, 30); r != got {
		t.Errorf("returned RDMs give RSA %v, ceiling %v", r, got)
	}
}

func TestRSABootstrapBadInput(t *testing.T) {
	r1, r2, S := bootRDMs(t)
	good := BootstrapStimuli(S, 3, 1)
	bad := [][]int{good[0], append(slices.Clone(good[1][:S-1]), S)}
	same := [][]int{good[0], make([]int, S)} // one stimulus 30 times: no pairs
	for _, c := range []struct {
		name string
		run  func() error
		want string
	}{
		{"short RDM", func() error { _, err := RSABootstrap(r1[:S*S-1], r2, S, BootstrapOptions{}); return err }, "RDM lengths 899 and 900"},
		{"index out of range", func() error { _, err := RSABootstrapFrom(r1, r2, S, bad, 0); return err }, "resample 1: index 29 is 30, want in [0, 30)"},
		{"one resample", func() error { _, err := RSABootstrap(r1, r2, S, BootstrapOptions{Resamples: 1}); return err }, "1 resamples, want at least 2"},
		{"level 1.5", func() error { _, err := RSABootstrapFrom(r1, r2, S, good, 1.5); return err }, "level 1.5, want in (0, 1)"},
		{"no distinct pairs", func() error { _, err := RSABootstrapFrom(r1, r2, S, same, 0); return err }, "resample 1: 0 pairs of distinct stimuli"},
		{"NaN half", func() error {
			x := encFixture[float32](t, "nc_train")
			x[5] = float32(math.NaN())
			_, _, _, err := RSANoiseCeiling(x, encFixture[float32](t, "nc_test"), 30, 50, nil)
			return err
		}, "resp_train: value [0, 5] is NaN"},
	} {
		if err := c.run(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}
