//go:build amd64 && !purego && !goexperiment.simd

package cpu

// The vector SGD updates of the default amd64 build (update_amd64.s).

//go:noescape
func sgdAVX512(w, g, buf []float32, c *sgdCoefs, sums *[2]float64)

//go:noescape
func sgdAVX2(w, g, buf []float32, c *sgdCoefs, sums *[2]float64)

// sgdVector runs the widest vector SGD update over the longest prefix of
// w it covers and returns that prefix's length (0 without vectors).
func sgdVector(w, g, buf []float32, c *sgdCoefs, sums *[2]float64) int {
	var n int
	switch {
	case hasAVX512:
		n = len(w) &^ 15
	case hasAVX2FMA:
		n = len(w) &^ 7
	}
	if n == 0 {
		return 0
	}
	g = g[:n]
	if c.flags&sgdMomentum != 0 {
		buf = buf[:n]
	}
	if hasAVX512 {
		sgdAVX512(w[:n], g, buf, c, sums)
	} else {
		sgdAVX2(w[:n], g, buf, c, sums)
	}
	return n
}
