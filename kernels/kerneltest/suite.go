package kerneltest

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
)

// RunOptions tune Run.
type RunOptions struct {
	// Large adds the tutorials' full-size shapes (batch-1000 convolution
	// and pooling, the 23,589-wide linear layers). Run sets it unless
	// testing.Short().
	Large bool
}

// Run checks b against the spec. Call it from a backend's test:
//
//	func TestConformance(t *testing.T) { kerneltest.Run(t, cpu.New()) }
func Run(t *testing.T, b kernels.Backend) {
	RunWith(t, b, RunOptions{Large: !testing.Short()})
}

// RunWith is Run with explicit options.
func RunWith(t *testing.T, b kernels.Backend, o RunOptions) {
	t.Helper()
	t.Logf("backend %s on %s", b.Name(), b.Device())
	t.Run("FillCopy", func(t *testing.T) { testFillCopy(t, b) })
	t.Run("MatMul", func(t *testing.T) { testMatMul(t, b, o) })
	t.Run("Bias", func(t *testing.T) { testBias(t, b) })
	t.Run("Conv2D", func(t *testing.T) { testConv(t, b, o) })
	t.Run("MaxPool2D", func(t *testing.T) { testPool(t, b, o) })
	t.Run("Softmax", func(t *testing.T) { testSoftmax(t, b) })
	t.Run("Elementwise", func(t *testing.T) { testElementwise(t, b, o) })
	t.Run("Reductions", func(t *testing.T) { testReductions(t, b) })
	t.Run("Losses", func(t *testing.T) { testLosses(t, b) })
	t.Run("Penalties", func(t *testing.T) { testPenalties(t, b) })
	t.Run("SGD", func(t *testing.T) { testSGD(t, b) })
	t.Run("Activations", func(t *testing.T) { testActivations(t, b) })
	t.Run("Dropout", func(t *testing.T) { testDropout(t, b) })
	t.Run("AvgPool2D", func(t *testing.T) { testAvgPool(t, b, o) })
	t.Run("BCEWithLogits", func(t *testing.T) { testBCEWithLogits(t, b, o) })
	t.Run("PoissonNLL", func(t *testing.T) { testPoissonNLL(t, b, o) })
	t.Run("NLLTargets", func(t *testing.T) { testNLLTargets(t, b) })
	t.Run("Adam", func(t *testing.T) { testAdam(t, b) })
	t.Run("Update", func(t *testing.T) { testUpdate(t, b) })
	t.Run("LinearWeightUpdate", func(t *testing.T) { testLinearWeightUpdate(t, b, o) })
	t.Run("Conv2DMaxPool", func(t *testing.T) { testConv2DMaxPool(t, b, o) })
	t.Run("Conv2DMaxPoolGradients", func(t *testing.T) { testConv2DMaxPoolFD(t, b) })
	t.Run("FusedBadOperands", func(t *testing.T) { testFusedBadOperands(t, b) })
	t.Run("Free", func(t *testing.T) { testFree(t, b) })
	t.Run("Aliasing", func(t *testing.T) { testAliasing(t, b) })
	t.Run("ProgramReuse", func(t *testing.T) { testProgramReuse(t, b) })
	t.Run("ProgramReuseConv", func(t *testing.T) { testProgramReuseConv(t, b) })
	t.Run("WriteRead", func(t *testing.T) { testWriteRead(t, b) })
	t.Run("StickyError", func(t *testing.T) { testStickyError(t, b) })
	t.Run("BadShapes", func(t *testing.T) { testBadShapes(t, b) })
	t.Run("PyTorch", func(t *testing.T) { testGolden(t, b) })
	t.Run("Gradients", func(t *testing.T) { testGradients(t, b) })
}

// tileEdges are sizes on both sides of the usual tile and workgroup edges.
var tileEdges = []int{1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129}

// elemSizes are lengths for element-wise ops: tiny, odd, and larger than
// a workgroup and a CPU backend's parallel grain.
var elemSizes = []int{1, 7, 64, 1000, 65537}

func testFillCopy(t *testing.T, b kernels.Backend) {
	for _, n := range elemSizes {
		t.Run(fmt.Sprint("n=", n), func(t *testing.T) {
			h := newHarness(t, b, uint64(n))
			src := h.uniform(n, -1, 1)
			x := h.in("src", src, n)
			dst := h.out(float32(math.NaN()), n)
			filled := h.out(float32(math.NaN()), n)
			h.run(func(p kernels.Program) {
				p.Copy(dst, x)
				p.Fill(filled, 2.5)
			})
			check(t, "Copy", h.get(dst), f64(src), 0, 0)
			check(t, "Fill", h.get(filled), f64(constant(n, 2.5)), 0, 0)
		})
	}
	t.Run("reshaped view", func(t *testing.T) {
		// Copy needs equal lengths, not shapes: [2,3] into [6].
		h := newHarness(t, b, 1)
		src := h.uniform(6, -1, 1)
		x := h.in("src", src, 2, 3)
		dst := h.out(0, 6)
		h.run(func(p kernels.Program) { p.Copy(dst, x) })
		check(t, "Copy", h.get(dst), f64(src), 0, 0)
	})
}

// matmulCase is c[m,n] = op(a)·op(b) with op(a) m×k.
type matmulCase struct {
	m, k, n int
	large   bool
	// trans lists the (transA, transB) pairs to run; nil means all four.
	// Large cases name only the products their layer computes: the spec
	// costs seconds there.
	trans [][2]bool
}

// Transpositions of the linear layers' products: y = x·Wᵀ, dX = dY·W,
// dW = dYᵀ·X.
var (
	linForward = [][2]bool{{false, true}}
	linInput   = [][2]bool{{false, false}}
	linWeight  = [][2]bool{{true, false}}
)

