package report

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/models"
	"github.com/vkneuro/vkneuro/tasks"
)

// The Bonus tutorial's decoders of orientation from V1 (Sections 1 and
// 2): DeepNetReLU regressing degrees with MSE, and DeepNetSoftmax
// classifying 20 orientation bins with NLL, without and with the L1/L2
// penalties on in_layer, all on one seeded 60/40 split of the stimuli.

// decodeTasks are the decoders' tasks on the V1 data.
type decodeTasks struct {
	softmax, relu *tasks.Task
	test          []int // the test stimuli's indices (tasks.Split)
}

// decodeRun is one trained decoder.
type decodeRun struct {
	Key, Title   string // summary key; figure title
	Variant      string // models.DecodeSoftmax or models.DecodeReLU
	Hidden       int
	Outputs      int // classes, or 1
	Steps        int
	LR, L1, L2   float64
	Losses       []float64 // objective (loss + penalties) per step
	TestSteps    []int
	TestLosses   []float64 // as the tutorial's test_loss: penalties included
	Train, Test  float64   // fraction correct (softmax) or MSE (relu)
	FinalLoss    float64
	Seconds      float64
	DivergedAt   int
	WIn          []float32 // Hidden × WInCols: columns in preferred-orientation order, block-averaged
	WInRaw       []float32 // the same in neuron order
	WInCols      int
	WOut         []float32 // Outputs × Hidden
	TestTrue     []float64 // true orientation of each test stimulus (degrees)
	TestDecoded  []float64 // its decoded class (softmax) or orientation (relu)
	HiddenAct    []float64 // relu: Hidden × S, ReLU(in_layer) for every stimulus in orientation order
	HiddenStimul []float64 // those stimuli's orientations
}

// decoding is the decoders and what they share.
type decoding struct {
	Neurons, Stimuli, TrainStimuli, TestStimuli int
	Classes                                     int
	SigmaDeg                                    float64 // smoothing of the preferred orientation
	Mode                                        analysis.Boundary
	Pref                                        []float64 // each neuron's preferred orientation
	// Examples are the neurons of the smoothing figure: the tutorial's,
	// and the first whose preferred orientation depends on the mode (if
	// one does); ModeDiffers counts those.
	Examples                 []int
	ModeDiffers              int
	ReLU, Softmax, Penalized *decodeRun
	WInLimit                 float64 // colour limit shared by the softmax runs' W_in
}

// exampleNeuron is the neuron the Bonus tutorial looks at before
// smoothing (idx = 235).
const exampleNeuron = 235

// decodeTasks builds the decoders' tasks on the full V1 data (all
// orientations over 360°, classes of 360/C degrees): the ones train
// decode trains, split by the tutorial's fraction from the report's
// seed, so the same seed and data give the same split and classes. An
// orientation outside [0°, 360°) is an *InputError of the V1 file.
func (r *report) decodeTasks(v1 *data.V1) (*decodeTasks, error) {
	c := r.cfg
	o := r.options()
	o.Network, o.Classes = tasks.Decode, c.DecodeClasses
	o.TestFrac = tasks.MustDefaultsFor(tasks.Decode, models.DecodeSoftmax).TestFrac
	d := &decodeTasks{}
	var err error
	o.Variant, o.Hidden = models.DecodeSoftmax, c.DecodeHidden
	if d.softmax, err = tasks.NewDecode(v1, r.v1Desc, o); err != nil {
		return nil, &InputError{InputV1, err}
	}
	o.Variant, o.Hidden = models.DecodeReLU, c.ReLUHidden
	if d.relu, err = tasks.NewDecode(v1, r.v1Desc, o); err != nil {
		return nil, &InputError{InputV1, err}
	}
	_, d.test = tasks.Split(v1.S, o.TestFrac, o.Seed)
	return d, nil
}

