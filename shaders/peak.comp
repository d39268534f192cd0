// FP32 peak, after vkpeak: each invocation runs eight independent vec4
// multiply-add chains (32 FMAs, 64 flops per iteration), enough
// independent work to hide the FMA latency, and writes their sum so the
// compiler must keep them. The chains x ← a·x + b converge towards
// b/(1−a); the host checks y against the same recurrence on the CPU.
// The iteration count stays below lavapipe's 65535-iteration loop limit
// (see matmul.comp).
#version 450

layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) writeonly buffer Out { float y[]; };

layout(push_constant) uniform Push {
	uint n;
	uint iters;
	float a;
	float b;
} pc;

void main() {
	const uint i = gl_GlobalInvocationID.x;
	if (i >= pc.n) {
		return;
	}
	const float s = float(i % 16u) * 0.0625;
	const vec4 r = vec4(s, s + 0.01, s + 0.02, s + 0.03);
	vec4 r0 = r, r1 = r + 0.1, r2 = r + 0.2, r3 = r + 0.3;
	vec4 r4 = r + 0.4, r5 = r + 0.5, r6 = r + 0.6, r7 = r + 0.7;
	const vec4 a = vec4(pc.a);
	const vec4 b = vec4(pc.b);
	for (uint it = 0; it < pc.iters; it++) {
		r0 = fma(r0, a, b);
		r1 = fma(r1, a, b);
		r2 = fma(r2, a, b);
		r3 = fma(r3, a, b);
		r4 = fma(r4, a, b);
		r5 = fma(r5, a, b);
		r6 = fma(r6, a, b);
		r7 = fma(r7, a, b);
	}
	const vec4 t = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
	y[i] = (t.x + t.y) + (t.z + t.w);
}
