package vulkan

import (
	"fmt"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
)

// Reductions, losses and penalties: sums of a per-element term in
// reduce_op.comp (the term a specialization constant), two-pass when
// one work-group would take too long, so the result does not depend on
// the order in which groups run. Each loss and penalty sits next to its
// gradient, an element-wise op.

// reducePush is reduce_op.comp's push-constant block.
type reducePush struct {
	N    uint32
	C    uint32 // NLL: classes per row
	Acc  uint32 // 1: add into out instead of overwriting
	S    float32
	Eps  float32 // POISSON's
	Slot uint32  // NLL's fault slot
}

// reduce op codes, as in reduce_op.comp.
const (
	redSum = iota
	redSq
	redAbs
	redBCE
	redMSE
	redNLL
	redBCELogits
	redPoissonLog
	redPoisson
)

// reduceElems is how many elements one reduction group covers before a
// second pass is worth it.
const reduceElems = 8 * wgReduce

// reduce records out[0] = (acc ? out[0] : 0) + s·Σ_{i<n} term(i): one
// dispatch when one group suffices, else per-group partials into scratch
// and a second one-group pass over them.
// push.N, Acc and S are set here; C, Eps and Slot are the term's, and
// faults is the fault buffer of a checked term (NLL), nil for others.
func (p *Program) reduce(op string, code int, x, t, out, faults *engine.Buffer, n int, acc bool, s float32, push reducePush) {
	spec := []uint32{wgReduce, 1, 1, u32(code)}
	groups := min(ceilDiv(n, reduceElems), wgReduce)
	if faults == nil {
		faults = p.be.dummy
	}
	push.N = u32(n)
	if groups == 1 {
		push.Acc, push.S = b32(acc), s
		p.dispatch(op, "reduce_op", spec, []*engine.Buffer{x, t, out, faults}, push, 1, 1, 1)
		return
	}
	part := p.newScratch(op, groups)
	if part == nil {
		return
	}
	push.S = 1
	p.dispatch(op, "reduce_op", spec, []*engine.Buffer{x, t, part, faults}, push, groups, 1, 1)
	p.dispatch(op, "reduce_op", []uint32{wgReduce, 1, 1, redSum}, []*engine.Buffer{part, part, out, p.be.dummy},
		reducePush{N: u32(groups), Acc: b32(acc), S: s}, 1, 1, 1)
}

func (p *Program) sum(op string, out, x *kernels.Tensor, mean bool) {
	if p.err != nil || !p.ok(kernels.Scalar(op, "out", out)) || !p.ok(kernels.SameLen(op, x)) {
		return
	}
	bs, ok := p.bufs(op, []string{"out", "x"}, out, x)
	if !ok {
		return
	}
	s := float32(1)
	if mean {
		s = 1 / float32(x.Len())
	}
	p.reduce(op, redSum, bs[1], bs[1], bs[0], nil, x.Len(), false, s, reducePush{})
}

// Sum sets out[0] = Σ x.
func (p *Program) Sum(out, x *kernels.Tensor) { p.sum("Sum", out, x, false) }

// Mean sets out[0] = Σ x / len(x).
func (p *Program) Mean(out, x *kernels.Tensor) { p.sum("Mean", out, x, true) }

// loss records the mean of a term over same-shape input and target;
// push carries the term's parameters.
func (p *Program) loss(op string, code int, loss, a, t *kernels.Tensor, push reducePush) {
	if p.err != nil || !p.ok(kernels.LossShapes(op, loss, a, t)) {
		return
	}
	bs, ok := p.bufs(op, []string{"loss", "input", "target"}, loss, a, t)
	if ok {
		p.reduce(op, code, bs[1], bs[2], bs[0], nil, a.Len(), false, 1/float32(a.Len()), push)
	}
}

// lossGrad records the element-wise gradient of a mean loss over
// same-shape input and target: push.S, the shader's scale, is
// multiplied by 1/n here; names name the gradient, the input and the
// target.
func (p *Program) lossGrad(op string, code int, names []string, grad, a, t *kernels.Tensor, push eltwisePush) {
	if a == nil {
		p.ok(fmt.Errorf("kernels: %s: %s is nil", op, names[1]))
		return
	}
	push.S /= float32(a.Len())
	p.pointwise(op, code, names, grad, a, t, push)
}

// BCELoss sets loss[0] = −mean(t·log p + (1−t)·log(1−p)), logs clamped at −100.
func (p *Program) BCELoss(loss, pr, target *kernels.Tensor) {
	p.loss("BCELoss", redBCE, loss, pr, target, reducePush{})
}

// BCEBackward sets dp = (p − t)/max(p(1−p), 1e-12)/n.
func (p *Program) BCEBackward(dp, pr, target *kernels.Tensor) {
	p.lossGrad("BCEBackward", opBCEBwd, []string{"dp", "p", "target"}, dp, pr, target, eltwisePush{S: 1})
}

// MSELoss sets loss[0] = mean((y − t)²).
func (p *Program) MSELoss(loss, y, target *kernels.Tensor) {
	p.loss("MSELoss", redMSE, loss, y, target, reducePush{})
}

