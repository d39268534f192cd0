//go:build amd64 && !purego && !goexperiment.simd

package cpu

// The convolution micro-kernels of the default amd64 build
// (conv_amd64.s): six output planes of 64 (AVX-512) or 16 (AVX2) values
// per correlation tile, one plane of 256 or 64 for a group of fewer
// planes, and six filters × four taps (AVX-512) or three × four (AVX2)
// per weight-gradient tile. The wrappers check every bound
// the assembly relies on.

//go:noescape
func corr6x64AVX512(out []float32, ldo, nf int, src []float32, offs []int, wp []float32, bias *[6]float32)

//go:noescape
func corr6x16AVX2(out []float32, ldo, nf int, src []float32, offs []int, wp []float32, bias *[6]float32)

//go:noescape
func corr1x256AVX512(out []float32, src []float32, offs []int, wp []float32, stride int, bias float32)

//go:noescape
func corr1x64AVX2(out []float32, src []float32, offs []int, wp []float32, stride int, bias float32)

//go:noescape
func wgrad6x4AVX512(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n int)

//go:noescape
func wgrad3x4AVX2(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n int)

var avx512Conv = &convKernel{
	name: "AVX-512", cw: 64, cw1: 256, gf: 6, gk: 16,
	corr1: func(out, src []float32, taps *tapOffsets, wp []float32, stride int, bias float32) {
		checkCorr1(256, out, src, taps, wp, stride)
		corr1x256AVX512(out, src, taps.offs, wp, stride, bias)
	},
	corr: func(out []float32, ldo, nf int, src []float32, taps *tapOffsets, wp []float32, bias *[6]float32) {
		checkCorr(64, out, ldo, nf, src, taps, wp)
		corr6x64AVX512(out, ldo, nf, src, taps.offs, wp, bias)
	},
	wgrad: func(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n int) {
		checkWgrad(6, 16, dy, ldy, nf, x, offs, nt, n)
		wgrad6x4AVX512(s, dy, ldy, nf, x, offs, nt, n)
	},
}

var avx2Conv = &convKernel{
	name: "AVX2+FMA", cw: 16, cw1: 64, gf: 3, gk: 8,
	corr1: func(out, src []float32, taps *tapOffsets, wp []float32, stride int, bias float32) {
		checkCorr1(64, out, src, taps, wp, stride)
		corr1x64AVX2(out, src, taps.offs, wp, stride, bias)
	},
	corr: func(out []float32, ldo, nf int, src []float32, taps *tapOffsets, wp []float32, bias *[6]float32) {
		checkCorr(16, out, ldo, nf, src, taps, wp)
		corr6x16AVX2(out, ldo, nf, src, taps.offs, wp, bias)
	},
	wgrad: func(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n int) {
		checkWgrad(3, 8, dy, ldy, nf, x, offs, nt, n)
		wgrad3x4AVX2(s, dy, ldy, nf, x, offs, nt, n)
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
