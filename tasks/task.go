package tasks

import (
	"fmt"

	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/models"
)

// Task is a network with its training and test data.
type Task struct {
	Network string // Normative, Decode or Encode
	Variant string // decode: models.DecodeSoftmax or models.DecodeReLU; "" otherwise
	Train   models.Dataset
	Test    models.Dataset // S == 0: no test set
	// Source says where the data came from: a file path, or a
	// description of the generated default data.
	Source string
	// Metric names the test score: "accuracy" (normative),
	// "fraction_correct" (decode softmax) or "mse".
	Metric string

	build func(be kernels.Backend) (*models.Model, error)
}

// Options say which task to assemble and from what.
type Options struct {
	Network string
	Variant string // decode: models.DecodeSoftmax (default) or models.DecodeReLU
	// Data is the training data file; "" uses the built-in default data.
	// normative: stimuli [S,H,W] or [S,1,H,W] and labels [S] or [S,1];
	// decode: resp [S,N] and stimuli [S] in degrees (data.LoadV1);
	// encode: resp_train, resp_test [S,N] and stimuli [S] (data.LoadV1Split).
	Data string
	// Stimuli is encode's stimulus image file (stimuli [S,1,H,W]); ""
	// renders the tutorial's 12×16 gratings.
	Stimuli string
	// Seed drives generated data, the split and initialisation.
	Seed uint64
	// TestFrac is the fraction of decode and encode stimuli held out (0:
	// none; encode then tests on resp_test of the training stimuli).
	TestFrac float64
	Hidden   int // decode: hidden units
	Classes  int // decode softmax: orientation classes
	// Neurons and SynthStimuli size the synthetic V1 population without
	// Data (0: data's defaults).
	Neurons, SynthStimuli int
	NTrain                int // normative without Data: generated gratings
}

// Load assembles the task o names. Data files are read and checked
// before any device is touched, so bad files fail fast; errors name the
// file, key and what was expected.
func Load(o Options) (*Task, error) {
	switch o.Network {
	case Normative:
		return loadNormative(o)
	case Decode:
		v, src, err := LoadV1(o)
		if err != nil {
			return nil, err
		}
		return NewDecode(v, src, o)
	case Encode:
		return loadEncode(o)
	}
	return nil, fmt.Errorf("tasks: unknown network %q: want normative, decode or encode", o.Network)
}

// Build makes the task's network on be, initialised from the task's seed.
func (t *Task) Build(be kernels.Backend) (*models.Model, error) { return t.build(be) }

// Trainer returns a Trainer of m on the training set with the settings
// s: their hyper-parameters set on m, the minibatch size and order from
// s.Batch and s.Seed, and s.Iters steps, or s.Epochs passes over the
// data. c gives the rest (metrics, checkpoints, progress).
func (t *Task) Trainer(m *models.Model, s Settings, c models.TrainConfig) (*models.Trainer, error) {
	if err := m.SetHyper(s.Hyper()); err != nil {
		return nil, err
	}
	c.Batch, c.Seed = s.Batch, s.Seed
	tr, err := models.NewTrainer(m, t.Train, c)
	if err != nil {
		return nil, err
	}
	tr.Config.Steps = s.Iters
	if s.Iters == 0 {
		tr.Config.Steps = s.Epochs * tr.BatchesPerEpoch()
	}
	return tr, nil
}

// Score is a test-set evaluation.
type Score struct {
	Metric  string  // as Task.Metric
	Value   float64 // fraction correct or mean squared error
	Samples int
}

// Evaluate scores the trained m on the test set; ok is false when the
// task has none.
func (t *Task) Evaluate(m *models.Model) (s Score, ok bool, err error) {
	if t.Test.S == 0 {
		return Score{}, false, nil
	}
	e, err := m.Evaluate(t.Test)
	if err != nil {
		return Score{}, false, err
	}
	s = Score{Metric: t.Metric, Value: e.Accuracy, Samples: e.N}
	if t.Metric == "mse" {
		s.Value = e.MSE
	}
	return s, true, nil
}
