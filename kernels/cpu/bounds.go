package cpu

// Bounds the vector micro-kernels rely on, checked by their wrappers.

// checkOuter panics unless an mr×nr tile at c (rows ldc apart) and kc
// steps of ap and bp are in bounds.
func checkOuter(mr, nr int, c []float32, ldc int, ap, bp []float32, kc int) {
	_ = c[(mr-1)*ldc+nr-1]
	if kc > 0 {
		_ = ap[mr*kc-1]
		_ = bp[nr*kc-1]
	}
}

// checkDot panics unless k is a positive multiple of dk, 1 ≤ ra ≤ dmr,
// 1 ≤ rb ≤ dnr, and rows ra of a (lda apart) and rb of b (ldb apart) of
// k values each are in bounds.
func checkDot(dmr, dnr, dk int, a []float32, lda, ra int, b []float32, ldb, rb, k int) {
	if k <= 0 || k%dk != 0 || ra < 1 || ra > dmr || rb < 1 || rb > dnr {
		panic("cpu: dot tile: bad length or row count")
	}
	_ = a[(ra-1)*lda+k-1]
	_ = b[(rb-1)*ldb+k-1]
}
