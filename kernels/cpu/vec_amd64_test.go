//go:build amd64 && !purego && !goexperiment.simd

package cpu

import "testing"

// TestVecWithoutAVX2 runs the primitive tests through the wrappers'
// fallbacks (gonum's SSE Saxpy/Sdot and the plain loops), which a CPU
// without AVX2+FMA takes in the default build: on the AVX2 machines that
// run CI they would otherwise never run.
func TestVecWithoutAVX2(t *testing.T) {
	if !hasAVX2FMA {
		t.Skip("this CPU has no AVX2+FMA: the other tests already cover the fallbacks")
	}
	avx512 := hasAVX512
	if avx512 {
		// The AVX2 loops, which AVX-512 CPUs skip.
		hasAVX512 = false
		t.Run("AVX2/sgd", TestSGDVector)
		t.Run("AVX2/gemm", TestGemmPlans)
		t.Run("AVX2/conv", TestConvPlans)
		t.Run("AVX2/rowsAxpy", TestRowsAxpy)
	}
	hasAVX2FMA, hasAVX512, hasVectorMax = false, false, false
	defer func() { hasAVX2FMA, hasAVX512, hasVectorMax = true, avx512, true }()
	t.Run("primitives", TestVecPrimitives)
	t.Run("convKernels", TestConvKernels)
	t.Run("gemmKernels", TestGemmKernels)
	t.Run("sgd", TestSGDVector)
	t.Run("maxWindow8", TestMaxWindow8)
}
