package cpu

import (
	"math"

	"github.com/vkneuro/vkneuro/kernels"
)

// elemGrain is the smallest chunk of an element-wise op worth handing to
// another goroutine: below it the hand-off costs more than the work.
const elemGrain = 1 << 15

// Fill sets every element of t to v.
func (p *Program) Fill(t *kernels.Tensor, v float32) {
	if !p.ok(kernels.SameLen("Fill", t)) {
		return
	}
	s, ok := p.slices("Fill", []string{"t"}, t)
	if !ok {
		return
	}
	d := s[0]
	p.addParallel(len(d), elemGrain, func(_, lo, hi int) {
		x := d[lo:hi]
		for i := range x {
			x[i] = v
		}
	})
}

// Copy copies src into dst.
func (p *Program) Copy(dst, src *kernels.Tensor) {
	if !p.ok(kernels.SameLen("Copy", dst, src)) {
		return
	}
	s, ok := p.slices("Copy", []string{"dst", "src"}, dst, src)
	if !ok {
		return
	}
	d, x := s[0], s[1]
	p.add(func() error {
		copy(d, x)
		return nil
	})
}

// MatMul computes c = alpha·op(a)·op(b) + beta·c (gemm.go).
func (p *Program) MatMul(c, a, b *kernels.Tensor, transA, transB bool, alpha, beta float32) {
	m, n, k, err := kernels.MatMulDims(c, a, b, transA, transB)
	if !p.ok(err) {
		return
	}
	s, ok := p.slices("MatMul", []string{"c", "a", "b"}, c, a, b)
	if !ok {
		return
	}
	p.newGemm(m, n, k, s[1], s[2], s[0], transA, transB, alpha, beta, nil).record(p)
}

// AddBias adds bias[j] to every x[i, j, ...].
func (p *Program) AddBias(x, bias *kernels.Tensor) {
	outer, f, inner, err := kernels.BiasDims("AddBias", x, bias)
	if !p.ok(err) {
		return
	}
	s, ok := p.slices("AddBias", []string{"x", "bias"}, x, bias)
	if !ok {
		return
	}
	xd, bd := s[0], s[1]
	p.addParallel(outer, max(1, elemGrain/(f*inner)), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			row := xd[i*f*inner : (i+1)*f*inner]
			if inner == 1 {
				// A linear layer's output: the bias row added with the
				// vector loops (a slice per element was a measurable part
				// of the encoder's forward; bench/RESULTS.md).
				axpy(row, 1, bd)
				continue
			}
			for j, bj := range bd {
				seg := row[j*inner : (j+1)*inner]
				for k := range seg {
					seg[k] += bj
				}
			}
		}
	})
}

// BiasGrad sets db[j] = Σ dy[i, j, ...].
func (p *Program) BiasGrad(db, dy *kernels.Tensor) {
	outer, f, inner, err := kernels.BiasDims("BiasGrad", dy, db)
	if !p.ok(err) {
		return
	}
	s, ok := p.slices("BiasGrad", []string{"db", "dy"}, db, dy)
	if !ok {
		return
	}
	dbd, dyd := s[0], s[1]
	// Rows i are split over goroutines, each summing into its own float64
	// partial of db.
	parts := p.parts(outer, max(1, elemGrain/(f*inner)))
	partial := make([]float64, parts*f)
	// With inner 1 (a linear layer) rows are first summed in float32 by
	// the vector loops, biasRows at a time, then added in float64.
	var rowSums []float32
	if inner == 1 {
		rowSums = make([]float32, parts*f)
	}
	body := func(part, lo, hi int) {
		acc := partial[part*f : (part+1)*f]
		clear(acc)
		if inner == 1 {
			rs := rowSums[part*f : (part+1)*f]
			for i0 := lo; i0 < hi; i0 += biasRows {
				clear(rs)
				for i := i0; i < min(i0+biasRows, hi); i++ {
					axpy(rs, 1, dyd[i*f:(i+1)*f])
				}
				for j, v := range rs {
					acc[j] += float64(v)
				}
			}
			return
		}
		for i := lo; i < hi; i++ {
			for j := range acc {
				acc[j] += float64(sum32(dyd[(i*f+j)*inner : (i*f+j+1)*inner]))
			}
		}
	}
	p.add(func() error {
		p.parallel(outer, max(1, elemGrain/(f*inner)), body)
		sumParts(dbd, partial, parts, f, 0)
		return nil
	})
}

