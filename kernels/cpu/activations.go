package cpu

// Activations: each forward op next to its backward, all element-wise
// through Program.elementwise.

import (
	"math"

	"github.com/vkneuro/vkneuro/kernels"
)

// ReLU sets y = max(x, 0); y may alias x.
func (p *Program) ReLU(y, x *kernels.Tensor) {
	p.elementwise("ReLU", []string{"y", "x"}, []*kernels.Tensor{y, x}, func(lo, hi int, s [][]float32) {
		yd, xd := s[0][lo:hi], s[1][lo:hi]
		yd = yd[:len(xd)]
		for i, v := range xd {
			yd[i] = relu32(v)
		}
	})
}

// ReLUBackward sets dx = dy where y > 0, else 0; dx may alias dy.
func (p *Program) ReLUBackward(dx, dy, y *kernels.Tensor) {
	p.elementwise("ReLUBackward", []string{"dx", "dy", "y"}, []*kernels.Tensor{dx, dy, y}, func(lo, hi int, s [][]float32) {
		dxd, dyd, yd := s[0][lo:hi], s[1][lo:hi], s[2][lo:hi]
		dxd, dyd = dxd[:len(yd)], dyd[:len(yd)]
		for i, v := range yd {
			// Keep dy where y > 0 through a mask, no branch: for the bits
			// b of y as int32, ^b & −b has its sign set iff b > 0.
			b := int32(math.Float32bits(v))
			m := uint32((^b & -b) >> 31)
			dxd[i] = math.Float32frombits(math.Float32bits(dyd[i]) & m)
		}
	})
}

// Sigmoid sets y = 1/(1+exp(−x)); y may alias x.
func (p *Program) Sigmoid(y, x *kernels.Tensor) {
	p.elementwise("Sigmoid", []string{"y", "x"}, []*kernels.Tensor{y, x}, func(lo, hi int, s [][]float32) {
		yd, xd := s[0][lo:hi], s[1][lo:hi]
		yd = yd[:len(xd)]
		for i, v := range xd {
			yd[i] = sigmoid32(v)
		}
	})
}

// SigmoidBackward sets dx = dy·y·(1−y); dx may alias dy.
func (p *Program) SigmoidBackward(dx, dy, y *kernels.Tensor) {
	p.elementwise("SigmoidBackward", []string{"dx", "dy", "y"}, []*kernels.Tensor{dx, dy, y}, func(lo, hi int, s [][]float32) {
		dxd, dyd, yd := s[0][lo:hi], s[1][lo:hi], s[2][lo:hi]
		for i, v := range yd {
			dxd[i] = dyd[i] * v * (1 - v)
		}
	})
}

// Tanh sets y = tanh(x); y may alias x.
func (p *Program) Tanh(y, x *kernels.Tensor) {
	p.elementwise("Tanh", []string{"y", "x"}, []*kernels.Tensor{y, x}, func(lo, hi int, s [][]float32) {
		yd, xd := s[0][lo:hi], s[1][lo:hi]
		yd = yd[:len(xd)]
		for i, v := range xd {
			yd[i] = tanh32(v)
		}
	})
}

// TanhBackward sets dx = dy·(1 − y²); dx may alias dy. 1 − y² is formed
// as (1 − y)(1 + y): where |y| is near 1, 1 − y is exact and y·y would
// have cost an ulp of 1, which is all of 1 − y².
func (p *Program) TanhBackward(dx, dy, y *kernels.Tensor) {
	p.elementwise("TanhBackward", []string{"dx", "dy", "y"}, []*kernels.Tensor{dx, dy, y}, func(lo, hi int, s [][]float32) {
		dxd, dyd, yd := s[0][lo:hi], s[1][lo:hi], s[2][lo:hi]
		dxd, dyd = dxd[:len(yd)], dyd[:len(yd)]
		for i, v := range yd {
			dxd[i] = dyd[i] * ((1 - v) * (1 + v))
		}
	})
}

// ELU sets y = x for x > 0, else alpha·(exp(x) − 1); y may alias x.
// exp(x) − 1 is expm1_32, which does not cancel just below 0.
func (p *Program) ELU(y, x *kernels.Tensor, alpha float32) {
	p.elementwise("ELU", []string{"y", "x"}, []*kernels.Tensor{y, x}, func(lo, hi int, s [][]float32) {
		yd, xd := s[0][lo:hi], s[1][lo:hi]
		yd = yd[:len(xd)]
		for i, v := range xd {
			if v > 0 {
				yd[i] = v
			} else {
				yd[i] = alpha * expm1_32(v)
			}
		}
	})
}

// ELUBackward sets dx = dy for x > 0, else dy·alpha·exp(x), from the
// forward input x; dx may alias dy.
func (p *Program) ELUBackward(dx, dy, x *kernels.Tensor, alpha float32) {
	p.elementwise("ELUBackward", []string{"dx", "dy", "x"}, []*kernels.Tensor{dx, dy, x}, func(lo, hi int, s [][]float32) {
		dxd, dyd, xd := s[0][lo:hi], s[1][lo:hi], s[2][lo:hi]
		dxd, dyd = dxd[:len(xd)], dyd[:len(xd)]
		for i, v := range xd {
			if v > 0 {
				dxd[i] = dyd[i]
			} else {
				dxd[i] = dyd[i] * (alpha * exp32(v))
			}
		}
	})
}

// Softplus sets y = x where beta·x > threshold, else
// log(1 + exp(beta·x))/beta; y may alias x. The branch is decided on the
// float32 product, as PyTorch; the value is max(z, 0) + log1p(exp(−|z|)),
// which neither overflows for large z nor loses the tiny values of very
// negative z, with log1p in float64 (there is no float32 one here).
func (p *Program) Softplus(y, x *kernels.Tensor, beta, threshold float32) {
	if !p.ok(kernels.SoftplusCheck("Softplus", beta, threshold)) {
		return
	}
	b := float64(beta)
	p.elementwise("Softplus", []string{"y", "x"}, []*kernels.Tensor{y, x}, func(lo, hi int, s [][]float32) {
		yd, xd := s[0][lo:hi], s[1][lo:hi]
		yd = yd[:len(xd)]
		for i, v := range xd {
			z := beta * v
			if z > threshold {
				yd[i] = v
				continue
			}
			yd[i] = float32((float64(max(z, 0)) + math.Log1p(float64(exp32(-abs32(z))))) / b)
		}
	})
}

// SoftplusBackward sets dx = dy where beta·x > threshold, else
// dy·σ(beta·x), the doc's dy·e/(e + 1) with e = exp(beta·x), from the
// forward input x; dx may alias dy.
func (p *Program) SoftplusBackward(dx, dy, x *kernels.Tensor, beta, threshold float32) {
	if !p.ok(kernels.SoftplusCheck("SoftplusBackward", beta, threshold)) {
		return
	}
	p.elementwise("SoftplusBackward", []string{"dx", "dy", "x"}, []*kernels.Tensor{dx, dy, x}, func(lo, hi int, s [][]float32) {
		dxd, dyd, xd := s[0][lo:hi], s[1][lo:hi], s[2][lo:hi]
		dxd, dyd = dxd[:len(xd)], dyd[:len(xd)]
		for i, v := range xd {
			z := beta * v
			if z > threshold {
				dxd[i] = dyd[i]
			} else {
				dxd[i] = dyd[i] * sigmoid32(z)
			}
		}
	})
}
