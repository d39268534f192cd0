package figures

import (
	"fmt"
	"image/color"
	"math"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Figures of the encoding-model comparison: per-neuron scores, tuning
// fits, per-layer bars with intervals, receptive fields.

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// finiteValues returns the finite entries of x: per-neuron scores are
// NaN where a neuron is excluded, and the figures say how many remain.
func finiteValues(x []float64) []float64 {
	out := make([]float64, 0, len(x))
	for _, v := range x {
		if finite(v) {
			out = append(out, v)
		}
	}
	return out
}

// translucent returns c at the given opacity (0…1).
func translucent(c color.Color, a float64) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: uint8(255 * a)}
}

// HistSeries is one distribution of Histogram; NaN values (excluded
// neurons) are left out and the legend gives the count drawn.
type HistSeries struct {
	Name   string
	Values []float64
}

// HistPanel is one set of axes of Histogram.
type HistPanel struct {
	Title  string
	Series []HistSeries
}

// HistogramOptions style Histogram.
type HistogramOptions struct {
	Layout
	XLabel, YLabel string
	// Bins is the number of bins over the shared range; 0 means 40.
	Bins int
	// Min and Max fix the range; both 0 uses the data's.
	Min, Max float64
}

// Histogram draws distributions over neurons (e.g. test correlations)
// as translucent bars on shared bins, each with a dashed line at its
// median and its median and count in the legend.
func Histogram(path string, panels []HistPanel, o HistogramOptions) error {
	bins := o.Bins
	if bins == 0 {
		bins = 40
	}
	if bins < 1 {
		return fmt.Errorf("figures: %s: %d bins, want at least 1", path, bins)
	}
	var all [][]float64
	for pi, hp := range panels {
		if len(hp.Series) == 0 {
			return fmt.Errorf("figures: %s: panel %d (%q) has no series", path, pi, hp.Title)
		}
		for si, s := range hp.Series {
			if len(finiteValues(s.Values)) == 0 {
				return fmt.Errorf("figures: %s: panel %d series %d (%q) has no finite value", path, pi, si, s.Name)
			}
			all = append(all, s.Values)
		}
	}
	lo, hi, err := valueRange(o.Min, o.Max, all...)
	if err != nil {
		return fmt.Errorf("figures: %s: %w", path, err)
	}
	width := (hi - lo) / float64(bins)
	plots := make([]*plot.Plot, len(panels))
	for pi, hp := range panels {
		p := newPanel(hp.Title, o.XLabel, o.YLabel)
		p.Add(plotter.NewGrid())
		var top float64
		var medians []*plotter.Line
		for si, s := range hp.Series {
			v := finiteValues(s.Values)
			h := &plotter.Histogram{Bins: make([]plotter.HistogramBin, bins), Width: width}
			for b := range h.Bins {
				h.Bins[b].Min = lo + float64(b)*width
				h.Bins[b].Max = lo + float64(b+1)*width
			}
			for _, x := range v {
				if x < lo || x > hi {
					continue // outside a fixed range
				}
				h.Bins[min(int((x-lo)/width), bins-1)].Weight++
			}
			for _, b := range h.Bins {
				top = math.Max(top, b.Weight)
			}
			c := plotutil.Color(si)
			h.FillColor = translucent(c, 0.45)
			h.LineStyle = draw.LineStyle{Color: c, Width: vg.Points(0.5)}
			p.Add(h)
			med := median(v)
			name := fmt.Sprintf("median %.3g (n = %d)", med, len(v))
			if s.Name != "" {
				name = s.Name + ": " + name
			}
			p.Legend.Add(name, h)
			ml, err := plotter.NewLine(plotter.XYs{{X: med, Y: 0}, {X: med, Y: 0}})
			if err != nil {
				return fmt.Errorf("figures: %s: %w", path, err)
			}
			ml.Color = c
			ml.Width = vg.Points(1.5)
			ml.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			medians = append(medians, ml)
			p.Add(ml)
		}
		for _, ml := range medians { // as tall as the tallest bin
			ml.XYs[1].Y = top * 1.05
		}
		// Room above the bars for the legend, one line per series.
		p.Y.Min, p.Y.Max = 0, top*(1.15+0.08*float64(len(hp.Series)))
		p.Legend.Top = true
		p.Legend.Left = true
		plots[pi] = p
	}
	return render(path, o.Layout, plots, nil)
}

// median is numpy.median of the values.
func median(x []float64) float64 {
	v := slices.Clone(x)
	slices.Sort(v)
	if n := len(v); n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[len(v)/2]
}

// CeilingOptions style CeilingScatter.
type CeilingOptions struct {
	Layout
	XLabel, YLabel string
	// Ceiling names the identity line in the legend; "" means
	// "r = √reliability (ceiling)".
	Ceiling string
}

