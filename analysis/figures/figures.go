package figures

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/vkneuro/vkneuro/internal/atomicfile"
)

// DPI is the resolution of every figure: sizes are given in pixels.
const DPI = 96

// Default figure geometry in pixels.
const (
	defaultPanelWidth  = 420
	defaultPanelHeight = 380
	colorBarWidth      = 110
	titleHeight        = 34
)

// Layout is the size and arrangement shared by all figures.
type Layout struct {
	// Title is drawn above all panels.
	Title string
	// Width and Height of the PNG in pixels; 0 picks a size that gives
	// each panel about 420×380 pixels.
	Width, Height int
	// Cols is the number of panels per row; 0 puts all in one row.
	Cols int
}

// Float64s converts float32 data (RDMs, activations) for plotting.
func Float64s(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func px(n int) vg.Length { return vg.Length(n) * vg.Inch / DPI }

// grid returns the rows and columns of n panels under l.
func (l Layout) grid(n int) (rows, cols int) {
	cols = l.Cols
	if cols <= 0 || cols > n {
		cols = n
	}
	return (n + cols - 1) / cols, cols
}

// size is the PNG size in pixels for n panels of about pw×ph pixels
// each, with room for a colour bar when bar is set.
func (l Layout) size(n, pw, ph int, bar bool) (w, h int) {
	rows, cols := l.grid(n)
	w, h = l.Width, l.Height
	if w <= 0 {
		w = cols * pw
		if bar {
			w += colorBarWidth
		}
	}
	if h <= 0 {
		h = rows * ph
		if l.Title != "" {
			h += titleHeight
		}
	}
	return w, h
}

// render draws panels (row-major in l.grid) and an optional vertical
// colour bar at the right into a PNG and writes it atomically to path.
// gonum/plot reports some bad input by panicking; render turns that
// into an error so that no panic reaches a caller.
func render(path string, l Layout, panels []*plot.Plot, bar *plot.Plot) error {
	return renderSized(path, l, defaultPanelWidth, defaultPanelHeight, panels, bar)
}

func renderSized(path string, l Layout, pw, ph int, panels []*plot.Plot, bar *plot.Plot) (err error) {
	if len(panels) == 0 {
		return fmt.Errorf("figures: %s: no panels to draw", path)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("figures: %s: drawing failed: %v", path, r)
		}
	}()
	w, h := l.size(len(panels), pw, ph, bar != nil)
	if w < 50 || h < 50 || w > 20000 || h > 20000 {
		return fmt.Errorf("figures: %s: size %d×%d pixels, want 50…20000 on each side", path, w, h)
	}
	img, dc := newCanvas(l.Title, w, h)
	if bar != nil {
		bc := draw.Crop(dc, dc.Size().X-px(colorBarWidth), 0, px(8), -px(8))
		bar.Draw(bc)
		dc = draw.Crop(dc, 0, -px(colorBarWidth), 0, 0)
	}
	rows, cols := l.grid(len(panels))
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
		for c := range grid[r] {
			if i := r*cols + c; i < len(panels) {
				grid[r][c] = panels[i]
			}
		}
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: px(14), PadY: px(14), PadTop: px(4), PadBottom: px(4), PadLeft: px(4), PadRight: px(4)}
	canvases := plot.Align(grid, tiles, dc)
	for r := range grid {
		for c, p := range grid[r] {
			if p != nil {
				p.Draw(canvases[r][c])
			}
		}
	}
	return writePNG(path, img)
}

// newCanvas returns a white w×h-pixel image with title drawn at its top,
// and the canvas below the title for the panels.
func newCanvas(title string, w, h int) (*vgimg.Canvas, draw.Canvas) {
	img := vgimg.NewWith(vgimg.UseWH(px(w), px(h)), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	if title != "" {
		sty := text.Style{
			Color:   color.Black,
			Font:    font.From(plot.DefaultFont, 15),
			XAlign:  draw.XCenter,
			YAlign:  draw.YTop,
			Handler: plot.DefaultTextHandler,
		}
		dc.FillText(sty, vg.Point{X: (dc.Min.X + dc.Max.X) / 2, Y: dc.Max.Y - px(6)}, title)
		dc = draw.Crop(dc, 0, 0, 0, -px(titleHeight))
	}
	return img, dc
}

// writePNG encodes img and writes it atomically to path. It encodes
// before opening the file: a panic in the encoder, recovered by the
// caller, then leaves no temporary file behind.
func writePNG(path string, img *vgimg.Canvas) error {
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("figures: %s: encode png: %w", path, err)
	}
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("figures: %w", err)
	}
	return nil
}

