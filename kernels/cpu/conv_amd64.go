//go:build amd64 && !purego && !goexperiment.simd

package cpu

// The convolution micro-kernels of the default amd64 build
// (conv_amd64.s): six output planes of 64 (AVX-512) or 16 (AVX2) values
// per correlation tile, one plane of 256 or 64 for a group of fewer
// planes, and six filters × four taps (AVX-512) or three × four (AVX2)
// per weight-gradient tile. The wrappers check every bound
// the assembly relies on.

// corr6x64 is one tile of corr6x64rows.
func corr6x64(out []float32, ldo, nf int, src []float32, offs []int, wp []float32, bias *[6]float32) {
	corr6x64rows(out, ldo, nf, src, offs, wp, bias, 1, 0, 0)
}

//go:noescape
func corr6x64rows(out []float32, ldo, nf int, src []float32, offs []int, wp []float32, bias *[6]float32, rows, ldor, ldsr int)

//go:noescape
func corr6x16(out []float32, ldo, nf int, src []float32, offs []int, wp []float32, bias *[6]float32)

//go:noescape
func corr1x256(out []float32, src []float32, offs []int, wp []float32, stride int, bias float32)

//go:noescape
func corr1x64(out []float32, src []float32, offs []int, wp []float32, stride int, bias float32)

//go:noescape
func wgrad6x4(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n, w, ldx int)

//go:noescape
func wgrad3x4(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n, w, ldx int)

//go:noescape
func rowsAxpy16AVX512(y []float32, ldy int, a float32, x []float32, ldx, rows, width int)

// rowsAxpy sets y[r·ldy+j] += a·x[r·ldx+j] for r < rows, j < width.
func rowsAxpy(y []float32, ldy int, a float32, x []float32, ldx, rows, width int) {
	if rows == 0 || width == 0 {
		return
	}
	_ = y[(rows-1)*ldy+width-1]
	_ = x[(rows-1)*ldx+width-1]
	if !hasAVX512 || width > 16 {
		rowsAxpyGeneric(y, ldy, a, x, ldx, rows, width)
		return
	}
	rowsAxpy16AVX512(y, ldy, a, x, ldx, rows, width)
}

//go:noescape
func patchSum16AVX512(g []float32, ldg int, x []float32, offs []int32, gv []float32, ldx, rows, width int)

// patchSumVec is patchSum's AVX-512 kernel, for widths up to 16; it
// reports false where it does not apply.
func patchSumVec(g []float32, ldg int, x []float32, offs []int32, gv []float32, ldx, rows, width int) bool {
	if !hasAVX512 || width > 16 {
		return false
	}
	patchSum16AVX512(g, ldg, x, offs, gv, ldx, rows, width)
	return true
}

//go:noescape
func convPrefetch(p *float32, lines int)

func init() {
	avx512Conv.corrRows = func(out []float32, ldo, nf int, src []float32, taps *tapOffsets, wp []float32, bias *[6]float32, rows, ldor, ldsr int) {
		checkCorrRows(64, out, ldo, nf, src, taps, wp, rows, ldor, ldsr)
		corr6x64rows(out, ldo, nf, src, taps.offs, wp, bias, rows, ldor, ldsr)
	}
	// Line i is asked for at &v[0] + 64i: i < ⌈len(v)/16⌉ keeps every
	// address inside v.
	prefetchRun = func(v []float32) {
		if len(v) > 0 {
			convPrefetch(&v[0], (len(v)+15)/16)
		}
	}
}
