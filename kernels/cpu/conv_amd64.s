//go:build amd64 && !purego && !goexperiment.simd

#include "textflag.h"
#include "tiles_amd64.h"

// Convolution micro-kernels for convfast.go (convKernel), wrapped in
// conv_amd64.go. Each ends with VZEROUPPER: Go's scalar float code is SSE.

// ROWSETUP starts a weight-gradient tile's rows: AX = 0, CX = 4w (the
// first row's end), and in the frame the row length 4w, the last row's
// end 4n and the x pointers' skip per row 4(ldx − w).
#define ROWSETUP \
	MOVQ n+88(FP), AX \
	SHLQ $2, AX \
	MOVQ AX, end-8(SP) \
	MOVQ w+96(FP), CX \
	SHLQ $2, CX \
	MOVQ CX, row-16(SP) \
	MOVQ ldx+104(FP), AX \
	SHLQ $2, AX \
	SUBQ CX, AX \
	MOVQ AX, skip-24(SP) \
	XORQ AX, AX

// NEXTXROW, at the end of a row, jumps to done when it was the last, or
// moves CX to the next row's end and the tap pointers R12, R13, DX, BX
// past the skip and jumps to loop.
#define NEXTXROW(loop, done) \
	CMPQ AX, end-8(SP) \
	JGE  done \
	ADDQ row-16(SP), CX \
	ADDQ skip-24(SP), R12 \
	ADDQ skip-24(SP), R13 \
	ADDQ skip-24(SP), DX \
	ADDQ skip-24(SP), BX \
	JMP  loop

// func corr6x64rows(out []float32, ldo, nf int, src []float32, offs []int, wp []float32, bias *[6]float32, rows, ldor, ldsr int)
// For each tile r < rows (rows ≥ 1), writing out[r·ldor:] from
// src[r·ldsr:]: out[f·ldo+j] = bias[f] + Σ_t wp[6t+f]·src[offs[t]+j] for
// f < nf, j < 64: six output rows of 64 in Z0–Z23 (row f in
// Z4f..Z4f+3), a tap's inputs in Z24–Z27, its weights broadcast in
// Z28–Z31. AX is tile r's out, R9 the bias, R11 the tiles left, R12 and
// R13 the steps 4ldor and 4ldsr. corr6x64 is its one-tile case.
TEXT ·corr6x64rows(SB), NOSPLIT, $0-144
	MOVQ out_base+0(FP), AX
	MOVQ ldo+24(FP), R8
	SHLQ $2, R8
	MOVQ src_base+40(FP), SI
	MOVQ rows+120(FP), R11
	MOVQ ldor+128(FP), R12
	SHLQ $2, R12
	MOVQ ldsr+136(FP), R13
	SHLQ $2, R13

r64row:
	MOVQ offs_base+64(FP), BX
	MOVQ offs_len+72(FP), CX
	MOVQ wp_base+88(FP), DX
	MOVQ bias+112(FP), R9
	VBROADCASTSS 0(R9), Z0
	VMOVAPS      Z0, Z1
	VMOVAPS      Z0, Z2
	VMOVAPS      Z0, Z3
	VBROADCASTSS 4(R9), Z4
	VMOVAPS      Z4, Z5
	VMOVAPS      Z4, Z6
	VMOVAPS      Z4, Z7
	VBROADCASTSS 8(R9), Z8
	VMOVAPS      Z8, Z9
	VMOVAPS      Z8, Z10
	VMOVAPS      Z8, Z11
	VBROADCASTSS 12(R9), Z12
	VMOVAPS      Z12, Z13
	VMOVAPS      Z12, Z14
	VMOVAPS      Z12, Z15
	VBROADCASTSS 16(R9), Z16
	VMOVAPS      Z16, Z17
	VMOVAPS      Z16, Z18
	VMOVAPS      Z16, Z19
	VBROADCASTSS 20(R9), Z20
	VMOVAPS      Z20, Z21
	VMOVAPS      Z20, Z22
	VMOVAPS      Z20, Z23
	TESTQ CX, CX
	JZ    r64store

