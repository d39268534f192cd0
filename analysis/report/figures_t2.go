package report

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/analysis/figures"
	"github.com/vkneuro/vkneuro/data"
)

// v1Figures show the V1 data (the Bonus tutorial's first look at it) and
// the eigenspectrum of its population.
func (r *report) v1Figures(add addFigure) error {
	v := r.v1
	S, N := v.S, v.N
	// plot_data_matrix(resp_all[:100, :].T), of the first maxDataRows
	// neurons: averaging rows to fit the figure would average neurons of
	// unrelated preferences into a flat image.
	show, rows := min(100, S), min(N, maxDataRows)
	m := make([]float64, rows*show)
	for s := 0; s < show; s++ {
		for n := 0; n < rows; n++ {
			m[n*show+s] = float64(v.Resp[s*N+n])
		}
	}
	lo, hi := percentile(m, 0.01), percentile(m, 0.99)
	if !(lo < hi) {
		lo, hi = 0, 0 // a flat matrix: the panel takes the data's range
	}
	rng := rand.New(rand.NewPCG(uint64(r.cfg.Seed), 7))
	neurons := rng.Perm(N)[:min(3, N)] // np.random.choice(n_neurons, 3, replace=False)
	slices.Sort(neurons)
	x, curves, err := analysis.TuningCurves(v.Resp, S, N, v.Stimuli, neurons)
	if err != nil {
		return err
	}
	tun := &figures.XYPanel{Title: "tuning curves of three random neurons", XLabel: oriLabel, YLabel: "neural response", XTicks: degreeTicks(0, 360, 5), XRange: [2]float64{0, 360}}
	for i, c := range curves {
		tun.Series = append(tun.Series, figures.XYSeries{Name: fmt.Sprintf("neuron %d", neurons[i]), X: x, Y: c, Width: 1})
	}
	which := ""
	if rows < N {
		which = fmt.Sprintf(" (the first %d neurons of %d)", rows, N)
	}
	if err := add("v1_data.png", "V1 responses", "Bonus tutorial Section 1 (plot_data_matrix and three tuning curves)",
		fmt.Sprintf("Left: responses of the %s (%s) to the first %d of its %d stimuli, neurons by stimuli%s, coloured between the 1st and 99th percentiles as the tutorial's plot_data_matrix. Right: the tuning curves of three random neurons over all stimuli.", r.v1Kind(), r.v1Desc, show, S, which),
		func(p string) error {
			return figures.Compose(p, []figures.Panel{
				&figures.ImagePanel{Matrix: figures.Matrix{Title: "responses", Data: m, Rows: rows, Cols: show}, XLabel: "stimulus", YLabel: "neuron",
					Min: lo, Max: hi, BarLabel: "normalized neural response"},
				tun,
			}, figures.ComposeOptions{Layout: figures.Layout{Title: fmt.Sprintf("%d neurons in response to %d stimuli", N, S)}, PanelWidth: 520})
		}); err != nil {
		return err
	}
	return r.spectrumFigure(add)
}

