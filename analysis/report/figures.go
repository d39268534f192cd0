package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/analysis/figures"
)

// Figure is one PNG of the report with its caption, in one of the
// report's sections, and what of the tutorials it reproduces.
type Figure struct {
	File       string `json:"file"`
	Title      string `json:"title"`
	Caption    string `json:"caption"`
	Section    string `json:"section"`
	Reproduces string `json:"reproduces"`
}

// The report's sections, in page order.
const (
	secV1     = "V1 data"
	secT2     = "Tutorial 2: convolutional neural networks"
	secT3     = "Tutorial 3: normative encoding models"
	secDecode = "Bonus tutorial: decoding"
	secEncode = "Bonus tutorial: encoding"
	secEval   = "Encoding models evaluated"
)

// sections are the report's sections with the tutorial each follows.
var sections = []struct{ Name, About string }{
	{secV1, "The V1 responses every comparison uses, and the statistics of their population."},
	{secT2, "W1D5 Tutorial 2: a convolutional layer of example filters applied to gratings."},
	{secT3, "W1D5 Tutorial 3: a CNN trained to discriminate orientation, compared with V1 by RDMs, RSA, tuning curves and t-SNE."},
	{secDecode, "W1D5 Bonus tutorial, Sections 1–2: decoding orientation from V1 with deep networks."},
	{secEncode, "W1D5 Bonus tutorial, Section 3: a convolutional encoding model fitted to V1."},
	{secEval, "Beyond the tutorials: the encoding model and the CNN's layers scored as encoding studies score models."},
}

// addFigure draws one figure of a section and lists it.
type addFigure func(file, title, reproduces, caption string, draw func(path string) error) error

const oriLabel = "stimulus orientation (°)"

// layerTitle names a population in figure panels, as the tutorial's
// "model 'pool' layer".
func layerTitle(name string) string {
	if name == "V1" {
		return "V1 data"
	}
	return fmt.Sprintf("model '%s' layer", name)
}

// figures draws every figure of the report into the output directory,
// section by section.
func (r *report) figures() ([]Figure, error) {
	var figs []Figure
	for _, sec := range []struct {
		name string
		draw func(addFigure) error
	}{
		{secV1, r.v1Figures}, {secT2, r.t2Figures}, {secT3, r.t3Figures},
		{secDecode, r.decodeFigures}, {secEncode, r.encodeFigures}, {secEval, r.evalFigures},
	} {
		add := func(file, title, reproduces, caption string, draw func(path string) error) error {
			if err := draw(r.outPath(file)); err != nil {
				return fmt.Errorf("figure %s: %w", file, err)
			}
			figs = append(figs, Figure{File: file, Title: title, Caption: caption, Section: sec.name, Reproduces: reproduces})
			return nil
		}
		if err := sec.draw(add); err != nil {
			return nil, err
		}
	}
	return figs, nil
}

// v1Kind names the V1 data in captions.
func (r *report) v1Kind() string {
	if r.v1Synthetic {
		return "SYNTHETIC V1-like data (a model population, not a recording)"
	}
	return "V1 data"
}

