package cpu

import (
	"sync/atomic"

	"github.com/vkneuro/vkneuro/kernels"
)

// Stride-1 convolutions as register-tiled correlations over zero-padded
// planes.
//
// The input plane is copied into a zero-padded plane P of row pitch
// Wp = max(W + PadW, Wo) (each row's PadW zeros pad both its neighbours),
// and outputs are kept Wp wide too (columns past Wo are scratch). Then
// output (ho, wo) at tap (kh, kw) reads P at (ho+kh)·Wp + wo+kw, so for
// one tap all outputs read one contiguous run of P starting at
// kh·Wp+kw: no bounds tests in the inner loops and no im2col buffer.
//
// The micro-kernels (convKernel) keep a tile of outputs in registers
// while the taps stream through: the correlation tile is six output
// planes × a run of cw values, so each input load feeds six filters
// (forward), or six input channels (backward input); the weight-gradient
// tile is six filters × four taps (three × four on AVX2), so each load
// of a dy run feeds four taps and each input load six filters. The
// scratch per goroutine is one padded plane per channel and one wide
// plane per filter, allocated when the op is recorded.

// convKernel is one vector width's convolution micro-kernels.
type convKernel struct {
	name string
	// corr sets out[f·ldo+j] = bias[f] + Σ_t wp[6t+f]·src[offs[t]+j] for
	// f < nf ≤ 6 and j < cw, adding the taps in order.
	cw   int
	corr func(out []float32, ldo, nf int, src []float32, taps *tapOffsets, wp []float32, bias *[6]float32)
	// corrRows, where a set has it, is corr for rows tiles, tile r
	// writing out[r·ldor:] from src[r·ldsr:] (corrTiles).
	corrRows func(out []float32, ldo, nf int, src []float32, taps *tapOffsets, wp []float32, bias *[6]float32, rows, ldor, ldsr int)
	// corr1 is corr for one plane of cw1 values, its weights stride
	// apart in wp: without the other planes to share its loads, a run
	// four times longer keeps enough sums in flight.
	cw1   int
	corr1 func(out, src []float32, taps *tapOffsets, wp []float32, stride int, bias float32)
	// wgrad sets s[4f+t] = Σ_{p<n} dy[f·ldy+p]·x[offs[t]+(p/w)·ldx+p%w]
	// for f < gf and t < 4, filters past nf and taps past nt repeating
	// the last: each dy row is n/w rows of w values, read against rows
	// of x ldx ≥ w apart. w is a positive multiple of gk and n of w.
	gf, gk int
	wgrad  func(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n, w, ldx int)
}

// corrPlanes is the number of output planes of a correlation tile.
const corrPlanes = 6

// corrGeneric is convKernel.corr with the build's axpy.
func corrGeneric(cw int, out []float32, ldo, nf int, src []float32, offs []int, wp []float32, bias *[6]float32) {
	for f := 0; f < nf; f++ {
		o := out[f*ldo : f*ldo+cw]
		fill(o, bias[f])
		for t, off := range offs {
			axpy(o, wp[corrPlanes*t+f], src[off:off+cw])
		}
	}
}

// wgradGeneric is convKernel.wgrad for a gf×4 tile with the build's dot.
func wgradGeneric(gf int, s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n, w, ldx int) {
	for f := 0; f < gf; f++ {
		d := dy[min(f, nf-1)*ldy:][:n]
		for t := 0; t < 4; t++ {
			xt := x[offs[min(t, nt-1)]:]
			var sum float32
			for r := 0; r*w < n; r++ {
				sum += dot(d[r*w:(r+1)*w], xt[r*ldx:])
			}
			s[4*f+t] = sum
		}
	}
}

// corr1Generic is convKernel.corr1 with the build's axpy.
func corr1Generic(cw int, out, src []float32, offs []int, wp []float32, stride int, bias float32) {
	o := out[:cw]
	fill(o, bias)
	for t, off := range offs {
		axpy(o, wp[stride*t], src[off:off+cw])
	}
}