// decoders trains the decoders and sorts their input weights by each
// neuron's preferred orientation in v1.
func (r *report) decoders(ctx context.Context, be kernels.Backend, dt *decodeTasks, v1 *data.V1, logf func(string, ...any)) error {
	c := r.cfg
	d := &decoding{Neurons: v1.N, Stimuli: v1.S, TrainStimuli: dt.softmax.Train.S, TestStimuli: dt.softmax.Test.S,
		Classes: c.DecodeClasses, Mode: c.SmoothMode, Examples: []int{min(exampleNeuron, v1.N-1)}}
	// The Bonus tutorial smooths its 1° bins with σ = 5 bins; keep σ = 5°
	// for other bin widths.
	d.SigmaDeg = 5
	var err error
	other := analysis.Wrap
	if c.SmoothMode == analysis.Wrap {
		other = analysis.Reflect
	}
	var alt []float64
	if d.Pref, err = preferredOrientation(v1, d.SigmaDeg, c.SmoothMode); err == nil {
		alt, err = preferredOrientation(v1, d.SigmaDeg, other)
	}
	if err != nil {
		return fmt.Errorf("decoder: preferred orientation: %w", err)
	}
	for n := range alt {
		if alt[n] != d.Pref[n] {
			if d.ModeDiffers == 0 && n != d.Examples[0] {
				d.Examples = append(d.Examples, n)
			}
			d.ModeDiffers++
		}
	}
	order := analysis.SortByPreference(d.Pref)
	seed := uint64(c.Seed)
	runs := []struct {
		dst  **decodeRun
		task *tasks.Task
		run  decodeRun
		s    tasks.Settings
	}{
		{&d.ReLU, dt.relu, decodeRun{Key: "relu", Title: "DeepNetReLU", Variant: models.DecodeReLU, Hidden: c.ReLUHidden, Outputs: 1},
			tasks.Settings{Epochs: c.ReLUSteps, LR: c.ReLULR, Seed: seed}},
		{&d.Softmax, dt.softmax, decodeRun{Key: "softmax", Title: "DeepNetSoftmax, no penalty", Variant: models.DecodeSoftmax, Hidden: c.DecodeHidden, Outputs: c.DecodeClasses},
			tasks.Settings{Epochs: c.DecodeSteps, LR: c.DecodeLR, Seed: seed}},
		{&d.Penalized, dt.softmax, decodeRun{Key: "softmax_penalized", Title: fmt.Sprintf("DeepNetSoftmax, L1 %g, L2 %g", c.DecodeL1, c.DecodeL2), Variant: models.DecodeSoftmax, Hidden: c.DecodeHidden, Outputs: c.DecodeClasses},
			tasks.Settings{Epochs: c.DecodeSteps, LR: c.DecodeLR, L1: c.DecodeL1, L2: c.DecodeL2, Seed: seed}},
	}
	for _, run := range runs {
		if run.s.Epochs == 0 || (run.dst == &d.Penalized && c.DecodeL1 == 0 && c.DecodeL2 == 0) {
			continue // no steps, or the same run as the one without penalties
		}
		dr := run.run
		dr.Steps, dr.LR, dr.L1, dr.L2 = run.s.Epochs, run.s.LR, run.s.L1, run.s.L2
		if err := r.trainDecoder(ctx, be, run.task, dt.test, v1, order, run.s, &dr); err != nil {
			return fmt.Errorf("decoder %s: %w", dr.Title, err)
		}
		*run.dst = &dr
		r.timings["decode_"+dr.Key+"_s"] = dr.Seconds
		logf("report: decoder %s: %d steps in %.2f s, test %s %.4g", dr.Title, dr.Steps, dr.Seconds, dt.scoreName(dr.Variant), dr.Test)
	}
	for _, dr := range []*decodeRun{d.Softmax, d.Penalized} {
		if dr != nil {
			d.WInLimit = math.Max(d.WInLimit, absQuantile(dr.WIn, 0.99))
		}
	}
	r.decode = d
	return nil
}

func (dt *decodeTasks) scoreName(variant string) string {
	if variant == models.DecodeReLU {
		return "MSE"
	}
	return "fraction correct"
}

