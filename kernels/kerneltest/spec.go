package kerneltest

import (
	"math"

	"github.com/vkneuro/vkneuro/kernels"
)

// The spec: one plain loop per op, accumulating in float64. Inputs and
// outputs are float64 slices in the ops' row-major layouts; geometry
// comes from the kernels package's shape checks so the spec and the
// backends agree on shapes by construction.

func specMatMul(c, a, b []float64, ar, ac, br, bc int, transA, transB bool, alpha, beta float64) []float64 {
	// op(a)[i, l] = a[i·ai + l·al] and op(b)[l, j] = b[l·bl + j·bj].
	m, k, ai, al := ar, ac, ac, 1
	if transA {
		m, k, ai, al = ac, ar, 1, ac
	}
	n, bl, bj := bc, bc, 1
	if transB {
		n, bl, bj = br, 1, bc
	}
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				s += a[i*ai+l*al] * b[l*bl+j*bj]
			}
			out[i*n+j] = alpha * s
			if beta != 0 {
				out[i*n+j] += beta * c[i*n+j]
			}
		}
	}
	return out
}

func specAddBias(x, bias []float64, outer, f, inner int) []float64 {
	y := make([]float64, len(x))
	for i := 0; i < outer; i++ {
		for j := 0; j < f; j++ {
			for k := 0; k < inner; k++ {
				idx := (i*f+j)*inner + k
				y[idx] = x[idx] + bias[j]
			}
		}
	}
	return y
}

func specBiasGrad(dy []float64, outer, f, inner int) []float64 {
	db := make([]float64, f)
	for i := 0; i < outer; i++ {
		for j := 0; j < f; j++ {
			for k := 0; k < inner; k++ {
				db[j] += dy[(i*f+j)*inner+k]
			}
		}
	}
	return db
}

// convIn returns the input index read by output (oh, ow) at tap (kh, kw),
// or ok == false where it falls in the zero padding.
func convIn(g kernels.ConvGeom, oh, ow, kh, kw int) (ih, iw int, ok bool) {
	ih = oh*g.StrideH + kh - g.PadH
	iw = ow*g.StrideW + kw - g.PadW
	return ih, iw, ih >= 0 && ih < g.H && iw >= 0 && iw < g.W
}

func specConv2D(x, w, bias []float64, g kernels.ConvGeom) []float64 {
	y := make([]float64, g.N*g.O*g.Ho*g.Wo)
	for n := 0; n < g.N; n++ {
		for o := 0; o < g.O; o++ {
			for oh := 0; oh < g.Ho; oh++ {
				for ow := 0; ow < g.Wo; ow++ {
					var s float64
					if bias != nil {
						s = bias[o]
					}
					for c := 0; c < g.C; c++ {
						for kh := 0; kh < g.KH; kh++ {
							for kw := 0; kw < g.KW; kw++ {
								if ih, iw, ok := convIn(g, oh, ow, kh, kw); ok {
									s += x[((n*g.C+c)*g.H+ih)*g.W+iw] * w[((o*g.C+c)*g.KH+kh)*g.KW+kw]
								}
							}
						}
					}
					y[((n*g.O+o)*g.Ho+oh)*g.Wo+ow] = s
				}
			}
		}
	}
	return y
}

func specConv2DBackwardInput(dy, w []float64, g kernels.ConvGeom) []float64 {
	dx := make([]float64, g.N*g.C*g.H*g.W)
	for n := 0; n < g.N; n++ {
		for o := 0; o < g.O; o++ {
			for oh := 0; oh < g.Ho; oh++ {
				for ow := 0; ow < g.Wo; ow++ {
					d := dy[((n*g.O+o)*g.Ho+oh)*g.Wo+ow]
					for c := 0; c < g.C; c++ {
						for kh := 0; kh < g.KH; kh++ {
							for kw := 0; kw < g.KW; kw++ {
								if ih, iw, ok := convIn(g, oh, ow, kh, kw); ok {
									dx[((n*g.C+c)*g.H+ih)*g.W+iw] += d * w[((o*g.C+c)*g.KH+kh)*g.KW+kw]
								}
							}
						}
					}
				}
			}
		}
	}
	return dx
}

