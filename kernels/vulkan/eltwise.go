package vulkan

import (
	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
)

// Element-wise ops run in eltwise.comp, the op a specialization
// constant (one pipeline per op): the activations and their gradients
// here, and the gradients of losses and penalties and the bias add next
// to their pairs (loss.go, bias.go).

// eltwisePush is eltwise.comp's push-constant block; P0, P1 and S mean
// what the shader's op table says for each op.
type eltwisePush struct {
	N, P0, P1 uint32
	S         float32
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
)

// eltwise records out[i] = f(a[i], b[i]) for i < push.N.
func (p *Program) eltwise(op string, code int, a, b, out *engine.Buffer, push eltwisePush) {
	p.dispatch(op, "eltwise", []uint32{wgElem, 1, 1, u32(code)}, []*engine.Buffer{a, b, out}, push, elemGroups(int(push.N)), 1, 1)
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
	p.eltwise(op, code, bs[1], bb, bs[0], push)
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
