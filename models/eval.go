package models

import (
	"fmt"
	"math/rand/v2"

	"github.com/vkneuro/vkneuro/data"
)

// Eval holds test metrics: Accuracy (fraction correct) for BCE and NLL
// models, MSE for MSE models (the other field is 0).
type Eval struct {
	Accuracy float64
	MSE      float64
	N        int // samples evaluated
}

// Evaluate runs the forward-only Program on d and scores the outputs:
// BCE: output > 0.5 against target > 0.5; NLL: arg-max class (first on
// ties, as torch.argmax) against the target class; MSE: mean squared
// error over all outputs, accumulated in float64.
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
	case BCE:
		correct := 0
		for i, p := range y {
			if (p > 0.5) == (d.T[i] > 0.5) {
				correct++
			}
		}
		e.Accuracy = float64(correct) / float64(d.S)
	case NLL:
		c := m.OutputSize()
		correct := 0
		for i := 0; i < d.S; i++ {
			row := y[i*c : (i+1)*c]
			best := 0
			for j, v := range row {
				if v > row[best] {
					best = j
				}
			}
			if float32(best) == d.T[i] {
				correct++
			}
		}
		e.Accuracy = float64(correct) / float64(d.S)
	case MSE:
		var s float64
		for i, v := range y {
			r := float64(v) - float64(d.T[i])
			s += r * r
		}
		e.MSE = s / float64(len(y))
	default:
		return e, fmt.Errorf("models: %s: unknown loss %v", m.Name, m.Loss)
	}
	return e, nil
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
