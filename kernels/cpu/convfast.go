package cpu

import "github.com/vkneuro/vkneuro/kernels"

// Stride-1 convolutions as whole-plane shifted axpys and dots.
//
// The input plane is copied into a zero-padded plane P of row pitch
// Wp = max(W + PadW, Wo) (each row's PadW zeros pad both its neighbours),
// and outputs are kept Wp wide too (columns past Wo are
// scratch). Then output (ho, wo) at tap (kh, kw) reads P at
// (ho+kh)·Wp + wo+kw, so for one tap all outputs read one contiguous run
// of P starting at kh·Wp+kw: the tap is a single axpy (forward, backward
// input) or dot (weight gradient) of length Ho·Wp. No bounds tests in the
// inner loops and no im2col buffer; the scratch per goroutine is one
// padded plane per channel and one wide output plane per filter,
// allocated when the op is recorded.

// fastGeom is the padded layout of a stride-1 convolution.
type fastGeom struct {
	kernels.ConvGeom
	hp, wp int // padded input: rows, row pitch
	plane  int // length of a padded plane plus the overrun of the last tap
	wide   int // Ho·Wp, the length of a wide output plane and of each tap's run
}

func newFastGeom(g kernels.ConvGeom) (fastGeom, bool) {
	if g.StrideH != 1 || g.StrideW != 1 {
		return fastGeom{}, false
	}
	// A row's right padding and the next row's left padding are the same
	// zeros: input column iw of a tap's read is in [−PadW, W+PadW), so
	// rows W+PadW apart keep every read outside a row's W values on zeros
	// (and a row of output needs Wo columns).
	f := fastGeom{ConvGeom: g, hp: g.H + 2*g.PadH, wp: max(g.W+g.PadW, g.Wo)}
	f.plane = f.hp*f.wp + g.KW - 1
	f.wide = g.Ho * f.wp
	return f, true
}

// pad copies the H×W plane x into the interior of the padded plane p,
// whose border is zero and stays zero.
func (f *fastGeom) pad(p, x []float32) {
	for h := 0; h < f.H; h++ {
		copy(p[(h+f.PadH)*f.wp+f.PadW:], x[h*f.W:(h+1)*f.W])
	}
}

// widen copies the Ho×Wo plane y into the first Wo columns of the Ho×Wp
// plane w, whose other columns are zero and stay zero.
func (f *fastGeom) widen(w, y []float32) {
	for h := 0; h < f.Ho; h++ {
		copy(w[h*f.wp:], y[h*f.Wo:(h+1)*f.Wo])
	}
}

// tap is the offset in a padded plane of the run read by tap (kh, kw).
func (f *fastGeom) tap(kh, kw int) int { return kh*f.wp + kw }

// convForwardFast records Conv2D for stride 1.
func (p *Program) convForwardFast(f fastGeom, yd, xd, wd, bd []float32) {
	parts := p.parts(f.N, 1)
	per := f.C*f.plane + f.wide
	scratch := make([]float32, parts*per)
	// offs[t] is where tap t = (c, kh, kw), in the weights' order, starts
	// reading the concatenated padded planes.
	offs := make([]int, 0, f.C*f.KH*f.KW)
	for c := 0; c < f.C; c++ {
		for kh := 0; kh < f.KH; kh++ {
			for kw := 0; kw < f.KW; kw++ {
				offs = append(offs, c*f.plane+f.tap(kh, kw))
			}
		}
	}
	taps := f.KH * f.KW
	body := func(part, lo, hi int) {
		s := scratch[part*per : (part+1)*per]
		pads, wide := s[:f.C*f.plane:f.C*f.plane], s[f.C*f.plane:]
		for n := lo; n < hi; n++ {
			for c := 0; c < f.C; c++ {
				f.pad(pads[c*f.plane:], xd[(n*f.C+c)*f.H*f.W:])
			}
			for o := 0; o < f.O; o++ {
				var b float32
				if bd != nil {
					b = bd[o]
				}
				// The bias is the taps' starting value: no pass of its own.
				convTaps(wide, pads, offs, wd[o*f.C*taps:(o+1)*f.C*taps], b)
				yp := yd[(n*f.O+o)*f.Ho*f.Wo:]
				for h := 0; h < f.Ho; h++ {
					copy(yp[h*f.Wo:(h+1)*f.Wo], wide[h*f.wp:])
				}
			}
		}
	}
	p.add(func() error {
		p.parallel(f.N, 1, body)
		return nil
	})
}

