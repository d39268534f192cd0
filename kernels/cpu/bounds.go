package cpu

// Bounds the vector micro-kernels rely on, checked by their wrappers.

// checkOuter panics unless an mr×nr tile at c (rows ldc apart) and kc
// steps of ap and of bp (nr values, ldb apart) are in bounds.
func checkOuter(mr, nr int, c []float32, ldc int, ap, bp []float32, ldb, kc int) {
	_ = c[(mr-1)*ldc+nr-1]
	if kc > 0 {
		_ = ap[mr*kc-1]
		_ = bp[(kc-1)*ldb+nr-1]
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

// tapOffsets are a correlation's tap offsets, checked once: all in
// [0, max]. The correlation tiles take them as checked.
type tapOffsets struct {
	offs []int
	max  int
}

func newTapOffsets(offs []int) *tapOffsets {
	t := &tapOffsets{offs: offs}
	for _, o := range offs {
		if o < 0 {
			panic("cpu: negative tap offset")
		}
		t.max = max(t.max, o)
	}
	return t
}

// checkCorr panics unless a correlation tile of nf ≤ 6 rows of cw values
// at out (rows ldo apart) and every tap's run of cw values of src are in
// bounds, with six weights per tap in wp.
func checkCorr(cw int, out []float32, ldo, nf int, src []float32, taps *tapOffsets, wp []float32) {
	if nf < 1 || nf > corrPlanes {
		panic("cpu: correlation tile: bad plane count")
	}
	_ = out[(nf-1)*ldo+cw-1]
	_ = src[taps.max+cw-1]
	_ = wp[:corrPlanes*len(taps.offs)]
}

// checkCorrRows panics unless rows ≥ 1, ldo, ldor, ldsr ≥ 0 and every
// tile r < rows, checkCorr's tile at out[r·ldor:] reading src[r·ldsr:],
// is in bounds.
func checkCorrRows(cw int, out []float32, ldo, nf int, src []float32, taps *tapOffsets, wp []float32, rows, ldor, ldsr int) {
	if rows < 1 || ldo < 0 || ldor < 0 || ldsr < 0 {
		panic("cpu: correlation rows: bad count or step")
	}
	checkCorr(cw, out[(rows-1)*ldor:], ldo, nf, src[(rows-1)*ldsr:], taps, wp)
}

// checkCorr1 panics unless cw values at out and every tap's run of cw
// values of src are in bounds, with a weight every stride values of wp
// per tap.
func checkCorr1(cw int, out, src []float32, taps *tapOffsets, wp []float32, stride int) {
	_ = out[cw-1]
	_ = src[taps.max+cw-1]
	if n := len(taps.offs); n > 0 {
		_ = wp[(n-1)*stride]
	}
}

// checkWgrad panics unless w is a positive multiple of gk, n a positive
// multiple of w, ldx ≥ w, ldy ≥ 0, 1 ≤ nf ≤ gf, 1 ≤ nt ≤ 4, and nf rows
// of dy (ldy apart) hold n values and every tap's n/w rows of x (ldx
// apart) w values.
func checkWgrad(gf, gk int, dy []float32, ldy, nf int, x []float32, offs *[4]int, nt, n, w, ldx int) {
	if w <= 0 || w%gk != 0 || n <= 0 || n%w != 0 || ldx < w || ldy < 0 || nf < 1 || nf > gf || nt < 1 || nt > 4 {
		panic("cpu: weight-gradient tile: bad length or counts")
	}
	_ = dy[(nf-1)*ldy+n-1]
	last := (n/w-1)*ldx + w - 1
	for _, o := range offs[:nt] {
		if o < 0 {
			panic("cpu: weight-gradient tile: negative offset")
		}
		_ = x[o+last]
	}
}
