package report

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/models"
	"github.com/vkneuro/vkneuro/tasks"
)

// Config says what to compare and where to write it.
type Config struct {
	Out string // output directory, created if absent

	// ModelPath is a normative CNN state_dict (conv/fc/out .weight and
	// .bias, or Arch's keys); "" trains one with Epochs, Batch, LR and
	// Momentum on TrainSamples generated gratings.
	ModelPath string
	// Arch, when not nil, is a network of the user's for the normative
	// task (models.ParseArch) in place of Tutorial 3's CNN: the report
	// compares every one of its modules (named by index) with V1.
	Arch []models.Layer
	// V1Path holds V1 responses in the Stringer oribinned1 format (resp
	// [S,N], stimuli [S] in degrees); "" generates SynthNeurons synthetic
	// neurons over SynthStimuli orientation bins.
	V1Path string
	// MetricsPath is a training-loss CSV (as train --metrics writes) to
	// plot; "" plots the losses of training on the fly, if any.
	MetricsPath string
	// Seed drives the synthetic V1 data, the network's initialisation and
	// training order, the decoder's split and initialisation, and the
	// sample units of the tuning curves.
	Seed int64

	SynthNeurons, SynthStimuli int

	TrainSamples, Epochs, Batch int
	LR, Momentum                float64

	// DecodeSteps are the decoder's full-batch steps; 0: no decoder.
	DecodeSteps, DecodeHidden, DecodeClasses int
	DecodeLR, DecodeL2, DecodeL1             float64

	TSNEIterations int
	TuningUnits    int // sample neurons or units per tuning-curve panel

	// BinWidth averages the V1 data over orientation bins of this many
	// degrees, as the tutorials' load_data(bin_width); 0 or 1 keeps them.
	BinWidth float64
	// SmoothMode is the boundary of the Gaussian smoothing of tuning
	// curves before their peak is taken as the preferred orientation:
	// analysis.Reflect, SciPy's default, which the Bonus tutorial's
	// gaussian_filter1d(resp, 5, axis=0) uses, or analysis.Wrap, which
	// treats the orientation axis as the circle it is.
	SmoothMode analysis.Boundary
	// PatchGratings convolves Tutorial 2's example patch gratings
	// (grating(ori, patch=True)) instead of full-field ones.
	PatchGratings bool
	// BonusNetworks trains Tutorial 3's bonus networks (FC, and ConvFC:
	// convolution without pooling) with the CNN's recipe and compares
	// their layers with V1 too.
	BonusNetworks bool
	// ReLUSteps are the full-batch steps of the Bonus tutorial's
	// DeepNetReLU decoder (Section 1: ReLUHidden units, lr ReLULR, MSE
	// on degrees); 0: none.
	ReLUSteps, ReLUHidden int
	ReLULR                float64
	// EvalEvery is how often, in steps, the decoders and the encoder are
	// evaluated on their test sets for the test-loss curves, as the
	// tutorial's train() does; 0: no test-loss curves.
	EvalEvery int

	// V1SplitPath holds split V1 responses in the Stringer
	// oribinned6_split format (resp_train, resp_test [S,N], stimuli
	// [S]); "" generates SYNTHETIC split data from Seed with SynthNeurons
	// neurons in 60 bins of 6°.
	V1SplitPath string
	// EncoderPath is a trained encode state_dict (train encode --save)
	// for the split data; "" trains the Bonus tutorial's ConvFC encoder
	// for EncodeSteps full-batch steps (0, with no EncoderPath: no
	// encoding sections).
	EncoderPath              string
	EncodeSteps              int
	EncodeLR, EncodeMomentum float64
	EncodeL1, EncodeL2       float64
	// RidgeAlphas is the ridge baselines' alpha grid; nil means
	// analysis.DefaultRidgeAlphas.
	RidgeAlphas []float64
	// RidgeLayers name the network's layers whose activity the ridge
	// baselines regress V1 on, beside the stimulus pixels; nil means
	// every hidden layer of more than one unit (conv, pool, fc).
	RidgeLayers []string
	// Bootstrap is the number of stimulus resamples of the RSA
	// intervals.
	Bootstrap int

	// Logf, if set, receives one line per finished stage.
	Logf func(format string, a ...any)
}

// DefaultConfig is the tutorials' report: their training and decoder
// settings (tasks.DefaultsFor), Tutorial 3's seed, the synthetic V1
// population's default size, and t-SNE's 1000 iterations.
func DefaultConfig() Config {
	norm, dec := tasks.MustDefaultsFor(tasks.Normative, ""), tasks.MustDefaultsFor(tasks.Decode, models.DecodeSoftmax)
	relu, enc := tasks.MustDefaultsFor(tasks.Decode, models.DecodeReLU), tasks.MustDefaultsFor(tasks.Encode, "")
	return Config{
		Seed:         int64(norm.Seed),
		SynthNeurons: data.DefaultNeurons, SynthStimuli: data.DefaultStimuli,
		TrainSamples: norm.NTrain, Epochs: norm.Epochs, Batch: norm.Batch, LR: norm.LR, Momentum: norm.Momentum,
		DecodeSteps: dec.Epochs, DecodeHidden: dec.Hidden, DecodeClasses: dec.Classes,
		DecodeLR: dec.LR, DecodeL2: dec.L2, DecodeL1: dec.L1,
		ReLUSteps: relu.Epochs, ReLUHidden: relu.Hidden, ReLULR: relu.LR,
		EncodeSteps: enc.Epochs, EncodeLR: enc.LR, EncodeMomentum: enc.Momentum, EncodeL1: enc.L1, EncodeL2: enc.L2,
		TSNEIterations: 1000, TuningUnits: 3,
		SmoothMode: analysis.Reflect, BonusNetworks: true, EvalEvery: 10, Bootstrap: 1000,
	}
}

