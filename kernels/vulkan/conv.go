package vulkan

import (
	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
)

// Convolutions: conv2d.comp is a tiled direct convolution (each
// invocation computes a few adjacent pixels of a row for up to 8 output
// channels from an input tile plus halo and the weights in shared
// memory, with the kernel geometry specialised). The stride-1 input
// gradient is the same kernel on dy with the flipped, transposed
// weights; other strides use conv2d_bwd_input.comp, a gather over the
// taps reaching each pixel. The weight gradient is
// conv2d_bwd_weight_taps.comp for kernels of up to maxTaps taps (one
// work-group per filter and chunk of output positions accumulating all
// taps in registers), conv2d_bwd_weight.comp for larger kernels;
// bias_grad.comp sums the chunks and computes the bias gradient.

// convPush is conv2d.comp's push-constant block.
type convPush struct {
	C, H, W, O, Ho, Wo uint32
	PH, PW             uint32
	TilesX             uint32 // output tiles along Wo
	HasBias            uint32
}

// convBwdInputPush is conv2d_bwd_input.comp's push-constant block.
type convBwdInputPush struct {
	C, H, W, O, KH, KW, Ho, Wo uint32
	SH, SW, PH, PW             uint32
}

// convBwdWeightPush is conv2d_bwd_weight.comp's push-constant block.
type convBwdWeightPush struct {
	N, C, H, W, O, KH, KW, Ho, Wo uint32
	SH, SW, PH, PW                uint32
	Chunk                         uint32 // output positions per group
}

// convBwdWeightTapsPush is conv2d_bwd_weight_taps.comp's push-constant block.
type convBwdWeightTapsPush struct {
	N, C, H, W, O, Ho, Wo uint32
	PH, PW                uint32
	SegW                  uint32 // segments per output row, ⌈Wo/PX⌉
	Chunk                 uint32 // segments per group
}

// Shared-memory capacity of conv2d.comp in floats (TILE_MAX, WMAX).
const (
	convTileMax = 3072
	convWMax    = 1024
)

// bwdInputPush is the geometry g as conv2d_bwd_input.comp takes it.
func bwdInputPush(g kernels.ConvGeom) convBwdInputPush {
	return convBwdInputPush{C: u32(g.C), H: u32(g.H), W: u32(g.W), O: u32(g.O), KH: u32(g.KH), KW: u32(g.KW),
		Ho: u32(g.Ho), Wo: u32(g.Wo), SH: u32(g.StrideH), SW: u32(g.StrideW), PH: u32(g.PadH), PW: u32(g.PadW)}
}

// Conv2D records the tiled direct convolution of conv2d.comp.
func (p *Program) Conv2D(y, x, w, bias *kernels.Tensor, cp kernels.Conv2DParams) {
	if p.err != nil {
		return
	}
	g, err := kernels.ConvGeometry("Conv2D", x, w, bias, cp)
	if !p.ok(err) || !p.ok(kernels.CheckConvOut("Conv2D", "y", y, g)) {
		return
	}
	bs, ok := p.bufs("Conv2D", []string{"y", "x", "w"}, y, x, w)
	if !ok {
		return
	}
	bb := p.be.dummy
	if bias != nil {
		b, ok := p.bufs("Conv2D", []string{"bias"}, bias)
		if !ok {
			return
		}
		bb = b[0]
	}
	p.conv("Conv2D", bs[1], bs[2], bb, bs[0], g, bias != nil, false)
}

