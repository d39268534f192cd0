package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
)

// The fused ops are specified by the op sequences their docs name: the
// specs below compose the specs of those ops, and the tests check a
// backend's fused op against them, against finite differences where
// there is a backward, and against the same backend's unfused sequence.

// specUpdate is Update: g = grad + L1·sign(p) + 2·L2·p, SGD or Adam with
// g at the step state st, and loss plus L1·Σ|p| + L2·Σp² of the old p.
func specUpdate(p, grad, buf, buf2 []float64, st []float32, loss float64, u kernels.UpdateParams) (np, nbuf, nbuf2 []float64, nloss float64) {
	g := specL2PenaltyGrad(specL1PenaltyGrad(grad, p, float64(u.L1)), p, float64(u.L2))
	nloss = specL2Penalty(specL1Penalty(loss, p, float64(u.L1)), p, float64(u.L2))
	if u.SGD != nil {
		np, nbuf = specSGD(p, g, buf, float64(st[kernels.StepLR]), *u.SGD, st[kernels.StepFirst] != 0)
		return np, nbuf, nil, nloss
	}
	np, nbuf, nbuf2 = specAdam(p, g, buf, buf2, float64(st[kernels.StepAdamLR]), float64(st[kernels.StepAdamBC2]), float64(st[kernels.StepDecay]), *u.Adam)
	return np, nbuf, nbuf2, nloss
}

// specConv2DMaxPool is Conv2D, ReLU (with relu) and MaxPool2D: the
// convolution's output y, the pool's input src (y or ReLU(y)), and the
// pooled maxima.
func specConv2DMaxPool(x, w, bias []float64, g kernels.ConvGeom, pg kernels.PoolGeom, relu bool) (y, src, pooled []float64) {
	y = specConv2D(x, w, bias, g)
	src = y
	if relu {
		src = specReLU(y)
	}
	pooled, _ = specMaxPool2D(src, pg)
	return y, src, pooled
}

// specConv2DMaxPoolBackward routes dpooled through argmax (kept where
// pooled > 0 with relu) and takes the convolution's gradients of the
// result.
func specConv2DMaxPoolBackward(dpooled, pooled, argmax, x, w []float64, g kernels.ConvGeom, pg kernels.PoolGeom, relu bool) (dw, db, dx []float64) {
	d := append([]float64(nil), dpooled...)
	if relu {
		for i := range d {
			if !(pooled[i] > 0) {
				d[i] = 0
			}
		}
	}
	dconv := specMaxPool2DBackward(d, argmax, pg)
	dw, db = specConv2DBackwardWeight(dconv, x, g)
	return dw, db, specConv2DBackwardInput(dconv, w, g)
}

// updateCases are the settings testUpdate and testLinearWeightUpdate run
// every optimizer step of optimSteps with.
var updateCases = []struct {
	name string
	u    kernels.UpdateParams
	loss bool // add the penalties into a loss tensor
}{
	{"sgd", kernels.UpdateParams{SGD: &kernels.SGDParams{}}, false},
	{"sgd-momentum-l1-l2", kernels.UpdateParams{L1: 1e-2, L2: 5e-3, SGD: &kernels.SGDParams{Momentum: 0.9, WeightDecay: 1e-2}}, true},
	{"sgd-l1-noloss", kernels.UpdateParams{L1: 0.05, SGD: &kernels.SGDParams{Momentum: 0.9, Dampening: 0.1}}, false},
	{"sgd-nesterov-l2", kernels.UpdateParams{L2: 0.1, SGD: &kernels.SGDParams{Momentum: 0.5, Nesterov: true}}, true},
	{"adam-l1", kernels.UpdateParams{L1: 1e-3, Adam: &kernels.AdamParams{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}}, true},
	{"adamw-l1-l2", kernels.UpdateParams{L1: 1e-3, L2: 1e-2, Adam: &kernels.AdamParams{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01, Decoupled: true}}, true},
}

// stepStateFor fills host for step s of u's optimizer.
func stepStateFor(host []float32, t uint32, lr float64, u kernels.UpdateParams) {
	if u.Adam != nil {
		kernels.FillStepState(host, t, lr/10, u.Adam.Beta1, u.Adam.Beta2, u.Adam.WeightDecay)
		return
	}
	kernels.FillStepState(host, t, lr, 0.9, 0.999, 0)
}

