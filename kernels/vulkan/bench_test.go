package vulkan

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/kerneltest"
)

// BenchmarkOps is the shared op benchmark (GFLOP/s from wall time per
// Run, including submit and fence wait), comparable with kernels/cpu.
func BenchmarkOps(b *testing.B) { kerneltest.Bench(b, open(b)) }

// benchOp is one op at one size: shapes of its operands, the recording
// and its floating-point work (multiply-adds count 2).
type benchOp struct {
	op, size string
	shapes   [][]int
	flops    float64
	rec      func(p kernels.Program, t []*kernels.Tensor)
}

// benchOps are the timed ops; gpu adds the large square products where
// a GPU's GEMM should approach its peak (minutes each on a CPU driver).
func benchOps(gpu bool) []benchOp {
	var ops []benchOp
	mm := func(m, n, k int, transB bool, size string) {
		bsh := []int{k, n}
		if transB {
			bsh = []int{n, k}
		}
		ops = append(ops, benchOp{"MatMul", size, [][]int{{m, n}, {m, k}, bsh}, 2 * float64(m) * float64(n) * float64(k),
			func(p kernels.Program, t []*kernels.Tensor) { p.MatMul(t[0], t[1], t[2], false, transB, 1, 0) }})
	}
	mm(256, 256, 256, false, "256x256x256")
	mm(512, 512, 512, false, "512x512x512")
	if gpu {
		mm(2048, 2048, 2048, false, "2048x2048x2048")
		mm(4096, 4096, 4096, false, "4096x4096x4096")
		mm(4096, 4096, 4096, true, "4096x4096x4096,transB")
	}
	// Tutorial 2's decoder: 60 test stimuli × 23,589 neurons → 20 hidden.
	mm(60, 20, 23589, true, "60x20x23589")
	// The full-batch decoder of bench/cmd/compare: 216 stimuli.
	mm(216, 20, 23589, true, "216x20x23589")
	// Its input-layer weight gradient: dW[20, 23589] = dyᵀ·x over 300
	// and 216 stimuli.
	mmTA := func(m, n, k int) {
		ops = append(ops, benchOp{"MatMulTransA", fmt.Sprintf("%dx%dx%d", m, n, k), [][]int{{m, n}, {k, m}, {k, n}}, 2 * float64(m) * float64(n) * float64(k),
			func(p kernels.Program, t []*kernels.Tensor) { p.MatMul(t[0], t[1], t[2], true, false, 1, 0) }})
	}
	mmTA(20, 23589, 300)
	mmTA(20, 23589, 216)
	// The encoding model's input gradient dX[60, 1152] = dY·W over
	// 23,589 neurons: k deep enough to be split under llvmpipe's loop
	// limit (see loopBudget).
	mm(60, 1152, 23589, false, "60x1152x23589")

	// Tutorial 3's convolution: 6 filters of 7×7 on 48×64 gratings, padding 3.
	cp := kernels.Conv2DParams{PadH: 3, PadW: 3}
	const n, c, h, w, o, k = 100, 1, 48, 64, 6, 7
	x, wt, y := []int{n, c, h, w}, []int{o, c, k, k}, []int{n, o, h, w}
	convFlops := 2.0 * n * o * h * w * c * k * k
	size := "100x1x48x64,6x7x7"
	ops = append(ops,
		benchOp{"Conv2D", size, [][]int{y, x, wt, {o}}, convFlops,
			func(p kernels.Program, t []*kernels.Tensor) { p.Conv2D(t[0], t[1], t[2], t[3], cp) }},
		benchOp{"Conv2DBackwardInput", size, [][]int{x, y, wt}, convFlops,
			func(p kernels.Program, t []*kernels.Tensor) { p.Conv2DBackwardInput(t[0], t[1], t[2], cp) }},
		benchOp{"Conv2DBackwardWeight", size, [][]int{wt, {o}, y, x}, convFlops,
			func(p kernels.Program, t []*kernels.Tensor) { p.Conv2DBackwardWeight(t[0], t[1], t[2], t[3], cp) }},
	)
	pp := kernels.Pool2DParams{KernelH: 4, KernelW: 4}
	py := []int{n, o, h / 4, w / 4}
	ops = append(ops,
		benchOp{"MaxPool2D", "100x6x48x64,4x4", [][]int{py, py, y}, float64(n * o * h * w),
			func(p kernels.Program, t []*kernels.Tensor) { p.MaxPool2D(t[0], t[1], t[2], pp) }},
		benchOp{"Softmax", "1000x10", [][]int{{1000, 10}, {1000, 10}}, 4 * 1000 * 10,
			func(p kernels.Program, t []*kernels.Tensor) { p.Softmax(t[0], t[1], 1, true) }},
		benchOp{"ReLU", "1M", [][]int{{1 << 20}, {1 << 20}}, 1 << 20,
			func(p kernels.Program, t []*kernels.Tensor) { p.ReLU(t[0], t[1]) }},
		benchOp{"MSELoss", "1M", [][]int{{1}, {1 << 20}, {1 << 20}}, 3 << 20,
			func(p kernels.Program, t []*kernels.Tensor) { p.MSELoss(t[0], t[1], t[2]) }},
		benchOp{"SGD", "1M", [][]int{{1 << 20}, {1 << 20}, {1 << 20}, {kernels.StepStateLen}}, 5 << 20,
			func(p kernels.Program, t []*kernels.Tensor) {
				p.SGD(t[0], t[1], t[2], t[3], kernels.SGDParams{Momentum: 0.9})
			}},
		benchOp{"AvgPool2D", "100x6x48x64,4x4", [][]int{py, y}, float64(n * o * h * w),
			func(p kernels.Program, t []*kernels.Tensor) { p.AvgPool2D(t[0], t[1], pp) }},
		benchOp{"AvgPool2DBackward", "100x6x48x64,4x4", [][]int{y, py}, float64(n * o * h * w),
			func(p kernels.Program, t []*kernels.Tensor) { p.AvgPool2DBackward(t[0], t[1], pp) }},
		benchOp{"Tanh", "1M", [][]int{{1 << 20}, {1 << 20}}, 1 << 20,
			func(p kernels.Program, t []*kernels.Tensor) { p.Tanh(t[0], t[1]) }},
		benchOp{"Softplus", "1M", [][]int{{1 << 20}, {1 << 20}}, 1 << 20,
			func(p kernels.Program, t []*kernels.Tensor) { p.Softplus(t[0], t[1], 1, 20) }},
		benchOp{"Dropout", "1M", [][]int{{1 << 20}, {1 << 20}, {kernels.StepStateLen}}, 1 << 20,
			func(p kernels.Program, t []*kernels.Tensor) { p.Dropout(t[0], t[1], t[2], 0.5, 1) }},
		benchOp{"BCEWithLogitsLoss", "1M", [][]int{{1}, {1 << 20}, {1 << 20}}, 4 << 20,
			func(p kernels.Program, t []*kernels.Tensor) { p.BCEWithLogitsLoss(t[0], t[1], t[2]) }},
		benchOp{"Adam", "1M", [][]int{{1 << 20}, {1 << 20}, {1 << 20}, {1 << 20}, {kernels.StepStateLen}}, 12 << 20,
			func(p kernels.Program, t []*kernels.Tensor) {
				p.Adam(t[0], t[1], t[2], t[3], t[4], kernels.AdamParams{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
			}},
	)
	return ops
}

// BenchmarkPeak measures the device's FP32 peak with peak.comp (see
// Backend.MeasurePeak): the rate the GEMM is compared with.
func BenchmarkPeak(b *testing.B) {
	be := open(b)
	var pk Peak
	for i := 0; i < b.N; i++ {
		var err error
		if pk, err = be.MeasurePeak(3); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(pk.GFLOPS, "GFLOP/s")
}

// BenchmarkGPUTime times each op as a one-op Program with timestamps:
// gpu-ms/op is the device time of the dispatches alone, GFLOP/s the
// wall-clock rate as in BenchmarkOps, and for matrix products gpu-GFLOP/s
// the rate in device time and %peak that rate against the device's
// measured FP32 peak (BenchmarkPeak). Matrix products run with vec4 and
// with scalar tile loads (see matmul.comp).
func BenchmarkGPUTime(b *testing.B) {
	be := open(b)
	rng := rand.New(rand.NewPCG(1, 1))
	defer func(v bool) { vecLoads = v }(vecLoads)
	pk, err := be.MeasurePeak(3)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: FP32 peak %.1f GFLOP/s (%s)", be.Device(), pk.GFLOPS, pk.Timer)
	for _, bo := range benchOps(!be.m.Info().CPU) {
		loads := []string{""}
		if strings.HasPrefix(bo.op, "MatMul") {
			loads = []string{"/loads=vec4", "/loads=scalar"}
		}
		for _, l := range loads {
			vecLoads = l != "/loads=scalar"
			benchGPUTime(b, be, rng, bo, l, pk.GFLOPS)
		}
	}
}

func benchGPUTime(b *testing.B, be *Backend, rng *rand.Rand, bo benchOp, suffix string, peak float64) {
	b.Run(fmt.Sprintf("op=%s/backend=vulkan/size=%s%s", bo.op, bo.size, suffix), func(b *testing.B) {
		ts := make([]*kernels.Tensor, len(bo.shapes))
		for i, s := range bo.shapes {
			ts[i] = tensor(b, be, uniform(rng, kernels.Numel(s), -1, 1), s...)
			defer be.Free(ts[i])
		}
		p := be.NewTimedProgram()
		defer p.Close()
		bo.rec(p, ts)
		if err := p.Err(); err != nil {
			b.Fatal(err)
		}
		if err := p.Run(); err != nil { // warm-up: pipelines, first-touch
			b.Fatal(err)
		}
		var gpu time.Duration
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := p.Run(); err != nil {
				b.Fatal(err)
			}
			gpu += p.GPUTime()
		}
		b.StopTimer()
		b.ReportMetric(bo.flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		b.ReportMetric(gpu.Seconds()*1e3/float64(b.N), "gpu-ms/op")
		if strings.HasPrefix(bo.op, "MatMul") && gpu > 0 {
			rate := bo.flops * float64(b.N) / gpu.Seconds() / 1e9
			b.ReportMetric(rate, "gpu-GFLOP/s")
			b.ReportMetric(100*rate/peak, "%peak")
		}
	})
}
