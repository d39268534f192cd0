// Package cpu is the CPU implementation of kernels.Backend: tensors are
// []float32 slices and a Program is a list of closures, each checked and
// given its scratch memory when its op is recorded, so Program.Run does
// not allocate.
//
// Each op's forward and backward sit together in a file named for the
// family (activations.go, dropout.go, pool.go, losses.go, optim.go;
// conv.go and gemm.go; the rest in ops.go). A tensor's Storage is a
// *buffer that its Reshape views share, so Free reaches all of them.
//
// Ops are split over a pool of goroutines (Threads, default
// runtime.GOMAXPROCS) that lives until Close. Convolutions with stride 1
// run as whole-plane shifted axpys over zero-padded planes (convfast.go),
// other strides as direct loops; MatMul is this package's GEMM (gemm.go),
// tuned for the tutorials' skinny linear layers.
//
// The inner loops (axpy, dot, their 4-way forms, the convolution taps,
// the 4×16 GEMM tile and the 8-wide pooling window) are specified by the
// plain loops of vec.go and come in three builds, each cross-checked
// against those loops by vec_test.go:
//   - default on amd64: AVX2+FMA assembly (vec_amd64.s) when the CPU has
//     it, else gonum's SSE Saxpy/Sdot;
//   - GOEXPERIMENT=simd on amd64: the same loops written with Go's
//     experimental simd/archsimd package (vec_simd_amd64.go);
//   - other architectures, or -tags purego: gonum's Saxpy/Sdot and the
//     plain loops.
//
// Device reports which loops are in use.
package cpu
