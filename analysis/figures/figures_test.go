package figures

import (
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/palette"
)

// outDir is where the test figures go: $VKNEURO_FIGURES_DIR to keep them
// for a look, else a temporary directory.
func outDir(t *testing.T) string {
	if d := os.Getenv("VKNEURO_FIGURES_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// checkPNG decodes path and checks its size, that its grey levels vary
// (not a blank canvas) and that it holds at least minColors colours.
func checkPNG(t *testing.T, path string, w, h, minColors int) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b := img.Bounds()
	if b.Dx() != w || b.Dy() != h {
		t.Errorf("%s: %d×%d pixels, want %d×%d", path, b.Dx(), b.Dy(), w, h)
	}
	var sum, sum2 float64
	colors := map[[3]uint32]bool{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[[3]uint32{r >> 8, g >> 8, bl >> 8}] = true
			l := float64(r+g+bl) / 3 / 65535
			sum += l
			sum2 += l * l
		}
	}
	n := float64(b.Dx() * b.Dy())
	if v := sum2/n - (sum/n)*(sum/n); v < 1e-3 {
		t.Errorf("%s: luminance variance %v: blank figure?", path, v)
	}
	if len(colors) < minColors {
		t.Errorf("%s: %d distinct colours, want ≥ %d", path, len(colors), minColors)
	}
	// No temporary file may be left beside it.
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	return img
}

// rdmLike is an S×S dissimilarity that grows with circular distance.
func rdmLike(S int, sharp float64) []float64 {
	m := make([]float64, S*S)
	for i := 0; i < S; i++ {
		for j := 0; j < S; j++ {
			d := 2 * math.Pi * float64(i-j) / float64(S)
			m[i*S+j] = 1 - math.Cos(d)*math.Exp(-sharp*(1-math.Cos(d)))
		}
	}
	return m
}

func TestHeatMaps(t *testing.T) {
	dir := outDir(t)
	path := filepath.Join(dir, "rdms.png")
	ms := []Matrix{
		{Title: "V1 data", Data: rdmLike(90, 0.5), Rows: 90, Cols: 90},
		{Title: "conv layer", Data: rdmLike(90, 3), Rows: 90, Cols: 90},
	}
	err := HeatMaps(path, ms, HeatMapOptions{
		Layout: Layout{Title: "Representational dissimilarity"},
		XLabel: "stimulus orientation (°)", YLabel: "stimulus orientation (°)", ColorLabel: "dissimilarity",
		Min: 0, Max: 2, XRange: [2]float64{-90, 90}, YRange: [2]float64{-90, 90},
	})
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 2*420+110, 380+34, 100)

	// Row 0 must be drawn at the top: a matrix dark only in its first
	// row has its dark pixels in the upper half of the figure.
	m := make([]float64, 10*10)
	for i := 10; i < len(m); i++ {
		m[i] = 1
	}
	path = filepath.Join(dir, "row0.png")
	if err := HeatMap(path, Matrix{Title: "row 0", Data: m, Rows: 10, Cols: 10}, HeatMapOptions{ColorMap: mustGrey(t)}); err != nil {
		t.Fatal(err)
	}
	img := checkPNG(t, path, 420+110, 380, 2)
	var top, bottom int
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Min.X+400; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r > 0xf000 && g > 0xf000 && bl > 0xf000 {
				continue // background
			}
			if r < 0x1000 && g < 0x1000 && bl < 0x1000 {
				if y < b.Dy()/2 {
					top++
				} else {
					bottom++
				}
			}
		}
	}
	// Cells are white except row 0 (black, ~35×390 pixels); the few
	// black pixels of tick labels are spread over both halves.
	if top < 5*bottom || top < 5000 {
		t.Errorf("black pixels: %d in the top half, %d in the bottom half; want row 0 (black) at the top", top, bottom)
	}
}

