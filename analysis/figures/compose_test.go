package figures

import (
	"image/color"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompose draws the kinds of panels Compose mixes: images with their
// own colour scale and bar and with shared bars, curves with points, an
// identity line, reference lines and fixed ticks, a log–log panel and an
// empty place in the grid.
func TestCompose(t *testing.T) {
	img := make([]float64, 12*16)
	for i := range img {
		img[i] = math.Sin(float64(i) / 7)
	}
	x := make([]float64, 50)
	y := make([]float64, 50)
	for i := range x {
		x[i], y[i] = float64(i+1), math.Pow(float64(i+1), -2)
	}
	panels := []Panel{
		&ImagePanel{Matrix: Matrix{Title: "own bar", Data: img, Rows: 12, Cols: 16}, XLabel: "x-pos", YLabel: "y-pos", Map: BlueRed, Symmetric: true, BarLabel: "weight"},
		&ImagePanel{Matrix: Matrix{Title: "shared bar", Data: img, Rows: 12, Cols: 16}, Map: Grey, Min: -1, Max: 1, HideAxes: true},
		nil,
		&XYPanel{Title: "points and identity", XLabel: "true", YLabel: "decoded", Identity: true, VLines: []float64{10}, HLines: []float64{0},
			XTicks: []Tick{{0, "0"}, {25, "25"}, {50, "50"}},
			Series: []XYSeries{{Name: "line", X: x, Y: x}, {Name: "points", X: x, Y: y, Points: true, Color: color.Black}}},
		&XYPanel{Title: "log–log", XLabel: "n", YLabel: "variance", LogX: true, LogY: true, LegendLeft: true, LegendBottom: true,
			Series: []XYSeries{{Name: "n^-2", X: x, Y: y, Dashed: true}}},
	}
	path := filepath.Join(outDir(t), "compose.png")
	if err := Compose(path, panels, ComposeOptions{Layout: Layout{Title: "Compose", Cols: 3}, PanelWidth: 300, PanelHeight: 250,
		Bars: []BarSpec{{Map: Grey, Min: -1, Max: 1, Label: "grey"}}}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 3*300+colorBarWidth, 2*250+titleHeight, 50)
}

func TestComposeBadInput(t *testing.T) {
	dir := t.TempDir()
	line := func(s XYSeries) []Panel { return []Panel{&XYPanel{Title: "p", Series: []XYSeries{s}}} }
	for _, c := range []struct {
		panels []Panel
		o      ComposeOptions
		want   string
	}{
		{nil, ComposeOptions{}, "no panels"},
		{line(XYSeries{Name: "s", Y: []float64{1, math.NaN()}}), ComposeOptions{}, `series 0 ("s") point 1 = (1, NaN), want finite`},
		{[]Panel{&XYPanel{Title: "p", LogY: true, Series: []XYSeries{{Y: []float64{1, 0}}}}}, ComposeOptions{}, "positive on a log axis"},
		{line(XYSeries{X: []float64{1}, Y: []float64{1, 2}}), ComposeOptions{}, "1 x for 2 y values"},
		{[]Panel{&XYPanel{Title: "empty"}}, ComposeOptions{}, `panel 0 ("empty") has no series`},
		{[]Panel{&ImagePanel{Matrix: Matrix{Title: "m", Data: []float64{1}, Rows: 2, Cols: 2}}}, ComposeOptions{}, "1 values for 2×2"},
		{line(XYSeries{Y: []float64{1}}), ComposeOptions{Bars: []BarSpec{{Map: Grey, Min: 1, Max: 1, Label: "b"}}}, `colour bar 0 ("b")`},
	} {
		err := Compose(filepath.Join(dir, "bad.png"), c.panels, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compose: %v, want an error containing %q", err, c.want)
		}
	}
}
