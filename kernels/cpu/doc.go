// Package cpu is the CPU implementation of kernels.Backend: tensors are
// []float32 slices and a Program is a list of closures, each checked and
// given its scratch memory when its op is recorded, so Program.Run does
// not allocate.
//
// Each op's forward and backward sit together in a file named for the
// family (activations.go, dropout.go, pool.go, losses.go, optim.go;
// conv.go, convfast.go, convpool.go and gemm.go; the rest in ops.go). A tensor's Storage is a
// *buffer that its Reshape views share, so Free reaches all of them.
//
// Ops are split over a pool of goroutines (Threads, default
// runtime.GOMAXPROCS) that lives until Close. Convolutions with stride 1
// run as register-tiled correlations over zero-padded planes
// (convfast.go), other strides as direct loops; MatMul is this package's
// GEMM (gemm.go), a packed form on outer-product tiles and a dot form
// for x·Wᵀ with long rows. The fused ops (kernels.Ops) share those
// kernels: LinearWeightUpdate is the GEMM with an epilogue that updates
// each finished block of the weight (optim.go), Conv2DMaxPool pools the
// convolution's planes while they are in cache and its backward sums
// over the pool's maxima alone (convpool.go).
//
// The micro-kernels (the GEMM's 12×32 outer and 4×6 dot tiles, the
// convolutions' six-plane correlation and 6×4 weight-gradient tiles,
// the SGD update, axpy, dot and the 8-wide pooling window) come in one
// vector width per CPU feature, chosen when an op is recorded:
//   - AVX-512 (F, VL, BW, DQ) where the CPU has it, else AVX2+FMA, in
//     assembly in the default amd64 build (gemm_amd64.s, conv_amd64.s,
//     update_amd64.s, vec_amd64.s), with gonum's SSE Saxpy/Sdot and
//     the plain loops on CPUs with neither;
//   - the same tiles written with Go's experimental simd/archsimd
//     package with GOEXPERIMENT=simd on amd64 (*_simd_amd64.go);
//   - the plain loops, with gonum's Saxpy/Sdot, on other architectures
//     and with -tags purego.
//
// The plain loops (gemm.go, convfast.go, optim.go, vec.go) are the spec:
// every kernel set the CPU runs is cross-checked against them at its
// tile and length edges, with guard values (gemm_test.go, conv_test.go,
// update_test.go, vec_test.go), and the AVX2 sets run on AVX-512 CPUs
// too (vec_amd64_test.go).
//
// MeasurePeak and MeasureBandwidth give the machine's ceilings, and
// ProfileOps per-op times of a Program, for the roofline of a training
// step (bench/roofline.go).
//
// Device reports which loops are in use.
package cpu