func mustGrey(t *testing.T) palette.ColorMap {
	cm, err := grey()
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

func TestViridisBuilds(t *testing.T) {
	if _, err := newLuminance(viridisControls); err != nil {
		t.Fatalf("viridis controls rejected: %v", err)
	}
}

func TestBars(t *testing.T) {
	path := filepath.Join(outDir(t), "rsa.png")
	err := Bars(path, []string{"conv", "pool", "fc", "out"}, []float64{0.42, 0.61, 0.35, -0.05}, BarsOptions{
		Layout: Layout{Title: "RSA with mouse V1"},
		XLabel: "model layer", YLabel: "correlation of RDMs",
	})
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 420, 380, 3) // one panel: the title is the panel's
	if err := Bars(path, []string{"a"}, []float64{math.NaN()}, BarsOptions{}); err == nil {
		t.Error("NaN bar accepted")
	}
}

func TestLines(t *testing.T) {
	dir := outDir(t)
	x := make([]float64, 180)
	for i := range x {
		x[i] = float64(i) - 90
	}
	var series []Series
	for u, c := range []float64{-40, 10, 70} {
		y := make([]float64, len(x))
		for i, v := range x {
			y[i] = math.Exp(2 * math.Cos(2*(v-c)*math.Pi/180))
		}
		series = append(series, Series{Name: "unit " + string(rune('A'+u)), X: x, Y: y})
	}
	path := filepath.Join(dir, "tuning.png")
	err := Lines(path, []LinePanel{{Title: "V1 data responses", Series: series}, {Title: "fc responses", Series: series[:2]}},
		LinesOptions{Layout: Layout{Title: "Tuning curves"}, XLabel: "stimulus orientation (°)", YLabel: "neural response"})
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 2*420, 380+34, 4)

	loss := make([]float64, 250)
	for i := range loss {
		loss[i] = 0.7*math.Exp(-float64(i)/40) + 0.01
	}
	path = filepath.Join(dir, "loss.png")
	if err := Lines(path, []LinePanel{{Title: "training loss", Series: []Series{{Name: "train", Y: loss}}}}, LinesOptions{XLabel: "iteration", YLabel: "BCE loss", LogY: true}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 420, 380, 3)
	if err := Lines(path, []LinePanel{{Series: []Series{{Y: []float64{1, 0}}}}}, LinesOptions{LogY: true}); err == nil {
		t.Error("zero on a log axis accepted")
	}
	if err := Lines(path, []LinePanel{{Series: []Series{{X: []float64{1}, Y: []float64{1, 2}}}}}, LinesOptions{}); err == nil {
		t.Error("1 x for 2 y accepted")
	}
}