// t3Figures are Tutorial 3's figures: the CNN's training, its filters,
// and its layers compared with V1.
func (r *report) t3Figures(add addFigure) error {
	v1Kind := r.v1Kind()
	lo, hi := r.stimRange()
	x := make([]float64, r.S)
	for i, s := range r.stim {
		x[i] = float64(s)
	}
	if len(r.losses) > 0 {
		if err := add("loss.png", "Training loss", "Tutorial 3 Section 1.2 (train(): loss on each mini-batch)",
			fmt.Sprintf("Binary cross-entropy of the normative CNN per minibatch step (%d steps), from %s%s. The tutorial prints the loss of each fifth epoch's last mini-batch (%s).",
				len(r.losses), r.lossesSource, testLossNote(r.testSteps), epochLosses(r.losses, r.cfg)),
			func(p string) error {
				return figures.Compose(p, []figures.Panel{lossPanel("Normative CNN training", "BCE loss", r.losses, r.testSteps, r.testLosses, "minibatch loss")},
					figures.ComposeOptions{Layout: figures.Layout{Title: "Training loss"}, PanelWidth: 640})
			}); err != nil {
			return err
		}
	}
	if r.filters != nil { // a network without a convolution has none
		// Input channel 0 of each filter [O, C, KH, KW].
		o, c, kh, kw := r.filterShape[0], r.filterShape[1], r.filterShape[2], r.filterShape[3]
		var ims []figures.Matrix
		for i := 0; i < o; i++ {
			ims = append(ims, figures.Matrix{Title: fmt.Sprintf("filter %d", i), Data: figures.Float64s(r.filters[i*c*kh*kw : i*c*kh*kw+kh*kw]), Rows: kh, Cols: kw})
		}
		title := "conv layer filters"
		caption := fmt.Sprintf("The %d filters (%d×%d) of the network's conv layer after training, each scaled to ±its largest absolute weight (grey is 0). They start as the tutorial's centre-surround and Gabor filters (Tutorial 2's figure, before de-meaning).", o, kh, kw)
		if r.cfg.Arch != nil {
			caption = fmt.Sprintf("The %d filters (%d×%d, input channel 0) of module %s, the network's first convolution, after training, each scaled to ±its largest absolute weight (grey is 0).", o, kh, kw, r.filterModule)
			title = "module " + r.filterModule + " filters"
		}
		if err := add("filters.png", "Convolutional filters", "Tutorial 2 Bonus Section 2 (plot_weights), on Tutorial 3's trained CNN", caption,
			func(p string) error {
				return figures.ImageGrid(p, ims, figures.ImageGridOptions{Layout: figures.Layout{Title: title, Cols: min(o, 6)}, Symmetric: true, ColorMap: figures.BlueRed()})
			}); err != nil {
			return err
		}
	}
	var ms []figures.Matrix
	for _, l := range r.layers {
		ms = append(ms, figures.Matrix{Title: layerTitle(l.Name), Data: figures.Float64s(l.RDM), Rows: r.S, Cols: r.S})
	}
	if err := add("rdms.png", "Representational dissimilarity matrices", "Tutorial 3 Section 2.1 (RDM, plot_multiple_rdm)",
		fmt.Sprintf("RDMs (1 − Pearson correlation of the population responses to each pair of stimuli, 1 − Z·Zᵀ/N) of the %s (%d neurons) and of each layer of the network, over the %d stimuli ≤ 180° shifted by −90°. The 'out' layer has one unit, so its z-scored response is 0 and every dissimilarity is 1.", v1Kind, r.layers[0].N, r.S),
		func(p string) error {
			return figures.HeatMaps(p, ms, figures.HeatMapOptions{Layout: figures.Layout{Title: "Representational dissimilarity matrices", Cols: 3},
				XLabel: oriLabel, YLabel: oriLabel, ColorLabel: "dissimilarity", Min: 0, Max: 2,
				XRange: [2]float64{lo, hi}, YRange: [2]float64{lo, hi}})
		}); err != nil {
		return err
	}
	if panels := r.rsaPanels(); len(panels) > 0 {
		bonus := ""
		if len(r.bonusNets) > 0 {
			bonus = " CNN is Tutorial 3's network; FC (no convolution) and ConvFC (convolution without pooling) are its bonus networks, trained with the CNN's recipe on the same gratings, their RDMs of the same stimuli."
		}
		if err := add("rsa.png", "RSA: model layers vs V1", "Tutorial 3 Section 2.2 (correlate_rdms, plot_rdm_rdm_correlations) and Bonus Section 1 (FC, ConvFC)",
			fmt.Sprintf("Correlation between the off-diagonal entries of each layer's RDM and the V1 RDM (the tutorial's correlate_rdms), with 95%% percentile intervals over %d bootstrap resamples of the stimuli (pairs of copies of one stimulus left out). Layers whose RDM is constant (the one-unit 'out' layer) have no defined correlation and are left out.%s", r.cfg.Bootstrap, bonus),
			func(p string) error {
				return figures.GroupedBars(p, panels, figures.GroupedBarsOptions{Layout: figures.Layout{Title: "Similarity of model layers to V1", Width: 200 + 110*len(panels[0].Labels), Height: 440},
					XLabel: "network and layer", YLabel: "correlation of layer RDM with V1 RDM"})
			}); err != nil {
			return err
		}
	}
	var rowPanels []figures.LinePanel
	for _, want := range []float64{-75, -25, 25, 75} {
		i := nearest(x, want)
		var series []figures.Series
		for _, l := range r.layers {
			if l.N == 1 {
				continue
			}
			series = append(series, sortedSeries(layerTitle(l.Name), x, figures.Float64s(l.RDM[i*r.S:(i+1)*r.S])))
		}
		rowPanels = append(rowPanels, figures.LinePanel{Title: fmt.Sprintf("dissimilarity to the %.0f° stimulus", x[i]), Series: series})
	}
	if err := add("rdm_rows.png", "RDM rows", "Tutorial 3 Section 2.3 (plot_rdm_rows)",
		"Rows of the RDMs (the tutorial's plot_rdm_rows): dissimilarity of the response to every stimulus from the response to the stimulus closest to −75°, −25°, 25° and 75°.",
		func(p string) error {
			return figures.Lines(p, rowPanels, figures.LinesOptions{Layout: figures.Layout{Title: "Dissimilarity with the response to one stimulus", Cols: 2},
				XLabel: oriLabel, YLabel: "dissimilarity"})
		}); err != nil {
		return err
	}
	var tuning []figures.LinePanel
	for _, l := range r.layers {
		tx, curves, err := analysis.TuningCurves(l.Resp, r.S, l.N, r.stim, r.tuningUnits[l.Name])
		if err != nil {
			return err
		}
		var series []figures.Series
		what := "unit"
		if l.Name == "V1" {
			what = "neuron"
		}
		for i, cv := range curves {
			series = append(series, figures.Series{Name: fmt.Sprintf("%s %d", what, r.tuningUnits[l.Name][i]), X: tx, Y: cv})
		}
		tuning = append(tuning, figures.LinePanel{Title: layerTitle(l.Name) + " responses", Series: series})
	}
	if err := add("tuning.png", "Tuning curves", "Tutorial 3 Section 3.1 (tuning curves of three random neurons and units)",
		fmt.Sprintf("Responses of %d randomly chosen V1 neurons and units of each layer (among those whose response varies) as a function of stimulus orientation. conv and fc are before their ReLU, out before the sigmoid, as forward hooks see them.", r.cfg.TuningUnits),
		func(p string) error {
			return figures.Lines(p, tuning, figures.LinesOptions{Layout: figures.Layout{Title: "Tuning curves", Cols: 3},
				XLabel: oriLabel, YLabel: "response"})
		}); err != nil {
		return err
	}
	var pts []figures.Points
	for _, name := range r.tsneLayers {
		y := r.tsne[name]
		px, py := make([]float64, r.S), make([]float64, r.S)
		for i := range px {
			px[i], py[i] = y[2*i], y[2*i+1]
		}
		pts = append(pts, figures.Points{Title: layerTitle(name) + " responses", X: px, Y: py, C: x})
	}
	return add("tsne.png", "t-SNE embeddings", "Tutorial 3 Section 3.2 (plot_resp_lowd)",
		fmt.Sprintf("Population responses to each stimulus reduced to ≤ 20 dimensions by PCA, then to 2 by exact t-SNE (perplexity %.3g, %d iterations), coloured by stimulus orientation, for V1 and the layers Tutorial 3 embeds.", r.tsnePerplex, r.cfg.TSNEIterations),
		func(p string) error {
			return figures.Scatter(p, pts, figures.ScatterOptions{Layout: figures.Layout{Title: "Low-dimensional representations (PCA → t-SNE)"},
				XLabel: "dimension 1", YLabel: "dimension 2", ColorLabel: oriLabel, Min: -90, Max: 90, HideTicks: true})
		})
}

