//go:build goexperiment.simd && amd64

package cpu

import "simd/archsimd"

// The convolution micro-kernels of the GOEXPERIMENT=simd build: the
// tiles of conv_amd64.s written with archsimd, each accumulator a
// variable of its own so that the tile stays in registers.

// corr6x64 is convKernel.corr for six planes of 64.
func corr6x64(out []float32, ldo, nf int, src []float32, offs []int, wp []float32, bias *[6]float32) {
	b0 := archsimd.BroadcastFloat32x16(bias[0])
	a00, a01, a02, a03 := b0, b0, b0, b0
	b1 := archsimd.BroadcastFloat32x16(bias[1])
	a10, a11, a12, a13 := b1, b1, b1, b1
	b2 := archsimd.BroadcastFloat32x16(bias[2])
	a20, a21, a22, a23 := b2, b2, b2, b2
	b3 := archsimd.BroadcastFloat32x16(bias[3])
	a30, a31, a32, a33 := b3, b3, b3, b3
	b4 := archsimd.BroadcastFloat32x16(bias[4])
	a40, a41, a42, a43 := b4, b4, b4, b4
	b5 := archsimd.BroadcastFloat32x16(bias[5])
	a50, a51, a52, a53 := b5, b5, b5, b5
	for t, off := range offs {
		s := src[off : off+64]
		ws := wp[6*t : 6*t+6]
		x0 := archsimd.LoadFloat32x16Slice(s[0:])
		x1 := archsimd.LoadFloat32x16Slice(s[16:])
		x2 := archsimd.LoadFloat32x16Slice(s[32:])
		x3 := archsimd.LoadFloat32x16Slice(s[48:])
		v0 := archsimd.BroadcastFloat32x16(ws[0])
		a00, a01, a02, a03 = v0.MulAdd(x0, a00), v0.MulAdd(x1, a01), v0.MulAdd(x2, a02), v0.MulAdd(x3, a03)
		v1 := archsimd.BroadcastFloat32x16(ws[1])
		a10, a11, a12, a13 = v1.MulAdd(x0, a10), v1.MulAdd(x1, a11), v1.MulAdd(x2, a12), v1.MulAdd(x3, a13)
		v2 := archsimd.BroadcastFloat32x16(ws[2])
		a20, a21, a22, a23 = v2.MulAdd(x0, a20), v2.MulAdd(x1, a21), v2.MulAdd(x2, a22), v2.MulAdd(x3, a23)
		v3 := archsimd.BroadcastFloat32x16(ws[3])
		a30, a31, a32, a33 = v3.MulAdd(x0, a30), v3.MulAdd(x1, a31), v3.MulAdd(x2, a32), v3.MulAdd(x3, a33)
		v4 := archsimd.BroadcastFloat32x16(ws[4])
		a40, a41, a42, a43 = v4.MulAdd(x0, a40), v4.MulAdd(x1, a41), v4.MulAdd(x2, a42), v4.MulAdd(x3, a43)
		v5 := archsimd.BroadcastFloat32x16(ws[5])
		a50, a51, a52, a53 = v5.MulAdd(x0, a50), v5.MulAdd(x1, a51), v5.MulAdd(x2, a52), v5.MulAdd(x3, a53)
	}
	a00.StoreSlice(out[0*ldo+0:])
	a01.StoreSlice(out[0*ldo+16:])
	a02.StoreSlice(out[0*ldo+32:])
	a03.StoreSlice(out[0*ldo+48:])
	if nf <= 1 {
		archsimd.ClearAVXUpperBits()
		return
	}
	a10.StoreSlice(out[1*ldo+0:])
	a11.StoreSlice(out[1*ldo+16:])
	a12.StoreSlice(out[1*ldo+32:])
	a13.StoreSlice(out[1*ldo+48:])
	if nf <= 2 {
		archsimd.ClearAVXUpperBits()
		return
	}
	a20.StoreSlice(out[2*ldo+0:])
	a21.StoreSlice(out[2*ldo+16:])
	a22.StoreSlice(out[2*ldo+32:])
	a23.StoreSlice(out[2*ldo+48:])
	if nf <= 3 {
		archsimd.ClearAVXUpperBits()
		return
	}
	a30.StoreSlice(out[3*ldo+0:])
	a31.StoreSlice(out[3*ldo+16:])
	a32.StoreSlice(out[3*ldo+32:])
	a33.StoreSlice(out[3*ldo+48:])
	if nf <= 4 {
		archsimd.ClearAVXUpperBits()
		return
	}
	a40.StoreSlice(out[4*ldo+0:])
	a41.StoreSlice(out[4*ldo+16:])
	a42.StoreSlice(out[4*ldo+32:])
	a43.StoreSlice(out[4*ldo+48:])
	if nf <= 5 {
		archsimd.ClearAVXUpperBits()
		return
	}
	a50.StoreSlice(out[5*ldo+0:])
	a51.StoreSlice(out[5*ldo+16:])
	a52.StoreSlice(out[5*ldo+32:])
	a53.StoreSlice(out[5*ldo+48:])
	archsimd.ClearAVXUpperBits()
}