func specConv2DBackwardWeight(dy, x []float64, g kernels.ConvGeom) (dw, db []float64) {
	dw = make([]float64, g.O*g.C*g.KH*g.KW)
	db = make([]float64, g.O)
	for n := 0; n < g.N; n++ {
		for o := 0; o < g.O; o++ {
			for oh := 0; oh < g.Ho; oh++ {
				for ow := 0; ow < g.Wo; ow++ {
					d := dy[((n*g.O+o)*g.Ho+oh)*g.Wo+ow]
					db[o] += d
					for c := 0; c < g.C; c++ {
						for kh := 0; kh < g.KH; kh++ {
							for kw := 0; kw < g.KW; kw++ {
								if ih, iw, ok := convIn(g, oh, ow, kh, kw); ok {
									dw[((o*g.C+c)*g.KH+kh)*g.KW+kw] += d * x[((n*g.C+c)*g.H+ih)*g.W+iw]
								}
							}
						}
					}
				}
			}
		}
	}
	return dw, db
}

// specMaxPool2D returns the maxima and, per output, the index ih·W+iw of
// the first maximum in its input plane.
func specMaxPool2D(x []float64, g kernels.PoolGeom) (y, argmax []float64) {
	y = make([]float64, g.N*g.C*g.Ho*g.Wo)
	argmax = make([]float64, len(y))
	for pl := 0; pl < g.N*g.C; pl++ {
		for oh := 0; oh < g.Ho; oh++ {
			for ow := 0; ow < g.Wo; ow++ {
				best, bi := math.Inf(-1), -1
				for kh := 0; kh < g.KH; kh++ {
					for kw := 0; kw < g.KW; kw++ {
						ih, iw := oh*g.StrideH+kh, ow*g.StrideW+kw
						if v := x[(pl*g.H+ih)*g.W+iw]; bi < 0 || v > best {
							best, bi = v, ih*g.W+iw
						}
					}
				}
				y[(pl*g.Ho+oh)*g.Wo+ow] = best
				argmax[(pl*g.Ho+oh)*g.Wo+ow] = float64(bi)
			}
		}
	}
	return y, argmax
}

func specMaxPool2DBackward(dy, argmax []float64, g kernels.PoolGeom) []float64 {
	dx := make([]float64, g.N*g.C*g.H*g.W)
	for pl := 0; pl < g.N*g.C; pl++ {
		for i := 0; i < g.Ho*g.Wo; i++ {
			dx[pl*g.H*g.W+int(argmax[pl*g.Ho*g.Wo+i])] += dy[pl*g.Ho*g.Wo+i]
		}
	}
	return dx
}

func specSoftmax(x []float64, outer, n, inner int, log bool) []float64 {
	y := make([]float64, len(x))
	for o := 0; o < outer; o++ {
		for in := 0; in < inner; in++ {
			at := func(i int) int { return (o*n+i)*inner + in }
			m := math.Inf(-1)
			for i := 0; i < n; i++ {
				m = math.Max(m, x[at(i)])
			}
			var z float64
			for i := 0; i < n; i++ {
				z += math.Exp(x[at(i)] - m)
			}
			for i := 0; i < n; i++ {
				if log {
					y[at(i)] = x[at(i)] - m - math.Log(z)
				} else {
					y[at(i)] = math.Exp(x[at(i)]-m) / z
				}
			}
		}
	}
	return y
}

func specSoftmaxBackward(dy, y []float64, outer, n, inner int, log bool) []float64 {
	dx := make([]float64, len(y))
	for o := 0; o < outer; o++ {
		for in := 0; in < inner; in++ {
			at := func(i int) int { return (o*n+i)*inner + in }
			var s float64
			for i := 0; i < n; i++ {
				if log {
					s += dy[at(i)]
				} else {
					s += dy[at(i)] * y[at(i)]
				}
			}
			for i := 0; i < n; i++ {
				if log {
					dx[at(i)] = dy[at(i)] - math.Exp(y[at(i)])*s
				} else {
					dx[at(i)] = y[at(i)] * (dy[at(i)] - s)
				}
			}
		}
	}
	return dx
}

func specReLU(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = math.Max(v, 0)
	}
	return y
}

func specReLUBackward(dy, y []float64) []float64 {
	dx := make([]float64, len(y))
	for i := range y {
		if y[i] > 0 {
			dx[i] = dy[i]
		}
	}
	return dx
}

func specSigmoid(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = 1 / (1 + math.Exp(-v))
	}
	return y
}

func specSigmoidBackward(dy, y []float64) []float64 {
	dx := make([]float64, len(y))
	for i := range y {
		dx[i] = dy[i] * y[i] * (1 - y[i])
	}
	return dx
}

func specSum(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s
}

func specMean(x []float64) float64 { return specSum(x) / float64(len(x)) }

