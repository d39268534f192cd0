package figures_test

import (
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/analysis/figures"
)

// The tutorial's section 2–3 figures from S stimuli × N responses:
// RDM heat maps, RSA bars, tuning curves and a t-SNE scatter coloured by
// orientation.
func Example() {
	dir, err := os.MkdirTemp("", "figures")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// Synthetic V1-like responses: von Mises tuning to orientation.
	const S, N = 180, 200
	rng := rand.New(rand.NewPCG(1, 2))
	resp := make([]float32, S*N)
	stim := make([]float32, S)
	ori := make([]float64, S)
	for s := range stim {
		stim[s] = float32(-90 + s)
		ori[s] = float64(stim[s])
	}
	for n := 0; n < N; n++ {
		pref := rng.Float64() * math.Pi
		for s := 0; s < S; s++ {
			th := ori[s] * math.Pi / 180
			resp[s*N+n] = float32(math.Exp(2*(math.Cos(2*(th-pref))-1)) + 0.2*rng.NormFloat64())
		}
	}

	rdm, err := analysis.RDM(resp, S, N, nil)
	if err != nil {
		log.Fatal(err)
	}
	err = figures.HeatMap(filepath.Join(dir, "rdm.png"),
		figures.Matrix{Title: "V1 data", Data: figures.Float64s(rdm), Rows: S, Cols: S},
		figures.HeatMapOptions{XLabel: "stimulus orientation (°)", YLabel: "stimulus orientation (°)",
			ColorLabel: "dissimilarity", Min: 0, Max: 2, XRange: [2]float64{-90, 90}, YRange: [2]float64{-90, 90}})
	if err != nil {
		log.Fatal(err)
	}

	x, curves, err := analysis.TuningCurves(resp, S, N, stim, []int{0, 1, 2})
	if err != nil {
		log.Fatal(err)
	}
	var series []figures.Series
	for i, c := range curves {
		series = append(series, figures.Series{Name: fmt.Sprintf("neuron %d", i), X: x, Y: c})
	}
	err = figures.Lines(filepath.Join(dir, "tuning.png"), []figures.LinePanel{{Title: "V1 data responses", Series: series}},
		figures.LinesOptions{XLabel: "stimulus orientation (°)", YLabel: "neural response"})
	if err != nil {
		log.Fatal(err)
	}

	pc, err := analysis.PCA(resp, S, N, 20)
	if err != nil {
		log.Fatal(err)
	}
	y, _, err := analysis.TSNE(pc.Scores, S, pc.K, analysis.TSNEOptions{})
	if err != nil {
		log.Fatal(err)
	}
	ex, ey := make([]float64, S), make([]float64, S)
	for i := range ex {
		ex[i], ey[i] = y[2*i], y[2*i+1]
	}
	err = figures.Scatter(filepath.Join(dir, "tsne.png"), []figures.Points{{Title: "V1 data responses", X: ex, Y: ey, C: ori}},
		figures.ScatterOptions{XLabel: "dimension 1", YLabel: "dimension 2", ColorLabel: "stimulus orientation (°)",
			Min: -90, Max: 90, HideTicks: true})
	if err != nil {
		log.Fatal(err)
	}

	names, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	fmt.Println(len(names), "figures")
	// Output: 3 figures
}
