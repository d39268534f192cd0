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
// Kernels (one pipeline per shader and specialization, cached by the
// engine; lavapipe compiles each at its first dispatch):
//   - matmul: SGEMM with BM×BN×BK block tiles staged in shared memory and
//     a TM×TN register block per invocation, all specialization
//     constants, as are the transposes. GPUs get 128×128×8 tiles with
//     8×8 per invocation for large outputs, 64×64×16 with 4×4 otherwise
//     and 32-wide tiles for thin dimensions; CPU drivers get 8×8 per
//     invocation and blocks of 16–128 fitted to the matrix. When the
//     output has too few tiles to fill the device and k is deep, k is
//     split and matmul_reduce sums the partial products. k is split
//     anyway into chunks short enough for llvmpipe, which ends all loops
//     of an invocation after 65535 iterations in all (a deeper chunk
//     silently lost the rest of k); splits beyond a 64 MiB scratch run
//     in passes that add into c.
//   - conv2d: tiled direct convolution; each invocation computes a few
//     adjacent pixels of a row for up to 8 output channels from an input
//     tile plus halo and the weights in shared memory, with the kernel
//     geometry specialised. The stride-1 input gradient is the same
//     kernel on dy with the flipped, transposed weights; other strides
//     use conv2d_bwd_input, a gather over the taps reaching each pixel.
//   - conv2d_bwd_weight_taps: the weight gradient for kernels of up to
//     64 taps, one work-group per filter and chunk of output positions
//     accumulating all taps in registers; conv2d_bwd_weight for larger
//     kernels. bias_grad sums the chunks (and computes bias gradients).
//   - maxpool; its backward is a zero fill plus maxpool_scatter (one
//     write per window) when windows do not overlap, else maxpool_bwd,
//     a gather, so no atomics are needed either way.
//   - softmax and softmax_bwd: one work-group per row.
//   - eltwise (activations, loss gradients, penalty gradients, bias add;
//     the op is a specialization constant), reduce_op (sums, losses,
//     penalties) and sgd.
package vulkan
