// Element-wise ops over n elements, one shader whose op is the
// specialization constant OP (one pipeline per op; a push-constant
// switch would make CPU drivers run every case under a mask). Bindings:
// a, b inputs and out output; out may be the same buffer as a or b (the
// ops below read element i before writing element i only). Unused
// inputs are bound to any buffer, as is faults for every op but NLL_BWD.
#version 450

#include "mathf.glsl"

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const uint OP = 0;

layout(std430, set = 0, binding = 0) buffer BufA { float a[]; };
layout(std430, set = 0, binding = 1) buffer BufB { float b[]; };
// b as the bits of uints: DROPOUT's step state, whose step count is an
// integer stored in a float's bits (kernels.StepCount).
layout(std430, set = 0, binding = 1) readonly buffer BufBU { uint bu[]; };
layout(std430, set = 0, binding = 2) buffer BufOut { float o[]; };
// NLL_BWD's fault slots (kernels/vulkan/fault.go): faults[p1] gets ~row
// of the first row whose target is not a class index, 0 while none is.
layout(std430, set = 0, binding = 3) buffer Faults { uint faults[]; };

layout(push_constant) uniform Push {
	uint n;
	uint p0; // integer parameters, per op below
	uint p1;
	float s; // float parameters, per op below
	float s2;
} pc;

const uint RELU = 0;            // o = max(a, 0)
const uint RELU_BWD = 1;        // o = b > 0 ? a : 0            (a = dy, b = y)
const uint SIGMOID = 2;         // o = 1/(1+exp(-a))
const uint SIGMOID_BWD = 3;     // o = a·b·(1−b)                (a = dy, b = y)
const uint BCE_BWD = 4;         // o = s·(a−b)/max(a(1−a), 1e-12) (a = p, b = t, s = 1/n)
const uint MSE_BWD = 5;         // o = s·(a−b)                  (s = 2/n)
const uint ADD_SCALED = 6;      // o += s·a                     (L2 grad: s = 2·coef)
const uint ADD_SIGN = 7;        // o += s·sign(a)               (L1 grad: s = coef)
const uint NLL_BWD = 8;         // o[i] = s if i%p0 == b[i/p0] else 0 (p0 = C, s = −1/N, p1 = fault slot)
const uint ADD_BIAS = 9;        // o = a + b[(i/p0) % p1]       (p0 = inner, p1 = F)
const uint TANH = 10;           // o = tanh(a)
const uint TANH_BWD = 11;       // o = a·(1−b)(1+b)             (a = dy, b = y)
const uint ELU = 12;            // o = a > 0 ? a : s·expm1(a)   (s = alpha)
const uint ELU_BWD = 13;        // o = b > 0 ? a : a·(s·exp(b)) (a = dy, b = x, s = alpha)
const uint SOFTPLUS = 14;       // o = s·a > s2 ? a : softplus(s·a)/s (s = beta, s2 = threshold)
const uint SOFTPLUS_BWD = 15;   // o = s·b > s2 ? a : a·σ(s·b)  (a = dy, b = x)
const uint DROPOUT = 16;        // o = a·(kept(i) ? s : 0)      (b = step state, p0 = threshold, p1 = seed, s = scale)
const uint BCE_LOGITS_BWD = 17; // o = s·(σ(a) − b)             (a = x, b = t, s = 1/n)
const uint POISSON_LOG_BWD = 18; // o = s·(exp(a) − b)          (a = log rate, b = t, s = 1/n)
const uint POISSON_BWD = 19;    // o = s·(1 − b/(a + s2))       (a = rate, b = t, s = 1/n, s2 = eps)

// kernels.StepCount, the step state's step number.
const uint STEP_COUNT = 5;

// addBias is ADD_BIAS. It tracks i's position k inside its row of
// length inner and the bias index j incrementally across the
// grid-stride loop, so that there is one integer division per
// invocation rather than two per element (CPU drivers have no vector
// integer division).
void addBias() {
	const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	const uint inner = pc.p0;
	const uint f = pc.p1;
	const uint dq = stride / inner;
	const uint dk = stride - dq * inner;
	const uint dj = dq % f;
	uint i = gl_GlobalInvocationID.x;
	const uint q = i / inner;
	uint k = i - q * inner;
	uint j = q % f;
	for (; i < pc.n; i += stride) {
		o[i] = a[i] + b[j];
		k += dk;
		uint carry = 0;
		if (k >= inner) {
			k -= inner;
			carry = 1;
		}
		j += dj + carry;
		if (j >= f) {
			j -= f;
		}
	}
}

