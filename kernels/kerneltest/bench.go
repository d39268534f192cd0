package kerneltest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
)

// BenchOptions tune Bench.
type BenchOptions struct {
	// Large adds shapes beyond the tutorials' (e.g. a 1024³ GEMM) and the
	// biggest tutorial workloads. Bench sets it unless testing.Short().
	Large bool
}

// Bench benchmarks every op at the tutorials' shapes and larger ones, as
// sub-benchmarks named op=…/backend=…/size=…, each reporting GFLOP/s
// (nominal FLOPs: 2 per multiply-add, 1 per compare or add, a few per exp).
// Call it from a backend's benchmark:
//
//	func BenchmarkOps(b *testing.B) { kerneltest.Bench(b, cpu.New()) }
func Bench(b *testing.B, be kernels.Backend) {
	BenchWith(b, be, BenchOptions{Large: !testing.Short()})
}

// benchCase is one op at one size: setup allocates and fills tensors and
// records the op; flops is the nominal work of one Run.
type benchCase struct {
	op, size string
	large    bool
	flops    float64
	setup    func(bs *benchSetup, p kernels.Program)
}

// benchSetup allocates random tensors for one benchmark.
type benchSetup struct {
	b   *testing.B
	be  kernels.Backend
	rng *rand.Rand
	all []*kernels.Tensor
}

// tensor allocates a tensor filled with values uniform in [lo, hi).
func (s *benchSetup) tensor(lo, hi float64, shape ...int) *kernels.Tensor {
	t, err := s.be.NewTensor(shape...)
	if err != nil {
		s.b.Fatalf("NewTensor(%v): %v", shape, err)
	}
	s.all = append(s.all, t)
	v := make([]float32, t.Len())
	for i := range v {
		v[i] = float32(lo + (hi-lo)*s.rng.Float64())
	}
	if err := s.be.Upload(t, v); err != nil {
		s.b.Fatal(err)
	}
	return t
}

func (s *benchSetup) rnd(shape ...int) *kernels.Tensor { return s.tensor(-1, 1, shape...) }

// state allocates the step state of an optimizer's step 3.
func (s *benchSetup) state() *kernels.Tensor {
	t := s.tensor(0, 1, kernels.StepStateLen)
	if err := s.be.Upload(t, stepState(1e-3, 3)); err != nil {
		s.b.Fatal(err)
	}
	return t
}

// classes allocates n class indices in [0, c).
func (s *benchSetup) classes(n, c int) *kernels.Tensor {
	t := s.tensor(0, 1, n)
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(s.rng.IntN(c))
	}
	if err := s.be.Upload(t, v); err != nil {
		s.b.Fatal(err)
	}
	return t
}

// argmax allocates a valid pooling argmax for input planes of h×w.
func (s *benchSetup) argmax(hw int, shape ...int) *kernels.Tensor {
	t := s.tensor(0, 1, shape...)
	v := make([]float32, t.Len())
	for i := range v {
		v[i] = float32(s.rng.IntN(hw))
	}
	if err := s.be.Upload(t, v); err != nil {
		s.b.Fatal(err)
	}
	return t
}

func matmulCases() []benchCase {
	type mm struct {
		what    string
		m, k, n int
		tA, tB  bool
		large   bool
	}
	var cs []benchCase
	for _, c := range []mm{
		{"fc", 1000, 288, 10, false, true, false},  // Tutorial 3 fc forward: x·Wᵀ
		{"fc", 1000, 10, 288, false, false, false}, // fc backward dX = dY·W
		{"fc", 10, 1000, 288, true, false, false},  // fc backward dW = dYᵀ·X
		{"fc", 100, 288, 10, false, true, false},   // batch 100
		{"decode", 252, 23589, 20, false, true, false},
		{"decode", 20, 252, 23589, true, false, false}, // its dW
		{"encode", 60, 1152, 23589, false, true, false},
		{"encode", 23589, 60, 1152, true, false, false},  // its dW
		{"encode", 60, 23589, 1152, false, false, false}, // its dX
		{"square", 256, 256, 256, false, false, false},
		{"square", 1024, 1024, 1024, false, false, true},
	} {
		cs = append(cs, benchCase{
			op: "matmul", size: fmt.Sprintf("%s_%dx%dx%d_tA=%v_tB=%v", c.what, c.m, c.k, c.n, c.tA, c.tB),
			large: c.large, flops: 2 * float64(c.m) * float64(c.n) * float64(c.k),
			setup: func(s *benchSetup, p kernels.Program) {
				ar, ac, br, bc := c.m, c.k, c.k, c.n
				if c.tA {
					ar, ac = ac, ar
				}
				if c.tB {
					br, bc = bc, br
				}
				p.MatMul(s.rnd(c.m, c.n), s.rnd(ar, ac), s.rnd(br, bc), c.tA, c.tB, 1, 0)
			},
		})
	}
	return cs
}

