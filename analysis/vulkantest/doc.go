// Package vulkantest has no API: its tests run the analysis package's
// GEMM-backed computations (RDMs, the ridge baseline, the RSA bootstrap
// and noise ceiling) on the Vulkan backend and hold them to the same
// NumPy fixtures as the CPU. They live apart from package analysis so
// that analysis keeps no Vulkan dependency, even in its tests, and
// stays in the race-detector run of `make test`, which leaves out
// every package that reaches the engine.
package vulkantest
