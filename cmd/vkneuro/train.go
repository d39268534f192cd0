package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/internal/atomicfile"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/models"
	"github.com/vkneuro/vkneuro/tasks"
	"github.com/vkneuro/vkneuro/viewer"
)

// afterStep, when set (by tests), is called after every optimizer step
// with the context that SIGINT/SIGTERM cancel.
var afterStep func(ctx context.Context, step int)

// trainConfig holds the parsed flags of train.
type trainConfig struct {
	model                    string
	dataPath, stimuliPath    string
	initPath, savePath       string
	backend, device          string
	iters, epochs, batch     int
	lr, momentum, l1, l2     float64
	testFrac                 float64
	seed                     uint64
	metricsPath, summaryPath string
	checkpointDir            string
	checkpointEvery          int
	resumeDir                string
	quiet                    bool
	variant                  string
	hidden, classes          int
	neurons, nTrain          int
	binWidth                 float64
	live                     bool
	screenshot               string
	// The network and its training (--arch and the optimizer flags),
	// resolved by parseTrainArgs.
	archSpec, archFile string
	loss               string
	optimizer, betas   string
	eps, weightDecay   float64
	dampening          float64
	nesterov           bool
	lrSchedule         string
	penalize           string
	dropoutSeed        uint64
	evalEvery          int
	holdout            bool // --holdout-stimuli set the test fraction
	arch               []models.Layer
	optim              *models.Optimizer
	schedule           models.Schedule
	penalizeList       []string
}

// keepOrDefault sets *v to d unless the flag was given on the command line.
func keepOrDefault[T any](given bool, v *T, d T) {
	if !given {
		*v = d
	}
}

// trainUsage is train -h's text; the defaults it lists are
// tasks.DefaultsFor's, the ones parseTrainArgs applies.
func trainUsage() string {
	norm, soft, relu, enc := tasks.MustDefaultsFor(tasks.Normative, ""), tasks.MustDefaultsFor(tasks.Decode, models.DecodeSoftmax),
		tasks.MustDefaultsFor(tasks.Decode, models.DecodeReLU), tasks.MustDefaultsFor(tasks.Encode, "")
	return fmt.Sprintf(`usage: vkneuro train normative|decode|encode [flags]

Trains a Neuromatch tutorial network. Defaults are the tutorials' settings:
  normative  Tutorial 3 CNN: %s;
             default data: %d gratings at random orientations in (-90°, 90°)
  decode     Bonus DeepNetSoftmax (--model softmax): %s,
             penalties on in_layer.weight, %d hidden, %d classes, test-frac %g;
             --model relu (DeepNetReLU, MSE on degrees): %s, %d hidden;
             default data: synthetic V1 responses (data.SyntheticV1)
  encode     Bonus ConvFC: %s,
             penalties on out_layer.weight; default data: synthetic split V1
             responses (data.SyntheticV1Split), stimuli 12x16 gratings

Minibatches (--batch < samples) follow Tutorial 3's train(): each epoch shuffles
the samples and splits them into consecutive batches. The shuffle comes from a
generator seeded with --seed, so runs are reproducible and resumable, but the
order is not torch.randperm's. Full batches are not shuffled.

--live (a binary built with -tags viewer) shows the conv filters, the batch's
conv output, the loss curve and steps/s in a window while training on Vulkan
(a CPU driver included); closing it or Escape stops after the current step
with a checkpoint (--checkpoint), then writes --save and --summary; exit 0.

flags:
`, describeSettings(norm.Settings), norm.NTrain,
		describeSettings(soft.Settings), soft.Hidden, soft.Classes, soft.TestFrac,
		describeSettings(relu.Settings), relu.Hidden, describeSettings(enc.Settings))
}

