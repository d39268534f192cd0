// kernels.Ops.Update: a parameter's penalty gradients and its optimizer
// step in one pass, in place, with the step's values read from the step
// state when the dispatch runs:
//   g = grad + L1·sign(p) (sign(0) = 0), then g += 2·L2·p
//   SGD (OPT 0): as sgd.comp with g; Adam (OPT 1): as adam.comp with g
// and, with SUMS, each work-group's Σ|p| and Σp² of the old p into
// absPart[group] and sqPart[group], which reduce_op.comp then adds into
// the loss (no float atomics). grad is not written.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const uint OPT = 0; // 0 SGD, 1 Adam
layout(constant_id = 4) const bool SUMS = false;

layout(std430, set = 0, binding = 0) buffer BufP { float p[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufG { float grad[]; };
layout(std430, set = 0, binding = 2) buffer BufM { float buf[]; };
layout(std430, set = 0, binding = 3) buffer BufV { float buf2[]; };
layout(std430, set = 0, binding = 4) readonly buffer BufS { float state[]; };
layout(std430, set = 0, binding = 5) writeonly buffer BufAbs { float absPart[]; };
layout(std430, set = 0, binding = 6) writeonly buffer BufSq { float sqPart[]; };

layout(push_constant) uniform Push {
	uint n;
	float l1;
	float l2x2;     // 2·L2, formed in float32 as L2PenaltyGrad forms it
	float momentum; // SGD
	float damp;     // SGD: 1 − dampening
	float wd;       // SGD's or Adam's weight decay
	uint nesterov;
	float beta1; // Adam
	float c1;    // 1 − β1
	float beta2;
	float c2; // 1 − β2
	float eps;
	uint decoupled;
} pc;

shared float redAbs[gl_WorkGroupSize.x];
shared float redSq[gl_WorkGroupSize.x];

void main() {
	const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	const bool first = state[4] != 0.0;
	float sa = 0.0, sq = 0.0;
	for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
		float w = p[i];
		if (SUMS) {
			sa += abs(w);
			sq += w * w;
		}
		precise float g = grad[i];
		if (pc.l1 != 0.0) {
			g += w > 0.0 ? pc.l1 : (w < 0.0 ? -pc.l1 : 0.0);
		}
		if (pc.l2x2 != 0.0) {
			precise const float t = pc.l2x2 * w;
			g += t;
		}
		if (OPT == 0) {
			const float lr = state[0];
			precise const float d = pc.wd * w;
			g += d;
			if (pc.momentum != 0.0) {
				precise const float b = first ? g : pc.momentum * buf[i] + pc.damp * g;
				buf[i] = b;
				precise const float nb = g + pc.momentum * b;
				g = pc.nesterov != 0 ? nb : b;
			}
			p[i] = w - lr * g;
		} else {
			const float lr = state[1];    // lr/(1 − β1^t)
			const float bc2 = state[2];   // sqrt(1 − β2^t)
			const float decay = state[3]; // 1 − lr·wd
			if (pc.decoupled != 0) {
				w *= decay;
			} else {
				precise const float d = pc.wd * w;
				g += d;
			}
			precise const float mi = pc.beta1 * buf[i] + pc.c1 * g;
			precise const float vi = pc.beta2 * buf2[i] + pc.c2 * g * g;
			buf[i] = mi;
			buf2[i] = vi;
			p[i] = w - lr * (mi / (sqrt(vi) / bc2 + pc.eps));
		}
	}
	if (SUMS) {
		const uint lid = gl_LocalInvocationID.x;
		redAbs[lid] = sa;
		redSq[lid] = sq;
		barrier();
		for (uint h = gl_WorkGroupSize.x / 2; h > 0; h /= 2) {
			if (lid < h) {
				redAbs[lid] += redAbs[lid + h];
				redSq[lid] += redSq[lid + h];
			}
			barrier();
		}
		if (lid == 0) {
			absPart[gl_WorkGroupID.x] = redAbs[0];
			sqPart[gl_WorkGroupID.x] = redSq[0];
		}
	}
}
