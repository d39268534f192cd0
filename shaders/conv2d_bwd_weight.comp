// 2-D convolution backward with respect to the weights, first pass:
// dw[o,c,kh,kw] = Σ_{n,oh,ow} dy[n,o,oh,ow]·x[n,c,oh·SH+kh−PH, ow·SW+kw−PW].
// The N·Ho·Wo output positions are split into G chunks; work-group
// (g, wi) reduces chunk g for weight element wi (its invocations stride
// over the chunk, then a shared-memory tree) and writes
// part[wi·G + g]. bias_grad.comp over part viewed as [1, O·C·KH·KW, G]
// then sums the chunks. Work-group size must be a power of two.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;

layout(std430, set = 0, binding = 0) readonly buffer BufDY { float dy[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufX { float x[]; };
layout(std430, set = 0, binding = 2) writeonly buffer BufP { float part[]; };

layout(push_constant) uniform Push {
	uint N;
	uint C;
	uint H;
	uint W;
	uint O;
	uint KH;
	uint KW;
	uint Ho;
	uint Wo;
	uint SH;
	uint SW;
	uint PH;
	uint PW;
	uint chunk; // output positions per group
} pc;

shared float red[gl_WorkGroupSize.x];

void main() {
	const uint lid = gl_LocalInvocationID.x;
	const uint g = gl_WorkGroupID.x;
	const uint wi = gl_WorkGroupID.y;
	const uint kw = wi % pc.KW;
	const uint t1 = wi / pc.KW;
	const uint kh = t1 % pc.KH;
	const uint t2 = t1 / pc.KH;
	const uint c = t2 % pc.C;
	const uint o = t2 / pc.C;
	const uint hw = pc.Ho * pc.Wo;
	const uint total = pc.N * hw;
	const uint begin = g * pc.chunk;
	const uint end = min(total, begin + pc.chunk);

	float s = 0.0;
	for (uint q = begin + lid; q < end; q += gl_WorkGroupSize.x) {
		const uint n = q / hw;
		const uint r = q - n * hw;
		const uint oh = r / pc.Wo;
		const uint ow = r - oh * pc.Wo;
		const int ih = int(oh * pc.SH + kh) - int(pc.PH);
		const int iw = int(ow * pc.SW + kw) - int(pc.PW);
		if (ih >= 0 && ih < int(pc.H) && iw >= 0 && iw < int(pc.W)) {
			s = fma(dy[(n * pc.O + o) * hw + r],
				x[((n * pc.C + c) * pc.H + uint(ih)) * pc.W + uint(iw)], s);
		}
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
		part[wi * gl_NumWorkGroups.x + g] = red[0];
	}
}
