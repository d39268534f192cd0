package kerneltest

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
)

func testLosses(t *testing.T, b kernels.Backend) {
	for _, shape := range [][]int{{1, 1}, {7, 3}, {100, 10}, {1000, 1}, {3, 6, 5, 7}} {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			h := newHarness(t, b, uint64(6000+kernels.Numel(shape)))
			n := kernels.Numel(shape)
			pv := h.uniform(n, 0, 1)
			tv := h.uniform(n, 0, 1)
			if n >= 4 {
				// Probabilities at and near 0 and 1, where PyTorch clamps
				// the logs at −100 and p·(1−p) at 1e-12.
				pv[0], pv[1], pv[2], pv[3] = 0, 1, 1e-30, 1-0x1p-24
				tv[0], tv[1], tv[2], tv[3] = 1, 0, 1, 0
			}
			yv, yt := h.uniform(n, -2, 2), h.uniform(n, -2, 2)
			pp, pt := h.in("p", pv, shape...), h.in("target", tv, shape...)
			y, ytt := h.in("y", yv, shape...), h.in("target", yt, shape...)
			nan := float32(math.NaN())
			bce, mse := h.out(nan, 1), h.out(nan, 1)
			dp, dy := h.out(nan, shape...), h.out(nan, shape...)
			h.run(func(p kernels.Program) {
				p.BCELoss(bce, pp, pt)
				p.BCEBackward(dp, pp, pt)
				p.MSELoss(mse, y, ytt)
				p.MSEBackward(dy, y, ytt)
			})
			// A mean of n non-negative terms, each a few ulp off.
			checkScalar(t, "BCELoss", h.get(bce)[0], specBCELoss(f64(pv), f64(tv)), 0, sumTol(n))
			// (p−t)/(p(1−p))/n: a handful of roundings; near p = 1, 1−p
			// is exact in float32, so no cancellation beyond that.
			check(t, "BCEBackward", h.get(dp), specBCEBackward(f64(pv), f64(tv)), 0, 16*eps32)
			checkScalar(t, "MSELoss", h.get(mse)[0], specMSELoss(f64(yv), f64(yt)), 0, sumTol(n))
			check(t, "MSEBackward", h.get(dy), specMSEBackward(f64(yv), f64(yt)), 0, 4*eps32)
		})
	}
	for _, c := range [][2]int{{1, 1}, {7, 3}, {1000, 10}, {5, 33}} {
		for _, col := range []bool{false, true} {
			t.Run(fmt.Sprintf("NLL/N=%d,C=%d,target=[N,1]:%v", c[0], c[1], col), func(t *testing.T) {
				h := newHarness(t, b, uint64(7000+c[0]*c[1]))
				n, k := c[0], c[1]
				lv := h.uniform(n*k, -5, 0)
				tv := h.classes(n, k)
				tshape := []int{n}
				if col {
					tshape = []int{n, 1}
				}
				lp, tg := h.in("logp", lv, n, k), h.in("target", tv, tshape...)
				loss, d := h.out(float32(math.NaN()), 1), h.out(float32(math.NaN()), n, k)
				h.run(func(p kernels.Program) {
					p.NLLLoss(loss, lp, tg)
					p.NLLBackward(d, tg)
				})
				checkScalar(t, "NLLLoss", h.get(loss)[0], specNLLLoss(f64(lv), f64(tv), n, k), 0, sumTol(n))
				check(t, "NLLBackward", h.get(d), specNLLBackward(f64(tv), n, k), 0, eps32)
			})
		}
	}
}

// lossShapes are the shapes of the new losses' cases: n = 1, odd, more
// than a CPU backend's parallel grain, and NCHW.
var lossShapes = [][]int{{1}, {7, 3}, {3, 6, 5, 7}, {65537}}

// lossTol is the tolerance of a mean of per-element terms that may
// differ in sign: each term a few ulp off relative to its own size, the
// sum's roundings relative to the partial sums (sumTol). atol is that
// relative error of the mean of |term|, so a sum that cancels to near 0
// is not held to a relative bound it cannot meet.
func lossTol(term func(i int) float64, n int) (atol, rtol float64) {
	var s float64
	for i := 0; i < n; i++ {
		s += math.Abs(term(i))
	}
	return sumTol(n) * s / float64(n), sumTol(n)
}

// testBCEWithLogits checks BCEWithLogitsLoss and its gradient against
// the doc's formula with logits that would overflow exp in float32 in a
// naive form (±100), zero, and hard and soft targets.
func testBCEWithLogits(t *testing.T, b kernels.Backend, o RunOptions) {
	shapes := lossShapes
	if o.Large {
		shapes = append(shapes[:len(shapes):len(shapes)], []int{60, 23589})
	}
	for _, shape := range shapes {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			h := newHarness(t, b, uint64(6500+kernels.Numel(shape)))
			n := kernels.Numel(shape)
			xv := withGuards(h.uniform(n, -8, 8), 0, 100, -100, 20, -20, 1e-3, -1e-3)
			tv := withGuards(h.uniform(n, 0, 1), 1, 0, 1, 0, 1, 0.5, 0.5)
			x, tg := h.in("x", xv, shape...), h.in("target", tv, shape...)
			nan := float32(math.NaN())
			loss, dx := h.out(nan, 1), h.out(nan, shape...)
			h.run(func(p kernels.Program) {
				p.BCEWithLogitsLoss(loss, x, tg)
				p.BCEWithLogitsBackward(dx, x, tg)
			})
			xf, tf := f64(xv), f64(tv)
			atol, rtol := lossTol(func(i int) float64 { return specBCEWithLogitsLoss(xf[i:i+1], tf[i:i+1]) }, n)
			checkScalar(t, "BCEWithLogitsLoss", h.get(loss)[0], specBCEWithLogitsLoss(xf, tf), atol, rtol)
			// (σ(x) − t)/n: σ to a few ulp of 1, then the cancellation.
			check(t, "BCEWithLogitsBackward", h.get(dx), specBCEWithLogitsBackward(xf, tf), 4*eps32/float64(n), 8*eps32)
		})
	}
}