func convCasesBench() []benchCase {
	type cv struct {
		n, c, h, w, o, k, pad int
		large                 bool
	}
	var cs []benchCase
	for _, c := range []cv{
		{100, 1, 48, 64, 6, 7, 3, false},  // Tutorial 3, batch 100
		{1000, 1, 48, 64, 6, 7, 3, false}, // Tutorial 3, full batch
		{32, 16, 32, 32, 32, 3, 1, true},  // a deeper layer, for scale
	} {
		cp := kernels.Conv2DParams{PadH: c.pad, PadW: c.pad}
		g, err := kernels.ConvGeometry("bench", &kernels.Tensor{Shape: []int{c.n, c.c, c.h, c.w}}, &kernels.Tensor{Shape: []int{c.o, c.c, c.k, c.k}}, nil, cp)
		if err != nil {
			panic(err) // the table above is fixed
		}
		size := fmt.Sprintf("%dx%dx%dx%d_w%dx%dx%dx%d_pad%d", c.n, c.c, c.h, c.w, c.o, c.c, c.k, c.k, c.pad)
		xs, ws, ys := []int{c.n, c.c, c.h, c.w}, []int{c.o, c.c, c.k, c.k}, []int{g.N, g.O, g.Ho, g.Wo}
		cs = append(cs,
			benchCase{op: "conv2d", size: size, large: c.large, flops: g.FLOPs(), setup: func(s *benchSetup, p kernels.Program) {
				p.Conv2D(s.rnd(ys...), s.rnd(xs...), s.rnd(ws...), s.rnd(c.o), cp)
			}},
			benchCase{op: "conv2d_backward_input", size: size, large: c.large, flops: g.FLOPs(), setup: func(s *benchSetup, p kernels.Program) {
				p.Conv2DBackwardInput(s.rnd(xs...), s.rnd(ys...), s.rnd(ws...), cp)
			}},
			benchCase{op: "conv2d_backward_weight", size: size, large: c.large, flops: g.FLOPs(), setup: func(s *benchSetup, p kernels.Program) {
				p.Conv2DBackwardWeight(s.rnd(ws...), s.rnd(c.o), s.rnd(ys...), s.rnd(xs...), cp)
			}},
		)
	}
	return cs
}

func poolCasesBench() []benchCase {
	var cs []benchCase
	for _, n := range []int{100, 1000} {
		pp := kernels.Pool2DParams{KernelH: 8, KernelW: 8}
		xs, ys := []int{n, 6, 48, 64}, []int{n, 6, 6, 8}
		size := fmt.Sprintf("%dx6x48x64_k8", n)
		cs = append(cs,
			benchCase{op: "maxpool2d", size: size, flops: float64(kernels.Numel(xs)), setup: func(s *benchSetup, p kernels.Program) {
				p.MaxPool2D(s.rnd(ys...), s.rnd(ys...), s.rnd(xs...), pp)
			}},
			benchCase{op: "maxpool2d_backward", size: size, flops: float64(kernels.Numel(ys)), setup: func(s *benchSetup, p kernels.Program) {
				p.MaxPool2DBackward(s.rnd(xs...), s.rnd(ys...), s.argmax(48*64, ys...), pp)
			}},
		)
		for _, k := range []int{4, 8} {
			pp := kernels.Pool2DParams{KernelH: k, KernelW: k}
			ys := []int{n, 6, 48 / k, 64 / k}
			size := fmt.Sprintf("%dx6x48x64_k%d", n, k)
			cs = append(cs,
				benchCase{op: "avgpool2d", size: size, flops: float64(kernels.Numel(xs)), setup: func(s *benchSetup, p kernels.Program) {
					p.AvgPool2D(s.rnd(ys...), s.rnd(xs...), pp)
				}},
				benchCase{op: "avgpool2d_backward", size: size, flops: float64(kernels.Numel(xs)), setup: func(s *benchSetup, p kernels.Program) {
					p.AvgPool2DBackward(s.rnd(xs...), s.rnd(ys...), pp)
				}},
			)
		}
	}
	return cs
}

// shapeName writes a shape as 1000x6x48x64.
func shapeName(shape []int) string {
	s := ""
	for i, d := range shape {
		if i > 0 {
			s += "x"
		}
		s += fmt.Sprint(d)
	}
	return s
}

