package report

import (
	"fmt"
	"math"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/models"
)

// Tutorial 2 (W1D5 T2): a convolutional layer of the six example filters
// (centre-surround, its negative, four Gabors; de-meaned) applied to
// example gratings, Coding Exercise 1.3's plot_example_activations.

// tutorial2Angles are the exercise's orientations = [-90, -45, 0, 45, 90].
var tutorial2Angles = []float64{-90, -45, 0, 45, 90}

// Tutorial 2's layer: ConvolutionalLayer(c_in=1, c_out=6, K=7).
const t2Channels, t2K = 6, 7

type tutorial2 struct {
	patch   bool
	h, w    int
	stimuli []float32 // len(tutorial2Angles)×h×w, the centred gratings
	filters []float32 // t2Channels×K×K
	act     []float32 // len(tutorial2Angles)×t2Channels×h×w
	maxAbs  float64   // largest |activation|
}

// tutorial2 convolves the exercise's gratings (grating(ori), or
// grating(ori, patch=True) with Config.PatchGratings) with the filters on
// be, through the same Conv2d as the networks (padding K//2, stride 1,
// bias 0).
func (r *report) tutorial2(be kernels.Backend) error {
	t := &tutorial2{patch: r.cfg.PatchGratings}
	t.stimuli, t.h, t.w = data.Gratings(tutorial2Angles, data.GratingOptions{Centred: true, Patch: t.patch})
	t.filters = data.Filters(t2Channels, t2K)
	data.Demean(t.filters, t2Channels, t2K)
	conv := models.Conv2d{In: 1, Out: t2Channels, Kernel: models.Square(t2K), Padding: models.Square(t2K / 2)}
	m, err := models.New(be, models.Sequential{Name: "tutorial2", Input: []int{1, t.h, t.w}, Loss: models.MSE,
		Layers: []models.Layer{models.Named("conv", conv)}})
	if err != nil {
		return fmt.Errorf("tutorial 2 convolution: %w", err)
	}
	defer m.Close()
	sd := map[string]*data.Array{
		"conv.weight": {Shape: []int{t2Channels, 1, t2K, t2K}, Data: t.filters},
		"conv.bias":   {Shape: []int{t2Channels}, Data: make([]float32, t2Channels)},
	}
	if err := m.LoadStateDict(sd); err != nil {
		return fmt.Errorf("tutorial 2 convolution: %w", err)
	}
	if t.act, err = m.Forward(t.stimuli); err != nil {
		return fmt.Errorf("tutorial 2 convolution: %w", err)
	}
	for _, v := range t.act {
		t.maxAbs = math.Max(t.maxAbs, math.Abs(float64(v)))
	}
	r.t2 = t
	return nil
}
