package main

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/models"
)

// job is a network with its training and test data.
type job struct {
	train    models.Dataset
	test     models.Dataset // S == 0: no test metrics
	source   string         // where the data came from, for the summary
	build    func(be kernels.Backend) (*models.Model, error)
	testName string // "accuracy" (normative), "fraction_correct" (decode softmax) or "mse"
}

func loadJob(c *config) (*job, error) {
	switch c.model {
	case "normative":
		return normativeJob(c)
	case "decode":
		return decodeJob(c)
	default:
		return encodeJob(c)
	}
}

// evaluate scores the trained model on the test set.
func (j *job) evaluate(m *models.Model) (map[string]any, error) {
	if j.test.S == 0 {
		return nil, nil
	}
	e, err := m.Evaluate(j.test)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"samples": e.N}
	if j.testName == "mse" {
		out["mse"] = jsonFloat(e.MSE)
	} else {
		out[j.testName] = jsonFloat(e.Accuracy)
	}
	return out, nil
}

func normativeJob(c *config) (*job, error) {
	j := &job{testName: "accuracy"}
	var h, w int
	if c.dataPath == "" {
		j.train, h, w = models.NormativeDataset(models.NormativeTrainAngles(c.nTrain, c.seed))
		j.source = fmt.Sprintf("%d generated gratings", c.nTrain)
	} else {
		arr, err := data.ReadNPZ(c.dataPath)
		if err != nil {
			return nil, err
		}
		stim, err := key(c.dataPath, arr, "stimuli")
		if err != nil {
			return nil, err
		}
		var S int
		switch {
		case len(stim.Shape) == 3:
			S, h, w = stim.Shape[0], stim.Shape[1], stim.Shape[2]
		case len(stim.Shape) == 4 && stim.Shape[1] == 1:
			S, h, w = stim.Shape[0], stim.Shape[2], stim.Shape[3]
		default:
			return nil, fmt.Errorf("%s: key \"stimuli\" has shape %v, want [S,H,W] grating images", c.dataPath, stim.Shape)
		}
		lab, err := key(c.dataPath, arr, "labels")
		if err != nil {
			return nil, err
		}
		if !(len(lab.Shape) == 1 && lab.Shape[0] == S) && !(len(lab.Shape) == 2 && lab.Shape[0] == S && lab.Shape[1] == 1) {
			return nil, fmt.Errorf("%s: key \"labels\" has shape %v, want [%d] or [%d,1] to match stimuli %v", c.dataPath, lab.Shape, S, S, stim.Shape)
		}
		for i, v := range lab.Data {
			if v != 0 && v != 1 {
				return nil, fmt.Errorf("%s: key \"labels\"[%d] = %g, want 0 (tilted left) or 1 (tilted right)", c.dataPath, i, v)
			}
		}
		if err := finite(c.dataPath, "stimuli", stim.Data); err != nil {
			return nil, err
		}
		if h < 8 || w < 8 {
			return nil, fmt.Errorf("%s: key \"stimuli\" images are %d×%d, want at least 8×8 for the 8×8 max-pool", c.dataPath, h, w)
		}
		j.train = models.Dataset{X: stim.Data, T: lab.Data, S: S}
		j.source = c.dataPath
	}
	if test, th, tw := models.NormativeDataset(models.NormativeTestAngles()); th == h && tw == w {
		j.test = test // the 180 test gratings, when the images have their size
	}
	seed := c.seed
	j.build = func(be kernels.Backend) (*models.Model, error) { return models.NewNormative(be, h, w, seed) }
	return j, nil
}

// split returns the training and test indices of S samples: a seeded
// permutation whose first int((1−frac)·S) entries train, as the Bonus
// tutorial's int(0.6 * n_stimuli) split of torch.randperm. frac = 0 trains
// on all, in order.
func split(S int, frac float64, seed uint64) (train, test []int) {
	if frac == 0 {
		train = make([]int, S)
		for i := range train {
			train[i] = i
		}
		return train, nil
	}
	perm := rand.New(rand.NewPCG(seed, 0x73706c6974)).Perm(S) // "split"
	n := int((1 - frac) * float64(S))
	return perm[:n], perm[n:]
}

// rows gathers rows idx of an S×width matrix.
func rows(m []float32, width int, idx []int) []float32 {
	out := make([]float32, 0, len(idx)*width)
	for _, i := range idx {
		out = append(out, m[i*width:(i+1)*width]...)
	}
	return out
}