func testMatMul(t *testing.T, b kernels.Backend, o RunOptions) {
	var cases []matmulCase
	for _, s := range tileEdges {
		cases = append(cases, matmulCase{s, s, s, false, nil}, matmulCase{s, 17, 33, false, nil}, matmulCase{7, s, 3, false, nil}, matmulCase{3, 5, s, false, nil})
	}
	cases = append(cases,
		matmulCase{1, 1, 1, false, nil},
		matmulCase{2, 3, 5, false, nil},
		matmulCase{1000, 288, 10, false, nil}, // Tutorial 3 fc: x·Wᵀ, dX = dY·W, dW = dYᵀ·X below
		matmulCase{1000, 10, 288, false, nil},
		matmulCase{10, 1000, 288, false, nil},
		// Deep k: CPU drivers (llvmpipe) end all loops of an invocation
		// after 65535 iterations in all, so a backend that runs too much
		// of k in one invocation drops the rest (kernels/vulkan did, from
		// k ≈ 7,000 with small tiles).
		matmulCase{16, 65536, 16, false, nil},
		matmulCase{3, 1 << 20, 2, false, nil},
		// Decoding: 23,589 neurons → 20 latents, and its weight gradient.
		matmulCase{252, 23589, 20, true, linForward},
		matmulCase{20, 252, 23589, true, linWeight},
		// Encoding: 1,152 features → 23,589 neurons, the input gradient
		// (k = 23,589, which llvmpipe's loop limit cut short) and the
		// weight gradient.
		matmulCase{60, 1152, 23589, true, linForward},
		matmulCase{60, 23589, 1152, true, linInput},
		matmulCase{23589, 60, 1152, true, linWeight},
	)
	for ci, c := range cases {
		if c.large && !o.Large {
			continue
		}
		trans := c.trans
		if trans == nil {
			trans = [][2]bool{{false, false}, {false, true}, {true, false}, {true, true}}
		}
		for _, tr := range trans {
			tA, tB := tr[0], tr[1]
			name := fmt.Sprintf("m=%d,k=%d,n=%d,tA=%v,tB=%v", c.m, c.k, c.n, tA, tB)
			t.Run(name, func(t *testing.T) {
				h := newHarness(t, b, uint64(ci))
				ar, ac := c.m, c.k
				if tA {
					ar, ac = ac, ar
				}
				br, bc := c.k, c.n
				if tB {
					br, bc = bc, br
				}
				av, bv := h.uniform(ar*ac, -1, 1), h.uniform(br*bc, -1, 1)
				a, bt := h.in("a", av, ar, ac), h.in("b", bv, br, bc)
				// Alternate between overwriting a NaN-filled c (beta = 0 must
				// not read c) and accumulating into a random c.
				alpha, beta := float32(0.75), float32(0)
				cv := constant(c.m*c.n, float32(math.NaN()))
				if ci%2 == 1 {
					alpha, beta = 1, -0.5
					cv = h.uniform(c.m*c.n, -1, 1)
				}
				ct := h.mut(cv, c.m, c.n)
				h.run(func(p kernels.Program) { p.MatMul(ct, a, bt, tA, tB, alpha, beta) })
				want := specMatMul(f64(cv), f64(av), f64(bv), ar, ac, br, bc, tA, tB, float64(alpha), float64(beta))
				atol, rtol := dotTol(c.k, math.Abs(float64(alpha))*rms(av)*rms(bv))
				check(t, "c", h.get(ct), want, atol, rtol)
			})
		}
	}
}

func testBias(t *testing.T, b kernels.Backend) {
	for _, shape := range [][]int{{1, 1}, {7, 3}, {1000, 10}, {3, 6, 5, 7}, {2, 17, 33}} {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			h := newHarness(t, b, uint64(len(shape)*100+shape[1]))
			n := kernels.Numel(shape)
			outer, f, inner := shape[0], shape[1], n/(shape[0]*shape[1])
			xv, bv := h.uniform(n, -1, 1), h.uniform(f, -1, 1)
			x, bias := h.mut(xv, shape...), h.in("bias", bv, f)
			dy := h.in("dy", xv, shape...)
			db := h.out(float32(math.NaN()), f)
			h.run(func(p kernels.Program) {
				p.AddBias(x, bias)
				p.BiasGrad(db, dy)
			})
			// x + b rounds once.
			check(t, "AddBias", h.get(x), specAddBias(f64(xv), f64(bv), outer, f, inner), 2*eps32, 2*eps32)
			atol, rtol := dotTol(outer*inner, rms(xv))
			check(t, "BiasGrad", h.get(db), specBiasGrad(f64(xv), outer, f, inner), atol, rtol)
		})
	}
}

// convCase is a convolution geometry; large ones run only with o.Large.
type convCase struct {
	n, c, h, w, o, kh, kw int
	p                     kernels.Conv2DParams
	large                 bool
}

func (c convCase) String() string {
	return fmt.Sprintf("x=%dx%dx%dx%d,w=%dx%dx%dx%d,stride=%d,%d,pad=%d,%d", c.n, c.c, c.h, c.w, c.o, c.c, c.kh, c.kw, c.p.StrideH, c.p.StrideW, c.p.PadH, c.p.PadW)
}