func specBCELoss(p, t []float64) float64 {
	var s float64
	for i := range p {
		s -= t[i]*math.Max(math.Log(p[i]), -100) + (1-t[i])*math.Max(math.Log(1-p[i]), -100)
	}
	return s / float64(len(p))
}

// specBCEBackward uses PyTorch's clamp of p·(1−p) at 1e-12.
func specBCEBackward(p, t []float64) []float64 {
	dp := make([]float64, len(p))
	for i := range p {
		dp[i] = (p[i] - t[i]) / math.Max(p[i]*(1-p[i]), 1e-12) / float64(len(p))
	}
	return dp
}

func specMSELoss(y, t []float64) float64 {
	var s float64
	for i := range y {
		s += (y[i] - t[i]) * (y[i] - t[i])
	}
	return s / float64(len(y))
}

func specMSEBackward(y, t []float64) []float64 {
	dy := make([]float64, len(y))
	for i := range y {
		dy[i] = 2 * (y[i] - t[i]) / float64(len(y))
	}
	return dy
}

func specNLLLoss(logp, target []float64, n, c int) float64 {
	var s float64
	for i := 0; i < n; i++ {
		s -= logp[i*c+int(target[i])]
	}
	return s / float64(n)
}

func specNLLBackward(target []float64, n, c int) []float64 {
	d := make([]float64, n*c)
	for i := 0; i < n; i++ {
		d[i*c+int(target[i])] = -1 / float64(n)
	}
	return d
}

func specL2Penalty(loss float64, w []float64, coef float64) float64 {
	var s float64
	for _, v := range w {
		s += v * v
	}
	return loss + coef*s
}

func specL2PenaltyGrad(dw, w []float64, coef float64) []float64 {
	out := make([]float64, len(w))
	for i := range w {
		out[i] = dw[i] + 2*coef*w[i]
	}
	return out
}

func specL1Penalty(loss float64, w []float64, coef float64) float64 {
	var s float64
	for _, v := range w {
		s += math.Abs(v)
	}
	return loss + coef*s
}

func specL1PenaltyGrad(dw, w []float64, coef float64) []float64 {
	out := make([]float64, len(w))
	for i := range w {
		var sign float64
		switch {
		case w[i] > 0:
			sign = 1
		case w[i] < 0:
			sign = -1
		}
		out[i] = dw[i] + coef*sign
	}
	return out
}

// specSGD does one step of torch.optim.SGD and returns the new p and
// buf; first is the step-state flag of the optimizer's first step.
func specSGD(p, grad, buf []float64, lr float64, o kernels.SGDParams, first bool) (np, nbuf []float64) {
	np = make([]float64, len(p))
	nbuf = make([]float64, len(p))
	for i := range p {
		g := grad[i] + o.WeightDecay*p[i]
		nbuf[i] = buf[i] // momentum 0: neither read nor written
		if o.Momentum != 0 {
			if first {
				nbuf[i] = g
			} else {
				nbuf[i] = o.Momentum*buf[i] + (1-o.Dampening)*g
			}
			if o.Nesterov {
				g += o.Momentum * nbuf[i]
			} else {
				g = nbuf[i]
			}
		}
		np[i] = p[i] - lr*g
	}
	return np, nbuf
}

// specAdam does one step of torch.optim.Adam (AdamW with o.Decoupled)
// from the step state's values: lrT = lr/(1 − β1^t), bc2 = sqrt(1 − β2^t)
// and decay = 1 − lr·weight_decay.
func specAdam(p, grad, m, v []float64, lrT, bc2, decay float64, o kernels.AdamParams) (np, nm, nv []float64) {
	np, nm, nv = make([]float64, len(p)), make([]float64, len(p)), make([]float64, len(p))
	for i := range p {
		w, g := p[i], grad[i]
		if o.Decoupled {
			w *= decay
		} else {
			g += o.WeightDecay * w
		}
		nm[i] = o.Beta1*m[i] + (1-o.Beta1)*g
		nv[i] = o.Beta2*v[i] + (1-o.Beta2)*g*g
		np[i] = w - lrT*nm[i]/(math.Sqrt(nv[i])/bc2+o.Eps)
	}
	return np, nm, nv
}

func specTanh(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = math.Tanh(v)
	}
	return y
}

func specTanhBackward(dy, y []float64) []float64 {
	dx := make([]float64, len(y))
	for i := range y {
		dx[i] = dy[i] * (1 - y[i]*y[i])
	}
	return dx
}

func specELU(x []float64, alpha float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v
		if v <= 0 {
			y[i] = alpha * (math.Exp(v) - 1)
		}
	}
	return y
}