// biasRows bounds the rows BiasGrad sums in float32 before float64.
const biasRows = 64

// sum32 sums x in float32 with four independent accumulators; callers
// keep x short (one row or plane) and add the results in float64.
func sum32(x []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i]
		s1 += x[i+1]
		s2 += x[i+2]
		s3 += x[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// sum64 sums x in float64, chunk by chunk of float32 sums.
func sum64(x []float32) float64 {
	var acc float64
	for len(x) > 0 {
		n := min(len(x), len(ones))
		// A dot with ones: the build's vector loop (the scalar sum32 cost
		// the convolution's bias gradient twice its weight gradient).
		acc += float64(dot(x[:n], ones[:n]))
		x = x[n:]
	}
	return acc
}

// ones is what sum64 dots its chunks with.
var ones = func() (o [256]float32) {
	for i := range o {
		o[i] = 1
	}
	return o
}()

// sumSq64 returns Σ x² in float64, in four interleaved partial sums: one
// float64 chain is bound by the add latency (4 cycles an element), which
// made the penalties of the encoder's 27 M weights cost as much as the
// SGD pass.
func sumSq64(x []float32) float64 {
	var a0, a1, a2, a3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v0, v1, v2, v3 := float64(x[i]), float64(x[i+1]), float64(x[i+2]), float64(x[i+3])
		a0 += v0 * v0
		a1 += v1 * v1
		a2 += v2 * v2
		a3 += v3 * v3
	}
	for ; i < len(x); i++ {
		v := float64(x[i])
		a0 += v * v
	}
	return (a0 + a1) + (a2 + a3)
}

// sumAbs64 returns Σ |x| in float64, as sumSq64.
func sumAbs64(x []float32) float64 {
	var a0, a1, a2, a3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		a0 += float64(abs32(x[i]))
		a1 += float64(abs32(x[i+1]))
		a2 += float64(abs32(x[i+2]))
		a3 += float64(abs32(x[i+3]))
	}
	for ; i < len(x); i++ {
		a0 += float64(abs32(x[i]))
	}
	return (a0 + a1) + (a2 + a3)
}

// Softmax sets y = softmax(x) or log-softmax(x) along dim.
func (p *Program) Softmax(y, x *kernels.Tensor, dim int, log bool) {
	outer, n, inner, err := kernels.AxisDims("Softmax", x, dim)
	if !p.ok(err) || !p.ok(kernels.SameShape("Softmax", y, x)) {
		return
	}
	s, ok := p.slices("Softmax", []string{"y", "x"}, y, x)
	if !ok {
		return
	}
	yd, xd := s[0], s[1]
	p.addParallel(outer*inner, max(1, elemGrain/n), func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			base := (r/inner)*n*inner + r%inner
			m := float32(math.Inf(-1))
			for i := 0; i < n; i++ {
				m = max(m, xd[base+i*inner])
			}
			var z float64
			if log {
				for i := 0; i < n; i++ {
					z += float64(exp32(xd[base+i*inner] - m))
				}
				lz := float32(math.Log(z))
				for i := 0; i < n; i++ {
					yd[base+i*inner] = xd[base+i*inner] - m - lz
				}
			} else {
				for i := 0; i < n; i++ {
					e := exp32(xd[base+i*inner] - m)
					yd[base+i*inner] = e
					z += float64(e)
				}
				inv := float32(1 / z)
				for i := 0; i < n; i++ {
					yd[base+i*inner] *= inv
				}
			}
		}
	})
}

// SoftmaxBackward sets dx from dy and the forward output y.
func (p *Program) SoftmaxBackward(dx, dy, y *kernels.Tensor, dim int, log bool) {
	outer, n, inner, err := kernels.AxisDims("SoftmaxBackward", y, dim)
	if !p.ok(err) || !p.ok(kernels.SameShape("SoftmaxBackward", dx, dy, y)) {
		return
	}
	s, ok := p.slices("SoftmaxBackward", []string{"dx", "dy", "y"}, dx, dy, y)
	if !ok {
		return
	}
	dxd, dyd, yd := s[0], s[1], s[2]
	p.addParallel(outer*inner, max(1, elemGrain/n), func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			base := (r/inner)*n*inner + r%inner
			var acc float64
			if log {
				for i := 0; i < n; i++ {
					acc += float64(dyd[base+i*inner])
				}
				for i := 0; i < n; i++ {
					j := base + i*inner
					dxd[j] = dyd[j] - exp32(yd[j])*float32(acc)
				}
			} else {
				for i := 0; i < n; i++ {
					j := base + i*inner
					acc += float64(dyd[j]) * float64(yd[j])
				}
				for i := 0; i < n; i++ {
					j := base + i*inner
					dxd[j] = float32(float64(yd[j]) * (float64(dyd[j]) - acc))
				}
			}
		}
	})
}

