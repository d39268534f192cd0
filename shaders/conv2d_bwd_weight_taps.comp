// 2-D convolution backward with respect to the weights, first pass, for
// kernels of at most 64 taps (KH, KW are specialization constants):
// dw[o,c,kh,kw] = Σ_{n,oh,ow} dy[n,o,oh,ow]·x[n,c,oh·SH+kh−PH, ow·SW+kw−PW].
// Work-group (g, o·C + c) reduces the g-th chunk of the N·Ho·Wo output
// positions for all KH·KW taps of filter (o, c) at once: each
// invocation loads dy once per position and keeps one accumulator per
// tap in registers, so the index arithmetic is shared by all taps.
// The per-invocation sums go to shared memory and invocation t adds up
// tap t; part[((o·C + c)·KH·KW + t)·G + g] gets the chunk's sum, and
// bias_grad.comp sums the chunks as for conv2d_bwd_weight.comp.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const uint KH = 3;
layout(constant_id = 4) const uint KW = 3;
const uint KT = KH * KW;

layout(std430, set = 0, binding = 0) readonly buffer BufDY { float dy[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufX { float x[]; };
layout(std430, set = 0, binding = 2) writeonly buffer BufP { float part[]; };

layout(push_constant) uniform Push {
	uint N;
	uint C;
	uint H;
	uint W;
	uint O;
	uint Ho;
	uint Wo;
	uint SH;
	uint SW;
	uint PH;
	uint PW;
	uint chunk; // output positions per group
} pc;

shared float red[KT * gl_WorkGroupSize.x];

void main() {
	const uint wg = gl_WorkGroupSize.x;
	const uint lid = gl_LocalInvocationID.x;
	const uint g = gl_WorkGroupID.x;
	const uint oc = gl_WorkGroupID.y;
	const uint c = oc % pc.C;
	const uint o = oc / pc.C;
	const uint hw = pc.Ho * pc.Wo;
	const uint total = pc.N * hw;
	const uint begin = g * pc.chunk;
	const uint end = min(total, begin + pc.chunk);

	float acc[KT];
	for (uint t = 0; t < KT; t++) {
		acc[t] = 0.0;
	}
	for (uint q = begin + lid; q < end; q += wg) {
		const uint n = q / hw;
		const uint r = q - n * hw;
		const uint oh = r / pc.Wo;
		const uint ow = r - oh * pc.Wo;
		const float d = dy[(n * pc.O + o) * hw + r];
		const uint xplane = (n * pc.C + c) * pc.H * pc.W;
		const int ih0 = int(oh * pc.SH) - int(pc.PH);
		const int iw0 = int(ow * pc.SW) - int(pc.PW);
		for (uint kh = 0; kh < KH; kh++) {
			const int ih = ih0 + int(kh);
			if (ih < 0 || ih >= int(pc.H)) {
				continue;
			}
			const uint rowBase = xplane + uint(ih) * pc.W;
			for (uint kw = 0; kw < KW; kw++) {
				const int iw = iw0 + int(kw);
				if (iw >= 0 && iw < int(pc.W)) {
					acc[kh * KW + kw] = fma(d, x[rowBase + uint(iw)], acc[kh * KW + kw]);
				}
			}
		}
	}
	for (uint t = 0; t < KT; t++) {
		red[t * wg + lid] = acc[t];
	}
	barrier();
	for (uint t = lid; t < KT; t += wg) {
		float s = 0.0;
		for (uint l = 0; l < wg; l++) {
			s += red[t * wg + l];
		}
		part[(oc * KT + t) * gl_NumWorkGroups.x + g] = s;
	}
}