// corr6x16 is convKernel.corr for six planes of 16.
func corr6x16(out []float32, ldo, nf int, src []float32, offs []int, wp []float32, bias *[6]float32) {
	b0 := archsimd.BroadcastFloat32x8(bias[0])
	a00, a01 := b0, b0
	b1 := archsimd.BroadcastFloat32x8(bias[1])
	a10, a11 := b1, b1
	b2 := archsimd.BroadcastFloat32x8(bias[2])
	a20, a21 := b2, b2
	b3 := archsimd.BroadcastFloat32x8(bias[3])
	a30, a31 := b3, b3
	b4 := archsimd.BroadcastFloat32x8(bias[4])
	a40, a41 := b4, b4
	b5 := archsimd.BroadcastFloat32x8(bias[5])
	a50, a51 := b5, b5
	for t, off := range offs {
		s := src[off : off+16]
		ws := wp[6*t : 6*t+6]
		x0 := archsimd.LoadFloat32x8Slice(s[0:])
		x1 := archsimd.LoadFloat32x8Slice(s[8:])
		v0 := archsimd.BroadcastFloat32x8(ws[0])
		a00, a01 = v0.MulAdd(x0, a00), v0.MulAdd(x1, a01)
		v1 := archsimd.BroadcastFloat32x8(ws[1])
		a10, a11 = v1.MulAdd(x0, a10), v1.MulAdd(x1, a11)
		v2 := archsimd.BroadcastFloat32x8(ws[2])
		a20, a21 = v2.MulAdd(x0, a20), v2.MulAdd(x1, a21)
		v3 := archsimd.BroadcastFloat32x8(ws[3])
		a30, a31 = v3.MulAdd(x0, a30), v3.MulAdd(x1, a31)
		v4 := archsimd.BroadcastFloat32x8(ws[4])
		a40, a41 = v4.MulAdd(x0, a40), v4.MulAdd(x1, a41)
		v5 := archsimd.BroadcastFloat32x8(ws[5])
		a50, a51 = v5.MulAdd(x0, a50), v5.MulAdd(x1, a51)
	}
	a00.StoreSlice(out[0*ldo+0:])
	a01.StoreSlice(out[0*ldo+8:])
	if nf <= 1 {
		archsimd.ClearAVXUpperBits()
		return
	}
	a10.StoreSlice(out[1*ldo+0:])
	a11.StoreSlice(out[1*ldo+8:])
	if nf <= 2 {
		archsimd.ClearAVXUpperBits()
		return
	}
	a20.StoreSlice(out[2*ldo+0:])
	a21.StoreSlice(out[2*ldo+8:])
	if nf <= 3 {
		archsimd.ClearAVXUpperBits()
		return
	}
	a30.StoreSlice(out[3*ldo+0:])
	a31.StoreSlice(out[3*ldo+8:])
	if nf <= 4 {
		archsimd.ClearAVXUpperBits()
		return
	}
	a40.StoreSlice(out[4*ldo+0:])
	a41.StoreSlice(out[4*ldo+8:])
	if nf <= 5 {
		archsimd.ClearAVXUpperBits()
		return
	}
	a50.StoreSlice(out[5*ldo+0:])
	a51.StoreSlice(out[5*ldo+8:])
	archsimd.ClearAVXUpperBits()
}

