// Package vulkan implements kernels.Backend with Vulkan compute shaders
// (shaders/*.comp, compiled to the embedded SPIR-V of package shaders)
// run through package engine. It is the only package that knows which
// shader implements which op.
//
// Storage: a Tensor's Storage is an *engine.Buffer holding exactly its
// elements in row-major order (NCHW for images, OIHW for conv weights).
// Reshape views share the buffer, so Free on any of them frees it for
// all.
//
// Programs: a Program wraps one engine.Sequence. Recording an op checks
// shapes, then records one or a few dispatches with their descriptor
// sets and push constants fixed; Run is one queue submit and one fence
// wait, with no allocation, descriptor update or upload per run. Ops
// that need temporary space (split-K partial products, partial sums of
// reductions) get a scratch buffer per op at record time, freed by
// Program.Close. Hyper-parameters (learning rate, coefficients, 1/n of
// a mean) are baked into the push constants when the op is recorded.
//
// Shader conventions: GLSL 450, storage buffers of float at set 0,
// bindings 0.. in the order each shader documents, a push-constant
// block of 32-bit scalars (floats passed as math.Float32bits), and
// specialization constants 0, 1, 2 for the work-group size (ids 3.. for
// tile sizes or register-blocking factors). No subgroup operations and
// no float atomics are used, so every Vulkan 1.1 driver (lavapipe,
// MoltenVK, desktop GPUs) runs the same code. Reductions are two-pass:
// work-groups reduce in shared memory and write one partial each, and a
// second dispatch sums the partials, so results do not depend on the
// order in which work-groups run.
//
// Kernels:
//   - matmul: SGEMM with BM×BN×BK block tiles in shared memory (64×64×16
//     or 32-wide for thin matrices) and 4×4 register blocks per thread;
//     split-K with matmul_reduce when the output has too few tiles.
//   - conv2d: tiled direct convolution, input tile plus halo and the
//     weights of 8 output channels in shared memory per input channel.
//   - conv2d_bwd_input: gather over the taps that reach each input pixel.
//   - conv2d_bwd_weight: per-weight reductions over chunks of N·Ho·Wo,
//     finished by bias_grad (which also computes bias gradients).
//   - maxpool, maxpool_bwd (a gather, so overlapping windows need no
//     atomics), softmax and softmax_bwd (one work-group per row),
//     eltwise (activations, loss gradients, penalty gradients, bias
//     add), reduce_op (sums, losses, penalties) and sgd.
package vulkan