// hash32 is kernels' hash32 (Chris Wellons' lowbias32); uint arithmetic
// wraps as Go's uint32 does.
uint hash32(uint x) {
	x ^= x >> 16;
	x *= 0x7feb352du;
	x ^= x >> 15;
	x *= 0x846ca68bu;
	x ^= x >> 16;
	return x;
}

// dropout is DROPOUT: element i is kept when kernels.DropoutElemHash(key,
// i) ≥ p0, key = kernels.DropoutKey(seed, t) for the step t in the step
// state. Dropped elements are multiplied by 0, as PyTorch's x·mask, so a
// NaN or Inf input stays visible; with p ≥ 1 the host passes s = 0.
void dropout() {
	const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	const uint key = hash32(bu[STEP_COUNT] + hash32(pc.p1));
	for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
		o[i] = a[i] * (hash32(i + key) >= pc.p0 ? pc.s : 0.0);
	}
}

void main() {
	if (OP == ADD_BIAS) {
		addBias();
		return;
	}
	if (OP == DROPOUT) {
		dropout();
		return;
	}
	const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride) {
		switch (OP) {
		case RELU:
			o[i] = a[i] > 0.0 ? a[i] : 0.0;
			break;
		case RELU_BWD: {
			// Both loads unconditional: a load under a condition
			// becomes a masked gather on CPU drivers.
			const float dy = a[i];
			o[i] = b[i] > 0.0 ? dy : 0.0;
			break;
		}
		case SIGMOID:
			o[i] = 1.0 / (1.0 + exp(-a[i]));
			break;
		case SIGMOID_BWD: {
			const float y = b[i];
			o[i] = a[i] * y * (1.0 - y);
			break;
		}
		case BCE_BWD: {
			const float p = a[i];
			o[i] = pc.s * (p - b[i]) / max(p * (1.0 - p), 1e-12);
			break;
		}
		case MSE_BWD:
			o[i] = pc.s * (a[i] - b[i]);
			break;
		case ADD_SCALED:
			o[i] += pc.s * a[i];
			break;
		case ADD_SIGN:
			o[i] += pc.s * sign(a[i]);
			break;
		case NLL_BWD: {
			const uint row = i / pc.p0;
			const uint col = i - row * pc.p0;
			// kernels.ClassIndex: an integer in [0, C); NaN fails too.
			const float t = b[row];
			const bool ok = t >= 0.0 && t < float(pc.p0) && t == floor(t);
			if (!ok && col == 0) {
				atomicMax(faults[pc.p1], ~row);
			}
			o[i] = (ok && uint(t) == col) ? pc.s : 0.0;
			break;
		}
		case TANH:
			o[i] = tanhf(a[i]);
			break;
		case TANH_BWD: {
			// (1 − y)(1 + y), not 1 − y²: near |y| = 1, 1 − y is exact
			// and y·y would cost an ulp of 1, all of 1 − y².
			const float y = b[i];
			o[i] = a[i] * ((1.0 - y) * (1.0 + y));
			break;
		}
		case ELU: {
			const float x = a[i];
			o[i] = x > 0.0 ? x : pc.s * expm1f(min(x, 0.0));
			break;
		}
		case ELU_BWD: {
			const float dy = a[i];
			const float x = b[i];
			o[i] = x > 0.0 ? dy : dy * (pc.s * exp(min(x, 0.0)));
			break;
		}
		case SOFTPLUS: {
			const float x = a[i];
			const float z = pc.s * x;
			o[i] = z > pc.s2 ? x : softplusf(z) / pc.s;
			break;
		}
		case SOFTPLUS_BWD: {
			const float dy = a[i];
			const float z = pc.s * b[i];
			o[i] = z > pc.s2 ? dy : dy * sigmoidf(z);
			break;
		}
		case BCE_LOGITS_BWD:
			o[i] = pc.s * (sigmoidf(a[i]) - b[i]);
			break;
		case POISSON_LOG_BWD:
			o[i] = pc.s * (exp(a[i]) - b[i]);
			break;
		case POISSON_BWD:
			o[i] = pc.s * (1.0 - b[i] / (a[i] + pc.s2));
			break;
		}
	}
}
