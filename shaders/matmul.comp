// SGEMM: c = alpha·op(a)·op(b) + beta·c, op(x) = xᵀ when trans is set.
// a is M×K (K×M when transA), b is K×N (N×K when transB), c is M×N,
// all row-major. Each work-group computes a BM×BN tile of c, staging
// BK-deep slices of a and b in shared memory; each thread holds a
// TM×TN block of accumulators in registers (TM, TN multiples of 4).
// Thread (tx, ty) owns rows g·(4·BM/TM) + 4·ty + i and columns
// h·(4·BN/TN) + 4·tx + j (i, j < 4): it reads its operands of each k as
// TM/4 + TN/4 vec4s of shared memory, neighbouring threads reading
// neighbouring vec4s (no bank conflicts, a quarter of the load
// instructions of scalar reads).
//
// Split-K: work-group z covers k in [kBase + z·kChunk, min(K, kBase +
// (z+1)·kChunk)). With split set, it writes its raw partial sum to
// c[z·M·N + i·N + j] (a scratch buffer) and matmul_reduce.comp applies
// alpha and beta. The host bounds kChunk: CPU drivers (llvmpipe) stop
// every loop of an invocation once all its loops together have run
// 65535 iterations, which would silently drop the rest of a deep k.
//
// With VEC_A (VEC_B) set, the tile of a (b) is read four floats at a
// time through a vec4 view of the same buffer, along its contiguous
// axis. The host sets it only when that axis's length is a multiple of
// 4 (then so are the buffer's length and every row start) and kChunk
// and kBase are too, so each vec4 lies wholly inside or outside the
// matrix and the k range.
#version 450

layout(local_size_x_id = 0, local_size_y_id = 1, local_size_z_id = 2) in;
layout(constant_id = 3) const uint BM = 64;
layout(constant_id = 4) const uint BN = 64;
layout(constant_id = 5) const uint BK = 16;
// Transposes are specialization constants: the tile loads are then
// branch-free.
layout(constant_id = 6) const bool TRANS_A = false;
layout(constant_id = 7) const bool TRANS_B = false;
layout(constant_id = 8) const uint TM = 4;
layout(constant_id = 9) const uint TN = 4;
layout(constant_id = 10) const bool VEC_A = false;
layout(constant_id = 11) const bool VEC_B = false;
// Padding the leading dimension of the transposed a tile spreads the
// column-wise stores of a row-major a over the shared-memory banks.
const uint PAD = 4;

