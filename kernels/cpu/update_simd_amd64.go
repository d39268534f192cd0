//go:build goexperiment.simd && amd64

package cpu

import "simd/archsimd"

// sgdVector is the SGD update of update_amd64.s written with archsimd,
// 8 values a step on every AVX2 CPU: per element the same float32
// operations in the same order as updateRule's plain loops, no fused
// multiply-adds; it covers the longest prefix of w of whole vectors and
// returns its length.
func sgdVector(w, g, buf []float32, c *sgdCoefs, sums *[2]float64) int {
	n := len(w) &^ 7
	if !hasAVX2FMA || n == 0 {
		return 0
	}
	g = g[:n]
	mom := c.flags&sgdMomentum != 0
	if mom {
		buf = buf[:n]
	}
	l1, l2x2 := archsimd.BroadcastFloat32x8(c.l1), archsimd.BroadcastFloat32x8(c.l2x2)
	l1b := l1.AsUint32x8()
	wd, lr := archsimd.BroadcastFloat32x8(c.wd), archsimd.BroadcastFloat32x8(c.lr)
	mv, damp := archsimd.BroadcastFloat32x8(c.mom), archsimd.BroadcastFloat32x8(c.damp)
	sign, mag := archsimd.BroadcastUint32x8(1<<31), archsimd.BroadcastUint32x8(1<<31-1)
	zero := archsimd.BroadcastUint32x8(0)
	var a0, a1, q0, q1 archsimd.Float64x4
	for i := 0; i < n; i += 8 {
		v := archsimd.LoadFloat32x8Slice(w[i:])
		gi := archsimd.LoadFloat32x8Slice(g[i:])
		vb := v.AsUint32x8()
		if c.flags&sgdSums != 0 {
			av := vb.And(mag).AsFloat32x8()
			a0 = a0.Add(av.GetLo().ConvertToFloat64())
			a1 = a1.Add(av.GetHi().ConvertToFloat64())
			lo, hi := v.GetLo().ConvertToFloat64(), v.GetHi().ConvertToFloat64()
			q0 = lo.MulAdd(lo, q0)
			q1 = hi.MulAdd(hi, q1)
		}
		if c.flags&sgdL1 != 0 {
			t := vb.And(sign).Xor(l1b).AsFloat32x8()
			// +0 where w = ±0: t minus itself there.
			t = t.Sub(t.Masked(vb.And(mag).Equal(zero)))
			gi = gi.Add(t)
		}
		if c.flags&sgdL2 != 0 {
			gi = gi.Add(l2x2.Mul(v))
		}
		gi = gi.Add(wd.Mul(v))
		if mom {
			b := gi
			if c.flags&sgdFirst == 0 {
				b = mv.Mul(archsimd.LoadFloat32x8Slice(buf[i:])).Add(damp.Mul(gi))
			}
			b.StoreSlice(buf[i:])
			if c.flags&sgdNesterov != 0 {
				gi = gi.Add(mv.Mul(b))
			} else {
				gi = b
			}
		}
		v.Sub(lr.Mul(gi)).StoreSlice(w[i:])
	}
	var s [4]float64
	a0.Add(a1).Store(&s)
	sums[0] += (s[0] + s[1]) + (s[2] + s[3])
	q0.Add(q1).Store(&s)
	sums[1] += (s[0] + s[1]) + (s[2] + s[3])
	archsimd.ClearAVXUpperBits()
	return n
}
