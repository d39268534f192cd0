package figures

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Compose draws panels of different kinds in one figure, as the
// tutorials' matplotlib subplots do: images with their own colour scales
// and colour bars (a stimulus beside its activation maps, W_in beside
// W_out) next to curves and scatter plots (hidden units' activity beside
// their tuning curves).

// ColorMapFunc makes a fresh colour map (Viridis, BlueRed, Grey): each
// panel and colour bar sets its own limits on its own copy.
type ColorMapFunc func() palette.ColorMap

// Grey is black (low) to white (high), for stimuli.
func Grey() palette.ColorMap {
	cm, err := grey()
	if err != nil {
		// The controls are fixed; a failure is a programming error
		// caught by the package tests.
		return moreland.Kindlmann()
	}
	return cm
}

// Panel is one set of axes of Compose: an *ImagePanel or an *XYPanel (nil
// leaves its place in the grid empty).
type Panel interface {
	build(path string, i int) (p *plot.Plot, bar *plot.Plot, err error)
}

// ImagePanel is a matrix drawn as an image, row 0 at the top (imshow).
type ImagePanel struct {
	Matrix
	XLabel, YLabel string
	// Map nil means Viridis.
	Map ColorMapFunc
	// Min and Max are the colour limits (imshow's vmin, vmax); both 0
	// use the data's range, or ±max|data| with Symmetric.
	Min, Max  float64
	Symmetric bool
	// XRange and YRange are the axis values at the outer edges of the
	// image (imshow's extent); zero means cell indices.
	XRange, YRange [2]float64
	// BarLabel, if set, draws the panel's own colour bar with that label.
	BarLabel string
	// HideAxes drops the axes (stimuli, filters).
	HideAxes bool
	// XTicks and YTicks fix the ticks (an empty, non-nil slice: none);
	// nil leaves them automatic.
	XTicks, YTicks []Tick
}

func (ip *ImagePanel) build(path string, i int) (*plot.Plot, *plot.Plot, error) {
	if err := checkMatrix(path, i, ip.Matrix); err != nil {
		return nil, nil, err
	}
	lo, hi, err := valueRange(ip.Min, ip.Max, ip.Data)
	if err != nil {
		return nil, nil, fmt.Errorf("figures: %s: panel %d (%q): %w", path, i, ip.Title, err)
	}
	if ip.Symmetric && ip.Min == 0 && ip.Max == 0 {
		a := math.Max(math.Abs(lo), math.Abs(hi))
		lo, hi = -a, a
	}
	newMap := ip.Map
	if newMap == nil {
		newMap = Viridis
	}
	cm := newMap()
	cm.SetMin(lo)
	cm.SetMax(hi)
	p := imagePlot(ip.Matrix, ip.XLabel, ip.YLabel, cm, ip.XRange, ip.YRange)
	if ip.XTicks != nil {
		p.X.Tick.Marker = constantTicks(ip.XTicks)
	}
	if ip.YTicks != nil {
		p.Y.Tick.Marker = constantTicks(ip.YTicks)
	}
	if ip.HideAxes {
		p.HideAxes()
	}
	var bar *plot.Plot
	if ip.BarLabel != "" {
		bar = colorBar(cm, ip.BarLabel)
	}
	return p, bar, nil
}

// Tick is a fixed axis tick; an empty Label marks it without a label.
type Tick struct {
	Value float64
	Label string
}

// XYSeries is one curve or set of points of an XYPanel.
type XYSeries struct {
	Name string
	X, Y []float64 // X nil means 0, 1, 2, …
	// Points draws markers instead of a line.
	Points bool
	// Color nil takes the series' place in the palette.
	Color color.Color
	// Width is the line width (or marker radius) in points; 0 means 1.5.
	Width float64
	// Dashed draws the line dashed.
	Dashed bool
}

// XYPanel is a set of axes with curves and points.
type XYPanel struct {
	Title, XLabel, YLabel string
	Series                []XYSeries
	// Identity draws the line y = x across equal x and y ranges, as the
	// tutorial's identityLine().
	Identity bool
	// VLines and HLines are thin grey reference lines (class-bin edges,
	// zero error).
	VLines, HLines []float64
	// XTicks and YTicks fix the ticks; nil leaves them automatic.
	XTicks, YTicks []Tick
	LogX, LogY     bool
	// XRange and YRange fix the axis limits; zero uses the data's.
	XRange, YRange [2]float64
	// LegendLeft and LegendBottom move the legend from the top right.
	LegendLeft, LegendBottom bool
}

