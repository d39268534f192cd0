package vulkan

import (
	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
)

// Bias: AddBias is an element-wise op (eltwise.comp); BiasGrad is a
// column sum in bias_grad.comp, which also sums the chunk partials of
// the convolution weight gradients.

// biasGradPush is bias_grad.comp's push-constant block: the source
// viewed as [Outer, F, Inner], Chunk positions per work-group.
type biasGradPush struct {
	Outer, F, Inner, Chunk uint32
}

// AddBias adds bias[j] to x[i, j, ...] in place.
func (p *Program) AddBias(x, bias *kernels.Tensor) {
	if p.err != nil {
		return
	}
	_, f, inner, err := kernels.BiasDims("AddBias", x, bias)
	if !p.ok(err) {
		return
	}
	bs, ok := p.bufs("AddBias", []string{"x", "bias"}, x, bias)
	if ok {
		p.eltwise("AddBias", opAddBias, bs[0], bs[1], bs[0], nil, eltwisePush{N: u32(x.Len()), P0: u32(inner), P1: u32(f)})
	}
}

// BiasGrad sets db[j] = Σ over all other axes of dy[i, j, ...].
func (p *Program) BiasGrad(db, dy *kernels.Tensor) {
	if p.err != nil {
		return
	}
	outer, f, inner, err := kernels.BiasDims("BiasGrad", dy, db)
	if !p.ok(err) {
		return
	}
	bs, ok := p.bufs("BiasGrad", []string{"db", "dy"}, db, dy)
	if ok {
		p.columnSum("BiasGrad", bs[1], bs[0], outer, f, inner)
	}
}

// columnElems is how many positions one bias_grad group reduces before
// the reduction is split across groups.
const columnElems = 4096

// columnSum records dst[j] = Σ_{i,k} src[i, j, k] over src viewed as
// [outer, f, inner], in one pass or, for long columns, two.
func (p *Program) columnSum(op string, src, dst *engine.Buffer, outer, f, inner int) {
	total := outer * inner
	wg := pow2(total, 32, wgReduce)
	groups := min(ceilDiv(total, columnElems), 256)
	push := biasGradPush{Outer: u32(outer), F: u32(f), Inner: u32(inner), Chunk: u32(ceilDiv(total, groups))}
	if groups == 1 {
		p.dispatch(op, "bias_grad", []uint32{u32(wg), 1, 1}, []*engine.Buffer{src, dst}, push, 1, f, 1)
		return
	}
	part := p.newScratch(op, f*groups)
	if part == nil {
		return
	}
	p.dispatch(op, "bias_grad", []uint32{u32(wg), 1, 1}, []*engine.Buffer{src, part}, push, groups, f, 1)
	p.columnSum(op, part, dst, 1, f, groups)
}
