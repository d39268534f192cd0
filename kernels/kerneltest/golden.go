package kerneltest

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sbinet/npyio/npz"

	"github.com/vkneuro/vkneuro/kernels"
)

// goldenFile is the PyTorch fixture, relative to the module root; it is
// written by testdata/kernels/gen_kernel_fixtures.py.
const goldenFile = "testdata/kernels/golden.npz"

// findModuleFile returns rel under the module root, found by walking up
// to go.mod from this source file and from the working directory (the
// suite runs from each backend's package directory).
func findModuleFile(rel string) (string, error) {
	var starts []string
	if _, file, _, ok := runtime.Caller(0); ok {
		starts = append(starts, filepath.Dir(file))
	}
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	for _, dir := range starts {
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				p := filepath.Join(dir, filepath.FromSlash(rel))
				if _, err := os.Stat(p); err == nil {
					return p, nil
				}
				break
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("kerneltest: %s not found under the module root (looked up from %s)", rel, strings.Join(starts, ", "))
}

// golden holds the fixture's arrays by key ("case/name").
type golden struct {
	path   string
	arrays map[string][]float32
	shapes map[string][]int
}

func loadGolden() (*golden, error) {
	path, err := findModuleFile(goldenFile)
	if err != nil {
		return nil, err
	}
	r, err := npz.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kerneltest: %s: %w", path, err)
	}
	defer r.Close()
	g := &golden{path: path, arrays: map[string][]float32{}, shapes: map[string][]int{}}
	for _, key := range r.Keys() {
		var v []float32
		if err := r.Read(key, &v); err != nil {
			return nil, fmt.Errorf("kerneltest: %s: key %q: %w", path, key, err)
		}
		name := strings.TrimSuffix(key, ".npy")
		g.arrays[name] = v
		g.shapes[name] = append([]int(nil), r.Header(key).Descr.Shape...)
	}
	if len(g.arrays) == 0 {
		return nil, errors.New("kerneltest: " + path + ": no arrays")
	}
	return g, nil
}

// get returns an array and its shape, failing the test if it is missing.
func (g *golden) get(t testing.TB, key string) ([]float32, []int) {
	t.Helper()
	v, ok := g.arrays[key]
	if !ok {
		t.Fatalf("%s: no key %q (regenerate it with testdata/kernels/gen_kernel_fixtures.py)", g.path, key)
	}
	shape := g.shapes[key]
	if len(shape) == 0 {
		shape = []int{1} // a 0-d array holds one value
	}
	return v, shape
}

// in uploads a fixture array as an input of the case.
func (g *golden) in(t testing.TB, h *harness, key string) (*kernels.Tensor, []float32) {
	t.Helper()
	v, shape := g.get(t, key)
	return h.in(key, v, shape...), v
}

// want returns a fixture array as float64 reference values.
func (g *golden) want(t testing.TB, key string) []float64 {
	t.Helper()
	v, _ := g.get(t, key)
	return f64(v)
}