r64loop:
	MOVQ    (BX), R9
	LEAQ    (SI)(R9*4), R10
	VMOVUPS (R10), Z24
	VMOVUPS 64(R10), Z25
	VMOVUPS 128(R10), Z26
	VMOVUPS 192(R10), Z27
	VBROADCASTSS 0(DX), Z28
	VFMADD231PS  Z24, Z28, Z0
	VFMADD231PS  Z25, Z28, Z1
	VFMADD231PS  Z26, Z28, Z2
	VFMADD231PS  Z27, Z28, Z3
	VBROADCASTSS 4(DX), Z29
	VFMADD231PS  Z24, Z29, Z4
	VFMADD231PS  Z25, Z29, Z5
	VFMADD231PS  Z26, Z29, Z6
	VFMADD231PS  Z27, Z29, Z7
	VBROADCASTSS 8(DX), Z30
	VFMADD231PS  Z24, Z30, Z8
	VFMADD231PS  Z25, Z30, Z9
	VFMADD231PS  Z26, Z30, Z10
	VFMADD231PS  Z27, Z30, Z11
	VBROADCASTSS 12(DX), Z31
	VFMADD231PS  Z24, Z31, Z12
	VFMADD231PS  Z25, Z31, Z13
	VFMADD231PS  Z26, Z31, Z14
	VFMADD231PS  Z27, Z31, Z15
	VBROADCASTSS 16(DX), Z28
	VFMADD231PS  Z24, Z28, Z16
	VFMADD231PS  Z25, Z28, Z17
	VFMADD231PS  Z26, Z28, Z18
	VFMADD231PS  Z27, Z28, Z19
	VBROADCASTSS 20(DX), Z29
	VFMADD231PS  Z24, Z29, Z20
	VFMADD231PS  Z25, Z29, Z21
	VFMADD231PS  Z26, Z29, Z22
	VFMADD231PS  Z27, Z29, Z23
	ADDQ $8, BX
	ADDQ $24, DX
	DECQ CX
	JNZ  r64loop

r64store:
	MOVQ nf+32(FP), CX
	MOVQ AX, DI
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	CMPQ    CX, $1
	JLE     r64next
	ADDQ    R8, DI
	VMOVUPS Z4, 0(DI)
	VMOVUPS Z5, 64(DI)
	VMOVUPS Z6, 128(DI)
	VMOVUPS Z7, 192(DI)
	CMPQ    CX, $2
	JLE     r64next
	ADDQ    R8, DI
	VMOVUPS Z8, 0(DI)
	VMOVUPS Z9, 64(DI)
	VMOVUPS Z10, 128(DI)
	VMOVUPS Z11, 192(DI)
	CMPQ    CX, $3
	JLE     r64next
	ADDQ    R8, DI
	VMOVUPS Z12, 0(DI)
	VMOVUPS Z13, 64(DI)
	VMOVUPS Z14, 128(DI)
	VMOVUPS Z15, 192(DI)
	CMPQ    CX, $4
	JLE     r64next
	ADDQ    R8, DI
	VMOVUPS Z16, 0(DI)
	VMOVUPS Z17, 64(DI)
	VMOVUPS Z18, 128(DI)
	VMOVUPS Z19, 192(DI)
	CMPQ    CX, $5
	JLE     r64next
	ADDQ    R8, DI
	VMOVUPS Z20, 0(DI)
	VMOVUPS Z21, 64(DI)
	VMOVUPS Z22, 128(DI)
	VMOVUPS Z23, 192(DI)

r64next:
	ADDQ R12, AX
	ADDQ R13, SI
	DECQ R11
	JNZ  r64row
	VZEROUPPER
	RET

