package data

import (
	"math"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"testing"
)

// zStats returns each neuron's mean and population s.d. over rows.
func zStats(resp []float32, S, N int) (mean, sd []float64) {
	mean, sd = make([]float64, N), make([]float64, N)
	for n := 0; n < N; n++ {
		var s, ss float64
		for i := 0; i < S; i++ {
			s += float64(resp[i*N+n])
		}
		m := s / float64(S)
		for i := 0; i < S; i++ {
			d := float64(resp[i*N+n]) - m
			ss += d * d
		}
		mean[n], sd[n] = m, math.Sqrt(ss/float64(S))
	}
	return mean, sd
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
	// z-scored per neuron: float32 storage of values |z| ≲ 5 keeps the
	// mean within 1e-6 and the s.d. within 1e-6 of 1.
	mean, sd := zStats(v.Resp, v.S, v.N)
	for n := range mean {
		if math.Abs(mean[n]) > 1e-6 || math.Abs(sd[n]-1) > 1e-6 {
			t.Fatalf("neuron %d: mean %v, s.d. %v, want 0 and 1", n, mean[n], sd[n])
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
	if atPref < 1 || atOrth > -0.2 {
		t.Errorf("mean z-scored response %.2f at the preferred and %.2f at the orthogonal orientation, want > 1 and < −0.2", atPref, atOrth)
	}
	t.Logf("tuned %d/%d, median peak error %.2f°, mean z at preferred %.2f, orthogonal %.2f", nTuned, N, median, atPref, atOrth)
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
	// z-scored jointly: over both halves each neuron has mean 0, s.d. 1.
	both := append(append([]float32(nil), sp.RespTrain...), sp.RespTest...)
	mean, sd := zStats(both, 2*sp.S, N)
	for n := range mean {
		if math.Abs(mean[n]) > 1e-6 || math.Abs(sd[n]-1) > 1e-6 {
			t.Fatalf("neuron %d: joint mean %v, s.d. %v", n, mean[n], sd[n])
		}
	}
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
