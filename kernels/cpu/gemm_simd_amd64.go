//go:build goexperiment.simd && amd64

package cpu

import "simd/archsimd"

// The GEMM micro-kernels of the GOEXPERIMENT=simd build: the tiles of
// gemm_amd64.s written with archsimd, a 12×32 outer tile and 4×6 dot
// tiles on AVX-512, 6×16 and 4×3 on AVX2+FMA. Every accumulator is a
// variable of its own so that the compiler can keep the tile in
// registers.

// outer12x32 is gemmKernel.outer for a 12×32 tile.
func outer12x32(c []float32, ldc int, ap, bp []float32, ldb, kc int, add bool) {
	var c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51, c60, c61, c70, c71, c80, c81, c90, c91, c100, c101, c110, c111 archsimd.Float32x16
	for l := 0; l < kc; l++ {
		b0 := archsimd.LoadFloat32x16Slice(bp[ldb*l:])
		b1 := archsimd.LoadFloat32x16Slice(bp[ldb*l+16:])
		a := ap[12*l : 12*l+12]
		a0 := archsimd.BroadcastFloat32x16(a[0])
		c00, c01 = a0.MulAdd(b0, c00), a0.MulAdd(b1, c01)
		a1 := archsimd.BroadcastFloat32x16(a[1])
		c10, c11 = a1.MulAdd(b0, c10), a1.MulAdd(b1, c11)
		a2 := archsimd.BroadcastFloat32x16(a[2])
		c20, c21 = a2.MulAdd(b0, c20), a2.MulAdd(b1, c21)
		a3 := archsimd.BroadcastFloat32x16(a[3])
		c30, c31 = a3.MulAdd(b0, c30), a3.MulAdd(b1, c31)
		a4 := archsimd.BroadcastFloat32x16(a[4])
		c40, c41 = a4.MulAdd(b0, c40), a4.MulAdd(b1, c41)
		a5 := archsimd.BroadcastFloat32x16(a[5])
		c50, c51 = a5.MulAdd(b0, c50), a5.MulAdd(b1, c51)
		a6 := archsimd.BroadcastFloat32x16(a[6])
		c60, c61 = a6.MulAdd(b0, c60), a6.MulAdd(b1, c61)
		a7 := archsimd.BroadcastFloat32x16(a[7])
		c70, c71 = a7.MulAdd(b0, c70), a7.MulAdd(b1, c71)
		a8 := archsimd.BroadcastFloat32x16(a[8])
		c80, c81 = a8.MulAdd(b0, c80), a8.MulAdd(b1, c81)
		a9 := archsimd.BroadcastFloat32x16(a[9])
		c90, c91 = a9.MulAdd(b0, c90), a9.MulAdd(b1, c91)
		a10 := archsimd.BroadcastFloat32x16(a[10])
		c100, c101 = a10.MulAdd(b0, c100), a10.MulAdd(b1, c101)
		a11 := archsimd.BroadcastFloat32x16(a[11])
		c110, c111 = a11.MulAdd(b0, c110), a11.MulAdd(b1, c111)
	}
	storeTile16(c[0*ldc:], c00, c01, add)
	storeTile16(c[1*ldc:], c10, c11, add)
	storeTile16(c[2*ldc:], c20, c21, add)
	storeTile16(c[3*ldc:], c30, c31, add)
	storeTile16(c[4*ldc:], c40, c41, add)
	storeTile16(c[5*ldc:], c50, c51, add)
	storeTile16(c[6*ldc:], c60, c61, add)
	storeTile16(c[7*ldc:], c70, c71, add)
	storeTile16(c[8*ldc:], c80, c81, add)
	storeTile16(c[9*ldc:], c90, c91, add)
	storeTile16(c[10*ldc:], c100, c101, add)
	storeTile16(c[11*ldc:], c110, c111, add)
	archsimd.ClearAVXUpperBits()
}

// storeTile16 sets (add false) or adds to c[0:32] the two vectors.
func storeTile16(c []float32, v0, v1 archsimd.Float32x16, add bool) {
	if add {
		v0 = v0.Add(archsimd.LoadFloat32x16Slice(c))
		v1 = v1.Add(archsimd.LoadFloat32x16Slice(c[16:]))
	}
	v0.StoreSlice(c)
	v1.StoreSlice(c[16:])
}