// trainDecoder trains one decoder on task with s and fills dr.
func (r *report) trainDecoder(ctx context.Context, be kernels.Backend, task *tasks.Task, test []int, v1 *data.V1, order []int, s tasks.Settings, dr *decodeRun) error {
	m, err := task.Build(be)
	if err != nil {
		return err
	}
	defer m.Close()
	var metrics bytes.Buffer
	tr, err := task.Trainer(m, s, r.trainConfig(&metrics, task.Test))
	if err != nil {
		return err
	}
	metrics.WriteString(tr.MetricsHeader())
	res, err := tr.Run(ctx)
	if err != nil {
		return err
	}
	dr.FinalLoss, dr.Seconds, dr.DivergedAt = float64(res.FinalLoss), res.Seconds, res.DivergedAt
	if math.IsNaN(dr.FinalLoss) || math.IsInf(dr.FinalLoss, 0) {
		flag := "--decode-lr"
		if dr.Variant == models.DecodeReLU {
			flag = "--relu-lr"
		}
		return fmt.Errorf("the loss diverged at step %d (%.4g, then %.4g) and ended at %v: nothing to draw; try a smaller %s than %g", res.DivergedAt, res.LossBefore, res.LossDiverged, dr.FinalLoss, flag, s.LR)
	}
	mt, err := tasks.ParseMetrics("decoder metrics", &metrics)
	if err != nil {
		return err
	}
	dr.Losses, dr.TestSteps, dr.TestLosses = mt.Loss, mt.TestSteps, mt.TestLoss
	ev, _, err := task.Evaluate(m)
	if err != nil {
		return err
	}
	evTrain, err := m.Evaluate(task.Train)
	if err != nil {
		return err
	}
	dr.Test, dr.Train = ev.Value, evTrain.Accuracy
	if dr.Variant == models.DecodeReLU {
		dr.Train = evTrain.MSE
	}

	sd, err := m.StateDict()
	if err != nil {
		return err
	}
	N := v1.N
	sorted, err := analysis.PermuteColumns(sd["in_layer.weight"].Data, dr.Hidden, N, order)
	if err != nil {
		return err
	}
	// A figure shows at most maxWeightCols columns: average neighbours in
	// preferred-orientation order here, so that the colour limits can be
	// taken from what is drawn.
	dr.WIn, dr.WInCols = blockColumns(sorted, dr.Hidden, N, maxWeightCols)
	dr.WInRaw, _ = blockColumns(sd["in_layer.weight"].Data, dr.Hidden, N, maxWeightCols)
	dr.WOut = sd["out_layer.weight"].Data

	out, err := m.Forward(task.Test.X)
	if err != nil {
		return err
	}
	for i, s := range test {
		dr.TestTrue = append(dr.TestTrue, float64(v1.Stimuli[s]))
		if dr.Variant == models.DecodeReLU {
			dr.TestDecoded = append(dr.TestDecoded, float64(out[i]))
		} else {
			row := out[i*dr.Outputs : (i+1)*dr.Outputs]
			dr.TestDecoded = append(dr.TestDecoded, float64(slices.Index(row, slices.Max(row)))) // the first maximum, as torch.argmax
		}
	}
	if dr.Variant == models.DecodeReLU {
		// visualize_hidden_units' h = relu(W_in·r + b_in), every stimulus.
		h, _, err := m.Hidden(v1.Resp, "in_layer")
		if err != nil {
			return err
		}
		stimOrder, x := analysis.SortedStimuli(v1.Stimuli)
		dr.HiddenStimul = x
		dr.HiddenAct = make([]float64, dr.Hidden*v1.S)
		for j, s := range stimOrder {
			for u := 0; u < dr.Hidden; u++ {
				dr.HiddenAct[u*v1.S+j] = math.Max(0, float64(h[s*dr.Hidden+u]))
			}
		}
	}
	return nil
}

// preferredOrientation is the Bonus tutorial's preferred_orientation:
// each neuron's tuning curve, in orientation order, smoothed by a
// Gaussian of sigmaDeg degrees (gaussian_filter1d, boundary mode), at
// its maximum.
func preferredOrientation(v1 *data.V1, sigmaDeg float64, mode analysis.Boundary) ([]float64, error) {
	return analysis.PreferredStimulus(v1.Resp, v1.S, v1.N, v1.Stimuli, sigmaDeg*float64(v1.S)/360, mode)
}

// maxWeightCols bounds the columns of the decoder-weight figures.
const maxWeightCols = 1000

// blockColumns averages the columns of w (rows×cols) over consecutive
// blocks of ⌈cols/maxCols⌉ (the last block may be smaller).
func blockColumns(w []float32, rows, cols, maxCols int) ([]float32, int) {
	b := (cols + maxCols - 1) / maxCols
	if b <= 1 {
		return w, cols
	}
	oc := (cols + b - 1) / b
	out := make([]float32, rows*oc)
	for r := 0; r < rows; r++ {
		for j := 0; j < oc; j++ {
			lo, hi := j*b, min((j+1)*b, cols)
			var sum float64
			for c := lo; c < hi; c++ {
				sum += float64(w[r*cols+c])
			}
			out[r*oc+j] = float32(sum / float64(hi-lo))
		}
	}
	return out, oc
}

// absQuantile returns the q-quantile of |x|, the colour limit that keeps a
// few outliers from washing out a weight map; never 0.
func absQuantile(x []float32, q float64) float64 {
	a := make([]float64, len(x))
	for i, v := range x {
		a[i] = math.Abs(float64(v))
	}
	slices.Sort(a)
	v := a[min(len(a)-1, int(q*float64(len(a))))]
	if v == 0 {
		v = a[len(a)-1]
	}
	if v == 0 {
		v = 1
	}
	return v
}

// since is the seconds from t0, for the timings.
func since(t0 time.Time) float64 { return time.Since(t0).Seconds() }
