package vulkan

import "github.com/vkneuro/vkneuro/kernels"

// Softmax and its gradient: one work-group per row along the axis, the
// row's max and sums reduced in shared memory.

// softmaxPush is the push-constant block of softmax.comp and
// softmax_bwd.comp: Rows rows of N elements Inner apart.
type softmaxPush struct {
	Rows, N, Inner uint32
	Log            uint32 // 1: log-softmax
}

// rowGrid spreads rows work-groups over a 2-D grid within the 65535 limit.
func rowGrid(rows int) (gx, gy int) {
	gx = min(rows, 65535)
	return gx, ceilDiv(rows, gx)
}

// Softmax records softmax.comp: one work-group per row.
func (p *Program) Softmax(y, x *kernels.Tensor, dim int, log bool) {
	p.rows("Softmax", "softmax", dim, log, []string{"x", "y"}, x, y)
}

// SoftmaxBackward records softmax_bwd.comp.
func (p *Program) SoftmaxBackward(dx, dy, y *kernels.Tensor, dim int, log bool) {
	p.rows("SoftmaxBackward", "softmax_bwd", dim, log, []string{"dy", "y", "dx"}, dy, y, dx)
}

// rows records shader over the rows along axis dim of same-shape
// tensors ts (its bindings, in order), one work-group per row.
func (p *Program) rows(op, shader string, dim int, log bool, names []string, ts ...*kernels.Tensor) {
	if p.err != nil || !p.ok(kernels.SameShape(op, ts...)) {
		return
	}
	outer, n, inner, err := kernels.AxisDims(op, ts[0], dim)
	if !p.ok(err) {
		return
	}
	bs, ok := p.bufs(op, names, ts...)
	if !ok {
		return
	}
	rows := outer * inner
	gx, gy := rowGrid(rows)
	p.dispatch(op, shader, []uint32{u32(pow2(n, 32, 256)), 1, 1}, bs,
		softmaxPush{Rows: u32(rows), N: u32(n), Inner: u32(inner), Log: b32(log)}, gx, gy, 1)
}
