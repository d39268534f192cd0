// Command devices prints the Vulkan devices the engine sees, their memory
// heaps and compute limits, and which one the engine would choose; with
// -peak it also measures that device's FP32 peak (peak.comp, after
// vkpeak), the rate the GEMM benchmarks are compared with.
//
// Usage:
//
//	devices [-allow-cpu] [-peak]
//
// It exits with status 1 when Vulkan is not available.
package main
