// Max-pool backward for windows that do not overlap (stride ≥ kernel in
// both axes), after dx has been zero-filled: one invocation per output
// element routes dy[i] to the input element its argmax names. Each
// input element belongs to at most one window, so no two invocations
// write the same element and no atomics are needed. Overlapping
// windows use the gather in maxpool_bwd.comp instead.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, set = 0, binding = 0) readonly buffer BufDY { float dy[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufA { float argmax[]; };
layout(std430, set = 0, binding = 2) writeonly buffer BufDX { float dx[]; };

layout(push_constant) uniform Push {
	uint total; // planes·Ho·Wo
	uint hw;    // H·W, an input plane
	uint ohw;   // Ho·Wo, an output plane
} pc;

void main() {
	const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	for (uint i = gl_GlobalInvocationID.x; i < pc.total; i += stride) {
		const uint plane = i / pc.ohw;
		const uint a = uint(argmax[i]);
		if (a < pc.hw) {
			dx[plane * pc.hw + a] = dy[i];
		}
	}
}
