package cpu

// Losses (mean reduction): each loss next to its gradient. The losses
// sum per-element terms in float64, one partial per goroutine.

import (
	"math"

	"github.com/vkneuro/vkneuro/kernels"
)

// loss records loss[0] = Σ over chunks of term(a chunk, b chunk) / n for
// same-shaped a and b, chunks summed in parallel as in reduce.
func (p *Program) loss(op string, loss, a, b *kernels.Tensor, term func(a, b []float32) float64) {
	if !p.ok(kernels.LossShapes(op, loss, a, b)) {
		return
	}
	s, ok := p.slices(op, []string{"loss", "input", "target"}, loss, a, b)
	if !ok {
		return
	}
	ld, ad, bd := s[0], s[1], s[2]
	partial := make([]float64, p.parts(len(ad), elemGrain))
	body := func(part, lo, hi int) { partial[part] = term(ad[lo:hi], bd[lo:hi]) }
	p.add(func() error {
		p.parallel(len(ad), elemGrain, body)
		var v float64
		for _, pv := range partial {
			v += pv
		}
		ld[0] = float32(v / float64(len(ad)))
		return nil
	})
}

// BCELoss sets loss[0] = −mean(t·log p + (1−t)·log(1−p)), logs clamped at −100.
func (p *Program) BCELoss(loss, pr, target *kernels.Tensor) {
	p.loss("BCELoss", loss, pr, target, func(pd, td []float32) float64 {
		var acc float64
		for i, v := range pd {
			lp := max(math.Log(float64(v)), -100)
			lq := max(math.Log(1-float64(v)), -100)
			t := float64(td[i])
			acc -= t*lp + (1-t)*lq
		}
		return acc
	})
}

// bceEps is PyTorch's EPSILON in binary_cross_entropy_backward.
const bceEps = 1e-12

// BCEBackward sets dp = (p − t) / max(p·(1−p), 1e-12) / n.
func (p *Program) BCEBackward(dp, pr, target *kernels.Tensor) {
	p.elementwise("BCEBackward", []string{"dp", "p", "target"}, []*kernels.Tensor{dp, pr, target}, func(lo, hi int, s [][]float32) {
		inv := 1 / float64(len(s[0]))
		dd, pd, td := s[0][lo:hi], s[1][lo:hi], s[2][lo:hi]
		for i, v := range pd {
			pv := float64(v)
			dd[i] = float32((pv - float64(td[i])) / max(pv*(1-pv), bceEps) * inv)
		}
	})
}

// MSELoss sets loss[0] = mean((y − t)²).
func (p *Program) MSELoss(loss, y, target *kernels.Tensor) {
	p.loss("MSELoss", loss, y, target, func(yd, td []float32) float64 {
		var acc float64
		for i, v := range yd {
			d := float64(v) - float64(td[i])
			acc += d * d
		}
		return acc
	})
}

// MSEBackward sets dy = 2(y − t)/n.
func (p *Program) MSEBackward(dy, y, target *kernels.Tensor) {
	p.elementwise("MSEBackward", []string{"dy", "y", "target"}, []*kernels.Tensor{dy, y, target}, func(lo, hi int, s [][]float32) {
		c := 2 / float32(len(s[0]))
		dd, yd, td := s[0][lo:hi], s[1][lo:hi], s[2][lo:hi]
		for i, v := range yd {
			dd[i] = c * (v - td[i])
		}
	})
}

// classIndex converts row i's class label, checking its range.
func classIndex(op string, target []float32, i, c int) (int, error) {
	k, ok := kernels.ClassIndex(target[i], c)
	if !ok {
		return 0, kernels.ClassIndexError("cpu", op, i, target[i], c)
	}
	return k, nil
}

// NLLLoss sets loss[0] = −mean(logp[i, target[i]]).
func (p *Program) NLLLoss(loss, logp, target *kernels.Tensor) {
	n, c, err := kernels.NLLDims("NLLLoss", logp, target)
	if !p.ok(err) || !p.ok(kernels.Scalar("NLLLoss", "loss", loss)) {
		return
	}
	s, ok := p.slices("NLLLoss", []string{"loss", "logp", "target"}, loss, logp, target)
	if !ok {
		return
	}
	ld, lpd, td := s[0], s[1], s[2]
	p.add(func() error {
		var acc float64
		for i := 0; i < n; i++ {
			k, err := classIndex("NLLLoss", td, i, c)
			if err != nil {
				return err
			}
			acc -= float64(lpd[i*c+k])
		}
		ld[0] = float32(acc / float64(n))
		return nil
	})
}

