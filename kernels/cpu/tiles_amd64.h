// Macros shared by the tile kernels of gemm_amd64.s and conv_amd64.s.

// FOLD512 sums the 16 lanes of Zq to 4 in Xd (Y24/X24 scratch).
#define FOLD512(Zq, Yq, Xq, Xd) \
	VEXTRACTF32X8 $1, Zq, Y24 \
	VADDPS        Y24, Yq, Yq \
	VEXTRACTF32X4 $1, Yq, X24 \
	VADDPS        X24, Xq, Xd

// HSUM4 stores the sums of the 4 lanes of each of x0…x3 at off(DI).
#define HSUM4(x0, x1, x2, x3, off) \
	VHADDPS x1, x0, x0 \
	VHADDPS x3, x2, x2 \
	VHADDPS x2, x0, x0 \
	VMOVUPS x0, off(DI)

// REDUCE24 stores the lane sums of Z0–Z23 at 0–95(DI), Zi at 4i: the end
// of a 24-accumulator AVX-512 tile. The VEX-only VHADDPS cannot name
// X16–X31, so Z16–Z23 fold into X0–X7 after Z0–Z15 are stored.
#define REDUCE24 \
	FOLD512(Z0, Y0, X0, X0) \
	FOLD512(Z1, Y1, X1, X1) \
	FOLD512(Z2, Y2, X2, X2) \
	FOLD512(Z3, Y3, X3, X3) \
	FOLD512(Z4, Y4, X4, X4) \
	FOLD512(Z5, Y5, X5, X5) \
	FOLD512(Z6, Y6, X6, X6) \
	FOLD512(Z7, Y7, X7, X7) \
	FOLD512(Z8, Y8, X8, X8) \
	FOLD512(Z9, Y9, X9, X9) \
	FOLD512(Z10, Y10, X10, X10) \
	FOLD512(Z11, Y11, X11, X11) \
	FOLD512(Z12, Y12, X12, X12) \
	FOLD512(Z13, Y13, X13, X13) \
	FOLD512(Z14, Y14, X14, X14) \
	FOLD512(Z15, Y15, X15, X15) \
	HSUM4(X0, X1, X2, X3, 0) \
	HSUM4(X4, X5, X6, X7, 16) \
	HSUM4(X8, X9, X10, X11, 32) \
	HSUM4(X12, X13, X14, X15, 48) \
	FOLD512(Z16, Y16, X16, X0) \
	FOLD512(Z17, Y17, X17, X1) \
	FOLD512(Z18, Y18, X18, X2) \
	FOLD512(Z19, Y19, X19, X3) \
	FOLD512(Z20, Y20, X20, X4) \
	FOLD512(Z21, Y21, X21, X5) \
	FOLD512(Z22, Y22, X22, X6) \
	FOLD512(Z23, Y23, X23, X7) \
	HSUM4(X0, X1, X2, X3, 64) \
	HSUM4(X4, X5, X6, X7, 80)

// FOLD256 sums the 8 lanes of Yq to 4 in Xq (X15 scratch).
#define FOLD256(Yq, Xq) \
	VEXTRACTF128 $1, Yq, X15 \
	VADDPS       X15, Xq, Xq

// REDUCE12 stores the lane sums of Y0–Y11 at 0–47(DI): the end of a
// 12-accumulator AVX2 tile.
#define REDUCE12 \
	FOLD256(Y0, X0) \
	FOLD256(Y1, X1) \
	FOLD256(Y2, X2) \
	FOLD256(Y3, X3) \
	FOLD256(Y4, X4) \
	FOLD256(Y5, X5) \
	FOLD256(Y6, X6) \
	FOLD256(Y7, X7) \
	FOLD256(Y8, X8) \
	FOLD256(Y9, X9) \
	FOLD256(Y10, X10) \
	FOLD256(Y11, X11) \
	HSUM4(X0, X1, X2, X3, 0) \
	HSUM4(X4, X5, X6, X7, 16) \
	HSUM4(X8, X9, X10, X11, 32)

// NEXTROW sets next to prev + AX (a row stride), or to prev when the row
// count in CX is at most n: the clamped row pointers of a tile whose
// rows past the count repeat the last.
#define NEXTROW(prev, next, n) \
	LEAQ    (prev)(AX*1), next \
	CMPQ    CX, $n \
	CMOVQLE prev, next

// ZERO24 clears the accumulators Z0–Z23 of a 24-accumulator AVX-512 tile.
#define ZERO24 \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1 \
	VPXORD Z2, Z2, Z2 \
	VPXORD Z3, Z3, Z3 \
	VPXORD Z4, Z4, Z4 \
	VPXORD Z5, Z5, Z5 \
	VPXORD Z6, Z6, Z6 \
	VPXORD Z7, Z7, Z7 \
	VPXORD Z8, Z8, Z8 \
	VPXORD Z9, Z9, Z9 \
	VPXORD Z10, Z10, Z10 \
	VPXORD Z11, Z11, Z11 \
	VPXORD Z12, Z12, Z12 \
	VPXORD Z13, Z13, Z13 \
	VPXORD Z14, Z14, Z14 \
	VPXORD Z15, Z15, Z15 \
	VPXORD Z16, Z16, Z16 \
	VPXORD Z17, Z17, Z17 \
	VPXORD Z18, Z18, Z18 \
	VPXORD Z19, Z19, Z19 \
	VPXORD Z20, Z20, Z20 \
	VPXORD Z21, Z21, Z21 \
	VPXORD Z22, Z22, Z22 \
	VPXORD Z23, Z23, Z23

// DOTAROWS loads the four clamped row pointers of a dot tile's a into SI,
// DI, R8 and R9 (the dot kernels' a, lda and ra arguments).
#define DOTAROWS \
	MOVQ    a_base+8(FP), SI \
	MOVQ    lda+32(FP), AX \
	SHLQ    $2, AX \
	MOVQ    ra+40(FP), CX \
	NEXTROW(SI, DI, 1) \
	NEXTROW(DI, R8, 2) \
	NEXTROW(R8, R9, 3)

// DOTBROWS starts a dot tile's b rows: the first in R10, AX its stride in
// bytes and CX its row count, for NEXTROW to clamp the rest.
#define DOTBROWS \
	MOVQ    b_base+48(FP), R10 \
	MOVQ    ldb+72(FP), AX \
	SHLQ    $2, AX \
	MOVQ    rb+80(FP), CX