// spectrumFigure draws the cvPCA eigenspectrum of the split data on
// log–log axes with the power laws of the literature and of its fit.
func (r *report) spectrumFigure(add addFigure) error {
	sp := r.spectrum
	if sp == nil {
		return nil
	}
	var n, v []float64
	for k, ss := range sp.Variance {
		if ss > 0 { // noise leaves some components negative; a log axis cannot show them
			n, v = append(n, float64(k+1)), append(v, ss)
		}
	}
	if len(n) < 2 {
		return nil
	}
	// The power laws pass through the spectrum at the start of the fit.
	anchorN, anchorV := float64(sp.FitLo), sp.Variance[sp.FitLo-1]
	law := func(alpha float64) ([]float64, []float64) {
		xs := []float64{1, float64(len(sp.Variance))}
		ys := make([]float64, 2)
		for i, x := range xs {
			ys[i] = anchorV * math.Pow(x/anchorN, -alpha)
		}
		return xs, ys
	}
	lx, ly := law(literatureAlpha)
	panel := &figures.XYPanel{Title: "stimulus-related variance by dimension", XLabel: "PC dimension", YLabel: "variance (fraction)", LogX: true, LogY: true,
		Series: []figures.XYSeries{
			{Name: "V1, cross-validated PCA", X: n, Y: v, Points: true, Width: 2.5},
			{Name: fmt.Sprintf("n^-%g (smooth-code bound 1 + 2/d, d = 1)", literatureAlpha), X: lx, Y: ly, Dashed: true, Color: greyColor},
		}, LegendLeft: true, LegendBottom: true}
	fit := fmt.Sprintf("fewer than three dimensions from the second carry %g of the variance, too few to fit a power law", minFitVariance)
	if sp.Alpha > 0 {
		fx, fy := law(sp.Alpha)
		panel.Series = append(panel.Series, figures.XYSeries{Name: fmt.Sprintf("fit over dimensions %d–%d: α = %.2f", sp.FitLo, sp.FitHi, sp.Alpha), X: fx, Y: fy, Width: 1})
		fit = fmt.Sprintf("the power law fitted over dimensions %d–%d, those from the second that carry at least %g of the variance, as Stringer et al.'s get_powerlaw (least squares in log–log, weights 1/n), has α = %.2f", sp.FitLo, sp.FitHi, minFitVariance, sp.Alpha)
	}
	// The range the data need, so that the reference lines do not set it.
	ymin := slices.Min(v)
	panel.YRange = [2]float64{ymin / 2, 1}
	panel.XRange = [2]float64{1, float64(len(sp.Variance))}
	return add("v1_spectrum.png", "Eigenspectrum of the V1 population", "Stringer et al. (2019) Fig. 3 (cross-validated PCA of grating responses); not in the tutorials",
		fmt.Sprintf("Cross-validated PCA of the split V1 data (%s; %d stimuli × %d neurons): the principal axes of resp_train, each scored by the covariance of resp_train's and resp_test's projections on it, so that trial noise, independent between the halves, averages out; normalised by the total positive variance, with the negative (noise-dominated) dimensions left out. Stringer et al. (2019, Nature 571:361) found such spectra to follow power laws n^−α whose exponent exceeds 1 + 2/d for d-dimensional stimuli (the bound for a smooth population code), above 3 for gratings; the dashed line is that bound. Here %s.",
			r.splitDesc, sp.S, sp.N, fit),
		func(p string) error {
			return figures.Compose(p, []figures.Panel{panel}, figures.ComposeOptions{Layout: figures.Layout{Title: "V1 eigenspectrum"}, PanelWidth: 640, PanelHeight: 460})
		})
}