// outer6x16 is gemmKernel.outer for a 6×16 tile.
func outer6x16(c []float32, ldc int, ap, bp []float32, ldb, kc int, add bool) {
	var c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51 archsimd.Float32x8
	for l := 0; l < kc; l++ {
		b0 := archsimd.LoadFloat32x8Slice(bp[ldb*l:])
		b1 := archsimd.LoadFloat32x8Slice(bp[ldb*l+8:])
		a := ap[6*l : 6*l+6]
		a0 := archsimd.BroadcastFloat32x8(a[0])
		c00, c01 = a0.MulAdd(b0, c00), a0.MulAdd(b1, c01)
		a1 := archsimd.BroadcastFloat32x8(a[1])
		c10, c11 = a1.MulAdd(b0, c10), a1.MulAdd(b1, c11)
		a2 := archsimd.BroadcastFloat32x8(a[2])
		c20, c21 = a2.MulAdd(b0, c20), a2.MulAdd(b1, c21)
		a3 := archsimd.BroadcastFloat32x8(a[3])
		c30, c31 = a3.MulAdd(b0, c30), a3.MulAdd(b1, c31)
		a4 := archsimd.BroadcastFloat32x8(a[4])
		c40, c41 = a4.MulAdd(b0, c40), a4.MulAdd(b1, c41)
		a5 := archsimd.BroadcastFloat32x8(a[5])
		c50, c51 = a5.MulAdd(b0, c50), a5.MulAdd(b1, c51)
	}
	storeTile8(c[0*ldc:], c00, c01, add)
	storeTile8(c[1*ldc:], c10, c11, add)
	storeTile8(c[2*ldc:], c20, c21, add)
	storeTile8(c[3*ldc:], c30, c31, add)
	storeTile8(c[4*ldc:], c40, c41, add)
	storeTile8(c[5*ldc:], c50, c51, add)
	archsimd.ClearAVXUpperBits()
}

// storeTile8 sets (add false) or adds to c[0:16] the two vectors.
func storeTile8(c []float32, v0, v1 archsimd.Float32x8, add bool) {
	if add {
		v0 = v0.Add(archsimd.LoadFloat32x8Slice(c))
		v1 = v1.Add(archsimd.LoadFloat32x8Slice(c[8:]))
	}
	v0.StoreSlice(c)
	v1.StoreSlice(c[8:])
}

// tileRows returns the start of rows 0..3 (or 0..5) of a tile, rows past
// n repeating the last.
func tileRow(i, n, ld int) int { return min(i, n-1) * ld }

// dot4x6 is gemmKernel.dot for a 4×6 tile.
func dot4x6(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int) {
	a0 := a[tileRow(0, ra, lda):][:k]
	a1 := a[tileRow(1, ra, lda):][:k]
	a2 := a[tileRow(2, ra, lda):][:k]
	a3 := a[tileRow(3, ra, lda):][:k]
	b0 := b[tileRow(0, rb, ldb):][:k]
	b1 := b[tileRow(1, rb, ldb):][:k]
	b2 := b[tileRow(2, rb, ldb):][:k]
	b3 := b[tileRow(3, rb, ldb):][:k]
	b4 := b[tileRow(4, rb, ldb):][:k]
	b5 := b[tileRow(5, rb, ldb):][:k]
	var s00, s01, s02, s03, s04, s05, s10, s11, s12, s13, s14, s15, s20, s21, s22, s23, s24, s25, s30, s31, s32, s33, s34, s35 archsimd.Float32x16
	for l := 0; l < k; l += 16 {
		v0 := archsimd.LoadFloat32x16Slice(b0[l:])
		v1 := archsimd.LoadFloat32x16Slice(b1[l:])
		v2 := archsimd.LoadFloat32x16Slice(b2[l:])
		v3 := archsimd.LoadFloat32x16Slice(b3[l:])
		v4 := archsimd.LoadFloat32x16Slice(b4[l:])
		v5 := archsimd.LoadFloat32x16Slice(b5[l:])
		u := archsimd.LoadFloat32x16Slice(a0[l:])
		s00 = u.MulAdd(v0, s00)
		s01 = u.MulAdd(v1, s01)
		s02 = u.MulAdd(v2, s02)
		s03 = u.MulAdd(v3, s03)
		s04 = u.MulAdd(v4, s04)
		s05 = u.MulAdd(v5, s05)
		u = archsimd.LoadFloat32x16Slice(a1[l:])
		s10 = u.MulAdd(v0, s10)
		s11 = u.MulAdd(v1, s11)
		s12 = u.MulAdd(v2, s12)
		s13 = u.MulAdd(v3, s13)
		s14 = u.MulAdd(v4, s14)
		s15 = u.MulAdd(v5, s15)
		u = archsimd.LoadFloat32x16Slice(a2[l:])
		s20 = u.MulAdd(v0, s20)
		s21 = u.MulAdd(v1, s21)
		s22 = u.MulAdd(v2, s22)
		s23 = u.MulAdd(v3, s23)
		s24 = u.MulAdd(v4, s24)
		s25 = u.MulAdd(v5, s25)
		u = archsimd.LoadFloat32x16Slice(a3[l:])
		s30 = u.MulAdd(v0, s30)
		s31 = u.MulAdd(v1, s31)
		s32 = u.MulAdd(v2, s32)
		s33 = u.MulAdd(v3, s33)
		s34 = u.MulAdd(v4, s34)
		s35 = u.MulAdd(v5, s35)
	}
	s[0] = hsum16(s00)
	s[1] = hsum16(s01)
	s[2] = hsum16(s02)
	s[3] = hsum16(s03)
	s[4] = hsum16(s04)
	s[5] = hsum16(s05)
	s[6] = hsum16(s10)
	s[7] = hsum16(s11)
	s[8] = hsum16(s12)
	s[9] = hsum16(s13)
	s[10] = hsum16(s14)
	s[11] = hsum16(s15)
	s[12] = hsum16(s20)
	s[13] = hsum16(s21)
	s[14] = hsum16(s22)
	s[15] = hsum16(s23)
	s[16] = hsum16(s24)
	s[17] = hsum16(s25)
	s[18] = hsum16(s30)
	s[19] = hsum16(s31)
	s[20] = hsum16(s32)
	s[21] = hsum16(s33)
	s[22] = hsum16(s34)
	s[23] = hsum16(s35)
	archsimd.ClearAVXUpperBits()
}

