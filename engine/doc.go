// Package engine runs compute shaders on a Vulkan device: it opens the
// loader, instance and device, sub-allocates float32 buffers from a few
// large memory blocks, caches compute pipelines, and records dispatches into
// reusable command-buffer sequences submitted with one fence wait.
//
// It is the only package of vkneuro that imports the Vulkan binding or uses
// cgo and unsafe for Vulkan; everything above it works with *Buffer,
// *Kernel and *Sequence.
//
// A Manager is safe for concurrent use; a Sequence is not (record it from one
// goroutine, then Run it from any).
package engine