func (xp *XYPanel) build(path string, i int) (*plot.Plot, *plot.Plot, error) {
	if len(xp.Series) == 0 {
		return nil, nil, fmt.Errorf("figures: %s: panel %d (%q) has no series", path, i, xp.Title)
	}
	p := newPanel(xp.Title, xp.XLabel, xp.YLabel)
	if xp.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	if xp.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	// The data first, to know the ranges the reference lines span; they
	// are added to the plot before it, so that they lie behind it.
	var data []plot.Plotter
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for si, s := range xp.Series {
		if len(s.Y) == 0 || (s.X != nil && len(s.X) != len(s.Y)) {
			return nil, nil, fmt.Errorf("figures: %s: panel %d series %d (%q): %d x for %d y values", path, i, si, s.Name, len(s.X), len(s.Y))
		}
		xy := make(plotter.XYs, len(s.Y))
		for j, y := range s.Y {
			x := float64(j)
			if s.X != nil {
				x = s.X[j]
			}
			if !finite(x) || !finite(y) || (xp.LogX && x <= 0) || (xp.LogY && y <= 0) {
				return nil, nil, fmt.Errorf("figures: %s: panel %d series %d (%q) point %d = (%v, %v), want finite (and positive on a log axis)", path, i, si, s.Name, j, x, y)
			}
			xy[j] = plotter.XY{X: x, Y: y}
			xlo, xhi = math.Min(xlo, x), math.Max(xhi, x)
			ylo, yhi = math.Min(ylo, y), math.Max(yhi, y)
		}
		c := s.Color
		if c == nil {
			c = plotutil.Color(si)
		}
		w := s.Width
		if w == 0 {
			w = 1.5
		}
		var thumb plot.Thumbnailer
		if s.Points {
			sc, err := plotter.NewScatter(xy)
			if err != nil {
				return nil, nil, fmt.Errorf("figures: %s: %w", path, err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Shape: draw.CircleGlyph{}, Radius: vg.Points(w), Color: c}
			data, thumb = append(data, sc), sc
		} else {
			line, err := plotter.NewLine(xy)
			if err != nil {
				return nil, nil, fmt.Errorf("figures: %s: %w", path, err)
			}
			line.Color = c
			line.Width = vg.Points(w)
			if s.Dashed {
				line.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			data, thumb = append(data, line), line
		}
		if s.Name != "" {
			p.Legend.Add(s.Name, thumb)
		}
	}
	if xp.XRange != [2]float64{} {
		xlo, xhi = xp.XRange[0], xp.XRange[1]
	}
	if xp.YRange != [2]float64{} {
		ylo, yhi = xp.YRange[0], xp.YRange[1]
	}
	if xp.Identity {
		lo, hi := math.Min(xlo, ylo), math.Max(xhi, yhi)
		xlo, xhi, ylo, yhi = lo, hi, lo, hi
	}
	var rules []plotter.XYs
	if xp.Identity {
		rules = append(rules, plotter.XYs{{X: xlo, Y: ylo}, {X: xhi, Y: yhi}})
	}
	for _, v := range xp.VLines {
		rules = append(rules, plotter.XYs{{X: v, Y: ylo}, {X: v, Y: yhi}})
	}
	for _, v := range xp.HLines {
		rules = append(rules, plotter.XYs{{X: xlo, Y: v}, {X: xhi, Y: v}})
	}
	p.Add(plotter.NewGrid())
	for _, r := range rules {
		l, err := plotter.NewLine(r)
		if err != nil {
			return nil, nil, fmt.Errorf("figures: %s: %w", path, err)
		}
		l.Color = color.Gray{Y: 0xb3}
		l.Width = vg.Points(1)
		p.Add(l)
	}
	p.Add(data...)
	if xp.XRange != [2]float64{} || xp.Identity {
		p.X.Min, p.X.Max = xlo, xhi
	}
	if xp.YRange != [2]float64{} || xp.Identity {
		p.Y.Min, p.Y.Max = ylo, yhi
	}
	if xp.XTicks != nil {
		p.X.Tick.Marker = constantTicks(xp.XTicks)
	}
	if xp.YTicks != nil {
		p.Y.Tick.Marker = constantTicks(xp.YTicks)
	}
	p.Legend.Top = !xp.LegendBottom
	p.Legend.Left = xp.LegendLeft
	return p, nil, nil
}

func constantTicks(ts []Tick) plot.ConstantTicks {
	out := make(plot.ConstantTicks, len(ts))
	for i, t := range ts {
		out[i] = plot.Tick{Value: t.Value, Label: t.Label}
	}
	return out
}

// BarSpec is a colour bar Compose draws at the right of the figure,
// shared by the panels drawn with the same map and limits.
type BarSpec struct {
	Map      ColorMapFunc
	Min, Max float64
	Label    string
}

// ComposeOptions style Compose.
type ComposeOptions struct {
	Layout
	// PanelWidth and PanelHeight are each panel's size in pixels when
	// Layout gives no figure size; 0 means 420×380.
	PanelWidth, PanelHeight int
	// Bars are colour bars drawn at the right, top to bottom.
	Bars []BarSpec
}

// panelBarWidth is the part of a panel's tile its own colour bar takes.
const panelBarWidth = 85

// Compose draws panels in a grid, o.Cols per row (0: one row), each
// image panel with its own colour scale and, if it asks, its own colour
// bar, and o.Bars at the right.
func Compose(path string, panels []Panel, o ComposeOptions) (err error) {
	if len(panels) == 0 {
		return fmt.Errorf("figures: %s: no panels to draw", path)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("figures: %s: drawing failed: %v", path, r)
		}
	}()
	plots, bars := make([]*plot.Plot, len(panels)), make([]*plot.Plot, len(panels))
	for i, pn := range panels {
		if pn == nil {
			continue
		}
		if plots[i], bars[i], err = pn.build(path, i); err != nil {
			return err
		}
	}
	var shared []*plot.Plot
	for bi, b := range o.Bars {
		if !(b.Min < b.Max) || !finite(b.Min) || !finite(b.Max) || b.Map == nil {
			return fmt.Errorf("figures: %s: colour bar %d (%q): range [%v, %v], want a map and finite min < max", path, bi, b.Label, b.Min, b.Max)
		}
		cm := b.Map()
		cm.SetMin(b.Min)
		cm.SetMax(b.Max)
		shared = append(shared, colorBar(cm, b.Label))
	}
	pw, ph := o.PanelWidth, o.PanelHeight
	if pw <= 0 {
		pw = defaultPanelWidth
	}
	if ph <= 0 {
		ph = defaultPanelHeight
	}
	w, h := o.Layout.size(len(panels), pw, ph, len(shared) > 0)
	if w < 50 || h < 50 || w > 20000 || h > 20000 {
		return fmt.Errorf("figures: %s: size %d×%d pixels, want 50…20000 on each side", path, w, h)
	}
	img, dc := newCanvas(o.Title, w, h)
	if len(shared) > 0 {
		bc := draw.Crop(dc, dc.Size().X-px(colorBarWidth), 0, px(8), -px(8))
		bt := draw.Tiles{Rows: len(shared), Cols: 1, PadY: px(20)}
		for i, b := range shared {
			b.Draw(bt.At(bc, 0, i))
		}
		dc = draw.Crop(dc, 0, -px(colorBarWidth), 0, 0)
	}
	rows, cols := o.Layout.grid(len(panels))
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: px(14), PadY: px(14), PadTop: px(4), PadBottom: px(4), PadLeft: px(4), PadRight: px(4)}
	for i, p := range plots {
		if p == nil {
			continue
		}
		c := tiles.At(dc, i%cols, i/cols)
		if bars[i] != nil {
			bars[i].Draw(draw.Crop(c, c.Size().X-px(panelBarWidth), 0, px(6), -px(6)))
			c = draw.Crop(c, 0, -px(panelBarWidth), 0, 0)
		}
		p.Draw(c)
	}
	return writePNG(path, img)
}