// describeSettings lists the settings s sets, as train's flags name them.
func describeSettings(s tasks.Settings) string {
	var parts []string
	if s.Batch == 0 {
		parts = append(parts, fmt.Sprintf("%d full-batch steps", s.Epochs))
	} else {
		parts = append(parts, fmt.Sprintf("epochs %d, batch %d", s.Epochs, s.Batch))
	}
	parts = append(parts, fmt.Sprintf("lr %g", s.LR))
	for _, v := range []struct {
		name string
		v    float64
	}{{"momentum", s.Momentum}, {"l2", s.L2}, {"l1", s.L1}} {
		if v.v != 0 {
			parts = append(parts, fmt.Sprintf("%s %g", v.name, v.v))
		}
	}
	return strings.Join(append(parts, fmt.Sprintf("seed %d", s.Seed)), ", ")
}

func newTrainFlagSet(c *trainConfig, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, trainUsage())
		fs.PrintDefaults()
	}
	fs.StringVar(&c.dataPath, "data", "", "training data `FILE.npz` (normative: stimuli [S,H,W], labels [S]; decode: resp [S,N], stimuli [S] degrees; encode: resp_train, resp_test [S,N], stimuli [S])")
	fs.StringVar(&c.stimuliPath, "stimuli", "", "encode: stimulus images `FILE.npz` with stimuli [S,1,H,W] (default: the tutorial's 12x16 gratings)")
	fs.StringVar(&c.initPath, "init", "", "initial parameters `FILE.npz` by state_dict name")
	fs.StringVar(&c.savePath, "save", "", "write the trained state_dict to `FILE.npz`")
	fs.StringVar(&c.backend, "backend", "auto", "auto|vulkan|cpu (auto: Vulkan on a real GPU, else CPU)")
	fs.StringVar(&c.device, "device", "", "Vulkan device index or name substring")
	fs.IntVar(&c.iters, "iters", 0, "optimizer steps (overrides --epochs)")
	fs.IntVar(&c.epochs, "epochs", 0, "passes over the training set (default per model)")
	fs.IntVar(&c.batch, "batch", 0, "minibatch size, 0 = full batch (default per model)")
	fs.Float64Var(&c.lr, "lr", 0, "learning rate (default per model)")
	fs.Float64Var(&c.momentum, "momentum", 0, "SGD momentum (default per model)")
	fs.Float64Var(&c.l1, "l1", 0, "L1 penalty coefficient (default per model)")
	fs.Float64Var(&c.l2, "l2", 0, "L2 penalty coefficient (default per model)")
	fs.Float64Var(&c.testFrac, "test-frac", 0, "decode/encode: fraction of stimuli held out for testing, 0 = none (default per model)")
	fs.Uint64Var(&c.seed, "seed", 0, "random seed for initialisation, data and minibatch order (default per model)")
	fs.StringVar(&c.metricsPath, "metrics", "", "write per-step `FILE.csv` (step,loss,epoch)")
	fs.StringVar(&c.summaryPath, "summary", "", "write a `FILE.json` summary")
	fs.StringVar(&c.checkpointDir, "checkpoint", "", "write resumable checkpoints to `DIR`")
	fs.IntVar(&c.checkpointEvery, "checkpoint-every", 0, "checkpoint every K steps (0: only at the end and on interrupt)")
	fs.StringVar(&c.resumeDir, "resume", "", "continue from the checkpoint in `DIR`")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress bar")
	fs.StringVar(&c.variant, "model", models.DecodeSoftmax, "decode: softmax (classes, NLL) or relu (degrees, MSE)")
	soft, relu := tasks.MustDefaultsFor(tasks.Decode, models.DecodeSoftmax), tasks.MustDefaultsFor(tasks.Decode, models.DecodeReLU)
	fs.IntVar(&c.hidden, "hidden", 0, fmt.Sprintf("decode: hidden units (default %d softmax, %d relu)", soft.Hidden, relu.Hidden))
	fs.IntVar(&c.classes, "classes", soft.Classes, "decode softmax: orientation classes")
	fs.IntVar(&c.neurons, "neurons", 0, fmt.Sprintf("decode/encode without --data: synthetic population size (0 = %d)", data.DefaultNeurons))
	fs.Float64Var(&c.binWidth, "bin-width", 0, "decode: average the V1 responses over orientation bins of `DEGREES`, as the tutorials' load_data(bin_width) (0 or 1: as they are)")
	fs.IntVar(&c.nTrain, "n-train", tasks.MustDefaultsFor(tasks.Normative, "").NTrain, "normative without --data: number of training gratings")
	fs.StringVar(&c.archSpec, "arch", "", archUsage+"; the task's data, targets and default loss stay")
	fs.StringVar(&c.archFile, "arch-file", "", "read --arch's SPEC from `FILE` (newlines and # comments allowed)")
	fs.StringVar(&c.loss, "loss", "", "loss: "+strings.Join(models.LossNames(), "|")+" (default: the task's, bce, nll or mse; poisson is nn.PoissonNLLLoss() on a log rate, poisson-rate log_input=False)")
	fs.StringVar(&c.optimizer, "optimizer", "sgd", "sgd|adam|adamw, with torch.optim's update rules and defaults")
	fs.StringVar(&c.betas, "betas", "0.9,0.999", "adam/adamw: `B1,B2`")
	fs.Float64Var(&c.eps, "eps", 1e-8, "adam/adamw: the denominator's epsilon")
	fs.Float64Var(&c.weightDecay, "weight-decay", 0, "weight decay (default 0, adamw 1e-2); sgd/adam add it to the gradient, adamw decays the weights")
	fs.BoolVar(&c.nesterov, "nesterov", false, "sgd: Nesterov momentum")
	fs.Float64Var(&c.dampening, "dampening", 0, "sgd: momentum dampening")
	fs.StringVar(&c.lrSchedule, "lr-schedule", "none", "learning-rate schedule, stepped once per epoch (a full-batch step is one): none, step:STEP_SIZE:GAMMA (StepLR) or cosine:T_MAX[:ETA_MIN] (CosineAnnealingLR)")
	fs.StringVar(&c.penalize, "penalize", "", "parameters `NAME[,NAME...]` --l1/--l2 apply to (default: the tutorial network's penalised weight; none for --arch)")
	fs.Uint64Var(&c.dropoutSeed, "dropout-seed", 0, "seed of the Dropout modules' masks")
	fs.Func("holdout-stimuli", "encode: hold out a seeded fraction `F` of the stimuli from training altogether, and compute the test scores (MSE, correlation, reliability, FEVE) on them only (the same as --test-frac)", func(v string) error {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fmt.Errorf("want a fraction, got %q", v)
		}
		c.testFrac, c.holdout = f, true
		return nil
	})
	fs.IntVar(&c.evalEvery, "eval-every", 0, "every `K` steps, evaluate on the test set and add it to --metrics as test_loss, as the Bonus tutorial's train() does: after the update, penalties included")
	fs.BoolVar(&c.live, "live", false, "show training in a window: conv filters, feature maps, loss curve, steps/s (Vulkan only; needs a binary built with -tags viewer); closing it or Escape stops training like SIGINT, with a checkpoint")
	fs.StringVar(&c.screenshot, "screenshot", "", "with --live: write the last frame to `FILE.png` on exit")
	return fs
}