func TestScatter(t *testing.T) {
	n := 360
	x, y, c := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range x {
		a := 2 * math.Pi * float64(i) / float64(n)
		x[i], y[i], c[i] = math.Cos(a)*(1+0.1*math.Sin(7*a)), math.Sin(a), float64(i)/2-90
	}
	path := filepath.Join(outDir(t), "tsne.png")
	err := Scatter(path, []Points{{Title: "V1 data", X: x, Y: y, C: c}, {Title: "fc", X: y, Y: x, C: c}}, ScatterOptions{
		Layout: Layout{Title: "t-SNE of population responses"},
		XLabel: "dimension 1", YLabel: "dimension 2", ColorLabel: "stimulus orientation (°)",
		Min: -90, Max: 90, HideTicks: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 2*420+110, 380+34, 50)
	if err := Scatter(path, []Points{{X: x, Y: y[:3]}}, ScatterOptions{}); err == nil {
		t.Error("mismatched x, y accepted")
	}
}

func TestImageGrid(t *testing.T) {
	var ims []Matrix
	for k := 0; k < 6; k++ {
		m := make([]float64, 7*7)
		th := float64(k) * math.Pi / 6
		for r := 0; r < 7; r++ {
			for c := 0; c < 7; c++ {
				u := float64(c-3)*math.Cos(th) + float64(r-3)*math.Sin(th)
				m[r*7+c] = math.Cos(1.5*u) * math.Exp(-float64((r-3)*(r-3)+(c-3)*(c-3))/8)
			}
		}
		ims = append(ims, Matrix{Title: "filter " + string(rune('1'+k)), Data: m, Rows: 7, Cols: 7})
	}
	dir := outDir(t)
	path := filepath.Join(dir, "filters.png")
	if err := ImageGrid(path, ims, ImageGridOptions{Layout: Layout{Title: "Gabor filters", Cols: 3}, Symmetric: true}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 3*200, 2*220+34, 20)
	path = filepath.Join(dir, "filters_shared.png")
	if err := ImageGrid(path, ims, ImageGridOptions{Layout: Layout{Cols: 6}, Min: -1, Max: 1}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 6*200+110, 220, 20)
}

func TestBadInputIsAnError(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "x.png")
	if err := HeatMap(p, Matrix{Data: []float64{1, 2, 3}, Rows: 2, Cols: 2}, HeatMapOptions{}); err == nil {
		t.Error("3 values for 2×2 accepted")
	}
	if err := HeatMap(p, Matrix{Data: []float64{1, 2, 3, 4}, Rows: 2, Cols: 2}, HeatMapOptions{Min: 2, Max: 1}); err == nil {
		t.Error("min > max accepted")
	}
	nan := math.NaN()
	if err := HeatMap(p, Matrix{Data: []float64{nan, nan, nan, nan}, Rows: 2, Cols: 2}, HeatMapOptions{}); err == nil {
		t.Error("all-NaN matrix accepted")
	}
	// A constant matrix is drawable (the range is widened).
	if err := HeatMap(p, Matrix{Data: []float64{1, 1, 1, 1}, Rows: 2, Cols: 2}, HeatMapOptions{Layout: Layout{Width: 300, Height: 200}}); err != nil {
		t.Errorf("constant matrix: %v", err)
	}
	err := HeatMap(filepath.Join(dir, "missing", "x.png"), Matrix{Data: []float64{1, 2, 3, 4}, Rows: 2, Cols: 2}, HeatMapOptions{})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("write into a missing directory: %v", err)
	}
	if err := HeatMap(p, Matrix{Data: []float64{1, 2, 3, 4}, Rows: 2, Cols: 2}, HeatMapOptions{Layout: Layout{Width: 10, Height: 10}}); err == nil {
		t.Error("10×10 pixel figure accepted")
	}
}

func TestBlockMean(t *testing.T) {
	// 2×2500 → blocks of 1×3 columns (2500/1000 rounded up): 834 columns.
	rows, cols := 2, 2500
	m := make([]float64, rows*cols)
	for i := range m {
		m[i] = float64(i % cols)
	}
	m[3] = math.NaN() // block 1 of row 0 averages the other two
	got, r, c := blockMean(m, rows, cols)
	if r != 2 || c != 834 {
		t.Fatalf("shape %d×%d, want 2×834", r, c)
	}
	if got[0] != 1 || got[1] != 4.5 || got[c+1] != 4 || got[c-1] != 2499 {
		t.Errorf("block means %v %v %v %v, want 1 4.5 4 2499 (last block: one column)", got[0], got[1], got[c+1], got[c-1])
	}
	small := []float64{1, 2, 3, 4}
	if s, r, c := blockMean(small, 2, 2); r != 2 || c != 2 || &s[0] != &small[0] {
		t.Error("a small matrix was resampled")
	}
}

func TestLogTicks(t *testing.T) {
	var labels []string
	for _, tk := range (logTicks{}).Ticks(0.0107, 0.71) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if strings.Join(labels, " ") != "0.02 0.05 0.1 0.2 0.5" {
		t.Errorf("labels %v, want 0.02 0.05 0.1 0.2 0.5", labels)
	}
	labels = labels[:0]
	for _, tk := range (logTicks{}).Ticks(0.5, 2000) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if strings.Join(labels, " ") != "1 10 100 1000" {
		t.Errorf("labels over 4 decades %v, want powers of ten", labels)
	}
}

// Figures may be drawn from several goroutines at once (run with -race).
func TestConcurrentFigures(t *testing.T) {
	dir := t.TempDir()
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			m := Matrix{Title: "m", Data: rdmLike(30, float64(i)), Rows: 30, Cols: 30}
			errs <- HeatMap(filepath.Join(dir, string(rune('a'+i))+".png"), m, HeatMapOptions{ColorLabel: "v"})
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(names) != 4 {
		t.Errorf("files %v, want 4 PNGs and nothing else", names)
	}
}
