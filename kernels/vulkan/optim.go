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
	if p.err != nil || !p.ok(kernels.SameShape("SGD", param, grad, buf)) || !p.ok(kernels.StepStateShape("SGD", state)) {
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
