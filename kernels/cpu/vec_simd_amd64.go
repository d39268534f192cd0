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

// axpy4 sets y[i] += a0·x0[i] + a1·x1[i] + a2·x2[i] + a3·x3[i] for i < len(y).
func axpy4(y []float32, a0, a1, a2, a3 float32, x0, x1, x2, x3 []float32) {
	if !hasAVX2FMA {
		axpy4Generic(y, a0, a1, a2, a3, x0, x1, x2, x3)
		return
	}
	x0, x1, x2, x3 = x0[:len(y)], x1[:len(y)], x2[:len(y)], x3[:len(y)]
	v0, v1 := archsimd.BroadcastFloat32x8(a0), archsimd.BroadcastFloat32x8(a1)
	v2, v3 := archsimd.BroadcastFloat32x8(a2), archsimd.BroadcastFloat32x8(a3)
	i := 0
	for ; i+8 <= len(y); i += 8 {
		acc := archsimd.LoadFloat32x8Slice(y[i:])
		acc = v0.MulAdd(archsimd.LoadFloat32x8Slice(x0[i:]), acc)
		acc = v1.MulAdd(archsimd.LoadFloat32x8Slice(x1[i:]), acc)
		acc = v2.MulAdd(archsimd.LoadFloat32x8Slice(x2[i:]), acc)
		acc = v3.MulAdd(archsimd.LoadFloat32x8Slice(x3[i:]), acc)
		acc.StoreSlice(y[i:])
	}
	for ; i < len(y); i++ {
		y[i] += a0*x0[i] + a1*x1[i] + a2*x2[i] + a3*x3[i]
	}
	archsimd.ClearAVXUpperBits()
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

// gemmKernels selects the register-tiled GEMM path of gemm.go.
var gemmKernels = hasAVX2FMA

// kern4x16 adds Σ_{l<kb} ap[4l+q]·b[l·ldb+j] into c[q·ldc+j] for q < 4,
// j < 16: a 4×16 tile of c held in eight registers while a packed 4-row
// panel of op(a) and 16 columns of b stream through.
func kern4x16(c []float32, ldc int, ap, b []float32, ldb, kb int) {
	var c00, c01, c10, c11, c20, c21, c30, c31 archsimd.Float32x8
	ap = ap[:4*kb]
	for l := 0; l < kb; l++ {
		bl := b[l*ldb : l*ldb+16]
		b0 := archsimd.LoadFloat32x8Slice(bl)
		b1 := archsimd.LoadFloat32x8Slice(bl[8:])
		a := ap[4*l : 4*l+4]
		a0 := archsimd.BroadcastFloat32x8(a[0])
		c00 = a0.MulAdd(b0, c00)
		c01 = a0.MulAdd(b1, c01)
		a1 := archsimd.BroadcastFloat32x8(a[1])
		c10 = a1.MulAdd(b0, c10)
		c11 = a1.MulAdd(b1, c11)
		a2 := archsimd.BroadcastFloat32x8(a[2])
		c20 = a2.MulAdd(b0, c20)
		c21 = a2.MulAdd(b1, c21)
		a3 := archsimd.BroadcastFloat32x8(a[3])
		c30 = a3.MulAdd(b0, c30)
		c31 = a3.MulAdd(b1, c31)
	}
	addTile(c[0:16], c00, c01)
	addTile(c[ldc:ldc+16], c10, c11)
	addTile(c[2*ldc:2*ldc+16], c20, c21)
	addTile(c[3*ldc:3*ldc+16], c30, c31)
	archsimd.ClearAVXUpperBits()
}

// addTile adds two vectors into c[0:16].
func addTile(c []float32, v0, v1 archsimd.Float32x8) {
	archsimd.LoadFloat32x8Slice(c).Add(v0).StoreSlice(c)
	archsimd.LoadFloat32x8Slice(c[8:]).Add(v1).StoreSlice(c[8:])
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
