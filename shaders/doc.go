// Package shaders holds the GLSL compute shaders of vkneuro and embeds their
// committed SPIR-V (built by `make shaders` with glslc) for the engine.
//
// Conventions: #version 450; work-group size from specialization constants
// 0, 1, 2 (layout(local_size_x_id = 0, local_size_y_id = 1,
// local_size_z_id = 2) in;); storage buffers of float (with uint views
// where a shader reads bits) at set 0, bindings 0..n-1; one push-constant
// block of 32-bit scalars. Functions shared by several shaders live in
// *.glsl files that they #include (mathf.glsl: float32 exp, expm1,
// log1p, tanh and σ to a few ulp on any driver); `make shaders` rebuilds
// every shader when one changes.
package shaders
