// PyTorch SGD step (dampening 0, no Nesterov), in place:
// g = grad + wd·p; buf = momentum·buf + g; p −= lr·buf.
// With momentum 0 this is p −= lr·g, as PyTorch; buf is still written.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, set = 0, binding = 0) buffer BufP { float p[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufG { float grad[]; };
layout(std430, set = 0, binding = 2) buffer BufM { float buf[]; };

layout(push_constant) uniform Push {
	uint n;
	float lr;
	float momentum;
	float wd;
} pc;

void main() {
	const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
		const float w = p[i];
		const float g = grad[i] + pc.wd * w;
		const float m = pc.momentum * buf[i] + g;
		buf[i] = m;
		p[i] = w - pc.lr * m;
	}
}
