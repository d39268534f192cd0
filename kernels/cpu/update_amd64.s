//go:build amd64 && !purego && !goexperiment.simd

#include "textflag.h"

// ADDSUMS adds the float64 lanes of Y8 and of Y10 to sums[0] and sums[1]
// at (R8): the end of both SGD loops (X9, X11 scratch).
#define ADDSUMS \
	VEXTRACTF128 $1, Y8, X9 \
	VADDPD       X9, X8, X8 \
	VEXTRACTF128 $1, Y10, X11 \
	VADDPD       X11, X10, X10 \
	VHADDPD      X8, X8, X8 \
	VHADDPD      X10, X10, X10 \
	VADDSD       (R8), X8, X8 \
	VMOVSD       X8, (R8) \
	VADDSD       8(R8), X10, X10 \
	VMOVSD       X10, 8(R8)

// The SGD update of Update and LinearWeightUpdate (optim.go): per
// element, in this order and in float32 without fused multiply-adds (as
// updateRule.penalize and apply compute it),
//   g = grad; g += L1·sign(w) (+0 for w = ±0); g += (2L2)·w
//   g += wd·w; momentum: b = g (first step) or mom·buf + damp·g, buf = b,
//   g = g + mom·b (Nesterov) or b; w −= lr·g
// and, with sums, Σ|w| and Σw² of the old w in float64. The flags
// (sgdCoefs) say which terms apply; n is a multiple of the vector width.

// func sgdAVX512(w, g, buf []float32, c *sgdCoefs, sums *[2]float64)
TEXT ·sgdAVX512(SB), NOSPLIT, $0-88
	MOVQ         w_base+0(FP), DI
	MOVQ         w_len+8(FP), CX
	MOVQ         g_base+24(FP), SI
	MOVQ         buf_base+48(FP), DX
	MOVQ         c+72(FP), AX
	MOVQ         sums+80(FP), R8
	VBROADCASTSS 0(AX), Z0  // l1
	VBROADCASTSS 4(AX), Z1  // 2·l2
	VBROADCASTSS 8(AX), Z2  // wd
	VBROADCASTSS 12(AX), Z3 // lr
	VBROADCASTSS 16(AX), Z4 // momentum
	VBROADCASTSS 20(AX), Z5 // 1 − dampening
	MOVL         24(AX), BX // flags
	MOVL         $0x80000000, R9
	MOVD         R9, X6
	VPBROADCASTD X6, Z6     // sign bit
	MOVL         $0x7fffffff, R9
	MOVD         R9, X7
	VPBROADCASTD X7, Z7     // magnitude bits
	VXORPD       Z8, Z8, Z8
	VXORPD       Z9, Z9, Z9
	VXORPD       Z10, Z10, Z10
	VXORPD       Z11, Z11, Z11
	XORQ         AX, AX

s16loop:
	CMPQ    AX, CX
	JGE     s16done
	VMOVUPS (DI)(AX*4), Z12 // w
	VMOVUPS (SI)(AX*4), Z13 // g
	BTL     $5, BX
	JCC     s16nosums
	VANDPS        Z7, Z12, Z14
	VCVTPS2PD     Y14, Z15
	VADDPD        Z15, Z8, Z8
	VEXTRACTF32X8 $1, Z14, Y16
	VCVTPS2PD     Y16, Z16
	VADDPD        Z16, Z9, Z9
	VCVTPS2PD     Y12, Z17
	VFMADD231PD   Z17, Z17, Z10
	VEXTRACTF32X8 $1, Z12, Y18
	VCVTPS2PD     Y18, Z18
	VFMADD231PD   Z18, Z18, Z11

s16nosums:
	BTL       $0, BX
	JCC       s16nol1
	VANDPS    Z6, Z12, Z19
	VXORPS    Z0, Z19, Z19
	VPTESTMD  Z7, Z12, K1
	VMOVAPS.Z Z19, K1, Z19
	VADDPS    Z19, Z13, Z13

s16nol1:
	BTL    $1, BX
	JCC    s16nol2
	VMULPS Z1, Z12, Z20
	VADDPS Z20, Z13, Z13

s16nol2:
	VMULPS Z2, Z12, Z20
	VADDPS Z20, Z13, Z13
	BTL    $2, BX
	JCC    s16step
	BTL    $3, BX
	JCS    s16first
	VMULPS  (DX)(AX*4), Z4, Z21
	VMULPS  Z5, Z13, Z22
	VADDPS  Z22, Z21, Z21
	JMP     s16buf

s16first:
	VMOVAPS Z13, Z21

