// Second pass of split-K SGEMM: c[i] = alpha·Σ_z part[z·mn + i] + beta·c[i]
// over the `splits` partial products written by matmul.comp. With beta
// == 0, c is not read (it may hold NaN, as BLAS allows).
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, set = 0, binding = 0) readonly buffer Part { float part[]; };
layout(std430, set = 0, binding = 1) buffer BufC { float c[]; };

layout(push_constant) uniform Push {
	uint mn;
	uint splits;
	float alpha;
	float beta;
} pc;

void main() {
	const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	for (uint i = gl_GlobalInvocationID.x; i < pc.mn; i += stride) {
		float s = 0.0;
		for (uint z = 0; z < pc.splits; z++) {
			s += part[z * pc.mn + i];
		}
		if (pc.beta == 0.0) {
			c[i] = pc.alpha * s;
		} else {
			c[i] = pc.alpha * s + pc.beta * c[i];
		}
	}
}