// conv records conv2d.comp for geometry g (x [N,C,H,W] → y [N,O,Ho,Wo]);
// transposed reads w as the flipped transpose (see the shader).
func (p *Program) conv(op string, x, w, bias, y *engine.Buffer, g kernels.ConvGeom, hasBias, transposed bool) {
	// Each invocation computes px adjacent pixels of a row for ob
	// channels; a work-group covers th rows of tw·px pixels.
	ob := min(8, g.O)
	// With few output channels each weight load serves only ob·px
	// products, so wide rows get more pixels per invocation.
	px := 1
	switch {
	case g.Wo >= 64 && ob <= 2:
		px = 8
	case g.Wo >= 32:
		px = 4
	case g.Wo >= 8:
		px = 2
	}
	tw := pow2(ceilDiv(g.Wo, px), 1, 8)
	th := pow2(g.Ho, 1, 16)
	ih, iw := (th-1)*g.StrideH+g.KH, (tw*px-1)*g.StrideW+g.KW
	shared := ih*iw <= convTileMax && ob*g.KH*g.KW <= convWMax
	tilesX, tilesY := ceilDiv(g.Wo, tw*px), ceilDiv(g.Ho, th)
	push := convPush{C: u32(g.C), H: u32(g.H), W: u32(g.W), O: u32(g.O), Ho: u32(g.Ho), Wo: u32(g.Wo),
		PH: u32(g.PadH), PW: u32(g.PadW), TilesX: u32(tilesX), HasBias: b32(hasBias)}
	spec := []uint32{u32(tw), u32(th), 1, u32(ob), b32(shared),
		u32(g.KH), u32(g.KW), u32(g.StrideH), u32(g.StrideW), u32(px), b32(transposed)}
	p.dispatch(op, "conv2d", spec, []*engine.Buffer{x, w, bias, y}, push, tilesX*tilesY, ceilDiv(g.O, ob), g.N)
}

// Conv2DBackwardInput sets dx from dy and w (conv2d_bwd_input.comp).
func (p *Program) Conv2DBackwardInput(dx, dy, w *kernels.Tensor, cp kernels.Conv2DParams) {
	if p.err != nil {
		return
	}
	g, err := kernels.ConvGeometry("Conv2DBackwardInput", dx, w, nil, cp)
	if !p.ok(err) || !p.ok(kernels.CheckConvOut("Conv2DBackwardInput", "dy", dy, g)) {
		return
	}
	bs, ok := p.bufs("Conv2DBackwardInput", []string{"dx", "dy", "w"}, dx, dy, w)
	if !ok {
		return
	}
	p.convBackwardInput("Conv2DBackwardInput", bs[0], bs[1], bs[2], g)
}

// convBackwardInput records dx from dy and w on buffers, for
// Conv2DBackwardInput and Conv2DMaxPoolBackward.
func (p *Program) convBackwardInput(op string, dx, dy, w *engine.Buffer, g kernels.ConvGeom) {
	bs := []*engine.Buffer{dx, dy, w}
	if g.StrideH == 1 && g.StrideW == 1 && g.PadH < g.KH && g.PadW < g.KW {
		// Stride 1: dx is the convolution of dy with the flipped,
		// transposed weights and padding K−1−P, the tiled forward kernel.
		t := kernels.ConvGeom{N: g.N, C: g.O, H: g.Ho, W: g.Wo, O: g.C, KH: g.KH, KW: g.KW,
			Ho: g.H, Wo: g.W, StrideH: 1, StrideW: 1, PadH: g.KH - 1 - g.PadH, PadW: g.KW - 1 - g.PadW}
		p.conv(op, bs[1], bs[2], p.be.dummy, bs[0], t, false, true)
		return
	}
	const wg = 128
	cb := min(4, g.C)
	p.dispatch(op, "conv2d_bwd_input", []uint32{wg, 1, 1, u32(cb)},
		[]*engine.Buffer{bs[1], bs[2], bs[0]}, bwdInputPush(g), ceilDiv(g.H*g.W, wg), ceilDiv(g.C, cb), g.N)
}

