package sweep

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vkneuro/vkneuro/analysis/figures"
)

// maxLegend is the most lines a panel names in its legend: past it the
// legend would hide the lines, and results.csv says which is which.
const maxLegend = 8

// Plot draws metric for every finished point that has it to the PNG
// path: one panel per grid flag (the data files included) with two or
// more values, the metric against that flag's values, one line per
// combination of the other flags' values. Numeric values are placed by
// value (log10 when they are positive and span two decades or more),
// others in their order in the grid, named in the panel's title. b,
// when given, is named in the figure's title. It is an error when no
// point has the metric.
func (t *Table) Plot(path, metric string, b *Best, p Plan) error {
	var axes []int
	for k, ax := range p.Axes {
		if len(ax.Values) >= 2 {
			axes = append(axes, k)
		}
	}
	if len(axes) == 0 { // a one-point sweep: one panel with its point
		axes = []int{0}
	}
	var panels []figures.LinePanel
	for _, k := range axes {
		panel, ok := t.panel(p, k, metric)
		if ok {
			panels = append(panels, panel)
		}
	}
	if len(panels) == 0 {
		return fmt.Errorf("%s: no finished point has %s", path, metric)
	}
	title := "sweep: " + metric
	if b != nil {
		title = fmt.Sprintf("sweep: best %s %.4g at point %d (%s)", b.Metric, b.Value, b.Row.Index, shortLabel(b.Row, 50))
	}
	cols := min(len(panels), 2)
	rows := (len(panels) + cols - 1) / cols
	return figures.Lines(path, panels, figures.LinesOptions{
		Layout: figures.Layout{Title: title, Width: 560 * cols, Height: 440*rows + 40, Cols: cols},
		XLabel: "value of the panel's flag", YLabel: metric})
}

// panel is the metric against axis k of p, one series per combination
// of the other axes' values; ok is false when no point has the metric.
func (t *Table) panel(p Plan, k int, metric string) (figures.LinePanel, bool) {
	ax := p.Axes[k]
	numeric := numericValues(ax.Values)
	logX := numeric && logScale(ax.Values)
	x := func(v string) float64 {
		if !numeric {
			return float64(slices.Index(ax.Values, v))
		}
		f, _ := strconv.ParseFloat(v, 64) // numericValues checked it
		if logX {
			return math.Log10(f)
		}
		return f
	}
	type xy struct{ x, y float64 }
	var names []string // the series in order of first appearance
	lines := map[string][]xy{}
	for _, r := range t.Rows {
		v, ok := t.Value(r, metric)
		if !ok || r.State != Done {
			continue
		}
		others := Point{Args: slices.Delete(slices.Clone(r.Args), k, k+1)}.Label()
		if _, seen := lines[others]; !seen {
			names = append(names, others)
		}
		lines[others] = append(lines[others], xy{x(r.Args[k].Value), v})
	}
	if len(names) == 0 {
		return figures.LinePanel{}, false
	}
	lp := figures.LinePanel{Title: "by --" + ax.Flag}
	switch {
	case logX:
		lp.Title = "by log10(--" + ax.Flag + ")"
	case !numeric:
		// The values' places on the x axis, named as briefly as they fit.
		var where []string
		for i, v := range ax.Values {
			where = append(where, fmt.Sprintf("%d %s", i, shorten(v, 60/len(ax.Values))))
		}
		lp.Title += ": " + strings.Join(where, ", ")
	}
	for _, name := range names {
		pts := lines[name]
		slices.SortFunc(pts, func(a, b xy) int { return cmp.Compare(a.x, b.x) })
		s := figures.Series{}
		if len(names) <= maxLegend && name != "" {
			s.Name = shorten(name, 40)
		}
		for _, pt := range pts {
			s.X, s.Y = append(s.X, pt.x), append(s.Y, pt.y)
		}
		lp.Series = append(lp.Series, s)
	}
	return lp, true
}

// numericValues reports whether every value is a finite number.
func numericValues(values []string) bool {
	for _, v := range values {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return false
		}
	}
	return true
}

// logScale reports whether numeric values are all positive and span a
// factor of 100 or more, so a linear axis would crowd the small ones.
func logScale(values []string) bool {
	lo, hi := math.Inf(1), 0.0
	for _, v := range values {
		f, _ := strconv.ParseFloat(v, 64)
		if f <= 0 {
			return false
		}
		lo, hi = math.Min(lo, f), math.Max(hi, f)
	}
	return hi/lo >= 100
}

// shorten is s cut to n characters (at least 8) with an ellipsis in
// front: of a data file it keeps the base name's end, which tells files
// apart.
func shorten(s string, n int) string {
	n = max(n, 8)
	if r := []rune(s); len(r) > n {
		return "…" + string(r[len(r)-n+1:])
	}
	return s
}

// shortLabel is r's values when they fit in n characters, else its
// index ("point 3"), which results.csv resolves.
func shortLabel(r Row, n int) string {
	if l := r.Label(); len(l) <= n {
		return l
	}
	return fmt.Sprintf("point %d", r.Index)
}
