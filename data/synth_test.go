package data

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"testing"
)

// weightedSD checks that each neuron's responses in the halves of resp
// (rows h·S … h·S+S−1, bin s averaging trials[h][s] trials) have a
// trial-weighted mean within tol of 0, and returns their trial-weighted
// s.d.
func weightedSD(resp []float32, S, N int, trials [][]int, tol float64, t *testing.T) []float64 {
	t.Helper()
	sd := make([]float64, N)
	for n := 0; n < N; n++ {
		var s, ss, k float64
		for h, ks := range trials {
			for i, c := range ks {
				x := float64(resp[(h*S+i)*N+n])
				s, ss, k = s+float64(c)*x, ss+float64(c)*x*x, k+float64(c)
			}
		}
		if m := s / k; math.Abs(m) > tol {
			t.Fatalf("neuron %d: trial-weighted mean %v, want 0", n, m)
		}
		sd[n] = math.Sqrt(ss / k)
	}
	return sd
}

func TestSyntheticV1Shape(t *testing.T) {
	v := SyntheticV1(SynthOptions{Neurons: 1000, Seed: 3})
	if v.S != 360 || v.N != 1000 || len(v.Resp) != 360*1000 || len(v.Stimuli) != 360 || !v.Synthetic {
		t.Fatalf("S=%d N=%d len(Resp)=%d len(Stimuli)=%d synthetic=%v", v.S, v.N, len(v.Resp), len(v.Stimuli), v.Synthetic)
	}
	// One stimulus per 1° bin, the mean of trial angles inside the bin.
	for s, st := range v.Stimuli {
		if !(float64(st) >= float64(s) && float64(st) < float64(s+1)) {
			t.Fatalf("stimulus %d = %v, want in [%d,%d)", s, st, s, s+1)
		}
	}
	// z-scored over single trials: the trial-weighted mean of each
	// neuron's bins is 0, and its bins vary less than its trials do.
	_, trials := synthStimuli(3, v.S)
	for n, sd := range weightedSD(v.Resp, v.S, v.N, [][]int{trials}, 1e-6, t) {
		if !(sd > 0.05 && sd < 0.95) {
			t.Fatalf("neuron %d: s.d. of the binned responses %v, want below the single-trial s.d. 1", n, sd)
		}
	}
	// Without noise the bins are the trials: s.d. 1.
	quiet := SyntheticV1(SynthOptions{Neurons: 50, Seed: 3, Noise: -1})
	for n, sd := range weightedSD(quiet.Resp, quiet.S, quiet.N, [][]int{trials}, 1e-6, t) {
		if math.Abs(sd-1) > 1e-5 && sd != 0 {
			t.Fatalf("noiseless neuron %d: trial-weighted s.d. %v, want 1 (or 0 if untuned)", n, sd)
		}
	}
	d := SyntheticV1(SynthOptions{Neurons: 1})
	if d.N != 1 || d.S != 360 {
		t.Errorf("1 neuron: S=%d N=%d", d.S, d.N)
	}
	if def := (SynthOptions{}).defaults(DefaultStimuli); def.Neurons != 23589 || def.Stimuli != 360 || def.Noise != 1 {
		t.Errorf("defaults %+v, want 23589 neurons, 360 stimuli, noise 1", def)
	}
}

// circDist180 is the distance between two orientations in degrees,
// modulo 180.
func circDist180(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 180)
	return math.Min(d, 180-d)
}

func TestSyntheticV1Tuning(t *testing.T) {
	const seed, N = 11, 2000
	v := SyntheticV1(SynthOptions{Neurons: N, Seed: seed})
	var errs []float64
	var atPref, atOrth float64
	var nTuned int
	for n := 0; n < N; n++ {
		pref, tuned := SynthPreferredOrientation(seed, n)
		if !tuned {
			continue
		}
		nTuned++
		// Orientation tuning has period 180°: fold the response over
		// θ and θ+180° and smooth over ±5° to find the peak.
		best, bestS := math.Inf(-1), 0
		for s := 0; s < 180; s++ {
			var sum float64
			for k := -5; k <= 5; k++ {
				i := (s + k + 360) % 360
				sum += float64(v.Resp[i*N+n] + v.Resp[((i+180)%360)*N+n])
			}
			if sum > best {
				best, bestS = sum, s
			}
		}
		errs = append(errs, circDist180(float64(v.Stimuli[bestS]), pref))
		p := int(math.Round(pref)) % 360
		o := (p + 90) % 360
		atPref += float64(v.Resp[p*N+n]+v.Resp[((p+180)%360)*N+n]) / 2
		atOrth += float64(v.Resp[o*N+n]+v.Resp[((o+180)%360)*N+n]) / 2
	}
	if frac := float64(nTuned) / N; math.Abs(frac-0.8) > 0.05 {
		t.Errorf("%.3f of neurons tuned, want about 0.8", frac)
	}
	sort.Float64s(errs)
	median := errs[len(errs)/2]
	// With ~12 noisy trials per degree the smoothed peak of a typical
	// neuron lies within a few degrees of its preference; 10° fails for a
	// generator whose tuning and preference disagree (chance is 45°).
	if median > 10 {
		t.Errorf("median |peak − preferred orientation| = %.1f°, want ≤ 10°", median)
	}
	atPref /= float64(nTuned)
	atOrth /= float64(nTuned)
	// In units of the single-trial s.d.: a bin keeps the tuning but only
	// a twelfth of the noise variance.
	if atPref < 0.35 || atOrth > -0.15 {
		t.Errorf("mean z-scored response %.2f at the preferred and %.2f at the orthogonal orientation, want > 0.35 and < −0.15", atPref, atOrth)
	}
	t.Logf("tuned %d/%d, median peak error %.2f°, mean z at preferred %.2f, orthogonal %.2f", nTuned, N, median, atPref, atOrth)
}

