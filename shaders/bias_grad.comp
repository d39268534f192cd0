// Column reduction of x viewed as [outer, f, inner]: work-group (g, j)
// sums x[i, j, k] over the g-th chunk of the outer·inner positions and
// writes out[j·G + g], G = number of groups along x. With G == 1 this is
// BiasGrad; with G > 1 a second dispatch over out viewed as [1, f, G]
// finishes it (also used to sum conv weight-gradient partials).
// Work-group size must be a power of two.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, set = 0, binding = 0) readonly buffer BufX { float x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer BufOut { float o[]; };

layout(push_constant) uniform Push {
	uint outer;
	uint f;
	uint inner;
	uint chunk; // positions per group
} pc;

shared float red[gl_WorkGroupSize.x];

void main() {
	const uint lid = gl_LocalInvocationID.x;
	const uint g = gl_WorkGroupID.x;
	const uint j = gl_WorkGroupID.y;
	const uint total = pc.outer * pc.inner;
	const uint begin = g * pc.chunk;
	const uint end = min(total, begin + pc.chunk);
	// (i, k) = (r / inner, r % inner), advanced incrementally: one
	// integer division per invocation instead of one per element.
	const uint wg = gl_WorkGroupSize.x;
	const uint di = wg / pc.inner;
	const uint dk = wg - di * pc.inner;
	uint r = begin + lid;
	uint i = r / pc.inner;
	uint k = r - i * pc.inner;
	float s = 0.0;
	for (; r < end; r += wg) {
		s += x[(i * pc.f + j) * pc.inner + k];
		i += di;
		k += dk;
		if (k >= pc.inner) {
			k -= pc.inner;
			i++;
		}
	}
	red[lid] = s;
	barrier();
	for (uint h = gl_WorkGroupSize.x / 2; h > 0; h /= 2) {
		if (lid < h) {
			red[lid] += red[lid + h];
		}
		barrier();
	}
	if (lid == 0) {
		o[j * gl_NumWorkGroups.x + g] = red[0];
	}
}
