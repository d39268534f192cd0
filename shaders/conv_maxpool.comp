// kernels.Ops.Conv2DMaxPool's pool: one invocation per pooled output
// (n, o, ph, pw) of pooled[N, O, PHo, PWo], grid-stride. Each value of
// its window is the convolution's output at that position: read from
// src = y [N, O, Ho, Wo], or (COMPUTE) computed from src = x [N, C, H, W],
// w and bias on the spot, so that y never reaches memory. With RELU the
// values pass through max(·, 0) first. argmax gets the index oh·Wo + ow
// of the first maximum in the window (row-major scan, strict >), as
// maxpool.comp.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const bool COMPUTE = false;
layout(constant_id = 4) const bool RELU = false;

layout(std430, set = 0, binding = 0) readonly buffer BufSrc { float src[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufW { float w[]; };
layout(std430, set = 0, binding = 2) readonly buffer BufB { float bias[]; };
layout(std430, set = 0, binding = 3) writeonly buffer BufP { float pooled[]; };
layout(std430, set = 0, binding = 4) writeonly buffer BufA { float argmax[]; };

layout(push_constant) uniform Push {
	uint total; // N·O·PHo·PWo
	uint C;
	uint H;
	uint W;
	uint O;
	uint Ho; // the convolution's output
	uint Wo;
	uint KH; // the convolution's kernel, stride and padding
	uint KW;
	uint SH;
	uint SW;
	uint PH;
	uint PW;
	uint PKH; // the pool's window, stride and output
	uint PKW;
	uint PSH;
	uint PSW;
	uint PHo;
	uint PWo;
	uint hasBias;
} pc;

float value(uint n, uint o, uint oh, uint ow) {
	float s;
	if (COMPUTE) {
		s = pc.hasBias != 0 ? bias[o] : 0.0;
		for (uint c = 0; c < pc.C; c++) {
			for (uint kh = 0; kh < pc.KH; kh++) {
				const int ih = int(oh * pc.SH + kh) - int(pc.PH);
				if (ih < 0 || ih >= int(pc.H)) {
					continue;
				}
				for (uint kw = 0; kw < pc.KW; kw++) {
					const int iw = int(ow * pc.SW + kw) - int(pc.PW);
					if (iw >= 0 && iw < int(pc.W)) {
						s += src[((n * pc.C + c) * pc.H + uint(ih)) * pc.W + uint(iw)] * w[((o * pc.C + c) * pc.KH + kh) * pc.KW + kw];
					}
				}
			}
		}
	} else {
		s = src[((n * pc.O + o) * pc.Ho + oh) * pc.Wo + ow];
	}
	return RELU ? (s > 0.0 ? s : 0.0) : s;
}

void main() {
	const uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
	for (uint i = gl_GlobalInvocationID.x; i < pc.total; i += stride) {
		const uint pw = i % pc.PWo;
		uint t = i / pc.PWo;
		const uint ph = t % pc.PHo;
		t /= pc.PHo;
		const uint o = t % pc.O;
		const uint n = t / pc.O;
		const uint h0 = ph * pc.PSH;
		const uint w0 = pw * pc.PSW;
		uint best = h0 * pc.Wo + w0;
		float m = value(n, o, h0, w0);
		for (uint kh = 0; kh < pc.PKH; kh++) {
			for (uint kw = 0; kw < pc.PKW; kw++) {
				if (kh == 0 && kw == 0) {
					continue;
				}
				const float v = value(n, o, h0 + kh, w0 + kw);
				// A NaN wins, as in maxpool.comp.
				if (v > m || isnan(v)) {
					m = v;
					best = (h0 + kh) * pc.Wo + w0 + kw;
				}
			}
		}
		pooled[i] = m;
		argmax[i] = float(best);
	}
}