func decodeJob(c *config) (*job, error) {
	var v *data.V1
	var err error
	j := &job{}
	if c.dataPath != "" {
		if v, err = data.LoadV1(c.dataPath); err != nil {
			return nil, err
		}
		j.source = c.dataPath
	} else {
		v = data.SyntheticV1(data.SynthOptions{Neurons: c.neurons, Seed: int64(c.seed)})
		j.source = fmt.Sprintf("synthetic V1 (%d stimuli × %d neurons, seed %d)", v.S, v.N, c.seed)
	}
	target := make([]float32, v.S)
	if c.variant == models.Softmax {
		j.testName = "fraction_correct"
		for i, deg := range v.Stimuli {
			k := data.StimulusClass(float64(deg), c.classes)
			if k < 0 || k >= c.classes {
				return nil, fmt.Errorf("%s: key \"stimuli\"[%d] = %g°, outside [0°, 360°) where the %d orientation classes are defined", j.source, i, deg, c.classes)
			}
			target[i] = float32(k)
		}
	} else {
		j.testName = "mse"
		copy(target, v.Stimuli)
	}
	tr, te := split(v.S, c.testFrac, c.seed)
	if len(tr) == 0 {
		return nil, fmt.Errorf("%s: %d stimuli leave no training samples with --test-frac %g", j.source, v.S, c.testFrac)
	}
	j.train = models.Dataset{X: rows(v.Resp, v.N, tr), T: rows(target, 1, tr), S: len(tr)}
	j.test = models.Dataset{X: rows(v.Resp, v.N, te), T: rows(target, 1, te), S: len(te)}
	N, variant, hidden, classes, seed := v.N, c.variant, c.hidden, c.classes, c.seed
	j.build = func(be kernels.Backend) (*models.Model, error) {
		return models.NewDecode(be, variant, N, hidden, classes, seed)
	}
	return j, nil
}

// encodeGratings are the Bonus tutorial's encoding stimuli: S centred
// 12×16 gratings (res 0.025) at orientations linspace(0, 360, S+1)[:-1] − 180.
func encodeGratings(S int) (pix []float32, h, w int) {
	angles := make([]float64, S)
	for i := range angles {
		angles[i] = 360*float64(i)/float64(S) - 180
	}
	return data.Gratings(angles, data.GratingOptions{Res: 0.025, Centred: true})
}

func encodeJob(c *config) (*job, error) {
	var v *data.V1Split
	var err error
	j := &job{testName: "mse"}
	if c.dataPath != "" {
		if v, err = data.LoadV1Split(c.dataPath); err != nil {
			return nil, err
		}
		j.source = c.dataPath
	} else {
		v = data.SyntheticV1Split(data.SynthOptions{Neurons: c.neurons, Seed: int64(c.seed)})
		j.source = fmt.Sprintf("synthetic split V1 (%d stimuli × %d neurons, seed %d)", v.S, v.N, c.seed)
	}
	var x []float32
	var h, w int
	if c.stimuliPath == "" {
		x, h, w = encodeGratings(v.S)
	} else {
		arr, err := data.ReadNPZ(c.stimuliPath)
		if err != nil {
			return nil, err
		}
		st, err := key(c.stimuliPath, arr, "stimuli")
		if err != nil {
			return nil, err
		}
		if len(st.Shape) != 4 || st.Shape[0] != v.S || st.Shape[1] != 1 || st.Shape[2] < 1 || st.Shape[3] < 1 {
			return nil, fmt.Errorf("%s: key \"stimuli\" has shape %v, want [%d,1,H,W] (one image per stimulus of %s)", c.stimuliPath, st.Shape, v.S, j.source)
		}
		if err := finite(c.stimuliPath, "stimuli", st.Data); err != nil {
			return nil, err
		}
		x, h, w = st.Data, st.Shape[2], st.Shape[3]
	}
	tr, te := split(v.S, c.testFrac, c.seed)
	if len(tr) == 0 {
		return nil, fmt.Errorf("%s: %d stimuli leave no training samples with --test-frac %g", j.source, v.S, c.testFrac)
	}
	if te == nil {
		te = tr // no held-out stimuli: test on resp_test of the training stimuli, as the tutorial
	}
	j.train = models.Dataset{X: rows(x, h*w, tr), T: rows(v.RespTrain, v.N, tr), S: len(tr)}
	j.test = models.Dataset{X: rows(x, h*w, te), T: rows(v.RespTest, v.N, te), S: len(te)}
	N, seed := v.N, c.seed
	j.build = func(be kernels.Backend) (*models.Model, error) { return models.NewEncode(be, h, w, N, seed) }
	return j, nil
}

func key(path string, arr map[string]*data.Array, k string) (*data.Array, error) {
	a, ok := arr[k]
	if !ok {
		have := make([]string, 0, len(arr))
		for name := range arr {
			have = append(have, fmt.Sprintf("%q", name))
		}
		return nil, fmt.Errorf("%s: missing key %q (file has %v)", path, k, have)
	}
	if a.Len() == 0 {
		return nil, fmt.Errorf("%s: key %q is empty (shape %v)", path, k, a.Shape)
	}
	return a, nil
}

func finite(path, k string, v []float32) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%s: key %q has a non-finite value %g at flat index %d", path, k, x, i)
		}
	}
	return nil
}
