package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
)

// TestSGDVector checks the vector SGD update against the plain loops of
// updateRule (penalize, then apply): to the bit, since both round the
// same float32 operations in the same order, for every combination of
// terms, with exact zeros of both signs among the weights, at lengths on
// both sides of the vector widths. The sums may differ in the order of
// their float64 additions. TestVecWithoutAVX2 runs it on the narrower
// loops.
func TestSGDVector(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	wide := hasAVX512
	{
		for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 33, 100} {
			for combo := 0; combo < 32; combo++ {
				o := kernels.SGDParams{WeightDecay: 0.01}
				if combo&4 != 0 {
					o.Momentum, o.Dampening = 0.9, 0.1
				}
				if combo&16 != 0 && combo&4 != 0 {
					o.Dampening, o.Nesterov = 0, true
				}
				u := kernels.UpdateParams{SGD: &o}
				if combo&1 != 0 {
					u.L1 = 0.03
				}
				if combo&2 != 0 {
					u.L2 = 0.2
				}
				rule := newUpdateRule(u)
				st := make([]float32, kernels.StepStateLen)
				kernels.FillStepState(st, uint32(1+(combo>>3&1)), 0.1, 0.9, 0.999, 0)
				w0, g, b0 := randVec(r, n), randVec(r, n), randVec(r, n)
				if n > 2 {
					w0[0], w0[1] = 0, float32(math.Copysign(0, -1))
				}
				w, b := append([]float32(nil), w0...), append([]float32(nil), b0...)
				c := rule.coefs(st, true)
				var sums [2]float64
				m := sgdVector(w, g, b, &c, &sums)
				ww, wb := append([]float32(nil), w0[:m]...), append([]float32(nil), b0[:m]...)
				gp := append([]float32(nil), g[:m]...)
				rule.penalize(gp, ww)
				rule.apply(st, ww, gp, wb, nil)
				for i := range m {
					if math.Float32bits(w[i]) != math.Float32bits(ww[i]) || o.Momentum != 0 && math.Float32bits(b[i]) != math.Float32bits(wb[i]) {
						t.Fatalf("AVX-512 %v, n=%d, combo %d: element %d: w %v buf %v, plain loops %v %v", wide, n, combo, i, w[i], b[i], ww[i], wb[i])
					}
				}
				for i := m; i < n; i++ {
					if w[i] != w0[i] || b[i] != b0[i] {
						t.Fatalf("AVX-512 %v, n=%d: element %d past the vector prefix %d changed", wide, n, i, m)
					}
				}
				if d := sums[0] - sumAbs64(w0[:m]); math.Abs(d) > 1e-12*float64(m+1) {
					t.Fatalf("Σ|w| = %v, want %v", sums[0], sumAbs64(w0[:m]))
				}
				if d := sums[1] - sumSq64(w0[:m]); math.Abs(d) > 1e-12*float64(m+1) {
					t.Fatalf("Σw² = %v, want %v", sums[1], sumSq64(w0[:m]))
				}
			}
		}
	}
}
