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
	if p.err != nil {
		return
	}
	outer, n, inner, err := kernels.AxisDims("Softmax", x, dim)
	if !p.ok(err) || !p.ok(kernels.SameShape("Softmax", y, x)) {
		return
	}
	bs, ok := p.bufs("Softmax", []string{"x", "y"}, x, y)
	if !ok {
		return
	}
	rows := outer * inner
	gx, gy := rowGrid(rows)
	p.dispatch("Softmax", "softmax", []uint32{u32(pow2(n, 32, 256)), 1, 1}, bs,
		softmaxPush{Rows: u32(rows), N: u32(n), Inner: u32(inner), Log: b32(log)}, gx, gy, 1)
}

// SoftmaxBackward records softmax_bwd.comp.
func (p *Program) SoftmaxBackward(dx, dy, y *kernels.Tensor, dim int, log bool) {
	if p.err != nil {
		return
	}
	outer, n, inner, err := kernels.AxisDims("SoftmaxBackward", y, dim)
	if !p.ok(err) || !p.ok(kernels.SameShape("SoftmaxBackward", dx, dy, y)) {
		return
	}
	bs, ok := p.bufs("SoftmaxBackward", []string{"dy", "y", "dx"}, dy, y, dx)
	if !ok {
		return
	}
	rows := outer * inner
	gx, gy := rowGrid(rows)
	p.dispatch("SoftmaxBackward", "softmax_bwd", []uint32{u32(pow2(n, 32, 256)), 1, 1}, bs,
		softmaxPush{Rows: u32(rows), N: u32(n), Inner: u32(inner), Log: b32(log)}, gx, gy, 1)
}
