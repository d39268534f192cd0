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
	t.Run("sgd", func(t *testing.T) {
		// lr 0.1, momentum 0.9, weight decay 0.01, as in the script.
		h := newHarness(t, b, 1)
		p0, _ := g.get(t, "sgd/p0")
		param, grad := h.mut(p0, len(p0)), h.newTensor(len(p0))
		buf := h.mut(make([]float32, len(p0)), len(p0))
		state := h.in("state", stepState(0.1, 2), kernels.StepStateLen)
		prog := b.NewProgram()
		defer prog.Close()
		prog.SGD(param, grad, buf, state, kernels.SGDParams{Momentum: 0.9, WeightDecay: 0.01})
		for step := 0; step < 3; step++ {
			gv, _ := g.get(t, fmt.Sprintf("sgd/grad%d", step))
			h.upload(grad, gv)
			if err := prog.Run(); err != nil {
				t.Fatal(err)
			}
			// Rounding compounds over three steps of values ≤ ~3.
			check(t, fmt.Sprintf("step %d: buf", step+1), h.get(buf), g.want(t, fmt.Sprintf("sgd/buf%d", step+1)), 64*eps32, 16*eps32)
			check(t, fmt.Sprintf("step %d: p", step+1), h.get(param), g.want(t, fmt.Sprintf("sgd/p%d", step+1)), 64*eps32, 16*eps32)
		}
	})
}
