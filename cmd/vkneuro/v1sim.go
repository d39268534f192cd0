package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/vkneuro/vkneuro/data"
)

// v1simMain is the v1sim subcommand: a bad command line exits 2, a file
// that cannot be written 1.
func v1simMain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	err := v1sim(args, stdout, stderr)
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "v1sim:", err)
		return exitUsage
	case errors.As(err, new(flagError)):
		return exitUsage // the flag package has printed the problem
	}
	fmt.Fprintln(stderr, "v1sim:", err)
	return exitError
}

// flagError is an error the flag package has already printed.
type flagError struct{ error }

// maxValues bounds stimuli × neurons so that a typo cannot exhaust memory
// (2^28 float32 values are 1 GiB; the default set is 8.5 million).
const maxValues = 1 << 28

func v1sim(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("v1sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: vkneuro v1sim -out v1.npz [-split v1split.npz] [-neurons N] [-seed S]
                     [-noise 1] [-stimuli 360] [-split-stimuli 60]

Writes SYNTHETIC V1 data (data.SyntheticV1: a model population of orientation-
and direction-tuned neurons, not a recording) in the Stringer file formats, with
a "synthetic" key. At least one of -out and -split is required.

flags:
`)
		fs.PrintDefaults()
	}
	out := fs.String("out", "", "write the 1° binned file (keys resp, stimuli) to this .npz path")
	split := fs.String("split", "", "write the split file (keys resp_train, resp_test, stimuli) to this .npz path")
	neurons := fs.Int("neurons", data.DefaultNeurons, "number of neurons")
	seed := fs.Int64("seed", 1, "random seed; equal flags give equal files")
	noise := fs.Float64("noise", 1, "single-trial noise s.d. relative to tuning amplitude; 0 for noiseless")
	stimuli := fs.Int("stimuli", data.DefaultStimuli, "orientation bins in the -out file")
	splitStimuli := fs.Int("split-stimuli", data.DefaultSplitStimuli, "orientation bins in the -split file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return flagError{err}
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("unexpected argument %q; all options are flags", fs.Arg(0))}
	case *out == "" && *split == "":
		return usageError{"nothing to write: give -out and/or -split"}
	case *out != "" && *out == *split:
		return usageError{fmt.Sprintf("-out and -split name the same file %q", *out)}
	case *neurons < 1:
		return usageError{fmt.Sprintf("-neurons %d: want at least 1", *neurons)}
	case *stimuli < 1 || *splitStimuli < 1:
		return usageError{fmt.Sprintf("-stimuli %d, -split-stimuli %d: want at least 1", *stimuli, *splitStimuli)}
	case *noise < 0 || *noise != *noise:
		return usageError{fmt.Sprintf("-noise %v: want a value ≥ 0", *noise)}
	}
	for _, s := range []int{*stimuli, *splitStimuli} {
		if int64(s)*int64(*neurons) > maxValues {
			return usageError{fmt.Sprintf("%d stimuli × %d neurons exceeds %d values", s, *neurons, maxValues)}
		}
	}
	opt := data.SynthOptions{Neurons: *neurons, Seed: *seed, Noise: *noise}
	if *noise == 0 {
		opt.Noise = -1 // SynthOptions reads 0 as the default and < 0 as none
	}
	if *out != "" {
		o := opt
		o.Stimuli = *stimuli
		v := data.SyntheticV1(o)
		if err := data.SaveV1(*out, v); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: SYNTHETIC V1 data, resp [%d %d], stimuli [%d] (seed %d, noise %g)\n", *out, v.S, v.N, v.S, *seed, *noise)
	}
	if *split != "" {
		o := opt
		o.Stimuli = *splitStimuli
		v := data.SyntheticV1Split(o)
		if err := data.SaveV1Split(*split, v); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s: SYNTHETIC V1 split data, resp_train/resp_test [%d %d], stimuli [%d] (seed %d, noise %g)\n", *split, v.S, v.N, v.S, *seed, *noise)
	}
	return nil
}
