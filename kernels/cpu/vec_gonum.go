//go:build !(goexperiment.simd && amd64)

package cpu

import "gonum.org/v1/gonum/blas/gonum"

// The gonum forms of the vector primitives: all of them off amd64 or with
// -tags purego (vec_generic.go), the fallback of the assembly on CPUs
// without AVX2+FMA (vec_amd64.go). gonum's unit-stride Saxpy and Sdot are
// SSE assembly on amd64 unless gonum is built noasm: about twice the plain
// Go loops (BenchmarkOps, op=matmul).
var level1 gonum.Implementation

func axpyGonum(y []float32, a float32, x []float32) {
	if len(y) == 0 {
		return
	}
	level1.Saxpy(len(y), a, x[:len(y)], 1, y, 1)
}

func dotGonum(x, y []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	return level1.Sdot(len(x), x, 1, y[:len(x)], 1)
}

func dot4Gonum(b, a0, a1, a2, a3 []float32) (s0, s1, s2, s3 float32) {
	return dotGonum(b, a0), dotGonum(b, a1), dotGonum(b, a2), dotGonum(b, a3)
}
