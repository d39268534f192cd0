package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/analysis/report"
	"github.com/vkneuro/vkneuro/models"
)

// reportFlags are the report subcommand's settings: report.Config and
// the backend to compute on.
type reportFlags struct {
	report.Config
	backend, device string
}

func parseReportFlags(args []string, stderr io.Writer) (*reportFlags, error) {
	f := &reportFlags{Config: report.DefaultConfig()}
	c := &f.Config
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: vkneuro report --out DIR [--model FILE.npz] [--v1 FILE.npz] [--v1-split FILE.npz]
                      [--encoder FILE.npz] [--backend auto|cpu|vulkan] [--metrics FILE.csv] [--seed N] [flags]

Reproduces the figures and numbers of the Neuromatch deep-learning tutorials
(W1D5 Tutorial 2: convolution of example gratings; Tutorial 3: the normative
CNN and its bonus networks against V1 by RDMs, RSA, tuning curves, t-SNE; the
Bonus tutorial: decoders of orientation from V1 and a convolutional encoding
model of V1), scores the encoding model and ridge baselines from each layer as
encoding studies do, and writes figures, summary.json, encoding.npz,
index.html and report.md to DIR. Without --v1 and --v1-split it uses SYNTHETIC
V1-like data; without --model it trains the CNN with the tutorial's recipe and
saves it as DIR/model.npz. Defaults are the tutorials' settings.

flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&c.ModelPath, "model", "", "normative CNN state_dict `FILE.npz` (keys conv/fc/out .weight/.bias, or --arch's); empty: train one with the tutorial's recipe")
	var archSpec, archFile string
	fs.StringVar(&archSpec, "arch", "", archUsage+": the report compares every module of this normative-task network with V1")
	fs.StringVar(&archFile, "arch-file", "", "read --arch's SPEC from `FILE`")
	fs.StringVar(&c.V1Path, "v1", "", "V1 responses `FILE.npz` in the Stringer oribinned1 format (resp [S,N], stimuli [S]); empty: synthetic data")
	fs.Float64Var(&c.BinWidth, "bin-width", c.BinWidth, "average the V1 responses over orientation bins of `DEGREES`, as the tutorials' load_data(bin_width); 0 or 1: as they are")
	fs.StringVar(&c.V1SplitPath, "v1-split", "", "split V1 responses `FILE.npz` in the Stringer oribinned6_split format (resp_train, resp_test [S,N], stimuli [S]) for the encoding sections; empty: synthetic data")
	fs.StringVar(&c.EncoderPath, "encoder", "", "trained encoding model `FILE.npz` for the split data (train encode --save); empty: fit the tutorial's ConvFC")
	fs.StringVar(&c.Out, "out", "", "output `DIR` (created if absent)")
	fs.StringVar(&f.backend, "backend", "auto", "compute backend: auto (Vulkan on a real GPU, else CPU), cpu or vulkan (any device, lavapipe included)")
	fs.StringVar(&f.device, "device", "", "Vulkan device index or name substring (default: VKNEURO_DEVICE, then the best by type)")
	fs.StringVar(&c.MetricsPath, "metrics", "", "training-loss `FILE.csv` (step,loss,epoch[,test_loss], as vkneuro train --metrics [--eval-every] writes) to plot")
	fs.Int64Var(&c.Seed, "seed", c.Seed, "seed of the synthetic V1 data, network initialisation, training order, decoder split and initialisation, and sample units")
	fs.IntVar(&c.SynthNeurons, "synthetic-neurons", c.SynthNeurons, "neurons of the synthetic V1 data (and of the synthetic split data)")
	fs.IntVar(&c.SynthStimuli, "synthetic-stimuli", c.SynthStimuli, "orientation bins of the synthetic V1 data over [0°,360°)")
	fs.IntVar(&c.TrainSamples, "train-samples", c.TrainSamples, "gratings in the training set when training on the fly")
	fs.IntVar(&c.Epochs, "epochs", c.Epochs, "training epochs when training on the fly")
	fs.IntVar(&c.Batch, "batch", c.Batch, "minibatch size when training on the fly")
	fs.Float64Var(&c.LR, "lr", c.LR, "SGD learning rate when training on the fly")
	fs.Float64Var(&c.Momentum, "momentum", c.Momentum, "SGD momentum when training on the fly")
	fs.BoolVar(&c.BonusNetworks, "bonus-networks", c.BonusNetworks, "train Tutorial 3's bonus networks (FC; ConvFC, without pooling) with the same recipe and compare them with V1 too")
	fs.BoolVar(&c.PatchGratings, "patch-gratings", c.PatchGratings, "convolve Tutorial 2's patch gratings (grating(ori, patch=True)) instead of full-field ones")
	fs.IntVar(&c.DecodeSteps, "decode-steps", c.DecodeSteps, "full-batch gradient steps of the V1 orientation decoders, DeepNetSoftmax without and with the penalties (0: none)")
	fs.IntVar(&c.DecodeHidden, "decode-hidden", c.DecodeHidden, "hidden units of the decoder")
	fs.IntVar(&c.DecodeClasses, "decode-classes", c.DecodeClasses, "orientation classes of the decoder")
	fs.Float64Var(&c.DecodeLR, "decode-lr", c.DecodeLR, "decoder learning rate")
	fs.Float64Var(&c.DecodeL2, "decode-l2", c.DecodeL2, "decoder L2 penalty on in_layer.weight")
	fs.Float64Var(&c.DecodeL1, "decode-l1", c.DecodeL1, "decoder L1 penalty on in_layer.weight")
	fs.IntVar(&c.ReLUSteps, "relu-steps", c.ReLUSteps, "full-batch gradient steps of DeepNetReLU, the decoder regressing degrees (0: none)")
	fs.IntVar(&c.ReLUHidden, "relu-hidden", c.ReLUHidden, "hidden units of DeepNetReLU")
	fs.Float64Var(&c.ReLULR, "relu-lr", c.ReLULR, "DeepNetReLU learning rate")
	smooth := fs.String("smooth-mode", c.SmoothMode.String(), "boundary of the Gaussian smoothing before a neuron's preferred orientation is taken: reflect (SciPy's default, as the Bonus tutorial's gaussian_filter1d call) or wrap (better: the orientation axis is a circle, so 359° is next to 0°)")
	fs.IntVar(&c.EvalEvery, "eval-every", c.EvalEvery, "evaluate the trained networks on their test sets every `K` steps for the test-loss curves (0: none)")
	fs.IntVar(&c.EncodeSteps, "encode-steps", c.EncodeSteps, "full-batch gradient steps of the ConvFC encoder on the split data (0 without --encoder: no encoding sections)")
	fs.Float64Var(&c.EncodeLR, "encode-lr", c.EncodeLR, "encoder learning rate")
	fs.Float64Var(&c.EncodeMomentum, "encode-momentum", c.EncodeMomentum, "encoder SGD momentum")
	fs.Float64Var(&c.EncodeL1, "encode-l1", c.EncodeL1, "encoder L1 penalty on out_layer.weight")
	fs.Float64Var(&c.EncodeL2, "encode-l2", c.EncodeL2, "encoder L2 penalty on out_layer.weight")
	alphas := fs.String("ridge-alphas", "", "comma-separated `ALPHAS` the ridge baselines choose from by cross-validation (default 1e-2,1e-1,…,1e6)")
	ridgeLayers := fs.String("ridge-layers", "", "comma-separated `LAYERS` of the network the ridge baselines regress V1 on, beside the pixels (default: every hidden layer of more than one unit)")
	fs.IntVar(&c.Bootstrap, "bootstrap", c.Bootstrap, "stimulus resamples of the RSA intervals")
	fs.IntVar(&c.TSNEIterations, "tsne-iterations", c.TSNEIterations, "t-SNE gradient steps")
	fs.IntVar(&c.TuningUnits, "tuning-units", c.TuningUnits, "sample neurons/units per tuning-curve panel")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Sprintf("unexpected arguments %q (flags only)", fs.Args())}
	}
	given := false
	fs.Visit(func(fl *flag.Flag) { given = given || fl.Name == "arch" })
	layers, err := archFlags(archSpec, archFile, given)
	if err != nil {
		return nil, err
	}
	c.Arch = layers
	var bad []string
	if !validBackend(f.backend) {
		bad = append(bad, fmt.Sprintf("--backend %q, want %s", f.backend, backendNames))
	}
	if mode, err := analysis.ParseBoundary(*smooth); err != nil {
		bad = append(bad, fmt.Sprintf("--smooth-mode %q, want %q or %q", *smooth, analysis.Reflect, analysis.Wrap))
	} else {
		c.SmoothMode = mode
	}
	if *alphas != "" {
		for i, a := range strings.Split(*alphas, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(a), 64)
			if err != nil {
				bad = append(bad, fmt.Sprintf("--ridge-alphas: alpha %d %q is not a number", i+1, a))
				continue
			}
			c.RidgeAlphas = append(c.RidgeAlphas, v)
		}
	}
	if *ridgeLayers != "" {
		for _, l := range strings.Split(*ridgeLayers, ",") {
			c.RidgeLayers = append(c.RidgeLayers, strings.TrimSpace(l))
		}
	}
	for _, p := range c.Problems() {
		bad = append(bad, "--"+p.Option+" "+p.Msg)
	}
	if len(bad) > 0 {
		return nil, usageError{strings.Join(bad, "; ")}
	}
	return f, nil
}

// reportMain is the report subcommand: flags in, progress lines on
// stdout, report.Generate between.
func reportMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parseReportFlags(args, stderr)
	var ue usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "report: %v (see vkneuro report -h)\n", err)
		return exitUsage
	case err != nil:
		return exitUsage // the flag package has printed the problem
	}
	be, release, err := openBackend("report", f.backend, f.device, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "report: %v\n", err)
		return exitError
	}
	f.Logf = func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }
	_, err = report.Generate(ctx, f.Config, be)
	// An input file's error names the flag that gave it.
	if ie := (*report.InputError)(nil); errors.As(err, &ie) {
		err = fmt.Errorf("--%s: %w", ie.Input, ie.Err)
	}
	if err = errors.Join(err, release()); err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "report: %v\n", err)
	if errors.Is(err, models.ErrInterrupted) {
		return exitInterrupted
	}
	return exitError
}
