//go:build amd64 && !purego && !goexperiment.simd

package cpu

// The GEMM micro-kernels of the default amd64 build (gemm_amd64.s): a
// 12×32 outer tile and 4×6 (or 4×5) dot tiles in AVX-512 where the CPU has it,
// 6×16 and 4×3 in AVX2+FMA otherwise. The wrappers check every bound the
// assembly relies on.

//go:noescape
func outer12x32(c []float32, ldc int, ap, bp []float32, ldb, kc int, add bool)

//go:noescape
func outer6x16(c []float32, ldc int, ap, bp []float32, ldb, kc int, add bool)

//go:noescape
func dot4x6(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int)

//go:noescape
func dot4x5(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int)

//go:noescape
func dot4x3(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int)

//go:noescape
func copyRows8AVX(dst []float32, ldd int, src []float32, lds, rows, width int)

// copyRows sets dst[r·ldd+j] = src[r·lds+j] for r < rows, j < width.
func copyRows(dst []float32, ldd int, src []float32, lds, rows, width int) {
	if rows == 0 || width == 0 {
		return
	}
	_ = dst[(rows-1)*ldd+width-1]
	_ = src[(rows-1)*lds+width-1]
	if !hasAVX2FMA || width%8 != 0 {
		copyRowsGeneric(dst, ldd, src, lds, rows, width)
		return
	}
	copyRows8AVX(dst, ldd, src, lds, rows, width)
}
