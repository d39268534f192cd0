package report

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/analysis/figures"
	"github.com/vkneuro/vkneuro/data"
)

// The tutorial's colours of the split data: plot_tuning's and
// plot_prediction's 'y' (train), 'm' (test) and 'g' (prediction).
var (
	trainColor = color.RGBA{R: 0xbf, G: 0xbf, A: 0xff}
	testColor  = color.RGBA{R: 0xbf, B: 0xbf, A: 0xff}
	predColor  = color.RGBA{G: 0x80, A: 0xff}
)

// encodeFigures are the Bonus tutorial's Section 3 figures.
func (r *report) encodeFigures(add addFigure) error {
	e, v := r.enc, r.split
	if e == nil {
		return nil
	}
	tuning := func(pred bool) []figures.Panel {
		var ps []figures.Panel
		for _, n := range e.Examples {
			p := &figures.XYPanel{Title: fmt.Sprintf("neuron %d", n), XLabel: oriLabel, YLabel: "neural response", XTicks: degreeTicks(0, 360, 5), XRange: [2]float64{0, 360}}
			x := figures.Float64s(v.Stimuli)
			if pred {
				p.XLabel, p.YLabel, p.XTicks, p.XRange, x = "stimulus bin", "response", nil, [2]float64{}, nil
			}
			p.Series = []figures.XYSeries{
				{Name: "train", X: x, Y: column(v.RespTrain, v.S, v.N, n), Color: trainColor, Width: 1.5},
				{Name: "test", X: x, Y: column(v.RespTest, v.S, v.N, n), Color: testColor, Width: 1.5},
			}
			if pred {
				p.Series = append(p.Series, figures.XYSeries{Name: "prediction", X: x, Y: column(e.Pred, v.S, v.N, n), Color: predColor, Width: 3})
			}
			ps = append(ps, p)
		}
		return ps
	}
	layout := figures.Layout{Cols: 5}
	if err := add("encode_tuning.png", "Tuning curves of the split data", "Bonus tutorial Section 3.1 (load_data_split, plot_tuning)",
		fmt.Sprintf("resp_train (yellow) and resp_test (magenta), the responses averaged over two halves of the trials in each of the %d orientation bins, of %d random neurons of %s.", v.S, len(e.Examples), r.splitDesc),
		func(p string) error {
			layout.Title = "Neural tuning curves, two halves of the trials"
			return figures.Compose(p, tuning(false), figures.ComposeOptions{Layout: layout, PanelWidth: 300, PanelHeight: 260})
		}); err != nil {
		return err
	}
	if len(e.Losses) > 0 {
		if err := add("encode_loss.png", "Encoder training and test loss", "Bonus tutorial Section 3.2 (train(net, regularized_MSE_loss, ...), plot_training_curves)",
			fmt.Sprintf("Mean squared error plus the L1 (%g) and L2 (%g) penalties on out_layer.weight of the ConvFC encoder (conv 6×7×7 → out_layer %d → %d neurons), %d full-batch steps of SGD at lr %g with momentum %g, fitted to resp_train; the points are the same objective on resp_test%s.",
				r.cfg.EncodeL1, r.cfg.EncodeL2, 6*e.H*e.W, e.N, e.Steps, r.cfg.EncodeLR, r.cfg.EncodeMomentum, testLossNote(e.TestSteps)),
			func(p string) error {
				return figures.Compose(p, []figures.Panel{lossPanel("ConvFC encoder", "mean squared error", e.Losses, e.TestSteps, e.TestLosses, "train loss")},
					figures.ComposeOptions{Layout: figures.Layout{Title: "Fitting the encoding model"}, PanelWidth: 640})
			}); err != nil {
			return err
		}
	}
	if err := add("encode_predictions.png", "Encoder predictions", "Bonus tutorial Section 3.2 (y_pred = net(grating_stimuli), plot_prediction)",
		fmt.Sprintf("The encoder's prediction (green) for the same %d neurons against resp_train (yellow), which it was fitted to, and resp_test (magenta), by stimulus bin. Encoder: %s.", len(e.Examples), e.source()),
		func(p string) error {
			layout.Title = "Predicted and measured tuning curves"
			return figures.Compose(p, tuning(true), figures.ComposeOptions{Layout: layout, PanelWidth: 300, PanelHeight: 260})
		}); err != nil {
		return err
	}
	kk := t2K * t2K
	initial := data.Filters(t2Channels, t2K)
	data.Demean(initial, t2Channels, t2K)
	var ims []figures.Matrix
	var wmax float64
	for _, set := range []struct {
		name string
		w    []float32
	}{{"initial", initial}, {"learned", e.Filters}} {
		for c := 0; c < t2Channels; c++ {
			f := figures.Float64s(set.w[c*kk : (c+1)*kk])
			for _, x := range f {
				wmax = math.Max(wmax, math.Abs(x))
			}
			ims = append(ims, figures.Matrix{Title: fmt.Sprintf("%s, channel %d", set.name, c), Data: f, Rows: t2K, Cols: t2K})
		}
	}
	return add("encode_filters.png", "Encoder filters", "Bonus tutorial Section 3.2 (plot_weights(net.conv.weight))",
		fmt.Sprintf("The encoder's convolutional filters before (Tutorial 2's de-meaned filters) and after fitting, on one scale of ±%.3g. If they barely change, the centre-surround and Gabor filters were a sufficient basis for the responses.", wmax),
		func(p string) error {
			return figures.ImageGrid(p, ims, figures.ImageGridOptions{Layout: figures.Layout{Title: "Convolutional filters of the encoder", Cols: t2Channels}, Min: -wmax, Max: wmax, ColorMap: figures.BlueRed()})
		})
}