func parseTrainArgs(args []string, stderr io.Writer) (*trainConfig, error) {
	c := &trainConfig{}
	fs := newTrainFlagSet(c, stderr)
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		c.model, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if c.model == "" && fs.NArg() > 0 {
		c.model = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return nil, err
		}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Sprintf("unexpected arguments %q", fs.Args())}
	}
	switch c.model {
	case "normative", "decode", "encode":
	case "":
		return nil, usageError{"missing network: normative, decode or encode"}
	default:
		return nil, usageError{fmt.Sprintf("unknown network %q: want normative, decode or encode", c.model)}
	}
	if c.model == "decode" {
		if c.variant != models.DecodeSoftmax && c.variant != models.DecodeReLU {
			return nil, usageError{fmt.Sprintf("--model %q: want softmax or relu", c.variant)}
		}
	} else {
		c.variant = ""
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if err := c.parseNetwork(set); err != nil {
		return nil, err
	}
	d := tasks.MustDefaultsFor(c.model, c.variant) // both checked above
	if c.arch != nil {
		// The tutorial's penalties are on its network's weight; a user's
		// network has none unless --penalize names them.
		d.L1, d.L2 = 0, 0
	}
	if c.optimizer != "sgd" {
		d.Momentum = 0
		if !set["lr"] {
			c.lr = 1e-3 // torch.optim.Adam's and AdamW's default
			set["lr"] = true
		}
	}
	keepOrDefault(set["epochs"], &c.epochs, d.Epochs)
	keepOrDefault(set["batch"], &c.batch, d.Batch)
	keepOrDefault(set["lr"], &c.lr, d.LR)
	keepOrDefault(set["momentum"], &c.momentum, d.Momentum)
	keepOrDefault(set["l1"], &c.l1, d.L1)
	keepOrDefault(set["l2"], &c.l2, d.L2)
	if set["holdout-stimuli"] && (set["test-frac"] || c.model != "encode") {
		return nil, usageError{"--holdout-stimuli applies to encode, and is --test-frac by another name: give one"}
	}
	keepOrDefault(set["test-frac"] || c.holdout, &c.testFrac, d.TestFrac)
	keepOrDefault(set["seed"], &c.seed, d.Seed)
	keepOrDefault(set["hidden"], &c.hidden, d.Hidden)
	switch {
	case c.iters < 0 || c.epochs < 0 || c.batch < 0 || c.checkpointEvery < 0 || c.neurons < 0 || c.evalEvery < 0:
		return nil, usageError{"--iters, --epochs, --batch, --checkpoint-every, --eval-every and --neurons must be ≥ 0"}
	case c.iters == 0 && c.epochs == 0:
		return nil, usageError{"nothing to do: --iters and --epochs are 0"}
	case !(c.lr > 0) || c.momentum < 0 || c.l1 < 0 || c.l2 < 0 || math.IsInf(c.lr, 0):
		return nil, usageError{"--lr must be > 0; --momentum, --l1, --l2 ≥ 0"}
	case !(c.testFrac >= 0 && c.testFrac < 1):
		return nil, usageError{fmt.Sprintf("--test-frac %g: want 0 ≤ f < 1", c.testFrac)}
	case c.model == "normative" && c.testFrac != 0 && set["test-frac"]:
		return nil, usageError{"--test-frac applies to decode and encode; normative tests on 180 gratings"}
	case c.model == "normative" && c.arch == nil && c.penalizeList == nil && (c.l1 != 0 || c.l2 != 0):
		return nil, usageError{"--l1/--l2: the normative network has no penalised weight; name parameters with --penalize (e.g. fc.weight)"}
	case c.penalizeList != nil && c.l1 == 0 && c.l2 == 0:
		return nil, usageError{"--penalize needs --l1 or --l2"}
	case c.optimizer != "sgd" && set["momentum"]:
		return nil, usageError{"--momentum applies to --optimizer sgd (Adam's are --betas)"}
	case c.stimuliPath != "" && c.model != "encode":
		return nil, usageError{"--stimuli applies to encode only"}
	case c.checkpointEvery > 0 && c.checkpointDir == "" && c.resumeDir == "":
		return nil, usageError{"--checkpoint-every needs --checkpoint DIR"}
	case c.initPath != "" && c.resumeDir != "":
		return nil, usageError{"--init and --resume exclude each other (a checkpoint holds the parameters)"}
	case !validBackend(c.backend):
		return nil, usageError{fmt.Sprintf("--backend %q: want %s", c.backend, backendNames)}
	case c.hidden < 0 || c.model == "decode" && c.hidden < 1 || c.classes < 2:
		return nil, usageError{"--hidden must be ≥ 1 and --classes ≥ 2"}
	case c.nTrain < 1:
		return nil, usageError{"--n-train must be ≥ 1"}
	case c.screenshot != "" && !c.live:
		return nil, usageError{"--screenshot needs --live"}
	case c.screenshot != "" && filepath.Ext(c.screenshot) != ".png":
		return nil, usageError{fmt.Sprintf("--screenshot %q: want a .png file", c.screenshot)}
	case c.live && c.backend == "cpu":
		return nil, usageError{"--live shows the training tensors on the Vulkan device: use --backend vulkan or auto, not cpu"}
	case c.live && !viewer.Available:
		return nil, usageError{"--live: " + viewer.ErrNotBuilt.Error()}
	}
	if c.checkpointDir == "" {
		c.checkpointDir = c.resumeDir // keep checkpointing where we resumed from
	}
	o, err := c.optimizerOf(set)
	if err != nil {
		return nil, err
	}
	c.optim = &o
	return c, nil
}

