package vulkan

import (
	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
)

// The fused ops (kernels.Ops): fewer dispatches for what their docs'
// op sequences record.
//
//   - Update: update.comp, the penalties' gradient terms and SGD's or
//     Adam's step in one element-wise pass, which also leaves per-group
//     sums of |p| and p² for one or two reduce_op.comp passes into the
//     loss (the sequence: two penalty reductions of one or two passes
//     each, two gradient passes and the optimizer).
//   - LinearWeightUpdate: matmul.comp forms the gradient in a scratch
//     buffer of the Program, then Update's dispatches.
//   - Conv2DMaxPool: conv_maxpool.comp pools the convolution's output,
//     computing it on the spot when y and r are not wanted (one dispatch
//     for three); otherwise conv2d.comp writes y first (and eltwise.comp
//     r) and the pool reads it.
//   - Conv2DMaxPoolBackward: conv_maxpool_bwd.comp sums the weight and
//     bias gradients over the pooled maxima alone, in chunks of images
//     that bias_grad.comp adds; dx, when asked for, is the ReLU mask
//     (eltwise.comp), the max-pool gather into a scratch of the
//     convolution's output shape (maxpool_bwd.comp) and the convolution
//     to the input.

// updatePush is update.comp's push-constant block.
type updatePush struct {
	N              uint32
	L1, L2x2       float32
	Momentum, Damp float32
	WD             float32
	Nesterov       uint32
	Beta1, C1      float32
	Beta2, C2      float32
	Eps            float32
	Decoupled      uint32
}

// Update applies the penalties' gradients and the optimizer to p in one
// pass (update.comp), adding the penalties of the old p into loss.
func (p *Program) Update(param, grad, buf, buf2, state, loss *kernels.Tensor, u kernels.UpdateParams) {
	if p.err != nil || !p.ok(kernels.UpdateOperands("Update", param, grad, buf, buf2, state, loss, u)) {
		return
	}
	bs, ok := p.bufs("Update", []string{"p", "grad", "buf", "state"}, param, grad, buf, state)
	if !ok {
		return
	}
	p.update("Update", bs[0], bs[1], bs[2], bs[3], buf2, loss, param.Len(), u)
}

// update records Update of the n-element parameter pb with the
// gradient gb.
func (p *Program) update(op string, pb, gb, bb, sb *engine.Buffer, buf2, loss *kernels.Tensor, n int, u kernels.UpdateParams) {
	b2 := p.be.dummy
	if buf2 != nil {
		b, ok := p.bufs(op, []string{"buf2"}, buf2)
		if !ok {
			return
		}
		b2 = b[0]
	}
	var lb *engine.Buffer
	if loss != nil && (u.L1 != 0 || u.L2 != 0) {
		b, ok := p.bufs(op, []string{"loss"}, loss)
		if !ok {
			return
		}
		lb = b[0]
	}
	push := updatePush{N: u32(n), L1: u.L1, L2x2: 2 * u.L2}
	opt := uint32(0)
	if o := u.SGD; o != nil {
		push.Momentum, push.Damp, push.WD, push.Nesterov = float32(o.Momentum), float32(1-o.Dampening), float32(o.WeightDecay), b32(o.Nesterov)
	} else {
		// 1 − β formed in float64, as adam.comp's host does.
		o := u.Adam
		opt = 1
		push.Beta1, push.C1, push.Beta2, push.C2 = float32(o.Beta1), float32(1-o.Beta1), float32(o.Beta2), float32(1-o.Beta2)
		push.Eps, push.WD, push.Decoupled = float32(o.Eps), float32(o.WeightDecay), b32(o.Decoupled)
	}
	groups := elemGroups(n)
	absPart, sqPart := p.be.dummy, p.be.dummy
	if lb != nil {
		if absPart = p.newScratch(op, groups); absPart == nil {
			return
		}
		if sqPart = p.newScratch(op, groups); sqPart == nil {
			return
		}
	}
	p.dispatch(op, "update", []uint32{wgElem, 1, 1, opt, b32(lb != nil)},
		[]*engine.Buffer{pb, gb, bb, b2, sb, absPart, sqPart}, push, groups, 1, 1)
	if lb == nil {
		return
	}
	// L1 then L2, as L1Penalty and L2Penalty add them.
	if u.L1 != 0 {
		p.reduce(op, redSum, absPart, absPart, lb, nil, groups, true, u.L1, reducePush{})
	}
	if u.L2 != 0 {
		p.reduce(op, redSum, sqPart, sqPart, lb, nil, groups, true, u.L2, reducePush{})
	}
}

