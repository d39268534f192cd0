// Package cpu is the CPU implementation of kernels.Backend: tensors are
// []float32 slices and a Program is a list of closures, each checked and
// given its scratch memory when its op is recorded, so Program.Run does
// not allocate.
//
// Ops are split over a pool of goroutines (Threads, default
// runtime.GOMAXPROCS) that lives until Close. Convolutions with stride 1
// run as whole-plane shifted axpys over zero-padded planes (convfast.go),
// other strides as direct loops; MatMul is this package's GEMM (gemm.go),
// tuned for the tutorials' skinny linear layers.
//
// The inner loops come in two builds. The default one calls gonum's
// Saxpy/Sdot, whose unit-stride cases are SSE assembly on amd64. Built
// with GOEXPERIMENT=simd on amd64 (Go's experimental simd/archsimd
// package), the package uses 8-wide AVX2+FMA loops and register-tiled
// GEMM, convolution and pooling kernels when the CPU has them: 1.5–3×
// faster on those ops in BenchmarkOps, but on a whole Tutorial 3
// training step (BenchmarkTrainStep) it measured between 0.8× and 1.4×
// the speed of the default build in repeated runs on a shared 2-core AMD
// EPYC, so the default build stays the reference. Device reports which
// loops are in use.
package cpu
