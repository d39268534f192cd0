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
