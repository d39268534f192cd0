package cpu

import "github.com/vkneuro/vkneuro/kernels"

// Dropout sets y = x·scale where element i is kept at the step that
// state[StepCount] holds when the op runs, else x·0; y may alias x.
func (p *Program) Dropout(y, x, state *kernels.Tensor, pr float32, seed uint32) {
	p.dropout("Dropout", []string{"y", "x"}, y, x, state, pr, seed)
}

// DropoutBackward sets dx = dy·scale where the forward kept element i,
// else dy·0, recomputing the forward's mask; dx may alias dy.
func (p *Program) DropoutBackward(dx, dy, state *kernels.Tensor, pr float32, seed uint32) {
	p.dropout("DropoutBackward", []string{"dx", "dy"}, dx, dy, state, pr, seed)
}

// dropout records out = in·mask·scale, the forward and the backward
// alike. Dropped elements are multiplied by 0 rather than set to 0, as
// PyTorch's x·mask, so a NaN or Inf input is not hidden.
func (p *Program) dropout(op string, names []string, out, in, state *kernels.Tensor, pr float32, seed uint32) {
	if !p.ok(kernels.DropoutCheck(op, pr, state)) {
		return
	}
	st, ok := p.stepState(op, state)
	if !ok {
		return
	}
	th, keepSome := kernels.DropoutThreshold(pr)
	scale := kernels.DropoutScale(pr)
	p.elementwise(op, names, []*kernels.Tensor{out, in}, func(lo, hi int, s [][]float32) {
		od, id := s[0][lo:hi], s[1][lo:hi]
		od = od[:len(id)]
		if !keepSome {
			for i, v := range id {
				od[i] = v * 0
			}
			return
		}
		key := kernels.DropoutKey(seed, kernels.StepCountOf(st))
		for i, v := range id {
			// The mask is drawn by the element's index in the whole
			// tensor, not in this goroutine's chunk.
			f := scale
			if kernels.DropoutElemHash(key, uint32(lo+i)) < th {
				f = 0
			}
			od[i] = v * f
		}
	})
}