var genericConv = &convKernel{
	name: "generic", cw: 64, cw1: 64, gf: 6, gk: 1,
	corr1: func(out, src []float32, taps *tapOffsets, wp []float32, stride int, bias float32) {
		corr1Generic(64, out, src, taps.offs, wp, stride, bias)
	},
	corr: func(out []float32, ldo, nf int, src []float32, taps *tapOffsets, wp []float32, bias *[6]float32) {
		corrGeneric(64, out, ldo, nf, src, taps.offs, wp, bias)
	},
	wgrad: func(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n, w, ldx int) {
		wgradGeneric(6, s, dy, ldy, nf, x, offs, nt, n, w, ldx)
	},
}

// convForce, set by tests, is the kernel set the convolutions use
// instead of currentConv's.
var convForce *convKernel

// corrTiles is corr for rows tiles, tile r writing out[r·ldor:] from
// src[r·ldsr:]: one call of corrRows where the set has it.
func (k *convKernel) corrTiles(out []float32, ldo, nf int, src []float32, taps *tapOffsets, wp []float32, bias *[6]float32, rows, ldor, ldsr int) {
	if k.corrRows != nil {
		k.corrRows(out, ldo, nf, src, taps, wp, bias, rows, ldor, ldsr)
		return
	}
	for r := range rows {
		k.corr(out[r*ldor:], ldo, nf, src[r*ldsr:], taps, wp, bias)
	}
}

func convKernels() *convKernel {
	if convForce != nil {
		return convForce
	}
	return currentConv()
}

// fastGeom is the padded layout of a stride-1 convolution.
type fastGeom struct {
	kernels.ConvGeom
	kern   *convKernel
	hp, wp int // padded input: rows, row pitch
	maxOff int // offset of the last tap's run in a padded plane
	wide   int // Ho·Wp rounded up to the tile width: a wide output plane, and each tap's run
	plane  int // a padded plane with room for every tap's run
	taps   int // KH·KW
}

func newFastGeom(g kernels.ConvGeom) (fastGeom, bool) {
	if g.StrideH != 1 || g.StrideW != 1 {
		return fastGeom{}, false
	}
	// A row's right padding and the next row's left padding are the same
	// zeros: input column iw of a tap's read is in [−PadW, W+PadW), so
	// rows W+PadW apart keep every read outside a row's W values on zeros
	// (and a row of output needs Wo columns).
	kr := convKernels()
	f := fastGeom{ConvGeom: g, kern: kr, hp: g.H + 2*g.PadH, wp: max(g.W+g.PadW, g.Wo), taps: g.KH * g.KW}
	f.maxOff = f.tap(g.KH-1, g.KW-1)
	f.wide = roundUp(g.Ho*f.wp, kr.cw1)
	// Room past the last tap's run for a row tile's overrun (image).
	f.plane = f.maxOff + f.wide + kr.cw
	return f, true
}

// pad copies the H×W plane x into the interior of the padded plane p,
// whose border is zero and stays zero. A copy call per row cost a
// quarter of the batch-1000 forward: copyRows moves the plane.
func (f *fastGeom) pad(p, x []float32) {
	copyRows(p[f.PadH*f.wp+f.PadW:], f.wp, x, f.W, f.H, f.W)
}

// widen copies the Ho×Wo plane y into the first Wo columns of the Ho×Wp
// plane w, whose other columns are zero and stay zero.
func (f *fastGeom) widen(w, y []float32) {
	copyRows(w, f.wp, y, f.Wo, f.Ho, f.Wo)
}

// tap is the offset in a padded plane of the run read by tap (kh, kw).
func (f *fastGeom) tap(kh, kw int) int { return kh*f.wp + kw }

// corrPlan is a recorded correlation of groups of up to six output
// planes, each the sum over taps of a weight times a shifted run of the
// concatenated source planes (the forward convolution, and the backward
// convolution to the input).
type corrPlan struct {
	kern *convKernel
	taps *tapOffsets // per tap: where its run starts in the sources
	wpk  []float32   // per group of six outputs: [tap][6] weights, packed when the op runs
	bias [][6]float32
	outs int // output planes
	n    int // values per output plane (a multiple of the tile width)
}