// Problem is one unusable Config setting. Option names it as the report
// subcommand's flag does (without the dashes), so that the command can
// point at the flag and a Go caller at the field.
type Problem struct {
	Option string // e.g. "decode-steps" for DecodeSteps
	Msg    string // the value and what was wanted, e.g. "-1, want ≥ 0"
}

// Problems lists what is wrong with c; none for a usable Config.
func (c *Config) Problems() []Problem {
	var ps []Problem
	check := func(ok bool, option, format string, a ...any) {
		if !ok {
			ps = append(ps, Problem{option, fmt.Sprintf(format, a...)})
		}
	}
	check(c.Out != "", "out", "is required")
	check(c.SynthNeurons >= 2, "synthetic-neurons", "%d, want ≥ 2", c.SynthNeurons)
	check(c.SynthStimuli >= 8, "synthetic-stimuli", "%d, want ≥ 8", c.SynthStimuli)
	check(c.TrainSamples >= 1, "train-samples", "%d, want ≥ 1", c.TrainSamples)
	check(c.Epochs >= 1, "epochs", "%d, want ≥ 1", c.Epochs)
	check(c.Batch >= 1, "batch", "%d, want ≥ 1", c.Batch)
	check(c.LR > 0, "lr", "%g, want > 0", c.LR)
	check(c.Momentum >= 0 && c.Momentum < 1, "momentum", "%g, want 0 ≤ momentum < 1", c.Momentum)
	check(c.DecodeSteps >= 0, "decode-steps", "%d, want ≥ 0", c.DecodeSteps)
	check(c.DecodeHidden >= 1, "decode-hidden", "%d, want ≥ 1", c.DecodeHidden)
	check(c.DecodeClasses >= 2, "decode-classes", "%d, want ≥ 2", c.DecodeClasses)
	check(c.DecodeLR > 0, "decode-lr", "%g, want > 0", c.DecodeLR)
	check(c.DecodeL2 >= 0, "decode-l2", "%g, want ≥ 0", c.DecodeL2)
	check(c.DecodeL1 >= 0, "decode-l1", "%g, want ≥ 0", c.DecodeL1)
	check(c.TSNEIterations >= 300, "tsne-iterations", "%d, want ≥ 300 (250 are early exaggeration)", c.TSNEIterations)
	check(c.TuningUnits >= 1, "tuning-units", "%d, want ≥ 1", c.TuningUnits)
	check(c.BinWidth == 0 || (c.BinWidth >= 1 && c.BinWidth < 360), "bin-width", "%g, want degrees in [1, 360) (0 or 1: no binning)", c.BinWidth)
	check(c.SmoothMode == analysis.Reflect || c.SmoothMode == analysis.Wrap, "smooth-mode", "%v, want reflect or wrap", c.SmoothMode)
	check(c.ReLUSteps >= 0, "relu-steps", "%d, want ≥ 0", c.ReLUSteps)
	check(c.ReLUHidden >= 1, "relu-hidden", "%d, want ≥ 1", c.ReLUHidden)
	check(c.ReLULR > 0, "relu-lr", "%g, want > 0", c.ReLULR)
	check(c.EvalEvery >= 0, "eval-every", "%d, want ≥ 0", c.EvalEvery)
	check(c.EncodeSteps >= 0, "encode-steps", "%d, want ≥ 0", c.EncodeSteps)
	check(c.EncodeLR > 0, "encode-lr", "%g, want > 0", c.EncodeLR)
	check(c.EncodeMomentum >= 0 && c.EncodeMomentum < 1, "encode-momentum", "%g, want 0 ≤ momentum < 1", c.EncodeMomentum)
	check(c.EncodeL1 >= 0, "encode-l1", "%g, want ≥ 0", c.EncodeL1)
	check(c.EncodeL2 >= 0, "encode-l2", "%g, want ≥ 0", c.EncodeL2)
	check(c.RidgeAlphas == nil || len(c.RidgeAlphas) > 0, "ridge-alphas", "empty, want at least one alpha")
	for i, a := range c.RidgeAlphas {
		check(a > 0 && !math.IsInf(a, 0), "ridge-alphas", "alpha %d is %g, want positive and finite", i+1, a)
	}
	check(c.RidgeLayers == nil || len(c.RidgeLayers) > 0, "ridge-layers", "empty, want at least one layer name")
	check(c.Bootstrap >= 2, "bootstrap", "%d resamples, want ≥ 2", c.Bootstrap)
	return ps
}

// check is Problems as one error.
func (c *Config) check() error {
	ps := c.Problems()
	if len(ps) == 0 {
		return nil
	}
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Option + " " + p.Msg
	}
	return errors.New("report: config: " + strings.Join(msgs, "; "))
}

// Input is one of the files a report reads, named as the report
// subcommand's flag.
type Input string

const (
	InputModel   Input = "model"    // Config.ModelPath
	InputV1      Input = "v1"       // Config.V1Path
	InputMetrics Input = "metrics"  // Config.MetricsPath
	InputV1Split Input = "v1-split" // Config.V1SplitPath
	InputEncoder Input = "encoder"  // Config.EncoderPath
)

// InputError is an unusable input file; Err names the file and what was
// wrong with it.
type InputError struct {
	Input Input
	Err   error
}

func (e *InputError) Error() string { return string(e.Input) + ": " + e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }
