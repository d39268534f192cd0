//go:build amd64 && !purego && !goexperiment.simd

#include "textflag.h"

// AVX2+FMA loops for vec_amd64.go. Each ends with VZEROUPPER: Go's scalar
// float code is SSE, and dirty upper halves slow it down.

// func axpyAVX(y []float32, a float32, x []float32)
TEXT ·axpyAVX(SB), NOSPLIT, $0-56
	MOVQ         y_base+0(FP), DI
	MOVQ         y_len+8(FP), CX
	MOVQ         x_base+32(FP), SI
	VBROADCASTSS a+24(FP), Y0
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-32, DX

axpy32:
	CMPQ        AX, DX
	JGE         axpy8start
	VMOVUPS     (SI)(AX*4), Y1
	VMOVUPS     32(SI)(AX*4), Y2
	VMOVUPS     64(SI)(AX*4), Y3
	VMOVUPS     96(SI)(AX*4), Y4
	VFMADD213PS (DI)(AX*4), Y0, Y1
	VFMADD213PS 32(DI)(AX*4), Y0, Y2
	VFMADD213PS 64(DI)(AX*4), Y0, Y3
	VFMADD213PS 96(DI)(AX*4), Y0, Y4
	VMOVUPS     Y1, (DI)(AX*4)
	VMOVUPS     Y2, 32(DI)(AX*4)
	VMOVUPS     Y3, 64(DI)(AX*4)
	VMOVUPS     Y4, 96(DI)(AX*4)
	ADDQ        $32, AX
	JMP         axpy32

axpy8start:
	MOVQ CX, DX
	ANDQ $-8, DX

axpy8:
	CMPQ        AX, DX
	JGE         axpy1
	VMOVUPS     (SI)(AX*4), Y1
	VFMADD213PS (DI)(AX*4), Y0, Y1
	VMOVUPS     Y1, (DI)(AX*4)
	ADDQ        $8, AX
	JMP         axpy8

axpy1:
	CMPQ        AX, CX
	JGE         axpydone
	VMOVSS      (SI)(AX*4), X1
	VFMADD213SS (DI)(AX*4), X0, X1
	VMOVSS      X1, (DI)(AX*4)
	INCQ        AX
	JMP         axpy1

axpydone:
	VZEROUPPER
	RET

// func dotAVX(x, y []float32) float32
TEXT ·dotAVX(SB), NOSPLIT, $0-52
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-32, DX

dot32:
	CMPQ        AX, DX
	JGE         dot8start
	VMOVUPS     (SI)(AX*4), Y4
	VMOVUPS     32(SI)(AX*4), Y5
	VMOVUPS     64(SI)(AX*4), Y6
	VMOVUPS     96(SI)(AX*4), Y7
	VFMADD231PS (DI)(AX*4), Y4, Y0
	VFMADD231PS 32(DI)(AX*4), Y5, Y1
	VFMADD231PS 64(DI)(AX*4), Y6, Y2
	VFMADD231PS 96(DI)(AX*4), Y7, Y3
	ADDQ        $32, AX
	JMP         dot32

dot8start:
	MOVQ CX, DX
	ANDQ $-8, DX

dot8:
	CMPQ        AX, DX
	JGE         dotreduce
	VMOVUPS     (SI)(AX*4), Y4
	VFMADD231PS (DI)(AX*4), Y4, Y0
	ADDQ        $8, AX
	JMP         dot8

dotreduce:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0

dot1:
	CMPQ        AX, CX
	JGE         dotdone
	VMOVSS      (SI)(AX*4), X1
	VFMADD231SS (DI)(AX*4), X1, X0
	INCQ        AX
	JMP         dot1

dotdone:
	VZEROUPPER
	MOVSS X0, ret+48(FP)
	RET

// func maxWindow8AVX(x []float32, w, kh int) (idx int, ok bool)
TEXT ·maxWindow8AVX(SB), NOSPLIT, $0-49
	MOVQ    x_base+0(FP), SI
	MOVQ    w+24(FP), BX
	MOVQ    BX, R8
	SHLQ    $2, R8
	MOVQ    kh+32(FP), CX
	VMOVUPS (SI), Y0
	VCMPPS  $3, Y0, Y0, Y1 // unordered: NaN lanes
	MOVQ    SI, R9
	MOVQ    $1, DX

maxrows:
	CMPQ    DX, CX
	JGE     maxreduce
	ADDQ    R8, R9
	VMOVUPS (R9), Y2
	VMAXPS  Y2, Y0, Y0
	VCMPPS  $3, Y2, Y2, Y3
	VORPS   Y3, Y1, Y1
	INCQ    DX
	JMP     maxrows

maxreduce:
	VMOVMSKPS  Y1, AX
	TESTL      AX, AX
	JNE        maxnone
	VPERM2F128 $1, Y0, Y0, Y2
	VMAXPS     Y2, Y0, Y0
	VPERMILPS  $0x4E, Y0, Y2
	VMAXPS     Y2, Y0, Y0
	VPERMILPS  $0xB1, Y0, Y2
	VMAXPS     Y2, Y0, Y0
	MOVQ       SI, R9
	XORQ       DX, DX
	XORQ       R10, R10

maxfind:
	CMPQ      DX, CX
	JGE       maxnone
	VCMPPS    $0, (R9), Y0, Y3
	VMOVMSKPS Y3, AX
	TESTL     AX, AX
	JNE       maxfound
	ADDQ      R8, R9
	ADDQ      BX, R10
	INCQ      DX
	JMP       maxfind

maxfound:
	BSFL       AX, AX
	ADDQ       R10, AX
	MOVQ       AX, idx+40(FP)
	MOVB       $1, ok+48(FP)
	VZEROUPPER
	RET

