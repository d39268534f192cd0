package cpu

// The convolution → (ReLU →) max-pool block as one op each way.
//
// Forward: each image's output planes come out of the correlation tiles
// (convfast.go) into y, or the goroutine's scratch when y is not wanted,
// and the pool reads them while they are in cache; r is written only
// when asked for, and the ReLU is folded into the pool (relu(max) =
// max(relu)).
//
// Backward: of a window, only the maximum receives gradient, and with
// the ReLU only a positive one, so the weight, bias and input gradients
// are sums over the pooled outputs instead of over every position of
// the convolution's output: 1/(KH·KW) of the work for non-overlapping
// windows. Each maximum adds gradient × the input patch under the
// kernel (a zero-padded copy of the image, so no bounds tests) into the
// weight gradient and, for dx, gradient × the kernel into a padded copy
// of dx.

import (
	"fmt"

	"github.com/vkneuro/vkneuro/kernels"
)

// Conv2DMaxPool records the convolution, the optional ReLU and the max
// pool of kernels.Ops.Conv2DMaxPool.
func (p *Program) Conv2DMaxPool(pooled, argmax, y, r, x, w, bias *kernels.Tensor, cp kernels.ConvPoolParams) {
	const op = "Conv2DMaxPool"
	g, pg, err := kernels.ConvPoolGeometry(op, pooled, argmax, y, r, x, w, bias, cp)
	if !p.ok(err) {
		return
	}
	f, ok := newFastGeom(g)
	if !ok {
		p.convPoolSequence(pooled, argmax, y, r, x, w, bias, cp)
		return
	}
	s, ok := p.slices(op, []string{"pooled", "argmax", "x", "w"}, pooled, argmax, x, w)
	if !ok {
		return
	}
	pd, ad, xd, wd := s[0], s[1], s[2], s[3]
	var yd, rd, bd []float32
	for _, o := range []struct {
		name string
		t    *kernels.Tensor
		d    *[]float32
	}{{"y", y, &yd}, {"r", r, &rd}, {"bias", bias, &bd}} {
		if o.t != nil {
			d, ok := p.slices(op, []string{o.name}, o.t)
			if !ok {
				return
			}
			*o.d = d[0]
		}
	}
	c := p.newConvForward(f)
	plane, opl := f.Ho*f.Wo, pg.Ho*pg.Wo
	// Without y, each goroutine's images go to scratch.
	var outs []float32
	if yd == nil {
		outs = make([]float32, p.parts(f.N, 1)*f.O*plane)
	}
	body := func(part, lo, hi int) {
		for n := lo; n < hi; n++ {
			var out []float32
			if yd != nil {
				out = yd[n*f.O*plane : (n+1)*f.O*plane]
			} else {
				out = outs[part*f.O*plane : (part+1)*f.O*plane]
			}
			c.image(part, n, xd, out)
			for o := 0; o < f.O; o++ {
				yp := out[o*plane : (o+1)*plane]
				if rd != nil {
					rp := rd[(n*f.O+o)*plane : (n*f.O+o+1)*plane]
					for i, v := range yp {
						rp[i] = relu32(v)
					}
				}
				pool := (n*f.O + o) * opl
				poolPlane(pd[pool:pool+opl], ad[pool:pool+opl], yp, f.Wo, pg, cp.ReLU)
			}
		}
	}
	p.add(func() error {
		c.prepare(wd, bd)
		p.parallel(f.N, 1, body)
		return nil
	})
}

// convPoolSequence records Conv2DMaxPool as its ops in sequence (strides
// other than 1), through scratch for y and r where they are not wanted.
func (p *Program) convPoolSequence(pooled, argmax, y, r, x, w, bias *kernels.Tensor, cp kernels.ConvPoolParams) {
	scratch := func(t *kernels.Tensor, like *kernels.Tensor) *kernels.Tensor {
		if t != nil {
			return t
		}
		s, err := p.b.NewTensor(like.Shape...)
		if !p.ok(err) {
			return nil
		}
		return s
	}
	g, _ := kernels.ConvGeometry("Conv2DMaxPool", x, w, bias, cp.Conv)
	shape := &kernels.Tensor{Shape: []int{g.N, g.O, g.Ho, g.Wo}}
	yt := scratch(y, shape)
	if yt == nil {
		return
	}
	p.Conv2D(yt, x, w, bias, cp.Conv)
	src := yt
	if cp.ReLU {
		if src = scratch(r, shape); src == nil {
			return
		}
		p.ReLU(src, yt)
	}
	p.MaxPool2D(pooled, argmax, src, cp.Pool)
}