// evalFigures score the encoder and the CNN's layers as encoding studies
// do.
func (r *report) evalFigures(add addFigure) error {
	e := r.enc
	if e == nil {
		return nil
	}
	sc := e.Scores
	best := e.bestRidge()
	hist := []figures.HistSeries{{Name: "ConvFC encoder", Values: sc.TestCorr}}
	if best != nil {
		hist = append(hist, figures.HistSeries{Name: "ridge from " + best.Name, Values: best.TestCorr})
	}
	if err := add("encode_r_hist.png", "Test correlation per neuron", "the field's encoding scores; not in the tutorials",
		fmt.Sprintf("Correlation r over the %d stimuli between each neuron's prediction (fitted to resp_train) and resp_test, for the encoder (median %.3f, n = %d) and for the ridge baseline with the best median, dashed lines at the medians.", e.S, e.Summary.TestCorr.Median, e.Summary.TestCorr.N),
		func(p string) error {
			return figures.Histogram(p, []figures.HistPanel{{Title: "prediction of resp_test", Series: hist}},
				figures.HistogramOptions{Layout: figures.Layout{Title: "Test correlation of the encoding models"}, XLabel: "test correlation r", YLabel: "neurons"})
		}); err != nil {
		return err
	}
	sqrtRel := make([]float64, len(sc.Reliability))
	for i, rel := range sc.Reliability {
		sqrtRel[i] = math.Sqrt(rel) // NaN where rel < 0: left out of the scatter
	}
	if err := add("encode_ceiling.png", "Test correlation against its ceiling", "the field's noise ceiling (r against √reliability); not in the tutorials",
		fmt.Sprintf("Each neuron's test correlation r against √rel, rel its split-half reliability corr(resp_train, resp_test): a prediction fitted to one half can correlate with the other at most as well as the noise-free tuning does, √rel, the identity line. Median normalised correlation r/√rel %.3f over the %d neurons with rel > 0 (%d excluded); median FEVE %.3f (n = %d).",
			e.Summary.NormCorr.Median, e.Summary.NormCorr.N, e.Summary.NormCorrExcluded, e.Summary.FEVE.Median, e.Summary.FEVE.N),
		func(p string) error {
			return figures.CeilingScatter(p, []figures.Points{{Title: "ConvFC encoder", X: sqrtRel, Y: sc.TestCorr}},
				figures.CeilingOptions{Layout: figures.Layout{Title: "How close to the noise ceiling"}, XLabel: "√ split-half reliability", YLabel: "test correlation r"})
		}); err != nil {
		return err
	}
	var fits []figures.TuningFit
	for i, n := range e.Best {
		fits = append(fits, figures.TuningFit{Title: fmt.Sprintf("%s: neuron %d, r = %.3f", []string{"best", "median", "worst"}[i], n, sc.TestCorr[n]),
			X: figures.Float64s(e.Stimuli), Measured: column(r.split.RespTest, e.S, e.N, n), Predicted: column(e.Pred, e.S, e.N, n)})
	}
	if err := add("encode_fits.png", "Best, median and worst predicted neurons", "the field's example fits; not in the tutorials",
		"The encoder's predicted tuning curves against the measured resp_test of the neurons with the largest, the median and the smallest test correlation.",
		func(p string) error {
			return figures.TuningFits(p, fits, figures.TuningFitsOptions{Layout: figures.Layout{Title: "Predicted against measured tuning curves"}, XLabel: oriLabel, YLabel: "response"})
		}); err != nil {
		return err
	}
	if err := r.layerComparison(add); err != nil {
		return err
	}
	var rfs []figures.Matrix
	for i, n := range e.RFUnits {
		rfs = append(rfs, figures.Matrix{Title: fmt.Sprintf("neuron %d (r = %.2f)", n, sc.TestCorr[n]), Data: figures.Float64s(e.RFs[i*e.H*e.W : (i+1)*e.H*e.W]), Rows: e.H, Cols: e.W})
	}
	if err := add("encode_rf.png", "Receptive fields of the best-predicted neurons", "gradient receptive fields; not in the tutorials",
		fmt.Sprintf("The effective linear receptive field of each of the %d best-predicted neurons in pixel space: the gradient of the encoder's output for the neuron with respect to the %d×%d input image, through the conv layer (models.InputGradient; the encoder is linear in its input, so it is the same at every image). Each on its own scale, red positive, blue negative.", len(e.RFUnits), e.H, e.W),
		func(p string) error {
			return figures.ReceptiveFields(p, rfs, figures.ReceptiveFieldOptions{Layout: figures.Layout{Title: "Encoder receptive fields", Cols: 4}, Signed: true, PerImage: true})
		}); err != nil {
		return err
	}
	if e.Sens == nil {
		return nil
	}
	hw := r.imgH * r.imgW
	var maps []figures.Matrix
	for u := 0; u < e.SensUnits; u++ {
		maps = append(maps, figures.Matrix{Title: fmt.Sprintf("%s unit %d", e.SensLayer, u), Data: e.Sens[u*hw : (u+1)*hw], Rows: r.imgH, Cols: r.imgW})
	}
	return add("cnn_sensitivity.png", "Where the CNN's units look", "sliding noise-patch sensitivity maps; not in the tutorials",
		fmt.Sprintf("Sensitivity maps of the units of the CNN's %s layer: a %d×%d patch of Gaussian noise (of the stimuli's pixel s.d.) slides over %d of the Tutorial 3 gratings, and each pixel is credited with the mean change of the unit's response when the patches covering it are noised. Each map on its own scale from 0.", e.SensLayer, e.SensPatch, e.SensPatch, e.SensImages),
		func(p string) error {
			return figures.ReceptiveFields(p, maps, figures.ReceptiveFieldOptions{Layout: figures.Layout{Title: "Sensitivity maps", Cols: 5}, PerImage: true})
		})
}