// hsum16 is the sum of the lanes of v.
func hsum16(v archsimd.Float32x16) float32 {
	var l [16]float32
	v.Store(&l)
	var t [8]float32
	for i := range t {
		t[i] = l[i] + l[i+8]
	}
	return ((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7]))
}

// hsum8 is the sum of the lanes of v.
func hsum8(v archsimd.Float32x8) float32 {
	var l [8]float32
	v.Store(&l)
	return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]))
}

// dot4x3 is gemmKernel.dot for a 4×3 tile.
func dot4x3(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int) {
	a0 := a[tileRow(0, ra, lda):][:k]
	a1 := a[tileRow(1, ra, lda):][:k]
	a2 := a[tileRow(2, ra, lda):][:k]
	a3 := a[tileRow(3, ra, lda):][:k]
	b0 := b[tileRow(0, rb, ldb):][:k]
	b1 := b[tileRow(1, rb, ldb):][:k]
	b2 := b[tileRow(2, rb, ldb):][:k]
	var s00, s01, s02, s10, s11, s12, s20, s21, s22, s30, s31, s32 archsimd.Float32x8
	for l := 0; l < k; l += 8 {
		v0 := archsimd.LoadFloat32x8Slice(b0[l:])
		v1 := archsimd.LoadFloat32x8Slice(b1[l:])
		v2 := archsimd.LoadFloat32x8Slice(b2[l:])
		u := archsimd.LoadFloat32x8Slice(a0[l:])
		s00 = u.MulAdd(v0, s00)
		s01 = u.MulAdd(v1, s01)
		s02 = u.MulAdd(v2, s02)
		u = archsimd.LoadFloat32x8Slice(a1[l:])
		s10 = u.MulAdd(v0, s10)
		s11 = u.MulAdd(v1, s11)
		s12 = u.MulAdd(v2, s12)
		u = archsimd.LoadFloat32x8Slice(a2[l:])
		s20 = u.MulAdd(v0, s20)
		s21 = u.MulAdd(v1, s21)
		s22 = u.MulAdd(v2, s22)
		u = archsimd.LoadFloat32x8Slice(a3[l:])
		s30 = u.MulAdd(v0, s30)
		s31 = u.MulAdd(v1, s31)
		s32 = u.MulAdd(v2, s32)
	}
	s[0] = hsum8(s00)
	s[1] = hsum8(s01)
	s[2] = hsum8(s02)
	s[3] = hsum8(s10)
	s[4] = hsum8(s11)
	s[5] = hsum8(s12)
	s[6] = hsum8(s20)
	s[7] = hsum8(s21)
	s[8] = hsum8(s22)
	s[9] = hsum8(s30)
	s[10] = hsum8(s31)
	s[11] = hsum8(s32)
	archsimd.ClearAVXUpperBits()
}

// copyRows sets dst[r·ldd+j] = src[r·lds+j] for r < rows, j < width,
// in 8-value vector moves.
func copyRows(dst []float32, ldd int, src []float32, lds, rows, width int) {
	if !hasAVX2FMA || width%8 != 0 {
		copyRowsGeneric(dst, ldd, src, lds, rows, width)
		return
	}
	for r := 0; r < rows; r++ {
		d, s := dst[r*ldd:r*ldd+width], src[r*lds:r*lds+width]
		for j := 0; j < width; j += 8 {
			archsimd.LoadFloat32x8Slice(s[j:]).StoreSlice(d[j:])
		}
	}
	archsimd.ClearAVXUpperBits()
}

// dot4x5 is gemmKernel.dotNarrow for a 4×5 tile, s[20:24] set to 0: in
// this experimental build, dot4x6 with its sixth column repeating the
// fifth, repacked (no faster than the wide tile here, but the same
// results as the default build's kernel).
func dot4x5(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int) {
	var t [24]float32
	dot4x6(&t, a, lda, ra, b, ldb, rb, k)
	for i := range 4 {
		copy(s[5*i:5*i+5], t[6*i:6*i+5])
	}
	clear(s[20:])
}