// parseNetwork reads --arch or --arch-file, --lr-schedule and
// --penalize; the network is checked against the task's data later, by
// tasks.Load, still before anything is allocated.
func (c *trainConfig) parseNetwork(set map[string]bool) error {
	layers, err := archFlags(c.archSpec, c.archFile, set["arch"])
	if err != nil {
		return err
	}
	c.arch = layers
	s, err := models.ParseSchedule(c.lrSchedule)
	if err != nil {
		return usageError{"--lr-schedule: " + err.Error()}
	}
	c.schedule = s
	if c.penalize != "" {
		for _, n := range strings.Split(c.penalize, ",") {
			if n = strings.TrimSpace(n); n == "" {
				return usageError{fmt.Sprintf("--penalize %q: an empty parameter name", c.penalize)}
			}
			c.penalizeList = append(c.penalizeList, strings.TrimSpace(n))
		}
	}
	switch c.optimizer {
	case "sgd", "adam", "adamw":
	default:
		return usageError{fmt.Sprintf("--optimizer %q: want sgd, adam or adamw", c.optimizer)}
	}
	if c.optimizer != "sgd" && (c.nesterov || set["dampening"]) {
		return usageError{"--nesterov and --dampening apply to --optimizer sgd"}
	}
	if c.optimizer == "sgd" && (set["betas"] || set["eps"]) {
		return usageError{"--betas and --eps apply to --optimizer adam and adamw"}
	}
	return nil
}

