package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
)

// Gradient checks. For every backward op the spec's backward is checked
// against central finite differences of the spec's forward, all in
// float64, and then the backend's backward is checked against the spec's
// on the same (float32) inputs. A forward op with output y is turned into
// the scalar L = Σ r·y with random r, whose gradient is the backward op
// applied to dy = r.

// fdGradient is the central difference of f at x for every element.
func fdGradient(f func(x []float64) float64, x []float64) []float64 {
	g := make([]float64, len(x))
	for i := range x {
		old := x[i]
		h := 1e-6 * math.Max(1, math.Abs(old))
		x[i] = old + h
		fp := f(x)
		x[i] = old - h
		fm := f(x)
		x[i] = old
		g[i] = (fp - fm) / (2 * h)
	}
	return g
}

// fdCheck compares an analytic gradient of the spec with finite
// differences. With h = 1e-6 the truncation error is ~h²·|f⁽³⁾| ≈ 1e-12
// and the rounding error ~eps64·|f|/h ≈ 1e-9 for |f| ≲ 10, so 1e-7 +
// 1e-6·|g| leaves room while a wrong formula is off by O(|g|).
func fdCheck(t *testing.T, name string, f func(x []float64) float64, x, analytic []float64) {
	t.Helper()
	fd := fdGradient(f, x)
	got := make([]float32, len(fd))
	bad := false
	for i := range fd {
		got[i] = float32(fd[i])
		if math.Abs(fd[i]-analytic[i]) > 1e-7+1e-6*math.Abs(analytic[i]) {
			bad = true
		}
	}
	if bad {
		// Report through check for the element listing (values rounded to float32 for printing).
		check(t, name+": spec backward vs finite differences", got, analytic, 1e-7, 1e-6)
	}
}

func dot(r, y []float64) float64 {
	var s float64
	for i := range r {
		s += r[i] * y[i]
	}
	return s
}

// awayFrom moves values closer than gap to any of the kinks out of the
// way, so finite differences do not straddle a kink.
func awayFrom(v []float32, gap float32, kinks ...float32) {
	for i := range v {
		for _, k := range kinks {
			if d := v[i] - k; d < gap && d > -gap {
				v[i] = k + 2*gap
			}
		}
	}
}