// TestSyntheticSingleTrialZScore simulates the recordings' pipeline
// trial by trial for the generator's neurons (each trial its tuning plus
// its noise, every neuron z-scored over all trials, then the trials
// averaged per bin) and compares the binned responses' variance with
// the generator's shortcut (noise drawn for bin means, the within-bin
// scatter by its expectation).
func TestSyntheticSingleTrialZScore(t *testing.T) {
	const seed, N = 8, 400
	v := SyntheticV1(SynthOptions{Neurons: N, Seed: seed})
	_, trials := synthStimuli(seed, v.S)
	rng := rand.New(rand.NewPCG(1, 2))
	var got, want float64
	for n := 0; n < N; n++ {
		p := synthNeuron(seed, n, 1)
		var all []float64
		var bins [][]float64
		for s, k := range trials {
			th := float64(v.Stimuli[s]) * math.Pi / 180
			mu := p.tuning(math.Cos(th), math.Sin(th), math.Cos(2*th), math.Sin(2*th))
			b := make([]float64, k)
			for i := range b {
				b[i] = mu + p.noise*rng.NormFloat64()
			}
			bins, all = append(bins, b), append(all, b...)
		}
		m, sd := meanSD(all)
		binned := make([]float64, len(bins))
		for s, b := range bins {
			bm, _ := meanSD(b)
			binned[s] = (bm - m) / sd
		}
		_, bsd := meanSD(binned)
		want += bsd * bsd / N
		col := make([]float64, v.S)
		for s := range col {
			col[s] = float64(v.Resp[s*N+n])
		}
		_, gsd := meanSD(col)
		got += gsd * gsd / N
	}
	if math.Abs(got/want-1) > 0.03 {
		t.Errorf("mean variance of the binned responses %.4f, trial-by-trial simulation %.4f", got, want)
	}
	t.Logf("mean variance of a neuron's binned responses: generator %.4f, trial by trial %.4f", got, want)
}

func meanSD(x []float64) (m, sd float64) {
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	for _, v := range x {
		sd += (v - m) * (v - m)
	}
	return m, math.Sqrt(sd / float64(len(x)))
}

func TestSyntheticDeterminism(t *testing.T) {
	a := SyntheticV1(SynthOptions{Neurons: 600, Seed: 5})
	b := SyntheticV1(SynthOptions{Neurons: 600, Seed: 5})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("equal options gave different data")
	}
	c := SyntheticV1(SynthOptions{Neurons: 600, Seed: 6})
	if reflect.DeepEqual(a.Resp, c.Resp) {
		t.Fatal("different seeds gave equal data")
	}
	// Neuron n does not depend on the population size.
	small := SyntheticV1(SynthOptions{Neurons: 300, Seed: 5})
	for s := 0; s < a.S; s++ {
		if !reflect.DeepEqual(small.Resp[s*300:(s+1)*300], a.Resp[s*600:s*600+300]) {
			t.Fatalf("stimulus %d: the first 300 neurons differ between N=300 and N=600", s)
		}
	}
	// Nor on the number of goroutines.
	old := runtime.GOMAXPROCS(1)
	one := SyntheticV1(SynthOptions{Neurons: 600, Seed: 5})
	runtime.GOMAXPROCS(old)
	if !reflect.DeepEqual(one, a) {
		t.Fatal("GOMAXPROCS changed the data")
	}
}

