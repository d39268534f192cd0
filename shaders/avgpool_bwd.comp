// 2-D average-pool backward: one invocation per input element
// dx[plane, h, w] (grid-stride) sums dy over the windows that cover
// (h, w) and divides by KH·KW, so each element has one writer, needs no
// zero fill and no atomics. With OVERLAP false (stride ≥ kernel in both
// axes, the usual pool) at most one window covers an element and its
// index is computed directly; with OVERLAP set the windows
// oh·SH ≤ h < oh·SH + KH (and likewise along w) are gathered.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const bool OVERLAP = false;

layout(std430, set = 0, binding = 0) readonly buffer BufDY { float dy[]; };
layout(std430, set = 0, binding = 1) writeonly buffer BufDX { float dx[]; };

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
	const float k = float(pc.KH * pc.KW);
	for (uint i = gl_GlobalInvocationID.x; i < pc.total; i += stride) {
		const uint w = i % pc.W;
		const uint t = i / pc.W;
		const uint h = t % pc.H;
		const uint plane = t / pc.H;
		const uint base = plane * pc.Ho * pc.Wo;
		float s = 0.0;
		if (OVERLAP) {
			const uint ohLo = h + 1 > pc.KH ? (h + 1 - pc.KH + pc.SH - 1) / pc.SH : 0;
			const uint ohHi = min(h / pc.SH, pc.Ho - 1);
			const uint owLo = w + 1 > pc.KW ? (w + 1 - pc.KW + pc.SW - 1) / pc.SW : 0;
			const uint owHi = min(w / pc.SW, pc.Wo - 1);
			for (uint oh = ohLo; oh <= ohHi; oh++) {
				for (uint ow = owLo; ow <= owHi; ow++) {
					s += dy[base + oh * pc.Wo + ow];
				}
			}
		} else {
			const uint oh = h / pc.SH;
			const uint ow = w / pc.SW;
			if (oh < pc.Ho && h - oh * pc.SH < pc.KH && ow < pc.Wo && w - ow * pc.SW < pc.KW) {
				s = dy[base + oh * pc.Wo + ow];
			}
		}
		dx[i] = s / k;
	}
}
