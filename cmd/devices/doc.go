// Command devices prints the Vulkan devices the engine sees, their memory
// heaps and compute limits, and which one the engine would choose.
//
// Usage:
//
//	devices [-allow-cpu]
//
// It exits with status 1 when Vulkan is not available.
package main
