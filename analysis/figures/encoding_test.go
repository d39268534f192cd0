package figures

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// neuronScores imitates a population's reliabilities and test
// correlations: r scattered below √rel, some reliabilities ≤ 0.
func neuronScores(n int) (rel, sqrtRel, r []float64) {
	rng := rand.New(rand.NewPCG(3, 4))
	rel, sqrtRel, r = make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range rel {
		rel[i] = math.Min(0.95, math.Max(-0.2, rng.Float64()*0.9-0.05+0.05*rng.NormFloat64()))
		sqrtRel[i] = math.NaN()
		if rel[i] > 0 {
			sqrtRel[i] = math.Sqrt(rel[i])
		}
		r[i] = math.Sqrt(math.Max(rel[i], 0))*(0.5+0.4*rng.Float64()) + 0.05*rng.NormFloat64()
	}
	return rel, sqrtRel, r
}

func TestHistogram(t *testing.T) {
	rel, _, r := neuronScores(5000)
	feve := make([]float64, len(r))
	for i := range feve {
		feve[i] = r[i]*r[i]*1.5 - 0.1
		if i%10 == 0 {
			feve[i] = math.NaN() // excluded neurons
		}
	}
	path := filepath.Join(outDir(t), "hist_r.png")
	err := Histogram(path, []HistPanel{
		{Title: "correlations", Series: []HistSeries{{Name: "test r", Values: r}, {Name: "split-half reliability", Values: rel}}},
		{Title: "FEVE", Series: []HistSeries{{Values: feve}}},
	}, HistogramOptions{Layout: Layout{Title: "Ridge baseline, fc layer"}, XLabel: "value", YLabel: "neurons"})
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 2*420, 380+34, 20)
	if err := Histogram(path, []HistPanel{{Series: []HistSeries{{Values: []float64{math.NaN()}}}}}, HistogramOptions{}); err == nil || !strings.Contains(err.Error(), "no finite value") {
		t.Errorf("all-NaN series: %v", err)
	}
	if err := Histogram(path, []HistPanel{{Title: "empty"}}, HistogramOptions{}); err == nil {
		t.Error("panel without series accepted")
	}
	if err := Histogram(path, []HistPanel{{Series: []HistSeries{{Values: r}}}}, HistogramOptions{Bins: -1}); err == nil {
		t.Error("-1 bins accepted")
	}
}

func TestMedianIsNumPys(t *testing.T) {
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 1…4 = %v, want 2.5", m)
	}
	if m := median([]float64{5, 1, 3}); m != 3 {
		t.Errorf("median of 1, 3, 5 = %v, want 3", m)
	}
}

func TestCeilingScatter(t *testing.T) {
	_, sq, r := neuronScores(23589)
	path := filepath.Join(outDir(t), "r_vs_ceiling.png")
	err := CeilingScatter(path, []Points{{Title: "ridge on fc", X: sq, Y: r}}, CeilingOptions{
		Layout: Layout{Title: "Test correlation against its ceiling"},
		XLabel: "√(split-half reliability)", YLabel: "test correlation r",
	})
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 420, 380+34, 20)
	nan := []float64{math.NaN()}
	if err := CeilingScatter(path, []Points{{X: nan, Y: nan}}, CeilingOptions{}); err == nil || !strings.Contains(err.Error(), "no point") {
		t.Errorf("no finite point: %v", err)
	}
	if err := CeilingScatter(path, []Points{{X: sq, Y: r[:3]}}, CeilingOptions{}); err == nil {
		t.Error("mismatched x, y accepted")
	}
}

func TestTuningFits(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float64, 60)
	for i := range x {
		x[i] = float64(i)*6 - 180
	}
	var fits []TuningFit
	for k, name := range []string{"best", "median", "worst"} {
		f := TuningFit{Title: name + " neuron", X: x, Measured: make([]float64, 60), Predicted: make([]float64, 60)}
		for i, xv := range x {
			tune := math.Exp(2 * (math.Cos(2*xv*math.Pi/180) - 1))
			f.Predicted[i] = tune * (1 - 0.3*float64(k))
			f.Measured[i] = tune + 0.1*float64(k+1)*rng.NormFloat64()
		}
		fits = append(fits, f)
	}
	path := filepath.Join(outDir(t), "tuning_fits.png")
	if err := TuningFits(path, fits, TuningFitsOptions{Layout: Layout{Title: "Predicted and measured tuning"}, XLabel: "orientation (°)", YLabel: "response"}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 3*420, 380+34, 20)
	bad := fits[0]
	bad.Predicted = bad.Predicted[:5]
	if err := TuningFits(path, []TuningFit{bad}, TuningFitsOptions{}); err == nil || !strings.Contains(err.Error(), "5 predicted") {
		t.Errorf("short prediction: %v", err)
	}
}