func TestSyntheticV1Split(t *testing.T) {
	const N = 1500
	sp := SyntheticV1Split(SynthOptions{Neurons: N, Seed: 2})
	if sp.S != 60 || sp.N != N || len(sp.RespTrain) != 60*N || len(sp.RespTest) != 60*N || !sp.Synthetic {
		t.Fatalf("S=%d N=%d", sp.S, sp.N)
	}
	for s, st := range sp.Stimuli {
		if !(float64(st) >= 6*float64(s) && float64(st) < 6*float64(s+1)) {
			t.Fatalf("stimulus %d = %v, want in [%d,%d)", s, st, 6*s, 6*s+6)
		}
	}
	// z-scored jointly over the single trials of both halves.
	_, trials := synthStimuli(2, sp.S)
	train, test := make([]int, sp.S), make([]int, sp.S)
	for s, k := range trials {
		train[s], test[s] = (k+1)/2, k/2
	}
	both := append(append([]float32(nil), sp.RespTrain...), sp.RespTest...)
	weightedSD(both, sp.S, N, [][]int{train, test}, 1e-6, t)
	// The halves share tuning but not noise: tuned neurons' train and
	// test curves correlate strongly, untuned ones do not.
	var rTuned, rUntuned []float64
	for n := 0; n < N; n++ {
		var sx, sy, sxx, syy, sxy float64
		for s := 0; s < sp.S; s++ {
			x, y := float64(sp.RespTrain[s*N+n]), float64(sp.RespTest[s*N+n])
			sx, sy, sxx, syy, sxy = sx+x, sy+y, sxx+x*x, syy+y*y, sxy+x*y
		}
		k := float64(sp.S)
		r := (sxy - sx*sy/k) / math.Sqrt((sxx-sx*sx/k)*(syy-sy*sy/k))
		if _, tuned := SynthPreferredOrientation(2, n); tuned {
			rTuned = append(rTuned, r)
		} else {
			rUntuned = append(rUntuned, r)
		}
		if reflect.DeepEqual(sp.RespTrain[n:n+1], sp.RespTest[n:n+1]) && sp.RespTrain[n] != 0 {
			t.Fatalf("neuron %d: train and test share noise", n)
		}
	}
	sort.Float64s(rTuned)
	sort.Float64s(rUntuned)
	mt, mu := rTuned[len(rTuned)/2], rUntuned[len(rUntuned)/2]
	if mt < 0.5 || math.Abs(mu) > 0.15 {
		t.Errorf("median train/test correlation %.2f (tuned), %.2f (untuned), want > 0.5 and ≈ 0", mt, mu)
	}
	t.Logf("median train/test correlation: tuned %.3f, untuned %.3f", mt, mu)

	// The same population as SyntheticV1: noiseless 6° tuning curves of
	// both are z-scored samples of the same functions.
	quiet := SynthOptions{Neurons: 50, Seed: 2, Noise: -1, Stimuli: 60}
	a, b := SyntheticV1(quiet), SyntheticV1Split(quiet)
	if !reflect.DeepEqual(a.Stimuli, b.Stimuli) {
		t.Fatal("equal stimulus counts gave different stimuli")
	}
	if i := closeTo(a.Resp, b.RespTrain, 1e-6, 0); i >= 0 {
		t.Errorf("noiseless SyntheticV1 and SyntheticV1Split differ at %d: %v vs %v", i, a.Resp[i], b.RespTrain[i])
	}
	if !reflect.DeepEqual(b.RespTrain, b.RespTest) {
		t.Error("noiseless halves differ")
	}
}

func TestSyntheticRoundTrip(t *testing.T) {
	dir := t.TempDir()
	v := SyntheticV1(SynthOptions{Neurons: 20, Seed: 1})
	sp := SyntheticV1Split(SynthOptions{Neurons: 20, Seed: 1})
	if err := SaveV1(filepath.Join(dir, "v.npz"), v); err != nil {
		t.Fatal(err)
	}
	if err := SaveV1Split(filepath.Join(dir, "s.npz"), sp); err != nil {
		t.Fatal(err)
	}
	w, err := LoadV1(filepath.Join(dir, "v.npz"))
	if err != nil || !reflect.DeepEqual(w, v) {
		t.Errorf("V1 round trip: err %v, equal %v", err, reflect.DeepEqual(w, v))
	}
	sq, err := LoadV1Split(filepath.Join(dir, "s.npz"))
	if err != nil || !reflect.DeepEqual(sq, sp) {
		t.Errorf("split round trip: err %v", err)
	}
}

// BenchmarkSyntheticV1 measures the default data set (360 × 23589).
func BenchmarkSyntheticV1(b *testing.B) {
	for b.Loop() {
		v := SyntheticV1(SynthOptions{Seed: 1})
		b.SetBytes(int64(4 * len(v.Resp)))
	}
}

// BenchmarkSyntheticV1Split measures the default split set (60 × 23589 × 2).
func BenchmarkSyntheticV1Split(b *testing.B) {
	for b.Loop() {
		v := SyntheticV1Split(SynthOptions{Seed: 1})
		b.SetBytes(int64(8 * len(v.RespTrain)))
	}
}

// BenchmarkLoadV1 measures reading the default synthetic file.
func BenchmarkLoadV1(b *testing.B) {
	path := filepath.Join(b.TempDir(), "v.npz")
	if err := SaveV1(path, SyntheticV1(SynthOptions{Seed: 1})); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		v, err := LoadV1(path)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(4 * len(v.Resp)))
	}
}