maxnone:
	MOVQ       $0, idx+40(FP)
	MOVB       $0, ok+48(FP)
	VZEROUPPER
	RET

// The lane within its window of each lane of a band's vector: two
// windows of 8 per 512-bit vector.
DATA band8lane<>+0(SB)/4, $0
DATA band8lane<>+4(SB)/4, $1
DATA band8lane<>+8(SB)/4, $2
DATA band8lane<>+12(SB)/4, $3
DATA band8lane<>+16(SB)/4, $4
DATA band8lane<>+20(SB)/4, $5
DATA band8lane<>+24(SB)/4, $6
DATA band8lane<>+28(SB)/4, $7
DATA band8lane<>+32(SB)/4, $0
DATA band8lane<>+36(SB)/4, $1
DATA band8lane<>+40(SB)/4, $2
DATA band8lane<>+44(SB)/4, $3
DATA band8lane<>+48(SB)/4, $4
DATA band8lane<>+52(SB)/4, $5
DATA band8lane<>+56(SB)/4, $6
DATA band8lane<>+60(SB)/4, $7
GLOBL band8lane<>(SB), RODATA|NOPTR, $64

// BAND8 finishes the two windows of one vector of a band: M holds each
// column's maximum over the rows and R the first row reaching it. The
// windows' maxima go to (R11), their keys 8·row + column of the first
// maximum in row-major order (the least key among the columns holding
// the window's maximum) to (DI); both then advance by two.
#define BAND8(M, R) \
	VPERMILPS   $0xB1, M, Z14 \
	VMAXPS      Z14, M, Z14 \
	VPERMILPS   $0x4E, Z14, Z15 \
	VMAXPS      Z15, Z14, Z14 \
	VSHUFF32X4  $0xB1, Z14, Z14, Z15 \
	VMAXPS      Z15, Z14, Z14 \
	VCMPPS      $0, Z14, M, K2 \
	VPSLLD      $3, R, Z16 \
	VPADDD      Z18, Z16, Z16 \
	VMOVDQA32   Z20, Z17 \
	VMOVDQA32   Z16, K2, Z17 \
	VPSHUFD     $0xB1, Z17, Z19 \
	VPMINSD     Z19, Z17, Z17 \
	VPSHUFD     $0x4E, Z17, Z19 \
	VPMINSD     Z19, Z17, Z17 \
	VSHUFI32X4  $0xB1, Z17, Z17, Z19 \
	VPMINSD     Z19, Z17, Z17 \
	VCOMPRESSPS Z14, K4, (R11) \
	VPCOMPRESSD Z17, K4, (DI) \
	ADDQ        $8, R11 \
	ADDQ        $8, DI

// BANDROW folds the row at OFF(SI) into column maxima M and rows R
// (strictly greater only, so the first row of a tie stays), and marks
// NaN lanes in K1.
#define BANDROW(OFF, M, R, L) \
	VMOVUPS   OFF(SI), L \
	VCMPPS    $0x1e, M, L, K2 \
	VMOVAPS   L, K2, M \
	VMOVDQA32 Z8, K2, R \
	VCMPPS    $3, L, L, K3 \
	KORW      K3, K1, K1

// func maxBand8AVX512(x []float32, pitch, kh int, keys *[8]int32, vals *[8]float32) (ok bool)
// The eight adjacent 8-wide windows of kh rows (pitch apart) starting at
// x[0]: each window's maximum in vals and the key 8·r + c of its first
// maximum (row r, column c) in keys; ok false, and keys and vals
// unwritten, when the band holds a NaN.
TEXT ·maxBand8AVX512(SB), NOSPLIT, $0-57
	MOVQ         x_base+0(FP), SI
	MOVQ         pitch+24(FP), R8
	SHLQ         $2, R8
	MOVQ         kh+32(FP), CX
	MOVQ         keys+40(FP), DI
	MOVQ         vals+48(FP), R11
	VMOVUPS      (SI), Z0
	VMOVUPS      64(SI), Z1
	VMOVUPS      128(SI), Z2
	VMOVUPS      192(SI), Z3
	VCMPPS       $3, Z0, Z0, K1
	VCMPPS       $3, Z1, Z1, K3
	KORW         K3, K1, K1
	VCMPPS       $3, Z2, Z2, K3
	KORW         K3, K1, K1
	VCMPPS       $3, Z3, Z3, K3
	KORW         K3, K1, K1
	VPXORD       Z4, Z4, Z4
	VPXORD       Z5, Z5, Z5
	VPXORD       Z6, Z6, Z6
	VPXORD       Z7, Z7, Z7
	VPXORD       Z8, Z8, Z8
	MOVL         $1, AX
	VPBROADCASTD AX, Z9
	MOVQ         $1, DX

bandrows:
	CMPQ    DX, CX
	JGE     bandreduce
	ADDQ    R8, SI
	VPADDD  Z9, Z8, Z8
	BANDROW(0, Z0, Z4, Z10)
	BANDROW(64, Z1, Z5, Z11)
	BANDROW(128, Z2, Z6, Z12)
	BANDROW(192, Z3, Z7, Z13)
	INCQ    DX
	JMP     bandrows

bandreduce:
	KORTESTW     K1, K1
	JNE          bandnan
	VMOVDQU32    band8lane<>(SB), Z18
	MOVL         $0x7fffffff, AX
	VPBROADCASTD AX, Z20
	MOVL         $0x0101, AX
	KMOVW        AX, K4
	BAND8(Z0, Z4)
	BAND8(Z1, Z5)
	BAND8(Z2, Z6)
	BAND8(Z3, Z7)
	MOVB         $1, ok+56(FP)
	VZEROUPPER
	RET

bandnan:
	MOVB $0, ok+56(FP)
	VZEROUPPER
	RET