// lossStart is what the loss holds before each Run of an Update: the
// penalties are added to it.
const lossStart = 0.25

// testUpdate runs one recorded Update over optimSteps, as testSGD runs
// SGD, for each of updateCases, with exact zeros among p (sign(0) = 0).
func testUpdate(t *testing.T, b kernels.Backend) {
	for ci, c := range updateCases {
		for _, n := range []int{1, 33, 65537} {
			t.Run(fmt.Sprintf("%s/n=%d", c.name, n), func(t *testing.T) {
				h := newHarness(t, b, uint64(9700+100*ci+n))
				pv, bv := h.uniform(n, -1, 1), h.uniform(n, -1, 1)
				if n > 2 {
					pv[1], pv[2] = 0, float32(math.Copysign(0, -1))
				}
				adam := c.u.Adam != nil
				zeros := make([]float32, n)
				if adam {
					bv = zeros
				}
				param, grad, buf := h.mut(pv, n), h.newTensor(n), h.mut(bv, n)
				var buf2, loss *kernels.Tensor
				if adam {
					buf2 = h.mut(zeros, n)
				}
				if c.loss {
					loss = h.mut([]float32{lossStart}, 1)
				}
				state, host := h.newTensor(kernels.StepStateLen), make([]float32, kernels.StepStateLen)
				prog := b.NewProgram()
				defer prog.Close()
				prog.Write(state, host)
				prog.Update(param, grad, buf, buf2, state, loss, c.u)
				if err := prog.Err(); err != nil {
					t.Fatal(err)
				}
				prevP, prevB, prevB2 := f64(pv), f64(bv), f64(zeros)
				for i, s := range optimSteps {
					if adam && s.t == 1 && i > 0 {
						h.upload(buf, zeros)
						h.upload(buf2, zeros)
						prevB, prevB2 = f64(zeros), f64(zeros)
					}
					gv := h.uniform(n, -1, 1)
					h.upload(grad, gv)
					if loss != nil {
						h.upload(loss, []float32{lossStart})
					}
					stepStateFor(host, s.t, s.lr, c.u)
					if err := prog.Run(); err != nil {
						t.Fatalf("Run %d: %v", i+1, err)
					}
					wantP, wantB, wantB2, wantLoss := specUpdate(prevP, f64(gv), prevB, prevB2, host, lossStart, c.u)
					name := func(v string) string { return fmt.Sprintf("Run %d (t=%d): %s", i+1, s.t, v) }
					gotP, gotB := h.get(param), h.get(buf)
					check(t, name("p"), gotP, wantP, 16*eps32, 8*eps32)
					check(t, name("grad (unchanged)"), h.get(grad), f64(gv), 0, 0)
					switch {
					case adam:
						gotB2 := h.get(buf2)
						check(t, name("m"), gotB, wantB, 4*eps32, 8*eps32)
						check(t, name("v"), gotB2, wantB2, 4*eps32, 8*eps32)
						prevB2 = f64(gotB2)
					case c.u.SGD.Momentum == 0:
						check(t, name("buf (momentum 0: untouched)"), gotB, f64(bv), 0, 0)
					default:
						check(t, name("buf"), gotB, wantB, 16*eps32, 8*eps32)
					}
					if loss != nil {
						checkScalar(t, name("loss"), h.get(loss)[0], wantLoss, 1e-6, sumTol(n))
					}
					prevP, prevB = f64(gotP), f64(gotB)
				}
			})
		}
	}
}

// linearUpdateShapes are (rows, out, in) of LinearWeightUpdate's tests:
// tile edges of both ways of splitting the product, a batch longer than
// one block of k, and the decoder's first layer.
var linearUpdateShapes = []struct {
	rows, out, in int
	large         bool
}{
	{1, 1, 1, false}, {3, 5, 7, false}, {13, 33, 65, false}, {60, 200, 64, false},
	{216, 20, 300, false}, {700, 10, 288, false}, {216, 20, 23589, true},
}

