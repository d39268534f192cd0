// 2-D convolution forward, tiled direct: y[N,O,Ho,Wo] = conv(x[N,C,H,W],
// w[O,C,KH,KW]) + bias[O], zero padding.
//
// Work-group (tile, oblk, n) computes a TH×TW tile of output pixels
// (TW = local_size_x, TH = local_size_y; one pixel per invocation) for
// OB consecutive output channels (register blocking: each input value
// loaded is used OB times). For each input channel the input tile plus
// its halo, ((TH−1)·SH+KH) × ((TW−1)·SW+KW), and the OB·KH·KW weights
// are staged in shared memory. When they do not fit (USE_SHARED false,
// decided by the host from the same limits) the invocation reads
// global memory directly instead.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const uint OB = 8;
layout(constant_id = 4) const bool USE_SHARED = true;

// Shared-memory capacity in floats; the host mirrors these limits.
const uint TILE_MAX = 3072;
const uint WMAX = 1024;

layout(std430, set = 0, binding = 0) readonly buffer BufX { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufW { float w[]; };
layout(std430, set = 0, binding = 2) readonly buffer BufB { float bias[]; };
layout(std430, set = 0, binding = 3) writeonly buffer BufY { float y[]; };

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
	uint tilesX; // output tiles along Wo
	uint hasBias;
} pc;

shared float tile[TILE_MAX];
shared float wt[WMAX];

void main() {
	const uint TW = gl_WorkGroupSize.x;
	const uint TH = gl_WorkGroupSize.y;
	const uint lx = gl_LocalInvocationID.x;
	const uint ly = gl_LocalInvocationID.y;
	const uint lid = ly * TW + lx;
	const uint nthreads = TW * TH;
	const uint tileY = gl_WorkGroupID.x / pc.tilesX;
	const uint tileX = gl_WorkGroupID.x - tileY * pc.tilesX;
	const uint o0 = gl_WorkGroupID.y * OB;
	const uint n = gl_WorkGroupID.z;
	const uint oh = tileY * TH + ly;
	const uint ow = tileX * TW + lx;
	const bool inside = oh < pc.Ho && ow < pc.Wo;
	const uint nob = min(OB, pc.O - o0);
	const uint taps = pc.KH * pc.KW;
	// Top-left input coordinate of the tile (may be negative: padding).
	const int ih0 = int(tileY * TH * pc.SH) - int(pc.PH);
	const int iw0 = int(tileX * TW * pc.SW) - int(pc.PW);
	const uint IH = (TH - 1) * pc.SH + pc.KH;
	const uint IW = (TW - 1) * pc.SW + pc.KW;

	float acc[OB];
	for (uint j = 0; j < OB; j++) {
		acc[j] = 0.0;
	}

	for (uint c = 0; c < pc.C; c++) {
		const uint xplane = (n * pc.C + c) * pc.H * pc.W;
		if (USE_SHARED) {
			barrier(); // previous channel's reads are done
			for (uint e = lid; e < IH * IW; e += nthreads) {
				const uint r = e / IW;
				const int gh = ih0 + int(r);
				const int gw = iw0 + int(e - r * IW);
				float v = 0.0;
				if (gh >= 0 && gh < int(pc.H) && gw >= 0 && gw < int(pc.W)) {
					v = x[xplane + uint(gh) * pc.W + uint(gw)];
				}
				tile[e] = v;
			}
			for (uint e = lid; e < nob * taps; e += nthreads) {
				const uint j = e / taps;
				wt[e] = w[((o0 + j) * pc.C + c) * taps + e - j * taps];
			}
			barrier();
			if (inside) {
				for (uint kh = 0; kh < pc.KH; kh++) {
					const uint rowBase = (ly * pc.SH + kh) * IW + lx * pc.SW;
					for (uint kw = 0; kw < pc.KW; kw++) {
						const float v = tile[rowBase + kw];
						const uint t = kh * pc.KW + kw;
						for (uint j = 0; j < OB; j++) {
							if (j < nob) {
								acc[j] = fma(v, wt[j * taps + t], acc[j]);
							}
						}
					}
				}
			}
		} else if (inside) {
			for (uint kh = 0; kh < pc.KH; kh++) {
				const int gh = int(oh * pc.SH + kh) - int(pc.PH);
				if (gh < 0 || gh >= int(pc.H)) {
					continue;
				}
				for (uint kw = 0; kw < pc.KW; kw++) {
					const int gw = int(ow * pc.SW + kw) - int(pc.PW);
					if (gw < 0 || gw >= int(pc.W)) {
						continue;
					}
					const float v = x[xplane + uint(gh) * pc.W + uint(gw)];
					const uint t = kh * pc.KW + kw;
					for (uint j = 0; j < OB; j++) {
						if (j < nob) {
							acc[j] = fma(v, w[((o0 + j) * pc.C + c) * taps + t], acc[j]);
						}
					}
				}
			}
		}
	}

	if (inside) {
		for (uint j = 0; j < OB; j++) {
			if (j < nob) {
				const uint o = o0 + j;
				const float b = pc.hasBias != 0 ? bias[o] : 0.0;
				y[((n * pc.O + o) * pc.Ho + oh) * pc.Wo + ow] = acc[j] + b;
			}
		}
	}
}