// optimizerOf is the torch.optim optimizer the flags describe, checked
// as torch checks it.
func (c *trainConfig) optimizerOf(set map[string]bool) (models.Optimizer, error) {
	o, err := models.ParseOptimizer(c.optimizer, c.lr)
	if err != nil {
		return o, usageError{"--optimizer: " + err.Error()}
	}
	if set["weight-decay"] {
		o.WeightDecay = c.weightDecay
	}
	c.weightDecay = o.WeightDecay
	switch o.Kind {
	case models.OptSGD:
		o.Momentum, o.Dampening, o.Nesterov = c.momentum, c.dampening, c.nesterov
	default:
		var b1, b2 float64
		if n, err := fmt.Sscanf(c.betas, "%g,%g", &b1, &b2); err != nil || n != 2 || strings.Count(c.betas, ",") != 1 {
			return o, usageError{fmt.Sprintf("--betas %q: want B1,B2, e.g. 0.9,0.999", c.betas)}
		}
		o.Beta1, o.Beta2, o.Eps = b1, b2, c.eps
	}
	if err := o.Validate(); err != nil {
		return o, usageError{strings.TrimPrefix(err.Error(), "models: ")}
	}
	return o, nil
}

// trainSummary is the --summary JSON.
type trainSummary struct {
	Model        string    `json:"model"`
	Variant      string    `json:"variant,omitempty"`
	Backend      string    `json:"backend"`
	Device       string    `json:"device"`
	Steps        int       `json:"steps"`
	StepsThisRun int       `json:"steps_this_run"`
	TrainSeconds float64   `json:"train_seconds"`
	FinalLoss    jsonFloat `json:"final_loss"`
	Batch        int       `json:"batch"`
	LR           float64   `json:"lr"`
	Momentum     float64   `json:"momentum"`
	L1           float64   `json:"l1"`
	L2           float64   `json:"l2"`
	Seed         uint64    `json:"seed"`
	TrainSamples int       `json:"train_samples"`
	Data         string    `json:"data"`
	// The network and its training: Arch is nn.Sequential's argument
	// text (the preset's modules for a tutorial network).
	Arch        string           `json:"arch"`
	Parameters  int              `json:"parameters"`
	Loss        string           `json:"loss"`
	Optimizer   string           `json:"optimizer"`
	WeightDecay float64          `json:"weight_decay"`
	Schedule    string           `json:"lr_schedule"`
	Penalties   []models.Penalty `json:"penalties"`
	// DivergedAt is the first step whose loss was not finite or rose far
	// above its best (models.DivergeFactor), with the losses around it;
	// absent when training did not diverge.
	DivergedAt   int            `json:"diverged_at_step,omitempty"`
	LossBefore   *jsonFloat     `json:"loss_before_divergence,omitempty"`
	LossDiverged *jsonFloat     `json:"loss_at_divergence,omitempty"`
	Test         map[string]any `json:"test,omitempty"`
}

