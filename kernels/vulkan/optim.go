package vulkan

import "github.com/vkneuro/vkneuro/kernels"

// Optimizers: one element-wise pass per parameter tensor, reading the
// per-step values (learning rate, first step) from the step-state
// tensor when the dispatch runs, so a schedule never re-records a step.

// sgdPush is sgd.comp's push-constant block.
type sgdPush struct {
	N           uint32
	Momentum    float32
	Damp        float32 // 1 − dampening, formed in float64
	WeightDecay float32
	Nesterov    uint32
}

// SGD updates p in place (sgd.comp) at lr = state[StepLR].
func (p *Program) SGD(param, grad, buf, state *kernels.Tensor, o kernels.SGDParams) {
	if p.err != nil || !p.ok(kernels.SGDOperands("SGD", param, grad, buf, state, o)) {
		return
	}
	bs, ok := p.bufs("SGD", []string{"p", "grad", "buf", "state"}, param, grad, buf, state)
	if !ok {
		return
	}
	n := param.Len()
	p.dispatch("SGD", "sgd", []uint32{wgElem, 1, 1}, bs,
		sgdPush{N: u32(n), Momentum: float32(o.Momentum), Damp: float32(1 - o.Dampening), WeightDecay: float32(o.WeightDecay), Nesterov: b32(o.Nesterov)},
		elemGroups(n), 1, 1)
}

// adamPush is adam.comp's push-constant block.
type adamPush struct {
	N         uint32
	Beta1, C1 float32 // β1 and 1 − β1, formed in float64
	Beta2, C2 float32
	Eps, WD   float32
	Decoupled uint32
}

// Adam updates p, m and v in place (adam.comp) with torch.optim.Adam,
// or AdamW when o.Decoupled is set, at the step's values in state.
func (p *Program) Adam(param, grad, m, v, state *kernels.Tensor, o kernels.AdamParams) {
	if p.err != nil || !p.ok(kernels.AdamOperands("Adam", param, grad, m, v, state, o)) {
		return
	}
	bs, ok := p.bufs("Adam", []string{"p", "grad", "m", "v", "state"}, param, grad, m, v, state)
	if !ok {
		return
	}
	n := param.Len()
	p.dispatch("Adam", "adam", []uint32{wgElem, 1, 1}, bs,
		adamPush{N: u32(n), Beta1: float32(o.Beta1), C1: float32(1 - o.Beta1), Beta2: float32(o.Beta2), C2: float32(1 - o.Beta2),
			Eps: float32(o.Eps), WD: float32(o.WeightDecay), Decoupled: b32(o.Decoupled)},
		elemGroups(n), 1, 1)
}
