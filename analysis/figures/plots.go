package figures

import (
	"fmt"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// BarsOptions style Bars.
type BarsOptions struct {
	Layout
	XLabel, YLabel string
}

// Bars draws one bar per label, e.g. the RSA correlation of each model
// layer with V1.
func Bars(path string, labels []string, values []float64, o BarsOptions) error {
	if len(labels) == 0 || len(labels) != len(values) {
		return fmt.Errorf("figures: %s: %d labels for %d values, want equal non-zero counts", path, len(labels), len(values))
	}
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("figures: %s: value %d (%q) = %v, want finite", path, i, labels[i], v)
		}
	}
	p := newPanel(o.Title, o.XLabel, o.YLabel)
	bars, err := plotter.NewBarChart(plotter.Values(values), px(min(60, 300/len(values)+10)))
	if err != nil {
		return fmt.Errorf("figures: %s: %w", path, err)
	}
	bars.Color = plotutil.Color(0)
	bars.LineStyle.Width = 0
	p.Add(plotter.NewGrid(), bars) // grid first: bars hide it
	p.NominalX(labels...)
	p.Y.Min = math.Min(p.Y.Min, 0)
	p.Y.Max = math.Max(p.Y.Max, 0)
	l := o.Layout
	l.Title = "" // drawn as the panel title
	return render(path, l, []*plot.Plot{p}, nil)
}

// Series is one curve; X nil means 0, 1, 2, ….
type Series struct {
	Name string
	X, Y []float64
}

// LinePanel is one set of axes of Lines.
type LinePanel struct {
	Title  string
	Series []Series
}

// LinesOptions style Lines.
type LinesOptions struct {
	Layout
	XLabel, YLabel string
	// LogY draws the y axis on a log scale (for loss curves); all
	// values must then be positive.
	LogY bool
}

// Lines draws curves, one panel per LinePanel, with a legend of the
// named series: tuning curves of several units, training losses.
func Lines(path string, panels []LinePanel, o LinesOptions) error {
	plots := make([]*plot.Plot, len(panels))
	for pi, lp := range panels {
		if len(lp.Series) == 0 {
			return fmt.Errorf("figures: %s: panel %d (%q) has no series", path, pi, lp.Title)
		}
		p := newPanel(lp.Title, o.XLabel, o.YLabel)
		p.Add(plotter.NewGrid())
		if o.LogY {
			p.Y.Scale = plot.LogScale{}
			p.Y.Tick.Marker = logTicks{}
		}
		for si, s := range lp.Series {
			if len(s.Y) == 0 || (s.X != nil && len(s.X) != len(s.Y)) {
				return fmt.Errorf("figures: %s: panel %d series %d (%q): %d x for %d y values", path, pi, si, s.Name, len(s.X), len(s.Y))
			}
			xy := make(plotter.XYs, len(s.Y))
			for i, y := range s.Y {
				x := float64(i)
				if s.X != nil {
					x = s.X[i]
				}
				if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) || (o.LogY && y <= 0) {
					return fmt.Errorf("figures: %s: panel %d series %d (%q) point %d = (%v, %v), want finite (and y > 0 on a log axis)", path, pi, si, s.Name, i, x, y)
				}
				xy[i] = plotter.XY{X: x, Y: y}
			}
			line, err := plotter.NewLine(xy)
			if err != nil {
				return fmt.Errorf("figures: %s: %w", path, err)
			}
			line.Color = plotutil.Color(si)
			line.Width = vg.Points(1.5)
			p.Add(line)
			if s.Name != "" {
				p.Legend.Add(s.Name, line)
			}
		}
		p.Legend.Top = true
		plots[pi] = p
	}
	return render(path, o.Layout, plots, nil)
}

// Points is one scatter panel; C colours the points (nil: one colour).
type Points struct {
	Title   string
	X, Y, C []float64
}

// ScatterOptions style Scatter.
type ScatterOptions struct {
	Layout
	XLabel, YLabel, ColorLabel string
	// Min and Max are the colour limits; both 0 uses the data range.
	Min, Max float64
	// ColorMap nil means Cyclic (for orientations). The call sets its
	// Min and Max.
	ColorMap palette.ColorMap
	// HideTicks drops tick labels, whose values mean nothing for t-SNE.
	HideTicks bool
}