// CeilingScatter draws one point per neuron, x its ceiling (√ of the
// split-half reliability) and y its score (the test correlation), with
// the identity line y = x: a neuron on the line is predicted as well as
// its reliability allows. Points with a NaN coordinate (neurons whose
// reliability has no square root) are left out; the legend counts the
// points drawn. C colours are not used.
func CeilingScatter(path string, panels []Points, o CeilingOptions) error {
	name := o.Ceiling
	if name == "" {
		name = "r = √reliability (ceiling)"
	}
	plots := make([]*plot.Plot, len(panels))
	for i, pt := range panels {
		if len(pt.X) == 0 || len(pt.X) != len(pt.Y) {
			return fmt.Errorf("figures: %s: panel %d (%q): %d x for %d y values, want equal non-zero counts", path, i, pt.Title, len(pt.X), len(pt.Y))
		}
		var xy plotter.XYs
		lo, hi := 0.0, 1.0
		for j := range pt.X {
			if !finite(pt.X[j]) || !finite(pt.Y[j]) {
				continue
			}
			xy = append(xy, plotter.XY{X: pt.X[j], Y: pt.Y[j]})
			lo = math.Min(lo, math.Min(pt.X[j], pt.Y[j]))
			hi = math.Max(hi, math.Max(pt.X[j], pt.Y[j]))
		}
		if len(xy) == 0 {
			return fmt.Errorf("figures: %s: panel %d (%q) has no point with finite coordinates", path, i, pt.Title)
		}
		p := newPanel(pt.Title, o.XLabel, o.YLabel)
		p.Add(plotter.NewGrid())
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return fmt.Errorf("figures: %s: %w", path, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(1.5), Color: translucent(plotutil.Color(0), 0.5)}
		id, err := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
		if err != nil {
			return fmt.Errorf("figures: %s: %w", path, err)
		}
		id.Color = color.Black
		id.Width = vg.Points(1.2)
		id.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		p.Add(sc, id)
		p.Legend.Add(fmt.Sprintf("neurons (n = %d)", len(xy)), sc)
		p.Legend.Add(name, id)
		p.Legend.Top = true
		p.Legend.Left = true
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
		plots[i] = p
	}
	return render(path, o.Layout, plots, nil)
}

// TuningFit is one neuron's measured and predicted tuning curve over the
// stimulus values X (sorted).
type TuningFit struct {
	Title               string
	X                   []float64
	Measured, Predicted []float64
}

// TuningFitsOptions style TuningFits.
type TuningFitsOptions struct {
	Layout
	XLabel, YLabel string
	// MeasuredName and PredictedName label the legend; "" means
	// "measured (resp_test)" and "predicted".
	MeasuredName, PredictedName string
}

