package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/analysis/figures"
)

// decodeFigures are the Bonus tutorial's decoding figures, Sections 1
// and 2, in its order.
func (r *report) decodeFigures(add addFigure) error {
	d := r.decode
	if d == nil {
		return nil
	}
	if err := r.preferredFigure(add); err != nil {
		return err
	}
	if dr := d.ReLU; dr != nil {
		if err := r.reluFigures(add, dr); err != nil {
			return err
		}
	}
	var runs []*decodeRun
	for _, dr := range []*decodeRun{d.Softmax, d.Penalized} {
		if dr != nil {
			runs = append(runs, dr)
		}
	}
	if len(runs) == 0 {
		return nil
	}
	var results, weights []figures.Panel
	for _, dr := range runs {
		results = append(results, lossPanel(dr.Title, "negative log likelihood", dr.Losses, dr.TestSteps, dr.TestLosses, "train loss"), r.decodedPanel(dr))
		weights = append(weights, r.wInPanel(dr, dr.WIn, d.WInLimit, "sorted neurons"), wOutPanel(dr))
	}
	bins := 360 / float64(d.Classes)
	if err := add("decoder_results.png", "Decoded orientation classes", "Bonus tutorial Sections 2.2 and 2.3 (decode_orientation, plot_decoded_results)",
		fmt.Sprintf("DeepNetSoftmax(%d neurons, %d hidden units, %d classes of %.3g°): left, the objective (NLL, plus the penalties where set) over %d full-batch steps of SGD at lr %g on %d training stimuli, with the test loss; right, the decoded class of each of the %d test stimuli against its true orientation, the grey lines the class-bin edges. Rows: %s. %s",
			d.Neurons, runs[0].Hidden, d.Classes, bins, runs[0].Steps, runs[0].LR, d.TrainStimuli, d.TestStimuli, runTitles(runs), runScores(runs)),
		func(p string) error {
			return figures.Compose(p, results, figures.ComposeOptions{Layout: figures.Layout{Title: "Decoding orientation classes from V1", Cols: 2}, PanelWidth: 620, PanelHeight: 420})
		}); err != nil {
		return err
	}
	return add("decoder_weights.png", "Decoder weights sorted by preferred orientation", "Bonus tutorial Sections 2.2 and 2.3 (visualize_weights(W_in[:, isort], W_out) without and with the penalties)",
		fmt.Sprintf("W_in (hidden units × neurons, neurons sorted by preferred orientation) and W_out (hidden units × classes, as imshow(W_out.T)) of each DeepNetSoftmax run: %s. %s Both W_in share the colour limits ±%.3g, the 99th percentile of their drawn |W_in|; with the L1 penalty more of them are near 0.",
			runTitles(runs), r.sortNote(), d.WInLimit),
		func(p string) error {
			return figures.Compose(p, weights, figures.ComposeOptions{Layout: figures.Layout{Title: "Decoder weights", Cols: 2}, PanelWidth: 560, PanelHeight: 400})
		})
}