// trainMain is the train subcommand.
func trainMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseTrainArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "train: %v (see vkneuro train -h)\n", err)
		return exitUsage
	}
	if err != nil {
		return exitUsage // the flag package has printed the problem
	}
	code, err := train(ctx, c, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "train: %v\n", err)
	}
	return code
}

// options are the tasks.Options the flags describe.
func (c *trainConfig) options() tasks.Options {
	return tasks.Options{Network: c.model, Variant: c.variant, Data: c.dataPath, Stimuli: c.stimuliPath, Seed: c.seed,
		TestFrac: c.testFrac, Hidden: c.hidden, Classes: c.classes, Neurons: c.neurons, NTrain: c.nTrain, BinWidth: c.binWidth,
		Arch: c.arch, Loss: c.loss, DropoutSeed: c.dropoutSeed}
}

// settings are the training settings the flags describe.
func (c *trainConfig) settings() tasks.Settings {
	return tasks.Settings{Epochs: c.epochs, Iters: c.iters, Batch: c.batch, LR: c.lr, Momentum: c.momentum, L1: c.l1, L2: c.l2, Seed: c.seed,
		Optimizer: c.optim, Schedule: c.schedule, Penalize: c.penalizeList}
}

func train(ctx context.Context, c *trainConfig, stdout, stderr io.Writer) (int, error) {
	// Load and check the data before touching a device, so bad files fail fast.
	task, err := tasks.Load(c.options())
	if err != nil {
		return exitError, err
	}
	var be kernels.Backend
	var dev *engine.Manager // --live: the device the window shares with training
	if c.live {
		if be, dev, err = openLive(c, stderr); err != nil {
			return exitError, err
		}
		defer dev.Close() // after the backend
		defer be.Close()
	} else {
		var release func() error
		if be, release, err = openBackend("train", c.backend, c.device, stderr); err != nil {
			return exitError, err
		}
		defer release()
	}
	m, err := task.Build(be)
	if err != nil {
		return exitError, err
	}
	defer m.Close()
	if c.initPath != "" {
		if err := m.LoadStateDictFile(c.initPath); err != nil {
			return exitError, err
		}
	}
	tc := models.TrainConfig{CheckpointDir: c.checkpointDir, CheckpointEvery: c.checkpointEvery,
		OnDiverge: func(step int, before, after float32) {
			fmt.Fprintf(stderr, "train: warning: the loss diverged at step %d (%.4g, then %.4g); try a smaller --lr\n", step, before, after)
		}}
	if c.evalEvery > 0 {
		if task.Test.S == 0 {
			return exitError, fmt.Errorf("--eval-every: %s has no test set (%s)", c.model, task.Source)
		}
		tc.EvalEvery, tc.Test = c.evalEvery, task.Test
	}
	tr, err := task.Trainer(m, c.settings(), tc)
	if err != nil {
		return exitError, err
	}
	if c.resumeDir != "" {
		if err := tr.Resume(c.resumeDir); err != nil {
			return exitError, err
		}
	}
	// The metrics stream to disk, flushed before every checkpoint; a
	// resumed run continues the file after the checkpoint's step.
	var metrics *models.MetricsFile
	if c.metricsPath != "" {
		if metrics, err = models.OpenMetrics(c.metricsPath, tr.MetricsHeader(), tr.Step()); err != nil {
			return exitError, fmt.Errorf("--metrics: %w", err)
		}
		defer metrics.Close() // on early returns; the normal path closes it below
		tr.Config.Metrics = metrics
	}
	// The viewer stops training by cancelling ctx, as SIGINT does.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lv *live
	if c.live {
		if lv, err = newLive(c, dev, m, cancel); err != nil {
			return exitError, err
		}
		defer lv.v.Close() // on early returns; before the model and device
	}
	bar := newProgress(c, stderr, tr.Config.Steps, tr.Step())
	tr.Config.Progress = func(step int, loss float32) {
		bar(step, loss)
		lv.step(step, loss)
		if afterStep != nil {
			afterStep(ctx, step)
		}
	}
	res, runErr := tr.Run(ctx)
	bar(-1, 0)
	liveErr := lv.finish()
	if liveErr != nil {
		// Reported now, so no early return below loses it; exit 1 at the end.
		fmt.Fprintf(stderr, "train: %v\n", liveErr)
	}
	if metrics != nil {
		if err := metrics.Close(); err != nil {
			return exitError, fmt.Errorf("--metrics: %w", err)
		}
	}
	if lv != nil && lv.err != nil {
		return exitError, fmt.Errorf("%w (training stopped after step %d%s)", lv.err, res.Steps, checkpointNote(c))
	}
	if errors.Is(runErr, models.ErrInterrupted) && lv != nil && lv.stopped {
		// The window was closed: a requested early end, not a failure.
		fmt.Fprintf(stderr, "train: stopped from the viewer after step %d%s\n", res.Steps, checkpointNote(c))
		runErr = nil
	}
	if errors.Is(runErr, models.ErrInterrupted) {
		if c.checkpointDir != "" {
			fmt.Fprintf(stderr, "train: interrupted after step %d; checkpoint in %s (continue with --resume %s)\n", res.Steps, c.checkpointDir, c.checkpointDir)
		} else {
			fmt.Fprintf(stderr, "train: interrupted after step %d; nothing saved (no --checkpoint)\n", res.Steps)
		}
		return exitInterrupted, nil
	}
	if runErr != nil {
		return exitError, runErr
	}
	if c.savePath != "" {
		if err := m.SaveStateDict(c.savePath); err != nil {
			return exitError, err
		}
	}
	test, err := testMetrics(task, m)
	if err != nil {
		return exitError, err
	}
	s := trainSummary{Model: c.model, Variant: c.variant, Backend: be.Name(), Device: be.Device(),
		Steps: res.Steps, StepsThisRun: res.Ran, TrainSeconds: res.Seconds, FinalLoss: jsonFloat(res.FinalLoss),
		Batch: min(max(c.batch, 0), task.Train.S), LR: c.lr, Momentum: c.momentum, L1: c.l1, L2: c.l2, Seed: c.seed,
		TrainSamples: task.Train.S, Data: task.Source, Test: test,
		Arch: m.Arch(), Parameters: m.ParamCount(), Loss: m.Loss.String(), Optimizer: m.Training().Optimizer.String(),
		WeightDecay: c.weightDecay, Schedule: c.schedule.String(), Penalties: m.Training().Penalties}
	if c.batch == 0 {
		s.Batch = task.Train.S
	}
	if res.DivergedAt > 0 {
		before, after := jsonFloat(res.LossBefore), jsonFloat(res.LossDiverged)
		s.DivergedAt, s.LossBefore, s.LossDiverged = res.DivergedAt, &before, &after
	}
	if c.summaryPath != "" {
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			return exitError, err
		}
		if err := atomicfile.WriteFile(c.summaryPath, append(b, '\n'), 0o644); err != nil {
			return exitError, fmt.Errorf("--summary: %w", err)
		}
	}
	fmt.Fprintf(stdout, "%s: %d steps in %.3g s on %s (%s), final loss %.6g%s\n",
		m.Name, res.Steps, res.Seconds, be.Name(), be.Device(), res.FinalLoss, describeTest(test))
	if liveErr != nil {
		return exitError, nil
	}
	return exitOK, nil
}

