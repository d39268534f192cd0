package cpu

// Optimizers: torch.optim's single-tensor updates in float32, reading
// what changes per step from the step state when they run.

import (
	"math"

	"github.com/vkneuro/vkneuro/kernels"
)

// SGD updates p in place with torch.optim.SGD at lr = state[StepLR]
// (kernels.Ops.SGD).
func (p *Program) SGD(param, grad, buf, state *kernels.Tensor, o kernels.SGDParams) {
	if !p.ok(kernels.SGDOperands("SGD", param, grad, buf, state, o)) {
		return
	}
	p.update("SGD", param, grad, buf, nil, state, nil, kernels.UpdateParams{SGD: &o})
}

// Adam updates p in place with torch.optim.Adam, or AdamW when
// o.Decoupled is set (kernels.Ops.Adam), in PyTorch's order of float32
// operations.
func (p *Program) Adam(param, grad, m, v, state *kernels.Tensor, o kernels.AdamParams) {
	if !p.ok(kernels.AdamOperands("Adam", param, grad, m, v, state, o)) {
		return
	}
	p.update("Adam", param, grad, m, v, state, nil, kernels.UpdateParams{Adam: &o})
}

// Update applies the penalties' gradients and the optimizer to p in one
// pass, adding the penalties of the old p into loss (kernels.Ops.Update).
func (p *Program) Update(param, grad, buf, buf2, state, loss *kernels.Tensor, u kernels.UpdateParams) {
	if !p.ok(kernels.UpdateOperands("Update", param, grad, buf, buf2, state, loss, u)) {
		return
	}
	p.update("Update", param, grad, buf, buf2, state, loss, u)
}

// update records op (SGD, Adam or Update), checked by the caller, as an
// element-wise pass over chunks of the operands.
func (p *Program) update(op string, param, grad, buf, buf2, state, loss *kernels.Tensor, u kernels.UpdateParams) {
	r := newUpdateRule(u)
	names, ts := []string{"p", "grad"}, []*kernels.Tensor{param, grad}
	// Without momentum buf is neither read nor written, so it is not an
	// operand of the pass (nor of a profile's traffic).
	if r.adam || r.mom != 0 {
		names, ts = append(names, "buf"), append(ts, buf)
	}
	if r.adam {
		names, ts = append(names, "buf2"), append(ts, buf2)
	}
	s, ok := p.slices(op, names, ts...)
	if !ok {
		return
	}
	st, ok := p.stepState(op, state)
	if !ok {
		return
	}
	pen, ok := p.penalties(op, loss, u)
	if !ok {
		return
	}
	pd, gd := s[0], s[1]
	var bd, b2d []float32
	if len(s) > 2 {
		bd = s[2]
	}
	if len(s) > 3 {
		b2d = s[3]
	}
	n := len(pd)
	pen.parts(p.parts(n, elemGrain))
	body := func(part, lo, hi int) {
		sub := func(x []float32) []float32 {
			if x == nil {
				return nil
			}
			return x[lo:hi]
		}
		pen.step(part, r, st, pd[lo:hi], gd[lo:hi], sub(bd), sub(b2d))
	}
	p.add(func() error {
		pen.start(r, st)
		p.parallel(n, elemGrain, body)
		pen.finish()
		return nil
	})
}

// LinearWeightUpdate is Update of w with the gradient dyᵀ·x formed by
// the GEMM's packed form block by block (kernels.Ops.LinearWeightUpdate):
// each finished block of the gradient goes from the goroutine's scratch
// straight into the update of the same block of w, so the gradient never
// reaches memory and w and its optimizer state are read and written
// once. The blocks are those of MatMul(grad, dy, x, true, false, 1, 0),
// so the gradient's float32 values are MatMul's.
func (p *Program) LinearWeightUpdate(w, dy, x, buf, buf2, state, loss *kernels.Tensor, u kernels.UpdateParams) {
	rows, out, in, err := kernels.LinearUpdateOperands("LinearWeightUpdate", w, dy, x, buf, buf2, state, loss, u)
	if !p.ok(err) {
		return
	}
	r := newUpdateRule(u)
	names, ts := []string{"w", "dy", "x"}, []*kernels.Tensor{w, dy, x}
	if r.adam || r.mom != 0 {
		names, ts = append(names, "buf"), append(ts, buf)
	}
	if r.adam {
		names, ts = append(names, "buf2"), append(ts, buf2)
	}
	s, ok := p.slices("LinearWeightUpdate", names, ts...)
	if !ok {
		return
	}
	st, ok := p.stepState("LinearWeightUpdate", state)
	if !ok {
		return
	}
	pen, ok := p.penalties("LinearWeightUpdate", loss, u)
	if !ok {
		return
	}
	wd := s[0]
	var bd, b2d []float32
	if len(s) > 3 {
		bd = s[3]
	}
	if len(s) > 4 {
		b2d = s[4]
	}
	epi := func(part, i0, i1, j0, j1 int, blk []float32, ld int) {
		n := j1 - j0
		for i := i0; i < i1; i++ {
			off := i*in + j0
			var b, b2 []float32
			if bd != nil {
				b = bd[off : off+n]
			}
			if b2d != nil {
				b2 = b2d[off : off+n]
			}
			pen.step(part, r, st, wd[off:off+n], blk[(i-i0)*ld:(i-i0)*ld+n], b, b2)
		}
	}
	g := p.newGemm(out, in, rows, s[1], s[2], nil, true, false, 1, 0, epi)
	pen.parts(g.parts)
	exec := g.executor(p)
	p.add(func() error {
		pen.start(r, st)
		exec()
		pen.finish()
		return nil
	})
}

