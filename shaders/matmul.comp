// SGEMM: c = alpha·op(a)·op(b) + beta·c, op(x) = xᵀ when trans is set.
// a is M×K (K×M when transA), b is K×N (N×K when transB), c is M×N,
// all row-major. Each work-group computes a BM×BN tile of c, staging
// BK-deep slices of a and b in shared memory; each thread holds a
// TM×TN block of accumulators in registers. Thread (tx, ty) owns rows
// ty + i·(BM/TM) and columns tx + j·(BN/TN), so neighbouring threads
// read neighbouring shared words and store neighbouring columns.
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

shared float As[BK * (BM + PAD)];
shared float Bs[BK * BN];

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
				for (uint c = 0; c < 4; c++) {
					As[kk * lda + r + c] = v[c];
				}
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
					As[(kk + c) * lda + r] = v[c];
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
				As[kk * lda + r] = v;
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
					Bs[(kk + c) * BN + cl] = v[c];
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
				for (uint c = 0; c < 4; c++) {
					Bs[kk * BN + cl + c] = v[c];
				}
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
				Bs[kk * BN + cl] = v;
			}
		}
		barrier();

		for (uint kk = 0; kk < BK; kk++) {
			float ra[TM];
			float rb[TN];
			for (uint i = 0; i < TM; i++) {
				ra[i] = As[kk * lda + ty + i * (BM / TM)];
			}
			for (uint j = 0; j < TN; j++) {
				rb[j] = Bs[kk * BN + tx + j * (BN / TN)];
			}
			for (uint i = 0; i < TM; i++) {
				for (uint j = 0; j < TN; j++) {
					acc[i][j] = fma(ra[i], rb[j], acc[i][j]);
				}
			}
		}
		barrier();
	}

	const uint mn = pc.M * pc.N;
	for (uint i = 0; i < TM; i++) {
		const uint gi = row0 + ty + i * (BM / TM);
		if (gi >= pc.M) {
			continue;
		}
		for (uint j = 0; j < TN; j++) {
			const uint gj = col0 + tx + j * (BN / TN);
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
