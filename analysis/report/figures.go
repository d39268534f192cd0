package report

import (
	"fmt"
	"math"
	"slices"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/analysis/figures"
	"github.com/vkneuro/vkneuro/data"
)

// Figure is one PNG of the report with its caption.
type Figure struct {
	File    string `json:"file"`
	Title   string `json:"title"`
	Caption string `json:"caption"`
}

const oriLabel = "stimulus orientation (°)"

// layerTitle names a population in figure panels, as the tutorial's
// "model 'pool' layer".
func layerTitle(name string) string {
	if name == "V1" {
		return "V1 data"
	}
	return fmt.Sprintf("model '%s' layer", name)
}

// figures draws every figure of the report into the output directory.
func (r *report) figures() ([]Figure, error) {
	var figs []Figure
	add := func(file, title, caption string, draw func(path string) error) error {
		if err := draw(r.outPath(file)); err != nil {
			return fmt.Errorf("figure %s: %w", file, err)
		}
		figs = append(figs, Figure{File: file, Title: title, Caption: caption})
		return nil
	}
	v1Kind := "V1 data"
	if r.v1Synthetic {
		v1Kind = "SYNTHETIC V1-like data (a model population, not a recording)"
	}
	lo, hi := r.stimRange()

	steps := []func() error{
		func() error {
			angles := []float64{-90, -45, 0, 45, 90}
			var ims []figures.Matrix
			for _, a := range angles {
				pix, h, w := data.Grating(a, data.GratingOptions{})
				ims = append(ims, figures.Matrix{Title: fmt.Sprintf("%.0f°", a), Data: figures.Float64s(pix), Rows: h, Cols: w})
			}
			return add("gratings.png", "Example stimuli",
				"Tutorial 3's grating stimuli (48×64 pixels, 0 black to 1 white) at five orientations, in degrees from vertical; positive is tilted right. The network is trained to tell the sign of the tilt.",
				func(p string) error {
					return figures.ImageGrid(p, ims, figures.ImageGridOptions{Layout: figures.Layout{Title: "Example grating stimuli"}})
				})
		},
		func() error {
			if len(r.losses) == 0 {
				return nil
			}
			// A log axis only where the loss spans decades: over a
			// narrower range it would have no labelled ticks.
			lo, hi := slices.Min(r.losses), slices.Max(r.losses)
			logY := lo > 0 && hi/lo >= 20
			return add("loss.png", "Training loss",
				fmt.Sprintf("Binary cross-entropy of the normative CNN per minibatch step (%d steps), from %s.", len(r.losses), r.lossesSource),
				func(p string) error {
					return figures.Lines(p, []figures.LinePanel{{Title: "Normative CNN training", Series: []figures.Series{{Name: "minibatch loss", Y: r.losses}}}},
						figures.LinesOptions{Layout: figures.Layout{Title: "Training loss"}, XLabel: "step", YLabel: "BCE loss", LogY: logY})
				})
		},
		func() error {
			if r.filters == nil {
				return nil // a network without a convolution
			}
			// Input channel 0 of each filter [O, C, KH, KW].
			o, c, kh, kw := r.filterShape[0], r.filterShape[1], r.filterShape[2], r.filterShape[3]
			var ims []figures.Matrix
			for i := 0; i < o; i++ {
				ims = append(ims, figures.Matrix{Title: fmt.Sprintf("filter %d", i), Data: figures.Float64s(r.filters[i*c*kh*kw : i*c*kh*kw+kh*kw]), Rows: kh, Cols: kw})
			}
			title := "conv layer filters"
			caption := fmt.Sprintf("The %d filters (%d×%d) of the network's conv layer after training, each scaled to ±its largest absolute weight (grey is 0). They start as the tutorial's centre-surround and Gabor filters.", o, kh, kw)
			if r.cfg.Arch != nil {
				caption = fmt.Sprintf("The %d filters (%d×%d, input channel 0) of module %s, the network's first convolution, after training, each scaled to ±its largest absolute weight (grey is 0).", o, kh, kw, r.filterModule)
				title = "module " + r.filterModule + " filters"
			}
			return add("filters.png", "Convolutional filters", caption,
				func(p string) error {
					return figures.ImageGrid(p, ims, figures.ImageGridOptions{Layout: figures.Layout{Title: title, Cols: min(o, 6)}, Symmetric: true, ColorMap: figures.BlueRed()})
				})
		},
		func() error {
			var ms []figures.Matrix
			for _, l := range r.layers {
				ms = append(ms, figures.Matrix{Title: layerTitle(l.Name), Data: figures.Float64s(l.RDM), Rows: r.S, Cols: r.S})
			}
			return add("rdms.png", "Representational dissimilarity matrices",
				fmt.Sprintf("RDMs (1 − Pearson correlation of the population responses to each pair of stimuli, 1 − Z·Zᵀ/N) of the %s (%d neurons) and of each layer of the network, over the %d stimuli ≤ 180° shifted by −90°. The 'out' layer has one unit, so its z-scored response is 0 and every dissimilarity is 1.", v1Kind, r.layers[0].N, r.S),
				func(p string) error {
					return figures.HeatMaps(p, ms, figures.HeatMapOptions{Layout: figures.Layout{Title: "Representational dissimilarity matrices", Cols: 3},
						XLabel: oriLabel, YLabel: oriLabel, ColorLabel: "dissimilarity", Min: 0, Max: 2,
						XRange: [2]float64{lo, hi}, YRange: [2]float64{lo, hi}})
				})
		},
		func() error {
			var labels []string
			var vals []float64
			for _, l := range r.layers[1:] {
				if l.RSA != nil {
					labels, vals = append(labels, l.Name), append(vals, *l.RSA)
				}
			}
			if len(vals) == 0 {
				return nil
			}
			return add("rsa.png", "RSA: model layers vs V1",
				"Correlation between the off-diagonal entries of each layer's RDM and the V1 RDM (the tutorial's correlate_rdms). Layers whose RDM is constant (the one-unit 'out' layer) have no defined correlation and are left out.",
				func(p string) error {
					return figures.Bars(p, labels, vals, figures.BarsOptions{Layout: figures.Layout{Title: "Similarity of model layers to V1"},
						XLabel: "deep network model layer", YLabel: "correlation of layer RDM with V1 RDM"})
				})
		},
		func() error {
			var panels []figures.LinePanel
			x := make([]float64, r.S)
			for i, s := range r.stim {
				x[i] = float64(s)
			}
			for _, want := range []float64{-75, -25, 25, 75} {
				i := nearest(x, want)
				var series []figures.Series
				for _, l := range r.layers {
					if l.N == 1 {
						continue
					}
					row := figures.Float64s(l.RDM[i*r.S : (i+1)*r.S])
					series = append(series, sortedSeries(layerTitle(l.Name), x, row))
				}
				panels = append(panels, figures.LinePanel{Title: fmt.Sprintf("dissimilarity to the %.0f° stimulus", x[i]), Series: series})
			}
			return add("rdm_rows.png", "RDM rows",
				"Rows of the RDMs (the tutorial's plot_rdm_rows): dissimilarity of the response to every stimulus from the response to the stimulus closest to −75°, −25°, 25° and 75°.",
				func(p string) error {
					return figures.Lines(p, panels, figures.LinesOptions{Layout: figures.Layout{Title: "Dissimilarity with the response to one stimulus", Cols: 2},
						XLabel: oriLabel, YLabel: "dissimilarity"})
				})
		},
		func() error {
			var panels []figures.LinePanel
			for _, l := range r.layers {
				x, curves, err := analysis.TuningCurves(l.Resp, r.S, l.N, r.stim, r.tuningUnits[l.Name])
				if err != nil {
					return err
				}
				var series []figures.Series
				what := "unit"
				if l.Name == "V1" {
					what = "neuron"
				}
				for i, cv := range curves {
					series = append(series, figures.Series{Name: fmt.Sprintf("%s %d", what, r.tuningUnits[l.Name][i]), X: x, Y: cv})
				}
				panels = append(panels, figures.LinePanel{Title: layerTitle(l.Name) + " responses", Series: series})
			}
			return add("tuning.png", "Tuning curves",
				fmt.Sprintf("Responses of %d randomly chosen V1 neurons and units of each layer (among those whose response varies) as a function of stimulus orientation. conv and fc are before their ReLU, out before the sigmoid, as forward hooks see them.", r.cfg.TuningUnits),
				func(p string) error {
					return figures.Lines(p, panels, figures.LinesOptions{Layout: figures.Layout{Title: "Tuning curves", Cols: 3},
						XLabel: oriLabel, YLabel: "response"})
				})
		},
		func() error {
			var pts []figures.Points
			c := make([]float64, r.S)
			for i, s := range r.stim {
				c[i] = float64(s)
			}
			for _, name := range r.tsneLayers {
				y := r.tsne[name]
				px, py := make([]float64, r.S), make([]float64, r.S)
				for i := range px {
					px[i], py[i] = y[2*i], y[2*i+1]
				}
				pts = append(pts, figures.Points{Title: layerTitle(name) + " responses", X: px, Y: py, C: c})
			}
			return add("tsne.png", "t-SNE embeddings",
				fmt.Sprintf("Population responses to each stimulus reduced to ≤ 20 dimensions by PCA, then to 2 by exact t-SNE (perplexity %.3g, %d iterations), coloured by stimulus orientation, for V1 and the layers Tutorial 3 embeds.", r.tsnePerplex, r.cfg.TSNEIterations),
				func(p string) error {
					return figures.Scatter(p, pts, figures.ScatterOptions{Layout: figures.Layout{Title: "Low-dimensional representations (PCA → t-SNE)"},
						XLabel: "dimension 1", YLabel: "dimension 2", ColorLabel: oriLabel, Min: -90, Max: 90, HideTicks: true})
				})
		},
		func() error {
			d := r.decode
			if d == nil {
				return nil
			}
			m := figures.Matrix{Title: "W_in, neurons sorted by preferred orientation", Data: figures.Float64s(d.WIn), Rows: d.Hidden, Cols: d.WInCols}
			avg := ""
			if d.WInCols < d.Neurons {
				avg = fmt.Sprintf(" Each column averages %d neurons adjacent in that order (%d columns).", (d.Neurons+d.WInCols-1)/d.WInCols, d.WInCols)
			}
			return add("decoder_weights.png", "Decoder input weights sorted by preferred orientation",
				fmt.Sprintf("Input weights W_in (%d hidden units × %d neurons) of the Bonus tutorial's orientation decoder (softmax over %d classes of %.0f°, lr %g, L2 %g and L1 %g on W_in, %d full-batch steps on %d stimuli; test accuracy %.3f on %d held-out stimuli). Columns are neurons sorted by preferred orientation (argmax of the tuning curve smoothed with a Gaussian of σ = %g°, wrapping around 360°). %s Colour limits are ±the 99th percentile of the drawn |W_in| (%.3g).",
					d.Hidden, d.Neurons, d.Classes, 360/float64(d.Classes), d.LR, d.L2, d.L1, d.Steps, d.TrainStimuli, d.TestAcc, d.TestStim, d.SmoothingSigmaDeg, avg, d.WInLimit),
				func(p string) error {
					return figures.HeatMap(p, m, figures.HeatMapOptions{Layout: figures.Layout{Title: "Decoder input weights", Width: 900, Height: 420},
						XLabel: "neurons sorted by preferred orientation", YLabel: "hidden unit", ColorLabel: "weight",
						Min: -d.WInLimit, Max: d.WInLimit, ColorMap: figures.BlueRed(), XRange: [2]float64{0, float64(d.Neurons)}})
				})
		},
		func() error {
			d := r.decode
			if d == nil {
				return nil
			}
			return add("decoder_loss.png", "Decoder training loss",
				"Objective of the decoder (negative log-likelihood plus the L1 and L2 penalties on W_in) at each full-batch step.",
				func(p string) error {
					return figures.Lines(p, []figures.LinePanel{{Title: "Orientation decoder on V1", Series: []figures.Series{{Name: "NLL + penalties", Y: d.Losses}}}},
						figures.LinesOptions{Layout: figures.Layout{Title: "Decoder training loss"}, XLabel: "step", YLabel: "loss"})
				})
		},
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, err
		}
	}
	return figs, nil
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