// corr1x256 is convKernel.corr1 for one plane of 256.
func corr1x256(out, src []float32, offs []int, wp []float32, stride int, bias float32) {
	b := archsimd.BroadcastFloat32x16(bias)
	a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15 := b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b
	for t, off := range offs {
		s := src[off : off+256]
		v := archsimd.BroadcastFloat32x16(wp[stride*t])
		a0 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[0:]), a0)
		a1 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[16:]), a1)
		a2 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[32:]), a2)
		a3 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[48:]), a3)
		a4 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[64:]), a4)
		a5 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[80:]), a5)
		a6 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[96:]), a6)
		a7 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[112:]), a7)
		a8 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[128:]), a8)
		a9 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[144:]), a9)
		a10 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[160:]), a10)
		a11 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[176:]), a11)
		a12 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[192:]), a12)
		a13 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[208:]), a13)
		a14 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[224:]), a14)
		a15 = v.MulAdd(archsimd.LoadFloat32x16Slice(s[240:]), a15)
	}
	a0.StoreSlice(out[0:])
	a1.StoreSlice(out[16:])
	a2.StoreSlice(out[32:])
	a3.StoreSlice(out[48:])
	a4.StoreSlice(out[64:])
	a5.StoreSlice(out[80:])
	a6.StoreSlice(out[96:])
	a7.StoreSlice(out[112:])
	a8.StoreSlice(out[128:])
	a9.StoreSlice(out[144:])
	a10.StoreSlice(out[160:])
	a11.StoreSlice(out[176:])
	a12.StoreSlice(out[192:])
	a13.StoreSlice(out[208:])
	a14.StoreSlice(out[224:])
	a15.StoreSlice(out[240:])
	archsimd.ClearAVXUpperBits()
}

// corr1x64 is convKernel.corr1 for one plane of 64.
func corr1x64(out, src []float32, offs []int, wp []float32, stride int, bias float32) {
	b := archsimd.BroadcastFloat32x8(bias)
	a0, a1, a2, a3, a4, a5, a6, a7 := b, b, b, b, b, b, b, b
	for t, off := range offs {
		s := src[off : off+64]
		v := archsimd.BroadcastFloat32x8(wp[stride*t])
		a0 = v.MulAdd(archsimd.LoadFloat32x8Slice(s[0:]), a0)
		a1 = v.MulAdd(archsimd.LoadFloat32x8Slice(s[8:]), a1)
		a2 = v.MulAdd(archsimd.LoadFloat32x8Slice(s[16:]), a2)
		a3 = v.MulAdd(archsimd.LoadFloat32x8Slice(s[24:]), a3)
		a4 = v.MulAdd(archsimd.LoadFloat32x8Slice(s[32:]), a4)
		a5 = v.MulAdd(archsimd.LoadFloat32x8Slice(s[40:]), a5)
		a6 = v.MulAdd(archsimd.LoadFloat32x8Slice(s[48:]), a6)
		a7 = v.MulAdd(archsimd.LoadFloat32x8Slice(s[56:]), a7)
	}
	a0.StoreSlice(out[0:])
	a1.StoreSlice(out[8:])
	a2.StoreSlice(out[16:])
	a3.StoreSlice(out[24:])
	a4.StoreSlice(out[32:])
	a5.StoreSlice(out[40:])
	a6.StoreSlice(out[48:])
	a7.StoreSlice(out[56:])
	archsimd.ClearAVXUpperBits()
}

