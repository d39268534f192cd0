// Softmax backward along one axis, rows as in softmax.comp:
// softmax:     dx = y·(dy − Σ dy·y)
// log-softmax: dx = dy − exp(y)·Σ dy
// Work-group size must be a power of two.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, set = 0, binding = 0) readonly buffer BufDY { float dy[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufY { float y[]; };
layout(std430, set = 0, binding = 2) writeonly buffer BufDX { float dx[]; };

layout(push_constant) uniform Push {
	uint rows;
	uint n;
	uint inner;
	uint log;
} pc;

shared float red[gl_WorkGroupSize.x];

void main() {
	const uint row = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
	if (row >= pc.rows) {
		return; // uniform over the work-group
	}
	const uint lid = gl_LocalInvocationID.x;
	const uint o = row / pc.inner;
	const uint k = row - o * pc.inner;
	const uint base = o * pc.n * pc.inner + k;

	float s = 0.0;
	for (uint i = lid; i < pc.n; i += gl_WorkGroupSize.x) {
		const uint j = base + i * pc.inner;
		s += pc.log != 0 ? dy[j] : dy[j] * y[j];
	}
	red[lid] = s;
	barrier();
	for (uint h = gl_WorkGroupSize.x / 2; h > 0; h /= 2) {
		if (lid < h) {
			red[lid] += red[lid + h];
		}
		barrier();
	}
	s = red[0];

	for (uint i = lid; i < pc.n; i += gl_WorkGroupSize.x) {
		const uint j = base + i * pc.inner;
		if (pc.log != 0) {
			dx[j] = dy[j] - exp(y[j]) * s;
		} else {
			dx[j] = y[j] * (dy[j] - s);
		}
	}
}