// run computes output planes [6q, 6q+6) for every group q into out
// (planes n apart) from src.
func (c *corrPlan) run(out, src []float32) {
	taps := len(c.taps.offs)
	for q := 0; q*corrPlanes < c.outs; q++ {
		nf := min(corrPlanes, c.outs-q*corrPlanes)
		wp := c.wpk[q*taps*corrPlanes : (q+1)*taps*corrPlanes]
		o := out[q*corrPlanes*c.n:]
		if nf < corrPlanes/2 {
			// A six-plane tile would compute the missing planes too.
			for f := range nf {
				for j := 0; j < c.n; j += c.kern.cw1 {
					c.kern.corr1(o[f*c.n+j:], src[j:], c.taps, wp[f:], corrPlanes, c.bias[q][f])
				}
			}
			continue
		}
		for j := 0; j < c.n; j += c.kern.cw {
			c.kern.corr(o[j:], c.n, nf, src[j:], c.taps, wp, &c.bias[q])
		}
	}
}

// pack fills group q's weights from w(plane, tap), repeating the last
// plane of a group that is not full.
func (c *corrPlan) pack(w func(plane, tap int) float32) {
	taps := len(c.taps.offs)
	for q := 0; q*corrPlanes < c.outs; q++ {
		for t := 0; t < taps; t++ {
			for f := 0; f < corrPlanes; f++ {
				c.wpk[(q*taps+t)*corrPlanes+f] = w(min(q*corrPlanes+f, c.outs-1), t)
			}
		}
	}
}

func newCorrPlan(kr *convKernel, offs []int, outs, n int) *corrPlan {
	groups := (outs + corrPlanes - 1) / corrPlanes
	return &corrPlan{kern: kr, taps: newTapOffsets(offs), wpk: make([]float32, groups*len(offs)*corrPlanes),
		bias: make([][6]float32, groups), outs: outs, n: n}
}

// convForwardPlan computes, image by image, the output planes of a
// stride-1 convolution: into y for Conv2D, into y or a goroutine's
// scratch for Conv2DMaxPool, which then pools them while they are in
// cache.
type convForwardPlan struct {
	f       fastGeom
	corr    *corrPlan
	scratch []float32
	per     int
	inPlace bool // the tiles write the output rows (else wide scratch planes)
}

func (p *Program) newConvForward(f fastGeom) *convForwardPlan {
	// offs[t] is where tap t = (c, kh, kw), in the weights' order, starts
	// reading the concatenated padded planes.
	offs := make([]int, 0, f.C*f.taps)
	for c := 0; c < f.C; c++ {
		for kh := 0; kh < f.KH; kh++ {
			for kw := 0; kw < f.KW; kw++ {
				offs = append(offs, c*f.plane+f.tap(kh, kw))
			}
		}
	}
	// Rows of whole tiles are written in place; narrower or ragged rows
	// would waste most of each row's last tile, so those convolutions
	// fill whole wide planes of scratch and copy the Wo columns out.
	inPlace := f.Wo%f.kern.cw == 0 || f.Wo >= 4*f.kern.cw
	per := f.C*f.plane + corrPlanes*f.kern.cw
	if !inPlace {
		per = f.C*f.plane + f.O*f.wide
	}
	return &convForwardPlan{f: f, corr: newCorrPlan(f.kern, offs, f.O, f.wide), scratch: make([]float32, p.parts(f.N, 1)*per), per: per, inPlace: inPlace}
}

// prepare packs the weights and bias (bd may be nil) when the op runs.
func (c *convForwardPlan) prepare(wd, bd []float32) {
	ct := c.f.C * c.f.taps
	c.corr.pack(func(o, t int) float32 { return wd[o*ct+t] })
	for o := 0; o < c.f.O; o++ {
		var b float32
		if bd != nil {
			b = bd[o]
		}
		c.corr.bias[o/corrPlanes][o%corrPlanes] = b
	}
	// A group that is not full repeats its last plane's bias too.
	for o := c.f.O; o%corrPlanes != 0; o++ {
		c.corr.bias[o/corrPlanes][o%corrPlanes] = c.corr.bias[(c.f.O-1)/corrPlanes][(c.f.O-1)%corrPlanes]
	}
}

// image computes image n's output planes (O planes of Ho×Wo) into dst on
// goroutine part. The tiles write the output rows in place: each row's
// run of Wo values reads the padded rows from its own, with the taps'
// offsets; the part of a row past the last whole tile goes through a
// tile of scratch.
func (c *convForwardPlan) image(part, n int, xd, dst []float32) { c.imageAhead(part, n, xd, dst, nil) }