// testLinearWeightUpdate checks LinearWeightUpdate against the spec
// (dyᵀ·x, then specUpdate) over two steps, and against the backend's
// own MatMul followed by Update. dy and x are positive, so that no
// gradient is near zero, where Adam's step turns rounding into sign.
func testLinearWeightUpdate(t *testing.T, b kernels.Backend, o RunOptions) {
	for si, s := range linearUpdateShapes {
		if s.large && !o.Large {
			continue
		}
		for ci, c := range updateCases {
			t.Run(fmt.Sprintf("rows=%d,out=%d,in=%d/%s", s.rows, s.out, s.in, c.name), func(t *testing.T) {
				h := newHarness(t, b, uint64(9900+10*si+ci))
				nw := s.out * s.in
				wv, dyv, xv := h.uniform(nw, -1, 1), h.uniform(s.rows*s.out, 0.5, 1), h.uniform(s.rows*s.in, 0.5, 1)
				scale := 1 / float32(s.rows)
				for i := range dyv {
					dyv[i] *= scale
				}
				adam := c.u.Adam != nil
				zeros := make([]float32, nw)
				bv := h.uniform(nw, -1, 1)
				if adam {
					bv = zeros
				}
				dy, x := h.in("dy", dyv, s.rows, s.out), h.in("x", xv, s.rows, s.in)
				// Two copies of the parameter and its state: one for the
				// fused op, one for MatMul and Update.
				var ws, bufs, buf2s, losses [2]*kernels.Tensor
				for k := range ws {
					ws[k], bufs[k] = h.mut(wv, s.out, s.in), h.mut(bv, s.out, s.in)
					if adam {
						buf2s[k] = h.mut(zeros, s.out, s.in)
					}
					if c.loss {
						losses[k] = h.mut([]float32{lossStart}, 1)
					}
				}
				grad := h.newTensor(s.out, s.in)
				state, host := h.newTensor(kernels.StepStateLen), make([]float32, kernels.StepStateLen)
				prog := b.NewProgram()
				defer prog.Close()
				prog.Write(state, host)
				prog.LinearWeightUpdate(ws[0], dy, x, bufs[0], buf2s[0], state, losses[0], c.u)
				prog.MatMul(grad, dy, x, true, false, 1, 0)
				prog.Update(ws[1], grad, bufs[1], buf2s[1], state, losses[1], c.u)
				if err := prog.Err(); err != nil {
					t.Fatal(err)
				}
				gradSpec := specMatMul(nil, f64(dyv), f64(xv), s.rows, s.out, s.rows, s.in, true, false, 1, 0)
				gTol, _ := dotTol(s.rows, rms(dyv)*rms(xv))
				prevW, prevB := f64(wv), f64(bv)
				for i, st := range optimSteps[:2] {
					for k := range losses {
						if losses[k] != nil {
							h.upload(losses[k], []float32{lossStart})
						}
					}
					stepStateFor(host, st.t, st.lr, c.u)
					if err := prog.Run(); err != nil {
						t.Fatalf("Run %d: %v", i+1, err)
					}
					name := func(v string) string { return fmt.Sprintf("Run %d: %s", i+1, v) }
					gotW, gotB := h.get(ws[0]), h.get(bufs[0])
					lr := float64(host[kernels.StepLR])
					if !adam {
						// The gradient's rounding, scaled by the step (momentum
						// can double it by the second step). Adam's step is
						// checked against MatMul + Update alone.
						wantW, wantB, _, wantLoss := specUpdate(prevW, gradSpec, prevB, nil, host, lossStart, c.u)
						check(t, name("w against the spec"), gotW, wantW, 16*eps32+4*lr*gTol, 8*eps32)
						if c.u.SGD.Momentum != 0 {
							check(t, name("buf against the spec"), gotB, wantB, 16*eps32+4*gTol, 8*eps32)
						}
						if losses[0] != nil {
							checkScalar(t, name("loss"), h.get(losses[0])[0], wantLoss, 1e-6, sumTol(nw))
						}
					}
					// The fused op and MatMul + Update: the same product in
					// both, up to the order of its sums.
					check(t, name("w against MatMul + Update"), gotW, f64(h.get(ws[1])), 16*eps32+4*lr*gTol, 16*eps32)
					check(t, name("buf against MatMul + Update"), gotB, f64(h.get(bufs[1])), 16*eps32+4*gTol, 16*eps32)
					if losses[0] != nil {
						checkScalar(t, name("loss against MatMul + Update"), h.get(losses[0])[0], float64(h.get(losses[1])[0]), 1e-6, sumTol(nw))
					}
					prevW, prevB = f64(gotW), f64(gotB)
				}
			})
		}
	}
}

