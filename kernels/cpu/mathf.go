package cpu

import "math"

// exp32 is e^x in float32 to within ~1 ulp for x in [−87, 88] (0 below,
// +Inf above), for the float32 loops of sigmoid and softmax. It reduces
// x = n·ln2 + r with |r| ≤ ln2/2 (Cody–Waite, ln2 split in two parts),
// evaluates e^r by its degree-7 Taylor polynomial (truncation error
// |r|⁸/8! < 3e-9), and scales by 2ⁿ through the exponent bits.
func exp32(x float32) float32 {
	if !(x < 88.72) { // also NaN
		if x != x {
			return x
		}
		return float32(math.Inf(1))
	}
	if x < -87.33 {
		return 0
	}
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375 // exact in float32 with room: n·ln2hi is exact
		ln2lo = -2.12194440e-4
	)
	// Adding and subtracting 1.5·2²³ rounds to the nearest integer (Go
	// does not reassociate floating-point sums), without a call to Floor.
	const magic = 12582912
	n := (x*log2e + magic) - magic
	r := x - n*ln2hi
	r -= n * ln2lo
	// Estrin's scheme: independent pairs, then r², r⁴, so the polynomial
	// is 4 dependent steps deep instead of Horner's 8.
	r2 := r * r
	r4 := r2 * r2
	p01 := 1 + r
	p23 := 0.5 + r*(1.0/6)
	p45 := 1.0/24 + r*(1.0/120)
	p67 := 1.0/720 + r*(1.0/5040)
	p := (p01 + r2*p23) + r4*(p45+r2*p67)
	// n ∈ [−126, 128]; split the scale so 2ⁿ never overflows the exponent field.
	ni := int32(n)
	h := ni >> 1
	s1 := math.Float32frombits(uint32(h+127) << 23)
	s2 := math.Float32frombits(uint32(ni-h+127) << 23)
	return p * s1 * s2
}

// sigmoid32 is 1/(1+e^−x) without overflow and with full relative
// precision for negative x, where it is computed as e^x/(1+e^x).
func sigmoid32(x float32) float32 {
	e := exp32(-abs32(x)) // in (0, 1]
	r := 1 / (1 + e)
	// r for x ≥ 0, e·r for x < 0, chosen with the sign bit, no branch.
	bx := math.Float32bits(x)
	m := uint32(int32(bx) >> 31)
	return math.Float32frombits(math.Float32bits(r)&^m | math.Float32bits(e*r)&m)
}

func abs32(x float32) float32 {
	return math.Float32frombits(math.Float32bits(x) &^ (1 << 31))
}

// relu32 is max(x, 0) without a branch: the sign bit masks x to +0.
func relu32(x float32) float32 {
	b := math.Float32bits(x)
	return math.Float32frombits(b &^ uint32(int32(b)>>31))
}

// expm1_32 is e^x − 1 in float32, keeping its relative precision near
// 0, where exp32(x) − 1 cancels to a few bits: for |x| < 0.7 the Taylor
// polynomial of degree 9 (truncation below |x|⁹/10! < 1.2e-8 relative,
// a tenth of an ulp),
// else exp32(x) − 1, which loses at most a bit or two there (e^x − 1
// is then at least 0.5 in size).
func expm1_32(x float32) float32 {
	if abs32(x) < 0.7 {
		const (
			c2 = 1.0 / 2
			c3 = 1.0 / 6
			c4 = 1.0 / 24
			c5 = 1.0 / 120
			c6 = 1.0 / 720
			c7 = 1.0 / 5040
			c8 = 1.0 / 40320
			c9 = 1.0 / 362880
		)
		p := c8 + x*c9
		p = c7 + x*p
		p = c6 + x*p
		p = c5 + x*p
		p = c4 + x*p
		p = c3 + x*p
		p = c2 + x*p
		return x + x*x*p
	}
	return exp32(x) - 1
}

// tanh32 is tanh(x) = t/(t + 2) with t = e^{2|x|} − 1 (expm1_32), the
// sign restored; |x| is capped at 9, past which tanh rounds to ±1 in
// float32 and t would overflow.
func tanh32(x float32) float32 {
	t := expm1_32(2 * min(abs32(x), 9))
	y := t / (t + 2)
	return math.Float32frombits(math.Float32bits(y) | math.Float32bits(x)&(1<<31))
}
