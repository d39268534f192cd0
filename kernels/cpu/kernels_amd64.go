//go:build amd64 && (!purego || goexperiment.simd)

package cpu

// The kernel sets of the two amd64 builds: the micro-kernels are
// assembly in the default build (gemm_amd64.s, conv_amd64.s) and
// archsimd code with GOEXPERIMENT=simd (gemm_simd_amd64.go,
// conv_simd_amd64.go), under the same names. The wrappers check every
// bound the kernels rely on.

var avx512Gemm = &gemmKernel{
	name: "AVX-512", mr: 12, nr: 32, dmr: 4, dnr: 6, dk: 16,
	outer: func(c []float32, ldc int, ap, bp []float32, ldb, kc int, add bool) {
		checkOuter(12, 32, c, ldc, ap, bp, ldb, kc)
		outer12x32(c, ldc, ap, bp, ldb, kc, add)
	},
	dot: func(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int) {
		checkDot(4, 6, 16, a, lda, ra, b, ldb, rb, k)
		dot4x6(s, a, lda, ra, b, ldb, rb, k)
	},
	dnrNarrow: 5,
	dotNarrow: func(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int) {
		checkDot(4, 5, 16, a, lda, ra, b, ldb, rb, k)
		dot4x5(s, a, lda, ra, b, ldb, rb, k)
	},
}

var avx2Gemm = &gemmKernel{
	name: "AVX2+FMA", mr: 6, nr: 16, dmr: 4, dnr: 3, dk: 8,
	outer: func(c []float32, ldc int, ap, bp []float32, ldb, kc int, add bool) {
		checkOuter(6, 16, c, ldc, ap, bp, ldb, kc)
		outer6x16(c, ldc, ap, bp, ldb, kc, add)
	},
	dot: func(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int) {
		checkDot(4, 3, 8, a, lda, ra, b, ldb, rb, k)
		dot4x3(s, a, lda, ra, b, ldb, rb, k)
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

var avx512Conv = &convKernel{
	name: "AVX-512", cw: 64, cw1: 256, gf: 6, gk: 16,
	corr1: func(out, src []float32, taps *tapOffsets, wp []float32, stride int, bias float32) {
		checkCorr1(256, out, src, taps, wp, stride)
		corr1x256(out, src, taps.offs, wp, stride, bias)
	},
	corr: func(out []float32, ldo, nf int, src []float32, taps *tapOffsets, wp []float32, bias *[6]float32) {
		checkCorr(64, out, ldo, nf, src, taps, wp)
		corr6x64(out, ldo, nf, src, taps.offs, wp, bias)
	},
	wgrad: func(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n, w, ldx int) {
		checkWgrad(6, 16, dy, ldy, nf, x, offs, nt, n, w, ldx)
		wgrad6x4(s, dy, ldy, nf, x, offs, nt, n, w, ldx)
	},
}

var avx2Conv = &convKernel{
	name: "AVX2+FMA", cw: 16, cw1: 64, gf: 3, gk: 8,
	corr1: func(out, src []float32, taps *tapOffsets, wp []float32, stride int, bias float32) {
		checkCorr1(64, out, src, taps, wp, stride)
		corr1x64(out, src, taps.offs, wp, stride, bias)
	},
	corr: func(out []float32, ldo, nf int, src []float32, taps *tapOffsets, wp []float32, bias *[6]float32) {
		checkCorr(16, out, ldo, nf, src, taps, wp)
		corr6x16(out, ldo, nf, src, taps.offs, wp, bias)
	},
	wgrad: func(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n, w, ldx int) {
		checkWgrad(3, 8, dy, ldy, nf, x, offs, nt, n, w, ldx)
		wgrad3x4(s, dy, ldy, nf, x, offs, nt, n, w, ldx)
	},
}

// currentConv is the widest kernel set the CPU runs.
func currentConv() *convKernel {
	switch {
	case hasAVX512:
		return avx512Conv
	case hasAVX2FMA:
		return avx2Conv
	}
	return genericConv
}

// convKernelSets are the kernel sets the CPU runs, narrowest first.
func convKernelSets() []*convKernel {
	sets := []*convKernel{genericConv}
	if hasAVX2FMA {
		sets = append(sets, avx2Conv)
	}
	if hasAVX512 {
		sets = append(sets, avx512Conv)
	}
	return sets
}
