// Work-group reduction of a per-element term into one value per group:
// out[g] = (acc ? out[g] : 0) + s·Σ_i term(i) over the elements that
// group g visits (grid-stride). With one group this is the whole
// reduction; with several, a second dispatch (op SUM over the partials)
// finishes it. No float atomics: each group owns its output word.
// Work-group size must be a power of two.
#version 450

#include "mathf.glsl"

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
// The term, as a specialization constant so that each term is its own
// pipeline without a run-time switch.
layout(constant_id = 3) const uint OP = 0;

layout(std430, set = 0, binding = 0) readonly buffer BufX { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufT { float t[]; };
layout(std430, set = 0, binding = 2) buffer BufOut { float o[]; };
// NLL's fault slots (kernels/vulkan/fault.go): faults[slot] gets ~row of
// the first row whose target is not a class index, 0 while none is.
layout(std430, set = 0, binding = 3) buffer Faults { uint faults[]; };

layout(push_constant) uniform Push {
	uint n;
	uint c;   // NLL: classes per row
	uint acc; // add into out instead of overwriting
	float s;
	float eps;  // POISSON's
	uint slot;  // NLL's fault slot
} pc;

const uint SUM = 0; // x
const uint SQ = 1;  // x²
const uint ABS = 2; // |x|
const uint BCE = 3; // −(t·max(log x, −100) + (1−t)·max(log(1−x), −100))
const uint MSE = 4; // (x − t)²
const uint NLL = 5; // −x[i·c + t[i]], i over n rows; a bad class adds 0 and is reported
const uint BCE_LOGITS = 6;  // max(x, 0) − t·x + log1p(exp(−|x|)), BCE of σ(x)
const uint POISSON_LOG = 7; // exp(x) − t·x (x the log rate)
const uint POISSON = 8;     // x − t·log(x + eps) (x the rate)

shared float red[gl_WorkGroupSize.x];

float term(uint i) {
	switch (OP) {
	case SQ:
		return x[i] * x[i];
	case ABS:
		return abs(x[i]);
	case BCE: {
		const float p = x[i];
		const float y = t[i];
		return -(y * max(log(p), -100.0) + (1.0 - y) * max(log(1.0 - p), -100.0));
	}
	case MSE: {
		const float d = x[i] - t[i];
		return d * d;
	}
	case NLL: {
		// kernels.ClassIndex: an integer in [0, c); NaN fails too.
		const float k = t[i];
		if (!(k >= 0.0 && k < float(pc.c) && k == floor(k))) {
			atomicMax(faults[pc.slot], ~i);
			return 0.0;
		}
		return -x[i * pc.c + uint(k)];
	}
	case BCE_LOGITS: {
		// The doc's (1 − t)·x + m + log(exp(−m) + exp(−x − m)), m =
		// max(−x, 0), with the two cases of m written out: one exp.
		const float v = x[i];
		return softplusf(v) - t[i] * v;
	}
	case POISSON_LOG: {
		const float v = x[i];
		return expf(v) - t[i] * v;
	}
	case POISSON: {
		const float v = x[i];
		return v - t[i] * log(v + pc.eps);
	}
	default:
		return x[i];
	}
}

void main() {
	const uint lid = gl_LocalInvocationID.x;
	const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	float s = 0.0;
	for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
		s += term(i);
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
		const uint g = gl_WorkGroupID.x;
		o[g] = (pc.acc != 0 ? o[g] : 0.0) + pc.s * red[0];
	}
}