func elementwiseCases() []benchCase {
	var cs []benchCase
	shapes := [][]int{{1000, 288}, {100, 6, 48, 64}, {1000, 6, 48, 64}}
	for _, shape := range shapes {
		n := float64(kernels.Numel(shape))
		sz := shapeName(shape)
		add := func(op string, perElem float64, rec func(s *benchSetup, p kernels.Program)) {
			cs = append(cs, benchCase{op: op, size: sz, flops: perElem * n, setup: rec})
		}
		add("fill", 1, func(s *benchSetup, p kernels.Program) { p.Fill(s.rnd(shape...), 0) })
		add("copy", 1, func(s *benchSetup, p kernels.Program) { p.Copy(s.rnd(shape...), s.rnd(shape...)) })
		add("relu", 1, func(s *benchSetup, p kernels.Program) { x := s.rnd(shape...); p.ReLU(x, x) })
		add("relu_backward", 1, func(s *benchSetup, p kernels.Program) {
			p.ReLUBackward(s.rnd(shape...), s.rnd(shape...), s.rnd(shape...))
		})
		add("sigmoid", 4, func(s *benchSetup, p kernels.Program) { p.Sigmoid(s.rnd(shape...), s.rnd(shape...)) })
		add("sigmoid_backward", 3, func(s *benchSetup, p kernels.Program) {
			p.SigmoidBackward(s.rnd(shape...), s.rnd(shape...), s.rnd(shape...))
		})
		add("addbias", 1, func(s *benchSetup, p kernels.Program) { p.AddBias(s.rnd(shape...), s.rnd(shape[1])) })
		add("biasgrad", 1, func(s *benchSetup, p kernels.Program) { p.BiasGrad(s.rnd(shape[1]), s.rnd(shape...)) })
		add("sum", 1, func(s *benchSetup, p kernels.Program) { p.Sum(s.rnd(1), s.rnd(shape...)) })
		add("mean", 1, func(s *benchSetup, p kernels.Program) { p.Mean(s.rnd(1), s.rnd(shape...)) })
		add("bce", 8, func(s *benchSetup, p kernels.Program) {
			p.BCELoss(s.rnd(1), s.tensor(0.01, 0.99, shape...), s.tensor(0, 1, shape...))
		})
		add("bce_backward", 6, func(s *benchSetup, p kernels.Program) {
			p.BCEBackward(s.rnd(shape...), s.tensor(0.01, 0.99, shape...), s.tensor(0, 1, shape...))
		})
		add("mse", 3, func(s *benchSetup, p kernels.Program) { p.MSELoss(s.rnd(1), s.rnd(shape...), s.rnd(shape...)) })
		add("mse_backward", 2, func(s *benchSetup, p kernels.Program) {
			p.MSEBackward(s.rnd(shape...), s.rnd(shape...), s.rnd(shape...))
		})
		add("tanh", 4, func(s *benchSetup, p kernels.Program) { p.Tanh(s.rnd(shape...), s.rnd(shape...)) })
		add("tanh_backward", 3, func(s *benchSetup, p kernels.Program) {
			p.TanhBackward(s.rnd(shape...), s.rnd(shape...), s.rnd(shape...))
		})
		add("elu", 4, func(s *benchSetup, p kernels.Program) { p.ELU(s.rnd(shape...), s.rnd(shape...), 1) })
		add("elu_backward", 4, func(s *benchSetup, p kernels.Program) {
			p.ELUBackward(s.rnd(shape...), s.rnd(shape...), s.rnd(shape...), 1)
		})
		add("softplus", 6, func(s *benchSetup, p kernels.Program) { p.Softplus(s.rnd(shape...), s.rnd(shape...), 1, 20) })
		add("softplus_backward", 5, func(s *benchSetup, p kernels.Program) {
			p.SoftplusBackward(s.rnd(shape...), s.rnd(shape...), s.rnd(shape...), 1, 20)
		})
		add("dropout", 2, func(s *benchSetup, p kernels.Program) {
			p.Dropout(s.rnd(shape...), s.rnd(shape...), s.state(), 0.5, 1)
		})
		add("bce_logits", 8, func(s *benchSetup, p kernels.Program) {
			p.BCEWithLogitsLoss(s.rnd(1), s.rnd(shape...), s.tensor(0, 1, shape...))
		})
		add("bce_logits_backward", 6, func(s *benchSetup, p kernels.Program) {
			p.BCEWithLogitsBackward(s.rnd(shape...), s.rnd(shape...), s.tensor(0, 1, shape...))
		})
		add("poisson_nll", 4, func(s *benchSetup, p kernels.Program) {
			p.PoissonNLLLoss(s.rnd(1), s.rnd(shape...), s.tensor(0, 5, shape...), true, 1e-8)
		})
		add("poisson_nll_backward", 3, func(s *benchSetup, p kernels.Program) {
			p.PoissonNLLBackward(s.rnd(shape...), s.rnd(shape...), s.tensor(0, 5, shape...), true, 1e-8)
		})
	}
	// Parameter-sized ops: Tutorial 3's fc weights and the encoder's 23,589×1,152.
	for _, shape := range [][]int{{10, 288}, {23589, 1152}} {
		n := float64(kernels.Numel(shape))
		sz := shapeName(shape)
		add := func(op string, perElem float64, rec func(s *benchSetup, p kernels.Program)) {
			cs = append(cs, benchCase{op: op, size: sz, flops: perElem * n, setup: rec})
		}
		add("l2penalty", 2, func(s *benchSetup, p kernels.Program) { p.L2Penalty(s.rnd(1), s.rnd(shape...), 1e-3) })
		add("l2penalty_grad", 2, func(s *benchSetup, p kernels.Program) { p.L2PenaltyGrad(s.rnd(shape...), s.rnd(shape...), 1e-3) })
		add("l1penalty", 2, func(s *benchSetup, p kernels.Program) { p.L1Penalty(s.rnd(1), s.rnd(shape...), 1e-3) })
		add("l1penalty_grad", 1, func(s *benchSetup, p kernels.Program) { p.L1PenaltyGrad(s.rnd(shape...), s.rnd(shape...), 1e-3) })
		add("sgd", 5, func(s *benchSetup, p kernels.Program) {
			p.SGD(s.rnd(shape...), s.rnd(shape...), s.rnd(shape...), s.state(), kernels.SGDParams{Momentum: 0.9, WeightDecay: 1e-4})
		})
		add("adam", 12, func(s *benchSetup, p kernels.Program) {
			p.Adam(s.rnd(shape...), s.rnd(shape...), s.rnd(shape...), s.tensor(0, 1, shape...), s.state(),
				kernels.AdamParams{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 1e-2, Decoupled: true})
		})
	}
	return cs
}

