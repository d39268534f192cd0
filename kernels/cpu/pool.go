package cpu

// Pooling: max and average pools, each next to its backward.

import (
	"fmt"

	"github.com/vkneuro/vkneuro/kernels"
)

// MaxPool2D records the max over each window and where it was: each
// plane through poolPlane, the pool block's loop without its ReLU.
func (p *Program) MaxPool2D(y, argmax, x *kernels.Tensor, pp kernels.Pool2DParams) {
	g, err := kernels.PoolGeometry("MaxPool2D", x, pp)
	if !p.ok(err) || !p.ok(kernels.CheckPoolOut("MaxPool2D", "y", y, g)) || !p.ok(kernels.CheckPoolOut("MaxPool2D", "argmax", argmax, g)) {
		return
	}
	s, ok := p.slices("MaxPool2D", []string{"y", "argmax", "x"}, y, argmax, x)
	if !ok {
		return
	}
	yd, ad, xd := s[0], s[1], s[2]
	planes := g.N * g.C
	p.addParallel(planes, max(1, elemGrain/(g.H*g.W)), func(_, lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp := xd[pl*g.H*g.W : (pl+1)*g.H*g.W]
			yp := yd[pl*g.Ho*g.Wo : (pl+1)*g.Ho*g.Wo]
			ap := ad[pl*g.Ho*g.Wo : (pl+1)*g.Ho*g.Wo]
			poolPlane(yp, ap, xp, g.W, g, false)
		}
	})
}

// poolPlane max-pools one output plane (rows pitch apart) into y and
// argmax (indices h·pitch+w), through ReLU when relu is set, exactly as
// MaxPool2D of the ReLU's output: first maximum on ties, NaN wins.
func poolPlane(y, argmax, plane []float32, pitch int, g kernels.PoolGeom, relu bool) {
	wo := pitch
	var keys [8]int32
	var vals [8]float32
	for oh := 0; oh < g.Ho; oh++ {
		ow := 0
		if g.KW == 8 && g.StrideW == 8 {
			// Eight windows side by side at once.
			for ; ow+8 <= g.Wo; ow += 8 {
				h0, w0 := oh*g.StrideH, ow*8
				if !maxBand8(plane, h0*pitch+w0, pitch, g.KH, &keys, &vals) {
					break
				}
				for q, k := range keys {
					v, r, c := vals[q], int(k)>>3, int(k)&7
					if relu && !(v > 0) {
						v, r, c = 0, 0, 0
					}
					y[oh*g.Wo+ow+q] = v
					argmax[oh*g.Wo+ow+q] = float32((h0+r)*wo + w0 + 8*q + c)
				}
			}
		}
		for ; ow < g.Wo; ow++ {
			h0, w0 := oh*g.StrideH, ow*g.StrideW
			start := h0*pitch + w0
			if g.KW == 8 {
				if i, ok := maxWindow8(plane, start, pitch, g.KH); ok {
					v := plane[start+i]
					if relu && !(v > 0) {
						// Every ReLU output of the window is +0: the first wins.
						v, i = 0, 0
					}
					y[oh*g.Wo+ow] = v
					argmax[oh*g.Wo+ow] = float32((h0+i/pitch)*wo + w0 + i%pitch)
					continue
				}
			}
			best, bi := plane[start], 0
			if relu {
				best = relu32(best)
			}
			for kh := 0; kh < g.KH; kh++ {
				for kw, v := range plane[start+kh*pitch : start+kh*pitch+g.KW] {
					if relu {
						v = relu32(v)
					}
					// NaN wins, as in PyTorch.
					if v > best || (v != v && best == best) {
						best, bi = v, kh*pitch+kw
					}
				}
			}
			y[oh*g.Wo+ow] = best
			argmax[oh*g.Wo+ow] = float32((h0+bi/pitch)*wo + w0 + bi%pitch)
		}
	}
}