// layerComparison draws "which layer predicts V1 best", both ways: the
// ridge baselines' test correlation and FEVE per feature set, and the
// RSA of each layer on the split data's stimuli under the noise ceiling.
func (r *report) layerComparison(add addFigure) error {
	e := r.enc
	ridge := figures.BarPanel{Title: "ridge regression to V1", YLabel: "median over neurons (bars: 25th–75th percentile)"}
	corr, feve := figures.BarSeries{Name: "test correlation r"}, figures.BarSeries{Name: "FEVE"}
	bar := func(b *figures.BarSeries, m analysis.Summary) {
		b.Values, b.Lo, b.Hi = append(b.Values, m.Median), append(b.Lo, m.Q25), append(b.Hi, m.Q75)
	}
	for _, fs := range e.Features {
		ridge.Labels = append(ridge.Labels, fs.Name)
		bar(&corr, fs.Summary.TestCorr)
		bar(&feve, fs.Summary.FEVE)
	}
	ridge.Series = []figures.BarSeries{corr, feve}
	panels := []figures.BarPanel{ridge}
	if rsa, ok := rsaPanel("RSA with V1 (resp_test)", e.RSALayers, "RSA"); ok {
		rsa.YLabel = "correlation of layer RDM with V1 RDM"
		rsa.Band = &figures.Band{Name: "noise ceiling", Value: e.Ceiling.RSA, Lo: e.Ceiling.Lo, Hi: e.Ceiling.Hi}
		panels = append(panels, rsa)
	}
	var alphas []string
	for _, fs := range e.Features {
		alphas = append(alphas, fmt.Sprintf("%s %d features, median α %.3g", fs.Name, fs.D, fs.Summary.Alpha.Median))
	}
	return add("layers_vs_v1.png", "Which layer predicts V1 best", "the field's layer-wise comparison (ridge regression, RSA noise ceiling); not in the tutorials",
		fmt.Sprintf("Left: ridge regression (himalaya's RidgeCV: 5-fold cross-validated α per neuron, refitted on all stimuli) from the encoder's stimulus pixels and from each layer of the CNN for the same orientations (rendered as the CNN's 48×64 gratings) to resp_train, scored on resp_test: median test correlation and FEVE, bars from the 25th to the 75th percentile (%s). Right: the RSA of each layer with the RDM of resp_test over the split data's %d stimuli ≤ 180° (shifted by −90°), with 95%% bootstrap intervals; the band is the noise ceiling, the RSA between the RDMs of resp_train and resp_test (%.3f, 95%% interval [%.3f, %.3f]). These RSA values are over the split data's stimuli, unlike Tutorial 3's RSA figure.",
			strings.Join(alphas, "; "), e.RSAStimuli, e.Ceiling.RSA, e.Ceiling.Lo, e.Ceiling.Hi),
		func(p string) error {
			return figures.GroupedBars(p, panels, figures.GroupedBarsOptions{Layout: figures.Layout{Title: "Which layer predicts V1 best, both ways"}, XLabel: "features"})
		})
}

// bestRidge is the ridge baseline with the largest median test
// correlation.
func (e *encoding) bestRidge() *featureSet {
	var best *featureSet
	for _, fs := range e.Features {
		if best == nil || fs.Summary.TestCorr.Median > best.Summary.TestCorr.Median {
			best = fs
		}
	}
	return best
}

func (e *encoding) source() string {
	if e.Source == "trained" {
		return fmt.Sprintf("trained here, %d steps", e.Steps)
	}
	return "from " + e.Source
}

// column is column n of an S×N matrix.
func column(m []float32, S, N, n int) []float64 {
	c := make([]float64, S)
	for s := range c {
		c[s] = float64(m[s*N+n])
	}
	return c
}