var convCases = []convCase{
	{n: 1, c: 1, h: 1, w: 1, o: 1, kh: 1, kw: 1},
	{n: 2, c: 3, h: 5, w: 7, o: 4, kh: 3, kw: 3, p: kernels.Conv2DParams{PadH: 1, PadW: 1}},
	{n: 2, c: 2, h: 9, w: 8, o: 3, kh: 3, kw: 2, p: kernels.Conv2DParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
	{n: 1, c: 1, h: 7, w: 7, o: 1, kh: 7, kw: 7},
	{n: 3, c: 2, h: 17, w: 16, o: 5, kh: 5, kw: 5, p: kernels.Conv2DParams{StrideH: 2, StrideW: 3, PadH: 2}},
	{n: 2, c: 1, h: 3, w: 4, o: 2, kh: 5, kw: 5, p: kernels.Conv2DParams{PadH: 1, PadW: 2}}, // kernel larger than the input, not the padded input
	{n: 1, c: 16, h: 15, w: 17, o: 17, kh: 3, kw: 3, p: kernels.Conv2DParams{PadH: 1, PadW: 1}},
	{n: 1, c: 3, h: 33, w: 31, o: 2, kh: 1, kw: 1, p: kernels.Conv2DParams{StrideH: 2, StrideW: 2}},
	{n: 3, c: 1, h: 48, w: 64, o: 6, kh: 7, kw: 7, p: kernels.Conv2DParams{PadH: 3, PadW: 3}},                 // Tutorial 3's layer, small batch
	{n: 1000, c: 1, h: 48, w: 64, o: 6, kh: 7, kw: 7, p: kernels.Conv2DParams{PadH: 3, PadW: 3}, large: true}, // Tutorial 3's full batch
}

func testConv(t *testing.T, b kernels.Backend, o RunOptions) {
	for ci, c := range convCases {
		if c.large && !o.Large {
			continue
		}
		t.Run(c.String(), func(t *testing.T) {
			h := newHarness(t, b, uint64(1000+ci))
			xt := &kernels.Tensor{Shape: []int{c.n, c.c, c.h, c.w}}
			wt := &kernels.Tensor{Shape: []int{c.o, c.c, c.kh, c.kw}}
			g, err := kernels.ConvGeometry("spec", xt, wt, nil, c.p)
			if err != nil {
				t.Fatal(err)
			}
			xv := h.uniform(xt.Len(), -1, 1)
			wv := h.uniform(wt.Len(), -1, 1)
			bv := h.uniform(c.o, -1, 1)
			dyv := h.uniform(g.N*g.O*g.Ho*g.Wo, -1, 1)
			x, w := h.in("x", xv, xt.Shape...), h.in("w", wv, wt.Shape...)
			bias := h.in("bias", bv, c.o)
			dy := h.in("dy", dyv, g.N, g.O, g.Ho, g.Wo)
			nan := float32(math.NaN())
			y := h.out(nan, g.N, g.O, g.Ho, g.Wo)
			yNoBias := h.out(nan, g.N, g.O, g.Ho, g.Wo)
			dx := h.out(nan, xt.Shape...)
			dw := h.out(nan, wt.Shape...)
			db := h.out(nan, c.o)
			dw2 := h.out(nan, wt.Shape...)
			h.run(func(p kernels.Program) {
				p.Conv2D(y, x, w, bias, c.p)
				p.Conv2D(yNoBias, x, w, nil, c.p)
				p.Conv2DBackwardInput(dx, dy, w, c.p)
				p.Conv2DBackwardWeight(dw, db, dy, x, c.p)
				p.Conv2DBackwardWeight(dw2, nil, dy, x, c.p)
			})
			k := c.c * c.kh * c.kw
			atol, rtol := dotTol(k, rms(xv)*rms(wv))
			check(t, "y", h.get(y), specConv2D(f64(xv), f64(wv), f64(bv), g), atol, rtol)
			check(t, "y without bias", h.get(yNoBias), specConv2D(f64(xv), f64(wv), nil, g), atol, rtol)
			atol, rtol = dotTol(c.o*c.kh*c.kw, rms(dyv)*rms(wv))
			check(t, "dx", h.get(dx), specConv2DBackwardInput(f64(dyv), f64(wv), g), atol, rtol)
			wantDW, wantDB := specConv2DBackwardWeight(f64(dyv), f64(xv), g)
			atol, rtol = dotTol(g.N*g.Ho*g.Wo, rms(dyv)*rms(xv))
			check(t, "dw", h.get(dw), wantDW, atol, rtol)
			check(t, "dw (no db)", h.get(dw2), wantDW, atol, rtol)
			atol, rtol = dotTol(g.N*g.Ho*g.Wo, rms(dyv))
			check(t, "db", h.get(db), wantDB, atol, rtol)
		})
	}
}

// poolCase is a max-pool geometry; large ones run only with o.Large.
type poolCase struct {
	n, c, h, w int
	p          kernels.Pool2DParams
	ties       bool // inputs drawn from a few values, so windows hold ties
	large      bool
}

var poolCases = []poolCase{
	{n: 1, c: 1, h: 1, w: 1, p: kernels.Pool2DParams{KernelH: 1, KernelW: 1}},
	{n: 2, c: 3, h: 8, w: 8, p: kernels.Pool2DParams{KernelH: 2, KernelW: 2}},
	{n: 2, c: 2, h: 9, w: 7, p: kernels.Pool2DParams{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}}, // overlapping windows
	{n: 1, c: 2, h: 10, w: 13, p: kernels.Pool2DParams{KernelH: 3, KernelW: 2, StrideH: 1, StrideW: 3}},
	{n: 2, c: 3, h: 9, w: 11, p: kernels.Pool2DParams{KernelH: 2, KernelW: 3, StrideH: 1, StrideW: 1}, ties: true},
	{n: 1, c: 1, h: 17, w: 33, p: kernels.Pool2DParams{KernelH: 4, KernelW: 4}, ties: true},
	{n: 2, c: 2, h: 16, w: 24, p: kernels.Pool2DParams{KernelH: 8, KernelW: 8}, ties: true},                         // 8-wide windows (vector paths) with ties
	{n: 1, c: 3, h: 13, w: 21, p: kernels.Pool2DParams{KernelH: 3, KernelW: 8, StrideH: 2, StrideW: 4}, ties: true}, // overlapping 8-wide windows
	{n: 10, c: 6, h: 48, w: 64, p: kernels.Pool2DParams{KernelH: 8, KernelW: 8}},                                    // Tutorial 3's pool, small batch
	{n: 1000, c: 6, h: 48, w: 64, p: kernels.Pool2DParams{KernelH: 8, KernelW: 8}, large: true},                     // and its full batch
}

func testPool(t *testing.T, b kernels.Backend, o RunOptions) {
	for ci, c := range poolCases {
		if c.large && !o.Large {
			continue
		}
		name := fmt.Sprintf("x=%dx%dx%dx%d,k=%dx%d,stride=%d,%d,ties=%v", c.n, c.c, c.h, c.w, c.p.KernelH, c.p.KernelW, c.p.StrideH, c.p.StrideW, c.ties)
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, b, uint64(2000+ci))
			xt := &kernels.Tensor{Shape: []int{c.n, c.c, c.h, c.w}}
			g, _ := poolGeom(t, xt.Shape, c.p)
			xv := h.uniform(xt.Len(), -1, 1)
			if c.ties {
				for i := range xv {
					xv[i] = float32(math.Round(float64(xv[i]) * 1.5)) // values in {-2,...,2}: frequent ties
				}
			}
			ov := g.N * g.C * g.Ho * g.Wo
			dyv := h.uniform(ov, -1, 1)
			x := h.in("x", xv, xt.Shape...)
			dy := h.in("dy", dyv, g.N, g.C, g.Ho, g.Wo)
			nan := float32(math.NaN())
			y, am := h.out(nan, g.N, g.C, g.Ho, g.Wo), h.out(nan, g.N, g.C, g.Ho, g.Wo)
			dx := h.out(nan, xt.Shape...)
			h.run(func(p kernels.Program) {
				p.MaxPool2D(y, am, x, c.p)
				p.MaxPool2DBackward(dx, dy, am, c.p)
			})
			wantY, wantAM := specMaxPool2D(f64(xv), g)
			// The max and its index are exact.
			check(t, "y", h.get(y), wantY, 0, 0)
			check(t, "argmax", h.get(am), wantAM, 0, 0)
			// Overlapping windows add up to ⌈K/S⌉² gradients per input.
			adds := ((g.KH + g.StrideH - 1) / g.StrideH) * ((g.KW + g.StrideW - 1) / g.StrideW)
			atol, rtol := dotTol(adds, rms(dyv))
			check(t, "dx", h.get(dx), specMaxPool2DBackward(f64(dyv), wantAM, g), atol, rtol)
		})
	}
}

