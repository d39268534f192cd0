//go:build !(goexperiment.simd && amd64)

package cpu

// simdKind names the vector code in use, for Device.
const simdKind = "scalar"

func axpy(y []float32, a float32, x []float32) { axpyGeneric(y, a, x) }

func dot(x, y []float32) float32 { return dotGeneric(x, y) }
