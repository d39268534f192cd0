// Max-pool backward as a gather: one invocation per input element
// dx[plane, h, w] sums dy over the windows that cover (h, w) and chose
// it as their argmax. Overlapping windows (stride < kernel) are handled
// without atomics because each dx element has exactly one writer.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, set = 0, binding = 0) readonly buffer BufDY { float dy[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufA { float argmax[]; };
layout(std430, set = 0, binding = 2) writeonly buffer BufDX { float dx[]; };

layout(push_constant) uniform Push {
	uint total; // planes·H·W
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
		const uint w = i % pc.W;
		const uint t = i / pc.W;
		const uint h = t % pc.H;
		const uint plane = t / pc.H;
		const uint self = h * pc.W + w;
		// Windows oh with oh·SH ≤ h < oh·SH + KH.
		const uint ohLo = h + 1 > pc.KH ? (h + 1 - pc.KH + pc.SH - 1) / pc.SH : 0;
		const uint ohHi = min(h / pc.SH, pc.Ho - 1);
		const uint owLo = w + 1 > pc.KW ? (w + 1 - pc.KW + pc.SW - 1) / pc.SW : 0;
		const uint owHi = min(w / pc.SW, pc.Wo - 1);
		float s = 0.0;
		for (uint oh = ohLo; oh <= ohHi; oh++) {
			for (uint ow = owLo; ow <= owHi; ow++) {
				const uint j = (plane * pc.Ho + oh) * pc.Wo + ow;
				if (uint(argmax[j]) == self) {
					s += dy[j];
				}
			}
		}
		dx[i] = s;
	}
}
