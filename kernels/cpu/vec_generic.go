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

// maxWindow8 is the vector max of a pool window 8 wide; without SIMD it
// always defers to the plain loop.
func maxWindow8(xp []float32, start, w, kh int) (idx int, ok bool) { return 0, false }

// peakLoops are the FMA loops of MeasurePeak: the plain loop alone.
func peakLoops() []peakLoop { return []peakLoop{{"scalar", 1, peakGeneric}} }

// currentGemm is the plain-loop kernel set.
func currentGemm() *gemmKernel { return genericGemm }

// gemmKernelSets are the kernel sets the CPU runs.
func gemmKernelSets() []*gemmKernel { return []*gemmKernel{genericGemm} }

// currentConv is the plain-loop kernel set.
func currentConv() *convKernel { return genericConv }

// convKernelSets are the kernel sets the CPU runs.
func convKernelSets() []*convKernel { return []*convKernel{genericConv} }

// sgdVector is the vector SGD update; this build has none.
func sgdVector(w, g, buf []float32, c *sgdCoefs, sums *[2]float64) int { return 0 }

// copyRows sets dst[r·ldd+j] = src[r·lds+j] for r < rows, j < width.
func copyRows(dst []float32, ldd int, src []float32, lds, rows, width int) {
	copyRowsGeneric(dst, ldd, src, lds, rows, width)
}

// rowsAxpy sets y[r·ldy+j] += a·x[r·ldx+j] for r < rows, j < width.
func rowsAxpy(y []float32, ldy int, a float32, x []float32, ldx, rows, width int) {
	rowsAxpyGeneric(y, ldy, a, x, ldx, rows, width)
}

// patchSumVec: no vector kernel for patchSum in this build.
func patchSumVec(g []float32, ldg int, x []float32, offs []int32, gv []float32, ldx, rows, width int) bool {
	return false
}

// maxBand8 is the vector max of eight adjacent pool windows 8 wide;
// without SIMD it always defers to the plain loop.
func maxBand8(xp []float32, start, pitch, kh int, keys *[8]int32, vals *[8]float32) bool {
	return false
}

// hasBand8 says maxBand8 takes NaN-free bands: never in this build.
const hasBand8 = false
