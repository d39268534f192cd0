package sweep

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/vkneuro/vkneuro/analysis/figures"
)

// Plot draws metric for every point that has it to the PNG path: against
// the first axis whose values are all numbers (at least two of them),
// one curve per combination of the other axes' values, on a log10 scale
// when the values are positive and span two decades or more; without
// such an axis, one bar per point. b, when it has a value, is named in
// the title. It is an error when no point has the metric.
func (t *Table) Plot(path, metric string, b *Best) error {
	// A wider figure than figures' default panel, for the legend and a
	// title naming the best point.
	layout := figures.Layout{Title: "sweep", Width: 640, Height: 480}
	if b != nil {
		layout.Title = fmt.Sprintf("sweep: best %.4g at %s", b.Value, shortLabel(b.Row, 50))
	}
	x := t.numericAxis()
	if x < 0 {
		var rows []Row
		var values []float64
		for _, r := range t.Rows {
			if v, ok := t.Value(r, metric); ok && r.Status == StatusOK {
				rows, values = append(rows, r), append(values, v)
			}
		}
		if len(values) == 0 {
			return fmt.Errorf("%s: no finished point has %s", path, metric)
		}
		// About 7 pixels a character at figures' tick font: labels
		// longer than a bar's share of the width overlap.
		labels := make([]string, len(rows))
		for i, r := range rows {
			labels[i] = shortLabel(r, 600/7/len(rows))
		}
		return figures.Bars(path, labels, values, figures.BarsOptions{Layout: layout, XLabel: "point (index in results.csv)", YLabel: metric})
	}
	type xy struct{ x, y float64 }
	var names []string // the series in order of first appearance
	curves := map[string][]xy{}
	for _, r := range t.Rows {
		v, ok := t.Value(r, metric)
		if !ok || r.Status != StatusOK {
			continue
		}
		others := slices.Delete(slices.Clone(r.Args), x, x+1)
		name := Point{Args: others}.Label()
		if _, seen := curves[name]; !seen {
			names = append(names, name)
		}
		xv, _ := strconv.ParseFloat(r.Args[x].Value, 64) // numericAxis checked it
		curves[name] = append(curves[name], xy{xv, v})
	}
	if len(names) == 0 {
		return fmt.Errorf("%s: no finished point has %s", path, metric)
	}
	xlabel := "--" + t.Axes[x]
	logX := t.logScale(x)
	if logX {
		xlabel = "log10(" + xlabel + ")"
	}
	var series []figures.Series
	for _, name := range names {
		c := curves[name]
		slices.SortFunc(c, func(a, b xy) int { return cmp.Compare(a.x, b.x) })
		s := figures.Series{Name: name}
		for _, p := range c {
			if logX {
				p.x = math.Log10(p.x)
			}
			s.X, s.Y = append(s.X, p.x), append(s.Y, p.y)
		}
		series = append(series, s)
	}
	return figures.Lines(path, []figures.LinePanel{{Title: metric + " by --" + t.Axes[x], Series: series}},
		figures.LinesOptions{Layout: layout, XLabel: xlabel, YLabel: metric})
}

// axisValues are axis k's values in the order the points have them.
func (t *Table) axisValues(k int) []string {
	var vs []string
	for _, r := range t.Rows {
		if v := r.Args[k].Value; !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	return vs
}

// numericAxis is the first axis with two or more values, all finite
// numbers, or -1.
func (t *Table) numericAxis() int {
	for k := range t.Axes {
		vs := t.axisValues(k)
		numeric := len(vs) >= 2
		for _, v := range vs {
			f, err := strconv.ParseFloat(v, 64)
			numeric = numeric && err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
		}
		if numeric {
			return k
		}
	}
	return -1
}

// logScale reports whether numeric axis k's values are all positive and
// span a factor of 100 or more, so a linear axis would crowd the small
// ones.
func (t *Table) logScale(k int) bool {
	lo, hi := math.Inf(1), 0.0
	for _, v := range t.axisValues(k) {
		f, _ := strconv.ParseFloat(v, 64)
		if f <= 0 {
			return false
		}
		lo, hi = math.Min(lo, f), math.Max(hi, f)
	}
	return hi/lo >= 100
}

// shortLabel is r's values when they fit in max characters, else its
// index ("point 3"), which results.csv resolves.
func shortLabel(r Row, max int) string {
	if l := r.Label(); len(l) <= max {
		return l
	}
	return fmt.Sprintf("point %d", r.Index)
}
