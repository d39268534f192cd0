package figures

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
)

// HeatMapOptions style HeatMaps.
type HeatMapOptions struct {
	Layout
	XLabel, YLabel, ColorLabel string
	// Min and Max are the colour limits (imshow's vmin, vmax); both 0
	// uses the range of all panels' data.
	Min, Max float64
	// ColorMap nil means Viridis. The call sets its Min and Max.
	ColorMap palette.ColorMap
	// XRange and YRange are the axis values at the outer edges of the
	// first and last column and row (imshow's extent, row 0 at the
	// top); zero means indices (cell centres at 0, 1, …).
	XRange, YRange [2]float64
}

// HeatMap draws one matrix with a colour bar, e.g. an RDM.
func HeatMap(path string, m Matrix, o HeatMapOptions) error {
	return HeatMaps(path, []Matrix{m}, o)
}

// HeatMaps draws matrices side by side (o.Cols per row) with a shared
// colour scale and one colour bar, e.g. the RDMs of V1 and each layer.
func HeatMaps(path string, ms []Matrix, o HeatMapOptions) error {
	all := make([][]float64, len(ms))
	for i, m := range ms {
		if err := checkMatrix(path, i, m); err != nil {
			return err
		}
		all[i] = m.Data
	}
	lo, hi, err := valueRange(o.Min, o.Max, all...)
	if err != nil {
		return fmt.Errorf("figures: %s: %w", path, err)
	}
	cm := o.ColorMap
	if cm == nil {
		cm = Viridis()
	}
	cm.SetMin(lo)
	cm.SetMax(hi)
	panels := make([]*plot.Plot, len(ms))
	for i, m := range ms {
		panels[i] = imagePlot(m, o.XLabel, o.YLabel, cm, o.XRange, o.YRange)
	}
	return render(path, o.Layout, panels, colorBar(cm, o.ColorLabel))
}

// imagePlot draws m through cm with row 0 at the top, on axes whose
// outer edges are xr and yr (zero: cell indices), as imshow's extent.
func imagePlot(m Matrix, xlabel, ylabel string, cm palette.ColorMap, xr, yr [2]float64) *plot.Plot {
	x0, x1 := xr[0], xr[1]
	if x0 == x1 {
		x0, x1 = -0.5, float64(m.Cols)-0.5
	}
	y0, y1 := yr[0], yr[1]
	if y0 == y1 {
		y0, y1 = -0.5, float64(m.Rows)-0.5
	}
	p := newPanel(m.Title, xlabel, ylabel)
	p.Add(plotter.NewImage(rasterize(m.Data, m.Rows, m.Cols, cm), math.Min(x0, x1), math.Min(y0, y1), math.Max(x0, x1), math.Max(y0, y1)))
	p.X.Min, p.X.Max = math.Min(x0, x1), math.Max(x0, x1)
	p.Y.Min, p.Y.Max = math.Min(y0, y1), math.Max(y0, y1)
	p.X.Padding, p.Y.Padding = 0, 0
	if x0 > x1 {
		p.X.Tick.Marker = mirrored(x0, x1)
	}
	if y0 < y1 {
		// The image's top row is row 0 but the axis grows upward: label
		// position v with y0 + y1 − v.
		p.Y.Tick.Marker = mirrored(y0, y1)
	}
	return p
}

// mirrored labels the tick at position v with a + b − v, for axes whose
// values run against the drawing direction.
func mirrored(a, b float64) plot.Ticker {
	return plot.TickerFunc(func(min, max float64) []plot.Tick {
		ts := plot.DefaultTicks{}.Ticks(min, max)
		for i := range ts {
			ts[i].Value = a + b - ts[i].Value
		}
		return ts
	})
}