// convPoolCases are Conv2DMaxPool's tests: the tutorial's block (7×7
// filters, pool 8), odd sizes, overlapping windows, a strided
// convolution, and with and without the ReLU and the optional outputs.
var convPoolCases = []struct {
	xs, ws []int
	conv   kernels.Conv2DParams
	pool   kernels.Pool2DParams
	relu   bool
	keepY  bool // pass y and r (with relu)
	keepDB bool // pass db
	keepDX bool // pass dx
	large  bool
}{
	{[]int{2, 1, 48, 64}, []int{6, 1, 7, 7}, kernels.Conv2DParams{PadH: 3, PadW: 3}, kernels.Pool2DParams{KernelH: 8, KernelW: 8}, true, true, true, false, false},
	{[]int{3, 2, 13, 17}, []int{5, 2, 3, 3}, kernels.Conv2DParams{PadH: 1, PadW: 1}, kernels.Pool2DParams{KernelH: 2, KernelW: 2}, true, false, true, true, false},
	{[]int{3, 2, 13, 17}, []int{5, 2, 3, 3}, kernels.Conv2DParams{PadH: 1, PadW: 1}, kernels.Pool2DParams{KernelH: 2, KernelW: 2}, false, true, false, true, false},
	{[]int{2, 3, 11, 9}, []int{7, 3, 3, 2}, kernels.Conv2DParams{PadH: 1}, kernels.Pool2DParams{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}, true, true, true, true, false},
	{[]int{2, 1, 10, 12}, []int{4, 1, 3, 3}, kernels.Conv2DParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, kernels.Pool2DParams{KernelH: 2, KernelW: 2}, true, true, true, true, false},
	{[]int{1, 1, 16, 24}, []int{8, 1, 5, 5}, kernels.Conv2DParams{PadH: 2, PadW: 2}, kernels.Pool2DParams{KernelH: 8, KernelW: 8}, false, false, false, false, false},
	{[]int{100, 1, 48, 64}, []int{6, 1, 7, 7}, kernels.Conv2DParams{PadH: 3, PadW: 3}, kernels.Pool2DParams{KernelH: 8, KernelW: 8}, true, true, true, false, true},
}