// imageAhead is image that, where it writes the rows in place, asks for
// pf's cache lines (the next image's input) a part at each band of
// output rows, so that they arrive while the tiles compute.
func (c *convForwardPlan) imageAhead(part, n int, xd, dst, pf []float32) {
	f := &c.f
	s := c.scratch[part*c.per : (part+1)*c.per]
	pads, tile := s[:f.C*f.plane:f.C*f.plane], s[f.C*f.plane:]
	for ch := 0; ch < f.C; ch++ {
		f.pad(pads[ch*f.plane:], xd[(n*f.C+ch)*f.H*f.W:])
	}
	plane, cw := f.Ho*f.Wo, f.kern.cw
	cr := c.corr
	if !c.inPlace {
		wides := s[f.C*f.plane:]
		cr.run(wides, pads)
		for o := 0; o < f.O; o++ {
			copyRows(dst[o*plane:], f.Wo, wides[o*f.wide:], f.wp, f.Ho, f.Wo)
		}
		return
	}
	taps := len(cr.taps.offs)
	for q := 0; q*corrPlanes < f.O; q++ {
		nf := min(corrPlanes, f.O-q*corrPlanes)
		wp := cr.wpk[q*taps*corrPlanes : (q+1)*taps*corrPlanes]
		out := dst[q*corrPlanes*plane:]
		// Rows go a band of forwardBand at a time, the tiles of a column
		// of the band in one corrTiles call, a part of pf asked for per
		// band.
		bands := (f.Ho + forwardBand - 1) / forwardBand
		piece := roundUp((len(pf)+bands-1)/bands, 16)
		for h0 := 0; h0 < f.Ho; h0 += forwardBand {
			if len(pf) > 0 {
				k := min(piece, len(pf))
				prefetchRun(pf[:k])
				pf = pf[k:]
			}
			rows := min(forwardBand, f.Ho-h0)
			j := 0
			for ; j+cw <= f.Wo; j += cw {
				cr.kern.corrTiles(out[h0*f.Wo+j:], plane, nf, pads[h0*f.wp+j:], cr.taps, wp, &cr.bias[q], rows, f.Wo, f.wp)
			}
			if j < f.Wo {
				for h := h0; h < h0+rows; h++ {
					cr.kern.corr(tile, cw, nf, pads[h*f.wp+j:], cr.taps, wp, &cr.bias[q])
					for r := range nf {
						copy(out[r*plane+h*f.Wo+j:r*plane+(h+1)*f.Wo], tile[r*cw:])
					}
				}
			}
		}
	}
}

// forwardBand is the number of output rows imageAhead gives each
// corrTiles call.
const forwardBand = 12

// convForwardFast records Conv2D for stride 1. The goroutines take the
// images one at a time from a shared counter, not in fixed halves: a
// goroutine that starts late takes fewer, and each image's output is the
// same whichever computes it. A goroutine takes its next image when it
// starts one, so that it can ask for the next one's input meanwhile.
func (p *Program) convForwardFast(f fastGeom, yd, xd, wd, bd []float32) {
	c := p.newConvForward(f)
	var next atomic.Int64
	img := f.C * f.H * f.W
	body := func(part, _, _ int) {
		n := int(next.Add(1) - 1)
		for n < f.N {
			m := int(next.Add(1) - 1)
			var pf []float32
			if m < f.N && prefetchRun != nil {
				pf = xd[m*img : (m+1)*img]
			}
			c.imageAhead(part, n, xd, yd[n*f.O*f.Ho*f.Wo:], pf)
			n = m
		}
	}
	p.add(func() error {
		c.prepare(wd, bd)
		next.Store(0)
		p.parallel(f.N, 1, body)
		return nil
	})
}