// testMetrics are the summary's "test" object: the task's test score and
// the number of samples, and for encode the field's encoding scores
// (test correlation, split-half reliability, normalised correlation and
// FEVE per neuron, each summarised as {median, mean, q25, q75, n}; null
// where no neuron has it); nil without a test set.
func testMetrics(task *tasks.Task, m *models.Model) (map[string]any, error) {
	sc, ok, err := task.Evaluate(m)
	if !ok || err != nil {
		return nil, err
	}
	test := map[string]any{"samples": sc.Samples, sc.Metric: jsonFloat(sc.Value)}
	h := task.TestHalves
	if h == nil || h.S < 2 {
		return test, nil
	}
	pred, err := m.Forward(task.Test.X)
	if err != nil {
		return nil, err
	}
	if m.Loss == models.PoissonNLL {
		for i, v := range pred { // the output is a log rate; score the rate
			pred[i] = float32(math.Exp(float64(v)))
		}
	}
	e, err := analysis.ScoreEncoding(pred, h.Train, h.Test, h.S, h.N)
	if err != nil {
		// A diverged model's NaN predictions have no scores; the run's
		// summary still says what happened.
		test["encoding_scores_error"] = err.Error()
		return test, nil
	}
	for key, x := range map[string][]float64{"test_corr": e.TestCorr, "reliability": e.Reliability, "normalized_corr": e.NormCorr, "feve": e.FEVE} {
		if s, err := analysis.Summarize(x); err == nil {
			test[key] = s
		} else {
			test[key] = nil
		}
	}
	test["normalized_corr_excluded"] = e.Excluded
	return test, nil
}