// testConv2DMaxPool checks Conv2DMaxPool and its backward against the
// spec. The backend's maxima are compared with the spec's within the
// convolution's rounding, and its argmax must point inside the window at
// a value that rounding cannot tell from the maximum (a near tie may pick
// either); the backward is checked from the backend's own forward.
func testConv2DMaxPool(t *testing.T, b kernels.Backend, o RunOptions) {
	nan := float32(math.NaN())
	for ci, c := range convPoolCases {
		if c.large && !o.Large {
			continue
		}
		name := fmt.Sprintf("x=%v,w=%v,conv=%+v,pool=%+v,relu=%v", c.xs, c.ws, c.conv, c.pool, c.relu)
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, b, uint64(9800+ci))
			g, err := kernels.ConvGeometry("spec", &kernels.Tensor{Shape: c.xs}, &kernels.Tensor{Shape: c.ws}, nil, c.conv)
			if err != nil {
				t.Fatal(err)
			}
			ys := []int{g.N, g.O, g.Ho, g.Wo}
			pg, ps := poolGeom(t, ys, c.pool)
			xv, wv, bv := h.uniform(kernels.Numel(c.xs), -1, 1), h.uniform(kernels.Numel(c.ws), -1, 1), h.uniform(g.O, -0.5, 0.5)
			dpv := h.uniform(kernels.Numel(ps), -1, 1)
			x, w, bias, dp := h.in("x", xv, c.xs...), h.in("w", wv, c.ws...), h.in("bias", bv, g.O), h.in("dpooled", dpv, ps...)
			pooled, am := h.out(nan, ps...), h.out(nan, ps...)
			var y, r, db, dx *kernels.Tensor
			if c.keepY {
				y = h.out(nan, ys...)
				if c.relu {
					r = h.out(nan, ys...)
				}
			}
			dw := h.out(nan, c.ws...)
			if c.keepDB {
				db = h.out(nan, g.O)
			}
			if c.keepDX {
				dx = h.out(nan, c.xs...)
			}
			p := kernels.ConvPoolParams{Conv: c.conv, ReLU: c.relu, Pool: c.pool}
			h.run(func(pr kernels.Program) {
				pr.Conv2DMaxPool(pooled, am, y, r, x, w, bias, p)
				pr.Conv2DMaxPoolBackward(dw, db, dx, dp, pooled, am, x, w, p)
			})
			wantY, wantSrc, wantPooled := specConv2DMaxPool(f64(xv), f64(wv), f64(bv), g, pg, c.relu)
			k := g.C * g.KH * g.KW
			atol, rtol := dotTol(k+1, rms(xv)*rms(wv)+rms(bv))
			gotPooled, gotAM := h.get(pooled), h.get(am)
			check(t, "pooled", gotPooled, wantPooled, atol, rtol)
			if y != nil {
				check(t, "y", h.get(y), wantY, atol, rtol)
			}
			if r != nil {
				check(t, "r", h.get(r), wantSrc, atol, rtol)
			}
			plane := g.Ho * g.Wo
			for i, a := range gotAM {
				pl, oi := i/(pg.Ho*pg.Wo), i%(pg.Ho*pg.Wo)
				oh, ow := oi/pg.Wo, oi%pg.Wo
				ih, iw := int(a)/g.Wo, int(a)%g.Wo
				inside := float32(int(a)) == a && ih >= oh*pg.StrideH && ih < oh*pg.StrideH+pg.KH && iw >= ow*pg.StrideW && iw < ow*pg.StrideW+pg.KW
				if !inside || math.Abs(wantSrc[pl*plane+int(a)]-wantPooled[i]) > 2*(atol+rtol*math.Abs(wantPooled[i])) {
					t.Fatalf("argmax[%d] = %v: not the maximum of its window (value %v, max %v)", i, a, wantSrc[pl*plane+int(a)], wantPooled[i])
				}
			}
			// The backward from the backend's own maxima and their indices.
			wantDW, wantDB, wantDX := specConv2DMaxPoolBackward(f64(dpv), f64(gotPooled), f64(gotAM), f64(xv), f64(wv), g, pg, c.relu)
			windows := g.N * pg.Ho * pg.Wo // terms of each weight's sum
			atol, rtol = dotTol(windows, rms(dpv)*rms(xv))
			check(t, "dw", h.get(dw), wantDW, atol, rtol)
			if db != nil {
				atol, rtol = dotTol(windows, rms(dpv))
				check(t, "db", h.get(db), wantDB, atol, rtol)
			}
			if dx != nil {
				atol, rtol = dotTol(g.O*g.KH*g.KW, rms(dpv)*rms(wv))
				check(t, "dx", h.get(dx), wantDX, atol, rtol)
			}
		})
	}
}