// testGolden runs every op on PyTorch's inputs and checks PyTorch's
// outputs and gradients. The tolerances are those of the spec tests: the
// PyTorch values carry float32 rounding of their own, which those
// tolerances (≈20× the typical error of one float32 computation) cover.
func testGolden(t *testing.T, b kernels.Backend) {
	g, err := loadGolden()
	if err != nil {
		t.Fatal(err)
	}
	nan := float32(math.NaN())
	for _, c := range []struct {
		name string
		p    kernels.Conv2DParams
	}{
		{"conv_s2p1", kernels.Conv2DParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
		{"conv_s12p20", kernels.Conv2DParams{StrideH: 1, StrideW: 2, PadH: 2, PadW: 0}},
		{"conv_tutorial", kernels.Conv2DParams{PadH: 3, PadW: 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, b, 1)
			x, xv := g.in(t, h, c.name+"/x")
			w, wv := g.in(t, h, c.name+"/w")
			bias, _ := g.in(t, h, c.name+"/b")
			dy, dyv := g.in(t, h, c.name+"/dy")
			y := h.out(nan, dy.Shape...)
			dx, dw, db := h.out(nan, x.Shape...), h.out(nan, w.Shape...), h.out(nan, bias.Shape...)
			h.run(func(p kernels.Program) {
				p.Conv2D(y, x, w, bias, c.p)
				p.Conv2DBackwardInput(dx, dy, w, c.p)
				p.Conv2DBackwardWeight(dw, db, dy, x, c.p)
			})
			k := w.Shape[1] * w.Shape[2] * w.Shape[3]
			atol, rtol := dotTol(k, rms(xv)*rms(wv))
			check(t, "y", h.get(y), g.want(t, c.name+"/y"), atol, rtol)
			atol, rtol = dotTol(w.Shape[0]*w.Shape[2]*w.Shape[3], rms(dyv)*rms(wv))
			check(t, "dx", h.get(dx), g.want(t, c.name+"/dx"), atol, rtol)
			terms := dy.Shape[0] * dy.Shape[2] * dy.Shape[3]
			atol, rtol = dotTol(terms, rms(dyv)*rms(xv))
			check(t, "dw", h.get(dw), g.want(t, c.name+"/dw"), atol, rtol)
			atol, rtol = dotTol(terms, rms(dyv))
			check(t, "db", h.get(db), g.want(t, c.name+"/db"), atol, rtol)
		})
	}
	for _, c := range []struct {
		name string
		p    kernels.Pool2DParams
	}{
		{"pool_k3s2", kernels.Pool2DParams{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}},
		{"pool_k23s12", kernels.Pool2DParams{KernelH: 2, KernelW: 3, StrideH: 1, StrideW: 2}},
		{"pool_ties", kernels.Pool2DParams{KernelH: 2, KernelW: 2, StrideH: 1, StrideW: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, b, 1)
			x, _ := g.in(t, h, c.name+"/x")
			dy, dyv := g.in(t, h, c.name+"/dy")
			y, am := h.out(nan, dy.Shape...), h.out(nan, dy.Shape...)
			dx := h.out(nan, x.Shape...)
			h.run(func(p kernels.Program) {
				p.MaxPool2D(y, am, x, c.p)
				p.MaxPool2DBackward(dx, dy, am, c.p)
			})
			check(t, "y", h.get(y), g.want(t, c.name+"/y"), 0, 0)
			check(t, "argmax", h.get(am), g.want(t, c.name+"/argmax"), 0, 0)
			// At most ⌈3/2⌉² = 4 overlapping windows add into one input.
			atol, rtol := dotTol(4, rms(dyv))
			check(t, "dx", h.get(dx), g.want(t, c.name+"/dx"), atol, rtol)
		})
	}
	for _, c := range []struct {
		name string
		dim  int
		log  bool
	}{
		{"softmax_dim1", 1, false},
		{"logsoftmax_dim1", 1, true},
		{"logsoftmax_2d", 1, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, b, 1)
			x, _ := g.in(t, h, c.name+"/x")
			dy, dyv := g.in(t, h, c.name+"/dy")
			yRef, _ := g.in(t, h, c.name+"/y")
			y, dx := h.out(nan, x.Shape...), h.out(nan, x.Shape...)
			h.run(func(p kernels.Program) {
				p.Softmax(y, x, c.dim, c.log)
				p.SoftmaxBackward(dx, dy, yRef, c.dim, c.log)
			})
			n := x.Shape[c.dim]
			// As in testSoftmax: exp/log to a few ulp, an n-term normaliser.
			check(t, "y", h.get(y), g.want(t, c.name+"/y"), 16*eps32*(8+4), sumTol(n))
			atol, rtol := dotTol(n, rms(dyv))
			check(t, "dx", h.get(dx), g.want(t, c.name+"/dx"), atol+1e-7, rtol+16*eps32)
		})
	}
	t.Run("bce", func(t *testing.T) {
		h := newHarness(t, b, 1)
		pp, pv := g.in(t, h, "bce/p")
		tg, _ := g.in(t, h, "bce/target")
		loss, dp := h.out(nan, 1), h.out(nan, pp.Shape...)
		h.run(func(p kernels.Program) {
			p.BCELoss(loss, pp, tg)
			p.BCEBackward(dp, pp, tg)
		})
		checkScalar(t, "loss", h.get(loss)[0], g.want(t, "bce/loss")[0], 0, sumTol(len(pv)))
		check(t, "dp", h.get(dp), g.want(t, "bce/dp"), 0, 16*eps32)
	})
	t.Run("mse", func(t *testing.T) {
		h := newHarness(t, b, 1)
		y, yv := g.in(t, h, "mse/y")
		tg, _ := g.in(t, h, "mse/target")
		loss, dy := h.out(nan, 1), h.out(nan, y.Shape...)
		h.run(func(p kernels.Program) {
			p.MSELoss(loss, y, tg)
			p.MSEBackward(dy, y, tg)
		})
		checkScalar(t, "loss", h.get(loss)[0], g.want(t, "mse/loss")[0], 0, sumTol(len(yv)))
		check(t, "dy", h.get(dy), g.want(t, "mse/dy"), 0, 4*eps32)
	})
	t.Run("nll", func(t *testing.T) {
		h := newHarness(t, b, 1)
		lp, _ := g.in(t, h, "nll/logp")
		tg, tv := g.in(t, h, "nll/target")
		loss, d := h.out(nan, 1), h.out(nan, lp.Shape...)
		h.run(func(p kernels.Program) {
			p.NLLLoss(loss, lp, tg)
			p.NLLBackward(d, tg)
		})
		checkScalar(t, "loss", h.get(loss)[0], g.want(t, "nll/loss")[0], 0, sumTol(len(tv)))
		check(t, "dlogp", h.get(d), g.want(t, "nll/dlogp"), 0, eps32)
	})
	for _, name := range []string{"l1", "l2"} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, b, 1)
			w, wv := g.in(t, h, name+"/w")
			coef := g.want(t, name+"/coef")[0]
			loss, dw := h.out(0, 1), h.out(0, w.Shape...)
			h.run(func(p kernels.Program) {
				if name == "l1" {
					p.L1Penalty(loss, w, float32(coef))
					p.L1PenaltyGrad(dw, w, float32(coef))
				} else {
					p.L2Penalty(loss, w, float32(coef))
					p.L2PenaltyGrad(dw, w, float32(coef))
				}
			})
			checkScalar(t, "loss", h.get(loss)[0], g.want(t, name+"/loss")[0], 0, sumTol(len(wv)))
			check(t, "dw", h.get(dw), g.want(t, name+"/dw"), 0, 4*eps32)
		})
	}
	t.Run("relu_sigmoid", func(t *testing.T) {
		h := newHarness(t, b, 1)
		xr, _ := g.in(t, h, "relu/x")
		xs, _ := g.in(t, h, "sigmoid/x")
		dy, _ := g.in(t, h, "relu/dy")
		// The backward ops get PyTorch's y: near y = 1 an ulp of y is a
		// large relative change of 1−y.
		yrRef, _ := g.in(t, h, "relu/y")
		ysRef, _ := g.in(t, h, "sigmoid/y")
		yr, ys := h.out(nan, xr.Shape...), h.out(nan, xs.Shape...)
		dxr, dxs := h.out(nan, xr.Shape...), h.out(nan, xs.Shape...)
		h.run(func(p kernels.Program) {
			p.ReLU(yr, xr)
			p.Sigmoid(ys, xs)
			p.ReLUBackward(dxr, dy, yrRef)
			p.SigmoidBackward(dxs, dy, ysRef)
		})
		check(t, "relu y", h.get(yr), g.want(t, "relu/y"), 0, 0)
		check(t, "relu dx", h.get(dxr), g.want(t, "relu/dx"), 0, 0)
		check(t, "sigmoid y", h.get(ys), g.want(t, "sigmoid/y"), 1e-9, 32*eps32)
		check(t, "sigmoid dx", h.get(dxs), g.want(t, "sigmoid/dx"), 1e-12, 8*eps32)
	})
	t.Run("reduce", func(t *testing.T) {
		h := newHarness(t, b, 1)
		x, xv := g.in(t, h, "reduce/x")
		sum, mean := h.out(nan, 1), h.out(nan, 1)
		h.run(func(p kernels.Program) {
			p.Sum(sum, x)
			p.Mean(mean, x)
		})
		atol, rtol := dotTol(len(xv), rms(xv))
		checkScalar(t, "sum", h.get(sum)[0], g.want(t, "reduce/sum")[0], atol, rtol)
		checkScalar(t, "mean", h.get(mean)[0], g.want(t, "reduce/mean")[0], atol/float64(len(xv)), rtol)
	})
	t.Run("linear", func(t *testing.T) {
		// y = x·Wᵀ + b; dx = dy·W; dW = dyᵀ·x; db = Σ dy, as the models use them.
		h := newHarness(t, b, 1)
		x, xv := g.in(t, h, "linear/x")
		w, wv := g.in(t, h, "linear/w")
		bias, _ := g.in(t, h, "linear/b")
		dy, dyv := g.in(t, h, "linear/dy")
		y, dx := h.out(nan, dy.Shape...), h.out(nan, x.Shape...)
		dw, db := h.out(nan, w.Shape...), h.out(nan, bias.Shape...)
		h.run(func(p kernels.Program) {
			p.MatMul(y, x, w, false, true, 1, 0)
			p.AddBias(y, bias)
			p.MatMul(dx, dy, w, false, false, 1, 0)
			p.MatMul(dw, dy, x, true, false, 1, 0)
			p.BiasGrad(db, dy)
		})
		atol, rtol := dotTol(x.Shape[1], rms(xv)*rms(wv))
		check(t, "y", h.get(y), g.want(t, "linear/y"), atol+2*eps32, rtol)
		atol, rtol = dotTol(w.Shape[0], rms(dyv)*rms(wv))
		check(t, "dx", h.get(dx), g.want(t, "linear/dx"), atol, rtol)
		atol, rtol = dotTol(x.Shape[0], rms(dyv)*rms(xv))
		check(t, "dw", h.get(dw), g.want(t, "linear/dw"), atol, rtol)
		atol, rtol = dotTol(x.Shape[0], rms(dyv))
		check(t, "db", h.get(db), g.want(t, "linear/db"), atol, rtol)
	})
	testGoldenExtended(t, b, g)
}

