// torch.optim.Adam (AdamW with decoupled set) step, in place, one pass,
// without amsgrad, reading the per-step values from the step state when
// the dispatch runs (kernels.StepAdamLR, StepAdamBC2, StepDecay):
//   Adam:  g = grad + wd·p;   AdamW: p = p·state[3], g = grad
//   m = β1·m + (1 − β1)·g;  v = β2·v + (1 − β2)·g·g
//   p −= state[1]·(m/(sqrt(v)/state[2] + eps))
// in PyTorch's order of float32 operations; 1 − β1 and 1 − β2 are formed
// in float64 by the host.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, set = 0, binding = 0) buffer BufP { float p[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufG { float grad[]; };
layout(std430, set = 0, binding = 2) buffer BufM { float m[]; };
layout(std430, set = 0, binding = 3) buffer BufV { float v[]; };
layout(std430, set = 0, binding = 4) readonly buffer BufS { float state[]; };

layout(push_constant) uniform Push {
	uint n;
	float beta1;
	float c1; // 1 − β1
	float beta2;
	float c2; // 1 − β2
	float eps;
	float wd;
	uint decoupled;
} pc;

void main() {
	const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	const float lr = state[1];    // lr/(1 − β1^t)
	const float bc2 = state[2];   // sqrt(1 − β2^t)
	const float decay = state[3]; // 1 − lr·wd
	for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
		float w = p[i];
		float g = grad[i];
		if (pc.decoupled != 0) {
			w *= decay;
		} else {
			g += pc.wd * w;
		}
		precise const float mi = pc.beta1 * m[i] + pc.c1 * g;
		precise const float vi = pc.beta2 * v[i] + pc.c2 * g * g;
		m[i] = mi;
		v[i] = vi;
		p[i] = w - lr * (mi / (sqrt(vi) / bc2 + pc.eps));
	}
}