func specELUBackward(dy, x []float64, alpha float64) []float64 {
	dx := make([]float64, len(x))
	for i, v := range x {
		dx[i] = dy[i]
		if v <= 0 {
			dx[i] = dy[i] * alpha * math.Exp(v)
		}
	}
	return dx
}

// softplusLinear reports whether Softplus passes x through: beta·x,
// rounded to float32 as PyTorch forms it, above the threshold.
func softplusLinear(x, beta, threshold float64) bool {
	return float64(float32(beta*x)) > threshold
}

func specSoftplus(x []float64, beta, threshold float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v
		if !softplusLinear(v, beta, threshold) {
			y[i] = math.Log1p(math.Exp(beta*v)) / beta
		}
	}
	return y
}

func specSoftplusBackward(dy, x []float64, beta, threshold float64) []float64 {
	dx := make([]float64, len(x))
	for i, v := range x {
		dx[i] = dy[i]
		if !softplusLinear(v, beta, threshold) {
			z := math.Exp(beta * v)
			dx[i] = dy[i] * z / (z + 1)
		}
	}
	return dx
}

// specDropout is Dropout and DropoutBackward alike: x·scale where
// kernels.DropoutKeep keeps element i at step t, else 0.
func specDropout(x []float64, p float32, seed, t uint32) []float64 {
	y := make([]float64, len(x))
	scale := float64(kernels.DropoutScale(p))
	for i, v := range x {
		if kernels.DropoutKeep(seed, t, uint32(i), p) {
			y[i] = v * scale
		}
	}
	return y
}

func specAvgPool2D(x []float64, g kernels.PoolGeom) []float64 {
	y := make([]float64, g.N*g.C*g.Ho*g.Wo)
	k := float64(g.KH * g.KW)
	for pl := 0; pl < g.N*g.C; pl++ {
		for oh := 0; oh < g.Ho; oh++ {
			for ow := 0; ow < g.Wo; ow++ {
				var s float64
				for kh := 0; kh < g.KH; kh++ {
					for kw := 0; kw < g.KW; kw++ {
						s += x[(pl*g.H+oh*g.StrideH+kh)*g.W+ow*g.StrideW+kw]
					}
				}
				y[(pl*g.Ho+oh)*g.Wo+ow] = s / k
			}
		}
	}
	return y
}

// specAvgPool2DBackward scatters each dy/(KH·KW) over its window.
func specAvgPool2DBackward(dy []float64, g kernels.PoolGeom) []float64 {
	dx := make([]float64, g.N*g.C*g.H*g.W)
	k := float64(g.KH * g.KW)
	for pl := 0; pl < g.N*g.C; pl++ {
		for oh := 0; oh < g.Ho; oh++ {
			for ow := 0; ow < g.Wo; ow++ {
				d := dy[(pl*g.Ho+oh)*g.Wo+ow] / k
				for kh := 0; kh < g.KH; kh++ {
					for kw := 0; kw < g.KW; kw++ {
						dx[(pl*g.H+oh*g.StrideH+kh)*g.W+ow*g.StrideW+kw] += d
					}
				}
			}
		}
	}
	return dx
}

// specBCEWithLogitsLoss is the doc's (PyTorch's) stable form.
func specBCEWithLogitsLoss(x, t []float64) float64 {
	var s float64
	for i, v := range x {
		m := math.Max(-v, 0)
		s += (1-t[i])*v + m + math.Log(math.Exp(-m)+math.Exp(-v-m))
	}
	return s / float64(len(x))
}

func specBCEWithLogitsBackward(x, t []float64) []float64 {
	dx := make([]float64, len(x))
	for i, v := range x {
		dx[i] = (1/(1+math.Exp(-v)) - t[i]) / float64(len(x))
	}
	return dx
}

func specPoissonNLLLoss(x, t []float64, logInput bool, eps float64) float64 {
	var s float64
	for i, v := range x {
		if logInput {
			s += math.Exp(v) - t[i]*v
		} else {
			s += v - t[i]*math.Log(v+eps)
		}
	}
	return s / float64(len(x))
}

func specPoissonNLLBackward(x, t []float64, logInput bool, eps float64) []float64 {
	dx := make([]float64, len(x))
	for i, v := range x {
		if logInput {
			dx[i] = (math.Exp(v) - t[i]) / float64(len(x))
		} else {
			dx[i] = (1 - t[i]/(v+eps)) / float64(len(x))
		}
	}
	return dx
}