s16buf:
	VMOVUPS Z21, (DX)(AX*4)
	BTL     $4, BX
	JCS     s16nesterov
	VMOVAPS Z21, Z13
	JMP     s16step

s16nesterov:
	VMULPS Z4, Z21, Z22
	VADDPS Z22, Z13, Z13

s16step:
	VMULPS  Z3, Z13, Z22
	VSUBPS  Z22, Z12, Z12
	VMOVUPS Z12, (DI)(AX*4)
	ADDQ    $16, AX
	JMP     s16loop

s16done:
	VADDPD        Z9, Z8, Z8
	VADDPD        Z11, Z10, Z10
	VEXTRACTF64X4 $1, Z8, Y9
	VADDPD        Y9, Y8, Y8
	VEXTRACTF64X4 $1, Z10, Y11
	VADDPD        Y11, Y10, Y10
	ADDSUMS
	VZEROUPPER
	RET

// func sgdAVX2(w, g, buf []float32, c *sgdCoefs, sums *[2]float64)
// The AVX2 loop: 8 values a step; the L1 term is masked off where the
// magnitude bits compare equal to zero.
TEXT ·sgdAVX2(SB), NOSPLIT, $0-88
	MOVQ         w_base+0(FP), DI
	MOVQ         w_len+8(FP), CX
	MOVQ         g_base+24(FP), SI
	MOVQ         buf_base+48(FP), DX
	MOVQ         c+72(FP), AX
	MOVQ         sums+80(FP), R8
	VBROADCASTSS 0(AX), Y0
	VBROADCASTSS 4(AX), Y1
	VBROADCASTSS 8(AX), Y2
	VBROADCASTSS 12(AX), Y3
	VBROADCASTSS 16(AX), Y4
	VBROADCASTSS 20(AX), Y5
	MOVL         24(AX), BX
	MOVL         $0x80000000, R9
	MOVD         R9, X6
	VPBROADCASTD X6, Y6
	MOVL         $0x7fffffff, R9
	MOVD         R9, X7
	VPBROADCASTD X7, Y7
	VXORPD       Y8, Y8, Y8
	VXORPD       Y9, Y9, Y9
	VXORPD       Y10, Y10, Y10
	VXORPD       Y11, Y11, Y11
	XORQ         AX, AX

s8loop:
	CMPQ    AX, CX
	JGE     s8done
	VMOVUPS (DI)(AX*4), Y12
	VMOVUPS (SI)(AX*4), Y13
	BTL     $5, BX
	JCC     s8nosums
	VANDPS       Y7, Y12, Y14
	VCVTPS2PD    X14, Y15
	VADDPD       Y15, Y8, Y8
	VEXTRACTF128 $1, Y14, X14
	VCVTPS2PD    X14, Y15
	VADDPD       Y15, Y9, Y9
	VCVTPS2PD    X12, Y15
	VFMADD231PD  Y15, Y15, Y10
	VEXTRACTF128 $1, Y12, X14
	VCVTPS2PD    X14, Y15
	VFMADD231PD  Y15, Y15, Y11

s8nosums:
	BTL      $0, BX
	JCC      s8nol1
	VANDPS   Y7, Y12, Y15
	VPXOR    Y14, Y14, Y14
	VPCMPEQD Y14, Y15, Y15
	VANDPS   Y6, Y12, Y14
	VXORPS   Y0, Y14, Y14
	VANDNPS  Y14, Y15, Y14
	VADDPS   Y14, Y13, Y13

s8nol1:
	BTL    $1, BX
	JCC    s8nol2
	VMULPS Y1, Y12, Y14
	VADDPS Y14, Y13, Y13

s8nol2:
	VMULPS Y2, Y12, Y14
	VADDPS Y14, Y13, Y13
	BTL    $2, BX
	JCC    s8step
	BTL    $3, BX
	JCS    s8first
	VMULPS (DX)(AX*4), Y4, Y14
	VMULPS Y5, Y13, Y15
	VADDPS Y15, Y14, Y14
	JMP    s8buf

s8first:
	VMOVAPS Y13, Y14

s8buf:
	VMOVUPS Y14, (DX)(AX*4)
	BTL     $4, BX
	JCS     s8nesterov
	VMOVAPS Y14, Y13
	JMP     s8step

s8nesterov:
	VMULPS Y4, Y14, Y15
	VADDPS Y15, Y13, Y13

s8step:
	VMULPS  Y3, Y13, Y15
	VSUBPS  Y15, Y12, Y12
	VMOVUPS Y12, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     s8loop

s8done:
	VADDPD       Y9, Y8, Y8
	VADDPD       Y11, Y10, Y10
	ADDSUMS
	VZEROUPPER
	RET
