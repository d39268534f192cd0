package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/internal/atomicfile"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
	"github.com/vkneuro/vkneuro/models"
	"github.com/vkneuro/vkneuro/viewer"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130 // 128 + SIGINT, as a shell reports it
)

// afterStep, when set (by tests), is called after every optimizer step
// with the context that SIGINT/SIGTERM cancel.
var afterStep func(ctx context.Context, step int)

// run is main without os.Exit: SIGINT and SIGTERM cancel the training
// loop, which finishes the current step and writes a checkpoint.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// config holds the parsed flags.
type config struct {
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
	live                     bool
	screenshot               string
}

// keepOrDefault sets *v to d unless the flag was given on the command line.
func keepOrDefault[T any](given bool, v *T, d T) {
	if !given {
		*v = d
	}
}

// defaults are the tutorials' settings per network.
type defaults struct {
	epochs, batch        int
	lr, momentum, l1, l2 float64
	testFrac             float64
	seed                 uint64
	hidden               int
}

func modelDefaults(model, variant string) defaults {
	switch {
	case model == "normative": // Tutorial 3's train() and seed
		return defaults{epochs: 25, batch: 100, lr: 5e-4, momentum: 0.99, seed: 12}
	case model == "decode" && variant == models.ReLU: // Bonus Section 1: 50 iterations, lr 1e-4, 10 hidden units
		return defaults{epochs: 50, lr: 1e-4, testFrac: 0.4, seed: 4, hidden: 10}
	case model == "decode": // Bonus Section 2.3: 1000 iterations, lr 0.1, L2 1e-2, L1 5e-4, 20 hidden units, 60/40 split
		return defaults{epochs: 1000, lr: 0.1, l2: 1e-2, l1: 5e-4, testFrac: 0.4, seed: 4, hidden: 20}
	default: // encode, Bonus Section 3.2: 200 iterations, lr 2, momentum 0.9, L2 5e-4, L1 1e-6
		return defaults{epochs: 200, lr: 2, momentum: 0.9, l2: 5e-4, l1: 1e-6, seed: 1}
	}
}

const usageText = `usage: train normative|decode|encode [flags]

Trains a Neuromatch tutorial network. Defaults are the tutorials' settings:
  normative  Tutorial 3 CNN: epochs 25, batch 100, lr 5e-4, momentum 0.99, seed 12;
             default data: 1000 gratings at random orientations in (-90°, 90°)
  decode     Bonus DeepNetSoftmax (--model softmax): 1000 full-batch steps, lr 0.1,
             l2 1e-2, l1 5e-4 on in_layer.weight, 20 hidden, 20 classes, test-frac 0.4;
             --model relu (DeepNetReLU, MSE on degrees): 50 steps, lr 1e-4, 10 hidden;
             default data: synthetic V1 responses (data.SyntheticV1), seed 4
  encode     Bonus ConvFC: 200 full-batch steps, lr 2, momentum 0.9, l2 5e-4,
             l1 1e-6 on out_layer.weight; default data: synthetic split V1
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
`

func newFlagSet(c *config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
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
	fs.StringVar(&c.variant, "model", models.Softmax, "decode: softmax (classes, NLL) or relu (degrees, MSE)")
	fs.IntVar(&c.hidden, "hidden", 0, "decode: hidden units (default 20 softmax, 10 relu)")
	fs.IntVar(&c.classes, "classes", 20, "decode softmax: orientation classes")
	fs.IntVar(&c.neurons, "neurons", 0, "decode/encode without --data: synthetic population size (0 = 23589)")
	fs.IntVar(&c.nTrain, "n-train", 1000, "normative without --data: number of training gratings")
	fs.BoolVar(&c.live, "live", false, "show training in a window: conv filters, feature maps, loss curve, steps/s (Vulkan only; needs a binary built with -tags viewer); closing it or Escape stops training like SIGINT, with a checkpoint")
	fs.StringVar(&c.screenshot, "screenshot", "", "with --live: write the last frame to `FILE.png` on exit")
	return fs
}