// NLLBackward sets dlogp[i, target[i]] = −1/N and every other element to 0.
func (p *Program) NLLBackward(dlogp, target *kernels.Tensor) {
	n, c, err := kernels.NLLDims("NLLBackward", dlogp, target)
	if !p.ok(err) {
		return
	}
	s, ok := p.slices("NLLBackward", []string{"dlogp", "target"}, dlogp, target)
	if !ok {
		return
	}
	dd, td := s[0], s[1]
	g := -1 / float32(n)
	p.add(func() error {
		clear(dd)
		for i := 0; i < n; i++ {
			k, err := classIndex("NLLBackward", td, i, c)
			if err != nil {
				return err
			}
			dd[i*c+k] = g
		}
		return nil
	})
}

// BCEWithLogitsLoss sets loss[0] to the mean of the binary cross-entropy
// of σ(x) against t, in the form max(x, 0) − t·x + log1p(exp(−|x|)):
// the doc's (1 − t)·x + m + log(exp(−m) + exp(−x − m)) with the two
// cases of m = max(−x, 0) written out, one exp instead of two.
func (p *Program) BCEWithLogitsLoss(loss, x, target *kernels.Tensor) {
	p.loss("BCEWithLogitsLoss", loss, x, target, func(xd, td []float32) float64 {
		var acc float64
		for i, v := range xd {
			xv := float64(v)
			acc += max(xv, 0) - float64(td[i])*xv + math.Log1p(float64(exp32(-abs32(v))))
		}
		return acc
	})
}

// BCEWithLogitsBackward sets dx = (σ(x) − t)/n.
func (p *Program) BCEWithLogitsBackward(dx, x, target *kernels.Tensor) {
	p.elementwise("BCEWithLogitsBackward", []string{"dx", "x", "target"}, []*kernels.Tensor{dx, x, target}, func(lo, hi int, s [][]float32) {
		inv := 1 / float64(len(s[0]))
		dd, xd, td := s[0][lo:hi], s[1][lo:hi], s[2][lo:hi]
		dd = dd[:len(xd)]
		for i, v := range xd {
			dd[i] = float32((float64(sigmoid32(v)) - float64(td[i])) * inv)
		}
	})
}

// PoissonNLLLoss sets loss[0] to the mean of exp(x) − t·x (logInput) or
// x − t·log(x + eps).
func (p *Program) PoissonNLLLoss(loss, x, target *kernels.Tensor, logInput bool, eps float32) {
	e := float64(eps)
	p.loss("PoissonNLLLoss", loss, x, target, func(xd, td []float32) float64 {
		var acc float64
		for i, v := range xd {
			xv, tv := float64(v), float64(td[i])
			if logInput {
				acc += float64(exp32(v)) - tv*xv
			} else {
				acc += xv - tv*math.Log(xv+e)
			}
		}
		return acc
	})
}

// PoissonNLLBackward sets dx = (exp(x) − t)/n (logInput) or
// (1 − t/(x + eps))/n.
func (p *Program) PoissonNLLBackward(dx, x, target *kernels.Tensor, logInput bool, eps float32) {
	e := float64(eps)
	p.elementwise("PoissonNLLBackward", []string{"dx", "x", "target"}, []*kernels.Tensor{dx, x, target}, func(lo, hi int, s [][]float32) {
		inv := 1 / float64(len(s[0]))
		dd, xd, td := s[0][lo:hi], s[1][lo:hi], s[2][lo:hi]
		dd = dd[:len(xd)]
		for i, v := range xd {
			xv, tv := float64(v), float64(td[i])
			if logInput {
				dd[i] = float32((float64(exp32(v)) - tv) * inv)
			} else {
				dd[i] = float32((1 - tv/(xv+e)) * inv)
			}
		}
	})
}