// Conv2DBackwardWeight sets dw (and db unless nil) from dy and x: chunked
// reductions over the N·Ho·Wo output positions (conv2d_bwd_weight.comp),
// summed across chunks by bias_grad.comp.
func (p *Program) Conv2DBackwardWeight(dw, db, dy, x *kernels.Tensor, cp kernels.Conv2DParams) {
	const op = "Conv2DBackwardWeight"
	if p.err != nil {
		return
	}
	g, err := kernels.ConvGeometry(op, x, dw, db, cp)
	if !p.ok(err) || !p.ok(kernels.CheckConvOut(op, "dy", dy, g)) {
		return
	}
	bs, ok := p.bufs(op, []string{"dw", "dy", "x"}, dw, dy, x)
	if !ok {
		return
	}
	nw := dw.Len()
	// Positions are reduced in chunks of about columnElems, one
	// work-group per chunk and filter (or weight); a second pass sums
	// the chunks.
	groups := min(ceilDiv(g.N*g.Ho*g.Wo, columnElems), 256)
	taps := g.KH * g.KW
	if taps <= maxTaps {
		// Segments of px adjacent output pixels; all taps of one
		// filter per work-group. The shared-memory staging of taps·wg
		// partial sums bounds the work-group size.
		px := 1
		switch {
		case g.Wo >= 16:
			px = 4
		case g.Wo >= 4:
			px = 2
		}
		segW := ceilDiv(g.Wo, px)
		segs := g.N * g.Ho * segW
		chunk := ceilDiv(segs, groups)
		groups = ceilDiv(segs, chunk)
		dst := p.weightDst(op, bs[0], nw, groups)
		wg := min(pow2(chunk, 32, wgReduce), max(32, prevPow2(tapsShared/taps)))
		push := convBwdWeightTapsPush{N: u32(g.N), C: u32(g.C), H: u32(g.H), W: u32(g.W), O: u32(g.O), Ho: u32(g.Ho), Wo: u32(g.Wo),
			PH: u32(g.PadH), PW: u32(g.PadW), SegW: u32(segW), Chunk: u32(chunk)}
		spec := []uint32{u32(wg), 1, 1, u32(g.KH), u32(g.KW), u32(g.StrideH), u32(g.StrideW), u32(px)}
		p.dispatch(op, "conv2d_bwd_weight_taps", spec, []*engine.Buffer{bs[1], bs[2], dst}, push, groups, g.O*g.C, 1)
		p.finishWeight(op, dst, bs[0], nw, groups)
	} else {
		total := g.N * g.Ho * g.Wo
		chunk := ceilDiv(total, groups)
		groups = ceilDiv(total, chunk)
		dst := p.weightDst(op, bs[0], nw, groups)
		wg := pow2(chunk, 32, wgReduce)
		in := bwdInputPush(g)
		push := convBwdWeightPush{N: u32(g.N), C: in.C, H: in.H, W: in.W, O: in.O, KH: in.KH, KW: in.KW, Ho: in.Ho, Wo: in.Wo,
			SH: in.SH, SW: in.SW, PH: in.PH, PW: in.PW, Chunk: u32(chunk)}
		p.dispatch(op, "conv2d_bwd_weight", []uint32{u32(wg), 1, 1},
			[]*engine.Buffer{bs[1], bs[2], dst}, push, groups, nw, 1)
		p.finishWeight(op, dst, bs[0], nw, groups)
	}
	if db != nil {
		b, ok := p.bufs(op, []string{"db"}, db)
		if ok {
			p.columnSum(op, bs[1], b[0], g.N, g.O, g.Ho*g.Wo)
		}
	}
}

// weightDst is where the first pass of a weight gradient writes: dw
// itself for one chunk, else a scratch buffer of nw·groups partials.
func (p *Program) weightDst(op string, dw *engine.Buffer, nw, groups int) *engine.Buffer {
	if groups == 1 {
		return dw
	}
	if s := p.newScratch(op, nw*groups); s != nil {
		return s
	}
	return p.be.dummy // p.err is set: nothing more is recorded
}

// finishWeight sums the chunk partials into dw when there are several.
func (p *Program) finishWeight(op string, part, dw *engine.Buffer, nw, groups int) {
	if groups > 1 {
		p.columnSum(op, part, dw, 1, nw, groups)
	}
}

// Limits of conv2d_bwd_weight_taps.comp: kernels of up to maxTaps taps,
// and taps·work-group size ≤ tapsShared floats of shared memory (16 KiB).
const (
	maxTaps    = 64
	tapsShared = 4096
)
