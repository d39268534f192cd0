package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
)

// Eval holds test metrics: Accuracy (fraction correct) for the
// classification losses (BCE, BCE-with-logits, NLL, cross-entropy), MSE
// of the predictions for the regression losses (MSE; Poisson, where the
// prediction is the rate: exp of the output with log_input), and Loss,
// the loss's own value (mean reduction, penalties excluded) for all.
type Eval struct {
	Accuracy float64
	MSE      float64
	Loss     float64
	N        int // samples evaluated
}

// Evaluate runs the forward-only Program (dropout off) on d and scores
// the outputs in float64: binary outputs > 0.5 (probabilities) or > 0
// (logits) against target > 0.5; classes by arg-max (first on ties, as
// torch.argmax) against the target class.
func (m *Model) Evaluate(d Dataset) (Eval, error) {
	if err := d.Check(m); err != nil {
		return Eval{}, err
	}
	y, err := m.Forward(d.X)
	if err != nil {
		return Eval{}, err
	}
	e := Eval{N: d.S}
	switch m.Loss {
	case BCE, BCEWithLogits:
		cut := float32(0.5)
		if m.Loss == BCEWithLogits {
			cut = 0
		}
		correct := 0
		for i, p := range y {
			if (p > cut) == (d.T[i] > 0.5) {
				correct++
			}
		}
		e.Accuracy = float64(correct) / float64(len(y))
	case NLL, CrossEntropy:
		c := m.OutputSize()
		correct := 0
		for i := 0; i < d.S; i++ {
			if float32(argmax(y[i*c:(i+1)*c])) == d.T[i] {
				correct++
			}
		}
		e.Accuracy = float64(correct) / float64(d.S)
	case MSE, PoissonNLL, PoissonNLLRate:
		var s float64
		for i, v := range y {
			pred := float64(v)
			if m.Loss == PoissonNLL {
				pred = math.Exp(pred)
			}
			r := pred - float64(d.T[i])
			s += r * r
		}
		e.MSE = s / float64(len(y))
	default:
		return e, fmt.Errorf("models: %s: unknown loss %v", m.Name, m.Loss)
	}
	e.Loss = hostLoss(m.Loss, y, d.T, m.OutputSize())
	return e, nil
}

func argmax(row []float32) int {
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	return best
}

// hostLoss is loss l of outputs y against targets t (c outputs per
// sample), in float64 with PyTorch's definitions, as the training step
// computes it on the device.
func hostLoss(l Loss, y, t []float32, c int) float64 {
	var s float64
	n := len(y)
	switch l {
	case BCE:
		for i, v := range y {
			p, tt := float64(v), float64(t[i])
			s -= tt*math.Max(math.Log(p), -100) + (1-tt)*math.Max(math.Log(1-p), -100)
		}
	case BCEWithLogits:
		for i, v := range y {
			x, tt := float64(v), float64(t[i])
			s += math.Max(x, 0) - x*tt + math.Log1p(math.Exp(-math.Abs(x)))
		}
	case NLL, CrossEntropy:
		n = len(y) / c
		for i := 0; i < n; i++ {
			row := y[i*c : (i+1)*c]
			v := float64(row[int(t[i])])
			if l == CrossEntropy {
				mx := float64(row[argmax(row)])
				var z float64
				for _, r := range row {
					z += math.Exp(float64(r) - mx)
				}
				v -= mx + math.Log(z)
			}
			s -= v
		}
	case MSE:
		for i, v := range y {
			r := float64(v) - float64(t[i])
			s += r * r
		}
	case PoissonNLL:
		for i, v := range y {
			s += math.Exp(float64(v)) - float64(t[i])*float64(v)
		}
	case PoissonNLLRate:
		for i, v := range y {
			s += float64(v) - float64(t[i])*math.Log(float64(v)+poissonEps)
		}
	}
	return s / float64(n)
}

// Tutorial 3's data set: gratings (not centred, 48×64 at res 0.1)
// labelled 1 when tilted right (angle > 0).

// NormativeTrainAngles draws n orientations uniformly in (−90°, 90°),
// like the tutorial's (np.random.rand(n) − 0.5)·180 but from a seeded
// Go generator.
func NormativeTrainAngles(n int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x616e676c6573)) // "angles"
	a := make([]float64, n)
	for i := range a {
		a[i] = (r.Float64() - 0.5) * 180
	}
	return a
}

// NormativeTestAngles are the 180 test orientations −89.5°, −88.5°, …, 89.5°.
func NormativeTestAngles() []float64 {
	a := make([]float64, 180)
	for i := range a {
		a[i] = -89.5 + float64(i)
	}
	return a
}

// NormativeDataset renders Tutorial 3's gratings at the given angles with
// labels (angle > 0), and returns the image size.
func NormativeDataset(anglesDeg []float64) (d Dataset, h, w int) {
	pix, h, w := data.Gratings(anglesDeg, data.GratingOptions{})
	t := make([]float32, len(anglesDeg))
	for i, a := range anglesDeg {
		if a > 0 {
			t[i] = 1
		}
	}
	return Dataset{X: pix, T: t, S: len(anglesDeg)}, h, w
}

// TestLoss is the objective on d as the Bonus tutorial's train()
// computes its test loss: the loss in evaluation mode (Eval.Loss) plus
// the training's penalties on the current weights, in float64.
func (m *Model) TestLoss(d Dataset) (float64, error) {
	e, err := m.Evaluate(d)
	if err != nil {
		return 0, err
	}
	l := e.Loss
	for _, pen := range m.training.Penalties {
		p := m.Param(pen.Param)
		w := make([]float32, kernels.Numel(p.Shape))
		if err := m.be.Download(p.Value, w); err != nil {
			return 0, err
		}
		for _, v := range w {
			l += pen.L1*math.Abs(float64(v)) + pen.L2*float64(v)*float64(v)
		}
	}
	return l, nil
}
