//go:build goexperiment.simd && amd64

package cpu

import (
	bits8 "math/bits"
	"simd/archsimd"
)

// Every function here ends its vector part with ClearAVXUpperBits
// (VZEROUPPER): Go's scalar float code is SSE, and running it with dirty
// upper halves of the vector registers made the plain loops that follow
// (ReLUBackward, measured) about 1.5× slower.

// hasAVX2FMA selects the 8-wide loops; without it the plain loops run.
var hasAVX2FMA = archsimd.X86.AVX2() && archsimd.X86.FMA()

// simdKind names the vector code in use, for Device.
var simdKind = map[bool]string{true: "AVX2+FMA", false: "scalar"}[hasAVX2FMA]

// axpy sets y[i] += a·x[i] for i < len(y); len(x) ≥ len(y).
func axpy(y []float32, a float32, x []float32) {
	if !hasAVX2FMA {
		axpyGeneric(y, a, x)
		return
	}
	x = x[:len(y)]
	av := archsimd.BroadcastFloat32x8(a)
	i := 0
	for ; i+16 <= len(y); i += 16 {
		y0 := archsimd.LoadFloat32x8Slice(y[i:])
		y1 := archsimd.LoadFloat32x8Slice(y[i+8:])
		x0 := archsimd.LoadFloat32x8Slice(x[i:])
		x1 := archsimd.LoadFloat32x8Slice(x[i+8:])
		av.MulAdd(x0, y0).StoreSlice(y[i:])
		av.MulAdd(x1, y1).StoreSlice(y[i+8:])
	}
	for ; i+8 <= len(y); i += 8 {
		y0 := archsimd.LoadFloat32x8Slice(y[i:])
		x0 := archsimd.LoadFloat32x8Slice(x[i:])
		av.MulAdd(x0, y0).StoreSlice(y[i:])
	}
	for ; i < len(y); i++ {
		y[i] += a * x[i]
	}
	archsimd.ClearAVXUpperBits()
}

// dot returns Σ x[i]·y[i] for i < len(x) in float32; len(y) ≥ len(x).
func dot(x, y []float32) float32 {
	if !hasAVX2FMA {
		return dotGeneric(x, y)
	}
	y = y[:len(x)]
	var s0, s1, s2, s3 archsimd.Float32x8
	i := 0
	for ; i+32 <= len(x); i += 32 {
		s0 = archsimd.LoadFloat32x8Slice(x[i:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i:]), s0)
		s1 = archsimd.LoadFloat32x8Slice(x[i+8:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i+8:]), s1)
		s2 = archsimd.LoadFloat32x8Slice(x[i+16:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i+16:]), s2)
		s3 = archsimd.LoadFloat32x8Slice(x[i+24:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i+24:]), s3)
	}
	for ; i+8 <= len(x); i += 8 {
		s0 = archsimd.LoadFloat32x8Slice(x[i:]).MulAdd(archsimd.LoadFloat32x8Slice(y[i:]), s0)
	}
	s := s0.Add(s1).Add(s2.Add(s3))
	var lanes [8]float32
	s.Store(&lanes)
	r := ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]))
	for ; i < len(x); i++ {
		r += x[i] * y[i]
	}
	archsimd.ClearAVXUpperBits()
	return r
}

// dot4 returns the dot products of b with a0…a3 over len(b).
func dot4(b, a0, a1, a2, a3 []float32) (s0, s1, s2, s3 float32) {
	if !hasAVX2FMA {
		return dot4Generic(b, a0, a1, a2, a3)
	}
	a0, a1, a2, a3 = a0[:len(b)], a1[:len(b)], a2[:len(b)], a3[:len(b)]
	var c0, c1, c2, c3 archsimd.Float32x8
	i := 0
	for ; i+8 <= len(b); i += 8 {
		v := archsimd.LoadFloat32x8Slice(b[i:])
		c0 = archsimd.LoadFloat32x8Slice(a0[i:]).MulAdd(v, c0)
		c1 = archsimd.LoadFloat32x8Slice(a1[i:]).MulAdd(v, c1)
		c2 = archsimd.LoadFloat32x8Slice(a2[i:]).MulAdd(v, c2)
		c3 = archsimd.LoadFloat32x8Slice(a3[i:]).MulAdd(v, c3)
	}
	s0, s1, s2, s3 = hsum(c0), hsum(c1), hsum(c2), hsum(c3)
	for ; i < len(b); i++ {
		v := b[i]
		s0 += a0[i] * v
		s1 += a1[i] * v
		s2 += a2[i] * v
		s3 += a3[i] * v
	}
	archsimd.ClearAVXUpperBits()
	return
}

// hsum adds the eight lanes of v pairwise.
func hsum(v archsimd.Float32x8) float32 {
	var l [8]float32
	v.Store(&l)
	return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}

