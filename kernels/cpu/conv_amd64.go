//go:build amd64 && !purego && !goexperiment.simd

package cpu

// The convolution micro-kernels of the default amd64 build
// (conv_amd64.s): six output planes of 64 (AVX-512) or 16 (AVX2) values
// per correlation tile, one plane of 256 or 64 for a group of fewer
// planes, and six filters × four taps (AVX-512) or three × four (AVX2)
// per weight-gradient tile. The wrappers check every bound
// the assembly relies on.

//go:noescape
func corr6x64(out []float32, ldo, nf int, src []float32, offs []int, wp []float32, bias *[6]float32)

//go:noescape
func corr6x16(out []float32, ldo, nf int, src []float32, offs []int, wp []float32, bias *[6]float32)

//go:noescape
func corr1x256(out []float32, src []float32, offs []int, wp []float32, stride int, bias float32)

//go:noescape
func corr1x64(out []float32, src []float32, offs []int, wp []float32, stride int, bias float32)

//go:noescape
func wgrad6x4(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n int)

//go:noescape
func wgrad3x4(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n int)