// Scatter draws 2-D points coloured by a value with a colour bar, e.g.
// the PCA or t-SNE embedding of each layer coloured by orientation.
func Scatter(path string, panels []Points, o ScatterOptions) error {
	var cs [][]float64
	for i, pt := range panels {
		if len(pt.X) == 0 || len(pt.X) != len(pt.Y) || (pt.C != nil && len(pt.C) != len(pt.X)) {
			return fmt.Errorf("figures: %s: panel %d (%q): %d x, %d y, %d colour values, want equal non-zero counts", path, i, pt.Title, len(pt.X), len(pt.Y), len(pt.C))
		}
		for j := range pt.X {
			if math.IsNaN(pt.X[j]) || math.IsInf(pt.X[j], 0) || math.IsNaN(pt.Y[j]) || math.IsInf(pt.Y[j], 0) {
				return fmt.Errorf("figures: %s: panel %d point %d = (%v, %v), want finite", path, i, j, pt.X[j], pt.Y[j])
			}
		}
		if pt.C != nil {
			cs = append(cs, pt.C)
		}
	}
	var cm palette.ColorMap
	if len(cs) > 0 {
		lo, hi, err := valueRange(o.Min, o.Max, cs...)
		if err != nil {
			return fmt.Errorf("figures: %s: %w", path, err)
		}
		cm = o.ColorMap
		if cm == nil {
			cm = Cyclic()
		}
		cm.SetMin(lo)
		cm.SetMax(hi)
	}
	plots := make([]*plot.Plot, len(panels))
	for i, pt := range panels {
		p := newPanel(pt.Title, o.XLabel, o.YLabel)
		xy := make(plotter.XYs, len(pt.X))
		for j := range xy {
			xy[j] = plotter.XY{X: pt.X[j], Y: pt.Y[j]}
		}
		sc, err := plotter.NewScatter(xy)
		if err != nil {
			return fmt.Errorf("figures: %s: %w", path, err)
		}
		sc.GlyphStyle.Shape = draw.CircleGlyph{}
		sc.GlyphStyle.Radius = vg.Points(2.5)
		sc.GlyphStyle.Color = plotutil.Color(0)
		if c := pt.C; c != nil {
			sc.GlyphStyleFunc = func(j int) draw.GlyphStyle {
				return draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(2.5), Color: colorAt(cm, c[j])}
			}
		}
		p.Add(sc)
		if o.HideTicks {
			p.X.Tick.Marker = plot.ConstantTicks{}
			p.Y.Tick.Marker = plot.ConstantTicks{}
		}
		plots[i] = p
	}
	var bar *plot.Plot
	if cm != nil {
		bar = colorBar(cm, o.ColorLabel)
	}
	return render(path, o.Layout, plots, bar)
}

// ImageGridOptions style ImageGrid.
type ImageGridOptions struct {
	Layout
	// Min and Max are shared grey limits with a colour bar; both 0
	// scales each image to its own range (no colour bar).
	Min, Max float64
	// Symmetric scales each image to ±max|value| so that 0 is mid-grey,
	// as for filters with positive and negative weights.
	Symmetric bool
	// ColorMap nil means black to white. The call sets its Min and Max.
	ColorMap palette.ColorMap
}

// ImageGrid draws small images (filters, example gratings) in a grid,
// o.Cols per row, each with its title, without axes.
func ImageGrid(path string, images []Matrix, o ImageGridOptions) error {
	shared := o.Min != 0 || o.Max != 0
	var all [][]float64
	for i, m := range images {
		if err := checkMatrix(path, i, m); err != nil {
			return err
		}
		all = append(all, m.Data)
	}
	newMap := func() (palette.ColorMap, error) {
		if o.ColorMap != nil {
			return o.ColorMap, nil
		}
		return grey()
	}
	var barMap palette.ColorMap
	if shared {
		lo, hi, err := valueRange(o.Min, o.Max, all...)
		if err != nil {
			return fmt.Errorf("figures: %s: %w", path, err)
		}
		if barMap, err = newMap(); err != nil {
			return fmt.Errorf("figures: %s: %w", path, err)
		}
		barMap.SetMin(lo)
		barMap.SetMax(hi)
	}
	plots := make([]*plot.Plot, len(images))
	for i, m := range images {
		cm := barMap
		if !shared {
			lo, hi, err := valueRange(0, 0, m.Data)
			if err != nil {
				return fmt.Errorf("figures: %s: image %d (%q): %w", path, i, m.Title, err)
			}
			if o.Symmetric {
				a := math.Max(math.Abs(lo), math.Abs(hi))
				lo, hi = -a, a
			}
			if cm, err = newMap(); err != nil {
				return fmt.Errorf("figures: %s: %w", path, err)
			}
			cm.SetMin(lo)
			cm.SetMax(hi)
		}
		p := newPanel(m.Title, "", "")
		p.Add(plotter.NewImage(rasterize(m.Data, m.Rows, m.Cols, cm), 0, 0, float64(m.Cols), float64(m.Rows)))
		p.HideAxes()
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, float64(m.Cols), 0, float64(m.Rows)
		plots[i] = p
	}
	var bar *plot.Plot
	if shared {
		bar = colorBar(barMap, "")
	}
	return renderSized(path, o.Layout, 200, 220, plots, bar)
}

func grey() (palette.ColorMap, error) {
	return newLuminance([]color.Color{color.Black, color.White})
}

// logTicks marks 1…9×10ᵏ over the range and labels 1, 2 and 5×10ᵏ when
// the axis spans at most two decades (1×10ᵏ only beyond): a loss curve
// that falls from 0.7 to 0.01 gets labels. plot.LogTicks starts at the
// decade above a minimum below 1 (it truncates log10 toward zero) and
// labels powers of ten only.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max >= min) {
		return nil
	}
	lo, hi := int(math.Floor(math.Log10(min))), int(math.Ceil(math.Log10(max)))
	dense := hi-lo <= 2
	var ts []plot.Tick
	for k := lo; k <= hi; k++ {
		base := math.Pow10(k)
		for m := 1; m <= 9; m++ {
			v := float64(m) * base
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (dense && (m == 2 || m == 5)) {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ts = append(ts, t)
		}
	}
	return ts
}
