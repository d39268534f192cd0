// Package vulkan implements kernels.Backend with Vulkan compute shaders
// (shaders/*.comp, compiled to the embedded SPIR-V of package shaders)
// run through package engine. It is the only package that knows which
// shader implements which op.
//
// Storage: a Tensor's Storage is an *engine.Buffer holding exactly its
// elements in row-major order (NCHW for images, OIHW for conv weights).
// Reshape views share the buffer, so Free on any of them frees it for
// all; the backend keeps a registry of live tensor buffers so that any
// later use of one, including a Run of a Program recorded before the
// Free, fails with kernels.FreedError.
//
// Programs: a Program wraps one engine.Sequence. Recording an op checks
// shapes, then records one or a few dispatches with their descriptor
// sets and push constants fixed; Run is one queue submit and one fence
// wait, with no allocation, descriptor update or upload per run. Ops
// that need temporary space (split-K partial products, partial sums of
// reductions) get a scratch buffer per op at record time, freed by
// Program.Close. Hyper-parameters (coefficients, 1/n of a mean) are
// baked into the push constants when the op is recorded; per-step
// values are read from the step-state tensor when the op runs. Checks
// that only the data can fail (an NLL target that is not a class index)
// run on the device and are reported by Run (fault.go).
//
// Shader conventions: GLSL 450, storage buffers at set 0, bindings 0..
// in the order each shader documents, a push-constant block of 32-bit
// scalars whose Go twin is a struct of the same fields in the same
// order (layouts in backend.go names it; a test checks both against
// the SPIR-V), and specialization constants 0, 1, 2 for the work-group
// size (ids 3.. for op codes, tile sizes or register-blocking factors).
// No subgroup operations and no float atomics are used, so every
// Vulkan 1.1 driver (lavapipe, MoltenVK, desktop GPUs) runs the same
// code. Reductions are two-pass: work-groups reduce in shared memory and
// write one partial each, and a second dispatch sums the partials, so
// results do not depend on the order in which work-groups run.
//
// Files by op family, each saying how its kernels work: program.go (the
// Program, host copies, dispatch), fault.go (device-side checks),
// matmul.go (SGEMM tiling and split-K),
// conv.go, pool.go, softmax.go, reduce.go (sums, losses, penalties and
// their gradients), bias.go, eltwise.go (activations) and optim.go.
// Pipelines are cached by the engine per shader and specialization;
// lavapipe compiles each at its first dispatch.
package vulkan
