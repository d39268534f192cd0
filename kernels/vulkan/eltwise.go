package vulkan

import (
	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
)

// Element-wise ops run in eltwise.comp, the op a specialization
// constant (one pipeline per op): the activations and their gradients
// here, and the gradients of losses and penalties and the bias add next
// to their pairs (reduce.go, bias.go).

// eltwisePush is eltwise.comp's push-constant block; P0, P1, S and S2
// mean what the shader's op table says for each op.
type eltwisePush struct {
	N, P0, P1 uint32
	S, S2     float32
}

// eltwise op codes, as in eltwise.comp.
const (
	opReLU = iota
	opReLUBwd
	opSigmoid
	opSigmoidBwd
	opBCEBwd
	opMSEBwd
	opAddScaled
	opAddSign
	opNLLBwd
	opAddBias
	opTanh
	opTanhBwd
	opELU
	opELUBwd
	opSoftplus
	opSoftplusBwd
	opDropout
	opBCELogitsBwd
	opPoissonLogBwd
	opPoissonBwd
)

// eltwise records out[i] = f(a[i], b[i]) for i < push.N; faults is the
// fault buffer of a checked op (NLL_BWD), nil for the others.
func (p *Program) eltwise(op string, code int, a, b, out, faults *engine.Buffer, push eltwisePush) {
	if faults == nil {
		faults = p.be.dummy
	}
	p.dispatch(op, "eltwise", []uint32{wgElem, 1, 1, u32(code)}, []*engine.Buffer{a, b, out, faults}, push, elemGroups(int(push.N)), 1, 1)
}

// pointwise records out = f(a) (b nil) or out = f(a, b) over tensors of
// one shape; names name out, a and b for errors. push.N is set here.
func (p *Program) pointwise(op string, code int, names []string, out, a, b *kernels.Tensor, push eltwisePush) {
	ts := []*kernels.Tensor{out, a}
	if b != nil {
		ts = append(ts, b)
	}
	if p.err != nil || !p.ok(kernels.SameShape(op, ts...)) {
		return
	}
	bs, ok := p.bufs(op, names, ts...)
	if !ok {
		return
	}
	bb := bs[1]
	if b != nil {
		bb = bs[2]
	}
	push.N = u32(out.Len())
	p.eltwise(op, code, bs[1], bb, bs[0], nil, push)
}

// ReLU sets y = max(x, 0); y may alias x.
func (p *Program) ReLU(y, x *kernels.Tensor) {
	p.pointwise("ReLU", opReLU, []string{"y", "x"}, y, x, nil, eltwisePush{})
}

// ReLUBackward sets dx = dy where y > 0, else 0; dx may alias dy.
func (p *Program) ReLUBackward(dx, dy, y *kernels.Tensor) {
	p.pointwise("ReLUBackward", opReLUBwd, []string{"dx", "dy", "y"}, dx, dy, y, eltwisePush{})
}

// Sigmoid sets y = 1/(1+exp(−x)); y may alias x.
func (p *Program) Sigmoid(y, x *kernels.Tensor) {
	p.pointwise("Sigmoid", opSigmoid, []string{"y", "x"}, y, x, nil, eltwisePush{})
}

// SigmoidBackward sets dx = dy·y·(1−y); dx may alias dy.
func (p *Program) SigmoidBackward(dx, dy, y *kernels.Tensor) {
	p.pointwise("SigmoidBackward", opSigmoidBwd, []string{"dx", "dy", "y"}, dx, dy, y, eltwisePush{})
}

// Tanh sets y = tanh(x); y may alias x.
func (p *Program) Tanh(y, x *kernels.Tensor) {
	p.pointwise("Tanh", opTanh, []string{"y", "x"}, y, x, nil, eltwisePush{})
}

// TanhBackward sets dx = dy·(1 − y²); dx may alias dy.
func (p *Program) TanhBackward(dx, dy, y *kernels.Tensor) {
	p.pointwise("TanhBackward", opTanhBwd, []string{"dx", "dy", "y"}, dx, dy, y, eltwisePush{})
}

// ELU sets y = x for x > 0, else alpha·(exp(x) − 1); y may alias x.
func (p *Program) ELU(y, x *kernels.Tensor, alpha float32) {
	p.pointwise("ELU", opELU, []string{"y", "x"}, y, x, nil, eltwisePush{S: alpha})
}

// ELUBackward sets dx = dy for x > 0, else dy·alpha·exp(x), from the
// forward input x; dx may alias dy.
func (p *Program) ELUBackward(dx, dy, x *kernels.Tensor, alpha float32) {
	p.pointwise("ELUBackward", opELUBwd, []string{"dx", "dy", "x"}, dx, dy, x, eltwisePush{S: alpha})
}

// Softplus sets y = x where beta·x > threshold, else
// log(1 + exp(beta·x))/beta; y may alias x.
func (p *Program) Softplus(y, x *kernels.Tensor, beta, threshold float32) {
	if p.ok(kernels.SoftplusCheck("Softplus", beta, threshold)) {
		p.pointwise("Softplus", opSoftplus, []string{"y", "x"}, y, x, nil, eltwisePush{S: beta, S2: threshold})
	}
}

// SoftplusBackward sets dx = dy where beta·x > threshold, else
// dy·σ(beta·x), from the forward input x; dx may alias dy.
func (p *Program) SoftplusBackward(dx, dy, x *kernels.Tensor, beta, threshold float32) {
	if p.ok(kernels.SoftplusCheck("SoftplusBackward", beta, threshold)) {
		p.pointwise("SoftplusBackward", opSoftplusBwd, []string{"dx", "dy", "x"}, dx, dy, x, eltwisePush{S: beta, S2: threshold})
	}
}

// Dropout sets y = x·scale where element i is kept at the step that
// state[StepCount] holds when the op runs, else x·0; y may alias x.
func (p *Program) Dropout(y, x, state *kernels.Tensor, pr float32, seed uint32) {
	p.dropout("Dropout", []string{"y", "x", "state"}, y, x, state, pr, seed)
}

// DropoutBackward sets dx = dy·scale where the forward kept element i,
// else dy·0, recomputing the forward's mask; dx may alias dy.
func (p *Program) DropoutBackward(dx, dy, state *kernels.Tensor, pr float32, seed uint32) {
	p.dropout("DropoutBackward", []string{"dx", "dy", "state"}, dx, dy, state, pr, seed)
}

// dropout records out = in·mask·scale, the forward and the backward
// alike: the shader hashes each element's index with the seed and the
// step count it reads from state.
func (p *Program) dropout(op string, names []string, out, in, state *kernels.Tensor, pr float32, seed uint32) {
	if p.err != nil || !p.ok(kernels.DropoutCheck(op, pr, state)) || !p.ok(kernels.SameShape(op, out, in)) {
		return
	}
	bs, ok := p.bufs(op, names, out, in, state)
	if !ok {
		return
	}
	// With p ≥ 1 no element is kept: the threshold is then 0 and the
	// scale 0, so every element is multiplied by 0.
	th, _ := kernels.DropoutThreshold(pr)
	p.eltwise(op, opDropout, bs[1], bs[2], bs[0], nil, eltwisePush{N: u32(out.Len()), P0: th, P1: seed, S: kernels.DropoutScale(pr)})
}