func testSoftmax(t *testing.T, b kernels.Backend) {
	type sc struct {
		shape []int
		dim   int
	}
	for ci, c := range []sc{
		{[]int{1, 1}, 1}, {[]int{5, 10}, 1}, {[]int{1000, 10}, 1}, {[]int{3, 129}, -1},
		{[]int{3, 4, 5}, 0}, {[]int{3, 4, 5}, 1}, {[]int{3, 4, 5}, 2}, {[]int{2, 17, 3, 5}, 1}, {[]int{7}, 0},
	} {
		for _, log := range []bool{false, true} {
			t.Run(fmt.Sprintf("shape=%v,dim=%d,log=%v", c.shape, c.dim, log), func(t *testing.T) {
				h := newHarness(t, b, uint64(3000+ci))
				xt := &kernels.Tensor{Shape: c.shape}
				outer, n, inner, err := kernels.AxisDims("spec", xt, c.dim)
				if err != nil {
					t.Fatal(err)
				}
				// Inputs up to ±8 with an offset of 40: without max
				// subtraction exp would lose all precision (e^48 ≫ 2^24 ulp).
				xv := h.uniform(xt.Len(), 32, 48)
				x := h.in("x", xv, c.shape...)
				y := h.out(float32(math.NaN()), c.shape...)
				h.run(func(p kernels.Program) { p.Softmax(y, x, c.dim, log) })
				want := specSoftmax(f64(xv), outer, n, inner, log)
				// exp and log in float32 are good to a few ulp; the
				// normaliser sums n terms in (0, 1] (sumTol). Log-softmax
				// subtracts numbers up to ~16 + log n, so its absolute
				// error is a few ulp of those.
				atol, rtol := 1e-7, sumTol(n)
				if log {
					atol = 16 * eps32 * (16 + math.Log(float64(n)))
				}
				gotY := h.get(y)
				check(t, "y", gotY, want, atol, rtol)

				// Backward uses the backend's own forward output, as training does.
				dyv := h.uniform(xt.Len(), -1, 1)
				yIn := h.in("y", gotY, c.shape...)
				dy := h.in("dy", dyv, c.shape...)
				dx := h.out(float32(math.NaN()), c.shape...)
				h.run(func(p kernels.Program) { p.SoftmaxBackward(dx, dy, yIn, c.dim, log) })
				wantDX := specSoftmaxBackward(f64(dyv), f64(gotY), outer, n, inner, log)
				// dx = y·(dy − Σ dy·y) or dy − e^y·Σ dy: one n-term dot product.
				atol, rtol = dotTol(n, rms(dyv))
				check(t, "dx", h.get(dx), wantDX, atol+1e-7, rtol+16*eps32)
			})
		}
	}
}

func testElementwise(t *testing.T, b kernels.Backend, o RunOptions) {
	sizes := elemSizes
	if o.Large {
		sizes = append(sizes[:len(sizes):len(sizes)], 1000*6*48*64) // Tutorial 3's conv activations
	}
	for _, n := range sizes {
		t.Run(fmt.Sprint("n=", n), func(t *testing.T) {
			h := newHarness(t, b, uint64(4000+n))
			xv := h.uniform(n, -6, 6)
			if n > 3 {
				xv[0], xv[1] = 0, float32(math.Copysign(0, -1)) // ReLU'(0) and the sign of zero
			}
			dyv := h.uniform(n, -1, 1)
			x, dy := h.in("x", xv, n), h.in("dy", dyv, n)
			nan := float32(math.NaN())
			r, s := h.out(nan, n), h.out(nan, n)
			h.run(func(p kernels.Program) {
				p.ReLU(r, x)
				p.Sigmoid(s, x)
			})
			gotR, gotS := h.get(r), h.get(s)
			check(t, "ReLU", gotR, specReLU(f64(xv)), 0, 0)
			// exp is good to a few ulp; 1/(1+e) adds two roundings.
			check(t, "Sigmoid", gotS, specSigmoid(f64(xv)), 1e-9, 32*eps32)

			rIn, sIn := h.in("relu y", gotR, n), h.in("sigmoid y", gotS, n)
			dr, ds := h.out(nan, n), h.out(nan, n)
			h.run(func(p kernels.Program) {
				p.ReLUBackward(dr, dy, rIn)
				p.SigmoidBackward(ds, dy, sIn)
			})
			check(t, "ReLUBackward", h.get(dr), specReLUBackward(f64(dyv), f64(gotR)), 0, 0)
			// dy·y·(1−y): three roundings.
			check(t, "SigmoidBackward", h.get(ds), specSigmoidBackward(f64(dyv), f64(gotS)), 1e-12, 8*eps32)
		})
	}
}

func testReductions(t *testing.T, b kernels.Backend) {
	for _, n := range elemSizes {
		t.Run(fmt.Sprint("n=", n), func(t *testing.T) {
			h := newHarness(t, b, uint64(5000+n))
			xv := h.uniform(n, -1, 1)
			x := h.in("x", xv, n)
			sum, mean := h.out(float32(math.NaN()), 1), h.out(float32(math.NaN()), 1)
			h.run(func(p kernels.Program) {
				p.Sum(sum, x)
				p.Mean(mean, x)
			})
			atol, rtol := dotTol(n, rms(xv))
			checkScalar(t, "Sum", h.get(sum)[0], specSum(f64(xv)), atol, rtol)
			checkScalar(t, "Mean", h.get(mean)[0], specMean(f64(xv)), atol/float64(n), rtol)
		})
	}
}

func testPenalties(t *testing.T, b kernels.Backend) {
	for _, n := range elemSizes {
		t.Run(fmt.Sprint("n=", n), func(t *testing.T) {
			h := newHarness(t, b, uint64(8000+n))
			wv := h.uniform(n, -1, 1)
			if n > 2 {
				wv[0], wv[1] = 0, float32(math.Copysign(0, -1)) // sign(±0) = 0
			}
			dv1, dv2 := h.uniform(n, -1, 1), h.uniform(n, -1, 1)
			w := h.in("w", wv, n)
			// The penalties add into what is there: start from non-zero values.
			l2, l1 := h.mut([]float32{1.5}, 1), h.mut([]float32{-0.25}, 1)
			d2, d1 := h.mut(dv1, n), h.mut(dv2, n)
			const c2, c1 = 1e-3, 0.05
			h.run(func(p kernels.Program) {
				p.L2Penalty(l2, w, c2)
				p.L2PenaltyGrad(d2, w, c2)
				p.L1Penalty(l1, w, c1)
				p.L1PenaltyGrad(d1, w, c1)
			})
			checkScalar(t, "L2Penalty", h.get(l2)[0], specL2Penalty(1.5, f64(wv), c2), 1e-7, sumTol(n))
			checkScalar(t, "L1Penalty", h.get(l1)[0], specL1Penalty(-0.25, f64(wv), c1), 1e-7, sumTol(n))
			// d + c·w: two roundings; atol for cancellation against d ~ 1.
			check(t, "L2PenaltyGrad", h.get(d2), specL2PenaltyGrad(f64(dv1), f64(wv), c2), 2*eps32, 4*eps32)
			check(t, "L1PenaltyGrad", h.get(d1), specL1PenaltyGrad(f64(dv2), f64(wv), c1), 2*eps32, 4*eps32)
		})
	}
}