// stepState resolves a step-state tensor (kernels.StepStateLen values).
func (p *Program) stepState(op string, state *kernels.Tensor) ([]float32, bool) {
	if !p.ok(kernels.StepStateShape(op, state)) {
		return nil, false
	}
	s, ok := p.slices(op, []string{"state"}, state)
	if !ok {
		return nil, false
	}
	return s[0], true
}

// updateRule is the element-wise rule of Update: the penalties' gradient
// terms, then SGD's or Adam's step, with the coefficients formed as the
// unfused ops form them.
type updateRule struct {
	l1, l2x2 float32 // L1 and 2·L2 in float32, as L2PenaltyGrad forms it
	adam     bool
	// SGD: momentum, 1 − dampening (formed in float64), weight decay.
	mom, damp, wd float32
	nesterov      bool
	// Adam: β1, 1 − β1, β2, 1 − β2 (formed in float64), eps, weight decay.
	b1, c1, b2, c2, eps, awd float32
	decoupled                bool
}

func newUpdateRule(u kernels.UpdateParams) *updateRule {
	r := &updateRule{l1: u.L1, l2x2: 2 * u.L2}
	if o := u.SGD; o != nil {
		r.mom, r.damp, r.wd, r.nesterov = float32(o.Momentum), float32(1-o.Dampening), float32(o.WeightDecay), o.Nesterov
		return r
	}
	// The coefficients are formed in float64 and rounded once, as
	// PyTorch passes them to its float32 kernels as Python floats.
	o := u.Adam
	r.adam = true
	r.b1, r.c1 = float32(o.Beta1), float32(1-o.Beta1)
	r.b2, r.c2 = float32(o.Beta2), float32(1-o.Beta2)
	r.eps, r.awd, r.decoupled = float32(o.Eps), float32(o.WeightDecay), o.Decoupled
	return r
}

// penalize adds the penalties' gradient terms to g in place:
// g += L1·sign(w) (sign(0) = 0) then g += 2·L2·w, as L1PenaltyGrad and
// L2PenaltyGrad in that order.
func (r *updateRule) penalize(g, w []float32) {
	g = g[:len(w)]
	if r.l1 != 0 {
		cb := math.Float32bits(r.l1)
		for i, v := range w {
			// l1 with its sign flipped for negative w, masked to 0 for
			// w = ±0: random signs would defeat a branch predictor.
			b := math.Float32bits(v)
			nz := uint32(-int32(b&^(1<<31)) >> 31)
			g[i] += math.Float32frombits((cb ^ b&(1<<31)) & nz)
		}
	}
	if c := r.l2x2; c != 0 {
		for i, v := range w {
			g[i] += c * v
		}
	}
}

// apply steps w (and its optimizer state buf, buf2) with the gradient g
// at the step state st (kernels.Ops.SGD and Adam).
func (r *updateRule) apply(st, w, g, buf, buf2 []float32) {
	g = g[:len(w)]
	if r.adam {
		m, v := buf[:len(w)], buf2[:len(w)]
		lr, bc2 := st[kernels.StepAdamLR], st[kernels.StepAdamBC2]
		decay := st[kernels.StepDecay]
		b1, c1, b2, c2, eps, wd := r.b1, r.c1, r.b2, r.c2, r.eps, r.awd
		for i, x := range w {
			gi := g[i]
			if r.decoupled {
				x *= decay
			} else if wd != 0 {
				gi += wd * x
			}
			mi := b1*m[i] + c1*gi
			vi := b2*v[i] + c2*gi*gi
			m[i], v[i] = mi, vi
			denom := float32(math.Sqrt(float64(vi)))/bc2 + eps
			w[i] = x - lr*(mi/denom)
		}
		return
	}
	lr, mom, damp, wd := st[kernels.StepLR], r.mom, r.damp, r.wd
	switch {
	case mom == 0:
		for i, x := range w {
			gi := g[i] + wd*x
			w[i] = x - lr*gi
		}
	case st[kernels.StepFirst] != 0:
		b := buf[:len(w)]
		for i, x := range w {
			gi := g[i] + wd*x
			b[i] = gi
			if r.nesterov {
				gi += mom * gi
			}
			w[i] = x - lr*gi
		}
	default:
		b := buf[:len(w)]
		for i, x := range w {
			gi := g[i] + wd*x
			bi := mom*b[i] + damp*gi
			b[i] = bi
			if r.nesterov {
				gi += mom * bi
			} else {
				gi = bi
			}
			w[i] = x - lr*gi
		}
	}
}