// Conv2DMaxPoolBackward records the gradients of Conv2DMaxPool from the
// maxima alone (kernels.Ops.Conv2DMaxPoolBackward): each goroutine sums
// its images' weight and bias gradients into float64 partials (the
// weight gradient of an image first in float32), and scatters each
// image's input gradient into a padded plane before cropping it out.
func (p *Program) Conv2DMaxPoolBackward(dw, db, dx, dpooled, pooled, argmax, x, w *kernels.Tensor, cp kernels.ConvPoolParams) {
	const op = "Conv2DMaxPoolBackward"
	g, pg, err := kernels.ConvPoolBackwardGeometry(op, dw, db, dx, dpooled, pooled, argmax, x, w, cp)
	if !p.ok(err) {
		return
	}
	s, ok := p.slices(op, []string{"dw", "dpooled", "pooled", "argmax", "x", "w"}, dw, dpooled, pooled, argmax, x, w)
	if !ok {
		return
	}
	dwd, dpd, pd, ad, xd, wd := s[0], s[1], s[2], s[3], s[4], s[5]
	var dbd, dxd []float32
	if db != nil {
		b, ok := p.slices(op, []string{"db"}, db)
		if !ok {
			return
		}
		dbd = b[0]
	}
	if dx != nil {
		d, ok := p.slices(op, []string{"dx"}, dx)
		if !ok {
			return
		}
		dxd = d[0]
	}
	// The padded layout of convfast.go: rows wp apart (a row's right
	// padding is the next row's left), so a patch row is KW contiguous
	// values whatever the stride.
	hp, wp := g.H+2*g.PadH, g.W+g.PadW
	padLen := hp*wp + g.PadW + g.KW
	taps := g.KH * g.KW
	nw := len(dwd)
	parts := p.parts(g.N, 1)
	per := padLen + nw // the padded image and its float32 weight gradient
	if dxd != nil {
		per += g.C * padLen
	}
	scratch := make([]float32, parts*per)
	acc := make([]float64, parts*(nw+g.O))
	bad := make([]error, parts)
	plane, opl := g.Ho*g.Wo, pg.Ho*pg.Wo
	// Each image's patches under its maxima, per output plane: their
	// offsets in the padded input and their gradients.
	offsAll := make([]int32, parts*g.O*opl)
	gvAll := make([]float32, parts*g.O*opl)
	cntAll := make([]int, parts*g.O)
	body := func(part, lo, hi int) {
		sc := scratch[part*per : (part+1)*per]
		pad, gw, dpad := sc[:padLen], sc[padLen:padLen+nw], sc[padLen+nw:]
		a := acc[part*(nw+g.O) : (part+1)*(nw+g.O)]
		clear(a)
		aw, ab := a[:nw], a[nw:]
		offs, gvs := offsAll[part*g.O*opl:(part+1)*g.O*opl], gvAll[part*g.O*opl:(part+1)*g.O*opl]
		cnt := cntAll[part*g.O : (part+1)*g.O]
		for n := lo; n < hi; n++ {
			for o := 0; o < g.O; o++ {
				at, m := (n*g.O+o)*opl, o*opl
				for i, gv := range dpd[at : at+opl] {
					if cp.ReLU && !(pd[at+i] > 0) || gv == 0 {
						continue
					}
					am := ad[at+i]
					k := int(am)
					if k < 0 || k >= plane || float32(k) != am {
						bad[part] = fmt.Errorf("cpu: %s: argmax value %v at image %d, plane %d, output %d is not an index into a %dx%d plane", op, am, n, o, i, g.Ho, g.Wo)
						continue
					}
					if dbd != nil {
						ab[o] += float64(gv)
					}
					// The patch under the kernel starts at the output's
					// position times the stride, in padded coordinates.
					offs[m] = int32((k/g.Wo)*g.StrideH*wp + (k%g.Wo)*g.StrideW)
					gvs[m] = gv
					m++
				}
				cnt[o] = m - o*opl
			}
			clear(gw)
			clear(dpad)
			for c := 0; c < g.C; c++ {
				padInto(pad[:hp*wp], xd[(n*g.C+c)*g.H*g.W:], g.H, g.W, g.PadH, g.PadW, wp)
				for o := 0; o < g.O; o++ {
					lst, gl := offs[o*opl:o*opl+cnt[o]], gvs[o*opl:o*opl+cnt[o]]
					// One pass per filter over its patches, the sums in
					// registers (an update of the filter's rows per patch
					// cost most of the block's backward).
					patchSum(gw[(o*g.C+c)*taps:], g.KW, pad, lst, gl, wp, g.KH, g.KW)
					if dxd != nil {
						for i, p0 := range lst {
							rowsAxpy(dpad[c*padLen+int(p0):], wp, gl[i], wd[(o*g.C+c)*taps:], g.KW, g.KH, g.KW)
						}
					}
				}
			}
			for i, v := range gw {
				aw[i] += float64(v)
			}
			if dxd != nil {
				for c := 0; c < g.C; c++ {
					xp, d := dxd[(n*g.C+c)*g.H*g.W:], dpad[c*padLen:]
					for h := 0; h < g.H; h++ {
						copy(xp[h*g.W:(h+1)*g.W], d[(h+g.PadH)*wp+g.PadW:])
					}
				}
			}
		}
	}
	p.add(func() error {
		clear(bad)
		p.parallel(g.N, 1, body)
		for _, err := range bad {
			if err != nil {
				return err
			}
		}
		sumParts(dwd, acc, parts, nw+g.O, 0)
		sumParts(dbd, acc, parts, nw+g.O, nw)
		return nil
	})
}