// testGoldenExtended is testGolden for the extended op set.
func testGoldenExtended(t *testing.T, b kernels.Backend, g *golden) {
	nan := float32(math.NaN())
	// unary runs an activation and its backward on PyTorch's inputs; the
	// backward gets PyTorch's forward output or input, as the op takes.
	unary := func(name string, rec func(p kernels.Program, y, dx, x, yRef, dy *kernels.Tensor), atolY, rtolY, atolDX, rtolDX float64) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, b, 1)
			x, _ := g.in(t, h, name+"/x")
			dy, _ := g.in(t, h, name+"/dy")
			yRef, _ := g.in(t, h, name+"/y")
			y, dx := h.out(nan, x.Shape...), h.out(nan, x.Shape...)
			h.run(func(p kernels.Program) { rec(p, y, dx, x, yRef, dy) })
			check(t, "y", h.get(y), g.want(t, name+"/y"), atolY, rtolY)
			check(t, "dx", h.get(dx), g.want(t, name+"/dx"), atolDX, rtolDX)
		})
	}
	// Tolerances as in testActivations.
	unary("tanh", func(p kernels.Program, y, dx, x, yRef, dy *kernels.Tensor) {
		p.Tanh(y, x)
		p.TanhBackward(dx, dy, yRef)
	}, 2*eps32, 8*eps32, 2*eps32, 8*eps32)
	alpha := float32(g.want(t, "elu/alpha")[0])
	unary("elu", func(p kernels.Program, y, dx, x, yRef, dy *kernels.Tensor) {
		p.ELU(y, x, alpha)
		p.ELUBackward(dx, dy, x, alpha)
	}, 2*eps32, 8*eps32, 1e-30, 16*eps32)
	beta, th := float32(g.want(t, "softplus/beta")[0]), float32(g.want(t, "softplus/threshold")[0])
	unary("softplus", func(p kernels.Program, y, dx, x, yRef, dy *kernels.Tensor) {
		p.Softplus(y, x, beta, th)
		p.SoftplusBackward(dx, dy, x, beta, th)
	}, 2*eps32, 8*eps32, 1e-30, 16*eps32)
	for _, c := range []struct {
		name string
		p    kernels.Pool2DParams
	}{
		{"avgpool_k2", kernels.Pool2DParams{KernelH: 2, KernelW: 2}},
		{"avgpool_k3s2", kernels.Pool2DParams{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}},
		{"avgpool_k23s34", kernels.Pool2DParams{KernelH: 2, KernelW: 3, StrideH: 3, StrideW: 4}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, b, 1)
			x, xv := g.in(t, h, c.name+"/x")
			dy, dyv := g.in(t, h, c.name+"/dy")
			y, dx := h.out(nan, dy.Shape...), h.out(nan, x.Shape...)
			h.run(func(p kernels.Program) {
				p.AvgPool2D(y, x, c.p)
				p.AvgPool2DBackward(dx, dy, c.p)
			})
			k := c.p.KernelH * c.p.KernelW
			atol, rtol := dotTol(k, rms(xv)/float64(k))
			check(t, "y", h.get(y), g.want(t, c.name+"/y"), atol, rtol)
			// At most ⌈3/2⌉² = 4 overlapping windows add into one input.
			atol, rtol = dotTol(4, rms(dyv)/float64(k))
			check(t, "dx", h.get(dx), g.want(t, c.name+"/dx"), atol, rtol)
		})
	}
	t.Run("bce_logits", func(t *testing.T) {
		h := newHarness(t, b, 1)
		x, xv := g.in(t, h, "bce_logits/x")
		tg, tv := g.in(t, h, "bce_logits/target")
		loss, dx := h.out(nan, 1), h.out(nan, x.Shape...)
		h.run(func(p kernels.Program) {
			p.BCEWithLogitsLoss(loss, x, tg)
			p.BCEWithLogitsBackward(dx, x, tg)
		})
		xf, tf := f64(xv), f64(tv)
		atol, rtol := lossTol(func(i int) float64 { return specBCEWithLogitsLoss(xf[i:i+1], tf[i:i+1]) }, len(xv))
		checkScalar(t, "loss", h.get(loss)[0], g.want(t, "bce_logits/loss")[0], atol, rtol)
		check(t, "dx", h.get(dx), g.want(t, "bce_logits/dx"), 4*eps32/float64(len(xv)), 8*eps32)
	})
	for _, c := range []struct {
		name     string
		logInput bool
	}{{"poisson_log", true}, {"poisson", false}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t, b, 1)
			x, xv := g.in(t, h, c.name+"/x")
			tg, tv := g.in(t, h, c.name+"/target")
			eps := float32(g.want(t, c.name+"/eps")[0])
			loss, dx := h.out(nan, 1), h.out(nan, x.Shape...)
			h.run(func(p kernels.Program) {
				p.PoissonNLLLoss(loss, x, tg, c.logInput, eps)
				p.PoissonNLLBackward(dx, x, tg, c.logInput, eps)
			})
			xf, tf, n := f64(xv), f64(tv), len(xv)
			atol, rtol := lossTol(func(i int) float64 { return specPoissonNLLLoss(xf[i:i+1], tf[i:i+1], c.logInput, float64(eps)) }, n)
			checkScalar(t, "loss", h.get(loss)[0], g.want(t, c.name+"/loss")[0], atol, rtol)
			check(t, "dx", h.get(dx), g.want(t, c.name+"/dx"), 8*eps32*math.Max(1, maxAbs(tv))/float64(n), 16*eps32)
		})
	}
	// The optimizers: three steps of one recorded Program at the
	// learning rates the script set, with the step state written by the
	// Program, as the models run them. Hyper-parameters as in the script.
	optim := func(name string, rec func(p kernels.Program, param, grad, buf1, buf2, state *kernels.Tensor), bufs []string, beta1, beta2, wd float64) {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, b, 1)
			p0, _ := g.get(t, name+"/p0")
			lrs := g.want(t, name+"/lr")
			n := len(p0)
			param, grad := h.mut(p0, n), h.newTensor(n)
			b1, b2 := h.mut(make([]float32, n), n), h.mut(make([]float32, n), n)
			state, host := h.newTensor(kernels.StepStateLen), make([]float32, kernels.StepStateLen)
			prog := b.NewProgram()
			defer prog.Close()
			prog.Write(state, host)
			rec(prog, param, grad, b1, b2, state)
			if err := prog.Err(); err != nil {
				t.Fatal(err)
			}
			for step, lr := range lrs {
				gv, _ := g.get(t, fmt.Sprintf("%s/grad%d", name, step))
				h.upload(grad, gv)
				kernels.FillStepState(host, uint32(step+1), lr, beta1, beta2, wd)
				if err := prog.Run(); err != nil {
					t.Fatal(err)
				}
				// Rounding compounds over three steps of values ≤ ~3.
				for i, buf := range []*kernels.Tensor{b1, b2}[:len(bufs)] {
					key := fmt.Sprintf("%s/%s%d", name, bufs[i], step+1)
					check(t, fmt.Sprintf("step %d: %s", step+1, bufs[i]), h.get(buf), g.want(t, key), 64*eps32, 16*eps32)
				}
				check(t, fmt.Sprintf("step %d: p", step+1), h.get(param), g.want(t, fmt.Sprintf("%s/p%d", name, step+1)), 64*eps32, 16*eps32)
			}
		})
	}
	optim("sgd", func(p kernels.Program, param, grad, buf, _, state *kernels.Tensor) {
		p.SGD(param, grad, buf, state, kernels.SGDParams{Momentum: 0.9, WeightDecay: 0.01})
	}, []string{"buf"}, 0, 0, 0)
	optim("sgd_nesterov", func(p kernels.Program, param, grad, buf, _, state *kernels.Tensor) {
		p.SGD(param, grad, buf, state, kernels.SGDParams{Momentum: 0.9, Nesterov: true, WeightDecay: 0.01})
	}, []string{"buf"}, 0, 0, 0)
	optim("sgd_dampening", func(p kernels.Program, param, grad, buf, _, state *kernels.Tensor) {
		p.SGD(param, grad, buf, state, kernels.SGDParams{Momentum: 0.9, Dampening: 0.3})
	}, []string{"buf"}, 0, 0, 0)
	adam := kernels.AdamParams{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01}
	optim("adam", func(p kernels.Program, param, grad, m, v, state *kernels.Tensor) {
		p.Adam(param, grad, m, v, state, adam)
	}, []string{"m", "v"}, adam.Beta1, adam.Beta2, adam.WeightDecay)
	adamw := kernels.AdamParams{Beta1: 0.8, Beta2: 0.99, Eps: 1e-6, WeightDecay: 0.1, Decoupled: true}
	optim("adamw", func(p kernels.Program, param, grad, m, v, state *kernels.Tensor) {
		p.Adam(param, grad, m, v, state, adamw)
	}, []string{"m", "v"}, adamw.Beta1, adamw.Beta2, adamw.WeightDecay)
	t.Run("dropout", func(t *testing.T) {
		// The script draws the mask with its port of kernels.DropoutHash
		// and applies it as PyTorch's dropout does: the mask must be
		// DropoutKeep's, and y and dx PyTorch's, exactly.
		h := newHarness(t, b, 1)
		params := g.want(t, "dropout/params")
		pr, seed, step := float32(params[0]), uint32(params[1]), uint32(params[2])
		mask, _ := g.get(t, "dropout/mask")
		for i, m := range mask {
			if keep := kernels.DropoutKeep(seed, step, uint32(i), pr); keep != (m == 1) {
				t.Fatalf("element %d: the script's mask holds %v, kernels.DropoutKeep says kept=%v: its port of the hash differs", i, m, keep)
			}
		}
		x, _ := g.in(t, h, "dropout/x")
		dy, _ := g.in(t, h, "dropout/dy")
		state := h.in("state", stepState(0.1, step), kernels.StepStateLen)
		y, dx := h.out(nan, x.Shape...), h.out(nan, x.Shape...)
		h.run(func(p kernels.Program) {
			p.Dropout(y, x, state, pr, seed)
			p.DropoutBackward(dx, dy, state, pr, seed)
		})
		check(t, "y", h.get(y), g.want(t, "dropout/y"), 0, 0)
		check(t, "dx", h.get(dx), g.want(t, "dropout/dx"), 0, 0)
	})
}