// checkpointNote says where the checkpoint of a stopped run is.
func checkpointNote(c *trainConfig) string {
	if c.checkpointDir == "" {
		return "; no checkpoint (no --checkpoint)"
	}
	return fmt.Sprintf("; checkpoint in %s (continue with --resume %s)", c.checkpointDir, c.checkpointDir)
}

// jsonFloat marshals NaN and ±Inf (a diverged loss) as null, which
// encoding/json otherwise refuses.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

func describeTest(test map[string]any) string {
	var parts []string
	for _, k := range []string{"accuracy", "fraction_correct", "mse"} {
		if v, ok := test[k]; ok {
			parts = append(parts, fmt.Sprintf("test %s %.4g", strings.ReplaceAll(k, "_", " "), v))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, ", ")
}

// newProgress returns the per-step progress callback: a progress bar on
// a terminal (unless --quiet), otherwise nothing. Call it with step −1
// to finish.
func newProgress(c *trainConfig, stderr io.Writer, total, start int) func(step int, loss float32) {
	f, ok := stderr.(*os.File)
	if c.quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return func(int, float32) {}
	}
	bar := progressbar.NewOptions(total,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription(c.model),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("steps"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish())
	bar.Set(start)
	return func(step int, loss float32) {
		if step < 0 {
			bar.Finish()
			return
		}
		bar.Describe(fmt.Sprintf("%s loss %.4g", c.model, loss))
		bar.Set(step)
	}
}