layout(std430, set = 0, binding = 0) readonly buffer BufA { float a[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufB { float b[]; };
layout(std430, set = 0, binding = 0) readonly buffer BufA4 { vec4 a4[]; };
layout(std430, set = 0, binding = 1) readonly buffer BufB4 { vec4 b4[]; };
layout(std430, set = 0, binding = 2) buffer BufC { float c[]; };

layout(push_constant) uniform Push {
	uint M;
	uint N;
	uint K;
	float alpha;
	float beta;
	uint kChunk;
	uint split;
	uint kBase;
} pc;

// Shared tiles as vec4 arrays (element e is X4[e / 4][e % 4]) so that
// the multiply loop reads 16 bytes at a time; PAD keeps each As row
// 16-byte aligned.
shared vec4 As4[BK * (BM + PAD) / 4];
shared vec4 Bs4[BK * BN / 4];

void main() {
	const uint nthreads = (BM / TM) * (BN / TN);
	const uint tid = gl_LocalInvocationID.x;
	const uint tx = tid % (BN / TN);
	const uint ty = tid / (BN / TN);
	const uint row0 = gl_WorkGroupID.y * BM;
	const uint col0 = gl_WorkGroupID.x * BN;
	const uint kBegin = pc.kBase + gl_WorkGroupID.z * pc.kChunk;
	const uint kEnd = min(pc.K, kBegin + pc.kChunk);
	const uint lda = BM + PAD;

	float acc[TM][TN];
	for (uint i = 0; i < TM; i++) {
		for (uint j = 0; j < TN; j++) {
			acc[i][j] = 0.0;
		}
	}

	for (uint k0 = kBegin; k0 < kEnd; k0 += BK) {
		// Stage op(a)[row0 : row0+BM, k0 : k0+BK] as As[kk][r], reading
		// along a's contiguous axis, zero outside the matrix.
		if (VEC_A && TRANS_A) {
			// a is K×M: four neighbouring rows r of one k.
			for (uint e = tid; e < BM * BK / 4; e += nthreads) {
				const uint r = 4 * (e % (BM / 4));
				const uint kk = e / (BM / 4);
				const uint gk = k0 + kk;
				vec4 v = vec4(0.0);
				if (row0 + r < pc.M && gk < kEnd) {
					v = a4[(gk * pc.M + row0 + r) / 4];
				}
				As4[(kk * lda + r) / 4] = v;
			}
		} else if (VEC_A) {
			// a is M×K: four neighbouring k of one row r.
			for (uint e = tid; e < BM * BK / 4; e += nthreads) {
				const uint kk = 4 * (e % (BK / 4));
				const uint r = e / (BK / 4);
				const uint gi = row0 + r;
				vec4 v = vec4(0.0);
				if (gi < pc.M && k0 + kk < kEnd) {
					v = a4[(gi * pc.K + k0 + kk) / 4];
				}
				for (uint c = 0; c < 4; c++) {
					const uint w = (kk + c) * lda + r;
					As4[w / 4][w % 4] = v[c];
				}
			}
		} else {
			for (uint e = tid; e < BM * BK; e += nthreads) {
				uint r, kk;
				if (TRANS_A) {
					r = e % BM;
					kk = e / BM;
				} else {
					kk = e % BK;
					r = e / BK;
				}
				const uint gi = row0 + r;
				const uint gk = k0 + kk;
				float v = 0.0;
				if (gi < pc.M && gk < kEnd) {
					v = TRANS_A ? a[gk * pc.M + gi] : a[gi * pc.K + gk];
				}
				const uint w = kk * lda + r;
				As4[w / 4][w % 4] = v;
			}
		}
		// Stage op(b)[k0 : k0+BK, col0 : col0+BN] as Bs[kk][cl].
		if (VEC_B && TRANS_B) {
			// b is N×K: four neighbouring k of one column cl.
			for (uint e = tid; e < BN * BK / 4; e += nthreads) {
				const uint kk = 4 * (e % (BK / 4));
				const uint cl = e / (BK / 4);
				const uint gj = col0 + cl;
				vec4 v = vec4(0.0);
				if (gj < pc.N && k0 + kk < kEnd) {
					v = b4[(gj * pc.K + k0 + kk) / 4];
				}
				for (uint c = 0; c < 4; c++) {
					const uint w = (kk + c) * BN + cl;
					Bs4[w / 4][w % 4] = v[c];
				}
			}
		} else if (VEC_B) {
			// b is K×N: four neighbouring columns of one k.
			for (uint e = tid; e < BN * BK / 4; e += nthreads) {
				const uint cl = 4 * (e % (BN / 4));
				const uint kk = e / (BN / 4);
				const uint gk = k0 + kk;
				vec4 v = vec4(0.0);
				if (col0 + cl < pc.N && gk < kEnd) {
					v = b4[(gk * pc.N + col0 + cl) / 4];
				}
				Bs4[(kk * BN + cl) / 4] = v;
			}
		} else {
			for (uint e = tid; e < BN * BK; e += nthreads) {
				uint cl, kk;
				if (TRANS_B) {
					kk = e % BK;
					cl = e / BK;
				} else {
					cl = e % BN;
					kk = e / BN;
				}
				const uint gj = col0 + cl;
				const uint gk = k0 + kk;
				float v = 0.0;
				if (gj < pc.N && gk < kEnd) {
					v = TRANS_B ? b[gj * pc.K + gk] : b[gk * pc.N + gj];
				}
				const uint w = kk * BN + cl;
				Bs4[w / 4][w % 4] = v;
			}
		}
		barrier();

		for (uint kk = 0; kk < BK; kk++) {
			vec4 ra[TM / 4];
			vec4 rb[TN / 4];
			for (uint g = 0; g < TM / 4; g++) {
				ra[g] = As4[(kk * lda + g * (4 * BM / TM) + 4 * ty) / 4];
			}
			for (uint h = 0; h < TN / 4; h++) {
				rb[h] = Bs4[(kk * BN + h * (4 * BN / TN) + 4 * tx) / 4];
			}
			for (uint g = 0; g < TM / 4; g++) {
				for (uint i = 0; i < 4; i++) {
					for (uint h = 0; h < TN / 4; h++) {
						for (uint j = 0; j < 4; j++) {
							acc[4 * g + i][4 * h + j] = fma(ra[g][i], rb[h][j], acc[4 * g + i][4 * h + j]);
						}
					}
				}
			}
		}
		barrier();
	}

	const uint mn = pc.M * pc.N;
	for (uint i = 0; i < TM; i++) {
		const uint gi = row0 + (i / 4) * (4 * BM / TM) + 4 * ty + i % 4;
		if (gi >= pc.M) {
			continue;
		}
		for (uint j = 0; j < TN; j++) {
			const uint gj = col0 + (j / 4) * (4 * BN / TN) + 4 * tx + j % 4;
			if (gj >= pc.N) {
				continue;
			}
			const uint idx = gi * pc.N + gj;
			if (pc.split != 0) {
				c[gl_WorkGroupID.z * mn + idx] = acc[i][j];
			} else if (pc.beta == 0.0) {
				c[idx] = pc.alpha * acc[i][j];
			} else {
				c[idx] = pc.alpha * acc[i][j] + pc.beta * c[idx];
			}
		}
	}
}