// testAliasing checks the in-place forms the docs allow.
func testAliasing(t *testing.T, b kernels.Backend) {
	h := newHarness(t, b, 10000)
	const n = 1031
	xv, dyv := h.uniform(n, -3, 3), h.uniform(n, -1, 1)
	r, s := h.mut(xv, n), h.mut(xv, n)
	h.run(func(p kernels.Program) {
		p.ReLU(r, r)
		p.Sigmoid(s, s)
	})
	gotR, gotS := h.get(r), h.get(s)
	check(t, "ReLU in place", gotR, specReLU(f64(xv)), 0, 0)
	check(t, "Sigmoid in place", gotS, specSigmoid(f64(xv)), 1e-9, 32*eps32)
	dr, ds := h.mut(dyv, n), h.mut(dyv, n)
	h.run(func(p kernels.Program) {
		p.ReLUBackward(dr, dr, r)
		p.SigmoidBackward(ds, ds, s)
	})
	check(t, "ReLUBackward in place", h.get(dr), specReLUBackward(f64(dyv), f64(gotR)), 0, 0)
	check(t, "SigmoidBackward in place", h.get(ds), specSigmoidBackward(f64(dyv), f64(gotS)), 1e-12, 8*eps32)
}

// testProgramReuse records a small network once and runs it three times
// with new inputs uploaded between runs.
func testProgramReuse(t *testing.T, b kernels.Backend) {
	h := newHarness(t, b, 11000)
	const batch, in, hidden, classes = 9, 13, 7, 5
	wv, bv := h.uniform(hidden*in, -1, 1), h.uniform(hidden, -1, 1)
	x, tg := h.newTensor(batch, in), h.newTensor(batch)
	w, bias := h.in("w", wv, hidden, in), h.in("b", bv, hidden)
	z, logp := h.newTensor(batch, hidden), h.newTensor(batch, hidden)
	loss, total := h.newTensor(1), h.mut([]float32{0}, 1)
	prog := b.NewProgram()
	defer prog.Close()
	prog.MatMul(z, x, w, false, true, 1, 0)
	prog.AddBias(z, bias)
	prog.ReLU(z, z)
	prog.Softmax(logp, z, 1, true)
	prog.NLLLoss(loss, logp, tg)
	prog.L1Penalty(total, loss, 1) // total += loss: accumulates across runs
	if err := prog.Err(); err != nil {
		t.Fatal(err)
	}
	var runningTotal float64
	for run := 0; run < 3; run++ {
		xv, tv := h.uniform(batch*in, -1, 1), h.classes(batch, classes)
		h.upload(x, xv)
		h.upload(tg, tv)
		if err := prog.Run(); err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
		zw := specMatMul(nil, f64(xv), f64(wv), batch, in, hidden, in, false, true, 1, 0)
		zw = specReLU(specAddBias(zw, f64(bv), batch, hidden, 1))
		lw := specSoftmax(zw, batch, hidden, 1, true)
		want := specNLLLoss(lw, f64(tv), batch, hidden)
		runningTotal += math.Abs(want)
		got := h.get(loss)[0]
		// Through a 13-term matmul and a log-softmax of 7.
		checkScalar(t, fmt.Sprintf("run %d: loss", run+1), got, want, 1e-5, 1e-5)
		checkScalar(t, fmt.Sprintf("run %d: running total", run+1), h.get(total)[0], runningTotal, 3e-5, 1e-5)
	}
}

// testWriteRead checks Program.Write and Program.Read: every Run starts
// by copying the Write's source as it is at Run time and ends by copying
// the Read tensor as the Run left it (ops recorded after the Read
// included) into its destination; several of each, of any length, work;
// a host slice of the wrong length and a Write after an op are refused.
func testWriteRead(t *testing.T, b kernels.Backend) {
	h := newHarness(t, b, 11002)
	for _, n := range elemSizes {
		t.Run(fmt.Sprint("n=", n), func(t *testing.T) {
			x := h.out(float32(math.NaN()), n)
			c := h.out(float32(math.NaN()), 1)
			y := h.out(float32(math.NaN()), n)
			s := h.out(float32(math.NaN()), 1)
			xs, cs := make([]float32, n), make([]float32, 1)
			dy, ds := make([]float32, n), make([]float32, 1)
			prog := b.NewProgram()
			defer prog.Close()
			prog.Write(x, xs)
			prog.Write(c, cs)
			prog.Fill(y, 3)
			prog.Read(dy, y) // recorded before the ReLU, reads after it
			prog.ReLU(y, x)
			prog.Sum(s, y)
			prog.L1Penalty(s, c, 1) // s += |c| (c > 0)
			prog.Read(ds, s)
			if err := prog.Err(); err != nil {
				t.Fatal(err)
			}
			for run := 0; run < 3; run++ {
				xv := h.uniform(n, -1, 1)
				copy(xs, xv)
				cs[0] = float32(run) + 0.5
				for i := range dy {
					dy[i] = float32(math.NaN())
				}
				ds[0] = float32(math.NaN())
				if err := prog.Run(); err != nil {
					t.Fatalf("run %d: %v", run+1, err)
				}
				want := specReLU(f64(xv))
				check(t, fmt.Sprintf("run %d: Read of relu(x)", run+1), dy, want, 0, 0)
				sum := float64(cs[0])
				for _, v := range want {
					sum += v
				}
				checkScalar(t, fmt.Sprintf("run %d: Read of the sum", run+1), ds[0], sum, sumTol(n), sumTol(n))
				check(t, fmt.Sprintf("run %d: x after Write", run+1), h.get(x), f64(xv), 0, 0)
				check(t, fmt.Sprintf("run %d: y after Read", run+1), h.get(y), want, 0, 0)
			}
		})
	}
	x := h.newTensor(2, 3)
	t.Run("ReadLength", func(t *testing.T) {
		expectErr(t, b, func(p kernels.Program) { p.Read(make([]float32, 5), x) }, "Read", "dst", "5", "[2 3]")
	})
	t.Run("WriteLength", func(t *testing.T) {
		expectErr(t, b, func(p kernels.Program) { p.Write(x, make([]float32, 7)) }, "Write", "src", "7", "[2 3]")
	})
	t.Run("WriteAfterOp", func(t *testing.T) {
		expectErr(t, b, func(p kernels.Program) {
			p.Fill(x, 1)
			p.Write(x, make([]float32, 6))
		}, "Write", "before the first op")
	})
}

