// torch.optim.SGD step, in place, at the learning rate state[0]
// (kernels.StepLR), read when the dispatch runs so that a schedule does
// not re-record the step:
//   g = grad + wd·p
//   momentum ≠ 0: buf = g on the first step (state[4] ≠ 0, kernels.StepFirst),
//                 else buf = momentum·buf + (1 − dampening)·g;
//                 g = g + momentum·buf (Nesterov) or g = buf
//   p −= lr·g
// With momentum 0, buf is neither read nor written.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, set = 0, binding = 0) buffer BufP { float p[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufG { float grad[]; };
layout(std430, set = 0, binding = 2) buffer BufM { float buf[]; };
layout(std430, set = 0, binding = 3) readonly buffer BufS { float state[]; };

layout(push_constant) uniform Push {
	uint n;
	float momentum;
	float damp; // 1 − dampening
	float wd;
	uint nesterov;
} pc;

void main() {
	const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	const float lr = state[0];
	const bool first = state[4] != 0.0;
	for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
		const float w = p[i];
		float g = grad[i] + pc.wd * w;
		if (pc.momentum != 0.0) {
			const float b = first ? g : pc.momentum * buf[i] + pc.damp * g;
			buf[i] = b;
			g = pc.nesterov != 0 ? g + pc.momentum * b : b;
		}
		p[i] = w - lr * g;
	}
}