// MSEBackward sets dy = 2(y − t)/n.
func (p *Program) MSEBackward(dy, y, target *kernels.Tensor) {
	p.lossGrad("MSEBackward", opMSEBwd, []string{"dy", "y", "target"}, dy, y, target, eltwisePush{S: 2})
}

// NLLLoss sets loss[0] = −mean(logp[i, target[i]]). A target that is
// not a class index is reported by Run (a fault check, fault.go).
func (p *Program) NLLLoss(loss, logp, target *kernels.Tensor) {
	if p.err != nil {
		return
	}
	n, c, err := kernels.NLLDims("NLLLoss", logp, target)
	if !p.ok(err) || !p.ok(kernels.Scalar("NLLLoss", "loss", loss)) {
		return
	}
	bs, ok := p.bufs("NLLLoss", []string{"loss", "logp", "target"}, loss, logp, target)
	if !ok {
		return
	}
	if faults, slot, ok := p.faults.slot(p, faultCheck{op: "NLLLoss", target: bs[2], classes: c}); ok {
		p.reduce("NLLLoss", redNLL, bs[1], bs[2], bs[0], faults, n, false, 1/float32(n), reducePush{C: u32(c), Slot: slot})
	}
}

// NLLBackward sets dlogp[i,c] = −1/N where c == target[i], else 0, with
// NLLLoss's check of the targets.
func (p *Program) NLLBackward(dlogp, target *kernels.Tensor) {
	if p.err != nil {
		return
	}
	n, c, err := kernels.NLLDims("NLLBackward", dlogp, target)
	if !p.ok(err) {
		return
	}
	bs, ok := p.bufs("NLLBackward", []string{"dlogp", "target"}, dlogp, target)
	if !ok {
		return
	}
	if faults, slot, ok := p.faults.slot(p, faultCheck{op: "NLLBackward", target: bs[1], classes: c}); ok {
		p.eltwise("NLLBackward", opNLLBwd, bs[0], bs[1], bs[0], faults, eltwisePush{N: u32(n * c), P0: u32(c), P1: slot, S: -1 / float32(n)})
	}
}

// BCEWithLogitsLoss sets loss[0] to the mean binary cross-entropy of
// σ(x) against t, in PyTorch's stable form.
func (p *Program) BCEWithLogitsLoss(loss, x, target *kernels.Tensor) {
	p.loss("BCEWithLogitsLoss", redBCELogits, loss, x, target, reducePush{})
}

// BCEWithLogitsBackward sets dx = (σ(x) − t)/n.
func (p *Program) BCEWithLogitsBackward(dx, x, target *kernels.Tensor) {
	p.lossGrad("BCEWithLogitsBackward", opBCELogitsBwd, []string{"dx", "x", "target"}, dx, x, target, eltwisePush{S: 1})
}

// PoissonNLLLoss sets loss[0] to the mean of exp(x) − t·x (logInput) or
// x − t·log(x + eps).
func (p *Program) PoissonNLLLoss(loss, x, target *kernels.Tensor, logInput bool, eps float32) {
	code := redPoisson
	if logInput {
		code = redPoissonLog
	}
	p.loss("PoissonNLLLoss", code, loss, x, target, reducePush{Eps: eps})
}

// PoissonNLLBackward sets dx = (exp(x) − t)/n (logInput) or
// (1 − t/(x + eps))/n.
func (p *Program) PoissonNLLBackward(dx, x, target *kernels.Tensor, logInput bool, eps float32) {
	code := opPoissonBwd
	if logInput {
		code = opPoissonLogBwd
	}
	p.lossGrad("PoissonNLLBackward", code, []string{"dx", "x", "target"}, dx, x, target, eltwisePush{S: 1, S2: eps})
}

// penalty records coef·Σ term(w) added into loss[0].
func (p *Program) penalty(op string, code int, loss, w *kernels.Tensor, coef float32) {
	if p.err != nil || !p.ok(kernels.Scalar(op, "loss", loss)) || !p.ok(kernels.SameLen(op, w)) {
		return
	}
	bs, ok := p.bufs(op, []string{"loss", "w"}, loss, w)
	if ok {
		p.reduce(op, code, bs[1], bs[1], bs[0], nil, w.Len(), true, coef, reducePush{})
	}
}

// L2Penalty adds coef·Σ w² into loss[0].
func (p *Program) L2Penalty(loss, w *kernels.Tensor, coef float32) {
	p.penalty("L2Penalty", redSq, loss, w, coef)
}

// L2PenaltyGrad adds 2·coef·w into dw.
func (p *Program) L2PenaltyGrad(dw, w *kernels.Tensor, coef float32) {
	p.pointwise("L2PenaltyGrad", opAddScaled, []string{"dw", "w"}, dw, w, nil, eltwisePush{S: 2 * coef})
}

// L1Penalty adds coef·Σ |w| into loss[0].
func (p *Program) L1Penalty(loss, w *kernels.Tensor, coef float32) {
	p.penalty("L1Penalty", redAbs, loss, w, coef)
}

// L1PenaltyGrad adds coef·sign(w) into dw.
func (p *Program) L1PenaltyGrad(dw, w *kernels.Tensor, coef float32) {
	p.pointwise("L1PenaltyGrad", opAddSign, []string{"dw", "w"}, dw, w, nil, eltwisePush{S: coef})
}
