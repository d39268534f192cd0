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
	st, ok := p.stepState("SGD", state)
	if !ok {
		return
	}
	mom, damp, wd := float32(o.Momentum), float32(1-o.Dampening), float32(o.WeightDecay)
	nesterov := o.Nesterov
	// Without momentum buf is neither read nor written, so it is not an
	// operand of the pass (nor of a profile's traffic).
	names, ts := []string{"p", "grad", "buf"}, []*kernels.Tensor{param, grad, buf}
	if mom == 0 {
		names, ts = names[:2], ts[:2]
	}
	p.elementwise("SGD", names, ts, func(lo, hi int, s [][]float32) {
		pd, gd := s[0][lo:hi], s[1][lo:hi]
		var bd []float32
		if mom != 0 {
			bd = s[2][lo:hi]
		}
		lr := st[kernels.StepLR]
		switch {
		case mom == 0:
			for i, v := range pd {
				g := gd[i] + wd*v
				pd[i] = v - lr*g
			}
		case st[kernels.StepFirst] != 0:
			for i, v := range pd {
				g := gd[i] + wd*v
				bd[i] = g
				if nesterov {
					g += mom * g
				}
				pd[i] = v - lr*g
			}
		default:
			for i, v := range pd {
				g := gd[i] + wd*v
				b := mom*bd[i] + damp*g
				bd[i] = b
				if nesterov {
					g += mom * b
				} else {
					g = b
				}
				pd[i] = v - lr*g
			}
		}
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

// Adam updates p in place with torch.optim.Adam, or AdamW when
// o.Decoupled is set (kernels.Ops.Adam), in PyTorch's order of float32
// operations.
func (p *Program) Adam(param, grad, m, v, state *kernels.Tensor, o kernels.AdamParams) {
	if !p.ok(kernels.AdamOperands("Adam", param, grad, m, v, state, o)) {
		return
	}
	st, ok := p.stepState("Adam", state)
	if !ok {
		return
	}
	// The coefficients are formed in float64 and rounded once, as
	// PyTorch passes them to its float32 kernels as Python floats.
	b1, c1 := float32(o.Beta1), float32(1-o.Beta1)
	b2, c2 := float32(o.Beta2), float32(1-o.Beta2)
	eps, wd := float32(o.Eps), float32(o.WeightDecay)
	decoupled := o.Decoupled
	p.elementwise("Adam", []string{"p", "grad", "m", "v"}, []*kernels.Tensor{param, grad, m, v}, func(lo, hi int, s [][]float32) {
		pd, gd, md, vd := s[0][lo:hi], s[1][lo:hi], s[2][lo:hi], s[3][lo:hi]
		gd, md, vd = gd[:len(pd)], md[:len(pd)], vd[:len(pd)]
		lr, bc2 := st[kernels.StepAdamLR], st[kernels.StepAdamBC2]
		decay := st[kernels.StepDecay]
		for i, w := range pd {
			g := gd[i]
			if decoupled {
				w *= decay
			} else if wd != 0 {
				g += wd * w
			}
			mi := b1*md[i] + c1*g
			vi := b2*vd[i] + c2*g*g
			md[i], vd[i] = mi, vi
			denom := float32(math.Sqrt(float64(vi)))/bc2 + eps
			pd[i] = w - lr*(mi/denom)
		}
	})
}
