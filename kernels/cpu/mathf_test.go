package cpu

import (
	"math"
	"testing"
)

// TestExp32 sweeps exp32 against float64 math.Exp. The bound is 4 ulp
// (relative 4·2⁻²³): two for the polynomial and reduction, the rest for
// the final rounding of each step.
func TestExp32(t *testing.T) {
	worst := 0.0
	for x := float32(-87); x <= 88.5; x += 0.00137 {
		want := math.Exp(float64(x))
		got := float64(exp32(x))
		if rel := math.Abs(got-want) / want; rel > worst {
			worst = rel
		}
		if rel := math.Abs(got-want) / want; rel > 4*0x1p-23 {
			t.Fatalf("exp32(%v) = %v, want %v (relative error %.3g)", x, got, want, rel)
		}
	}
	t.Logf("worst relative error %.3g (%.2f ulp)", worst, worst/0x1p-23)
	for _, c := range []struct{ x, want float32 }{{-100, 0}, {0, 1}, {float32(math.Inf(-1)), 0}} {
		if got := exp32(c.x); got != c.want {
			t.Errorf("exp32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if !math.IsInf(float64(exp32(89)), 1) || !math.IsNaN(float64(exp32(float32(math.NaN())))) {
		t.Errorf("exp32 overflow/NaN: %v %v", exp32(89), exp32(float32(math.NaN())))
	}
}

// TestSigmoid32 checks the branch-free selection and the tails.
func TestSigmoid32(t *testing.T) {
	for x := float32(-30); x <= 30; x += 0.0071 {
		want := 1 / (1 + math.Exp(-float64(x)))
		got := float64(sigmoid32(x))
		if math.Abs(got-want) > 8*0x1p-23*want {
			t.Fatalf("sigmoid32(%v) = %v, want %v", x, got, want)
		}
	}
	if got := sigmoid32(-100); got != 0 && got > 1e-43 {
		t.Errorf("sigmoid32(-100) = %v", got)
	}
	if got := sigmoid32(100); got != 1 {
		t.Errorf("sigmoid32(100) = %v", got)
	}
}

func TestRelu32(t *testing.T) {
	for _, c := range []struct{ x, want float32 }{{-1, 0}, {2, 2}, {0, 0}, {float32(math.Copysign(0, -1)), 0}, {float32(math.Inf(1)), float32(math.Inf(1))}} {
		if got := relu32(c.x); got != c.want || math.Signbit(float64(got)) {
			t.Errorf("relu32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}

// sweepRel checks f against the float64 function want over [lo, hi] in
// steps of step, to a relative error of bound (absolute where want is
// 0), and returns the worst relative error.
func sweepRel(t *testing.T, name string, f func(float32) float32, want func(float64) float64, lo, hi, step float32, bound float64) float64 {
	t.Helper()
	worst := 0.0
	for x := lo; x <= hi; x += step {
		w := want(float64(x))
		got := float64(f(x))
		rel := math.Abs(got - w)
		if w != 0 {
			rel /= math.Abs(w)
		}
		worst = math.Max(worst, rel)
		if rel > bound {
			t.Fatalf("%s(%v) = %v, want %v (relative error %.3g)", name, x, got, w, rel)
		}
	}
	return worst
}

// TestExpm1_32 sweeps expm1_32 against float64 math.Expm1 to 4 ulp,
// densely near 0, where the polynomial and the exp32 branch meet the
// cancellation.
func TestExpm1_32(t *testing.T) {
	worst := sweepRel(t, "expm1_32", expm1_32, math.Expm1, -87, 88, 0.00137, 4*0x1p-23)
	worst = math.Max(worst, sweepRel(t, "expm1_32", expm1_32, math.Expm1, -1, 1, 1.3e-5, 4*0x1p-23))
	worst = math.Max(worst, sweepRel(t, "expm1_32", expm1_32, math.Expm1, -1e-3, 1e-3, 1.1e-8, 4*0x1p-23))
	t.Logf("worst relative error %.3g (%.2f ulp)", worst, worst/0x1p-23)
	for _, c := range []struct{ x, want float32 }{{-100, -1}, {0, 0}, {1e-30, 1e-30}} {
		if got := expm1_32(c.x); got != c.want {
			t.Errorf("expm1_32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}

// TestTanh32 sweeps tanh32 against float64 math.Tanh to 4 ulp, and
// checks the sign of zero, saturation and NaN.
func TestTanh32(t *testing.T) {
	worst := sweepRel(t, "tanh32", tanh32, math.Tanh, -20, 20, 0.00113, 4*0x1p-23)
	worst = math.Max(worst, sweepRel(t, "tanh32", tanh32, math.Tanh, -1e-3, 1e-3, 1.1e-8, 4*0x1p-23))
	t.Logf("worst relative error %.3g (%.2f ulp)", worst, worst/0x1p-23)
	for _, c := range []struct{ x, want float32 }{{100, 1}, {-100, -1}, {float32(math.Inf(1)), 1}, {1e-30, 1e-30}} {
		if got := tanh32(c.x); got != c.want {
			t.Errorf("tanh32(%v) = %v, want %v", c.x, got, c.want)
		}
	}
	if got := tanh32(float32(math.Copysign(0, -1))); got != 0 || !math.Signbit(float64(got)) {
		t.Errorf("tanh32(-0) = %v, want -0", got)
	}
	if got := tanh32(float32(math.NaN())); got == got {
		t.Errorf("tanh32(NaN) = %v, want NaN", got)
	}
}
