package cpu

import (
	"github.com/vkneuro/vkneuro/kernels"
)

// validRange returns the output positions [lo, hi) whose input index
// o·stride + k − pad falls inside [0, in).
func validRange(out, stride, k, pad, in int) (lo, hi int) {
	// o·stride ≥ pad − k  and  o·stride ≤ in − 1 + pad − k.
	lo = 0
	if d := pad - k; d > 0 {
		lo = (d + stride - 1) / stride
	}
	hiIn := in - 1 + pad - k
	if hiIn < 0 {
		return 0, 0
	}
	hi = min(out, hiIn/stride+1)
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// Conv2D records y = conv(x, w) + bias as a direct convolution, images
// split over goroutines. Stride 1 takes the whole-plane path of
// convfast.go; otherwise each (o, c, kh, kw) tap adds w·(a shifted row of
// x) into each row of the output plane.
func (p *Program) Conv2D(y, x, w, bias *kernels.Tensor, cp kernels.Conv2DParams) {
	g, err := kernels.ConvGeometry("Conv2D", x, w, bias, cp)
	if !p.ok(err) || !p.ok(kernels.CheckConvOut("Conv2D", "y", y, g)) {
		return
	}
	s, ok := p.slices("Conv2D", []string{"y", "x", "w"}, y, x, w)
	if !ok {
		return
	}
	yd, xd, wd := s[0], s[1], s[2]
	var bd []float32
	if bias != nil {
		b, ok := p.slices("Conv2D", []string{"bias"}, bias)
		if !ok {
			return
		}
		bd = b[0]
	}
	if f, ok := newFastGeom(g); ok {
		p.convForwardFast(f, yd, xd, wd, bd)
		return
	}
	inPlane, outPlane := g.H*g.W, g.Ho*g.Wo
	body := func(_, lo, hi int) {
		for n := lo; n < hi; n++ {
			for o := 0; o < g.O; o++ {
				yp := yd[(n*g.O+o)*outPlane : (n*g.O+o+1)*outPlane]
				var b0 float32
				if bd != nil {
					b0 = bd[o]
				}
				for i := range yp {
					yp[i] = b0
				}
				for c := 0; c < g.C; c++ {
					xp := xd[(n*g.C+c)*inPlane : (n*g.C+c+1)*inPlane]
					wk := wd[(o*g.C+c)*g.KH*g.KW : (o*g.C+c+1)*g.KH*g.KW]
					convPlane(yp, xp, wk, &g)
				}
			}
		}
	}
	p.add(func() error {
		p.parallel(g.N, 1, body)
		return nil
	})
}

// convPlane adds the correlation of one input plane xp with one kernel wk
// into one output plane yp.
func convPlane(yp, xp, wk []float32, g *kernels.ConvGeom) {
	for kh := 0; kh < g.KH; kh++ {
		hlo, hhi := validRange(g.Ho, g.StrideH, kh, g.PadH, g.H)
		for kw := 0; kw < g.KW; kw++ {
			wv := wk[kh*g.KW+kw]
			wlo, whi := validRange(g.Wo, g.StrideW, kw, g.PadW, g.W)
			if wlo >= whi {
				continue
			}
			for ho := hlo; ho < hhi; ho++ {
				hi := ho*g.StrideH + kh - g.PadH
				yr := yp[ho*g.Wo+wlo : ho*g.Wo+whi]
				x0 := hi*g.W + wlo*g.StrideW + kw - g.PadW
				if g.StrideW == 1 {
					xr := xp[x0 : x0+len(yr)]
					for i := range yr {
						yr[i] += wv * xr[i]
					}
				} else {
					for i := range yr {
						yr[i] += wv * xp[x0+i*g.StrideW]
					}
				}
			}
		}
	}
}

// Conv2DBackwardInput records dx = the transposed convolution of dy with
// w: every tap scatters w·(a row of dy) into a shifted row of dx.
func (p *Program) Conv2DBackwardInput(dx, dy, w *kernels.Tensor, cp kernels.Conv2DParams) {
	g, err := kernels.ConvGeometry("Conv2DBackwardInput", dx, w, nil, cp)
	if !p.ok(err) || !p.ok(kernels.CheckConvOut("Conv2DBackwardInput", "dy", dy, g)) {
		return
	}
	s, ok := p.slices("Conv2DBackwardInput", []string{"dx", "dy", "w"}, dx, dy, w)
	if !ok {
		return
	}
	dxd, dyd, wd := s[0], s[1], s[2]
	if f, ok := newFastGeom(g); ok {
		p.convBackwardInputFast(f, dxd, dyd, wd)
		return
	}
	inPlane, outPlane := g.H*g.W, g.Ho*g.Wo
	body := func(_, lo, hi int) {
		for n := lo; n < hi; n++ {
			for c := 0; c < g.C; c++ {
				xp := dxd[(n*g.C+c)*inPlane : (n*g.C+c+1)*inPlane]
				clear(xp)
				for o := 0; o < g.O; o++ {
					yp := dyd[(n*g.O+o)*outPlane : (n*g.O+o+1)*outPlane]
					wk := wd[(o*g.C+c)*g.KH*g.KW : (o*g.C+c+1)*g.KH*g.KW]
					convPlaneTransposed(xp, yp, wk, &g)
				}
			}
		}
	}
	p.add(func() error {
		p.parallel(g.N, 1, body)
		return nil
	})
}

// convPlaneTransposed adds the transposed correlation of one output-grad
// plane yp with kernel wk into one input-grad plane xp.
func convPlaneTransposed(xp, yp, wk []float32, g *kernels.ConvGeom) {
	for kh := 0; kh < g.KH; kh++ {
		hlo, hhi := validRange(g.Ho, g.StrideH, kh, g.PadH, g.H)
		for kw := 0; kw < g.KW; kw++ {
			wv := wk[kh*g.KW+kw]
			wlo, whi := validRange(g.Wo, g.StrideW, kw, g.PadW, g.W)
			if wlo >= whi {
				continue
			}
			for ho := hlo; ho < hhi; ho++ {
				hi := ho*g.StrideH + kh - g.PadH
				yr := yp[ho*g.Wo+wlo : ho*g.Wo+whi]
				x0 := hi*g.W + wlo*g.StrideW + kw - g.PadW
				if g.StrideW == 1 {
					xr := xp[x0 : x0+len(yr)]
					for i, v := range yr {
						xr[i] += wv * v
					}
				} else {
					for i, v := range yr {
						xp[x0+i*g.StrideW] += wv * v
					}
				}
			}
		}
	}
}

// Conv2DBackwardWeight records dw (and db) = Σ over images and output
// positions of dy·x. Each goroutine sums its images into its own float64
// partial (preallocated here, so Run does not allocate); the partials are
// added at the end. Per image a tap is a float32 dot product over one
// output plane, which keeps float32 sums short.
func (p *Program) Conv2DBackwardWeight(dw, db, dy, x *kernels.Tensor, cp kernels.Conv2DParams) {
	g, err := kernels.ConvGeometry("Conv2DBackwardWeight", x, dw, db, cp)
	if !p.ok(err) || !p.ok(kernels.CheckConvOut("Conv2DBackwardWeight", "dy", dy, g)) {
		return
	}
	s, ok := p.slices("Conv2DBackwardWeight", []string{"dw", "dy", "x"}, dw, dy, x)
	if !ok {
		return
	}
	dwd, dyd, xd := s[0], s[1], s[2]
	var dbd []float32
	if db != nil {
		b, ok := p.slices("Conv2DBackwardWeight", []string{"db"}, db)
		if !ok {
			return
		}
		dbd = b[0]
	}
	if f, ok := newFastGeom(g); ok {
		p.convBackwardWeightFast(f, dwd, dbd, dyd, xd)
		return
	}
	parts := p.parts(g.N, 1)
	nw := len(dwd)
	acc := make([]float64, parts*(nw+g.O))
	inPlane, outPlane := g.H*g.W, g.Ho*g.Wo
	body := func(part, lo, hi int) {
		a := acc[part*(nw+g.O) : (part+1)*(nw+g.O)]
		clear(a)
		aw, ab := a[:nw], a[nw:]
		for n := lo; n < hi; n++ {
			for o := 0; o < g.O; o++ {
				yp := dyd[(n*g.O+o)*outPlane : (n*g.O+o+1)*outPlane]
				if dbd != nil {
					ab[o] += sum64(yp)
				}
				for c := 0; c < g.C; c++ {
					xp := xd[(n*g.C+c)*inPlane : (n*g.C+c+1)*inPlane]
					wk := aw[(o*g.C+c)*g.KH*g.KW : (o*g.C+c+1)*g.KH*g.KW]
					convPlaneWeight(wk, yp, xp, &g)
				}
			}
		}
	}
	p.add(func() error {
		p.parallel(g.N, 1, body)
		sumParts(dwd, acc, parts, nw+g.O, 0)
		sumParts(dbd, acc, parts, nw+g.O, nw)
		return nil
	})
}

// convPlaneWeight adds, for every tap of one kernel, the dot product of
// an output-grad plane yp with the shifted input plane xp into wk.
func convPlaneWeight(wk []float64, yp, xp []float32, g *kernels.ConvGeom) {
	for kh := 0; kh < g.KH; kh++ {
		hlo, hhi := validRange(g.Ho, g.StrideH, kh, g.PadH, g.H)
		for kw := 0; kw < g.KW; kw++ {
			wlo, whi := validRange(g.Wo, g.StrideW, kw, g.PadW, g.W)
			if wlo >= whi {
				continue
			}
			var sum float32
			for ho := hlo; ho < hhi; ho++ {
				hi := ho*g.StrideH + kh - g.PadH
				yr := yp[ho*g.Wo+wlo : ho*g.Wo+whi]
				x0 := hi*g.W + wlo*g.StrideW + kw - g.PadW
				var rs float32
				if g.StrideW == 1 {
					xr := xp[x0 : x0+len(yr)]
					for i, v := range yr {
						rs += v * xr[i]
					}
				} else {
					for i, v := range yr {
						rs += v * xp[x0+i*g.StrideW]
					}
				}
				sum += rs
			}
			wk[kh*g.KW+kw] += float64(sum)
		}
	}
}