// elementwise records an op over equal-length slices, split over goroutines when large.
func (p *Program) elementwise(op string, names []string, ts []*kernels.Tensor, f func(lo, hi int, s [][]float32)) {
	if !p.ok(kernels.SameShape(op, ts...)) {
		return
	}
	s, ok := p.slices(op, names, ts...)
	if !ok {
		return
	}
	n := len(s[0])
	body := func(_, lo, hi int) { f(lo, hi, s) }
	p.add(func() error {
		p.parallel(n, elemGrain, body)
		return nil
	})
}

// reduce records out[0] = scale·Σ over chunks of term(chunk) (plus the
// old out[0] when add is set). Chunks are summed by separate goroutines
// into float64 partials preallocated here.
func (p *Program) reduce(op string, out, x *kernels.Tensor, term func(x []float32) float64, scale float64, add bool) {
	if !p.ok(kernels.Scalar(op, "out", out)) || !p.ok(kernels.SameLen(op, x)) {
		return
	}
	s, ok := p.slices(op, []string{"out", "x"}, out, x)
	if !ok {
		return
	}
	od, xd := s[0], s[1]
	partial := make([]float64, p.parts(len(xd), elemGrain))
	body := func(part, lo, hi int) { partial[part] = term(xd[lo:hi]) }
	p.add(func() error {
		p.parallel(len(xd), elemGrain, body)
		var v float64
		for _, pv := range partial {
			v += pv
		}
		v *= scale
		if add {
			v += float64(od[0])
		}
		od[0] = float32(v)
		return nil
	})
}

// Sum sets out[0] = Σ x.
func (p *Program) Sum(out, x *kernels.Tensor) {
	p.reduce("Sum", out, x, sum64, 1, false)
}

// Mean sets out[0] = Σ x / len(x).
func (p *Program) Mean(out, x *kernels.Tensor) {
	p.reduce("Mean", out, x, sum64, 1/float64(max(x.Len(), 1)), false)
}

// L2Penalty adds coef·Σ w² into loss[0].
func (p *Program) L2Penalty(loss, w *kernels.Tensor, coef float32) {
	p.reduce("L2Penalty", loss, w, sumSq64, float64(coef), true)
}

// L2PenaltyGrad adds 2·coef·w into dw.
func (p *Program) L2PenaltyGrad(dw, w *kernels.Tensor, coef float32) {
	c := 2 * coef
	p.elementwise("L2PenaltyGrad", []string{"dw", "w"}, []*kernels.Tensor{dw, w}, func(lo, hi int, s [][]float32) {
		dd, wd := s[0][lo:hi], s[1][lo:hi]
		for i, v := range wd {
			dd[i] += c * v
		}
	})
}

// L1Penalty adds coef·Σ |w| into loss[0].
func (p *Program) L1Penalty(loss, w *kernels.Tensor, coef float32) {
	p.reduce("L1Penalty", loss, w, sumAbs64, float64(coef), true)
}

// L1PenaltyGrad adds coef·sign(w) into dw, with sign(0) = 0.
func (p *Program) L1PenaltyGrad(dw, w *kernels.Tensor, coef float32) {
	p.elementwise("L1PenaltyGrad", []string{"dw", "w"}, []*kernels.Tensor{dw, w}, func(lo, hi int, s [][]float32) {
		dd, wd := s[0][lo:hi], s[1][lo:hi]
		dd = dd[:len(wd)]
		cb := math.Float32bits(coef)
		for i, v := range wd {
			// coef with its sign flipped for negative w, masked to 0 for
			// w = ±0: random signs would defeat a branch predictor.
			b := math.Float32bits(v)
			nz := uint32(-int32(b&^(1<<31)) >> 31)
			dd[i] += math.Float32frombits((cb ^ b&(1<<31)) & nz)
		}
	})
}