// newPanel returns a plot with the shared text sizes.
func newPanel(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = 13
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	p.X.Label.TextStyle.Font.Size = 11
	p.Y.Label.TextStyle.Font.Size = 11
	p.Legend.TextStyle.Font.Size = 10
	return p
}

// colorBar returns a plot holding a vertical colour bar for cm.
func colorBar(cm palette.ColorMap, label string) *plot.Plot {
	p := plot.New()
	p.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true})
	p.HideX()
	p.Y.Padding = 0
	p.Y.Label.Text = label
	p.Y.Label.TextStyle.Font.Size = 11
	return p
}

// valueRange returns [lo, hi] for a colour scale: the given limits when
// they differ, else the finite range of the data, widened when flat so
// that palettes (which need lo < hi) still work.
func valueRange(lo, hi float64, data ...[]float64) (float64, float64, error) {
	if lo != 0 || hi != 0 {
		if !(lo < hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
			return 0, 0, fmt.Errorf("colour range [%v, %v], want finite min < max", lo, hi)
		}
		return lo, hi, nil
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, d := range data {
		for _, v := range d {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo > hi {
		return 0, 0, errors.New("no finite values to colour")
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	return lo, hi, nil
}

// viridisControls are samples of matplotlib's viridis, the colour map of
// the tutorials' imshow plots; its lightness rises monotonically, as
// moreland.NewLuminance requires.
var viridisControls = []color.Color{
	color.NRGBA{0x44, 0x01, 0x54, 0xff},
	color.NRGBA{0x48, 0x28, 0x78, 0xff},
	color.NRGBA{0x3e, 0x4a, 0x89, 0xff},
	color.NRGBA{0x31, 0x68, 0x8e, 0xff},
	color.NRGBA{0x26, 0x82, 0x8e, 0xff},
	color.NRGBA{0x1f, 0x9e, 0x89, 0xff},
	color.NRGBA{0x35, 0xb7, 0x79, 0xff},
	color.NRGBA{0x6d, 0xcd, 0x59, 0xff},
	color.NRGBA{0xb4, 0xde, 0x2c, 0xff},
	color.NRGBA{0xfd, 0xe7, 0x25, 0xff},
}

// Viridis returns a perceptually uniform sequential colour map close to
// matplotlib's default.
func Viridis() palette.ColorMap {
	cm, err := moreland.NewLuminance(viridisControls)
	if err != nil {
		// The controls are fixed; a failure is a programming error
		// caught by the package tests. Fall back to a sibling map.
		return moreland.Kindlmann()
	}
	return cm
}

// BlueRed returns a diverging map (blue, white, red), for signed data
// such as weights, like matplotlib's 'bwr'.
func BlueRed() palette.ColorMap { return moreland.SmoothBlueRed() }

// Cyclic returns a colour map whose two ends meet, for periodic values
// such as orientation (the tutorials use matplotlib's 'twilight').
func Cyclic() palette.ColorMap { return &cyclicMap{min: 0, max: 1, alpha: 1} }

// twilightControls sample matplotlib's 'twilight' at 0, ⅛, …, 1; the
// first and last are equal so that the map closes on itself.
var twilightControls = [][3]float64{
	{226, 217, 226}, {161, 183, 206}, {96, 135, 191}, {88, 74, 169},
	{47, 20, 54}, {126, 42, 82}, {181, 92, 82}, {208, 163, 150}, {226, 217, 226},
}

// cyclicMap interpolates twilightControls linearly in sRGB.
type cyclicMap struct{ min, max, alpha float64 }

func (c *cyclicMap) At(v float64) (color.Color, error) {
	switch {
	case math.IsNaN(v):
		return nil, palette.ErrNaN
	case v < c.min:
		return nil, palette.ErrUnderflow
	case v > c.max:
		return nil, palette.ErrOverflow
	}
	t := (v - c.min) / (c.max - c.min) * float64(len(twilightControls)-1)
	i := min(int(t), len(twilightControls)-2)
	f := t - float64(i)
	a, b := twilightControls[i], twilightControls[i+1]
	ch := func(k int) uint8 { return uint8(math.Round(a[k] + f*(b[k]-a[k]))) }
	return color.NRGBA{R: ch(0), G: ch(1), B: ch(2), A: uint8(math.Round(255 * c.alpha))}, nil
}
func (c *cyclicMap) Max() float64       { return c.max }
func (c *cyclicMap) SetMax(v float64)   { c.max = v }
func (c *cyclicMap) Min() float64       { return c.min }
func (c *cyclicMap) SetMin(v float64)   { c.min = v }
func (c *cyclicMap) Alpha() float64     { return c.alpha }
func (c *cyclicMap) SetAlpha(a float64) { c.alpha = a }
func (c *cyclicMap) Palette(n int) palette.Palette {
	cols := make([]color.Color, n)
	for i := range cols {
		v := c.min + (c.max-c.min)*float64(i)/float64(max(n-1, 1))
		cols[i], _ = c.At(v)
	}
	return plainPalette(cols)
}

type plainPalette []color.Color

func (p plainPalette) Colors() []color.Color { return p }

// colorAt maps v through cm, clamping into its range and painting NaN grey.
func colorAt(cm palette.ColorMap, v float64) color.Color {
	if math.IsNaN(v) {
		return color.Gray{Y: 0xa0}
	}
	v = math.Min(math.Max(v, cm.Min()), cm.Max())
	c, err := cm.At(v)
	if err != nil {
		return color.Gray{Y: 0xa0}
	}
	return c
}

// maxRasterSide bounds the image of a matrix: wider matrices (a
// 10×23,589 weight matrix) are averaged over blocks of cells first, in
// value space, so that a block of alternating signs shows as its mean
// (white on a diverging map) instead of a blend of red and blue.
const maxRasterSide = 1000

// rasterize paints a rows×cols row-major matrix into an image with row 0
// at the top (as imshow). Small matrices are enlarged by whole pixels
// so that the PNG scaler cannot blur cell edges; large ones are block
// averaged down to at most maxRasterSide pixels a side.
func rasterize(m []float64, rows, cols int, cm palette.ColorMap) *image.NRGBA {
	m, rows, cols = blockMean(m, rows, cols)
	s := max(1, (400+max(rows, cols)-1)/max(rows, cols))
	img := image.NewNRGBA(image.Rect(0, 0, cols*s, rows*s))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			col := colorAt(cm, m[r*cols+c])
			for dy := 0; dy < s; dy++ {
				for dx := 0; dx < s; dx++ {
					img.Set(c*s+dx, r*s+dy, col)
				}
			}
		}
	}
	return img
}

// blockMean averages m over blocks so that neither side exceeds
// maxRasterSide, skipping NaNs (a block of only NaNs stays NaN).
func blockMean(m []float64, rows, cols int) ([]float64, int, int) {
	br := (rows + maxRasterSide - 1) / maxRasterSide
	bc := (cols + maxRasterSide - 1) / maxRasterSide
	if br == 1 && bc == 1 {
		return m, rows, cols
	}
	or, oc := (rows+br-1)/br, (cols+bc-1)/bc
	sum := make([]float64, or*oc)
	cnt := make([]int, or*oc)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			if v := m[r*cols+c]; !math.IsNaN(v) {
				i := (r/br)*oc + c/bc
				sum[i] += v
				cnt[i]++
			}
		}
	}
	for i := range sum {
		if cnt[i] == 0 {
			sum[i] = math.NaN()
		} else {
			sum[i] /= float64(cnt[i])
		}
	}
	return sum, or, oc
}

// checkMatrix validates one panel.
func checkMatrix(path string, i int, m Matrix) error {
	if m.Rows <= 0 || m.Cols <= 0 || len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("figures: %s: panel %d (%q): %d values for %d×%d, want a non-empty matrix", path, i, m.Title, len(m.Data), m.Rows, m.Cols)
	}
	return nil
}

// Matrix is one heat-map or image panel: Rows×Cols values, row-major,
// drawn with row 0 at the top.
type Matrix struct {
	Title      string
	Data       []float64
	Rows, Cols int
}

func newLuminance(c []color.Color) (palette.ColorMap, error) { return moreland.NewLuminance(c) }
