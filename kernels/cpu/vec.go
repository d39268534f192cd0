package cpu

// Plain-loop vector primitives: the spec of the vector code in
// vec_amd64.s and vec_simd_amd64.go (see doc.go), and the loops that run
// where neither applies.

// axpyGeneric sets y[i] += a·x[i] for i < len(y); len(x) ≥ len(y).
func axpyGeneric(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	i := 0
	for ; i+4 <= len(y); i += 4 {
		y[i] += a * x[i]
		y[i+1] += a * x[i+1]
		y[i+2] += a * x[i+2]
		y[i+3] += a * x[i+3]
	}
	for ; i < len(y); i++ {
		y[i] += a * x[i]
	}
}

// dotGeneric returns Σ x[i]·y[i] for i < len(x) in float32, with four
// partial sums; len(y) ≥ len(x).
func dotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// fill sets every element of x to v, by doubling copies (memmove) after
// the first few elements.
func fill(x []float32, v float32) {
	if v == 0 {
		clear(x)
		return
	}
	if len(x) == 0 {
		return
	}
	x[0] = v
	for n := 1; n < len(x); n *= 2 {
		copy(x[n:], x[:n])
	}
}