// preferredFigure shows how the preferred orientation is found: the
// example neuron's tuning curve and its smoothings in both boundary
// modes.
func (r *report) preferredFigure(add addFigure) error {
	d, v := r.decode, r.v1
	x, curves, err := analysis.TuningCurves(v.Resp, v.S, v.N, v.Stimuli, d.Examples)
	if err != nil {
		return err
	}
	sigma := d.SigmaDeg * float64(v.S) / 360
	var panels []figures.Panel
	var prefs []string
	for k, n := range d.Examples {
		p := &figures.XYPanel{Title: fmt.Sprintf("neuron %d", n), XLabel: oriLabel, YLabel: "neural response", XTicks: degreeTicks(0, 360, 5), XRange: [2]float64{0, 360},
			Series: []figures.XYSeries{{Name: "response", X: x, Y: curves[k], Width: 1, Color: greyColor}}, LegendBottom: true}
		if k == 1 {
			p.Title = fmt.Sprintf("neuron %d, the first whose peak depends on the mode", n)
		}
		for i, mode := range []analysis.Boundary{analysis.Reflect, analysis.Wrap} {
			sm, err := analysis.GaussianFilter1D(curves[k], sigma, mode)
			if err != nil {
				return err
			}
			best := 0
			for j, y := range sm {
				if y > sm[best] {
					best = j
				}
			}
			name := fmt.Sprintf("smoothed, mode %q: peak %.3g°", mode, x[best])
			if mode == d.Mode {
				name += " (used)"
			}
			p.Series = append(p.Series, figures.XYSeries{Name: name, X: x, Y: sm, Width: 2, Dashed: i == 1})
			p.VLines = append(p.VLines, x[best])
			prefs = append(prefs, fmt.Sprintf("neuron %d %s %.3g°", n, mode, x[best]))
		}
		panels = append(panels, p)
	}
	return add("preferred.png", "Preferred orientation", "Bonus tutorial Coding Exercise 1.1 (resp_all[:, 235], gaussian_filter1d(resp_all, 5, axis=0), argmax)",
		fmt.Sprintf("Tuning curves and the curves smoothed by a Gaussian of σ = %g° (gaussian_filter1d), with the boundary modes %q (SciPy's default, which the tutorial's call uses: the curve is mirrored at its ends) and %q (the orientation axis as the circle it is: 359° is next to 0°); the grey lines are the peaks, the preferred orientations (%s). The modes smooth differently only within 4σ of 0° and 360°, which moves the peak of %d of the %d neurons. The report sorts W_in by mode %q (--smooth-mode).",
			d.SigmaDeg, analysis.Reflect, analysis.Wrap, strings.Join(prefs, "; "), d.ModeDiffers, d.Neurons, d.Mode),
		func(path string) error {
			return figures.Compose(path, panels, figures.ComposeOptions{Layout: figures.Layout{Title: "Finding a neuron's preferred orientation"}, PanelWidth: 560})
		})
}