// convBackwardInputFast records Conv2DBackwardInput for stride 1 as a
// stride-1 correlation too: the padded dx plane at q is Σ over (o, tap)
// of w·dy' at q − offset(tap), where dy' is filter o's wide dy plane
// placed after base = offset(last tap) zeros in a plane Z_o. So the
// padded dx planes of up to six channels are one correlation over the Z
// planes, with each channel's weights gathered when the op runs.
func (p *Program) convBackwardInputFast(f fastGeom, dxd, dyd, wd []float32) {
	parts := p.parts(f.N, 1)
	base := f.maxOff
	dpn := roundUp(f.hp*f.wp, f.kern.cw1) // a padded dx plane, rounded to the tile width
	zlen := base + dpn
	per := f.O*zlen + f.C*dpn
	scratch := make([]float32, parts*per)
	// offs[(o, t)] is where tap t of filter o starts reading the Z planes.
	offs := make([]int, 0, f.O*f.taps)
	for o := 0; o < f.O; o++ {
		for kh := 0; kh < f.KH; kh++ {
			for kw := 0; kw < f.KW; kw++ {
				offs = append(offs, o*zlen+base-f.tap(kh, kw))
			}
		}
	}
	c := newCorrPlan(f.kern, offs, f.C, dpn)
	ct := f.C * f.taps
	// Images one at a time from a shared counter, as in the forward.
	var next atomic.Int64
	body := func(part, _, _ int) {
		s := scratch[part*per : (part+1)*per]
		zs, dp := s[:f.O*zlen:f.O*zlen], s[f.O*zlen:]
		for {
			n := int(next.Add(1) - 1)
			if n >= f.N {
				return
			}
			for o := 0; o < f.O; o++ {
				f.widen(zs[o*zlen+base:], dyd[(n*f.O+o)*f.Ho*f.Wo:])
			}
			c.run(dp, zs)
			for ch := 0; ch < f.C; ch++ {
				xp, d := dxd[(n*f.C+ch)*f.H*f.W:], dp[ch*dpn:]
				for h := 0; h < f.H; h++ {
					copy(xp[h*f.W:(h+1)*f.W], d[(h+f.PadH)*f.wp+f.PadW:])
				}
			}
		}
	}
	p.add(func() error {
		// The (o, t) weights of channel ch: w[o, ch, t].
		c.pack(func(ch, ot int) float32 { return wd[(ot/f.taps)*ct+ch*f.taps+ot%f.taps] })
		next.Store(0)
		p.parallel(f.N, 1, body)
		return nil
	})
}

// convBackwardWeightFast records Conv2DBackwardWeight for stride 1: per
// image and input channel, the weight-gradient tiles take the dot of
// every filter's dy plane with the padded input at every tap's offset,
// added into a float64 partial per run of images (wgradChunks). Where a
// row of Wo values is whole vectors the tiles read dy's rows in place,
// against rows of the padded input Wp apart; otherwise they read wide dy
// planes. Where the last group of taps is not full, a spare tap of
// channel 0's tiles reads a run of ones after the padded planes: the
// bias gradient.
func (p *Program) convBackwardWeightFast(f fastGeom, dwd, dbd, dyd, xd []float32) {
	parts := p.parts(f.N, 1)
	kr := f.kern
	plane := f.Ho * f.Wo
	wt := wgradRun{dy: f.wide, n: f.wide, w: f.wide, ldx: f.wide}
	if f.Wo%kr.gk == 0 {
		wt = wgradRun{dy: plane, n: plane, w: f.Wo, ldx: f.wp, inPlace: true}
	}
	wt.bias = dbd != nil && f.taps%4 != 0
	per := f.C * f.plane
	if !wt.inPlace {
		per += f.O * f.wide
	}
	ones := per
	if wt.bias {
		per += (wt.n/wt.w-1)*wt.ldx + wt.w
	}
	// Every goroutine's scratch starts at the same offset in a cache
	// line: a dot whose order of sums follows the alignment (the purego
	// build's) then sums a run of images the same whichever takes it.
	per = roundUp(per, 16)
	scratch := make([]float32, parts*per)
	if wt.bias {
		for part := range parts {
			fill(scratch[part*per+ones:(part+1)*per], 1)
		}
	}
	nw := len(dwd)
	chunks := wgradChunks(f.N, parts, nw+f.O)
	acc := make([]float64, chunks*(nw+f.O))
	tiles := make([]wgradTile, parts)
	var next atomic.Int64
	body := func(part, _, _ int) {
		s := scratch[part*per : (part+1)*per]
		pads, wides := s[:f.C*f.plane], s[f.C*f.plane:]
		for {
			k := int(next.Add(1) - 1)
			if k >= chunks {
				return
			}
			a := acc[k*(nw+f.O) : (k+1)*(nw+f.O)]
			clear(a)
			aw, ab := a[:nw], a[nw:]
			for n := k * f.N / chunks; n < (k+1)*f.N/chunks; n++ {
				for c := 0; c < f.C; c++ {
					f.pad(pads[c*f.plane:], xd[(n*f.C+c)*f.H*f.W:])
				}
				dy := dyd[n*f.O*plane : (n+1)*f.O*plane]
				for o := 0; o < f.O; o++ {
					if !wt.inPlace {
						f.widen(wides[o*f.wide:], dy[o*plane:])
					}
					if dbd != nil && !wt.bias {
						ab[o] += sum64(dy[o*plane : (o+1)*plane])
					}
				}
				if !wt.inPlace {
					dy = wides
				}
				f.weightTiles(kr, &tiles[part], &wt, aw, ab, dy, s, ones)
			}
		}
	}
	p.add(func() error {
		next.Store(0)
		p.parallel(f.N, 1, body)
		sumParts(dwd, acc, chunks, nw+f.O, 0)
		sumParts(dbd, acc, chunks, nw+f.O, nw)
		return nil
	})
}

