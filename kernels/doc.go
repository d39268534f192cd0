// Package kernels defines the op set vkneuro trains with and the Backend
// interface that every implementation (CPU in kernels/cpu, Vulkan in
// kernels/vulkan) satisfies, so that models are written once.
//
// Data layout: every Tensor is a dense float32 array in row-major order.
// Images are NCHW (batch, channel, height, width); conv weights are
// OIHW (out channel, in channel, kernel height, kernel width); linear
// layers store W as [out, in] like PyTorch, so y = x·Wᵀ + b.
//
// Ops are recorded into a Program and executed by Program.Run, in order.
// A Program is recorded once and run many times: a training step is one
// Program, so on Vulkan it is one command buffer and one queue submit.
// Program.Write and Program.Read move host data in and out as part of
// the Run, so a GPU whose memory the host cannot map (a discrete GPU)
// needs no extra submit for a step's batch and loss.
// Hyper-parameters given to an op (loss coefficients, momentum, betas)
// are fixed when it is recorded; tensor contents are read when it runs.
// What changes every step (the learning rate under a schedule, Adam's
// bias corrections, the step number that draws dropout masks) is read
// from a step-state tensor (step.go) that the host rewrites before each
// Run with Program.Write, so a training step is recorded once.
//
// Recording checks shapes. The first bad op puts the Program into an
// error state (like bufio.Writer): later ops are ignored and Err and Run
// return that error, which names the op and the shapes.
package kernels