// t2Figures are Tutorial 2's: the example stimuli, the filters and what
// the convolutional layer makes of the stimuli.
func (r *report) t2Figures(add addFigure) error {
	var ims []figures.Matrix
	for _, a := range tutorial2Angles {
		pix, h, w := data.Grating(a, data.GratingOptions{})
		ims = append(ims, figures.Matrix{Title: fmt.Sprintf("%.0f°", a), Data: figures.Float64s(pix), Rows: h, Cols: w})
	}
	if err := add("gratings.png", "Example stimuli", "Tutorial 2 Section 1.3 and Tutorial 3 Section 1.1 (example stimuli)",
		"The tutorials' grating stimuli (48×64 pixels, 0 black to 1 white; Tutorial 2's grating() subtracts 0.5) at five orientations, in degrees from vertical; positive is tilted right. Tutorial 3's network is trained to tell the sign of the tilt.",
		func(p string) error {
			return figures.ImageGrid(p, ims, figures.ImageGridOptions{Layout: figures.Layout{Title: "Example grating stimuli"}})
		}); err != nil {
		return err
	}
	t := r.t2
	kk := t2K * t2K
	var fmax float64
	for _, v := range t.filters {
		fmax = math.Max(fmax, math.Abs(float64(v)))
	}
	var filt []figures.Matrix
	for c := 0; c < t2Channels; c++ {
		filt = append(filt, figures.Matrix{Title: fmt.Sprintf("channel %d", c), Data: figures.Float64s(t.filters[c*kk : (c+1)*kk]), Rows: t2K, Cols: t2K})
	}
	if err := add("t2_filters.png", "Example filters", "Tutorial 2 Section 1.3 (filters(): centre-surround filter 0, Gabor filter 4) and Bonus Section 2 (plot_weights)",
		fmt.Sprintf("Tutorial 2's filters(out_channels=6, K=7): a centre-surround filter (channel 0), its negative (1) and Gabors at 0°, 45°, 90° and 135° (2–5), each scaled to a largest |weight| of 1 and then de-meaned, on one scale of ±%.3g (the largest |weight|), as plot_weights draws them.", fmax),
		func(p string) error {
			return figures.ImageGrid(p, filt, figures.ImageGridOptions{Layout: figures.Layout{Title: "Convolutional filters (de-meaned)"}, Min: -fmax, Max: fmax, ColorMap: figures.BlueRed()})
		}); err != nil {
		return err
	}
	// plot_example_activations(stimuli, convout, channels=np.arange(6)),
	// with the filters above the channels they make.
	const lim = 3 // the tutorial's vmin=-3, vmax=3
	var panels []figures.Panel
	panels = append(panels, nil)
	for c, f := range filt {
		panels = append(panels, &figures.ImagePanel{Matrix: figures.Matrix{Title: fmt.Sprintf("filter %d", c), Data: f.Data, Rows: t2K, Cols: t2K},
			Map: figures.BlueRed, Min: -fmax, Max: fmax, HideAxes: true})
	}
	hw := t.h * t.w
	for i, a := range tutorial2Angles {
		panels = append(panels, &figures.ImagePanel{Matrix: figures.Matrix{Title: fmt.Sprintf("stimulus %.0f°", a), Data: figures.Float64s(t.stimuli[i*hw : (i+1)*hw]), Rows: t.h, Cols: t.w},
			Map: figures.Grey, Min: -0.5, Max: 0.5, HideAxes: true})
		for c := 0; c < t2Channels; c++ {
			off := (i*t2Channels + c) * hw
			panels = append(panels, &figures.ImagePanel{Matrix: figures.Matrix{Title: fmt.Sprintf("channel %d", c), Data: figures.Float64s(t.act[off : off+hw]), Rows: t.h, Cols: t.w},
				XLabel: "x-pos", YLabel: "y-pos", Map: figures.BlueRed, Min: -lim, Max: lim})
		}
	}
	kind := "full-field gratings"
	if t.patch {
		kind = "patch gratings (grating(ori, patch=True): a disc at three quarters of the width, 0 outside it)"
	}
	return add("t2_activations.png", "Activations of the convolutional layer", "Tutorial 2 Coding Exercise 1.3 (ConvolutionalLayer, plot_example_activations)",
		fmt.Sprintf("Each row: a stimulus (Tutorial 2's centred %s, −0.5 black to 0.5 white) and the six channels of ConvolutionalLayer(1, 6, K=7) with the filters above as weights (padding 3, stride 1, bias 0), so each map is the stimulus's size, 48×64. Colours span ±%d as in the tutorial (the largest |activation| is %.3g). Channels 0 and 1 respond to every edge with opposite signs; channels 2–5 to edges of their own orientation. --patch-gratings draws patch gratings instead.", kind, lim, t.maxAbs),
		func(p string) error {
			return figures.Compose(p, panels, figures.ComposeOptions{Layout: figures.Layout{Title: "Stimuli and convolutional layer activations", Cols: 1 + t2Channels},
				PanelWidth: 190, PanelHeight: 170, Bars: []figures.BarSpec{
					{Map: figures.BlueRed, Min: -fmax, Max: fmax, Label: "filter weight"},
					{Map: figures.BlueRed, Min: -lim, Max: lim, Label: "activation strength"},
				}})
		})
}

// maxDataRows bounds the neurons of the data-matrix image.
const maxDataRows = 1000

// greyColor draws reference curves that are not data.
var greyColor = color.Gray{Y: 0x70}

// percentile is numpy.percentile(x, 100·q) of x (linear).
func percentile(x []float64, q float64) float64 {
	v := slices.Clone(x)
	slices.Sort(v)
	h := q * float64(len(v)-1)
	i := int(h)
	if i >= len(v)-1 {
		return v[len(v)-1]
	}
	return v[i] + (h-float64(i))*(v[i+1]-v[i])
}

// degreeTicks are n evenly spaced labelled ticks from lo to hi degrees,
// as the tutorials' set_xticks(np.linspace(0, 360, 5)).
func degreeTicks(lo, hi float64, n int) []figures.Tick {
	ts := make([]figures.Tick, n)
	for i := range ts {
		v := lo + (hi-lo)*float64(i)/float64(n-1)
		ts[i] = figures.Tick{Value: v, Label: fmt.Sprintf("%.0f", v)}
	}
	return ts
}