// func corr6x16(out []float32, ldo, nf int, src []float32, offs []int, wp []float32, bias *[6]float32)
// The AVX2 tile: six rows of 16 in Y0–Y11, a tap's inputs in Y12, Y13,
// the weights broadcast in Y14, Y15.
TEXT ·corr6x16(SB), NOSPLIT, $0-120
	MOVQ out_base+0(FP), DI
	MOVQ ldo+24(FP), R8
	SHLQ $2, R8
	MOVQ src_base+40(FP), SI
	MOVQ offs_base+64(FP), BX
	MOVQ offs_len+72(FP), CX
	MOVQ wp_base+88(FP), DX
	MOVQ bias+112(FP), AX
	VBROADCASTSS 0(AX), Y0
	VMOVAPS      Y0, Y1
	VBROADCASTSS 4(AX), Y2
	VMOVAPS      Y2, Y3
	VBROADCASTSS 8(AX), Y4
	VMOVAPS      Y4, Y5
	VBROADCASTSS 12(AX), Y6
	VMOVAPS      Y6, Y7
	VBROADCASTSS 16(AX), Y8
	VMOVAPS      Y8, Y9
	VBROADCASTSS 20(AX), Y10
	VMOVAPS      Y10, Y11
	TESTQ CX, CX
	JZ    c16store

c16loop:
	MOVQ    (BX), R9
	LEAQ    (SI)(R9*4), R10
	VMOVUPS (R10), Y12
	VMOVUPS 32(R10), Y13
	VBROADCASTSS 0(DX), Y14
	VFMADD231PS  Y12, Y14, Y0
	VFMADD231PS  Y13, Y14, Y1
	VBROADCASTSS 4(DX), Y15
	VFMADD231PS  Y12, Y15, Y2
	VFMADD231PS  Y13, Y15, Y3
	VBROADCASTSS 8(DX), Y14
	VFMADD231PS  Y12, Y14, Y4
	VFMADD231PS  Y13, Y14, Y5
	VBROADCASTSS 12(DX), Y15
	VFMADD231PS  Y12, Y15, Y6
	VFMADD231PS  Y13, Y15, Y7
	VBROADCASTSS 16(DX), Y14
	VFMADD231PS  Y12, Y14, Y8
	VFMADD231PS  Y13, Y14, Y9
	VBROADCASTSS 20(DX), Y15
	VFMADD231PS  Y12, Y15, Y10
	VFMADD231PS  Y13, Y15, Y11
	ADDQ $8, BX
	ADDQ $24, DX
	DECQ CX
	JNZ  c16loop

c16store:
	MOVQ nf+32(FP), CX
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	CMPQ    CX, $1
	JLE     c16done
	ADDQ    R8, DI
	VMOVUPS Y2, 0(DI)
	VMOVUPS Y3, 32(DI)
	CMPQ    CX, $2
	JLE     c16done
	ADDQ    R8, DI
	VMOVUPS Y4, 0(DI)
	VMOVUPS Y5, 32(DI)
	CMPQ    CX, $3
	JLE     c16done
	ADDQ    R8, DI
	VMOVUPS Y6, 0(DI)
	VMOVUPS Y7, 32(DI)
	CMPQ    CX, $4
	JLE     c16done
	ADDQ    R8, DI
	VMOVUPS Y8, 0(DI)
	VMOVUPS Y9, 32(DI)
	CMPQ    CX, $5
	JLE     c16done
	ADDQ    R8, DI
	VMOVUPS Y10, 0(DI)
	VMOVUPS Y11, 32(DI)

c16done:
	VZEROUPPER
	RET