func classCases() []benchCase {
	var cs []benchCase
	for _, c := range [][2]int{{1000, 10}, {1000, 1000}} {
		n, k := c[0], c[1]
		sz := fmt.Sprintf("%dx%d", n, k)
		e := float64(n * k)
		cs = append(cs,
			benchCase{op: "softmax", size: sz, flops: 5 * e, setup: func(s *benchSetup, p kernels.Program) { p.Softmax(s.rnd(n, k), s.rnd(n, k), 1, false) }},
			benchCase{op: "logsoftmax", size: sz, flops: 5 * e, setup: func(s *benchSetup, p kernels.Program) { p.Softmax(s.rnd(n, k), s.rnd(n, k), 1, true) }},
			benchCase{op: "softmax_backward", size: sz, flops: 4 * e, setup: func(s *benchSetup, p kernels.Program) {
				p.SoftmaxBackward(s.rnd(n, k), s.rnd(n, k), s.tensor(0, 1, n, k), 1, false)
			}},
			benchCase{op: "logsoftmax_backward", size: sz, flops: 4 * e, setup: func(s *benchSetup, p kernels.Program) {
				p.SoftmaxBackward(s.rnd(n, k), s.rnd(n, k), s.tensor(-5, 0, n, k), 1, true)
			}},
			benchCase{op: "nll", size: sz, flops: float64(n), setup: func(s *benchSetup, p kernels.Program) {
				p.NLLLoss(s.rnd(1), s.rnd(n, k), s.classes(n, k))
			}},
			benchCase{op: "nll_backward", size: sz, flops: e, setup: func(s *benchSetup, p kernels.Program) {
				p.NLLBackward(s.rnd(n, k), s.classes(n, k))
			}},
		)
	}
	return cs
}

// BenchWith is Bench with explicit options.
func BenchWith(b *testing.B, be kernels.Backend, o BenchOptions) {
	var cases []benchCase
	cases = append(cases, matmulCases()...)
	cases = append(cases, convCasesBench()...)
	cases = append(cases, poolCasesBench()...)
	cases = append(cases, classCases()...)
	cases = append(cases, elementwiseCases()...)
	for _, c := range cases {
		if c.large && !o.Large {
			continue
		}
		b.Run(fmt.Sprintf("op=%s/backend=%s/size=%s", c.op, be.Name(), c.size), func(b *testing.B) {
			s := &benchSetup{b: b, be: be, rng: rand.New(rand.NewPCG(1, 2))}
			defer func() {
				for _, t := range s.all {
					be.Free(t)
				}
			}()
			p := be.NewProgram()
			defer p.Close()
			c.setup(s, p)
			if err := p.Err(); err != nil {
				b.Fatal(err)
			}
			if err := p.Run(); err != nil { // warm up: first-use costs are not the op's
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := p.Run(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if sec := b.Elapsed().Seconds(); sec > 0 {
				b.ReportMetric(c.flops*float64(b.N)/sec/1e9, "GFLOP/s")
			}
		})
	}
}
