// 2-D convolution backward with respect to the input, as a gather:
// dx[n,c,h,w] = Σ_{o,kh,kw} dy[n,o,oh,ow]·w[o,c,kh,kw] over the taps
// with oh·SH + kh − PH = h and ow·SW + kw − PW = w. One invocation per
// input pixel and CB consecutive input channels (register blocking:
// each dy value loaded is used CB times); no atomics, one writer per
// element. Grid: (ceil(H·W / local_size_x), ceil(C / CB), N).
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const uint CB = 4;

layout(std430, set = 0, binding = 0) readonly buffer BufDY { float dy[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufW { float w[]; };
layout(std430, set = 0, binding = 2) writeonly buffer BufDX { float dx[]; };

layout(push_constant) uniform Push {
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
} pc;

void main() {
	const uint p = gl_GlobalInvocationID.x;
	if (p >= pc.H * pc.W) {
		return;
	}
	const uint h = p / pc.W;
	const uint wi = p - h * pc.W;
	const uint c0 = gl_WorkGroupID.y * CB;
	const uint ncb = min(CB, pc.C - c0);
	const uint n = gl_WorkGroupID.z;
	const uint taps = pc.KH * pc.KW;

	float acc[CB];
	for (uint j = 0; j < CB; j++) {
		acc[j] = 0.0;
	}
	for (uint kh = 0; kh < pc.KH; kh++) {
		const int th = int(h + pc.PH) - int(kh);
		if (th < 0 || th % int(pc.SH) != 0) {
			continue;
		}
		const uint oh = uint(th) / pc.SH;
		if (oh >= pc.Ho) {
			continue;
		}
		for (uint kw = 0; kw < pc.KW; kw++) {
			const int tw = int(wi + pc.PW) - int(kw);
			if (tw < 0 || tw % int(pc.SW) != 0) {
				continue;
			}
			const uint ow = uint(tw) / pc.SW;
			if (ow >= pc.Wo) {
				continue;
			}
			const uint t = kh * pc.KW + kw;
			for (uint o = 0; o < pc.O; o++) {
				const float g = dy[((n * pc.O + o) * pc.Ho + oh) * pc.Wo + ow];
				for (uint j = 0; j < CB; j++) {
					if (j < ncb) {
						acc[j] = fma(g, w[(o * pc.C + c0 + j) * taps + t], acc[j]);
					}
				}
			}
		}
	}
	for (uint j = 0; j < CB; j++) {
		if (j < ncb) {
			dx[((n * pc.C + c0 + j) * pc.H + h) * pc.W + wi] = acc[j];
		}
	}
}
