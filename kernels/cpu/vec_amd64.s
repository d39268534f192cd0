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

// func dot4AVX(b, a0, a1, a2, a3 []float32) (s0, s1, s2, s3 float32)
TEXT ·dot4AVX(SB), NOSPLIT, $0-136
	MOVQ   b_base+0(FP), SI
	MOVQ   b_len+8(FP), CX
	MOVQ   a0_base+24(FP), R8
	MOVQ   a1_base+48(FP), R9
	MOVQ   a2_base+72(FP), R10
	MOVQ   a3_base+96(FP), R11
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-16, DX

dot4x16:
	CMPQ        AX, DX
	JGE         dot4x8start
	VMOVUPS     (SI)(AX*4), Y8
	VMOVUPS     32(SI)(AX*4), Y9
	VFMADD231PS (R8)(AX*4), Y8, Y0
	VFMADD231PS 32(R8)(AX*4), Y9, Y4
	VFMADD231PS (R9)(AX*4), Y8, Y1
	VFMADD231PS 32(R9)(AX*4), Y9, Y5
	VFMADD231PS (R10)(AX*4), Y8, Y2
	VFMADD231PS 32(R10)(AX*4), Y9, Y6
	VFMADD231PS (R11)(AX*4), Y8, Y3
	VFMADD231PS 32(R11)(AX*4), Y9, Y7
	ADDQ        $16, AX
	JMP         dot4x16

dot4x8start:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JGE  dot4reduce
	VMOVUPS     (SI)(AX*4), Y8
	VFMADD231PS (R8)(AX*4), Y8, Y0
	VFMADD231PS (R9)(AX*4), Y8, Y1
	VFMADD231PS (R10)(AX*4), Y8, Y2
	VFMADD231PS (R11)(AX*4), Y8, Y3
	ADDQ        $8, AX

dot4reduce:
	// Y8 = lane sums [s0 s1 s2 s3] of each 128-bit half, then X8 = both
	// halves added; X0…X3 take s0…s3 in their low lanes.
	VADDPS       Y4, Y0, Y0
	VADDPS       Y5, Y1, Y1
	VADDPS       Y6, Y2, Y2
	VADDPS       Y7, Y3, Y3
	VHADDPS      Y1, Y0, Y8
	VHADDPS      Y3, Y2, Y9
	VHADDPS      Y9, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPS       X9, X8, X8
	VMOVAPS      X8, X0
	VPERMILPS    $0x55, X8, X1
	VPERMILPS    $0xAA, X8, X2
	VPERMILPS    $0xFF, X8, X3

dot4x1:
	CMPQ        AX, CX
	JGE         dot4done
	VMOVSS      (SI)(AX*4), X9
	VFMADD231SS (R8)(AX*4), X9, X0
	VFMADD231SS (R9)(AX*4), X9, X1
	VFMADD231SS (R10)(AX*4), X9, X2
	VFMADD231SS (R11)(AX*4), X9, X3
	INCQ        AX
	JMP         dot4x1

dot4done:
	VZEROUPPER
	MOVSS X0, s0+120(FP)
	MOVSS X1, s1+124(FP)
	MOVSS X2, s2+128(FP)
	MOVSS X3, s3+132(FP)
	RET

// func convTapsAVX(out, src []float32, offs []int, w []float32, b float32)
TEXT ·convTapsAVX(SB), NOSPLIT, $0-100
	MOVQ         out_base+0(FP), DI
	MOVQ         out_len+8(FP), CX
	MOVQ         src_base+24(FP), SI
	MOVQ         offs_base+48(FP), R8
	MOVQ         offs_len+56(FP), R9
	MOVQ         w_base+72(FP), R10
	VBROADCASTSS b+96(FP), Y15
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-64, DX

conv64:
	CMPQ    AX, DX
	JGE     conv8start
	VMOVAPS Y15, Y0
	VMOVAPS Y15, Y1
	VMOVAPS Y15, Y2
	VMOVAPS Y15, Y3
	VMOVAPS Y15, Y4
	VMOVAPS Y15, Y5
	VMOVAPS Y15, Y6
	VMOVAPS Y15, Y7
	LEAQ    (SI)(AX*4), R11
	XORQ    BX, BX

conv64taps:
	CMPQ         BX, R9
	JGE          conv64store
	MOVQ         (R8)(BX*8), R12
	VBROADCASTSS (R10)(BX*4), Y8
	LEAQ         (R11)(R12*4), R13
	VFMADD231PS  (R13), Y8, Y0
	VFMADD231PS  32(R13), Y8, Y1
	VFMADD231PS  64(R13), Y8, Y2
	VFMADD231PS  96(R13), Y8, Y3
	VFMADD231PS  128(R13), Y8, Y4
	VFMADD231PS  160(R13), Y8, Y5
	VFMADD231PS  192(R13), Y8, Y6
	VFMADD231PS  224(R13), Y8, Y7
	INCQ         BX
	JMP          conv64taps

conv64store:
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	VMOVUPS Y4, 128(DI)(AX*4)
	VMOVUPS Y5, 160(DI)(AX*4)
	VMOVUPS Y6, 192(DI)(AX*4)
	VMOVUPS Y7, 224(DI)(AX*4)
	ADDQ    $64, AX
	JMP     conv64

conv8start:
	MOVQ CX, DX
	ANDQ $-8, DX

conv8:
	CMPQ    AX, DX
	JGE     conv1
	VMOVAPS Y15, Y0
	LEAQ    (SI)(AX*4), R11
	XORQ    BX, BX

conv8taps:
	CMPQ         BX, R9
	JGE          conv8store
	MOVQ         (R8)(BX*8), R12
	VBROADCASTSS (R10)(BX*4), Y8
	VFMADD231PS  (R11)(R12*4), Y8, Y0
	INCQ         BX
	JMP          conv8taps

conv8store:
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     conv8

conv1:
	CMPQ   AX, CX
	JGE    convdone
	VMOVSS b+96(FP), X0
	LEAQ   (SI)(AX*4), R11
	XORQ   BX, BX

conv1taps:
	CMPQ        BX, R9
	JGE         conv1store
	MOVQ        (R8)(BX*8), R12
	VMOVSS      (R10)(BX*4), X8
	VFMADD231SS (R11)(R12*4), X8, X0
	INCQ        BX
	JMP         conv1taps

conv1store:
	VMOVSS X0, (DI)(AX*4)
	INCQ   AX
	JMP    conv1

convdone:
	VZEROUPPER
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
