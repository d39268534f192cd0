//go:build amd64 && !purego && !goexperiment.simd

#include "textflag.h"

// The FMA loops MeasurePeak times (peak.go): twelve independent chains
// x ← x·a + b, enough to cover the FMA latency on both FMA pipes, with no
// loads or stores in the loop. The sum of the chains is returned so that
// the work is observable.

// func peakFMA8(iters int, a, b float32) float32
TEXT ·peakFMA8(SB), NOSPLIT, $0-20
	MOVQ         iters+0(FP), CX
	VBROADCASTSS a+8(FP), Y14
	VBROADCASTSS b+12(FP), Y15
	VMOVAPS      Y15, Y0
	VMOVAPS      Y15, Y1
	VMOVAPS      Y15, Y2
	VMOVAPS      Y15, Y3
	VMOVAPS      Y15, Y4
	VMOVAPS      Y15, Y5
	VMOVAPS      Y15, Y6
	VMOVAPS      Y15, Y7
	VMOVAPS      Y15, Y8
	VMOVAPS      Y15, Y9
	VMOVAPS      Y15, Y10
	VMOVAPS      Y15, Y11

peak8:
	VFMADD213PS Y15, Y14, Y0
	VFMADD213PS Y15, Y14, Y1
	VFMADD213PS Y15, Y14, Y2
	VFMADD213PS Y15, Y14, Y3
	VFMADD213PS Y15, Y14, Y4
	VFMADD213PS Y15, Y14, Y5
	VFMADD213PS Y15, Y14, Y6
	VFMADD213PS Y15, Y14, Y7
	VFMADD213PS Y15, Y14, Y8
	VFMADD213PS Y15, Y14, Y9
	VFMADD213PS Y15, Y14, Y10
	VFMADD213PS Y15, Y14, Y11
	DECQ        CX
	JNZ         peak8
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y5, Y4, Y4
	VADDPS       Y7, Y6, Y6
	VADDPS       Y9, Y8, Y8
	VADDPS       Y11, Y10, Y10
	VADDPS       Y2, Y0, Y0
	VADDPS       Y6, Y4, Y4
	VADDPS       Y10, Y8, Y8
	VADDPS       Y4, Y0, Y0
	VADDPS       Y8, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+16(FP)
	RET

// func peakFMA16(iters int, a, b float32) float32
TEXT ·peakFMA16(SB), NOSPLIT, $0-20
	MOVQ         iters+0(FP), CX
	VBROADCASTSS a+8(FP), Z14
	VBROADCASTSS b+12(FP), Z15
	VMOVAPS      Z15, Z0
	VMOVAPS      Z15, Z1
	VMOVAPS      Z15, Z2
	VMOVAPS      Z15, Z3
	VMOVAPS      Z15, Z4
	VMOVAPS      Z15, Z5
	VMOVAPS      Z15, Z6
	VMOVAPS      Z15, Z7
	VMOVAPS      Z15, Z8
	VMOVAPS      Z15, Z9
	VMOVAPS      Z15, Z10
	VMOVAPS      Z15, Z11

peak16:
	VFMADD213PS Z15, Z14, Z0
	VFMADD213PS Z15, Z14, Z1
	VFMADD213PS Z15, Z14, Z2
	VFMADD213PS Z15, Z14, Z3
	VFMADD213PS Z15, Z14, Z4
	VFMADD213PS Z15, Z14, Z5
	VFMADD213PS Z15, Z14, Z6
	VFMADD213PS Z15, Z14, Z7
	VFMADD213PS Z15, Z14, Z8
	VFMADD213PS Z15, Z14, Z9
	VFMADD213PS Z15, Z14, Z10
	VFMADD213PS Z15, Z14, Z11
	DECQ        CX
	JNZ         peak16
	VADDPS        Z1, Z0, Z0
	VADDPS        Z3, Z2, Z2
	VADDPS        Z5, Z4, Z4
	VADDPS        Z7, Z6, Z6
	VADDPS        Z9, Z8, Z8
	VADDPS        Z11, Z10, Z10
	VADDPS        Z2, Z0, Z0
	VADDPS        Z6, Z4, Z4
	VADDPS        Z10, Z8, Z8
	VADDPS        Z4, Z0, Z0
	VADDPS        Z8, Z0, Z0
	VEXTRACTF32X8 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VHADDPS       X0, X0, X0
	VHADDPS       X0, X0, X0
	VZEROUPPER
	MOVSS         X0, ret+16(FP)
	RET
