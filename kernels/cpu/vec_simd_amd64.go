//go:build goexperiment.simd && amd64

package cpu

import "simd/archsimd"

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
	return r
}
