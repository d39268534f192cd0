// Package engine runs compute shaders on a Vulkan device: it opens the
// loader, instance and device, sub-allocates float32 buffers from a few
// large memory blocks, caches compute pipelines, and records dispatches into
// reusable command-buffer sequences submitted with one fence wait.
//
// Memory: where the device shares memory with the host (integrated GPUs,
// lavapipe) buffers are mapped and transfers are memory copies; on a
// discrete GPU they are device-local and Upload and Download go through
// a staging buffer, one submit per chunk. Host buffers (NewHostBuffer)
// are always mapped, so a Sequence can copy results into them, or inputs
// out of them, inside its own submit. Options.Staging selects the
// discrete-GPU path on any device, for tests.
//
// It is the only package of vkneuro that imports the Vulkan binding or uses
// cgo and unsafe for Vulkan; everything above it works with *Buffer,
// *Kernel and *Sequence.
//
// A Manager is safe for concurrent use; a Sequence is not (record it from one
// goroutine, then Run it from any).
package engine