// TuningFits draws, one panel per neuron (e.g. the best, median and
// worst predicted), the measured responses as points and the
// prediction as a line.
func TuningFits(path string, fits []TuningFit, o TuningFitsOptions) error {
	mname, pname := o.MeasuredName, o.PredictedName
	if mname == "" {
		mname = "measured (resp_test)"
	}
	if pname == "" {
		pname = "predicted"
	}
	plots := make([]*plot.Plot, len(fits))
	for i, f := range fits {
		if len(f.X) == 0 || len(f.Measured) != len(f.X) || len(f.Predicted) != len(f.X) {
			return fmt.Errorf("figures: %s: panel %d (%q): %d x, %d measured, %d predicted values, want equal non-zero counts", path, i, f.Title, len(f.X), len(f.Measured), len(f.Predicted))
		}
		m, q := make(plotter.XYs, len(f.X)), make(plotter.XYs, len(f.X))
		for j, x := range f.X {
			if !finite(x) || !finite(f.Measured[j]) || !finite(f.Predicted[j]) {
				return fmt.Errorf("figures: %s: panel %d (%q) point %d = (%v; %v, %v), want finite", path, i, f.Title, j, x, f.Measured[j], f.Predicted[j])
			}
			m[j] = plotter.XY{X: x, Y: f.Measured[j]}
			q[j] = plotter.XY{X: x, Y: f.Predicted[j]}
		}
		p := newPanel(f.Title, o.XLabel, o.YLabel)
		p.Add(plotter.NewGrid())
		sc, err := plotter.NewScatter(m)
		if err != nil {
			return fmt.Errorf("figures: %s: %w", path, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(2), Color: plotutil.Color(0)}
		line, err := plotter.NewLine(q)
		if err != nil {
			return fmt.Errorf("figures: %s: %w", path, err)
		}
		line.Color = plotutil.Color(1)
		line.Width = vg.Points(2)
		p.Add(sc, line)
		p.Legend.Add(mname, sc)
		p.Legend.Add(pname, line)
		p.Legend.Top = true
		// Room above the data for the legend.
		lo, hi := math.Inf(1), math.Inf(-1)
		for j := range m {
			lo = math.Min(lo, math.Min(m[j].Y, q[j].Y))
			hi = math.Max(hi, math.Max(m[j].Y, q[j].Y))
		}
		if hi == lo {
			hi = lo + 1
		}
		p.Y.Min, p.Y.Max = lo-0.05*(hi-lo), hi+0.25*(hi-lo)
		plots[i] = p
	}
	return render(path, o.Layout, plots, nil)
}

// BarSeries is one group member of GroupedBars: a value per label and,
// optionally, an interval (Lo, Hi nil for none) drawn as an error bar.
type BarSeries struct {
	Name           string
	Values, Lo, Hi []float64
}

// Band is a shaded horizontal interval with a line at Value, e.g. a
// noise ceiling with its bootstrap interval.
type Band struct {
	Name          string
	Value, Lo, Hi float64
}

// BarPanel is one set of axes of GroupedBars.
type BarPanel struct {
	Title  string
	YLabel string // "" uses the options' YLabel
	Labels []string
	Series []BarSeries
	Band   *Band
}

// GroupedBarsOptions style GroupedBars.
type GroupedBarsOptions struct {
	Layout
	XLabel, YLabel string
}

// GroupedBars draws, per label (e.g. a network layer), one bar per
// series side by side with its error bar, a legend of the series, and
// an optional shaded band behind them: ridge test correlation and FEVE
// beside RSA per layer, or RSA with bootstrap intervals under the noise
// ceiling.
func GroupedBars(path string, panels []BarPanel, o GroupedBarsOptions) error {
	plots := make([]*plot.Plot, len(panels))
	for pi, bp := range panels {
		nl, ns := len(bp.Labels), len(bp.Series)
		if nl == 0 || ns == 0 {
			return fmt.Errorf("figures: %s: panel %d (%q): %d labels, %d series, want both non-zero", path, pi, bp.Title, nl, ns)
		}
		ylabel := bp.YLabel
		if ylabel == "" {
			ylabel = o.YLabel
		}
		p := newPanel(bp.Title, o.XLabel, ylabel)
		p.Add(plotter.NewGrid())
		ymin, ymax := 0.0, 0.0
		if b := bp.Band; b != nil {
			if !finite(b.Value) || !finite(b.Lo) || !finite(b.Hi) || b.Lo > b.Hi {
				return fmt.Errorf("figures: %s: panel %d band %q = %v in [%v, %v], want finite with lo ≤ hi", path, pi, b.Name, b.Value, b.Lo, b.Hi)
			}
			x0, x1 := -0.5, float64(nl)-0.5
			poly, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: b.Lo}, {X: x1, Y: b.Lo}, {X: x1, Y: b.Hi}, {X: x0, Y: b.Hi}})
			if err != nil {
				return fmt.Errorf("figures: %s: %w", path, err)
			}
			poly.Color = color.NRGBA{R: 128, G: 128, B: 128, A: 80}
			poly.LineStyle.Width = 0
			line, err := plotter.NewLine(plotter.XYs{{X: x0, Y: b.Value}, {X: x1, Y: b.Value}})
			if err != nil {
				return fmt.Errorf("figures: %s: %w", path, err)
			}
			line.Color = color.Gray{Y: 70}
			line.Width = vg.Points(1.5)
			line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			p.Add(poly, line)
			p.Legend.Add(fmt.Sprintf("%s %.3g", b.Name, b.Value), poly, line)
			ymin, ymax = math.Min(ymin, b.Lo), math.Max(ymax, b.Hi)
		}
		w := 0.8 / float64(ns) // bar width in label units
		for si, s := range bp.Series {
			if len(s.Values) != nl || (s.Lo == nil) != (s.Hi == nil) || (s.Lo != nil && (len(s.Lo) != nl || len(s.Hi) != nl)) {
				return fmt.Errorf("figures: %s: panel %d series %d (%q): %d values, %d lo, %d hi for %d labels", path, pi, si, s.Name, len(s.Values), len(s.Lo), len(s.Hi), nl)
			}
			c := plotutil.Color(si)
			var bars []*plotter.Polygon
			var ex plotter.XYs
			var ey plotter.YErrors
			for i, v := range s.Values {
				if !finite(v) {
					return fmt.Errorf("figures: %s: panel %d series %q value %d (%q) = %v, want finite", path, pi, s.Name, i, bp.Labels[i], v)
				}
				x := float64(i) + (float64(si)-float64(ns-1)/2)*w
				bar, err := plotter.NewPolygon(plotter.XYs{{X: x - w/2, Y: 0}, {X: x + w/2, Y: 0}, {X: x + w/2, Y: v}, {X: x - w/2, Y: v}})
				if err != nil {
					return fmt.Errorf("figures: %s: %w", path, err)
				}
				bar.Color = c
				bar.LineStyle.Width = 0
				bars = append(bars, bar)
				p.Add(bar)
				ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
				if s.Lo != nil {
					lo, hi := s.Lo[i], s.Hi[i]
					if !finite(lo) || !finite(hi) || lo > v || hi < v {
						return fmt.Errorf("figures: %s: panel %d series %q interval %d (%q) = [%v, %v] around %v, want finite and containing the value", path, pi, s.Name, i, bp.Labels[i], lo, hi, v)
					}
					ex = append(ex, plotter.XY{X: x, Y: v})
					ey = append(ey, struct{ Low, High float64 }{v - lo, hi - v})
					ymin, ymax = math.Min(ymin, lo), math.Max(ymax, hi)
				}
			}
			if s.Name != "" {
				p.Legend.Add(s.Name, bars[0])
			}
			if ex != nil {
				eb, err := plotter.NewYErrorBars(struct {
					plotter.XYs
					plotter.YErrors
				}{ex, ey})
				if err != nil {
					return fmt.Errorf("figures: %s: %w", path, err)
				}
				eb.LineStyle.Width = vg.Points(1.2)
				eb.CapWidth = vg.Points(6)
				p.Add(eb)
			}
		}
		p.NominalX(bp.Labels...)
		p.X.Min, p.X.Max = -0.5, float64(nl)-0.5
		// Room above the tallest bar for the legend.
		p.Y.Min, p.Y.Max = ymin, ymax+0.25*(ymax-ymin)
		if ymax == ymin {
			p.Y.Max = ymin + 1
		}
		p.Legend.Top = true
		plots[pi] = p
	}
	return render(path, o.Layout, plots, nil)
}

