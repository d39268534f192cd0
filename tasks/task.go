package tasks

import (
	"fmt"
	"slices"
	"strings"

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
	// Input is the network's per-sample input shape and Output the
	// per-sample output its targets need; Loss is the loss the network
	// trains with (the task's default unless Options.Loss chose another).
	Input, Output []int
	Loss          models.Loss
	// Arch is the user's network (Options.Arch), nil for the preset.
	Arch []models.Layer
	// TestHalves, for encode, are both halves of the trials' responses
	// to the test stimuli (Test.T is the second), which the
	// field's encoding scores need (noise ceilings, FEVE).
	TestHalves *Halves

	targets     targetKind
	preset      func(be kernels.Backend) (*models.Model, error)
	seed        uint64
	dropoutSeed uint64
}

// Halves are the two halves of the trials' responses to S stimuli of N
// neurons, row-major S×N each.
type Halves struct {
	Train, Test []float32
	S, N        int
}

// targetKind is what a task's targets are, which decides the losses
// that fit them.
type targetKind int

const (
	binaryTargets     targetKind = iota // 0/1 labels
	classTargets                        // class indices
	regressionTargets                   // real values (degrees, responses)
)

var fittingLosses = map[targetKind][]models.Loss{
	binaryTargets:     {models.BCE, models.BCEWithLogits, models.MSE},
	classTargets:      {models.NLL, models.CrossEntropy},
	regressionTargets: {models.MSE, models.PoissonNLL, models.PoissonNLLRate},
}

// setNetwork applies o's network choices (Arch, Loss) to a loaded task
// and checks them against its targets, before anything is allocated.
func (t *Task) setNetwork(o Options) error {
	t.seed, t.dropoutSeed = o.Seed, o.DropoutSeed
	if o.Loss != "" {
		l, err := models.ParseLoss(o.Loss)
		if err != nil {
			return fmt.Errorf("--loss: %w", err)
		}
		if !slices.Contains(fittingLosses[t.targets], l) {
			var names []string
			for _, f := range fittingLosses[t.targets] {
				names = append(names, f.String())
			}
			return fmt.Errorf("--loss %s does not fit %s's targets (%s): want %s", l, t.describe(), t.targetText(), strings.Join(names, ", "))
		}
		t.Loss = l
	}
	if o.Arch == nil {
		return nil
	}
	t.Arch = o.Arch
	out, err := t.sequential().OutputShape()
	if err != nil {
		return fmt.Errorf("--arch: %s", strings.TrimPrefix(err.Error(), "models: "+t.Network+": "))
	}
	if !slices.Equal(out, t.Output) {
		last := len(o.Arch) - 1
		return fmt.Errorf("--arch: the network gives %s outputs per sample (last module: %d %s), but %s needs %s (%s)",
			shape(out), last, models.FormatArch(o.Arch[last:]), t.describe(), shape(t.Output), t.targetText())
	}
	return nil
}

func (t *Task) sequential() models.Sequential {
	return models.Sequential{Name: t.Network, Input: t.Input, Layers: t.Arch, Loss: t.Loss, Seed: t.seed, DropoutSeed: t.dropoutSeed}
}

func (t *Task) describe() string {
	if t.Network == Decode {
		return "decode (--model " + t.Variant + ")"
	}
	return t.Network
}

func (t *Task) targetText() string {
	switch {
	case t.targets == binaryTargets:
		return "0/1 labels"
	case t.targets == classTargets:
		return fmt.Sprintf("one score per class of --classes %d", t.Output[0])
	case t.Network == Encode:
		return fmt.Sprintf("one response per neuron, %d neurons", t.Output[0])
	}
	return "one value per sample"
}

func shape(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
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
	// BinWidth averages decode's V1 responses over orientation bins of
	// this many degrees (load_data(bin_width)); 0 or 1: as they are.
	BinWidth float64
	// Arch, when not nil, replaces the tutorial's network with the
	// user's (models.ParseArch), keeping the task's data and targets;
	// its input is the task's and its output must be what the targets
	// need.
	Arch []models.Layer
	// Loss names the loss (models.ParseLoss); "" is the task's default
	// (normative bce, decode nll or mse, encode mse).
	Loss string
	// DropoutSeed seeds the Dropout modules' masks.
	DropoutSeed uint64
}

// Load assembles the task o names. Data files are read and checked,
// and a user's network planned against the data, before any device is
// touched, so bad files and networks fail fast; errors name the file,
// key, flag or module and what was expected.
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

// withNetwork finishes a loader: the task t with o's network choices
// applied.
func withNetwork(t *Task, o Options) (*Task, error) {
	if err := t.setNetwork(o); err != nil {
		return nil, err
	}
	return t, nil
}

// Build makes the task's network on be, initialised from the task's
// seed: the user's Arch, or the tutorial's preset (with Loss, when it is
// not the preset's own).
func (t *Task) Build(be kernels.Backend) (*models.Model, error) {
	if t.Arch != nil {
		return models.New(be, t.sequential())
	}
	m, err := t.preset(be)
	if err != nil {
		return nil, err
	}
	if err := m.SetLoss(t.Loss); err != nil {
		m.Close()
		return nil, fmt.Errorf("--loss: %w", err)
	}
	return m, nil
}

// Trainer returns a Trainer of m on the training set with the settings
// s: their hyper-parameters set on m, the minibatch size and order from
// s.Batch and s.Seed, and s.Iters steps, or s.Epochs passes over the
// data. c gives the rest (metrics, checkpoints, progress).
func (t *Task) Trainer(m *models.Model, s Settings, c models.TrainConfig) (*models.Trainer, error) {
	tr, err := s.Training(m)
	if err != nil {
		return nil, err
	}
	if err := m.SetTraining(tr); err != nil {
		return nil, err
	}
	c.Batch, c.Seed, c.Schedule = s.Batch, s.Seed, s.Schedule
	trainer, err := models.NewTrainer(m, t.Train, c)
	if err != nil {
		return nil, err
	}
	trainer.Config.Steps = s.Iters
	if s.Iters == 0 {
		trainer.Config.Steps = s.Epochs * trainer.BatchesPerEpoch()
	}
	return trainer, nil
}

// Training is the optimizer and penalties s sets on m: s.Optimizer, or
// SGD at s.LR with s.Momentum; L1 and L2 on each parameter of s.Penalize
// (by default m's penalised weight). Penalties on a network without a
// penalised weight and no s.Penalize are an error listing its
// parameters.
func (s Settings) Training(m *models.Model) (models.Training, error) {
	o := models.SGD(s.LR)
	o.Momentum = s.Momentum
	if s.Optimizer != nil {
		o = *s.Optimizer
	}
	tr := models.Training{Optimizer: o}
	if s.L1 == 0 && s.L2 == 0 {
		return tr, nil
	}
	names := s.Penalize
	if names == nil && m.Penalized != "" {
		names = []string{m.Penalized}
	}
	if len(names) == 0 {
		var have []string
		for _, p := range m.Params() {
			have = append(have, p.Name)
		}
		return tr, fmt.Errorf("--l1/--l2: say which parameters to penalise with --penalize NAME[,NAME...] (this network has %s)", strings.Join(have, ", "))
	}
	for _, n := range names {
		tr.Penalties = append(tr.Penalties, models.Penalty{Param: n, L1: s.L1, L2: s.L2})
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