// padInto copies the h×w plane x into a zero plane p of row pitch wp at
// row ph and column pw.
func padInto(p, x []float32, h, w, ph, pw, wp int) {
	clear(p)
	for i := 0; i < h; i++ {
		copy(p[(i+ph)*wp+pw:], x[i*w:(i+1)*w])
	}
}

// rowsAxpyGeneric is rowsAxpy, the plain loop.
func rowsAxpyGeneric(y []float32, ldy int, a float32, x []float32, ldx, rows, width int) {
	for r := 0; r < rows; r++ {
		yr, xr := y[r*ldy:r*ldy+width], x[r*ldx:r*ldx+width]
		for i, v := range xr {
			yr[i] += a * v
		}
	}
}

// patchSum sets g[r·ldg+j] += Σ_i gv[i]·x[offs[i]+r·ldx+j] for r < rows,
// j < width: the weight gradient of one filter from the patches under
// its pool maxima, in the build's vector kernel where one applies.
func patchSum(g []float32, ldg int, x []float32, offs []int32, gv []float32, ldx, rows, width int) {
	if rows == 0 || width == 0 || len(offs) == 0 {
		return
	}
	checkPatches(g, ldg, x, offs, gv, ldx, rows, width)
	if !patchSumVec(g, ldg, x, offs, gv, ldx, rows, width) {
		patchSumGeneric(g, ldg, x, offs, gv, ldx, rows, width)
	}
}

// patchSumGeneric is patchSum, the plain loop.
func patchSumGeneric(g []float32, ldg int, x []float32, offs []int32, gv []float32, ldx, rows, width int) {
	for r := 0; r < rows; r++ {
		gr := g[r*ldg : r*ldg+width]
		for i, o := range offs {
			a := gv[i]
			for j, v := range x[int(o)+r*ldx : int(o)+r*ldx+width] {
				gr[j] += a * v
			}
		}
	}
}

// checkPatches panics unless every row patchSum reads and writes lies in
// its slices, which the vector versions rely on.
func checkPatches(g []float32, ldg int, x []float32, offs []int32, gv []float32, ldx, rows, width int) {
	_ = g[(rows-1)*ldg+width-1]
	_ = gv[len(offs)-1]
	lo, hi := offs[0], offs[0]
	for _, o := range offs[1:] {
		lo, hi = min(lo, o), max(hi, o)
	}
	if lo < 0 {
		panic(fmt.Sprintf("cpu: patchSum: offset %d", lo))
	}
	_ = x[int(hi)+(rows-1)*ldx+width-1]
}