// ReceptiveFieldOptions style ReceptiveFields.
type ReceptiveFieldOptions struct {
	Layout
	// Signed draws values on a blue–white–red scale symmetric about 0
	// (gradients); otherwise on Viridis from 0 (sensitivity maps,
	// which are non-negative).
	Signed bool
	// PerImage scales each image to its own range (no colour bar), so
	// weak units stay visible; otherwise all share one scale and a
	// colour bar labelled ColorLabel.
	PerImage   bool
	ColorLabel string
}

// ReceptiveFields draws receptive-field images (gradient receptive
// fields, sensitivity maps) in a grid, o.Cols per row, each with its
// title (e.g. the unit), without axes.
func ReceptiveFields(path string, rfs []Matrix, o ReceptiveFieldOptions) error {
	if len(rfs) == 0 {
		return fmt.Errorf("figures: %s: no receptive fields to draw", path)
	}
	var all [][]float64
	for i, m := range rfs {
		if err := checkMatrix(path, i, m); err != nil {
			return err
		}
		all = append(all, m.Data)
	}
	scale := func(data ...[]float64) (palette.ColorMap, error) {
		lo, hi, err := valueRange(0, 0, data...)
		if err != nil {
			return nil, err
		}
		var cm palette.ColorMap
		if o.Signed {
			a := math.Max(math.Abs(lo), math.Abs(hi))
			lo, hi, cm = -a, a, BlueRed()
		} else {
			if lo > 0 {
				lo = 0
			}
			cm = Viridis()
		}
		if !(lo < hi) {
			hi = lo + 1 // all zeros: any scale draws them alike
		}
		cm.SetMin(lo)
		cm.SetMax(hi)
		return cm, nil
	}
	var shared palette.ColorMap
	if !o.PerImage {
		var err error
		if shared, err = scale(all...); err != nil {
			return fmt.Errorf("figures: %s: %w", path, err)
		}
	}
	plots := make([]*plot.Plot, len(rfs))
	for i, m := range rfs {
		cm := shared
		if o.PerImage {
			var err error
			if cm, err = scale(m.Data); err != nil {
				return fmt.Errorf("figures: %s: image %d (%q): %w", path, i, m.Title, err)
			}
		}
		p := newPanel(m.Title, "", "")
		p.Add(plotter.NewImage(rasterize(m.Data, m.Rows, m.Cols, cm), 0, 0, float64(m.Cols), float64(m.Rows)))
		p.HideAxes()
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, float64(m.Cols), 0, float64(m.Rows)
		plots[i] = p
	}
	var bar *plot.Plot
	if shared != nil {
		bar = colorBar(shared, o.ColorLabel)
	}
	return renderSized(path, o.Layout, 200, 180, plots, bar)
}
