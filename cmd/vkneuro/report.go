package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "report:", err)
		}
		os.Exit(1)
	}
}

// config holds the command-line settings.
type config struct {
	modelPath, v1Path, out, backend, device, metricsPath string
	seed                                                 int64

	synthNeurons, synthStimuli int

	trainSamples, epochs, batch int
	lr, momentum                float64

	decodeSteps, decodeHidden, decodeClasses int
	decodeLR, decodeL2, decodeL1             float64

	tsneIterations int
	tuningUnits    int
}

// The hooks let tests run on the Vulkan manager shared by the process
// (enginetest.Open) instead of opening a device per run.
var (
	// openEngine opens a Vulkan device.
	openEngine = engine.Open
	// closeEngine releases what openEngine opened.
	closeEngine = func(m *engine.Manager) error { return m.Close() }
)

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.modelPath, "model", "", "normative CNN state_dict `FILE.npz` (keys conv/fc/out .weight/.bias); empty: train one with the tutorial's recipe")
	fs.StringVar(&c.v1Path, "v1", "", "V1 responses `FILE.npz` in the Stringer oribinned1 format (resp [S,N], stimuli [S]); empty: synthetic data")
	fs.StringVar(&c.out, "out", "", "output `DIR` (created if absent)")
	fs.StringVar(&c.backend, "backend", "auto", "compute backend: auto (Vulkan on a real GPU, else CPU), cpu or vulkan (any device, lavapipe included)")
	fs.StringVar(&c.device, "device", "", "Vulkan device index or name substring (default: VKNEURO_DEVICE, then the best by type)")
	fs.StringVar(&c.metricsPath, "metrics", "", "training-loss `FILE.csv` (step,loss,epoch, as cmd/train writes) to plot")
	fs.Int64Var(&c.seed, "seed", 12, "seed of the synthetic V1 data, network initialisation, training order, decoder and sample units")
	fs.IntVar(&c.synthNeurons, "synthetic-neurons", data.DefaultNeurons, "neurons of the synthetic V1 data")
	fs.IntVar(&c.synthStimuli, "synthetic-stimuli", data.DefaultStimuli, "orientation bins of the synthetic V1 data over [0°,360°)")
	fs.IntVar(&c.trainSamples, "train-samples", 1000, "gratings in the training set when training on the fly")
	fs.IntVar(&c.epochs, "epochs", 25, "training epochs when training on the fly")
	fs.IntVar(&c.batch, "batch", 100, "minibatch size when training on the fly")
	fs.Float64Var(&c.lr, "lr", 5e-4, "SGD learning rate when training on the fly")
	fs.Float64Var(&c.momentum, "momentum", 0.99, "SGD momentum when training on the fly")
	fs.IntVar(&c.decodeSteps, "decode-steps", 300, "full-batch gradient steps of the V1 orientation decoder (0: no decoder)")
	fs.IntVar(&c.decodeHidden, "decode-hidden", 20, "hidden units of the decoder")
	fs.IntVar(&c.decodeClasses, "decode-classes", 20, "orientation classes of the decoder")
	fs.Float64Var(&c.decodeLR, "decode-lr", 0.1, "decoder learning rate")
	fs.Float64Var(&c.decodeL2, "decode-l2", 1e-2, "decoder L2 penalty on in_layer.weight")
	fs.Float64Var(&c.decodeL1, "decode-l1", 5e-4, "decoder L1 penalty on in_layer.weight")
	fs.IntVar(&c.tsneIterations, "tsne-iterations", 1000, "t-SNE gradient steps")
	fs.IntVar(&c.tuningUnits, "tuning-units", 3, "sample neurons/units per tuning-curve panel")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q (flags only)", fs.Args())
	}
	var bad []string
	check := func(ok bool, msg string, a ...any) {
		if !ok {
			bad = append(bad, fmt.Sprintf(msg, a...))
		}
	}
	check(c.out != "", "--out is required")
	check(c.backend == "auto" || c.backend == "cpu" || c.backend == "vulkan", "--backend %q, want auto, cpu or vulkan", c.backend)
	check(c.synthNeurons >= 2, "--synthetic-neurons %d, want ≥ 2", c.synthNeurons)
	check(c.synthStimuli >= 8, "--synthetic-stimuli %d, want ≥ 8", c.synthStimuli)
	check(c.trainSamples >= 1, "--train-samples %d, want ≥ 1", c.trainSamples)
	check(c.epochs >= 1, "--epochs %d, want ≥ 1", c.epochs)
	check(c.batch >= 1, "--batch %d, want ≥ 1", c.batch)
	check(c.lr > 0 && c.momentum >= 0 && c.momentum < 1, "--lr %g, --momentum %g: want lr > 0 and 0 ≤ momentum < 1", c.lr, c.momentum)
	check(c.decodeSteps >= 0, "--decode-steps %d, want ≥ 0", c.decodeSteps)
	check(c.decodeHidden >= 1 && c.decodeClasses >= 2, "--decode-hidden %d, --decode-classes %d: want ≥ 1 and ≥ 2", c.decodeHidden, c.decodeClasses)
	check(c.decodeLR > 0 && c.decodeL2 >= 0 && c.decodeL1 >= 0, "decoder lr %g, l2 %g, l1 %g: want lr > 0, penalties ≥ 0", c.decodeLR, c.decodeL2, c.decodeL1)
	check(c.tsneIterations >= 300, "--tsne-iterations %d, want ≥ 300 (250 are early exaggeration)", c.tsneIterations)
	check(c.tuningUnits >= 1, "--tuning-units %d, want ≥ 1", c.tuningUnits)
	if len(bad) > 0 {
		return nil, errors.New(strings.Join(bad, "; "))
	}
	return c, nil
}

// run is the whole command: parse args, compute, write DIR.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	be, release, err := openBackend(c, stderr)
	if err != nil {
		return err
	}
	rerr := generate(ctx, c, be, stdout, stderr)
	return errors.Join(rerr, release())
}

// openBackend opens the backend --backend names. auto uses Vulkan only on
// a device that is not a CPU driver: on lavapipe the CPU backend is faster.
func openBackend(c *config, stderr io.Writer) (kernels.Backend, func() error, error) {
	if c.backend == "cpu" {
		be := cpu.New()
		return be, be.Close, nil
	}
	m, err := openEngine(engine.Options{Device: c.device, AllowCPU: c.backend == "vulkan"})
	if err != nil {
		if c.backend == "vulkan" {
			return nil, nil, fmt.Errorf("--backend vulkan: %w", err)
		}
		fmt.Fprintf(stderr, "report: using the CPU backend (no Vulkan GPU: %s)\n", strings.SplitN(err.Error(), "\n", 2)[0])
		be := cpu.New()
		return be, be.Close, nil
	}
	be, err := vulkan.New(m)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("--backend %s: %w", c.backend, err), closeEngine(m))
	}
	return be, func() error { return errors.Join(be.Close(), closeEngine(m)) }, nil
}
