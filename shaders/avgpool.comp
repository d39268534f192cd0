// 2-D average pool, no padding: one invocation per output element of
// y[planes, Ho, Wo] (planes = N·C), grid-stride. The window's sum is
// divided by KH·KW, not multiplied by its inverse, as PyTorch.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, set = 0, binding = 0) readonly buffer BufX { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer BufY { float y[]; };

layout(push_constant) uniform Push {
	uint total; // planes·Ho·Wo
	uint H;
	uint W;
	uint Ho;
	uint Wo;
	uint KH;
	uint KW;
	uint SH;
	uint SW;
} pc;

void main() {
	const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	const float k = float(pc.KH * pc.KW);
	for (uint i = gl_GlobalInvocationID.x; i < pc.total; i += stride) {
		const uint ow = i % pc.Wo;
		const uint t = i / pc.Wo;
		const uint oh = t % pc.Ho;
		const uint plane = t / pc.Ho;
		uint at = plane * pc.H * pc.W + oh * pc.SH * pc.W + ow * pc.SW;
		float s = 0.0;
		for (uint kh = 0; kh < pc.KH; kh++, at += pc.W) {
			for (uint kw = 0; kw < pc.KW; kw++) {
				s += x[at + kw];
			}
		}
		y[i] = s / k;
	}
}
