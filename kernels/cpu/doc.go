// Package cpu is the CPU implementation of kernels.Backend: tensors are
// []float32 slices, a Program is a list of closures checked when they are
// recorded, GEMMs go through gonum's blas32 and the convolution, pooling
// and element-wise kernels are direct loops split over goroutines.
//
// It is both the reference the Vulkan backend is tested against and a
// fallback fast enough to train the tutorials' models.
package cpu
