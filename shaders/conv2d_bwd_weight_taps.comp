// 2-D convolution backward with respect to the weights, first pass, for
// kernels of at most 64 taps (the geometry KH, KW, SH, SW is
// specialised): dw[o,c,kh,kw] = Σ_{n,oh,ow} dy[n,o,oh,ow]·x[n,c,oh·SH+kh−PH, ow·SW+kw−PW].
// The output positions are taken in segments of PX adjacent pixels of a
// row; work-group (g, o·C + c) reduces the g-th chunk of the N·Ho·⌈Wo/PX⌉
// segments for all KH·KW taps of filter (o, c) at once. Per segment and
// kernel row an invocation loads the (PX−1)·SW+KW input values its
// pixels share into registers and keeps one accumulator per tap, so
// loads and index arithmetic are shared by all taps and pixels.
// The per-invocation sums go to shared memory and invocation t adds up
// tap t; part[((o·C + c)·KH·KW + t)·G + g] gets the chunk's sum, and
// bias_grad.comp sums the chunks as for conv2d_bwd_weight.comp.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const uint KH = 3;
layout(constant_id = 4) const uint KW = 3;
layout(constant_id = 5) const uint SH = 1;
layout(constant_id = 6) const uint SW = 1;
layout(constant_id = 7) const uint PX = 1;
const uint KT = KH * KW;
const uint RW = (PX - 1) * SW + KW;

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
	uint PH;
	uint PW;
	uint segW;  // segments per output row, ⌈Wo/PX⌉
	uint chunk; // segments per group
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
	const uint segPlane = pc.Ho * pc.segW;
	const uint total = pc.N * segPlane;
	const uint begin = g * pc.chunk;
	const uint end = min(total, begin + pc.chunk);

	float acc[KT];
	for (uint t = 0; t < KT; t++) {
		acc[t] = 0.0;
	}
	for (uint q = begin + lid; q < end; q += wg) {
		const uint n = q / segPlane;
		const uint r = q - n * segPlane;
		const uint oh = r / pc.segW;
		const uint ow0 = (r - oh * pc.segW) * PX;
		const uint dyRow = (n * pc.O + o) * hw + oh * pc.Wo;
		float d[PX];
		for (uint i = 0; i < PX; i++) {
			d[i] = ow0 + i < pc.Wo ? dy[dyRow + ow0 + i] : 0.0;
		}
		const uint xplane = (n * pc.C + c) * pc.H * pc.W;
		const int ih0 = int(oh * SH) - int(pc.PH);
		const int iw0 = int(ow0 * SW) - int(pc.PW);
		for (uint kh = 0; kh < KH; kh++) {
			const int ih = ih0 + int(kh);
			if (ih < 0 || ih >= int(pc.H)) {
				continue;
			}
			const uint rowBase = xplane + uint(ih) * pc.W;
			float row[RW];
			for (uint k = 0; k < RW; k++) {
				const int iw = iw0 + int(k);
				row[k] = iw >= 0 && iw < int(pc.W) ? x[rowBase + uint(iw)] : 0.0;
			}
			for (uint kw = 0; kw < KW; kw++) {
				for (uint i = 0; i < PX; i++) {
					acc[kh * KW + kw] = fma(d[i], row[i * SW + kw], acc[kh * KW + kw]);
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