// LinearWeightUpdate is Update of w with the gradient dyᵀ·x, formed by
// matmul.comp in a scratch buffer.
func (p *Program) LinearWeightUpdate(w, dy, x, buf, buf2, state, loss *kernels.Tensor, u kernels.UpdateParams) {
	const op = "LinearWeightUpdate"
	if p.err != nil {
		return
	}
	rows, out, in, err := kernels.LinearUpdateOperands(op, w, dy, x, buf, buf2, state, loss, u)
	if !p.ok(err) {
		return
	}
	bs, ok := p.bufs(op, []string{"w", "dy", "x", "buf", "state"}, w, dy, x, buf, state)
	if !ok {
		return
	}
	grad := p.newScratch(op, out*in)
	if grad == nil {
		return
	}
	p.matmul(op, bs[1], bs[2], grad, out, in, rows, true, false, 1, 0)
	p.update(op, bs[0], grad, bs[3], bs[4], buf2, loss, out*in, u)
}

// convPoolPush is conv_maxpool.comp's push-constant block.
type convPoolPush struct {
	Total, C, H, W, O, Ho, Wo uint32
	KH, KW, SH, SW, PH, PW    uint32
	PKH, PKW, PSH, PSW        uint32
	PHo, PWo                  uint32
	HasBias                   uint32
}

func newConvPoolPush(g kernels.ConvGeom, pg kernels.PoolGeom, hasBias bool) convPoolPush {
	return convPoolPush{Total: u32(g.N * g.O * pg.Ho * pg.Wo), C: u32(g.C), H: u32(g.H), W: u32(g.W), O: u32(g.O), Ho: u32(g.Ho), Wo: u32(g.Wo),
		KH: u32(g.KH), KW: u32(g.KW), SH: u32(g.StrideH), SW: u32(g.StrideW), PH: u32(g.PadH), PW: u32(g.PadW),
		PKH: u32(pg.KH), PKW: u32(pg.KW), PSH: u32(pg.StrideH), PSW: u32(pg.StrideW), PHo: u32(pg.Ho), PWo: u32(pg.Wo), HasBias: b32(hasBias)}
}

// Conv2DMaxPool records the block's forward (see the file's doc).
func (p *Program) Conv2DMaxPool(pooled, argmax, y, r, x, w, bias *kernels.Tensor, cp kernels.ConvPoolParams) {
	const op = "Conv2DMaxPool"
	if p.err != nil {
		return
	}
	g, pg, err := kernels.ConvPoolGeometry(op, pooled, argmax, y, r, x, w, bias, cp)
	if !p.ok(err) {
		return
	}
	bs, ok := p.bufs(op, []string{"pooled", "argmax", "x", "w"}, pooled, argmax, x, w)
	if !ok {
		return
	}
	bb := p.be.dummy
	if bias != nil {
		b, ok := p.bufs(op, []string{"bias"}, bias)
		if !ok {
			return
		}
		bb = b[0]
	}
	total := g.N * g.O * pg.Ho * pg.Wo
	window := pg.KH * (pg.KW + 1)
	compute := y == nil && r == nil
	// On a CPU driver an invocation that computes every window value
	// must stay within the loop budget; beyond it the convolution goes
	// to a scratch buffer first.
	if compute && p.be.m.Info().CPU && window*(g.C*g.KH*(g.KW+1)+1) > loopBudget {
		compute = false
	}
	src := bs[2]
	if !compute {
		if y != nil {
			b, ok := p.bufs(op, []string{"y"}, y)
			if !ok {
				return
			}
			src = b[0]
		} else if src = p.newScratch(op, g.N*g.O*g.Ho*g.Wo); src == nil {
			return
		}
		p.conv(op, bs[2], bs[3], bb, src, g, bias != nil, false)
		if r != nil {
			b, ok := p.bufs(op, []string{"r"}, r)
			if !ok {
				return
			}
			p.eltwise(op, opReLU, src, src, b[0], nil, eltwisePush{N: u32(r.Len())})
		}
	}
	loops := window + 1
	if compute {
		loops = window*(g.C*g.KH*(g.KW+1)+1) + 1
	}
	if groups, ok := p.loopGroups(op, total, loops); ok {
		p.dispatch(op, "conv_maxpool", []uint32{wgElem, 1, 1, b32(compute), b32(cp.ReLU)},
			[]*engine.Buffer{src, bs[3], bb, bs[0], bs[1]}, newConvPoolPush(g, pg, bias != nil), groups, 1, 1)
	}
}