// reluFigures are DeepNetReLU's (Sections 1, 1.1, 1.2 and 2.1).
func (r *report) reluFigures(add addFigure, dr *decodeRun) error {
	d := r.decode
	if err := add("relu_loss.png", "DeepNetReLU training loss", "Bonus tutorial Section 1 (train(net, loss_fn, resp_train, stimuli_train): mean squared error)",
		fmt.Sprintf("Mean squared error (degrees²) of DeepNetReLU(%d neurons, %d hidden units) regressing the stimulus orientation, over %d full-batch steps of SGD at lr %g on %d training stimuli%s. For the recordings the tutorial prints 12219.761, 1672.732, 548.096, 235.619 and 144.001 at iterations 10 … 50; here: %s.",
			d.Neurons, dr.Hidden, dr.Steps, dr.LR, d.TrainStimuli, testLossNote(dr.TestSteps), every10(dr.Losses)),
		func(p string) error {
			return figures.Compose(p, []figures.Panel{lossPanel("DeepNetReLU", "mean squared error", dr.Losses, dr.TestSteps, dr.TestLosses, "train loss")},
				figures.ComposeOptions{Layout: figures.Layout{Title: "Training a decoder of orientation"}, PanelWidth: 640})
		}); err != nil {
		return err
	}
	lim := absQuantile(dr.WIn, 0.99)
	if err := add("relu_weights.png", "DeepNetReLU weights", "Bonus tutorial Section 1.1 (W_in, W_out; Coding Exercise 1.1: visualize_weights(W_in_sorted, W_out))",
		fmt.Sprintf("W_in (hidden units × neurons) in neuron order, where no structure shows, and with the neurons sorted by preferred orientation, where each hidden unit weighs groups of neurons of similar preference; and W_out (hidden units × output, as imshow(W_out.T)). %s Colour limits ±%.3g, the 99th percentile of the drawn |W_in|.", r.sortNote(), lim),
		func(p string) error {
			return figures.Compose(p, []figures.Panel{r.wInPanel(dr, dr.WInRaw, lim, "neurons"), r.wInPanel(dr, dr.WIn, lim, "sorted neurons"), wOutPanel(dr)},
				figures.ComposeOptions{Layout: figures.Layout{Title: "DeepNetReLU weights"}, PanelWidth: 480, PanelHeight: 400})
		}); err != nil {
		return err
	}
	h := &figures.ImagePanel{Matrix: figures.Matrix{Title: "h", Data: dr.HiddenAct, Rows: dr.Hidden, Cols: len(dr.HiddenStimul)},
		XLabel: oriLabel, YLabel: "hidden units", XRange: [2]float64{0, 360}, BarLabel: "activity"}
	tun := &figures.XYPanel{Title: "h tuning curves", XLabel: oriLabel, YLabel: "hidden unit activity", XTicks: degreeTicks(0, 360, 5), XRange: [2]float64{0, 360}}
	for u := 0; u < dr.Hidden; u++ {
		tun.Series = append(tun.Series, figures.XYSeries{X: dr.HiddenStimul, Y: dr.HiddenAct[u*len(dr.HiddenStimul) : (u+1)*len(dr.HiddenStimul)], Width: 1})
	}
	if err := add("relu_hidden.png", "DeepNetReLU hidden units", "Bonus tutorial Section 1.1 (h = relu(W_in @ resp_all.T + b_in), visualize_hidden_units)",
		fmt.Sprintf("W_in sorted by preferred orientation; the activity h of the %d hidden units for every stimulus; and their tuning curves. Each hidden unit is active over a range of orientations, and some unit is active at every orientation.", dr.Hidden),
		func(p string) error {
			return figures.Compose(p, []figures.Panel{r.wInPanel(dr, dr.WIn, lim, "sorted neurons"), h, nil, tun},
				figures.ComposeOptions{Layout: figures.Layout{Title: "Hidden units of the decoder", Cols: 2}, PanelWidth: 520, PanelHeight: 400})
		}); err != nil {
		return err
	}
	errs := make([]float64, len(dr.TestTrue))
	for i := range errs {
		errs[i] = dr.TestDecoded[i] - dr.TestTrue[i]
	}
	axis := degreeTicks(0, 360, 5)
	pred := &figures.XYPanel{Title: fmt.Sprintf("MSE on testing set: %.2f", dr.Test), XLabel: "true stimulus orientation (°)", YLabel: "decoded stimulus orientation (°)",
		Identity: true, XTicks: axis, YTicks: axis, Series: []figures.XYSeries{{Name: "test stimuli", X: dr.TestTrue, Y: dr.TestDecoded, Points: true, Width: 2}}, LegendLeft: true}
	errp := &figures.XYPanel{Title: "decoding error", XLabel: "true stimulus orientation (°)", YLabel: "decoding error (°)", HLines: []float64{0},
		XTicks: axis, YTicks: degreeTicks(-360, 360, 9), YRange: [2]float64{-360, 360},
		Series: []figures.XYSeries{{Name: "decoded − true", X: dr.TestTrue, Y: errs, Points: true, Width: 2}}}
	return add("relu_test.png", "DeepNetReLU on the test set", "Bonus tutorial Section 1.2 (decoded vs true orientation, identityLine, test MSE) and Section 2.1 (decoding error)",
		fmt.Sprintf("Left: the decoded orientation of each of the %d test stimuli against its true orientation, with the identity line, and the test MSE (%.2f; %.2f on the training stimuli). Right: the decoding error against the true orientation. Squared error treats 1° and 359° as far apart, so orientations near 0°/360° are decoded towards the middle, which Section 2.2's classification by orientation bins avoids.",
			len(dr.TestTrue), dr.Test, dr.Train),
		func(p string) error {
			return figures.Compose(p, []figures.Panel{pred, errp}, figures.ComposeOptions{Layout: figures.Layout{Title: "Decoding orientation in degrees"}, PanelWidth: 500, PanelHeight: 460})
		})
}

// wInPanel is W_in (hidden × neurons, block-averaged to WInCols columns)
// on ±lim.
func (r *report) wInPanel(dr *decodeRun, w []float32, lim float64, xlabel string) *figures.ImagePanel {
	return &figures.ImagePanel{Matrix: figures.Matrix{Title: "W_in, " + dr.Title, Data: figures.Float64s(w), Rows: dr.Hidden, Cols: dr.WInCols},
		XLabel: xlabel, YLabel: "hidden units", Map: figures.BlueRed, Min: -lim, Max: lim, XRange: [2]float64{0, float64(r.decode.Neurons)}, BarLabel: "weight"}
}

