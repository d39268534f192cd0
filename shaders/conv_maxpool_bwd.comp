// kernels.Ops.Conv2DMaxPoolBackward's weight and bias gradients from the
// maxima alone: invocation x is weight wi of dw [O, C, KH, KW] (or, past
// them, the bias of filter wi − nw), work-group y a chunk of images. It
// sums, over the chunk's pooled outputs of its filter, dpooled (kept
// where pooled > 0 with RELU) times the input under its tap at the
// maximum's position (1 for a bias), into dwPart[wi·groups + y] or
// dbPart[o·groups + y]; bias_grad.comp adds the chunks. No float
// atomics: each invocation owns its output word.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const bool RELU = false;

layout(std430, set = 0, binding = 0) readonly buffer BufD { float dpooled[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufP { float pooled[]; };
layout(std430, set = 0, binding = 2) readonly buffer BufA { float argmax[]; };
layout(std430, set = 0, binding = 3) readonly buffer BufX { float x[]; };
layout(std430, set = 0, binding = 4) writeonly buffer BufDW { float dwPart[]; };
layout(std430, set = 0, binding = 5) writeonly buffer BufDB { float dbPart[]; };

layout(push_constant) uniform Push {
	uint N;
	uint C;
	uint H;
	uint W;
	uint O;
	uint Ho; // the convolution's output
	uint Wo;
	uint KH;
	uint KW;
	uint SH;
	uint SW;
	uint PH;
	uint PW;
	uint pooledPlane; // PHo·PWo
	uint chunk;       // images per work-group row
	uint groups;
	uint hasBias;
} pc;

void main() {
	const uint taps = pc.C * pc.KH * pc.KW;
	const uint nw = pc.O * taps;
	const uint wi = gl_GlobalInvocationID.x;
	if (wi >= nw + (pc.hasBias != 0 ? pc.O : 0)) {
		return;
	}
	const bool isBias = wi >= nw;
	const uint o = isBias ? wi - nw : wi / taps;
	const uint r = wi % taps;
	const uint c = r / (pc.KH * pc.KW);
	const uint kh = (r / pc.KW) % pc.KH;
	const uint kw = r % pc.KW;
	const uint g = gl_WorkGroupID.y;
	const uint n1 = min(pc.N, (g + 1) * pc.chunk);
	const uint plane = pc.Ho * pc.Wo;
	float s = 0.0;
	for (uint n = g * pc.chunk; n < n1; n++) {
		const uint base = (n * pc.O + o) * pc.pooledPlane;
		for (uint j = 0; j < pc.pooledPlane; j++) {
			const float gv = dpooled[base + j];
			const uint k = uint(argmax[base + j]);
			if ((RELU && !(pooled[base + j] > 0.0)) || k >= plane) {
				continue;
			}
			if (isBias) {
				s += gv;
				continue;
			}
			const int ih = int((k / pc.Wo) * pc.SH + kh) - int(pc.PH);
			const int iw = int((k % pc.Wo) * pc.SW + kw) - int(pc.PW);
			if (ih >= 0 && ih < int(pc.H) && iw >= 0 && iw < int(pc.W)) {
				s += gv * x[((n * pc.C + c) * pc.H + uint(ih)) * pc.W + uint(iw)];
			}
		}
	}
	if (isBias) {
		dbPart[o * pc.groups + g] = s;
	} else {
		dwPart[wi * pc.groups + g] = s;
	}
}