// wgrad6x4 is convKernel.wgrad for 6 filters × 4 taps.
func wgrad6x4(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n, w, ldx int) {
	d0 := dy[tileRow(0, nf, ldy):][:n]
	d1 := dy[tileRow(1, nf, ldy):][:n]
	d2 := dy[tileRow(2, nf, ldy):][:n]
	d3 := dy[tileRow(3, nf, ldy):][:n]
	d4 := dy[tileRow(4, nf, ldy):][:n]
	d5 := dy[tileRow(5, nf, ldy):][:n]
	xn := (n/w-1)*ldx + w
	x0 := x[offs[min(0, nt-1)]:][:xn]
	x1 := x[offs[min(1, nt-1)]:][:xn]
	x2 := x[offs[min(2, nt-1)]:][:xn]
	x3 := x[offs[min(3, nt-1)]:][:xn]
	var s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33, s40, s41, s42, s43, s50, s51, s52, s53 archsimd.Float32x16
	for p, q := 0, 0; p < n; p, q = p+16, q+16 {
		if q == w {
			q = 0
			x0, x1, x2, x3 = x0[ldx:], x1[ldx:], x2[ldx:], x3[ldx:]
		}
		v0 := archsimd.LoadFloat32x16Slice(x0[q:])
		v1 := archsimd.LoadFloat32x16Slice(x1[q:])
		v2 := archsimd.LoadFloat32x16Slice(x2[q:])
		v3 := archsimd.LoadFloat32x16Slice(x3[q:])
		u0 := archsimd.LoadFloat32x16Slice(d0[p:])
		s00, s01, s02, s03 = u0.MulAdd(v0, s00), u0.MulAdd(v1, s01), u0.MulAdd(v2, s02), u0.MulAdd(v3, s03)
		u1 := archsimd.LoadFloat32x16Slice(d1[p:])
		s10, s11, s12, s13 = u1.MulAdd(v0, s10), u1.MulAdd(v1, s11), u1.MulAdd(v2, s12), u1.MulAdd(v3, s13)
		u2 := archsimd.LoadFloat32x16Slice(d2[p:])
		s20, s21, s22, s23 = u2.MulAdd(v0, s20), u2.MulAdd(v1, s21), u2.MulAdd(v2, s22), u2.MulAdd(v3, s23)
		u3 := archsimd.LoadFloat32x16Slice(d3[p:])
		s30, s31, s32, s33 = u3.MulAdd(v0, s30), u3.MulAdd(v1, s31), u3.MulAdd(v2, s32), u3.MulAdd(v3, s33)
		u4 := archsimd.LoadFloat32x16Slice(d4[p:])
		s40, s41, s42, s43 = u4.MulAdd(v0, s40), u4.MulAdd(v1, s41), u4.MulAdd(v2, s42), u4.MulAdd(v3, s43)
		u5 := archsimd.LoadFloat32x16Slice(d5[p:])
		s50, s51, s52, s53 = u5.MulAdd(v0, s50), u5.MulAdd(v1, s51), u5.MulAdd(v2, s52), u5.MulAdd(v3, s53)
	}
	s[0] = hsum16(s00)
	s[1] = hsum16(s01)
	s[2] = hsum16(s02)
	s[3] = hsum16(s03)
	s[4] = hsum16(s10)
	s[5] = hsum16(s11)
	s[6] = hsum16(s12)
	s[7] = hsum16(s13)
	s[8] = hsum16(s20)
	s[9] = hsum16(s21)
	s[10] = hsum16(s22)
	s[11] = hsum16(s23)
	s[12] = hsum16(s30)
	s[13] = hsum16(s31)
	s[14] = hsum16(s32)
	s[15] = hsum16(s33)
	s[16] = hsum16(s40)
	s[17] = hsum16(s41)
	s[18] = hsum16(s42)
	s[19] = hsum16(s43)
	s[20] = hsum16(s50)
	s[21] = hsum16(s51)
	s[22] = hsum16(s52)
	s[23] = hsum16(s53)
	archsimd.ClearAVXUpperBits()
}