// convPoolBwdPush is conv_maxpool_bwd.comp's push-constant block.
type convPoolBwdPush struct {
	N, C, H, W, O, Ho, Wo  uint32
	KH, KW, SH, SW, PH, PW uint32
	PooledPlane            uint32
	Chunk, Groups          uint32
	HasBias                uint32
}

// Conv2DMaxPoolBackward records the block's backward (see the file's doc).
func (p *Program) Conv2DMaxPoolBackward(dw, db, dx, dpooled, pooled, argmax, x, w *kernels.Tensor, cp kernels.ConvPoolParams) {
	const op = "Conv2DMaxPoolBackward"
	if p.err != nil {
		return
	}
	g, pg, err := kernels.ConvPoolBackwardGeometry(op, dw, db, dx, dpooled, pooled, argmax, x, w, cp)
	if !p.ok(err) {
		return
	}
	bs, ok := p.bufs(op, []string{"dw", "dpooled", "pooled", "argmax", "x", "w"}, dw, dpooled, pooled, argmax, x, w)
	if !ok {
		return
	}
	plane := pg.Ho * pg.Wo
	// Images per work-group row: within the loop budget of a CPU driver,
	// and enough rows to spread a large batch.
	chunk := max(1, min(loopBudget/(plane+1), ceilDiv(g.N, 64)))
	groups := ceilDiv(g.N, chunk)
	nw := dw.Len()
	dwDst := p.weightDst(op, bs[0], nw, groups)
	dbDst := p.be.dummy
	var dbb *engine.Buffer
	if db != nil {
		b, ok := p.bufs(op, []string{"db"}, db)
		if !ok {
			return
		}
		dbb = b[0]
		dbDst = p.weightDst(op, dbb, g.O, groups)
	}
	n := nw
	if db != nil {
		n += g.O
	}
	push := convPoolBwdPush{N: u32(g.N), C: u32(g.C), H: u32(g.H), W: u32(g.W), O: u32(g.O), Ho: u32(g.Ho), Wo: u32(g.Wo),
		KH: u32(g.KH), KW: u32(g.KW), SH: u32(g.StrideH), SW: u32(g.StrideW), PH: u32(g.PadH), PW: u32(g.PadW),
		PooledPlane: u32(plane), Chunk: u32(chunk), Groups: u32(groups), HasBias: b32(db != nil)}
	p.dispatch(op, "conv_maxpool_bwd", []uint32{wgElem, 1, 1, b32(cp.ReLU)},
		[]*engine.Buffer{bs[1], bs[2], bs[3], bs[4], dwDst, dbDst}, push, ceilDiv(n, wgElem), groups, 1)
	p.finishWeight(op, dwDst, bs[0], nw, groups)
	if dbb != nil {
		p.finishWeight(op, dbDst, dbb, g.O, groups)
	}
	if dx == nil {
		return
	}
	dxb, ok := p.bufs(op, []string{"dx"}, dx)
	if !ok {
		return
	}
	// The gradient at the convolution's output: dpooled (masked by the
	// ReLU) gathered from the windows whose maximum each position is.
	routed := bs[1]
	if cp.ReLU {
		if routed = p.newScratch(op, dpooled.Len()); routed == nil {
			return
		}
		p.eltwise(op, opReLUBwd, bs[1], bs[2], routed, nil, eltwisePush{N: u32(dpooled.Len())})
	}
	dconv := p.newScratch(op, g.N*g.O*g.Ho*g.Wo)
	if dconv == nil {
		return
	}
	cg := kernels.PoolGeom{N: g.N, C: g.O, H: g.Ho, W: g.Wo, KH: pg.KH, KW: pg.KW, StrideH: pg.StrideH, StrideW: pg.StrideW, Ho: pg.Ho, Wo: pg.Wo}
	p.pool(op, "maxpool_bwd", []uint32{wgElem, 1, 1}, []*engine.Buffer{routed, bs[3], dconv}, cg, g.N*g.O*g.Ho*g.Wo, coverLoops(cg))
	p.convBackwardInput(op, dxb[0], dconv, bs[5], g)
}
