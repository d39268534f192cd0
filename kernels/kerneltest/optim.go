package kerneltest

import (
	"fmt"
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
)

// optimSteps is the schedule the optimizer tests follow: the step t and
// the learning rate of each Run of one recorded Program. The rate
// changes every step, and the count restarts at 1 (the first-step flag,
// as after ResetMomentum) for the last Run.
var optimSteps = []struct {
	t  uint32
	lr float64
}{{1, 0.1}, {2, 0.05}, {3, 0.2}, {4, 0.01}, {1, 0.1}}

// testSGD runs one recorded SGD step over optimSteps with the step state
// rewritten through Program.Write before every Run, as a training loop
// does, and follows it with the spec applied to the backend's own state
// of the step before, so that rounding does not compound across steps.
// buf starts random: the first step must overwrite it with g, and
// momentum 0 must leave it untouched.
func testSGD(t *testing.T, b kernels.Backend) {
	for _, o := range []kernels.SGDParams{
		{},
		{WeightDecay: 0.1},
		{Momentum: 0.9},
		{Momentum: 0.9, WeightDecay: 1e-2},
		{Momentum: 0.9, Dampening: 0.1},
		{Momentum: 0.5, Dampening: 0.5, WeightDecay: 0.1},
		{Momentum: 0.9, Nesterov: true},
		{Momentum: 0.5, Nesterov: true, WeightDecay: 0.1},
	} {
		for _, n := range []int{1, 33, 65537} {
			name := fmt.Sprintf("n=%d,momentum=%g,dampening=%g,wd=%g,nesterov=%v", n, o.Momentum, o.Dampening, o.WeightDecay, o.Nesterov)
			t.Run(name, func(t *testing.T) {
				h := newHarness(t, b, uint64(9000+n))
				pv, bv := h.uniform(n, -1, 1), h.uniform(n, -1, 1)
				param, grad, buf := h.mut(pv, n), h.newTensor(n), h.mut(bv, n)
				state, host := h.newTensor(kernels.StepStateLen), make([]float32, kernels.StepStateLen)
				prog := b.NewProgram()
				defer prog.Close()
				prog.Write(state, host)
				prog.SGD(param, grad, buf, state, o)
				if err := prog.Err(); err != nil {
					t.Fatal(err)
				}
				prevP, prevB := f64(pv), f64(bv)
				for i, s := range optimSteps {
					gv := h.uniform(n, -1, 1)
					h.upload(grad, gv)
					kernels.FillStepState(host, s.t, s.lr, 0.9, 0.999, 0)
					if err := prog.Run(); err != nil {
						t.Fatalf("Run %d: %v", i+1, err)
					}
					gotP, gotB := h.get(param), h.get(buf)
					wantP, wantB := specSGD(prevP, f64(gv), prevB, float64(host[kernels.StepLR]), o, s.t == 1)
					name := func(v string) string { return fmt.Sprintf("Run %d (t=%d, lr=%g): %s", i+1, s.t, s.lr, v) }
					if o.Momentum == 0 {
						check(t, name("buf (momentum 0: untouched)"), gotB, f64(bv), 0, 0)
					} else {
						// A few roundings on values ≤ ~5 in size.
						check(t, name("buf"), gotB, wantB, 16*eps32, 8*eps32)
					}
					check(t, name("p"), gotP, wantP, 16*eps32, 8*eps32)
					prevP, prevB = f64(gotP), f64(gotB)
				}
			})
		}
	}
}

// testAdam is testSGD for Adam and AdamW: the step state carries the
// bias corrections of each step (FillStepState with the optimizer's
// betas and weight decay) and the decoupled decay factor.
func testAdam(t *testing.T, b kernels.Backend) {
	for _, o := range []kernels.AdamParams{
		{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
		{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01},
		{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01, Decoupled: true},
		{Beta1: 0.5, Beta2: 0.9, Eps: 1e-6, WeightDecay: 0.1, Decoupled: true},
		{Beta1: 0, Beta2: 0.5, Eps: 1e-3}, // no momentum: m is g
	} {
		for _, n := range []int{1, 33, 65537} {
			name := fmt.Sprintf("n=%d,betas=%g,%g,eps=%g,wd=%g,decoupled=%v", n, o.Beta1, o.Beta2, o.Eps, o.WeightDecay, o.Decoupled)
			t.Run(name, func(t *testing.T) {
				h := newHarness(t, b, uint64(9500+n))
				pv := h.uniform(n, -1, 1)
				zeros := make([]float32, n)
				param, grad := h.mut(pv, n), h.newTensor(n)
				m, v := h.mut(zeros, n), h.mut(zeros, n)
				state, host := h.newTensor(kernels.StepStateLen), make([]float32, kernels.StepStateLen)
				prog := b.NewProgram()
				defer prog.Close()
				prog.Write(state, host)
				prog.Adam(param, grad, m, v, state, o)
				if err := prog.Err(); err != nil {
					t.Fatal(err)
				}
				prevP, prevM, prevV := f64(pv), f64(zeros), f64(zeros)
				for i, s := range optimSteps {
					if s.t == 1 && i > 0 {
						// A restart is a fresh optimizer: zero moments.
						h.upload(m, zeros)
						h.upload(v, zeros)
						prevM, prevV = f64(zeros), f64(zeros)
					}
					gv := h.uniform(n, -1, 1)
					h.upload(grad, gv)
					kernels.FillStepState(host, s.t, s.lr/10, o.Beta1, o.Beta2, o.WeightDecay)
					if err := prog.Run(); err != nil {
						t.Fatalf("Run %d: %v", i+1, err)
					}
					gotP, gotM, gotV := h.get(param), h.get(m), h.get(v)
					wantP, wantM, wantV := specAdam(prevP, f64(gv), prevM, prevV,
						float64(host[kernels.StepAdamLR]), float64(host[kernels.StepAdamBC2]), float64(host[kernels.StepDecay]), o)
					name := func(v string) string { return fmt.Sprintf("Run %d (t=%d, lr=%g): %s", i+1, s.t, s.lr/10, v) }
					// m and v: two products and a sum each, on values ≤ 1
					// (about 1.1 with weight decay); p: a handful of
					// roundings in a step of at most ~lr/(1−β1) plus p's own.
					check(t, name("m"), gotM, wantM, 4*eps32, 8*eps32)
					check(t, name("v"), gotV, wantV, 4*eps32, 8*eps32)
					check(t, name("p"), gotP, wantP, 16*eps32, 8*eps32)
					prevP, prevM, prevV = f64(gotP), f64(gotM), f64(gotV)
				}
			})
		}
	}
}
