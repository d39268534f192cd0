// 2-D max pool, no padding: one invocation per output element of
// y[planes, Ho, Wo] (planes = N·C), grid-stride. argmax gets the index
// h·W + w of the first maximum in the window (row-major scan, strict >),
// as PyTorch, stored as float.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, set = 0, binding = 0) readonly buffer BufX { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer BufY { float y[]; };
layout(std430, set = 0, binding = 2) writeonly buffer BufA { float argmax[]; };

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
	for (uint i = gl_GlobalInvocationID.x; i < pc.total; i += stride) {
		const uint ow = i % pc.Wo;
		const uint t = i / pc.Wo;
		const uint oh = t % pc.Ho;
		const uint plane = t / pc.Ho;
		const uint h0 = oh * pc.SH;
		const uint w0 = ow * pc.SW;
		const uint base = plane * pc.H * pc.W;
		uint best = h0 * pc.W + w0;
		float m = x[base + best];
		for (uint kh = 0; kh < pc.KH; kh++) {
			for (uint kw = 0; kw < pc.KW; kw++) {
				const uint idx = (h0 + kh) * pc.W + w0 + kw;
				const float v = x[base + idx];
				// A NaN wins, as in PyTorch's CPU kernel.
				if (v > m || isnan(v)) {
					m = v;
					best = idx;
				}
			}
		}
		y[i] = m;
		argmax[i] = float(best);
	}
}
