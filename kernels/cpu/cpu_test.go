package cpu_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/kernels/kerneltest"
)

var _ kernels.Backend = (*cpu.Backend)(nil)

func TestConformance(t *testing.T) { kerneltest.Run(t, cpu.New()) }

func BenchmarkOps(b *testing.B) { kerneltest.Bench(b, cpu.New()) }

// maker returns a function that allocates tensors of b, failing tb.
func maker(tb testing.TB, b kernels.Backend) func(shape ...int) *kernels.Tensor {
	return func(shape ...int) *kernels.Tensor {
		x, err := b.NewTensor(shape...)
		if err != nil {
			tb.Fatal(err)
		}
		return x
	}
}

// tutorial3Step records one SGD step (momentum 0.99) of Tutorial 3's
// network on a batch of n 48×64 gratings: conv 1→6 7×7 pad 3, ReLU, max
// pool 8, linear 288→10, ReLU, linear 10→1, sigmoid, BCE, all backwards
// and the updates of the six parameter tensors. Tensors hold zeros, which
// is fine for timing and allocation counts.
func tutorial3Step(tb testing.TB, b kernels.Backend, n int) kernels.Program {
	tb.Helper()
	mk := maker(tb, b)
	view := func(x *kernels.Tensor, shape ...int) *kernels.Tensor {
		v, err := x.Reshape(shape...)
		if err != nil {
			tb.Fatal(err)
		}
		return v
	}
	x, target := mk(n, 1, 48, 64), mk(n, 1)
	cw, cb, fw, fb, ow, ob := mk(6, 1, 7, 7), mk(6), mk(10, 288), mk(10), mk(1, 10), mk(1)
	params := []*kernels.Tensor{cw, cb, fw, fb, ow, ob}
	y, am, pooled := mk(n, 6, 48, 64), mk(n, 6, 6, 8), mk(n, 6, 6, 8)
	flat := view(pooled, n, 288)
	h, o, loss := mk(n, 10), mk(n, 1), mk(1)
	do, dh, dflat := mk(n, 1), mk(n, 10), mk(n, 288)
	dy := mk(n, 6, 48, 64)
	grads := []*kernels.Tensor{mk(6, 1, 7, 7), mk(6), mk(10, 288), mk(10), mk(1, 10), mk(1)}
	dcw, dcb, dfw, dfb, dow, dob := grads[0], grads[1], grads[2], grads[3], grads[4], grads[5]
	cp := kernels.Conv2DParams{PadH: 3, PadW: 3}
	pp := kernels.Pool2DParams{KernelH: 8, KernelW: 8}
	p := b.NewProgram()
	p.Conv2D(y, x, cw, cb, cp)
	p.ReLU(y, y)
	p.MaxPool2D(pooled, am, y, pp)
	p.MatMul(h, flat, fw, false, true, 1, 0)
	p.AddBias(h, fb)
	p.ReLU(h, h)
	p.MatMul(o, h, ow, false, true, 1, 0)
	p.AddBias(o, ob)
	p.Sigmoid(o, o)
	p.BCELoss(loss, o, target)
	p.BCEBackward(do, o, target)
	p.SigmoidBackward(do, do, o)
	p.MatMul(dow, do, h, true, false, 1, 0)
	p.BiasGrad(dob, do)
	p.MatMul(dh, do, ow, false, false, 1, 0)
	p.ReLUBackward(dh, dh, h)
	p.MatMul(dfw, dh, flat, true, false, 1, 0)
	p.BiasGrad(dfb, dh)
	p.MatMul(dflat, dh, fw, false, false, 1, 0)
	p.MaxPool2DBackward(dy, view(dflat, n, 6, 6, 8), am, pp)
	p.ReLUBackward(dy, dy, y)
	p.Conv2DBackwardWeight(dcw, dcb, dy, x, cp)
	state := mk(kernels.StepStateLen)
	for i, w := range params {
		p.SGD(w, grads[i], mk(w.Shape...), state, kernels.SGDParams{Momentum: 0.99})
	}
	if err := p.Err(); err != nil {
		tb.Fatal(err)
	}
	return p
}