// usageError is a bad command line (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func parseArgs(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := newFlagSet(c, stderr)
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
		if c.variant != models.Softmax && c.variant != models.ReLU {
			return nil, usageError{fmt.Sprintf("--model %q: want softmax or relu", c.variant)}
		}
	} else {
		c.variant = ""
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	d := modelDefaults(c.model, c.variant)
	keepOrDefault(set["epochs"], &c.epochs, d.epochs)
	keepOrDefault(set["batch"], &c.batch, d.batch)
	keepOrDefault(set["lr"], &c.lr, d.lr)
	keepOrDefault(set["momentum"], &c.momentum, d.momentum)
	keepOrDefault(set["l1"], &c.l1, d.l1)
	keepOrDefault(set["l2"], &c.l2, d.l2)
	keepOrDefault(set["test-frac"], &c.testFrac, d.testFrac)
	keepOrDefault(set["seed"], &c.seed, d.seed)
	keepOrDefault(set["hidden"], &c.hidden, d.hidden)
	switch {
	case c.iters < 0 || c.epochs < 0 || c.batch < 0 || c.checkpointEvery < 0 || c.neurons < 0:
		return nil, usageError{"--iters, --epochs, --batch, --checkpoint-every and --neurons must be ≥ 0"}
	case c.iters == 0 && c.epochs == 0:
		return nil, usageError{"nothing to do: --iters and --epochs are 0"}
	case !(c.lr > 0) || c.momentum < 0 || c.l1 < 0 || c.l2 < 0 || math.IsInf(c.lr, 0):
		return nil, usageError{"--lr must be > 0; --momentum, --l1, --l2 ≥ 0"}
	case !(c.testFrac >= 0 && c.testFrac < 1):
		return nil, usageError{fmt.Sprintf("--test-frac %g: want 0 ≤ f < 1", c.testFrac)}
	case c.model == "normative" && c.testFrac != 0 && set["test-frac"]:
		return nil, usageError{"--test-frac applies to decode and encode; normative tests on 180 gratings"}
	case c.model == "normative" && (c.l1 != 0 || c.l2 != 0):
		return nil, usageError{"--l1/--l2: the normative network has no penalised weight"}
	case c.stimuliPath != "" && c.model != "encode":
		return nil, usageError{"--stimuli applies to encode only"}
	case c.checkpointEvery > 0 && c.checkpointDir == "" && c.resumeDir == "":
		return nil, usageError{"--checkpoint-every needs --checkpoint DIR"}
	case c.initPath != "" && c.resumeDir != "":
		return nil, usageError{"--init and --resume exclude each other (a checkpoint holds the parameters)"}
	case c.backend != "auto" && c.backend != "vulkan" && c.backend != "cpu":
		return nil, usageError{fmt.Sprintf("--backend %q: want auto, vulkan or cpu", c.backend)}
	case c.hidden < 0 || c.classes < 2:
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
	return c, nil
}

// openBackend picks the backend; note says why auto fell back to the CPU.
func openBackend(c *config) (be kernels.Backend, note string, err error) {
	switch c.backend {
	case "cpu":
		return cpu.New(), "", nil
	case "vulkan":
		be, err := vulkan.Open(engine.Options{Device: c.device, AllowCPU: true})
		if err != nil {
			return nil, "", fmt.Errorf("--backend vulkan: %w", err)
		}
		return be, "", nil
	}
	// auto: a real GPU only; a CPU Vulkan driver is slower than the CPU backend.
	be, err = vulkan.Open(engine.Options{Device: c.device})
	if err == nil {
		return be, "", nil
	}
	msg := strings.SplitN(err.Error(), "\n", 2)[0]
	return cpu.New(), "train: using the CPU backend (no Vulkan GPU: " + msg + ")", nil
}

// summary is the --summary JSON.
type summary struct {
	Model        string         `json:"model"`
	Variant      string         `json:"variant,omitempty"`
	Backend      string         `json:"backend"`
	Device       string         `json:"device"`
	Steps        int            `json:"steps"`
	StepsThisRun int            `json:"steps_this_run"`
	TrainSeconds float64        `json:"train_seconds"`
	FinalLoss    jsonFloat      `json:"final_loss"`
	Batch        int            `json:"batch"`
	LR           float64        `json:"lr"`
	Momentum     float64        `json:"momentum"`
	L1           float64        `json:"l1"`
	L2           float64        `json:"l2"`
	Seed         uint64         `json:"seed"`
	TrainSamples int            `json:"train_samples"`
	Data         string         `json:"data"`
	Test         map[string]any `json:"test,omitempty"`
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "train: %v (see train -h)\n", err)
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

func train(ctx context.Context, c *config, stdout, stderr io.Writer) (int, error) {
	// Load and check the data before touching a device, so bad files fail fast.
	job, err := loadJob(c)
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
	} else {
		var note string
		if be, note, err = openBackend(c); err != nil {
			return exitError, err
		}
		if note != "" {
			fmt.Fprintln(stderr, note)
		}
	}
	defer be.Close()
	m, err := job.build(be)
	if err != nil {
		return exitError, err
	}
	defer m.Close()
	if c.initPath != "" {
		if err := m.LoadStateDictFile(c.initPath); err != nil {
			return exitError, err
		}
	}
	if err := m.SetHyper(models.Hyper{LR: float32(c.lr), Momentum: float32(c.momentum), L1: float32(c.l1), L2: float32(c.l2)}); err != nil {
		return exitError, err
	}
	var metrics bytes.Buffer
	metrics.WriteString(models.MetricsHeader)
	tc := models.TrainConfig{Batch: c.batch, Seed: c.seed, CheckpointDir: c.checkpointDir, CheckpointEvery: c.checkpointEvery}
	if c.metricsPath != "" {
		tc.Metrics = &metrics
	}
	tr, err := models.NewTrainer(m, job.train, tc)
	if err != nil {
		return exitError, err
	}
	tr.Config.Steps = c.iters
	if c.iters == 0 {
		tr.Config.Steps = c.epochs * tr.BatchesPerEpoch()
	}
	if c.resumeDir != "" {
		if err := tr.Resume(c.resumeDir); err != nil {
			return exitError, err
		}
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
	if c.metricsPath != "" {
		if err := atomicfile.WriteFile(c.metricsPath, metrics.Bytes(), 0o644); err != nil {
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
	if l := float64(res.FinalLoss); math.IsNaN(l) || math.IsInf(l, 0) {
		fmt.Fprintf(stderr, "train: warning: the loss diverged (%g at step %d); try a smaller --lr\n", l, res.Steps)
	}
	if c.savePath != "" {
		if err := m.SaveStateDict(c.savePath); err != nil {
			return exitError, err
		}
	}
	test, err := job.evaluate(m)
	if err != nil {
		return exitError, err
	}
	s := summary{Model: c.model, Variant: c.variant, Backend: be.Name(), Device: be.Device(),
		Steps: res.Steps, StepsThisRun: res.Ran, TrainSeconds: res.Seconds, FinalLoss: jsonFloat(res.FinalLoss),
		Batch: min(max(c.batch, 0), job.train.S), LR: c.lr, Momentum: c.momentum, L1: c.l1, L2: c.l2, Seed: c.seed,
		TrainSamples: job.train.S, Data: job.source, Test: test}
	if c.batch == 0 {
		s.Batch = job.train.S
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

// checkpointNote says where the checkpoint of a stopped run is.
func checkpointNote(c *config) string {
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
func newProgress(c *config, stderr io.Writer, total, start int) func(step int, loss float32) {
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