// func wgrad6x4(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n, w, ldx int)
// s[4f+t] = Σ_{p<n} dy[f·ldy+p]·x[offs[t]+(p/w)·ldx+p%w] for f < 6, t < 4,
// rows past nf and taps past nt repeating the last, w a positive multiple
// of 16 and n of w: the partial sums in Z0–Z23 (Z4f+t), a step's x
// vectors in Z24–Z27, the dy vectors in Z28, Z29. AX is the byte offset
// in dy and, plus the rows' skips added to the tap pointers, in x; CX
// ends the current row.
TEXT ·wgrad6x4(SB), NOSPLIT, $24-112
	MOVQ    dy_base+8(FP), SI
	MOVQ    ldy+32(FP), AX
	SHLQ    $2, AX
	MOVQ    nf+40(FP), CX
	NEXTROW(SI, DI, 1)
	NEXTROW(DI, R8, 2)
	NEXTROW(R8, R9, 3)
	NEXTROW(R9, R10, 4)
	NEXTROW(R10, R11, 5)
	MOVQ    x_base+48(FP), DX
	MOVQ    offs+72(FP), BX
	MOVQ    nt+80(FP), CX
	MOVQ    (BX), AX
	LEAQ    (DX)(AX*4), R12
	MOVQ    R12, R13
	CMPQ    CX, $1
	JLE     wg1
	MOVQ    8(BX), AX
	LEAQ    (DX)(AX*4), R13
wg1:
	MOVQ    R13, AX
	CMPQ    CX, $2
	JLE     wg2
	MOVQ    16(BX), AX
	LEAQ    (DX)(AX*4), AX
wg2:
	MOVQ    AX, BX
	CMPQ    CX, $3
	JLE     wg3
	MOVQ    offs+72(FP), BX
	MOVQ    24(BX), BX
	LEAQ    (DX)(BX*4), BX
wg3:
	MOVQ    AX, DX
	// x tap pointers: R12, R13, DX, BX
	ROWSETUP
	ZERO24

wgloop:
	VMOVUPS (R12)(AX*1), Z24
	VMOVUPS (R13)(AX*1), Z25
	VMOVUPS (DX)(AX*1), Z26
	VMOVUPS (BX)(AX*1), Z27
	VMOVUPS (SI)(AX*1), Z28
	VFMADD231PS Z24, Z28, Z0
	VFMADD231PS Z25, Z28, Z1
	VFMADD231PS Z26, Z28, Z2
	VFMADD231PS Z27, Z28, Z3
	VMOVUPS (DI)(AX*1), Z29
	VFMADD231PS Z24, Z29, Z4
	VFMADD231PS Z25, Z29, Z5
	VFMADD231PS Z26, Z29, Z6
	VFMADD231PS Z27, Z29, Z7
	VMOVUPS (R8)(AX*1), Z28
	VFMADD231PS Z24, Z28, Z8
	VFMADD231PS Z25, Z28, Z9
	VFMADD231PS Z26, Z28, Z10
	VFMADD231PS Z27, Z28, Z11
	VMOVUPS (R9)(AX*1), Z29
	VFMADD231PS Z24, Z29, Z12
	VFMADD231PS Z25, Z29, Z13
	VFMADD231PS Z26, Z29, Z14
	VFMADD231PS Z27, Z29, Z15
	VMOVUPS (R10)(AX*1), Z28
	VFMADD231PS Z24, Z28, Z16
	VFMADD231PS Z25, Z28, Z17
	VFMADD231PS Z26, Z28, Z18
	VFMADD231PS Z27, Z28, Z19
	VMOVUPS (R11)(AX*1), Z29
	VFMADD231PS Z24, Z29, Z20
	VFMADD231PS Z25, Z29, Z21
	VFMADD231PS Z26, Z29, Z22
	VFMADD231PS Z27, Z29, Z23
	ADDQ $64, AX
	CMPQ AX, CX
	JLT  wgloop
	NEXTXROW(wgloop, wgdone)

wgdone:
	MOVQ s+0(FP), DI
	REDUCE24
	VZEROUPPER
	RET