// extendedOpsStep records every op of the extended op set, forward and
// backward, on tensors large enough to be split over goroutines, with
// the step state written by the Program as a training step does.
func extendedOpsStep(tb testing.TB, b kernels.Backend, state []float32) kernels.Program {
	tb.Helper()
	mk := maker(tb, b)
	const n = 1 << 17
	x, y, dy, dx, loss := mk(n), mk(n), mk(n), mk(n), mk(1)
	img, pooled, dimg := mk(4, 6, 48, 64), mk(4, 6, 12, 16), mk(4, 6, 48, 64)
	st := mk(kernels.StepStateLen)
	pp := kernels.Pool2DParams{KernelH: 4, KernelW: 4}
	p := b.NewProgram()
	p.Write(st, state)
	p.Tanh(y, x)
	p.TanhBackward(dx, dy, y)
	p.ELU(y, x, 1)
	p.ELUBackward(dx, dy, x, 1)
	p.Softplus(y, x, 1, 20)
	p.SoftplusBackward(dx, dy, x, 1, 20)
	p.Dropout(y, x, st, 0.5, 7)
	p.DropoutBackward(dx, dy, st, 0.5, 7)
	p.AvgPool2D(pooled, img, pp)
	p.AvgPool2DBackward(dimg, pooled, pp)
	p.BCEWithLogitsLoss(loss, x, y)
	p.BCEWithLogitsBackward(dx, x, y)
	p.PoissonNLLLoss(loss, x, y, true, 1e-8)
	p.PoissonNLLBackward(dx, x, y, false, 1e-8)
	p.SGD(x, dx, y, st, kernels.SGDParams{Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4})
	p.Adam(x, dx, y, dy, st, kernels.AdamParams{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-2, Decoupled: true})
	if err := p.Err(); err != nil {
		tb.Fatal(err)
	}
	return p
}

// fusedOpsStep records the fused ops at the normative and decoder
// shapes, with penalties into a loss and both optimizers.
func fusedOpsStep(tb testing.TB, b kernels.Backend, state []float32) kernels.Program {
	tb.Helper()
	mk := maker(tb, b)
	x, w, bias := mk(8, 1, 48, 64), mk(6, 1, 7, 7), mk(6)
	pooled, am, y := mk(8, 6, 6, 8), mk(8, 6, 6, 8), mk(8, 6, 48, 64)
	dw, db, dx := mk(6, 1, 7, 7), mk(6), mk(8, 1, 48, 64)
	lw, dy, lx, lb, lb2 := mk(20, 3000), mk(64, 20), mk(64, 3000), mk(20, 3000), mk(20, 3000)
	st, loss := mk(kernels.StepStateLen), mk(1)
	cp := kernels.ConvPoolParams{Conv: kernels.Conv2DParams{PadH: 3, PadW: 3}, ReLU: true, Pool: kernels.Pool2DParams{KernelH: 8, KernelW: 8}}
	sgd := kernels.UpdateParams{L1: 1e-3, L2: 1e-2, SGD: &kernels.SGDParams{Momentum: 0.9}}
	adam := kernels.UpdateParams{L1: 1e-3, Adam: &kernels.AdamParams{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}}
	p := b.NewProgram()
	p.Write(st, state)
	p.Conv2DMaxPool(pooled, am, y, nil, x, w, bias, cp)
	p.Conv2DMaxPoolBackward(dw, db, dx, pooled, pooled, am, x, w, cp)
	p.LinearWeightUpdate(lw, dy, lx, lb, nil, st, loss, sgd)
	p.LinearWeightUpdate(lw, dy, lx, lb, lb2, st, loss, adam)
	p.Update(w, dw, mk(6, 1, 7, 7), nil, st, loss, sgd)
	if err := p.Err(); err != nil {
		tb.Fatal(err)
	}
	return p
}

// TestRunDoesNotAllocate checks that running a training step allocates
// nothing: all scratch is made when ops are recorded.
func TestRunDoesNotAllocate(t *testing.T) {
	b := cpu.New()
	defer b.Close()
	state := make([]float32, kernels.StepStateLen)
	kernels.FillStepState(state, 3, 1e-3, 0.9, 0.999, 1e-2)
	for name, p := range map[string]kernels.Program{
		"tutorial 3 step": tutorial3Step(t, b, 8),
		"extended ops":    extendedOpsStep(t, b, state),
		"fused ops":       fusedOpsStep(t, b, state),
	} {
		defer p.Close()
		if allocs := testing.AllocsPerRun(5, func() {
			if err := p.Run(); err != nil {
				t.Fatal(err)
			}
		}); allocs != 0 {
			t.Errorf("%s: Program.Run allocates %v times per run, want 0", name, allocs)
		}
	}
}

