//go:build !amd64 || (purego && !goexperiment.simd)

package cpu

// simdKind names the vector code in use, for Device.
const simdKind = "gonum asm"

// Off amd64, or with -tags purego, the primitives are gonum's
// (vec_gonum.go) and the plain loops.
func axpy(y []float32, a float32, x []float32) { axpyGonum(y, a, x) }

func dot(x, y []float32) float32 { return dotGonum(x, y) }

func axpy4(y []float32, a0, a1, a2, a3 float32, x0, x1, x2, x3 []float32) {
	axpy4Gonum(y, a0, a1, a2, a3, x0, x1, x2, x3)
}

func dot4(b, a0, a1, a2, a3 []float32) (s0, s1, s2, s3 float32) {
	return dot4Gonum(b, a0, a1, a2, a3)
}

func convTaps(out, src []float32, offs []int, w []float32, b float32) {
	convTapsGeneric(out, src, offs, w, b)
}

// gemmKernels selects the register-tiled GEMM path of gemm.go; the plain
// build keeps the gonum-assembly row updates, which are faster than
// scalar tiles.
const gemmKernels = false

func kern4x16(c []float32, ldc int, ap, b []float32, ldb, kb int) {
	panic("cpu: kern4x16 without SIMD")
}

// maxWindow8 is the vector max of a pool window 8 wide; without SIMD it
// always defers to the plain loop.
func maxWindow8(xp []float32, start, w, kh int) (idx int, ok bool) { return 0, false }
