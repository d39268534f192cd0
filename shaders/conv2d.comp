// 2-D convolution forward, tiled direct: y[N,O,Ho,Wo] = conv(x[N,C,H,W],
// w[O,C,KH,KW]) + bias[O], zero padding.
//
// Work-group (tile, oblk, n) computes a TH × (TW·PX) tile of output
// pixels (TW = local_size_x, TH = local_size_y) for OB consecutive output
// channels. Each invocation owns PX adjacent pixels of one output row
// and all OB channels: per kernel row it loads the (PX−1)·SW+KW input
// values that its pixels share into registers, then each weight it
// reads serves PX pixels and each input value up to PX·OB products.
// For each input channel, the input tile plus halo and the OB·KH·KW
// weights are staged in shared memory; when they do not fit (USE_SHARED
// false, decided by the host from the same limits) invocations read
// global memory directly. The kernel geometry is specialised (KH, KW,
// SH, SW) so that the tap loops unroll and the register arrays are sized
// at pipeline creation.
//
// With TRANSPOSED set the same kernel computes the stride-1 input
// gradient dx = conv(dy, w flipped and transposed): x is dy (pc.C = O
// channels), y is dx (pc.O = C channels), padding K−1−P, and weight
// (j, c, kh, kw) is read from w[c, j, KH−1−kh, KW−1−kw].
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const uint OB = 8;
layout(constant_id = 4) const bool USE_SHARED = true;
layout(constant_id = 5) const uint KH = 3;
layout(constant_id = 6) const uint KW = 3;
layout(constant_id = 7) const uint SH = 1;
layout(constant_id = 8) const uint SW = 1;
layout(constant_id = 9) const uint PX = 1;
layout(constant_id = 10) const bool TRANSPOSED = false;
const uint KT = KH * KW;
const uint RW = (PX - 1) * SW + KW; // input values per invocation and kernel row

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
	uint Ho;
	uint Wo;
	uint PH;
	uint PW;
	uint tilesX; // output tiles along Wo
	uint hasBias;
} pc;

shared float tile[TILE_MAX];
shared float wt[WMAX];

// widx is the index in w of tap t of the filter from input channel c to
// output channel oj.
uint widx(uint oj, uint c, uint t) {
	return TRANSPOSED ? (c * pc.O + oj) * KT + (KT - 1 - t) : (oj * pc.C + c) * KT + t;
}

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
	const uint ow0 = (tileX * TW + lx) * PX;
	const uint nob = min(OB, pc.O - o0);
	// Top-left input coordinate of the work-group's tile and of this
	// invocation's window (negative inside the padding).
	const int ih0 = int(tileY * TH * SH) - int(pc.PH);
	const int iw0 = int(tileX * TW * PX * SW) - int(pc.PW);
	const int myh = int(oh * SH) - int(pc.PH);
	const int myw = int(ow0 * SW) - int(pc.PW);
	const uint IH = (TH - 1) * SH + KH;
	const uint IW = (TW * PX - 1) * SW + KW;

	float acc[OB][PX];
	for (uint j = 0; j < OB; j++) {
		for (uint i = 0; i < PX; i++) {
			acc[j][i] = 0.0;
		}
	}

	for (uint c = 0; c < pc.C; c++) {
		const uint xplane = (n * pc.C + c) * pc.H * pc.W;
		if (USE_SHARED) {
			barrier(); // the previous channel's reads are done
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
			for (uint e = lid; e < nob * KT; e += nthreads) {
				const uint j = e / KT;
				wt[e] = w[widx(o0 + j, c, e - j * KT)];
			}
			barrier();
		}
		for (uint kh = 0; kh < KH; kh++) {
			float row[RW];
			if (USE_SHARED) {
				const uint base = (ly * SH + kh) * IW + lx * PX * SW;
				for (uint r = 0; r < RW; r++) {
					row[r] = tile[base + r];
				}
			} else {
				const int gh = myh + int(kh);
				const bool rowIn = gh >= 0 && gh < int(pc.H);
				for (uint r = 0; r < RW; r++) {
					const int gw = myw + int(r);
					row[r] = rowIn && gw >= 0 && gw < int(pc.W) ? x[xplane + uint(gh) * pc.W + uint(gw)] : 0.0;
				}
			}
			for (uint kw = 0; kw < KW; kw++) {
				for (uint j = 0; j < OB; j++) {
					if (j < nob) {
						const uint wi = j * KT + kh * KW + kw;
						const float wv = USE_SHARED ? wt[wi] : w[widx(o0 + j, c, kh * KW + kw)];
						for (uint i = 0; i < PX; i++) {
							acc[j][i] = fma(row[i * SW + kw], wv, acc[j][i]);
						}
					}
				}
			}
		}
	}

	if (oh < pc.Ho) {
		for (uint j = 0; j < OB; j++) {
			if (j < nob) {
				const uint o = o0 + j;
				const float b = pc.hasBias != 0 ? bias[o] : 0.0;
				const uint yrow = ((n * pc.O + o) * pc.Ho + oh) * pc.Wo;
				for (uint i = 0; i < PX; i++) {
					if (ow0 + i < pc.Wo) {
						y[yrow + ow0 + i] = acc[j][i] + b;
					}
				}
			}
		}
	}
}
