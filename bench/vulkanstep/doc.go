// Package vulkanstep benchmarks the harness's training steps on the
// Vulkan backend (bench.StepCases, bench.BenchStep). It holds only that
// benchmark, kept out of package bench so that bench, which does not
// touch Vulkan, stays in the race-detector run.
package vulkanstep