func testGradients(t *testing.T, b kernels.Backend) {
	nan := float32(math.NaN())
	t.Run("Conv2D", func(t *testing.T) {
		h := newHarness(t, b, 20000)
		cp := kernels.Conv2DParams{StrideH: 2, StrideW: 1, PadH: 1, PadW: 2}
		xs, ws := []int{2, 2, 6, 7}, []int{3, 2, 3, 3}
		geo, err := kernels.ConvGeometry("spec", &kernels.Tensor{Shape: xs}, &kernels.Tensor{Shape: ws}, nil, cp)
		if err != nil {
			t.Fatal(err)
		}
		ys := []int{geo.N, geo.O, geo.Ho, geo.Wo}
		xv, wv, bv := h.uniform(kernels.Numel(xs), -1, 1), h.uniform(kernels.Numel(ws), -1, 1), h.uniform(3, -1, 1)
		rv := h.uniform(kernels.Numel(ys), -1, 1)
		x, w, r := f64(xv), f64(wv), f64(rv)
		bias := f64(bv)
		dx := specConv2DBackwardInput(r, w, geo)
		dw, db := specConv2DBackwardWeight(r, x, geo)
		fdCheck(t, "dx", func(x []float64) float64 { return dot(r, specConv2D(x, w, bias, geo)) }, x, dx)
		fdCheck(t, "dw", func(w []float64) float64 { return dot(r, specConv2D(x, w, bias, geo)) }, w, dw)
		fdCheck(t, "db", func(bias []float64) float64 { return dot(r, specConv2D(x, w, bias, geo)) }, bias, db)

		xt, wt, rt := h.in("x", xv, xs...), h.in("w", wv, ws...), h.in("dy", rv, ys...)
		gx, gw, gb := h.out(nan, xs...), h.out(nan, ws...), h.out(nan, 3)
		h.run(func(p kernels.Program) {
			p.Conv2DBackwardInput(gx, rt, wt, cp)
			p.Conv2DBackwardWeight(gw, gb, rt, xt, cp)
		})
		atol, rtol := dotTol(geo.O*geo.KH*geo.KW, rms(rv)*rms(wv))
		check(t, "backend dx", h.get(gx), dx, atol, rtol)
		atol, rtol = dotTol(geo.N*geo.Ho*geo.Wo, rms(rv)*rms(xv))
		check(t, "backend dw", h.get(gw), dw, atol, rtol)
		atol, rtol = dotTol(geo.N*geo.Ho*geo.Wo, rms(rv))
		check(t, "backend db", h.get(gb), db, atol, rtol)
	})
	t.Run("MaxPool2D", func(t *testing.T) {
		h := newHarness(t, b, 20001)
		pp := kernels.Pool2DParams{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}
		xs := []int{1, 2, 7, 8}
		geo, ys := poolGeom(t, xs, pp)
		// Distinct values a grid step apart, shuffled: no two within a finite-difference step.
		xv := make([]float32, kernels.Numel(xs))
		for i, j := range h.rng.Perm(len(xv)) {
			xv[i] = float32(j)/64 - 0.5
		}
		rv := h.uniform(kernels.Numel(ys), -1, 1)
		x, r := f64(xv), f64(rv)
		_, am := specMaxPool2D(x, geo)
		dx := specMaxPool2DBackward(r, am, geo)
		fdCheck(t, "dx", func(x []float64) float64 { y, _ := specMaxPool2D(x, geo); return dot(r, y) }, x, dx)

		xt, rt := h.in("x", xv, xs...), h.in("dy", rv, ys...)
		y, amt, gx := h.out(nan, ys...), h.out(nan, ys...), h.out(nan, xs...)
		h.run(func(p kernels.Program) {
			p.MaxPool2D(y, amt, xt, pp)
			p.MaxPool2DBackward(gx, rt, amt, pp)
		})
		atol, rtol := dotTol(4, rms(rv))
		check(t, "backend dx", h.get(gx), dx, atol, rtol)
	})
	for _, log := range []bool{false, true} {
		name := "Softmax"
		if log {
			name = "LogSoftmax"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, b, 20002)
			shape := []int{3, 4, 5}
			const dim = 1
			outer, n, inner, err := kernels.AxisDims("spec", &kernels.Tensor{Shape: shape}, dim)
			if err != nil {
				t.Fatal(err)
			}
			xv, rv := h.uniform(60, -3, 3), h.uniform(60, -1, 1)
			x, r := f64(xv), f64(rv)
			y := specSoftmax(x, outer, n, inner, log)
			dx := specSoftmaxBackward(r, y, outer, n, inner, log)
			fdCheck(t, "dx", func(x []float64) float64 { return dot(r, specSoftmax(x, outer, n, inner, log)) }, x, dx)

			// The backend gets y rounded to float32, and so does the spec.
			y32 := make([]float32, len(y))
			for i, v := range y {
				y32[i] = float32(v)
			}
			yt, rt, gx := h.in("y", y32, shape...), h.in("dy", rv, shape...), h.out(nan, shape...)
			h.run(func(p kernels.Program) { p.SoftmaxBackward(gx, rt, yt, dim, log) })
			atol, rtol := dotTol(n, rms(rv))
			check(t, "backend dx", h.get(gx), specSoftmaxBackward(r, f64(y32), outer, n, inner, log), atol+1e-7, rtol+16*eps32)
		})
	}
	t.Run("ReLU", func(t *testing.T) {
		h := newHarness(t, b, 20003)
		xv, rv := h.uniform(50, -1, 1), h.uniform(50, -1, 1)
		awayFrom(xv, 1e-3, 0)
		x, r := f64(xv), f64(rv)
		y := specReLU(x)
		dx := specReLUBackward(r, y)
		fdCheck(t, "dx", func(x []float64) float64 { return dot(r, specReLU(x)) }, x, dx)
		yt, rt, gx := h.in("y", f32(y), 50), h.in("dy", rv, 50), h.out(nan, 50)
		h.run(func(p kernels.Program) { p.ReLUBackward(gx, rt, yt) })
		check(t, "backend dx", h.get(gx), dx, 0, 0)
	})
	t.Run("Sigmoid", func(t *testing.T) {
		h := newHarness(t, b, 20004)
		xv, rv := h.uniform(50, -6, 6), h.uniform(50, -1, 1)
		x, r := f64(xv), f64(rv)
		y := specSigmoid(x)
		fdCheck(t, "dx", func(x []float64) float64 { return dot(r, specSigmoid(x)) }, x, specSigmoidBackward(r, y))
		y32 := f32(y)
		yt, rt, gx := h.in("y", y32, 50), h.in("dy", rv, 50), h.out(nan, 50)
		h.run(func(p kernels.Program) { p.SigmoidBackward(gx, rt, yt) })
		check(t, "backend dx", h.get(gx), specSigmoidBackward(r, f64(y32)), 1e-12, 8*eps32)
	})
	t.Run("BCE", func(t *testing.T) {
		h := newHarness(t, b, 20005)
		pv, tv := h.uniform(30, 0.05, 0.95), h.uniform(30, 0, 1)
		p, tg := f64(pv), f64(tv)
		dp := specBCEBackward(p, tg)
		fdCheck(t, "dp", func(p []float64) float64 { return specBCELoss(p, tg) }, p, dp)
		pt, tt, gp := h.in("p", pv, 5, 6), h.in("target", tv, 5, 6), h.out(nan, 5, 6)
		h.run(func(pr kernels.Program) { pr.BCEBackward(gp, pt, tt) })
		check(t, "backend dp", h.get(gp), dp, 0, 16*eps32)
	})
	t.Run("MSE", func(t *testing.T) {
		h := newHarness(t, b, 20006)
		yv, tv := h.uniform(30, -2, 2), h.uniform(30, -2, 2)
		y, tg := f64(yv), f64(tv)
		dy := specMSEBackward(y, tg)
		fdCheck(t, "dy", func(y []float64) float64 { return specMSELoss(y, tg) }, y, dy)
		yt, tt, gy := h.in("y", yv, 30), h.in("target", tv, 30), h.out(nan, 30)
		h.run(func(p kernels.Program) { p.MSEBackward(gy, yt, tt) })
		check(t, "backend dy", h.get(gy), dy, 0, 4*eps32)
	})
	t.Run("NLL", func(t *testing.T) {
		h := newHarness(t, b, 20007)
		const n, c = 6, 4
		lv, tv := h.uniform(n*c, -4, 0), h.classes(n, c)
		lp, tg := f64(lv), f64(tv)
		d := specNLLBackward(tg, n, c)
		fdCheck(t, "dlogp", func(lp []float64) float64 { return specNLLLoss(lp, tg, n, c) }, lp, d)
		tt, gd := h.in("target", tv, n), h.out(nan, n, c)
		h.run(func(p kernels.Program) { p.NLLBackward(gd, tt) })
		check(t, "backend dlogp", h.get(gd), d, 0, eps32)
	})
	for _, l1 := range []bool{false, true} {
		name := "L2Penalty"
		if l1 {
			name = "L1Penalty"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, b, 20008)
			const coef = 0.03
			wv := h.uniform(40, -1, 1)
			awayFrom(wv, 1e-3, 0)
			w := f64(wv)
			zero := make([]float64, len(w))
			loss, grad := specL2Penalty, specL2PenaltyGrad
			if l1 {
				loss, grad = specL1Penalty, specL1PenaltyGrad
			}
			dw := grad(zero, w, coef)
			fdCheck(t, "dw", func(w []float64) float64 { return loss(0, w, coef) }, w, dw)
			wt, gw := h.in("w", wv, 40), h.out(0, 40)
			h.run(func(p kernels.Program) {
				if l1 {
					p.L1PenaltyGrad(gw, wt, coef)
				} else {
					p.L2PenaltyGrad(gw, wt, coef)
				}
			})
			check(t, "backend dw", h.get(gw), dw, 0, 4*eps32)
		})
	}
	t.Run("Linear", func(t *testing.T) {
		// y = x·Wᵀ + b through MatMul and AddBias; dx = dy·W, dW = dyᵀ·x, db = Σ dy.
		h := newHarness(t, b, 20009)
		const n, in, out = 4, 5, 3
		xv, wv, bv, rv := h.uniform(n*in, -1, 1), h.uniform(out*in, -1, 1), h.uniform(out, -1, 1), h.uniform(n*out, -1, 1)
		x, w, bias, r := f64(xv), f64(wv), f64(bv), f64(rv)
		fwd := func(x, w, bias []float64) []float64 {
			return specAddBias(specMatMul(nil, x, w, n, in, out, in, false, true, 1, 0), bias, n, out, 1)
		}
		dx := specMatMul(nil, r, w, n, out, out, in, false, false, 1, 0)
		dw := specMatMul(nil, r, x, n, out, n, in, true, false, 1, 0)
		db := specBiasGrad(r, n, out, 1)
		fdCheck(t, "dx", func(x []float64) float64 { return dot(r, fwd(x, w, bias)) }, x, dx)
		fdCheck(t, "dW", func(w []float64) float64 { return dot(r, fwd(x, w, bias)) }, w, dw)
		fdCheck(t, "db", func(bias []float64) float64 { return dot(r, fwd(x, w, bias)) }, bias, db)

		xt, wt, rt := h.in("x", xv, n, in), h.in("w", wv, out, in), h.in("dy", rv, n, out)
		gx, gw, gb := h.out(nan, n, in), h.out(nan, out, in), h.out(nan, out)
		h.run(func(p kernels.Program) {
			p.MatMul(gx, rt, wt, false, false, 1, 0)
			p.MatMul(gw, rt, xt, true, false, 1, 0)
			p.BiasGrad(gb, rt)
		})
		atol, rtol := dotTol(out, rms(rv)*rms(wv))
		check(t, "backend dx", h.get(gx), dx, atol, rtol)
		atol, rtol = dotTol(n, rms(rv)*rms(xv))
		check(t, "backend dW", h.get(gw), dw, atol, rtol)
		atol, rtol = dotTol(n, rms(rv))
		check(t, "backend db", h.get(gb), db, atol, rtol)
	})
	testGradientsExtended(t, b)
}