// testConv2DMaxPoolFD checks the spec of Conv2DMaxPoolBackward against
// finite differences of the spec's forward, through the ReLU and across
// overlapping windows, on values a grid step apart (no ties), and the
// backend's backward against the spec on the same point.
func testConv2DMaxPoolFD(t *testing.T, b kernels.Backend) {
	h := newHarness(t, b, 20100)
	cp := kernels.ConvPoolParams{Conv: kernels.Conv2DParams{PadH: 1, PadW: 1}, ReLU: true,
		Pool: kernels.Pool2DParams{KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1}}
	xs, ws := []int{2, 2, 6, 7}, []int{3, 2, 3, 3}
	g, err := kernels.ConvGeometry("spec", &kernels.Tensor{Shape: xs}, &kernels.Tensor{Shape: ws}, nil, cp.Conv)
	if err != nil {
		t.Fatal(err)
	}
	pg, ps := poolGeom(t, []int{g.N, g.O, g.Ho, g.Wo}, cp.Pool)
	xv, wv, bv := h.uniform(kernels.Numel(xs), -1, 1), h.uniform(kernels.Numel(ws), -1, 1), h.uniform(g.O, -0.2, 0.2)
	rv := h.uniform(kernels.Numel(ps), -1, 1)
	x, w, bias, r := f64(xv), f64(wv), f64(bv), f64(rv)
	pooledOf := func(x, w, bias []float64) []float64 { _, _, p := specConv2DMaxPool(x, w, bias, g, pg, true); return p }
	_, src, pooled := specConv2DMaxPool(x, w, bias, g, pg, true)
	_, am := specMaxPool2D(src, pg)
	dw, db, dx := specConv2DMaxPoolBackward(r, pooled, am, x, w, g, pg, true)
	fdCheck(t, "dw", func(w []float64) float64 { return dot(r, pooledOf(x, w, bias)) }, w, dw)
	fdCheck(t, "db", func(bias []float64) float64 { return dot(r, pooledOf(x, w, bias)) }, bias, db)
	fdCheck(t, "dx", func(x []float64) float64 { return dot(r, pooledOf(x, w, bias)) }, x, dx)

	xt, wt, bt, rt := h.in("x", xv, xs...), h.in("w", wv, ws...), h.in("bias", bv, g.O), h.in("dpooled", rv, ps...)
	nan := float32(math.NaN())
	pt, amt := h.out(nan, ps...), h.out(nan, ps...)
	gw, gb, gx := h.out(nan, ws...), h.out(nan, g.O), h.out(nan, xs...)
	h.run(func(p kernels.Program) {
		p.Conv2DMaxPool(pt, amt, nil, nil, xt, wt, bt, cp)
		p.Conv2DMaxPoolBackward(gw, gb, gx, rt, pt, amt, xt, wt, cp)
	})
	check(t, "argmax", h.get(amt), am, 0, 0)
	atol, rtol := dotTol(g.N*pg.Ho*pg.Wo*3, rms(rv)*rms(xv))
	check(t, "backend dw", h.get(gw), dw, atol, rtol)
	atol, rtol = dotTol(g.N*pg.Ho*pg.Wo*3, rms(rv))
	check(t, "backend db", h.get(gb), db, atol, rtol)
	atol, rtol = dotTol(g.O*g.KH*g.KW, rms(rv)*rms(wv))
	check(t, "backend dx", h.get(gx), dx, atol, rtol)
}

// testFusedBadOperands checks that the fused ops refuse what their checks
// refuse, naming the op.
func testFusedBadOperands(t *testing.T, b kernels.Backend) {
	h := newHarness(t, b, 20200)
	p4, st := h.newTensor(4), h.newTensor(kernels.StepStateLen)
	sgd := &kernels.SGDParams{Momentum: 0.9}
	expectErr(t, b, func(p kernels.Program) { p.Update(p4, p4, p4, nil, st, nil, kernels.UpdateParams{}) }, "Update", "exactly one of SGD and Adam")
	expectErr(t, b, func(p kernels.Program) {
		p.Update(p4, p4, p4, nil, st, nil, kernels.UpdateParams{L1: -1, SGD: sgd})
	}, "Update", "penalties")
	expectErr(t, b, func(p kernels.Program) { p.Update(p4, p4, p4, p4, st, nil, kernels.UpdateParams{SGD: sgd}) }, "Update", "second moment")
	w, dy, x := h.newTensor(3, 5), h.newTensor(7, 3), h.newTensor(7, 4)
	expectErr(t, b, func(p kernels.Program) {
		p.LinearWeightUpdate(w, dy, x, w, nil, st, nil, kernels.UpdateParams{SGD: sgd})
	}, "LinearWeightUpdate", "dyᵀ·x")
	xi, wc := h.newTensor(1, 1, 8, 8), h.newTensor(2, 1, 3, 3)
	pooled, wrong := h.newTensor(1, 2, 3, 3), h.newTensor(1, 2, 4, 4)
	expectErr(t, b, func(p kernels.Program) {
		p.Conv2DMaxPool(wrong, wrong, nil, nil, xi, wc, nil, kernels.ConvPoolParams{Pool: kernels.Pool2DParams{KernelH: 2, KernelW: 2}})
	}, "Conv2DMaxPool", "pooled")
	expectErr(t, b, func(p kernels.Program) {
		p.Conv2DMaxPool(pooled, pooled, nil, h.newTensor(1, 2, 6, 6), xi, wc, nil, kernels.ConvPoolParams{Pool: kernels.Pool2DParams{KernelH: 2, KernelW: 2}})
	}, "Conv2DMaxPool", "without ReLU")
}
