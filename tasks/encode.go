package tasks

import (
	"fmt"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/models"
)

// EncodeGratings are the Bonus tutorial's encoding stimuli: S centred
// 12×16 gratings (res 0.025) at orientations linspace(0, 360, S+1)[:-1] − 180.
func EncodeGratings(S int) (pix []float32, h, w int) {
	angles := make([]float64, S)
	for i := range angles {
		angles[i] = 360*float64(i)/float64(S) - 180
	}
	return data.Gratings(angles, data.GratingOptions{Res: 0.025, Centred: true})
}

// loadEncode is the Bonus tutorial's encoding task: stimulus images in,
// the split file's resp_train out; tested against resp_test, on the
// held-out stimuli or, with no test fraction, on the training stimuli
// as the tutorial does.
func loadEncode(o Options) (*Task, error) {
	t := &Task{Network: Encode, Metric: "mse"}
	var v *data.V1Split
	if o.Data != "" {
		var err error
		if v, err = data.LoadV1Split(o.Data); err != nil {
			return nil, err
		}
		t.Source = o.Data
	} else {
		v = data.SyntheticV1Split(data.SynthOptions{Neurons: o.Neurons, Stimuli: o.SynthStimuli, Seed: int64(o.Seed)})
		t.Source = fmt.Sprintf("synthetic split V1 (%d stimuli × %d neurons, seed %d)", v.S, v.N, o.Seed)
	}
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
	t.Train = models.Dataset{X: rows(x, h*w, tr), T: rows(v.RespTrain, v.N, tr), S: len(tr)}
	t.Test = models.Dataset{X: rows(x, h*w, te), T: rows(v.RespTest, v.N, te), S: len(te)}
	t.TestHalves = &Halves{Train: rows(v.RespTrain, v.N, te), Test: t.Test.T, S: len(te), N: v.N}
	N, seed := v.N, o.Seed
	t.preset = func(be kernels.Backend) (*models.Model, error) { return models.NewEncode(be, h, w, N, seed) }
	t.Input, t.Output, t.Loss, t.targets = []int{1, h, w}, []int{N}, models.MSE, regressionTargets
	return withNetwork(t, o)
}
