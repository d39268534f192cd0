package vulkan

import (
	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
)

// Pooling: one invocation per output element forward; backward one
// writer per element too (a scatter where windows do not overlap, a
// gather where they do), so no atomics are needed.

// poolPush is the push-constant block of maxpool.comp,
// maxpool_bwd.comp, avgpool.comp and avgpool_bwd.comp: Total elements
// (outputs forward, inputs backward) of planes H×W pooled to Ho×Wo.
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

// poolOperands checks a pool op whose operands ts (in binding order,
// named by names) are the input-shaped ts[in] (x forward, dx backward)
// and tensors of the pool's output shape, and resolves their buffers.
func (p *Program) poolOperands(op string, pp kernels.Pool2DParams, in int, names []string, ts ...*kernels.Tensor) (kernels.PoolGeom, []*engine.Buffer, bool) {
	if p.err != nil {
		return kernels.PoolGeom{}, nil, false
	}
	g, err := kernels.PoolGeometry(op, ts[in], pp)
	if !p.ok(err) {
		return g, nil, false
	}
	for i, t := range ts {
		if i != in && !p.ok(kernels.CheckPoolOut(op, names[i], t, g)) {
			return g, nil, false
		}
	}
	bs, ok := p.bufs(op, names, ts...)
	return g, bs, ok
}

// pool records shader over total elements that take loops loop
// iterations each (windowLoops, coverLoops).
func (p *Program) pool(op, shader string, spec []uint32, bs []*engine.Buffer, g kernels.PoolGeom, total, loops int) {
	if groups, ok := p.loopGroups(op, total, loops); ok {
		p.dispatch(op, shader, spec, bs, newPoolPush(total, g), groups, 1, 1)
	}
}

// windowLoops bounds the loop iterations of one output of a pool
// forward: the window's rows and taps, and the grid-stride step.
func windowLoops(g kernels.PoolGeom) int { return g.KH*(g.KW+1) + 1 }

// coverLoops bounds the loop iterations of one input element of a
// gathering pool backward: the windows covering it along each axis.
func coverLoops(g kernels.PoolGeom) int {
	rows, cols := ceilDiv(g.KH, g.StrideH), ceilDiv(g.KW, g.StrideW)
	return rows*(cols+1) + 1
}

// MaxPool2D records maxpool.comp.
func (p *Program) MaxPool2D(y, argmax, x *kernels.Tensor, pp kernels.Pool2DParams) {
	const op = "MaxPool2D"
	if g, bs, ok := p.poolOperands(op, pp, 0, []string{"x", "y", "argmax"}, x, y, argmax); ok {
		p.pool(op, "maxpool", []uint32{wgElem, 1, 1}, bs, g, y.Len(), windowLoops(g))
	}
}

// MaxPool2DBackward records, for non-overlapping windows (the usual
// stride = kernel), a zero fill of dx and maxpool_scatter.comp, one
// write per window; for overlapping windows maxpool_bwd.comp, a gather
// over the windows covering each input element.
func (p *Program) MaxPool2DBackward(dx, dy, argmax *kernels.Tensor, pp kernels.Pool2DParams) {
	const op = "MaxPool2DBackward"
	g, bs, ok := p.poolOperands(op, pp, 2, []string{"dy", "argmax", "dx"}, dy, argmax, dx)
	if !ok {
		return
	}
	if g.StrideH < g.KH || g.StrideW < g.KW {
		p.pool(op, "maxpool_bwd", []uint32{wgElem, 1, 1}, bs, g, dx.Len(), coverLoops(g))
		return
	}
	if !p.ok(wrap(op, p.seq.Fill(bs[2], 0))) {
		return
	}
	p.cmds++
	total := dy.Len()
	p.dispatch(op, "maxpool_scatter", []uint32{wgElem, 1, 1}, bs,
		maxpoolScatterPush{Total: u32(total), HW: u32(g.H * g.W), OHW: u32(g.Ho * g.Wo)}, elemGroups(total), 1, 1)
}

// AvgPool2D records avgpool.comp.
func (p *Program) AvgPool2D(y, x *kernels.Tensor, pp kernels.Pool2DParams) {
	const op = "AvgPool2D"
	if g, bs, ok := p.poolOperands(op, pp, 0, []string{"x", "y"}, x, y); ok {
		p.pool(op, "avgpool", []uint32{wgElem, 1, 1}, bs, g, y.Len(), windowLoops(g))
	}
}

// AvgPool2DBackward records avgpool_bwd.comp, one writer per element of
// dx: for non-overlapping windows (stride ≥ kernel) the one window
// covering it is computed, for overlapping ones the windows are
// gathered.
func (p *Program) AvgPool2DBackward(dx, dy *kernels.Tensor, pp kernels.Pool2DParams) {
	const op = "AvgPool2DBackward"
	g, bs, ok := p.poolOperands(op, pp, 1, []string{"dy", "dx"}, dy, dx)
	if !ok {
		return
	}
	overlap := g.StrideH < g.KH || g.StrideW < g.KW
	loops := 1
	if overlap {
		loops = coverLoops(g)
	}
	p.pool(op, "avgpool_bwd", []uint32{wgElem, 1, 1, b32(overlap)}, bs, g, dx.Len(), loops)
}
