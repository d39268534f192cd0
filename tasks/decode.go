package tasks

import (
	"fmt"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/models"
)

// LoadV1 returns the decoder's V1 responses: o.Data in the Stringer
// oribinned1 format, or without it the synthetic population of o.Neurons
// neurons and o.SynthStimuli orientation bins drawn from o.Seed; with
// o.BinWidth > 1, averaged over bins of that many degrees as the
// tutorials' load_data(bin_width) (data.V1.Bin). source says which, for
// summaries and errors.
func LoadV1(o Options) (v *data.V1, source string, err error) {
	if err := checkBinWidth(o.BinWidth); err != nil {
		return nil, "", err
	}
	if o.Data != "" {
		if v, err = data.LoadV1(o.Data); err != nil {
			return nil, "", err
		}
		source = o.Data
	} else {
		v = data.SyntheticV1(data.SynthOptions{Neurons: o.Neurons, Stimuli: o.SynthStimuli, Seed: int64(o.Seed)})
		source = fmt.Sprintf("synthetic V1 (%d stimuli × %d neurons, seed %d)", v.S, v.N, o.Seed)
	}
	if o.BinWidth > 1 {
		v = v.Bin(o.BinWidth)
		source = fmt.Sprintf("%s in %g° bins (%d stimuli)", source, o.BinWidth, v.S)
	}
	return v, source, nil
}

// checkBinWidth accepts the bin widths load_data(bin_width) bins by
// (> 1) or leaves unbinned (0, the default, and 1), up to a whole
// turn.
func checkBinWidth(w float64) error {
	if !(w >= 0 && w < 360) {
		return fmt.Errorf("--bin-width %g: want degrees in [1, 360) (or 0 or 1: no binning)", w)
	}
	if w > 0 && w < 1 {
		return fmt.Errorf("--bin-width %g: the data are in 1° bins already, want ≥ 1 (1: no binning)", w)
	}
	return nil
}

// NewDecode is the Bonus tutorial's decoding task on v (read from
// source): every stimulus's responses as the input; as the target its
// orientation class (data.StimulusClass of o.Classes, variant Softmax)
// or its orientation in degrees (ReLU); the stimuli split by Split(v.S,
// o.TestFrac, o.Seed). An orientation outside [0°, 360°), where the
// classes are defined, is an error naming source, the index and the
// value.
func NewDecode(v *data.V1, source string, o Options) (*Task, error) {
	variant := o.Variant
	if variant == "" {
		variant = models.DecodeSoftmax
	}
	t := &Task{Network: Decode, Variant: variant, Source: source}
	target := make([]float32, v.S)
	switch variant {
	case models.DecodeSoftmax:
		if o.Classes < 2 {
			return nil, fmt.Errorf("tasks: decode: %d orientation classes, want ≥ 2", o.Classes)
		}
		t.Metric = "fraction_correct"
		for i, deg := range v.Stimuli {
			k := data.StimulusClass(float64(deg), o.Classes)
			if k < 0 || k >= o.Classes {
				return nil, fmt.Errorf("%s: key \"stimuli\"[%d] = %g°, outside [0°, 360°) where the %d orientation classes are defined", source, i, deg, o.Classes)
			}
			target[i] = float32(k)
		}
	case models.DecodeReLU:
		t.Metric = "mse"
		copy(target, v.Stimuli)
	default:
		return nil, fmt.Errorf("tasks: decode variant %q: want %q or %q", variant, models.DecodeSoftmax, models.DecodeReLU)
	}
	tr, te, err := splitFor(source, v.S, o.TestFrac, o.Seed)
	if err != nil {
		return nil, err
	}
	t.Train = models.Dataset{X: Rows(v.Resp, v.N, tr), T: Rows(target, 1, tr), S: len(tr)}
	t.Test = models.Dataset{X: Rows(v.Resp, v.N, te), T: Rows(target, 1, te), S: len(te)}
	N, hidden, classes, seed := v.N, o.Hidden, o.Classes, o.Seed
	t.preset = func(be kernels.Backend) (*models.Model, error) {
		return models.NewDecode(be, variant, N, hidden, classes, seed)
	}
	t.Input, t.Output, t.Loss, t.targets = []int{N}, []int{1}, models.MSE, regressionTargets
	if variant == models.DecodeSoftmax {
		t.Output, t.Loss, t.targets = []int{classes}, models.NLL, classTargets
	}
	return withNetwork(t, o)
}