func TestGroupedBars(t *testing.T) {
	layers := []string{"conv", "pool", "fc", "out"}
	dir := outDir(t)
	path := filepath.Join(dir, "layers.png")
	err := GroupedBars(path, []BarPanel{
		{Title: "ridge baseline", YLabel: "median over neurons", Labels: layers, Series: []BarSeries{
			{Name: "test r", Values: []float64{0.31, 0.35, 0.28, 0.12}},
			{Name: "FEVE", Values: []float64{0.18, 0.22, 0.15, 0.02}},
		}},
		{Title: "RSA with V1", YLabel: "RSA", Labels: layers, Series: []BarSeries{
			{Name: "RSA (95% bootstrap)", Values: []float64{0.4, 0.55, 0.62, 0.3}, Lo: []float64{0.35, 0.5, 0.58, 0.22}, Hi: []float64{0.45, 0.6, 0.66, 0.36}},
		}},
	}, GroupedBarsOptions{Layout: Layout{Title: "Layers against V1"}, XLabel: "layer"})
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 2*420, 380+34, 10)
	path = filepath.Join(dir, "rsa_ceiling.png")
	err = GroupedBars(path, []BarPanel{{Labels: layers, Series: []BarSeries{
		{Name: "RSA (95% bootstrap)", Values: []float64{0.4, 0.55, 0.62, 0.3}, Lo: []float64{0.35, 0.5, 0.58, 0.22}, Hi: []float64{0.45, 0.6, 0.66, 0.36}},
	}, Band: &Band{Name: "noise ceiling", Value: 0.81, Lo: 0.77, Hi: 0.85}}}, GroupedBarsOptions{Layout: Layout{Title: "RSA of each layer with V1"}, XLabel: "layer", YLabel: "RSA (Pearson r of RDMs)"})
	if err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 420, 380+34, 10)
	for _, c := range []struct {
		name string
		p    BarPanel
		want string
	}{
		{"no series", BarPanel{Labels: layers}, "0 series"},
		{"short values", BarPanel{Labels: layers, Series: []BarSeries{{Values: []float64{1}}}}, "1 values"},
		{"lo without hi", BarPanel{Labels: layers[:1], Series: []BarSeries{{Values: []float64{1}, Lo: []float64{0}}}}, "1 lo, 0 hi"},
		{"interval missing the value", BarPanel{Labels: layers[:1], Series: []BarSeries{{Values: []float64{1}, Lo: []float64{0}, Hi: []float64{0.5}}}}, "containing the value"},
		{"NaN", BarPanel{Labels: layers[:1], Series: []BarSeries{{Values: []float64{math.NaN()}}}}, "want finite"},
		{"upside-down band", BarPanel{Labels: layers[:1], Series: []BarSeries{{Values: []float64{1}}}, Band: &Band{Lo: 1, Hi: 0}}, "lo ≤ hi"},
	} {
		if err := GroupedBars(path, []BarPanel{c.p}, GroupedBarsOptions{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestReceptiveFields(t *testing.T) {
	var rfs, maps []Matrix
	H, W := 12, 16
	for k := 0; k < 6; k++ {
		rf, sm := make([]float64, H*W), make([]float64, H*W)
		th := float64(k) * math.Pi / 6
		for y := 0; y < H; y++ {
			for x := 0; x < W; x++ {
				u := float64(x-8)*math.Cos(th) + float64(y-6)*math.Sin(th)
				g := math.Exp(-float64((x-8)*(x-8)+(y-6)*(y-6)) / 18)
				rf[y*W+x] = math.Cos(1.2*u) * g * float64(k+1)
				sm[y*W+x] = g * float64(k+1)
			}
		}
		rfs = append(rfs, Matrix{Title: "neuron " + string(rune('1'+k)), Data: rf, Rows: H, Cols: W})
		maps = append(maps, Matrix{Title: "unit " + string(rune('1'+k)), Data: sm, Rows: H, Cols: W})
	}
	dir := outDir(t)
	path := filepath.Join(dir, "gradient_rfs.png")
	if err := ReceptiveFields(path, rfs, ReceptiveFieldOptions{Layout: Layout{Title: "Gradient receptive fields", Cols: 3}, Signed: true, ColorLabel: "∂response/∂pixel"}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 3*200+110, 2*180+34, 50)
	path = filepath.Join(dir, "sensitivity_maps.png")
	if err := ReceptiveFields(path, maps, ReceptiveFieldOptions{Layout: Layout{Title: "Noise-patch sensitivity", Cols: 6}, PerImage: true}); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 6*200, 180+34, 50)
	if err := ReceptiveFields(path, nil, ReceptiveFieldOptions{}); err == nil {
		t.Error("no images accepted")
	}
	if err := ReceptiveFields(path, []Matrix{{Data: []float64{1, 2}, Rows: 2, Cols: 2}}, ReceptiveFieldOptions{}); err == nil {
		t.Error("2 values for 2×2 accepted")
	}
}
