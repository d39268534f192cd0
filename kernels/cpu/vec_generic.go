//go:build !amd64 || (purego && !goexperiment.simd)

package cpu

// simdKind names the vector code in use, for Device.
const simdKind = "gonum asm"

// No vector loops of this package's own in this build.
const hasAVX2FMA, hasAVX512 = false, false

// Off amd64, or with -tags purego, the primitives are gonum's
// (vec_gonum.go) and the plain loops.
func axpy(y []float32, a float32, x []float32) { axpyGonum(y, a, x) }

func dot(x, y []float32) float32 { return dotGonum(x, y) }

func dot4(b, a0, a1, a2, a3 []float32) (s0, s1, s2, s3 float32) {
	return dot4Gonum(b, a0, a1, a2, a3)
}

func convTaps(out, src []float32, offs []int, w []float32, b float32) {
	convTapsGeneric(out, src, offs, w, b)
}

// maxWindow8 is the vector max of a pool window 8 wide; without SIMD it
// always defers to the plain loop.
func maxWindow8(xp []float32, start, w, kh int) (idx int, ok bool) { return 0, false }

// peakLoops are the FMA loops of MeasurePeak: the plain loop alone.
func peakLoops() []peakLoop { return []peakLoop{{"scalar", 1, peakGeneric}} }

// currentGemm is the plain-loop kernel set.
func currentGemm() *gemmKernel { return genericGemm }

// gemmKernelSets are the kernel sets the CPU runs.
func gemmKernelSets() []*gemmKernel { return []*gemmKernel{genericGemm} }