// convBackwardInputFast records Conv2DBackwardInput for stride 1 as a
// stride-1 correlation too: the padded dx plane at q is Σ over (o, tap)
// of w·dy' at q − offset(tap), where dy' is filter o's wide dy plane
// placed after base = offset(last tap) zeros in a plane Z_o. So each
// channel's padded dx plane is one convTaps over the Z planes, with the
// weights of that channel gathered once per run.
func (p *Program) convBackwardInputFast(f fastGeom, dxd, dyd, wd []float32) {
	parts := p.parts(f.N, 1)
	taps := f.KH * f.KW
	base := f.tap(f.KH-1, f.KW-1)
	zlen := base + f.plane
	per := f.O*zlen + f.plane
	scratch := make([]float32, parts*per)
	// offs[(o, t)] is where tap t of filter o starts reading the Z planes.
	offs := make([]int, 0, f.O*taps)
	for o := 0; o < f.O; o++ {
		for kh := 0; kh < f.KH; kh++ {
			for kw := 0; kw < f.KW; kw++ {
				offs = append(offs, o*zlen+base-f.tap(kh, kw))
			}
		}
	}
	// wc[c] holds w[o, c, t] in (o, t) order, gathered when the op runs.
	wc := make([]float32, f.C*f.O*taps)
	body := func(part, lo, hi int) {
		s := scratch[part*per : (part+1)*per]
		zs, dp := s[:f.O*zlen:f.O*zlen], s[f.O*zlen:]
		for n := lo; n < hi; n++ {
			for o := 0; o < f.O; o++ {
				f.widen(zs[o*zlen+base:], dyd[(n*f.O+o)*f.Ho*f.Wo:])
			}
			for c := 0; c < f.C; c++ {
				convTaps(dp, zs, offs, wc[c*f.O*taps:(c+1)*f.O*taps], 0)
				xp := dxd[(n*f.C+c)*f.H*f.W:]
				for h := 0; h < f.H; h++ {
					copy(xp[h*f.W:(h+1)*f.W], dp[(h+f.PadH)*f.wp+f.PadW:])
				}
			}
		}
	}
	p.add(func() error {
		for c := 0; c < f.C; c++ {
			for o := 0; o < f.O; o++ {
				copy(wc[(c*f.O+o)*taps:(c*f.O+o+1)*taps], wd[(o*f.C+c)*taps:(o*f.C+c+1)*taps])
			}
		}
		p.parallel(f.N, 1, body)
		return nil
	})
}

// convBackwardWeightFast records Conv2DBackwardWeight for stride 1: per
// image each tap is one float32 dot of the wide dy plane with the padded
// input at the tap's offset, added into a float64 partial per goroutine.
func (p *Program) convBackwardWeightFast(f fastGeom, dwd, dbd, dyd, xd []float32) {
	parts := p.parts(f.N, 1)
	per := f.C*f.plane + f.O*f.wide
	scratch := make([]float32, parts*per)
	nw := len(dwd)
	acc := make([]float64, parts*(nw+f.O))
	taps := f.KH * f.KW
	offs := make([]int, 0, taps) // offset of tap t = (kh, kw) in a padded plane
	for kh := 0; kh < f.KH; kh++ {
		for kw := 0; kw < f.KW; kw++ {
			offs = append(offs, f.tap(kh, kw))
		}
	}
	body := func(part, lo, hi int) {
		s := scratch[part*per : (part+1)*per]
		pads, wides := s[:f.C*f.plane], s[f.C*f.plane:]
		a := acc[part*(nw+f.O) : (part+1)*(nw+f.O)]
		clear(a)
		aw, ab := a[:nw], a[nw:]
		for n := lo; n < hi; n++ {
			for c := 0; c < f.C; c++ {
				f.pad(pads[c*f.plane:], xd[(n*f.C+c)*f.H*f.W:])
			}
			for o := 0; o < f.O; o++ {
				f.widen(wides[o*f.wide:], dyd[(n*f.O+o)*f.Ho*f.Wo:])
				if dbd != nil {
					ab[o] += sum64(dyd[(n*f.O+o)*f.Ho*f.Wo : (n*f.O+o+1)*f.Ho*f.Wo])
				}
			}
			for o := 0; o < f.O; o++ {
				wo := wides[o*f.wide : (o+1)*f.wide]
				for c := 0; c < f.C; c++ {
					pc := pads[c*f.plane : (c+1)*f.plane]
					ak := aw[(o*f.C+c)*taps : (o*f.C+c+1)*taps]
					// Four taps at a time share each load of the dy plane.
					t := 0
					for ; t+4 <= taps; t += 4 {
						s0, s1, s2, s3 := dot4(wo, pc[offs[t]:], pc[offs[t+1]:], pc[offs[t+2]:], pc[offs[t+3]:])
						ak[t] += float64(s0)
						ak[t+1] += float64(s1)
						ak[t+2] += float64(s2)
						ak[t+3] += float64(s3)
					}
					for ; t < taps; t++ {
						ak[t] += float64(dot(wo, pc[offs[t]:]))
					}
				}
			}
		}
	}
	p.add(func() error {
		p.parallel(f.N, 1, body)
		sumParts(dwd, acc, parts, nw+f.O, 0)
		sumParts(dbd, acc, parts, nw+f.O, nw)
		return nil
	})
}
