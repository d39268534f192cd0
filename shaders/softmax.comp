// Softmax (or log-softmax with pc.log set) along one axis of x viewed as
// [outer, n, inner]: one work-group per row (o, k), the row's elements
// at (o·n + i)·inner + k, i < n. The max and the sum of exponentials are
// work-group reductions in shared memory. Work-group size must be a
// power of two. Rows are numbered over a 2-D grid so that more than
// 65535 rows fit the dispatch limits.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, set = 0, binding = 0) readonly buffer BufX { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer BufY { float y[]; };

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

	float m = -1.0 / 0.0;
	for (uint i = lid; i < pc.n; i += gl_WorkGroupSize.x) {
		m = max(m, x[base + i * pc.inner]);
	}
	red[lid] = m;
	barrier();
	for (uint h = gl_WorkGroupSize.x / 2; h > 0; h /= 2) {
		if (lid < h) {
			red[lid] = max(red[lid], red[lid + h]);
		}
		barrier();
	}
	m = red[0];
	barrier();

	float s = 0.0;
	for (uint i = lid; i < pc.n; i += gl_WorkGroupSize.x) {
		s += exp(x[base + i * pc.inner] - m);
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

	if (pc.log != 0) {
		const float ls = log(s);
		for (uint i = lid; i < pc.n; i += gl_WorkGroupSize.x) {
			const uint j = base + i * pc.inner;
			y[j] = x[j] - m - ls;
		}
	} else {
		const float inv = 1.0 / s;
		for (uint i = lid; i < pc.n; i += gl_WorkGroupSize.x) {
			const uint j = base + i * pc.inner;
			y[j] = exp(x[j] - m) * inv;
		}
	}
}
