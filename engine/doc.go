// Package engine runs compute shaders on a Vulkan device: it opens the
// loader, instance and device, sub-allocates float32 buffers from a few
// large memory blocks, caches compute pipelines, and records dispatches into
// reusable command-buffer sequences submitted with one fence wait.
// Inside a sequence a barrier comes before a command only where it
// reads or overwrites what an earlier command wrote, or overwrites what
// one read, as the kernels' SPIR-V says they access memory; with
// validation on, the layer's synchronization validation checks this.
//
// A Sequence is the one way callers record work for the device (the
// Manager records only its own transfers and zero fills). Besides buffers,
// kernels may bind RGBA8 storage images (NewImage, KernelWith), which
// Blit scales and CopyImage reads back; Run takes semaphores to wait for
// and to signal (Wait, Signal), so that work outside the engine, such as
// a window's swapchain (engine/swapchain), is ordered with sequences on
// the one queue rather than recorded beside them.
//
// Memory: where the device shares memory with the host (integrated GPUs,
// lavapipe) buffers are mapped and transfers are memory copies; on a
// discrete GPU they are device-local and Upload and Download go through
// a staging buffer, one submit per chunk. Host buffers (NewHostBuffer)
// are always mapped, so a Sequence can copy results into them, or inputs
// out of them, inside its own submit. Options.Staging selects the
// discrete-GPU path on any device, for tests.
//
// It and the packages under it (engine/internal/vkc, its own thin binding
// for the calls vulkan-go cannot make safely, and engine/swapchain) are
// the only ones of vkneuro that import the Vulkan binding or use cgo and
// unsafe for Vulkan; everything above works with *Buffer, *Image,
// *Kernel and *Sequence. Handles and UseQueue give the packages under
// engine/ the Vulkan objects for the calls the engine does not make.
//
// A Manager is safe for concurrent use; a Sequence is not (record it from one
// goroutine, then Run it from any).
package engine