// testProgramReuseConv runs a recorded convolution, pool and their
// backwards three times with new inputs: scratch memory a backend keeps
// between runs (padded planes, partial sums) must not leak results from
// one run into the next.
func testProgramReuseConv(t *testing.T, b kernels.Backend) {
	h := newHarness(t, b, 11001)
	cp := kernels.Conv2DParams{PadH: 2, PadW: 1}
	pp := kernels.Pool2DParams{KernelH: 2, KernelW: 2}
	xs, ws := []int{3, 2, 9, 10}, []int{4, 2, 5, 3}
	g, err := kernels.ConvGeometry("spec", &kernels.Tensor{Shape: xs}, &kernels.Tensor{Shape: ws}, nil, cp)
	if err != nil {
		t.Fatal(err)
	}
	ys := []int{g.N, g.O, g.Ho, g.Wo}
	pg, ps := poolGeom(t, ys, pp)
	x, w, dy := h.newTensor(xs...), h.newTensor(ws...), h.newTensor(ys...)
	y, pooled, am, dpool := h.newTensor(ys...), h.newTensor(ps...), h.newTensor(ps...), h.newTensor(ps...)
	dyPool, dx, dw, db := h.newTensor(ys...), h.newTensor(xs...), h.newTensor(ws...), h.newTensor(g.O)
	prog := b.NewProgram()
	defer prog.Close()
	prog.Conv2D(y, x, w, nil, cp)
	prog.MaxPool2D(pooled, am, y, pp)
	prog.MaxPool2DBackward(dyPool, dpool, am, pp)
	prog.Conv2DBackwardInput(dx, dy, w, cp)
	prog.Conv2DBackwardWeight(dw, db, dy, x, cp)
	if err := prog.Err(); err != nil {
		t.Fatal(err)
	}
	for run := 0; run < 3; run++ {
		xv, wv := h.uniform(kernels.Numel(xs), -1, 1), h.uniform(kernels.Numel(ws), -1, 1)
		dyv, dpv := h.uniform(kernels.Numel(ys), -1, 1), h.uniform(kernels.Numel(ps), -1, 1)
		h.upload(x, xv)
		h.upload(w, wv)
		h.upload(dy, dyv)
		h.upload(dpool, dpv)
		if err := prog.Run(); err != nil {
			t.Fatalf("run %d: %v", run+1, err)
		}
		name := func(s string) string { return fmt.Sprintf("run %d: %s", run+1, s) }
		gotY := h.get(y)
		atol, rtol := dotTol(g.C*g.KH*g.KW, rms(xv)*rms(wv))
		check(t, name("y"), gotY, specConv2D(f64(xv), f64(wv), nil, g), atol, rtol)
		wantP, wantAM := specMaxPool2D(f64(gotY), pg)
		check(t, name("pooled"), h.get(pooled), wantP, 0, 0)
		check(t, name("argmax"), h.get(am), wantAM, 0, 0)
		check(t, name("pool dx"), h.get(dyPool), specMaxPool2DBackward(f64(dpv), wantAM, pg), 0, 0)
		atol, rtol = dotTol(g.O*g.KH*g.KW, rms(dyv)*rms(wv))
		check(t, name("dx"), h.get(dx), specConv2DBackwardInput(f64(dyv), f64(wv), g), atol, rtol)
		wantDW, wantDB := specConv2DBackwardWeight(f64(dyv), f64(xv), g)
		atol, rtol = dotTol(g.N*g.Ho*g.Wo, rms(dyv)*rms(xv))
		check(t, name("dw"), h.get(dw), wantDW, atol, rtol)
		atol, rtol = dotTol(g.N*g.Ho*g.Wo, rms(dyv))
		check(t, name("db"), h.get(db), wantDB, atol, rtol)
	}
}

// testStickyError checks that the first bad op puts a Program into an
// error state that later ops do not change and Run reports.
func testStickyError(t *testing.T, b kernels.Backend) {
	h := newHarness(t, b, 12000)
	a, c := h.newTensor(3, 4), h.newTensor(3, 5)
	x := h.mut([]float32{1, 2, 3}, 3)
	p := b.NewProgram()
	defer p.Close()
	p.Fill(x, 7)
	if err := p.Err(); err != nil {
		t.Fatalf("good op: %v", err)
	}
	p.MatMul(c, a, a, false, false, 1, 0) // [3 4]·[3 4] does not multiply
	err := p.Err()
	if err == nil {
		t.Fatal("MatMul of [3 4] by [3 4]: no error")
	}
	for _, want := range []string{"MatMul", "[3 4]", "[3 5]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	p.ReLU(x, a) // also bad: lengths differ
	p.Fill(x, 9) // good, but after the error
	if err2 := p.Err(); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("after more ops Err() = %v, want the first error %v", err2, err)
	}
	if rerr := p.Run(); rerr == nil || rerr.Error() != err.Error() {
		t.Errorf("Run() = %v, want the recording error %v", rerr, err)
	}
	if got := h.get(x); got[0] == 9 {
		t.Errorf("an op recorded after the error ran: x = %v", got)
	}
}

// adamDefaults are torch.optim.Adam's defaults.
var adamDefaults = kernels.AdamParams{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}