// rsaPanels are the RSA bars of the CNN's layers and of each bonus
// network's, in one panel so that they share the scale.
func (r *report) rsaPanels() []figures.BarPanel {
	net := "CNN"
	if r.cfg.Arch != nil {
		net = "yours"
	}
	var layers []*layerResp
	name := func(network string, ls []*layerResp) {
		for _, l := range ls {
			c := *l
			c.Name = network + " " + l.Name
			layers = append(layers, &c)
		}
	}
	name(net, r.layers[1:])
	for _, n := range r.bonusNets {
		name(n.Title, n.Layers)
	}
	if p, ok := rsaPanel("", layers, "RSA with V1"); ok {
		return []figures.BarPanel{p}
	}
	return nil
}

// rsaPanel is one bar panel of the layers' RSA with bootstrap intervals;
// ok is false when no layer has one.
func rsaPanel(title string, layers []*layerResp, series string) (figures.BarPanel, bool) {
	p := figures.BarPanel{Title: title}
	s := figures.BarSeries{Name: series}
	for _, l := range layers {
		if l.RSA == nil {
			continue
		}
		p.Labels = append(p.Labels, l.Name)
		s.Values, s.Lo, s.Hi = append(s.Values, *l.RSA), append(s.Lo, l.RSACI.Lo), append(s.Hi, l.RSACI.Hi)
	}
	p.Series = []figures.BarSeries{s}
	return p, len(p.Labels) > 0
}