// wgradChunks is how many runs of images the weight gradient splits a
// batch of n into: each run's gradient is a float64 partial of stride
// values, and the partials are added in run order, so the result does
// not depend on which goroutine takes which run. The goroutines take the
// runs one at a time from a shared counter, so a goroutine that starts
// late takes fewer; the runs are many where their partials are small.
func wgradChunks(n, parts, stride int) int {
	return min(n, max(parts, min(64, wgradChunkFloats/stride)))
}

// wgradChunkFloats bounds the float64 partials of the weight gradient's
// runs of images.
const wgradChunkFloats = 1 << 18

// prefetchRun, where the build has one (set by its init), asks for the
// cache lines of v, reading nothing outside it.
var prefetchRun func(v []float32)

// wgradRun is how the weight-gradient tiles read an image: dy planes dy
// apart (dy's own where inPlace, else wide ones), n values each in rows
// of w, against rows of a padded input plane ldx apart; bias says
// whether a spare tap takes the bias gradient.
type wgradRun struct {
	dy, n, w, ldx int
	inPlace, bias bool
}

// wgradTile is a goroutine's weight-gradient tile: the kernel's sums and
// tap offsets, made when the op is recorded so that Run does not allocate.
type wgradTile struct {
	s    [24]float32
	offs [4]int
}

// weightTiles adds one image's weight gradient into aw (OIHW, float64),
// and with wt.bias its bias gradient into ab: for every channel, filter
// group and group of four taps, one tile of dots of the dy planes with
// the padded input plane (channel c's at s[c·plane:], a run of ones at
// s[ones:]).
func (f *fastGeom) weightTiles(kr *convKernel, tl *wgradTile, wt *wgradRun, aw, ab []float64, dy, s []float32, ones int) {
	sums, offs := &tl.s, &tl.offs
	for c := 0; c < f.C; c++ {
		pc := s[c*f.plane : (c+1)*f.plane]
		for g0 := 0; g0 < f.O; g0 += kr.gf {
			nf := min(kr.gf, f.O-g0)
			for t0 := 0; t0 < f.taps; t0 += 4 {
				nt := min(4, f.taps-t0)
				for t := range nt {
					offs[t] = f.tap((t0+t)/f.KW, (t0+t)%f.KW)
				}
				x := pc
				bias := wt.bias && c == 0 && nt < 4
				if bias {
					x, offs[nt] = s, ones
					nt++
				}
				kr.wgrad(sums, dy[g0*wt.dy:], wt.dy, nf, x, offs, nt, wt.n, wt.w, wt.ldx)
				if bias {
					nt--
					for q := range nf {
						ab[g0+q] += float64(sums[4*q+nt])
					}
				}
				for q := range nf {
					ak := aw[((g0+q)*f.C+c)*f.taps+t0:]
					for t := range nt {
						ak[t] += float64(sums[4*q+t])
					}
				}
			}
		}
	}
}
