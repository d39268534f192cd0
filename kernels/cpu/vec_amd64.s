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