// wgrad3x4 is convKernel.wgrad for 3 filters × 4 taps.
func wgrad3x4(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n, w, ldx int) {
	d0 := dy[tileRow(0, nf, ldy):][:n]
	d1 := dy[tileRow(1, nf, ldy):][:n]
	d2 := dy[tileRow(2, nf, ldy):][:n]
	xn := (n/w-1)*ldx + w
	x0 := x[offs[min(0, nt-1)]:][:xn]
	x1 := x[offs[min(1, nt-1)]:][:xn]
	x2 := x[offs[min(2, nt-1)]:][:xn]
	x3 := x[offs[min(3, nt-1)]:][:xn]
	var s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23 archsimd.Float32x8
	for p, q := 0, 0; p < n; p, q = p+8, q+8 {
		if q == w {
			q = 0
			x0, x1, x2, x3 = x0[ldx:], x1[ldx:], x2[ldx:], x3[ldx:]
		}
		v0 := archsimd.LoadFloat32x8Slice(x0[q:])
		v1 := archsimd.LoadFloat32x8Slice(x1[q:])
		v2 := archsimd.LoadFloat32x8Slice(x2[q:])
		v3 := archsimd.LoadFloat32x8Slice(x3[q:])
		u0 := archsimd.LoadFloat32x8Slice(d0[p:])
		s00, s01, s02, s03 = u0.MulAdd(v0, s00), u0.MulAdd(v1, s01), u0.MulAdd(v2, s02), u0.MulAdd(v3, s03)
		u1 := archsimd.LoadFloat32x8Slice(d1[p:])
		s10, s11, s12, s13 = u1.MulAdd(v0, s10), u1.MulAdd(v1, s11), u1.MulAdd(v2, s12), u1.MulAdd(v3, s13)
		u2 := archsimd.LoadFloat32x8Slice(d2[p:])
		s20, s21, s22, s23 = u2.MulAdd(v0, s20), u2.MulAdd(v1, s21), u2.MulAdd(v2, s22), u2.MulAdd(v3, s23)
	}
	s[0] = hsum8(s00)
	s[1] = hsum8(s01)
	s[2] = hsum8(s02)
	s[3] = hsum8(s03)
	s[4] = hsum8(s10)
	s[5] = hsum8(s11)
	s[6] = hsum8(s12)
	s[7] = hsum8(s13)
	s[8] = hsum8(s20)
	s[9] = hsum8(s21)
	s[10] = hsum8(s22)
	s[11] = hsum8(s23)
	archsimd.ClearAVXUpperBits()
}

// rowsAxpy sets y[r·ldy+j] += a·x[r·ldx+j] for r < rows, j < width, a
// partial 8-lane vector per row where width ≤ 8.
func rowsAxpy(y []float32, ldy int, a float32, x []float32, ldx, rows, width int) {
	if !hasAVX2FMA || width > 8 {
		rowsAxpyGeneric(y, ldy, a, x, ldx, rows, width)
		return
	}
	av := archsimd.BroadcastFloat32x8(a)
	for r := 0; r < rows; r++ {
		yr, xr := y[r*ldy:r*ldy+width], x[r*ldx:r*ldx+width]
		av.MulAdd(archsimd.LoadFloat32x8SlicePart(xr), archsimd.LoadFloat32x8SlicePart(yr)).StoreSlicePart(yr)
	}
	archsimd.ClearAVXUpperBits()
}

// patchSumVec is patchSum in 8-lane vectors, each row's sum in four
// interleaved accumulators, for widths up to 8; it reports false where it
// does not apply.
func patchSumVec(g []float32, ldg int, x []float32, offs []int32, gv []float32, ldx, rows, width int) bool {
	if !hasAVX2FMA || width > 8 {
		return false
	}
	n4 := len(offs) &^ 3
	for r := 0; r < rows; r++ {
		var s0, s1, s2, s3 archsimd.Float32x8
		xr := x[r*ldx:]
		i := 0
		for ; i < n4; i += 4 {
			o0, o1, o2, o3 := int(offs[i]), int(offs[i+1]), int(offs[i+2]), int(offs[i+3])
			s0 = archsimd.BroadcastFloat32x8(gv[i]).MulAdd(archsimd.LoadFloat32x8SlicePart(xr[o0:o0+width]), s0)
			s1 = archsimd.BroadcastFloat32x8(gv[i+1]).MulAdd(archsimd.LoadFloat32x8SlicePart(xr[o1:o1+width]), s1)
			s2 = archsimd.BroadcastFloat32x8(gv[i+2]).MulAdd(archsimd.LoadFloat32x8SlicePart(xr[o2:o2+width]), s2)
			s3 = archsimd.BroadcastFloat32x8(gv[i+3]).MulAdd(archsimd.LoadFloat32x8SlicePart(xr[o3:o3+width]), s3)
		}
		for ; i < len(offs); i++ {
			o := int(offs[i])
			s0 = archsimd.BroadcastFloat32x8(gv[i]).MulAdd(archsimd.LoadFloat32x8SlicePart(xr[o:o+width]), s0)
		}
		gr := g[r*ldg : r*ldg+width]
		s0.Add(s1).Add(s2.Add(s3)).Add(archsimd.LoadFloat32x8SlicePart(gr)).StoreSlicePart(gr)
	}
	archsimd.ClearAVXUpperBits()
	return true
}