// updateChunk is how many elements Update handles at a time: the sums of
// the old values, the penalties' terms and the step all find the chunk
// in L1.
const updateChunk = 1024

// penaltySums is a recorded Update's penalty terms: the loss they are
// added into (nil for none) and each goroutine's float64 partial sums of
// |w| and w² of the old values.
type penaltySums struct {
	loss   []float32
	l1, l2 float32
	sums   [][2]float64
	g      [][]float32 // per goroutine: the chunk's gradient with the penalties' terms
	sgd    sgdCoefs    // the Run's, for the vector loop (start)
}

// penalties prepares the penalty terms of op.
func (p *Program) penalties(op string, loss *kernels.Tensor, u kernels.UpdateParams) (*penaltySums, bool) {
	pen := &penaltySums{l1: u.L1, l2: u.L2}
	if loss != nil && (u.L1 != 0 || u.L2 != 0) {
		s, ok := p.slices(op, []string{"loss"}, loss)
		if !ok {
			return nil, false
		}
		pen.loss = s[0]
	}
	return pen, true
}

// parts makes room for n goroutines.
func (pen *penaltySums) parts(n int) {
	for len(pen.sums) < n {
		pen.sums = append(pen.sums, [2]float64{})
		pen.g = append(pen.g, make([]float32, updateChunk))
	}
}

// start readies a Run: zero sums, and the SGD coefficients of this
// step's state st, which every goroutine's vector loop then reads.
func (pen *penaltySums) start(r *updateRule, st []float32) {
	clear(pen.sums)
	if !r.adam {
		pen.sgd = r.coefs(st, pen.loss != nil)
	}
}

// sgdCoefs are an SGD update's coefficients and terms, as the vector
// loops take them (update_amd64.s): the layout is theirs.
type sgdCoefs struct {
	l1, l2x2, wd, lr, mom, damp float32
	flags                       uint32
}

// sgdCoefs flags.
const (
	sgdL1       = 1 << iota // the L1 term
	sgdL2                   // the L2 term
	sgdMomentum             // a momentum buffer
	sgdFirst                // the first step: buf = g
	sgdNesterov
	sgdSums // add Σ|w|, Σw² of the old w into the sums
)

// coefs are r's SGD coefficients at step state st.
func (r *updateRule) coefs(st []float32, sums bool) sgdCoefs {
	c := sgdCoefs{l1: r.l1, l2x2: r.l2x2, wd: r.wd, lr: st[kernels.StepLR], mom: r.mom, damp: r.damp}
	for _, f := range []struct {
		on  bool
		bit uint32
	}{{r.l1 != 0, sgdL1}, {r.l2x2 != 0, sgdL2}, {r.mom != 0, sgdMomentum}, {st[kernels.StepFirst] != 0, sgdFirst}, {r.nesterov, sgdNesterov}, {sums, sgdSums}} {
		if f.on {
			c.flags |= f.bit
		}
	}
	return c
}

// step is Update over one goroutine's range. SGD runs the vector loop
// (sgdVector) as far as it reaches; the rest, and Adam, go chunk by
// chunk: the old values' sums, then the gradient with the penalties'
// terms (in scratch: grad is left alone), then the optimizer's step.
func (pen *penaltySums) step(part int, r *updateRule, st, w, g, buf, buf2 []float32) {
	if !r.adam {
		n := sgdVector(w, g, buf, &pen.sgd, &pen.sums[part])
		w, g = w[n:], g[n:]
		if buf != nil {
			buf = buf[n:]
		}
	}
	penalized := r.l1 != 0 || r.l2x2 != 0
	for lo := 0; lo < len(w); lo += updateChunk {
		hi := min(lo+updateChunk, len(w))
		wc := w[lo:hi]
		if pen.loss != nil {
			if pen.l1 != 0 {
				pen.sums[part][0] += sumAbs64(wc)
			}
			if pen.l2 != 0 {
				pen.sums[part][1] += sumSq64(wc)
			}
		}
		gc := g[lo:hi]
		if penalized {
			t := pen.g[part][:len(wc)]
			copy(t, gc)
			r.penalize(t, wc)
			gc = t
		}
		var bc, b2c []float32
		if buf != nil {
			bc = buf[lo:hi]
		}
		if buf2 != nil {
			b2c = buf2[lo:hi]
		}
		r.apply(st, wc, gc, bc, b2c)
	}
}

// finish adds L1·Σ|w| and then L2·Σw² into the loss, each rounded to
// float32 as L1Penalty and L2Penalty round theirs.
func (pen *penaltySums) finish() {
	if pen.loss == nil {
		return
	}
	for q, coef := range []float32{pen.l1, pen.l2} {
		if coef == 0 {
			continue
		}
		var v float64
		for _, s := range pen.sums {
			v += s[q]
		}
		pen.loss[0] = float32(v*float64(coef) + float64(pen.loss[0]))
	}
}