// convTaps sets out[j] = b + Σ_t w[t]·src[offs[t]+j] for j < len(out),
// keeping 32 outputs in four registers across all taps: one load per
// multiply-add and one store per output, instead of an axpy per tap.
func convTaps(out, src []float32, offs []int, w []float32, b float32) {
	if !hasAVX2FMA {
		convTapsGeneric(out, src, offs, w, b)
		return
	}
	w = w[:len(offs)]
	bv := archsimd.BroadcastFloat32x8(b)
	j := 0
	for ; j+32 <= len(out); j += 32 {
		a0, a1, a2, a3 := bv, bv, bv, bv
		for t, o := range offs {
			wv := archsimd.BroadcastFloat32x8(w[t])
			s := src[o+j : o+j+32]
			a0 = wv.MulAdd(archsimd.LoadFloat32x8Slice(s), a0)
			a1 = wv.MulAdd(archsimd.LoadFloat32x8Slice(s[8:]), a1)
			a2 = wv.MulAdd(archsimd.LoadFloat32x8Slice(s[16:]), a2)
			a3 = wv.MulAdd(archsimd.LoadFloat32x8Slice(s[24:]), a3)
		}
		a0.StoreSlice(out[j:])
		a1.StoreSlice(out[j+8:])
		a2.StoreSlice(out[j+16:])
		a3.StoreSlice(out[j+24:])
	}
	for ; j+8 <= len(out); j += 8 {
		a0 := bv
		for t, o := range offs {
			a0 = archsimd.BroadcastFloat32x8(w[t]).MulAdd(archsimd.LoadFloat32x8Slice(src[o+j:o+j+8]), a0)
		}
		a0.StoreSlice(out[j:])
	}
	for ; j < len(out); j++ {
		s := b
		for t, o := range offs {
			s += w[t] * src[o+j]
		}
		out[j] = s
	}
	archsimd.ClearAVXUpperBits()
}

// maxWindow8 returns the offset r·w+c of the first maximum of the window
// of kh rows of 8 starting at xp[start] (rows w apart), or ok = false when
// the window holds a NaN (the plain loop handles NaNs as PyTorch) or AVX2
// is missing.
func maxWindow8(xp []float32, start, w, kh int) (idx int, ok bool) {
	if !hasAVX2FMA {
		return 0, false
	}
	m := archsimd.LoadFloat32x8Slice(xp[start : start+8])
	nan := m.IsNaN()
	for r := 1; r < kh; r++ {
		v := archsimd.LoadFloat32x8Slice(xp[start+r*w : start+r*w+8])
		m = m.Max(v)
		nan = nan.Or(v.IsNaN())
	}
	if nan.ToBits() != 0 {
		archsimd.ClearAVXUpperBits()
		return 0, false
	}
	var l [8]float32
	m.Store(&l)
	best := l[0]
	for _, v := range l[1:] {
		best = max(best, v)
	}
	bv := archsimd.BroadcastFloat32x8(best)
	for r := 0; r < kh; r++ {
		if bits := archsimd.LoadFloat32x8Slice(xp[start+r*w : start+r*w+8]).Equal(bv).ToBits(); bits != 0 {
			archsimd.ClearAVXUpperBits()
			return r*w + bits8.TrailingZeros8(bits), true
		}
	}
	archsimd.ClearAVXUpperBits()
	return 0, false
}

// hasAVX512 selects the 16-wide loops.
var hasAVX512 = hasAVX2FMA && archsimd.X86.AVX512()

// peakLoops are the FMA loops of MeasurePeak for the vector code in use.
func peakLoops() []peakLoop {
	if !hasAVX2FMA {
		return []peakLoop{{"scalar", 1, peakGeneric}}
	}
	l := []peakLoop{{"AVX2+FMA", 8, peakFMA8}}
	if hasAVX512 {
		l = append(l, peakLoop{"AVX-512", 16, peakFMA16})
	}
	return l
}

// peakFMA8 is the 8-wide peak loop: twelve independent vector chains.
func peakFMA8(iters int, a, b float32) float32 {
	av, bv := archsimd.BroadcastFloat32x8(a), archsimd.BroadcastFloat32x8(b)
	x0, x1, x2, x3, x4, x5 := bv, bv, bv, bv, bv, bv
	x6, x7, x8, x9, x10, x11 := bv, bv, bv, bv, bv, bv
	for range iters {
		x0, x1, x2, x3 = x0.MulAdd(av, bv), x1.MulAdd(av, bv), x2.MulAdd(av, bv), x3.MulAdd(av, bv)
		x4, x5, x6, x7 = x4.MulAdd(av, bv), x5.MulAdd(av, bv), x6.MulAdd(av, bv), x7.MulAdd(av, bv)
		x8, x9, x10, x11 = x8.MulAdd(av, bv), x9.MulAdd(av, bv), x10.MulAdd(av, bv), x11.MulAdd(av, bv)
	}
	s := x0.Add(x1).Add(x2.Add(x3)).Add(x4.Add(x5).Add(x6.Add(x7))).Add(x8.Add(x9).Add(x10.Add(x11)))
	var l [8]float32
	s.Store(&l)
	archsimd.ClearAVXUpperBits()
	return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]))
}

// peakFMA16 is the 16-wide peak loop.
func peakFMA16(iters int, a, b float32) float32 {
	av, bv := archsimd.BroadcastFloat32x16(a), archsimd.BroadcastFloat32x16(b)
	x0, x1, x2, x3, x4, x5 := bv, bv, bv, bv, bv, bv
	x6, x7, x8, x9, x10, x11 := bv, bv, bv, bv, bv, bv
	for range iters {
		x0, x1, x2, x3 = x0.MulAdd(av, bv), x1.MulAdd(av, bv), x2.MulAdd(av, bv), x3.MulAdd(av, bv)
		x4, x5, x6, x7 = x4.MulAdd(av, bv), x5.MulAdd(av, bv), x6.MulAdd(av, bv), x7.MulAdd(av, bv)
		x8, x9, x10, x11 = x8.MulAdd(av, bv), x9.MulAdd(av, bv), x10.MulAdd(av, bv), x11.MulAdd(av, bv)
	}
	s := x0.Add(x1).Add(x2.Add(x3)).Add(x4.Add(x5).Add(x6.Add(x7))).Add(x8.Add(x9).Add(x10.Add(x11)))
	var l [16]float32
	s.Store(&l)
	archsimd.ClearAVXUpperBits()
	var t float32
	for _, v := range l {
		t += v
	}
	return t
}