// lossPanel draws a training loss per step with, where there are any,
// the test losses at the steps evaluated, as the tutorials'
// plot_training_curves; on a log axis where the losses span decades
// (over a narrower range it would have no labelled ticks).
func lossPanel(title, ylabel string, losses []float64, testSteps []int, testLosses []float64, trainName string) *figures.XYPanel {
	steps := make([]float64, len(losses))
	for i := range steps {
		steps[i] = float64(i + 1)
	}
	p := &figures.XYPanel{Title: title, XLabel: "iterations of gradient descent", YLabel: ylabel,
		Series: []figures.XYSeries{{Name: trainName, X: steps, Y: losses}}}
	all := slices.Concat(losses, testLosses)
	lo, hi := slices.Min(all), slices.Max(all)
	p.LogY = lo > 0 && hi/lo >= 20
	if len(testLosses) > 0 {
		ts := make([]float64, len(testSteps))
		for i, s := range testSteps {
			ts[i] = float64(s)
		}
		p.Series = append(p.Series, figures.XYSeries{Name: "test loss", X: ts, Y: testLosses, Points: true, Width: 2.5})
	}
	return p
}

// testLossNote says where the test losses of a loss figure come from.
func testLossNote(steps []int) string {
	if len(steps) == 0 {
		return ""
	}
	return fmt.Sprintf("; the points are the loss on the test set at %d steps (every %d), after the update, in evaluation mode, penalties included, as the tutorials' train() computes test_loss", len(steps), stepInterval(steps))
}

// stepInterval is the spacing of evaluated steps (their first step).
func stepInterval(steps []int) int {
	if len(steps) > 1 {
		return steps[1] - steps[0]
	}
	return steps[0]
}

// epochLosses lists the loss of the last mini-batch of every fifth
// epoch, the numbers Tutorial 3's train() prints.
func epochLosses(losses []float64, c *Config) string {
	per := (c.TrainSamples + c.Batch - 1) / c.Batch
	var parts []string
	for e := 5; e*per <= len(losses); e += 5 {
		parts = append(parts, fmt.Sprintf("epoch %d: %.2e", e, losses[e*per-1]))
	}
	if len(parts) == 0 || len(losses)%per != 0 {
		return "not from a run of whole epochs of this size"
	}
	return strings.Join(parts, ", ")
}

// stimRange is the extent of the stimulus axis of the RDM heat maps: the
// first and last orientation when they are sorted, as in the data files,
// else stimulus indices.
func (r *report) stimRange() (lo, hi float64) {
	if !slices.IsSorted(r.stim) || r.S < 2 {
		return 0, 0
	}
	// imshow-like extent: half a bin beyond the first and last centres.
	half := float64(r.stim[r.S-1]-r.stim[0]) / float64(r.S-1) / 2
	return float64(r.stim[0]) - half, float64(r.stim[r.S-1]) + half
}

func nearest(x []float64, v float64) int {
	best := 0
	for i := range x {
		if math.Abs(x[i]-v) < math.Abs(x[best]-v) {
			best = i
		}
	}
	return best
}

// sortedSeries orders a curve by x.
func sortedSeries(name string, x, y []float64) figures.Series {
	idx := analysis.SortByPreference(x) // a stable argsort of x
	s := figures.Series{Name: name, X: make([]float64, len(x)), Y: make([]float64, len(x))}
	for i, j := range idx {
		s.X[i], s.Y[i] = x[j], y[j]
	}
	return s
}