// func wgrad3x4(s *[24]float32, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n, w, ldx int)
// s[4f+t] for f < 3, t < 4, w a positive multiple of 8: the partial sums
// in Y0–Y11 (Y4f+t), a step's x vectors in Y12–Y14 (the fourth tap read
// by the FMA itself), the dy vector in Y15; AX and CX as in wgrad6x4.
TEXT ·wgrad3x4(SB), NOSPLIT, $24-112
	MOVQ    dy_base+8(FP), SI
	MOVQ    ldy+32(FP), AX
	SHLQ    $2, AX
	MOVQ    nf+40(FP), CX
	NEXTROW(SI, DI, 1)
	NEXTROW(DI, R8, 2)
	MOVQ    x_base+48(FP), DX
	MOVQ    offs+72(FP), BX
	MOVQ    nt+80(FP), CX
	MOVQ    (BX), AX
	LEAQ    (DX)(AX*4), R12
	MOVQ    R12, R13
	CMPQ    CX, $1
	JLE     wh1
	MOVQ    8(BX), AX
	LEAQ    (DX)(AX*4), R13
wh1:
	MOVQ    R13, AX
	CMPQ    CX, $2
	JLE     wh2
	MOVQ    16(BX), AX
	LEAQ    (DX)(AX*4), AX
wh2:
	MOVQ    AX, BX
	CMPQ    CX, $3
	JLE     wh3
	MOVQ    offs+72(FP), BX
	MOVQ    24(BX), BX
	LEAQ    (DX)(BX*4), BX
wh3:
	MOVQ    AX, DX
	ROWSETUP
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

whloop:
	VMOVUPS (R12)(AX*1), Y12
	VMOVUPS (R13)(AX*1), Y13
	VMOVUPS (DX)(AX*1), Y14
	VMOVUPS (SI)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VFMADD231PS (BX)(AX*1), Y15, Y3
	VMOVUPS (DI)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y4
	VFMADD231PS Y13, Y15, Y5
	VFMADD231PS Y14, Y15, Y6
	VFMADD231PS (BX)(AX*1), Y15, Y7
	VMOVUPS (R8)(AX*1), Y15
	VFMADD231PS Y12, Y15, Y8
	VFMADD231PS Y13, Y15, Y9
	VFMADD231PS Y14, Y15, Y10
	VFMADD231PS (BX)(AX*1), Y15, Y11
	ADDQ $32, AX
	CMPQ AX, CX
	JLT  whloop
	NEXTXROW(whloop, whdone)

whdone:
	MOVQ s+0(FP), DI
	REDUCE12
	VZEROUPPER
	RET

