package tasks

import (
	"fmt"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/models"
)

// EncodeGratings are the Bonus tutorial's encoding stimuli: S centred
// 12×16 gratings (res 0.025) at EncodeAngles(S).
func EncodeGratings(S int) (pix []float32, h, w int) {
	return data.Gratings(EncodeAngles(S), data.GratingOptions{Res: 0.025, Centred: true})
}

// EncodeAngles are the orientations of the Bonus tutorial's encoding
// stimuli, linspace(0, 360, S+1)[:-1] − 180 degrees: stimulus i is shown
// for the i-th orientation bin of the split data.
func EncodeAngles(S int) []float64 {
	angles := make([]float64, S)
	for i := range angles {
		angles[i] = 360*float64(i)/float64(S) - 180
	}
	return angles
}

// LoadV1Split returns the encoder's V1 responses: o.Data in the Stringer
// oribinned6_split format, or without it the synthetic split population
// of o.Neurons neurons and o.SynthStimuli orientation bins (default 60)
// drawn from o.Seed. source says which, for summaries and errors.
func LoadV1Split(o Options) (v *data.V1Split, source string, err error) {
	if o.Data != "" {
		if v, err = data.LoadV1Split(o.Data); err != nil {
			return nil, "", err
		}
		return v, o.Data, nil
	}
	v = data.SyntheticV1Split(data.SynthOptions{Neurons: o.Neurons, Stimuli: o.SynthStimuli, Seed: int64(o.Seed)})
	return v, fmt.Sprintf("synthetic split V1 (%d stimuli × %d neurons, seed %d)", v.S, v.N, o.Seed), nil
}

// loadEncode is NewEncode of LoadV1Split.
func loadEncode(o Options) (*Task, error) {
	v, src, err := LoadV1Split(o)
	if err != nil {
		return nil, err
	}
	return NewEncode(v, src, o)
}

// NewEncode is the Bonus tutorial's encoding task on v (read from
// source): stimulus images in (o.Stimuli, or EncodeGratings), the split
// file's resp_train out; tested against resp_test, on the held-out
// stimuli or, with no test fraction, on the training stimuli as the
// tutorial does.
func NewEncode(v *data.V1Split, source string, o Options) (*Task, error) {
	t := &Task{Network: Encode, Metric: "mse", Source: source}
	var x []float32
	var h, w int
	if o.Stimuli == "" {
		x, h, w = EncodeGratings(v.S)
	} else {
		arr, err := data.ReadNPZ(o.Stimuli)
		if err != nil {
			return nil, err
		}
		st, err := key(o.Stimuli, arr, "stimuli")
		if err != nil {
			return nil, err
		}
		if len(st.Shape) != 4 || st.Shape[0] != v.S || st.Shape[1] != 1 || st.Shape[2] < 1 || st.Shape[3] < 1 {
			return nil, fmt.Errorf("%s: key \"stimuli\" has shape %v, want [%d,1,H,W] (one image per stimulus of %s)", o.Stimuli, st.Shape, v.S, t.Source)
		}
		if err := finite(o.Stimuli, "stimuli", st.Data); err != nil {
			return nil, err
		}
		x, h, w = st.Data, st.Shape[2], st.Shape[3]
	}
	tr, te, err := splitFor(t.Source, v.S, o.TestFrac, o.Seed)
	if err != nil {
		return nil, err
	}
	if te == nil {
		te = tr
	}
	t.Train = models.Dataset{X: Rows(x, h*w, tr), T: Rows(v.RespTrain, v.N, tr), S: len(tr)}
	t.Test = models.Dataset{X: Rows(x, h*w, te), T: Rows(v.RespTest, v.N, te), S: len(te)}
	t.TestHalves = &Halves{Train: Rows(v.RespTrain, v.N, te), Test: t.Test.T, S: len(te), N: v.N}
	N, seed := v.N, o.Seed
	t.preset = func(be kernels.Backend) (*models.Model, error) { return models.NewEncode(be, h, w, N, seed) }
	t.Input, t.Output, t.Loss, t.targets = []int{1, h, w}, []int{N}, models.MSE, regressionTargets
	return withNetwork(t, o)
}