// MaxPool2DBackward routes dy to the argmax positions of dx.
func (p *Program) MaxPool2DBackward(dx, dy, argmax *kernels.Tensor, pp kernels.Pool2DParams) {
	g, err := kernels.PoolGeometry("MaxPool2DBackward", dx, pp)
	if !p.ok(err) || !p.ok(kernels.CheckPoolOut("MaxPool2DBackward", "dy", dy, g)) || !p.ok(kernels.CheckPoolOut("MaxPool2DBackward", "argmax", argmax, g)) {
		return
	}
	s, ok := p.slices("MaxPool2DBackward", []string{"dx", "dy", "argmax"}, dx, dy, argmax)
	if !ok {
		return
	}
	dxd, dyd, ad := s[0], s[1], s[2]
	planes := g.N * g.C
	hw, ohw := g.H*g.W, g.Ho*g.Wo
	// bad[part] holds an invalid argmax found by goroutine part.
	grain := max(1, elemGrain/hw)
	bad := make([]error, p.parts(planes, grain))
	body := func(part, lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp := dxd[pl*hw : (pl+1)*hw]
			clear(xp)
			yp := dyd[pl*ohw : (pl+1)*ohw]
			for i, a := range ad[pl*ohw : (pl+1)*ohw] {
				j := int(a)
				if j < 0 || j >= hw || float32(j) != a {
					bad[part] = fmt.Errorf("cpu: MaxPool2DBackward: argmax value %v at plane %d, output %d is not an index into a %dx%d plane", a, pl, i, g.H, g.W)
					continue
				}
				xp[j] += yp[i]
			}
		}
	}
	p.add(func() error {
		clear(bad)
		p.parallel(planes, grain, body)
		for _, err := range bad {
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// AvgPool2D sets y to the mean of each window of x (no padding).
func (p *Program) AvgPool2D(y, x *kernels.Tensor, pp kernels.Pool2DParams) {
	g, err := kernels.PoolGeometry("AvgPool2D", x, pp)
	if !p.ok(err) || !p.ok(kernels.CheckPoolOut("AvgPool2D", "y", y, g)) {
		return
	}
	s, ok := p.slices("AvgPool2D", []string{"y", "x"}, y, x)
	if !ok {
		return
	}
	yd, xd := s[0], s[1]
	hw, ohw := g.H*g.W, g.Ho*g.Wo
	k := float32(g.KH * g.KW)
	p.addParallel(g.N*g.C, max(1, elemGrain/hw), func(_, lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp := xd[pl*hw : (pl+1)*hw]
			yp := yd[pl*ohw : (pl+1)*ohw]
			for oh := 0; oh < g.Ho; oh++ {
				for ow := 0; ow < g.Wo; ow++ {
					at := oh*g.StrideH*g.W + ow*g.StrideW
					var sum float32
					for kh := 0; kh < g.KH; kh++ {
						sum += sum32(xp[at+kh*g.W : at+kh*g.W+g.KW])
					}
					// Divided, not multiplied by 1/k, as PyTorch.
					yp[oh*g.Wo+ow] = sum / k
				}
			}
		}
	})
}

// AvgPool2DBackward sets dx: each element receives dy/(KH·KW) from every
// window that covers it. Each element of dx is written once, with no
// clearing pass: where windows do not overlap (stride ≥ kernel), a row
// of dx is its window row's dy/k repeated across each window and zeros
// in the gaps; where they overlap, each element gathers the dy of the
// windows covering it, found in per-row and per-column tables.
func (p *Program) AvgPool2DBackward(dx, dy *kernels.Tensor, pp kernels.Pool2DParams) {
	g, err := kernels.PoolGeometry("AvgPool2DBackward", dx, pp)
	if !p.ok(err) || !p.ok(kernels.CheckPoolOut("AvgPool2DBackward", "dy", dy, g)) {
		return
	}
	s, ok := p.slices("AvgPool2DBackward", []string{"dx", "dy"}, dx, dy)
	if !ok {
		return
	}
	dxd, dyd := s[0], s[1]
	rows, cols := windowsCovering(g.H, g.KH, g.StrideH, g.Ho), windowsCovering(g.W, g.KW, g.StrideW, g.Wo)
	disjoint := g.StrideW >= g.KW
	hw, ohw := g.H*g.W, g.Ho*g.Wo
	k := float32(g.KH * g.KW)
	p.addParallel(g.N*g.C, max(1, elemGrain/hw), func(_, lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp := dxd[pl*hw : (pl+1)*hw]
			yp := dyd[pl*ohw : (pl+1)*ohw]
			for h := 0; h < g.H; h++ {
				row := xp[h*g.W : (h+1)*g.W]
				r := rows[h]
				switch {
				case r.lo == r.hi:
					clear(row) // a gap between window rows, or rows past the last
				case disjoint && r.hi == r.lo+1:
					spreadRow(row, yp[r.lo*g.Wo:(r.lo+1)*g.Wo], g.KW, g.StrideW, k)
				default:
					for w := range row {
						c := cols[w]
						var sum float32
						for oh := r.lo; oh < r.hi; oh++ {
							for _, v := range yp[oh*g.Wo+c.lo : oh*g.Wo+c.hi] {
								sum += v
							}
						}
						row[w] = sum / k
					}
				}
			}
		}
	})
}

// spreadRow sets row to dy[ow]/k across each window ow of width kw every
// stride ≥ kw elements, and to zero in the gaps and past the last window.
func spreadRow(row, dy []float32, kw, stride int, k float32) {
	end := 0
	for ow, d := range dy {
		w0 := ow * stride
		fill(row[w0:w0+kw], d/k)
		end = min(w0+stride, len(row))
		clear(row[w0+kw : end])
	}
	clear(row[end:])
}

// span is the range [lo, hi) of pooling windows along one axis that
// cover an input position.
type span struct{ lo, hi int }

// windowsCovering returns, for each of the n input positions along an
// axis, the windows o (0 ≤ o < no) with o·stride ≤ i < o·stride + k.
func windowsCovering(n, k, stride, no int) []span {
	s := make([]span, n)
	for i := range s {
		lo := max(0, (i-k+stride)/stride) // ⌈(i−k+1)/stride⌉ for i ≥ k−1, else 0
		hi := min(no, i/stride+1)
		s[i] = span{lo, max(lo, hi)}
	}
	return s
}
