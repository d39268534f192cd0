package vulkan

import "github.com/vkneuro/vkneuro/kernels"

// Pooling: one invocation per output element forward; backward one
// writer per element too (a scatter where windows do not overlap, a
// gather where they do), so no atomics are needed.

// poolPush is the push-constant block of maxpool.comp and
// maxpool_bwd.comp: Total elements (outputs forward, inputs backward)
// of planes H×W pooled to Ho×Wo.
type poolPush struct {
	Total, H, W, Ho, Wo, KH, KW, SH, SW uint32
}

func newPoolPush(total int, g kernels.PoolGeom) poolPush {
	return poolPush{Total: u32(total), H: u32(g.H), W: u32(g.W), Ho: u32(g.Ho), Wo: u32(g.Wo),
		KH: u32(g.KH), KW: u32(g.KW), SH: u32(g.StrideH), SW: u32(g.StrideW)}
}

// maxpoolScatterPush is maxpool_scatter.comp's push-constant block.
type maxpoolScatterPush struct {
	Total uint32 // planes·Ho·Wo
	HW    uint32 // H·W, an input plane
	OHW   uint32 // Ho·Wo, an output plane
}

// MaxPool2D records maxpool.comp.
func (p *Program) MaxPool2D(y, argmax, x *kernels.Tensor, pp kernels.Pool2DParams) {
	const op = "MaxPool2D"
	if p.err != nil {
		return
	}
	g, err := kernels.PoolGeometry(op, x, pp)
	if !p.ok(err) || !p.ok(kernels.CheckPoolOut(op, "y", y, g)) || !p.ok(kernels.CheckPoolOut(op, "argmax", argmax, g)) {
		return
	}
	bs, ok := p.bufs(op, []string{"x", "y", "argmax"}, x, y, argmax)
	if !ok {
		return
	}
	total := y.Len()
	p.dispatch(op, "maxpool", []uint32{wgElem, 1, 1}, bs, newPoolPush(total, g), elemGroups(total), 1, 1)
}

// MaxPool2DBackward records, for non-overlapping windows (the usual
// stride = kernel), a zero fill of dx and maxpool_scatter.comp, one
// write per window; for overlapping windows maxpool_bwd.comp, a gather
// over the windows covering each input element.
func (p *Program) MaxPool2DBackward(dx, dy, argmax *kernels.Tensor, pp kernels.Pool2DParams) {
	const op = "MaxPool2DBackward"
	if p.err != nil {
		return
	}
	g, err := kernels.PoolGeometry(op, dx, pp)
	if !p.ok(err) || !p.ok(kernels.CheckPoolOut(op, "dy", dy, g)) || !p.ok(kernels.CheckPoolOut(op, "argmax", argmax, g)) {
		return
	}
	bs, ok := p.bufs(op, []string{"dy", "argmax", "dx"}, dy, argmax, dx)
	if !ok {
		return
	}
	if g.StrideH >= g.KH && g.StrideW >= g.KW {
		if !p.ok(wrap(op, p.seq.Fill(bs[2], 0))) {
			return
		}
		p.cmds++
		total := dy.Len()
		p.dispatch(op, "maxpool_scatter", []uint32{wgElem, 1, 1}, bs,
			maxpoolScatterPush{Total: u32(total), HW: u32(g.H * g.W), OHW: u32(g.Ho * g.Wo)}, elemGroups(total), 1, 1)
		return
	}
	total := dx.Len()
	p.dispatch(op, "maxpool_bwd", []uint32{wgElem, 1, 1}, bs, newPoolPush(total, g), elemGroups(total), 1, 1)
}