// testPoissonNLL checks PoissonNLLLoss and its gradient with log-rate
// inputs and with rate inputs down to 0 and around eps, where log(x + eps)
// is all eps, with two values of eps.
func testPoissonNLL(t *testing.T, b kernels.Backend, o RunOptions) {
	shapes := lossShapes
	if o.Large {
		shapes = append(shapes[:len(shapes):len(shapes)], []int{60, 23589}) // the encoder's output
	}
	for _, shape := range shapes {
		for _, c := range []struct {
			logInput bool
			eps      float32
		}{{true, 1e-8}, {false, 1e-8}, {false, 0.01}} {
			t.Run(fmt.Sprintf("%v,logInput=%v,eps=%g", shape, c.logInput, c.eps), func(t *testing.T) {
				h := newHarness(t, b, uint64(6600+kernels.Numel(shape)))
				n := kernels.Numel(shape)
				var xv []float32
				if c.logInput {
					xv = withGuards(h.uniform(n, -3, 3), 0, -100, 20, -20)
				} else {
					xv = withGuards(h.uniform(n, 0, 5), 0, 1e-9, c.eps, 2*c.eps, 1e-6, 0)
				}
				// Counts and rates, a zero count against x = 0.
				tv := withGuards(h.uniform(n, 0, 6), 2, 3, 1, 4, 0.5, 0)
				for i := 6; i < n; i += 2 {
					tv[i] = float32(math.Floor(float64(tv[i])))
				}
				x, tg := h.in("x", xv, shape...), h.in("target", tv, shape...)
				nan := float32(math.NaN())
				loss, dx := h.out(nan, 1), h.out(nan, shape...)
				h.run(func(p kernels.Program) {
					p.PoissonNLLLoss(loss, x, tg, c.logInput, c.eps)
					p.PoissonNLLBackward(dx, x, tg, c.logInput, c.eps)
				})
				xf, tf, eps := f64(xv), f64(tv), float64(c.eps)
				atol, rtol := lossTol(func(i int) float64 { return specPoissonNLLLoss(xf[i:i+1], tf[i:i+1], c.logInput, eps) }, n)
				checkScalar(t, "PoissonNLLLoss", h.get(loss)[0], specPoissonNLLLoss(xf, tf, c.logInput, eps), atol, rtol)
				// (exp(x) − t)/n or (1 − t/(x + eps))/n: a few roundings,
				// then a cancellation of terms of size up to max t.
				atol = 8 * eps32 * math.Max(1, maxAbs(tv)) / float64(n)
				check(t, "PoissonNLLBackward", h.get(dx), specPoissonNLLBackward(xf, tf, c.logInput, eps), atol, 16*eps32)
			})
		}
	}
}

// testNLLTargets checks that a target that is not a class index makes
// NLLLoss and NLLBackward fail at Run with an error naming the op, the
// row and the value (kernels.ClassIndexError), and that the Program runs
// again once the targets are fixed: targets are data, not a recording
// error.
func testNLLTargets(t *testing.T, b kernels.Backend) {
	const n, c = 3, 5
	for _, bad := range []struct {
		row int
		v   float32
	}{{1, 7}, {0, -1}, {2, 1.5}, {2, c}, {1, float32(math.NaN())}} {
		for _, backward := range []bool{false, true} {
			op := "NLLLoss"
			if backward {
				op = "NLLBackward"
			}
			t.Run(fmt.Sprintf("%s/row=%d,target=%v", op, bad.row, bad.v), func(t *testing.T) {
				h := newHarness(t, b, 7500)
				lv := h.uniform(n*c, -5, 0)
				good := []float32{4, 0, 2}
				tv := append([]float32(nil), good...)
				tv[bad.row] = bad.v
				lp, tg := h.in("logp", lv, n, c), h.mut(tv, n)
				loss, d := h.out(0, 1), h.out(0, n, c)
				prog := b.NewProgram()
				defer prog.Close()
				if backward {
					prog.NLLBackward(d, tg)
				} else {
					prog.NLLLoss(loss, lp, tg)
				}
				if err := prog.Err(); err != nil {
					t.Fatalf("recording: %v (a target's value is data, checked at Run)", err)
				}
				for run := 1; run <= 2; run++ {
					err := prog.Run()
					if err == nil {
						t.Fatalf("Run %d with target[%d] = %v: no error", run, bad.row, bad.v)
					}
					for _, want := range []string{op, fmt.Sprintf("row %d", bad.row), fmt.Sprintf("target %v", bad.v)} {
						if !strings.Contains(err.Error(), want) {
							t.Errorf("Run %d: error %q does not mention %q", run, err, want)
						}
					}
				}
				h.upload(tg, good)
				if err := prog.Run(); err != nil {
					t.Fatalf("Run after fixing the targets: %v", err)
				}
				if backward {
					check(t, "NLLBackward", h.get(d), specNLLBackward(f64(good), n, c), 0, eps32)
				} else {
					checkScalar(t, "NLLLoss", h.get(loss)[0], specNLLLoss(f64(lv), f64(good), n, c), 0, sumTol(n))
				}
			})
		}
	}
}