// testGradientsExtended is testGradients for the activations, dropout,
// average pool and losses of the extended op set.
func testGradientsExtended(t *testing.T, b kernels.Backend) {
	nan := float32(math.NaN())
	t.Run("Tanh", func(t *testing.T) {
		h := newHarness(t, b, 20100)
		xv, rv := h.uniform(50, -4, 4), h.uniform(50, -1, 1)
		x, r := f64(xv), f64(rv)
		y := specTanh(x)
		fdCheck(t, "dx", func(x []float64) float64 { return dot(r, specTanh(x)) }, x, specTanhBackward(r, y))
		y32 := f32(y)
		yt, rt, gx := h.in("y", y32, 50), h.in("dy", rv, 50), h.out(nan, 50)
		h.run(func(p kernels.Program) { p.TanhBackward(gx, rt, yt) })
		check(t, "backend dx", h.get(gx), specTanhBackward(r, f64(y32)), 2*eps32, 8*eps32)
	})
	t.Run("ELU", func(t *testing.T) {
		h := newHarness(t, b, 20101)
		const alpha = 0.7
		xv, rv := h.uniform(50, -4, 4), h.uniform(50, -1, 1)
		awayFrom(xv, 1e-3, 0)
		x, r := f64(xv), f64(rv)
		dx := specELUBackward(r, x, alpha)
		fdCheck(t, "dx", func(x []float64) float64 { return dot(r, specELU(x, alpha)) }, x, dx)
		xt, rt, gx := h.in("x", xv, 50), h.in("dy", rv, 50), h.out(nan, 50)
		h.run(func(p kernels.Program) { p.ELUBackward(gx, rt, xt, alpha) })
		check(t, "backend dx", h.get(gx), dx, 1e-30, 16*eps32)
	})
	t.Run("Softplus", func(t *testing.T) {
		h := newHarness(t, b, 20102)
		const beta, threshold = 2, 5
		xv, rv := h.uniform(50, -6, 6), h.uniform(50, -1, 1)
		awayFrom(xv, 1e-3, threshold/beta) // the switch to x, where Softplus jumps by log1p(e⁻⁵)/2
		x, r := f64(xv), f64(rv)
		dx := specSoftplusBackward(r, x, beta, threshold)
		fdCheck(t, "dx", func(x []float64) float64 { return dot(r, specSoftplus(x, beta, threshold)) }, x, dx)
		xt, rt, gx := h.in("x", xv, 50), h.in("dy", rv, 50), h.out(nan, 50)
		h.run(func(p kernels.Program) { p.SoftplusBackward(gx, rt, xt, beta, threshold) })
		check(t, "backend dx", h.get(gx), dx, 1e-30, 16*eps32)
	})
	t.Run("Dropout", func(t *testing.T) {
		h := newHarness(t, b, 20103)
		const pr, seed, step = 0.4, 5, 3
		xv, rv := h.uniform(50, -1, 1), h.uniform(50, -1, 1)
		x, r := f64(xv), f64(rv)
		dx := specDropout(r, pr, seed, step) // the backward is the forward's mask applied to dy
		fdCheck(t, "dx", func(x []float64) float64 { return dot(r, specDropout(x, pr, seed, step)) }, x, dx)
		rt, gx := h.in("dy", rv, 50), h.out(nan, 50)
		state := h.in("state", stepState(0.1, step), kernels.StepStateLen)
		h.run(func(p kernels.Program) { p.DropoutBackward(gx, rt, state, pr, seed) })
		check(t, "backend dx", h.get(gx), dx, 0, eps32/2)
	})
	t.Run("AvgPool2D", func(t *testing.T) {
		h := newHarness(t, b, 20104)
		// Overlapping rows, gapped columns.
		pp := kernels.Pool2DParams{KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 3}
		xs := []int{2, 2, 7, 9}
		geo, ys := poolGeom(t, xs, pp)
		xv, rv := h.uniform(kernels.Numel(xs), -1, 1), h.uniform(kernels.Numel(ys), -1, 1)
		x, r := f64(xv), f64(rv)
		dx := specAvgPool2DBackward(r, geo)
		fdCheck(t, "dx", func(x []float64) float64 { return dot(r, specAvgPool2D(x, geo)) }, x, dx)
		rt, gx := h.in("dy", rv, ys...), h.out(nan, xs...)
		h.run(func(p kernels.Program) { p.AvgPool2DBackward(gx, rt, pp) })
		atol, rtol := dotTol(2, rms(rv)/6)
		check(t, "backend dx", h.get(gx), dx, atol, rtol)
	})
	t.Run("BCEWithLogits", func(t *testing.T) {
		h := newHarness(t, b, 20105)
		xv, tv := h.uniform(30, -6, 6), h.uniform(30, 0, 1)
		x, tg := f64(xv), f64(tv)
		dx := specBCEWithLogitsBackward(x, tg)
		fdCheck(t, "dx", func(x []float64) float64 { return specBCEWithLogitsLoss(x, tg) }, x, dx)
		xt, tt, gx := h.in("x", xv, 5, 6), h.in("target", tv, 5, 6), h.out(nan, 5, 6)
		h.run(func(p kernels.Program) { p.BCEWithLogitsBackward(gx, xt, tt) })
		check(t, "backend dx", h.get(gx), dx, 4*eps32/30, 8*eps32)
	})
	for _, logInput := range []bool{true, false} {
		t.Run(fmt.Sprint("PoissonNLL/logInput=", logInput), func(t *testing.T) {
			h := newHarness(t, b, 20106)
			const eps = 1e-3
			xv, tv := h.uniform(30, -2, 2), h.uniform(30, 0, 4)
			if !logInput {
				xv = h.uniform(30, 0.05, 4)
			}
			x, tg := f64(xv), f64(tv)
			dx := specPoissonNLLBackward(x, tg, logInput, eps)
			fdCheck(t, "dx", func(x []float64) float64 { return specPoissonNLLLoss(x, tg, logInput, eps) }, x, dx)
			xt, tt, gx := h.in("x", xv, 30), h.in("target", tv, 30), h.out(nan, 30)
			h.run(func(p kernels.Program) { p.PoissonNLLBackward(gx, xt, tt, logInput, eps) })
			check(t, "backend dx", h.get(gx), dx, 8*eps32*4/30, 16*eps32)
		})
	}
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