// testBadShapes checks that each kind of bad input is rejected when
// recorded, with an error naming the op and the offending shapes.
func testBadShapes(t *testing.T, b kernels.Backend) {
	h := newHarness(t, b, 13000)
	x4 := h.newTensor(2, 3, 5, 5)
	w4 := h.newTensor(4, 3, 3, 3)
	w4c := h.newTensor(4, 2, 3, 3)
	wBig := h.newTensor(4, 3, 9, 9)
	y4 := h.newTensor(2, 4, 3, 3)
	y4bad := h.newTensor(2, 4, 5, 5)
	bias5 := h.newTensor(5)
	m23, m34, m24, m33 := h.newTensor(2, 3), h.newTensor(3, 4), h.newTensor(2, 4), h.newTensor(3, 3)
	v6, v7, s1, s2 := h.newTensor(6), h.newTensor(7), h.newTensor(1), h.newTensor(2)
	st := h.newTensor(kernels.StepStateLen)
	logp, tgt, tgtBad := h.newTensor(4, 10), h.newTensor(4), h.newTensor(5)
	pooled := h.newTensor(2, 3, 2, 2)
	// A zero-sized view on real storage: the shape check must catch it
	// before any kernel looks at the storage.
	zero := &kernels.Tensor{Shape: []int{0, 6}, Storage: v6.Storage}
	cp := kernels.Conv2DParams{}
	cases := []struct {
		name string
		rec  func(p kernels.Program)
		want []string
	}{
		{"MatMul inner dims", func(p kernels.Program) { p.MatMul(m24, m23, m23, false, false, 1, 0) }, []string{"MatMul", "[2 3]"}},
		{"MatMul output", func(p kernels.Program) { p.MatMul(m33, m23, m34, false, false, 1, 0) }, []string{"MatMul", "[3 3]"}},
		{"MatMul rank", func(p kernels.Program) { p.MatMul(m24, v6, m34, false, false, 1, 0) }, []string{"MatMul", "[6]"}},
		{"MatMul zero-sized", func(p kernels.Program) { p.MatMul(m24, zero, m34, false, false, 1, 0) }, []string{"MatMul"}},
		{"Conv2D channels", func(p kernels.Program) { p.Conv2D(y4, x4, w4c, nil, cp) }, []string{"Conv2D", "[4 2 3 3]"}},
		{"Conv2D kernel larger than padded input", func(p kernels.Program) { p.Conv2D(y4, x4, wBig, nil, kernels.Conv2DParams{PadH: 1, PadW: 1}) }, []string{"Conv2D", "larger"}},
		{"Conv2D output shape", func(p kernels.Program) { p.Conv2D(y4bad, x4, w4, nil, cp) }, []string{"Conv2D", "[2 4 5 5]", "[2 4 3 3]"}},
		{"Conv2D bias", func(p kernels.Program) { p.Conv2D(y4, x4, w4, bias5, cp) }, []string{"Conv2D", "[5]"}},
		{"Conv2D negative padding", func(p kernels.Program) { p.Conv2D(y4, x4, w4, nil, kernels.Conv2DParams{PadH: -1}) }, []string{"Conv2D"}},
		{"Conv2DBackwardInput dy shape", func(p kernels.Program) { p.Conv2DBackwardInput(x4, y4bad, w4, cp) }, []string{"Conv2DBackwardInput", "[2 4 5 5]"}},
		{"Conv2DBackwardWeight db shape", func(p kernels.Program) { p.Conv2DBackwardWeight(w4, bias5, y4, x4, cp) }, []string{"Conv2DBackwardWeight", "[5]"}},
		{"MaxPool2D kernel larger than input", func(p kernels.Program) {
			p.MaxPool2D(pooled, pooled, x4, kernels.Pool2DParams{KernelH: 6, KernelW: 6})
		}, []string{"MaxPool2D", "larger"}},
		{"MaxPool2D output shape", func(p kernels.Program) {
			p.MaxPool2D(y4, y4, x4, kernels.Pool2DParams{KernelH: 2, KernelW: 2})
		}, []string{"MaxPool2D", "[2 4 3 3]"}},
		{"MaxPool2D zero kernel", func(p kernels.Program) { p.MaxPool2D(pooled, pooled, x4, kernels.Pool2DParams{}) }, []string{"MaxPool2D"}},
		{"MaxPool2DBackward argmax shape", func(p kernels.Program) {
			p.MaxPool2DBackward(x4, pooled, y4, kernels.Pool2DParams{KernelH: 2, KernelW: 2})
		}, []string{"MaxPool2DBackward"}},
		{"Softmax dim", func(p kernels.Program) { p.Softmax(m23, m23, 2, false) }, []string{"Softmax", "[2 3]"}},
		{"Softmax shapes", func(p kernels.Program) { p.Softmax(m24, m23, 1, true) }, []string{"Softmax", "[2 4]"}},
		{"SoftmaxBackward shapes", func(p kernels.Program) { p.SoftmaxBackward(m23, m24, m23, 1, false) }, []string{"SoftmaxBackward"}},
		{"AddBias length", func(p kernels.Program) { p.AddBias(y4, bias5) }, []string{"AddBias", "[5]"}},
		{"BiasGrad length", func(p kernels.Program) { p.BiasGrad(bias5, y4) }, []string{"BiasGrad", "[5]"}},
		{"Copy lengths", func(p kernels.Program) { p.Copy(v6, v7) }, []string{"Copy", "[7]"}},
		{"ReLU shapes", func(p kernels.Program) { p.ReLU(v6, v7) }, []string{"ReLU", "[7]"}},
		{"ReLU zero-sized", func(p kernels.Program) { p.ReLU(zero, zero) }, []string{"ReLU", "[0 6]"}},
		{"ReLU nil", func(p kernels.Program) { p.ReLU(nil, v6) }, []string{"ReLU"}},
		{"SigmoidBackward shapes", func(p kernels.Program) { p.SigmoidBackward(v6, v6, v7) }, []string{"SigmoidBackward"}},
		{"Sum output", func(p kernels.Program) { p.Sum(s2, v6) }, []string{"Sum", "[2]"}},
		{"Mean zero-sized", func(p kernels.Program) { p.Mean(s1, zero) }, []string{"Mean"}},
		{"BCELoss target", func(p kernels.Program) { p.BCELoss(s1, v6, v7) }, []string{"BCELoss", "[7]"}},
		{"BCEBackward target", func(p kernels.Program) { p.BCEBackward(v6, v6, v7) }, []string{"BCEBackward", "[7]"}},
		{"MSELoss target", func(p kernels.Program) { p.MSELoss(s1, m23, m24) }, []string{"MSELoss", "[2 4]"}},
		{"MSELoss output", func(p kernels.Program) { p.MSELoss(s2, v6, v6) }, []string{"MSELoss", "[2]"}},
		{"NLLLoss target", func(p kernels.Program) { p.NLLLoss(s1, logp, tgtBad) }, []string{"NLLLoss", "[5]", "[4 10]"}},
		{"NLLLoss logp rank", func(p kernels.Program) { p.NLLLoss(s1, v6, tgt) }, []string{"NLLLoss", "[6]"}},
		{"NLLBackward target", func(p kernels.Program) { p.NLLBackward(logp, tgtBad) }, []string{"NLLBackward", "[5]"}},
		{"L2Penalty loss", func(p kernels.Program) { p.L2Penalty(s2, v6, 1) }, []string{"L2Penalty", "[2]"}},
		{"L1PenaltyGrad shapes", func(p kernels.Program) { p.L1PenaltyGrad(v6, v7, 1) }, []string{"L1PenaltyGrad"}},
		{"SGD shapes", func(p kernels.Program) { p.SGD(v6, v6, v7, st, kernels.SGDParams{Momentum: 0.9}) }, []string{"SGD", "[7]"}},
		{"SGD state", func(p kernels.Program) { p.SGD(v6, v6, v6, v7, kernels.SGDParams{Momentum: 0.9}) }, []string{"SGD", "step state", "[7]"}},
		{"SGD negative momentum", func(p kernels.Program) { p.SGD(v6, v6, v6, st, kernels.SGDParams{Momentum: -0.5}) }, []string{"SGD", "-0.5"}},
		{"SGD Nesterov with dampening", func(p kernels.Program) {
			p.SGD(v6, v6, v6, st, kernels.SGDParams{Momentum: 0.9, Dampening: 0.1, Nesterov: true})
		}, []string{"SGD", "Nesterov", "0.1"}},
		{"SGD Nesterov without momentum", func(p kernels.Program) { p.SGD(v6, v6, v6, st, kernels.SGDParams{Nesterov: true}) }, []string{"SGD", "Nesterov"}},
		{"Tanh shapes", func(p kernels.Program) { p.Tanh(v6, v7) }, []string{"Tanh", "[7]"}},
		{"TanhBackward shapes", func(p kernels.Program) { p.TanhBackward(v6, v6, m23) }, []string{"TanhBackward", "[2 3]"}},
		{"ELU shapes", func(p kernels.Program) { p.ELU(m23, m24, 1) }, []string{"ELU", "[2 4]"}},
		{"ELUBackward shapes", func(p kernels.Program) { p.ELUBackward(v6, v7, v6, 1) }, []string{"ELUBackward", "[7]"}},
		{"ELU zero-sized", func(p kernels.Program) { p.ELU(zero, zero, 1) }, []string{"ELU", "[0 6]"}},
		{"Softplus shapes", func(p kernels.Program) { p.Softplus(v6, v7, 1, 20) }, []string{"Softplus", "[7]"}},
		{"Softplus beta 0", func(p kernels.Program) { p.Softplus(v6, v6, 0, 20) }, []string{"Softplus", "beta 0"}},
		{"SoftplusBackward shapes", func(p kernels.Program) { p.SoftplusBackward(v6, v6, v7, 1, 20) }, []string{"SoftplusBackward", "[7]"}},
		{"SoftplusBackward negative beta", func(p kernels.Program) { p.SoftplusBackward(v6, v6, v6, -1, 20) }, []string{"SoftplusBackward", "beta -1"}},
		{"Dropout shapes", func(p kernels.Program) { p.Dropout(v6, v7, st, 0.5, 1) }, []string{"Dropout", "[7]"}},
		{"Dropout state", func(p kernels.Program) { p.Dropout(v6, v6, v7, 0.5, 1) }, []string{"Dropout", "step state", "[7]"}},
		{"Dropout probability", func(p kernels.Program) { p.Dropout(v6, v6, st, 1.5, 1) }, []string{"Dropout", "1.5"}},
		{"DropoutBackward shapes", func(p kernels.Program) { p.DropoutBackward(m23, m24, st, 0.5, 1) }, []string{"DropoutBackward", "[2 4]"}},
		{"DropoutBackward state", func(p kernels.Program) { p.DropoutBackward(v6, v6, s2, 0.5, 1) }, []string{"DropoutBackward", "step state", "[2]"}},
		{"DropoutBackward negative probability", func(p kernels.Program) { p.DropoutBackward(v6, v6, st, -0.1, 1) }, []string{"DropoutBackward", "-0.1"}},
		{"AvgPool2D kernel larger than input", func(p kernels.Program) {
			p.AvgPool2D(pooled, x4, kernels.Pool2DParams{KernelH: 6, KernelW: 6})
		}, []string{"AvgPool2D", "larger"}},
		{"AvgPool2D output shape", func(p kernels.Program) { p.AvgPool2D(y4, x4, kernels.Pool2DParams{KernelH: 2, KernelW: 2}) }, []string{"AvgPool2D", "[2 4 3 3]", "[2 3 2 2]"}},
		{"AvgPool2D rank", func(p kernels.Program) { p.AvgPool2D(pooled, m23, kernels.Pool2DParams{KernelH: 2, KernelW: 2}) }, []string{"AvgPool2D", "[2 3]"}},
		{"AvgPool2D zero kernel", func(p kernels.Program) { p.AvgPool2D(pooled, x4, kernels.Pool2DParams{}) }, []string{"AvgPool2D"}},
		{"AvgPool2DBackward dy shape", func(p kernels.Program) {
			p.AvgPool2DBackward(x4, y4, kernels.Pool2DParams{KernelH: 2, KernelW: 2})
		}, []string{"AvgPool2DBackward", "[2 4 3 3]"}},
		{"BCEWithLogitsLoss target", func(p kernels.Program) { p.BCEWithLogitsLoss(s1, v6, v7) }, []string{"BCEWithLogitsLoss", "[7]"}},
		{"BCEWithLogitsLoss output", func(p kernels.Program) { p.BCEWithLogitsLoss(s2, v6, v6) }, []string{"BCEWithLogitsLoss", "[2]"}},
		{"BCEWithLogitsBackward target", func(p kernels.Program) { p.BCEWithLogitsBackward(m23, m23, m24) }, []string{"BCEWithLogitsBackward", "[2 4]"}},
		{"PoissonNLLLoss target", func(p kernels.Program) { p.PoissonNLLLoss(s1, m23, m24, true, 1e-8) }, []string{"PoissonNLLLoss", "[2 4]"}},
		{"PoissonNLLLoss output", func(p kernels.Program) { p.PoissonNLLLoss(s2, v6, v6, false, 1e-8) }, []string{"PoissonNLLLoss", "[2]"}},
		{"PoissonNLLBackward shapes", func(p kernels.Program) { p.PoissonNLLBackward(v7, v6, v6, false, 1e-8) }, []string{"PoissonNLLBackward", "[6]"}},
		{"Adam shapes", func(p kernels.Program) { p.Adam(v6, v6, v6, v7, st, adamDefaults) }, []string{"Adam", "[7]"}},
		{"Adam state", func(p kernels.Program) { p.Adam(v6, v6, v6, v6, s2, adamDefaults) }, []string{"Adam", "step state", "[2]"}},
		{"Adam beta1 1", func(p kernels.Program) { p.Adam(v6, v6, v6, v6, st, kernels.AdamParams{Beta1: 1, Beta2: 0.999}) }, []string{"Adam", "betas"}},
		{"AdamW negative weight decay", func(p kernels.Program) {
			p.Adam(v6, v6, v6, v6, st, kernels.AdamParams{Beta1: 0.9, Beta2: 0.999, WeightDecay: -1, Decoupled: true})
		}, []string{"Adam", "weight decay -1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { expectErr(t, b, c.rec, c.want...) })
	}
}