// func corr1x256(out []float32, src []float32, offs []int, wp []float32, stride int, bias float32)
// out[j] = bias + Σ_t wp[stride·t]·src[offs[t]+j] for j < 256: one plane
// of 256 in Z0–Z15, the tap's weight broadcast in Z16.
TEXT ·corr1x256(SB), NOSPLIT, $0-108
	MOVQ         out_base+0(FP), DI
	MOVQ         src_base+24(FP), SI
	MOVQ         offs_base+48(FP), BX
	MOVQ         offs_len+56(FP), CX
	MOVQ         wp_base+72(FP), DX
	MOVQ         stride+96(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS bias+104(FP), Z0
	VMOVAPS      Z0, Z1
	VMOVAPS      Z0, Z2
	VMOVAPS      Z0, Z3
	VMOVAPS      Z0, Z4
	VMOVAPS      Z0, Z5
	VMOVAPS      Z0, Z6
	VMOVAPS      Z0, Z7
	VMOVAPS      Z0, Z8
	VMOVAPS      Z0, Z9
	VMOVAPS      Z0, Z10
	VMOVAPS      Z0, Z11
	VMOVAPS      Z0, Z12
	VMOVAPS      Z0, Z13
	VMOVAPS      Z0, Z14
	VMOVAPS      Z0, Z15
	TESTQ CX, CX
	JZ    c1store

c1loop:
	MOVQ         (BX), R9
	LEAQ         (SI)(R9*4), R10
	VBROADCASTSS (DX), Z16
	VFMADD231PS  0(R10), Z16, Z0
	VFMADD231PS  64(R10), Z16, Z1
	VFMADD231PS  128(R10), Z16, Z2
	VFMADD231PS  192(R10), Z16, Z3
	VFMADD231PS  256(R10), Z16, Z4
	VFMADD231PS  320(R10), Z16, Z5
	VFMADD231PS  384(R10), Z16, Z6
	VFMADD231PS  448(R10), Z16, Z7
	VFMADD231PS  512(R10), Z16, Z8
	VFMADD231PS  576(R10), Z16, Z9
	VFMADD231PS  640(R10), Z16, Z10
	VFMADD231PS  704(R10), Z16, Z11
	VFMADD231PS  768(R10), Z16, Z12
	VFMADD231PS  832(R10), Z16, Z13
	VFMADD231PS  896(R10), Z16, Z14
	VFMADD231PS  960(R10), Z16, Z15
	ADDQ $8, BX
	ADDQ R8, DX
	DECQ CX
	JNZ  c1loop

c1store:
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	VMOVUPS Z9, 576(DI)
	VMOVUPS Z10, 640(DI)
	VMOVUPS Z11, 704(DI)
	VMOVUPS Z12, 768(DI)
	VMOVUPS Z13, 832(DI)
	VMOVUPS Z14, 896(DI)
	VMOVUPS Z15, 960(DI)
	VZEROUPPER
	RET

// func corr1x64(out []float32, src []float32, offs []int, wp []float32, stride int, bias float32)
// The AVX2 plane: 64 values in Y0–Y7, the weight broadcast in Y8.
TEXT ·corr1x64(SB), NOSPLIT, $0-108
	MOVQ         out_base+0(FP), DI
	MOVQ         src_base+24(FP), SI
	MOVQ         offs_base+48(FP), BX
	MOVQ         offs_len+56(FP), CX
	MOVQ         wp_base+72(FP), DX
	MOVQ         stride+96(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS bias+104(FP), Y0
	VMOVAPS      Y0, Y1
	VMOVAPS      Y0, Y2
	VMOVAPS      Y0, Y3
	VMOVAPS      Y0, Y4
	VMOVAPS      Y0, Y5
	VMOVAPS      Y0, Y6
	VMOVAPS      Y0, Y7
	TESTQ CX, CX
	JZ    c1ystore

c1yloop:
	MOVQ         (BX), R9
	LEAQ         (SI)(R9*4), R10
	VBROADCASTSS (DX), Y8
	VFMADD231PS  0(R10), Y8, Y0
	VFMADD231PS  32(R10), Y8, Y1
	VFMADD231PS  64(R10), Y8, Y2
	VFMADD231PS  96(R10), Y8, Y3
	VFMADD231PS  128(R10), Y8, Y4
	VFMADD231PS  160(R10), Y8, Y5
	VFMADD231PS  192(R10), Y8, Y6
	VFMADD231PS  224(R10), Y8, Y7
	ADDQ $8, BX
	ADDQ R8, DX
	DECQ CX
	JNZ  c1yloop

c1ystore:
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	VMOVUPS Y4, 128(DI)
	VMOVUPS Y5, 160(DI)
	VMOVUPS Y6, 192(DI)
	VMOVUPS Y7, 224(DI)
	VZEROUPPER
	RET

// func rowsAxpy16AVX512(y []float32, ldy int, a float32, x []float32, ldx, rows, width int)
// y[r·ldy+j] += a·x[r·ldx+j] for r < rows, j < width ≤ 16: one masked
// 16-lane FMA per row (a kernel's patch under a pool's maximum).
TEXT ·rowsAxpy16AVX512(SB), NOSPLIT, $0-88
	MOVQ         y_base+0(FP), DI
	MOVQ         ldy+24(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS a+32(FP), Z0
	MOVQ         x_base+40(FP), SI
	MOVQ         ldx+64(FP), R9
	SHLQ         $2, R9
	MOVQ         width+80(FP), CX
	MOVL         $1, AX
	SHLL         CX, AX
	DECL         AX
	KMOVW        AX, K1
	MOVQ         rows+72(FP), CX
	TESTQ        CX, CX
	JZ           raxdone

raxrow:
	VMOVUPS.Z   (SI), K1, Z1
	VMOVUPS.Z   (DI), K1, Z2
	VFMADD231PS Z1, Z0, Z2
	VMOVUPS     Z2, K1, (DI)
	ADDQ        R9, SI
	ADDQ        R8, DI
	DECQ        CX
	JNZ         raxrow

raxdone:
	VZEROUPPER
	RET

// func patchSum16AVX512(g []float32, ldg int, x []float32, offs []int32, gv []float32, ldx, rows, width int)
// g[r·ldg+j] += Σ_i gv[i]·x[offs[i]+r·ldx+j] for r < rows, j < width ≤ 16:
// each row's sum in four interleaved accumulators (one per patch of a
// group of four, so that the FMAs do not wait on each other), added to
// g once.
TEXT ·patchSum16AVX512(SB), NOSPLIT, $0-128
	MOVQ  g_base+0(FP), DI
	MOVQ  ldg+24(FP), R8
	SHLQ  $2, R8
	MOVQ  x_base+32(FP), SI
	MOVQ  offs_base+56(FP), R10
	MOVQ  offs_len+64(FP), R11
	MOVQ  gv_base+80(FP), R12
	MOVQ  ldx+104(FP), R9
	SHLQ  $2, R9
	MOVQ  width+120(FP), CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K1
	MOVQ  rows+112(FP), R13
	TESTQ R13, R13
	JZ    psdone
	MOVQ  R11, DX
	ANDQ  $-4, DX

psrow:
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	XORQ   BX, BX
	CMPQ   BX, DX
	JGE    pstail

psquad:
	MOVLQSX      (R10)(BX*4), AX
	VBROADCASTSS (R12)(BX*4), Z4
	VMOVUPS.Z    (SI)(AX*4), K1, Z5
	VFMADD231PS  Z5, Z4, Z0
	MOVLQSX      4(R10)(BX*4), AX
	VBROADCASTSS 4(R12)(BX*4), Z6
	VMOVUPS.Z    (SI)(AX*4), K1, Z7
	VFMADD231PS  Z7, Z6, Z1
	MOVLQSX      8(R10)(BX*4), AX
	VBROADCASTSS 8(R12)(BX*4), Z8
	VMOVUPS.Z    (SI)(AX*4), K1, Z9
	VFMADD231PS  Z9, Z8, Z2
	MOVLQSX      12(R10)(BX*4), AX
	VBROADCASTSS 12(R12)(BX*4), Z10
	VMOVUPS.Z    (SI)(AX*4), K1, Z11
	VFMADD231PS  Z11, Z10, Z3
	ADDQ         $4, BX
	CMPQ         BX, DX
	JLT          psquad

pstail:
	CMPQ         BX, R11
	JGE          pssum
	MOVLQSX      (R10)(BX*4), AX
	VBROADCASTSS (R12)(BX*4), Z4
	VMOVUPS.Z    (SI)(AX*4), K1, Z5
	VFMADD231PS  Z5, Z4, Z0
	INCQ         BX
	JMP          pstail

pssum:
	VADDPS    Z1, Z0, Z0
	VADDPS    Z3, Z2, Z2
	VADDPS    Z2, Z0, Z0
	VMOVUPS.Z (DI), K1, Z1
	VADDPS    Z1, Z0, Z0
	VMOVUPS   Z0, K1, (DI)
	ADDQ      R9, SI
	ADDQ      R8, DI
	DECQ      R13
	JNZ       psrow

psdone:
	VZEROUPPER
	RET

// func convPrefetch(p *float32, lines int)
// PREFETCHT0 of the lines cache lines from p, 64 bytes apart.
TEXT ·convPrefetch(SB), NOSPLIT, $0-16
	MOVQ  p+0(FP), SI
	MOVQ  lines+8(FP), CX
	TESTQ CX, CX
	JLE   pfdone

pfloop:
	PREFETCHT0 (SI)
	ADDQ       $64, SI
	DECQ       CX
	JNZ        pfloop

pfdone:
	RET