// BenchmarkTrainStep times one recorded SGD step of Tutorial 3's network
// (tutorial3Step) on batches of 100 and 1000, the workload PyTorch CPU is
// compared on.
func BenchmarkTrainStep(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("net=tutorial3/backend=cpu/batch=%d", n), func(b *testing.B) {
			be := cpu.New()
			defer be.Close()
			p := tutorial3Step(b, be, n)
			defer p.Close()
			if err := p.Run(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGonumSgemm is gonum's blas32.Gemm (pure Go, multi-threaded) on
// the MatMul shapes of BenchmarkOps, the baseline MatMul is measured against.
func BenchmarkGonumSgemm(b *testing.B) {
	for _, c := range []struct {
		what    string
		m, k, n int
		tA, tB  bool
	}{
		{"fc", 1000, 288, 10, false, true},
		{"fc", 1000, 10, 288, false, false},
		{"fc", 10, 1000, 288, true, false},
		{"decode", 252, 23589, 20, false, true},
		{"decode", 20, 252, 23589, true, false},
		{"encode", 60, 1152, 23589, false, true},
		{"encode", 23589, 60, 1152, true, false},
		{"encode", 60, 23589, 1152, false, false},
		{"square", 256, 256, 256, false, false},
	} {
		b.Run(fmt.Sprintf("size=%s_%dx%dx%d_tA=%v_tB=%v", c.what, c.m, c.k, c.n, c.tA, c.tB), func(b *testing.B) {
			ar, ac, br, bc := c.m, c.k, c.k, c.n
			ta, tb := blas.NoTrans, blas.NoTrans
			if c.tA {
				ar, ac, ta = ac, ar, blas.Trans
			}
			if c.tB {
				br, bc, tb = bc, br, blas.Trans
			}
			rng := rand.New(rand.NewPCG(1, 2))
			fill := func(n int) []float32 {
				v := make([]float32, n)
				for i := range v {
					v[i] = rng.Float32()*2 - 1
				}
				return v
			}
			a := blas32.General{Rows: ar, Cols: ac, Stride: ac, Data: fill(ar * ac)}
			bm := blas32.General{Rows: br, Cols: bc, Stride: bc, Data: fill(br * bc)}
			cm := blas32.General{Rows: c.m, Cols: c.n, Stride: c.n, Data: make([]float32, c.m*c.n)}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				blas32.Gemm(ta, tb, 1, a, bm, 0, cm)
			}
			b.ReportMetric(2*float64(c.m)*float64(c.n)*float64(c.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// TestConformanceThreads runs the suite's regular shapes with one
// goroutine (no worker pool) and with three (uneven splits).
func TestConformanceThreads(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprint("threads=", n), func(t *testing.T) {
			b := cpu.New(cpu.Threads(n))
			defer b.Close()
			kerneltest.RunWith(t, b, kerneltest.RunOptions{})
		})
	}
}

// TestRunErrors checks the errors only running can find that the suite
// does not (it checks NLL class indices, kerneltest's NLLTargets): argmax
// values are data, not shapes.
func TestRunErrors(t *testing.T) {
	b := cpu.New()
	defer b.Close()
	mk := func(v []float32, shape ...int) *kernels.Tensor {
		x, err := b.NewTensor(shape...)
		if err != nil {
			t.Fatal(err)
		}
		if v != nil {
			if err := b.Upload(x, v); err != nil {
				t.Fatal(err)
			}
		}
		return x
	}
	t.Run("MaxPool2DBackward argmax out of range", func(t *testing.T) {
		dx, dy, am := mk(nil, 1, 1, 4, 4), mk(nil, 1, 1, 2, 2), mk([]float32{0, 3, 16, 5}, 1, 1, 2, 2)
		err := kernels.Run1(b, func(p kernels.Program) {
			p.MaxPool2DBackward(dx, dy, am, kernels.Pool2DParams{KernelH: 2, KernelW: 2})
		})
		if err == nil || !strings.Contains(err.Error(), "argmax value 16") {
			t.Errorf("Run: %v, want an error naming argmax value 16", err)
		}
	})
	t.Run("closed backend", func(t *testing.T) {
		b2 := cpu.New()
		x := mk(nil, 3)
		p := b2.NewProgram()
		p.Fill(x, 1)
		b2.Close()
		if err := p.Run(); err == nil {
			t.Error("Run after Close: no error")
		}
		if _, err := b2.NewTensor(3); err == nil {
			t.Error("NewTensor after Close: no error")
		}
		if err := b2.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
	t.Run("foreign tensor", func(t *testing.T) {
		foreign := &kernels.Tensor{Shape: []int{3}, Storage: "not a slice"}
		p := b.NewProgram()
		defer p.Close()
		p.ReLU(foreign, foreign)
		if err := p.Err(); err == nil || !strings.Contains(err.Error(), "not a CPU tensor") {
			t.Errorf("Err: %v, want an error about a non-CPU tensor", err)
		}
	})
}
