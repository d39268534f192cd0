package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
)

// testDropout runs one recorded Program of Dropout, a second Dropout with
// another seed and DropoutBackward over several steps, rewriting the step
// state with Program.Write between Runs as a training loop does. Every
// step, each element's fate must be kernels.DropoutKeep's, the kept
// values exactly x·DropoutScale(p) (one float32 product), the backward
// must use the forward's mask, and for 0 < p < 1 the kept fraction must
// lie within binomial bounds and the mask must change with the step and
// with the seed.
func testDropout(t *testing.T, b kernels.Backend) {
	const seed, seed2 = 1234, 99
	for _, n := range elemSizes {
		for _, pr := range []float32{0, 0.1, 0.3, 0.5, 0.9, 1} {
			t.Run(fmt.Sprintf("n=%d,p=%g", n, pr), func(t *testing.T) {
				h := newHarness(t, b, uint64(4500+n))
				// No zeros: a zero output then means "dropped".
				xv, dyv := h.uniform(n, 0.5, 2), h.uniform(n, -2, -0.5)
				x, dy := h.in("x", xv, n), h.in("dy", dyv, n)
				nan := float32(math.NaN())
				y, y2, dx := h.out(nan, n), h.out(nan, n), h.out(nan, n)
				state := h.out(nan, kernels.StepStateLen)
				host := make([]float32, kernels.StepStateLen)
				prog := b.NewProgram()
				defer prog.Close()
				prog.Write(state, host)
				prog.Dropout(y, x, state, pr, seed)
				prog.Dropout(y2, x, state, pr, seed2)
				prog.DropoutBackward(dx, dy, state, pr, seed)
				if err := prog.Err(); err != nil {
					t.Fatal(err)
				}
				var prev []float32
				for _, step := range []uint32{1, 2, 7} {
					kernels.FillStepState(host, step, 0.1, 0.9, 0.999, 0)
					if err := prog.Run(); err != nil {
						t.Fatalf("step %d: %v", step, err)
					}
					gotY := h.get(y)
					name := func(s string) string { return fmt.Sprintf("step %d: %s", step, s) }
					checkMask(t, name("Dropout"), gotY, xv, pr, seed, step)
					checkMask(t, name("Dropout with seed 2"), h.get(y2), xv, pr, seed2, step)
					checkMask(t, name("DropoutBackward"), h.get(dx), dyv, pr, seed, step)
					kept := 0
					for _, v := range gotY {
						if v != 0 {
							kept++
						}
					}
					if pr > 0 && pr < 1 {
						// The hash is fixed, so this cannot flake: 6σ of a
						// binomial leaves room for any decent hash.
						mean, sd := float64(n)*(1-float64(pr)), math.Sqrt(float64(n)*float64(pr)*(1-float64(pr)))
						if math.Abs(float64(kept)-mean) > 6*sd+1 {
							t.Errorf("%s: %d of %d kept, want %.1f ± %.1f", name("Dropout"), kept, n, mean, 6*sd+1)
						}
						if n >= 64 {
							if prev != nil && sameZeros(prev, gotY) {
								t.Errorf("%s: the same mask as the step before", name("Dropout"))
							}
							if sameZeros(gotY, h.get(y2)) {
								t.Errorf("%s: seeds %d and %d draw the same mask", name("Dropout"), seed, seed2)
							}
						}
					}
					prev = gotY
				}
			})
		}
	}
	t.Run("in place", func(t *testing.T) {
		h := newHarness(t, b, 4600)
		const n, pr, step = 1031, 0.25, 5
		xv, dyv := h.uniform(n, 0.5, 2), h.uniform(n, 0.5, 2)
		x, d := h.mut(xv, n), h.mut(dyv, n)
		state := h.in("state", stepState(0.1, step), kernels.StepStateLen)
		h.run(func(p kernels.Program) {
			p.Dropout(x, x, state, pr, seed)
			p.DropoutBackward(d, d, state, pr, seed)
		})
		checkMask(t, "Dropout in place", h.get(x), xv, pr, seed, step)
		checkMask(t, "DropoutBackward in place", h.get(d), dyv, pr, seed, step)
	})
}

// checkMask checks got = in·DropoutScale(p) where DropoutKeep(seed, t, i,
// p), else 0, exactly: the product of two float32 values is one rounding,
// the same everywhere. Mask errors are reported apart from value errors.
func checkMask(t *testing.T, name string, got, in []float32, p float32, seed, step uint32) {
	t.Helper()
	scale := kernels.DropoutScale(p)
	wrongMask, wrongValue := 0, 0
	var first string
	for i, v := range got {
		keep := kernels.DropoutKeep(seed, step, uint32(i), p)
		want := float32(0)
		if keep {
			want = in[i] * scale
		}
		switch {
		case (v != 0) != keep:
			wrongMask++
			if first == "" {
				first = fmt.Sprintf("element %d is %v, want %v (kept: %v)", i, v, want, keep)
			}
		case v != want:
			wrongValue++
			if first == "" {
				first = fmt.Sprintf("element %d is %v, want %v = %v·%v", i, v, want, in[i], scale)
			}
		}
	}
	if wrongMask+wrongValue > 0 {
		t.Errorf("%s: %d of %d elements kept or dropped against kernels.DropoutKeep, %d kept with a wrong value; first: %s",
			name, wrongMask, len(got), wrongValue, first)
	}
}

// sameZeros reports whether a and b are zero at the same elements.
func sameZeros(a, b []float32) bool {
	for i := range a {
		if (a[i] == 0) != (b[i] == 0) {
			return false
		}
	}
	return true
}
