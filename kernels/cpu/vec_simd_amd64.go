//go:build goexperiment.simd && amd64

package cpu

import (
	bits8 "math/bits"
	"simd/archsimd"
)

// Every function here ends its vector part with ClearAVXUpperBits
// (VZEROUPPER): Go's scalar float code is SSE, and running it with dirty
// upper halves of the vector registers made the plain loops that follow
// (ReLUBackward, measured: bench/RESULTS.md) slower.

// hasAVX2FMA selects the 8-wide loops; without it the plain loops run.
var hasAVX2FMA = archsimd.X86.AVX2() && archsimd.X86.FMA()

// simdKind names the vector code in use, for Device.
var simdKind = func() string {
	switch {
	case archsimd.X86.AVX512() && hasAVX2FMA:
		return "AVX-512 and AVX2+FMA archsimd"
	case hasAVX2FMA:
		return "AVX2+FMA archsimd"
	}
	return "scalar"
}()

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

// maxBand8 is the vector max of eight adjacent pool windows 8 wide, an
// AVX-512 kernel of the default build only: here it defers to the
// per-window code.
func maxBand8(xp []float32, start, pitch, kh int, keys *[8]int32, vals *[8]float32) bool {
	return false
}

// hasBand8 says maxBand8 takes NaN-free bands: never in this build.
const hasBand8 = false