// wOutPanel is imshow(W_out.T): hidden units × outputs.
func wOutPanel(dr *decodeRun) *figures.ImagePanel {
	t := make([]float64, len(dr.WOut))
	var lim float64
	for o := 0; o < dr.Outputs; o++ {
		for h := 0; h < dr.Hidden; h++ {
			v := float64(dr.WOut[o*dr.Hidden+h])
			t[h*dr.Outputs+o] = v
			lim = math.Max(lim, math.Abs(v))
		}
	}
	if lim == 0 {
		lim = 1
	}
	p := &figures.ImagePanel{Matrix: figures.Matrix{Title: "W_out, " + dr.Title, Data: t, Rows: dr.Hidden, Cols: dr.Outputs},
		XLabel: "output class", YLabel: "hidden units", Map: figures.BlueRed, Min: -lim, Max: lim, BarLabel: "weight"}
	if dr.Outputs == 1 {
		p.XLabel, p.XTicks = "output", []figures.Tick{} // plt.xticks([])
	}
	return p
}

// decodedPanel is plot_decoded_results' right panel: the decoded class of
// each test stimulus against its true orientation, with the bin edges.
func (r *report) decodedPanel(dr *decodeRun) *figures.XYPanel {
	C := dr.Outputs
	w := 360 / float64(C)
	p := &figures.XYPanel{Title: fmt.Sprintf("fraction correct %.3f", dr.Test), XLabel: "true stimulus orientation (°)", YLabel: "decoded orientation bin",
		Series: []figures.XYSeries{{Name: "test stimuli", X: dr.TestTrue, Y: dr.TestDecoded, Points: true, Width: 2}},
		XRange: [2]float64{0, 360}, YRange: [2]float64{-0.5, float64(C) - 0.5}, LegendLeft: true}
	step := max(1, C/10) // a tick label per bin when they fit
	for i := 0; i <= C; i++ {
		p.VLines = append(p.VLines, float64(i)*w)
		if i < C && i%step == 0 {
			p.YTicks = append(p.YTicks, figures.Tick{Value: float64(i), Label: fmt.Sprintf("%.0f°–%.0f°", float64(i)*w, float64(i+1)*w)})
		}
	}
	p.XTicks = degreeTicks(0, 360, 5)
	return p
}

// sortNote says how the neurons are sorted.
func (r *report) sortNote() string {
	d := r.decode
	avg := ""
	if d.Neurons > maxWeightCols {
		avg = fmt.Sprintf(" Each column averages %d neurons adjacent in that order.", (d.Neurons+maxWeightCols-1)/maxWeightCols)
	}
	return fmt.Sprintf("Neurons are sorted by preferred orientation: the argmax of each tuning curve smoothed by a Gaussian of σ = %g°, boundary mode %q (preferred.png).%s", d.SigmaDeg, d.Mode, avg)
}

func runTitles(runs []*decodeRun) string {
	var t []string
	for _, dr := range runs {
		t = append(t, dr.Title)
	}
	return strings.Join(t, "; ")
}

func runScores(runs []*decodeRun) string {
	var t []string
	for _, dr := range runs {
		s := fmt.Sprintf("%s: fraction correct %.3f on the test stimuli (%.3f on the training stimuli)", dr.Title, dr.Test, dr.Train)
		if dr.DivergedAt > 0 {
			s += fmt.Sprintf(", training diverged at step %d", dr.DivergedAt)
		}
		t = append(t, s)
	}
	return strings.Join(t, "; ") + "."
}

// every10 lists the losses at steps 10, 20, … 50.
func every10(losses []float64) string {
	var t []string
	for s := 10; s <= min(50, len(losses)); s += 10 {
		t = append(t, fmt.Sprintf("%.6g", losses[s-1]))
	}
	if len(t) == 0 {
		return "fewer than 10 steps"
	}
	return strings.Join(t, "; ")
}
