package cpu

import (
	"fmt"
	"math"
	"time"
)

// The machine's ceilings for the roofline of a training step
// (bench/roofline): the FP32 multiply-add rate of each vector width the
// backend's loops use, and streaming memory bandwidth by working-set
// size.

// Peak is a measured FP32 multiply-add rate on all of the backend's
// threads.
type Peak struct {
	Vector string  // "AVX2+FMA", "AVX-512" or "scalar"
	GFLOPS float64 // best of the timed runs
	Flops  float64 // operations per run, all threads (an FMA counts 2)
	Time   time.Duration
}

// peakLoop is one vector width's FMA loop: chains·lanes independent
// recurrences x ← a·x + b run iters times, returning their sum.
type peakLoop struct {
	vector string
	lanes  int // float32 lanes per chain
	run    func(iters int, a, b float32) float32
}

// peakChains is the number of independent chains every peak loop keeps.
const peakChains = 12

// peakA and peakB keep the recurrence bounded: x → b/(1−a) = 1.
const peakA, peakB = float32(0.999), float32(0.001)

// peakIters is each thread's iteration count per run: tens of
// milliseconds at a few GHz, long enough to reach full clocks.
const peakIters = 1 << 22

// MeasurePeak times each vector width's FMA loop on all threads at once
// (runs times after one warm-up) and returns the best rate of each, the
// widest last. A loop whose chains do not end where the recurrence
// leads is reported as an error: the timed work was not done.
func (b *Backend) MeasurePeak(runs int) ([]Peak, error) {
	if runs < 1 {
		return nil, fmt.Errorf("cpu: MeasurePeak: %d runs, want at least 1", runs)
	}
	p := &Program{b: b}
	var out []Peak
	for _, l := range peakLoops() {
		sums := make([]float32, b.threads)
		body := func(part, _, _ int) { sums[part] = l.run(peakIters, peakA, peakB) }
		pk := Peak{Vector: l.vector, Flops: 2 * float64(peakIters) * peakChains * float64(l.lanes) * float64(b.threads)}
		for r := -1; r < runs; r++ {
			start := time.Now()
			p.parallel(b.threads, 1, body)
			if d := time.Since(start); r >= 0 && (pk.Time == 0 || d < pk.Time) {
				pk.Time = d
			}
		}
		// Every chain converges to 1: the sum is the lane count.
		want := float64(peakChains * l.lanes)
		for i, s := range sums {
			if math.Abs(float64(s)-want) > 1e-3*want {
				return nil, fmt.Errorf("cpu: MeasurePeak: %s loop on thread %d returned %v, want %v", l.vector, i, s, want)
			}
		}
		pk.GFLOPS = pk.Flops / pk.Time.Seconds() / 1e9
		out = append(out, pk)
	}
	return out, nil
}

// peakGeneric is the plain-loop peak loop: twelve scalar chains.
func peakGeneric(iters int, a, b float32) float32 {
	var x [peakChains]float32
	for i := range x {
		x[i] = b
	}
	for range iters {
		for i := range x {
			x[i] = x[i]*a + b
		}
	}
	var s float32
	for _, v := range x {
		s += v
	}
	return s
}

// Bandwidth is the streaming rate of one access pattern over a working
// set of Bytes, all threads together.
type Bandwidth struct {
	Bytes int // working set: the buffers' total size
	// Read sums a buffer (one vector load per element); Write stores
	// zeros into one; Copy copies one buffer into another (half the
	// working set each); Update reads three buffers and writes two of
	// them, an optimizer step's pattern. Each in GB/s of bytes moved
	// (a copy moves its bytes twice).
	Read, Write, Copy, Update float64
}

// MeasureBandwidth times the four patterns of Bandwidth over a working
// set of the given size (rounded to whole vectors), split over the
// threads, and returns the best of runs for each after one warm-up, so
// a working set that fits a cache measures that cache.
func (b *Backend) MeasureBandwidth(bytes, runs int) (Bandwidth, error) {
	if runs < 1 || bytes < 4096 {
		return Bandwidth{}, fmt.Errorf("cpu: MeasureBandwidth: %d bytes, %d runs: want at least 4096 bytes and 1 run", bytes, runs)
	}
	n := bytes / 4 / 64 * 64
	bw := Bandwidth{Bytes: 4 * n}
	x := make([]float32, n)
	for i := range x {
		x[i] = 1
	}
	p := &Program{b: b}
	sums := make([]float32, b.threads)
	best := func(moved int, body func(part, lo, hi int), m int) float64 {
		var t time.Duration
		for r := -1; r < runs; r++ {
			start := time.Now()
			p.parallel(m, 4096, body)
			if d := time.Since(start); r >= 0 && (t == 0 || d < t) {
				t = d
			}
		}
		return float64(moved) / t.Seconds() / 1e9
	}
	bw.Read = best(4*n, func(part, lo, hi int) { sums[part] = dot(x[lo:hi], x[lo:hi]) }, n)
	bw.Write = best(4*n, func(_, lo, hi int) { clear(x[lo:hi]) }, n)
	half := n / 2
	dst, src := x[:half], x[half:2*half]
	bw.Copy = best(8*half, func(_, lo, hi int) { copy(dst[lo:hi], src[lo:hi]) }, half)
	third := n / 3
	u, g, v := x[:third], x[third:2*third], x[2*third:3*third]
	bw.Update = best(20*third, func(_, lo, hi int) {
		// v += g, then u −= 1e-3·v, a cache-sized piece at a time: the
		// vector loops' version of an optimizer step's traffic.
		for i := lo; i < hi; i += 1024 {
			j := min(i+1024, hi)
			axpy(v[i:j], 1, g[i:j])
			axpy(u[i:j], -1e-3, v[i:j])
		}
	}, third)
	return bw, nil
}
