package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
)

// withGuards overwrites the first values of v with guard values (as many
// as fit), the inputs where an op has a branch, a limit or a precision
// trap; the rest stay random.
func withGuards(v []float32, guards ...float32) []float32 {
	copy(v, guards)
	return v
}

// eluCase and softplusCase are the activations' hyper-parameters.
type eluCase struct{ alpha float32 }

type softplusCase struct{ beta, threshold float32 }

var (
	eluCases      = []eluCase{{1}, {0.25}}
	softplusCases = []softplusCase{{1, 20}, {2, 5}, {0.5, 10}}
)

// testActivations checks Tanh, ELU and Softplus and their backwards over
// elemSizes, each input led by the guard values of the op, then the
// in-place forms the docs allow. The backwards get the forward's input
// (ELU, Softplus) or the backend's own output (Tanh), as training does.
func testActivations(t *testing.T, b kernels.Backend) {
	negZero := float32(math.Copysign(0, -1))
	for _, n := range elemSizes {
		t.Run(fmt.Sprint("Tanh/n=", n), func(t *testing.T) {
			h := newHarness(t, b, uint64(4100+n))
			// Signed zeros, tiny values, and saturated ones, where 1 − y²
			// is all cancellation. Outputs are in [−1, 1], so the atol is
			// two ulp of 1: what a float32 tanh through exp achieves.
			xv := withGuards(h.uniform(n, -6, 6), 0, negZero, 1e-20, -3e-4, 9, -9, 20, -100)
			dyv := h.uniform(n, -1, 1)
			x, dy := h.in("x", xv, n), h.in("dy", dyv, n)
			y := h.out(float32(math.NaN()), n)
			h.run(func(p kernels.Program) { p.Tanh(y, x) })
			gotY := h.get(y)
			check(t, "Tanh", gotY, specTanh(f64(xv)), 2*eps32, 8*eps32)
			yIn, dx := h.in("y", gotY, n), h.out(float32(math.NaN()), n)
			h.run(func(p kernels.Program) { p.TanhBackward(dx, dy, yIn) })
			// dy·(1 − y²) from the float32 y: where |y| ≈ 1, forming y²
			// in float32 costs up to an ulp of 1 times |dy| (PyTorch's own
			// error), hence the atol.
			check(t, "TanhBackward", h.get(dx), specTanhBackward(f64(dyv), f64(gotY)), 2*eps32, 8*eps32)
		})
		for _, c := range eluCases {
			t.Run(fmt.Sprintf("ELU/n=%d,alpha=%g", n, c.alpha), func(t *testing.T) {
				h := newHarness(t, b, uint64(4200+n))
				// x = 0 takes the exp branch (dx = dy·alpha, not dy); ±1e-6
				// tell the branches apart (alpha ≠ 1 scales one of them);
				// −100 saturates at −alpha. The atol is two ulp of alpha,
				// the outputs' scale.
				xv := withGuards(h.uniform(n, -6, 6), 0, negZero, -1e-6, 1e-6, -3e-4, -100, 30)
				dyv := h.uniform(n, -1, 1)
				x, dy := h.in("x", xv, n), h.in("dy", dyv, n)
				nan := float32(math.NaN())
				y, dx := h.out(nan, n), h.out(nan, n)
				h.run(func(p kernels.Program) {
					p.ELU(y, x, c.alpha)
					p.ELUBackward(dx, dy, x, c.alpha)
				})
				a := float64(c.alpha)
				check(t, "ELU", h.get(y), specELU(f64(xv), a), 2*eps32*a, 8*eps32)
				// dy·alpha·exp(x): exp to a few ulp, two products; the atol
				// lets a GPU flush exp(−100) to zero.
				check(t, "ELUBackward", h.get(dx), specELUBackward(f64(dyv), f64(xv), a), 1e-30, 16*eps32)
			})
		}
		for _, c := range softplusCases {
			t.Run(fmt.Sprintf("Softplus/n=%d,beta=%g,threshold=%g", n, c.beta, c.threshold), func(t *testing.T) {
				h := newHarness(t, b, uint64(4300+n))
				// beta·x exactly at the threshold (still the log branch),
				// the next float32 above it (linear), far past it either
				// way, and 0.
				at := c.threshold / c.beta
				above := math.Nextafter32(at, float32(math.Inf(1)))
				xv := withGuards(h.uniform(n, -6, 6), at, above, 30/c.beta, 100/c.beta, -30/c.beta, 0, -at)
				dyv := h.uniform(n, -1, 1)
				x, dy := h.in("x", xv, n), h.in("dy", dyv, n)
				nan := float32(math.NaN())
				y, dx := h.out(nan, n), h.out(nan, n)
				h.run(func(p kernels.Program) {
					p.Softplus(y, x, c.beta, c.threshold)
					p.SoftplusBackward(dx, dy, x, c.beta, c.threshold)
				})
				beta, th := float64(c.beta), float64(c.threshold)
				// log1p(exp(z))/beta: a few roundings; atol for outputs
				// near 0, which float32 cannot resolve below an ulp of 1/beta.
				check(t, "Softplus", h.get(y), specSoftplus(f64(xv), beta, th), 2*eps32*math.Max(1, 1/beta), 8*eps32)
				check(t, "SoftplusBackward", h.get(dx), specSoftplusBackward(f64(dyv), f64(xv), beta, th), 1e-30, 16*eps32)
			})
		}
	}
	t.Run("in place", func(t *testing.T) {
		h := newHarness(t, b, 4400)
		const n = 1031
		xv, dyv := h.uniform(n, -6, 6), h.uniform(n, -1, 1)
		tx, ex, sx := h.mut(xv, n), h.mut(xv, n), h.mut(xv, n)
		x := h.in("x", xv, n)
		const alpha, beta, th = 0.5, 2, 5
		h.run(func(p kernels.Program) {
			p.Tanh(tx, tx)
			p.ELU(ex, ex, alpha)
			p.Softplus(sx, sx, beta, th)
		})
		gotT := h.get(tx)
		check(t, "Tanh in place", gotT, specTanh(f64(xv)), 2*eps32, 8*eps32)
		check(t, "ELU in place", h.get(ex), specELU(f64(xv), alpha), 2*eps32*alpha, 8*eps32)
		check(t, "Softplus in place", h.get(sx), specSoftplus(f64(xv), beta, th), 2*eps32, 8*eps32)
		dt, de, ds := h.mut(dyv, n), h.mut(dyv, n), h.mut(dyv, n)
		h.run(func(p kernels.Program) {
			p.TanhBackward(dt, dt, tx)
			p.ELUBackward(de, de, x, alpha)
			p.SoftplusBackward(ds, ds, x, beta, th)
		})
		check(t, "TanhBackward in place", h.get(dt), specTanhBackward(f64(dyv), f64(gotT)), 2*eps32, 8*eps32)
		check(t, "ELUBackward in place", h.get(de), specELUBackward(f64(dyv), f64(xv), alpha), 1e-30, 16*eps32)
		check(t, "SoftplusBackward in place", h.get(ds), specSoftplusBackward(f64(dyv), f64(xv), beta, th), 1e-30, 16*eps32)
	})
}
