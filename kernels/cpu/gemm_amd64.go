//go:build amd64 && !purego && !goexperiment.simd

package cpu

// The GEMM micro-kernels of the default amd64 build (gemm_amd64.s): a
// 12×32 outer tile and 4×6 dot tiles in AVX-512 where the CPU has it,
// 6×16 and 4×3 in AVX2+FMA otherwise. The wrappers check every bound the
// assembly relies on.

//go:noescape
func outer12x32AVX512(c []float32, ldc int, ap, bp []float32, kc int, add bool)

//go:noescape
func outer6x16AVX2(c []float32, ldc int, ap, bp []float32, kc int, add bool)

//go:noescape
func dot4x6AVX512(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int)

//go:noescape
func dot4x3AVX2(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int)

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

var avx512Gemm = &gemmKernel{
	name: "AVX-512", mr: 12, nr: 32, dmr: 4, dnr: 6, dk: 16,
	outer: func(c []float32, ldc int, ap, bp []float32, kc int, add bool) {
		checkOuter(12, 32, c, ldc, ap, bp, kc)
		outer12x32AVX512(c, ldc, ap, bp, kc, add)
	},
	dot: func(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int) {
		checkDot(4, 6, 16, a, lda, ra, b, ldb, rb, k)
		dot4x6AVX512(s, a, lda, ra, b, ldb, rb, k)
	},
}

var avx2Gemm = &gemmKernel{
	name: "AVX2+FMA", mr: 6, nr: 16, dmr: 4, dnr: 3, dk: 8,
	outer: func(c []float32, ldc int, ap, bp []float32, kc int, add bool) {
		checkOuter(6, 16, c, ldc, ap, bp, kc)
		outer6x16AVX2(c, ldc, ap, bp, kc, add)
	},
	dot: func(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int) {
		checkDot(4, 3, 8, a, lda, ra, b, ldb, rb, k)
		dot4x3AVX2(s, a, lda, ra, b, ldb, rb, k)
	},
}

// currentGemm is the widest kernel set the CPU runs.
func currentGemm() *gemmKernel {
	switch {
	case hasAVX512:
		return avx512Gemm
	case hasAVX2FMA:
		return avx2Gemm
	}
	return genericGemm
}

// gemmKernelSets are the kernel sets the CPU runs, narrowest first.
func gemmKernelSets() []*gemmKernel {
	sets := []*gemmKernel{genericGemm}
	if hasAVX2FMA {
		sets = append(sets, avx2Gemm)
	}
	if hasAVX512 {
		sets = append(sets, avx512Gemm)
	}
	return sets
}
