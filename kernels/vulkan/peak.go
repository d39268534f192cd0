package vulkan

import (
	"fmt"
	"math"
	"time"

	"github.com/vkneuro/vkneuro/engine"
)

// Peak is a measured FP32 multiply-add rate of a device.
type Peak struct {
	GFLOPS float64       // best of the timed runs
	Flops  float64       // floating-point operations per run (an FMA counts 2)
	Time   time.Duration // device time of the best run
	Timer  string        // "timestamps" or "wall clock" (no timestamps on the queue)
}

// peakFlopsPerIter is peak.comp's work per invocation and iteration:
// eight vec4 FMAs.
const peakFlopsPerIter = 8 * 4 * 2

// peakA and peakB are the recurrence x ← a·x + b of peak.comp.
const peakA, peakB = float32(0.999), float32(0.001)

// peakSize is the work of one peak.comp run: enough invocations to fill
// a large GPU several times, and runs of milliseconds there; far fewer
// on a CPU driver, which would otherwise take minutes.
func peakSize(cpu bool) (invocations, iters int) {
	if cpu {
		return 8192, 2048
	}
	return 1 << 20, 8192
}

// MeasurePeak times peak.comp (runs times, after one warm-up) and
// returns the best rate: the practical FP32 peak that the GEMM's rate is
// compared with (kernels/vulkan benchmarks, cmd/devices -peak). It also
// checks the shader's output against the same recurrence on the CPU, so
// a driver that skipped work cannot report a rate.
func (b *Backend) MeasurePeak(runs int) (Peak, error) {
	if runs < 1 {
		return Peak{}, fmt.Errorf("vulkan: MeasurePeak: %d runs, want at least 1", runs)
	}
	n, iters := peakSize(b.m.Info().CPU)
	y, err := b.m.NewBuffer(n)
	if err != nil {
		return Peak{}, fmt.Errorf("vulkan: MeasurePeak: %w", err)
	}
	defer y.Free()
	timed := b.m.Info().Timestamps
	p := b.newProgram(timed)
	defer p.Close()
	p.peak(y, n, iters)
	if err := p.Run(); err != nil { // warm-up: pipeline, clocks
		return Peak{}, fmt.Errorf("vulkan: MeasurePeak: %w", err)
	}
	res := Peak{Flops: float64(n) * float64(iters) * peakFlopsPerIter, Timer: "wall clock"}
	if timed {
		res.Timer = "timestamps"
	}
	for r := 0; r < runs; r++ {
		start := time.Now()
		if err := p.Run(); err != nil {
			return Peak{}, fmt.Errorf("vulkan: MeasurePeak: %w", err)
		}
		d := time.Since(start)
		if timed {
			d = p.GPUTime()
		}
		if d > 0 && (res.Time == 0 || d < res.Time) {
			res.Time = d
		}
	}
	if res.Time == 0 {
		return Peak{}, fmt.Errorf("vulkan: MeasurePeak: the device reported zero time for %g flops", res.Flops)
	}
	res.GFLOPS = res.Flops / res.Time.Seconds() / 1e9
	got := make([]float32, n)
	if err := b.m.Download(y, got, 0); err != nil {
		return Peak{}, fmt.Errorf("vulkan: MeasurePeak: %w", err)
	}
	for _, i := range []int{0, 1, 15, n - 1} {
		want := peakRef(i, iters)
		// Rounding (see TestPeak) stays far below 1e-3; chains that ran
		// too few iterations would be off by a tenth or more.
		if math.Abs(float64(got[i])-want) > 1e-3*math.Abs(want) {
			return Peak{}, fmt.Errorf("vulkan: MeasurePeak: invocation %d wrote %v, want %v: the timed work was not done", i, got[i], want)
		}
	}
	return res, nil
}

// peakPush is peak.comp's push-constant block.
type peakPush struct {
	N, Iters uint32
	A, B     float32
}

// peak records one peak.comp dispatch over n invocations into y.
func (p *Program) peak(y *engine.Buffer, n, iters int) {
	push := peakPush{N: u32(n), Iters: u32(iters), A: peakA, B: peakB}
	p.dispatch("peak", "peak", []uint32{wgElem, 1, 1}, []*engine.Buffer{y}, push, ceilDiv(n, wgElem), 1, 1)
}

// peakRef is what peak.comp writes for invocation i: the spec of the
// shader, in float32 FMAs as written (a driver may round a·x and the sum
// separately; MeasurePeak's tolerance allows for that).
func peakRef(i, iters int) float64 {
	s := float32(i%16) * 0.0625
	var x [32]float32
	for c := range x {
		x[c] = s + float32(c%4)*0.01 + float32(c/4)*0.1
	}
	for it := 0; it < iters; it++ {
		for c := range x {
			x[c] = float32(math.FMA(float64(x[c]), float64(peakA), float64(peakB)))
		}
	}
	var t [4]float32
	for c := range t {
		t[c] = ((x[c] + x[4+c]) + (x[8+c] + x[12+c])) + ((x[16+c] + x[20+c]) + (x[24+c] + x[28+c]))
	}
	return float64((t[0] + t[1]) + (t[2] + t[3]))
}
