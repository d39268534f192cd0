package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes, the same for every subcommand.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130 // 128 + SIGINT, as a shell reports it
)

// subcommand is one of vkneuro's programs.
type subcommand struct {
	name, args, summary string
	// run is the subcommand given its arguments (flags included); ctx is
	// cancelled by SIGINT and SIGTERM.
	run func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// subcommands are listed by "vkneuro help" in this order.
var subcommands = []subcommand{
	{"train", "normative|decode|encode [flags]", "train a tutorial network and write metrics, a summary, checkpoints and its state_dict", trainMain},
	{"report", "--out DIR [flags]", "compare the normative CNN's hidden layers with V1: figures, summary.json, index.html", reportMain},
	{"devices", "[flags]", "list the Vulkan devices and the one vkneuro would choose; -peak measures its FP32 peak", devicesMain},
	{"sweep", "--grid FLAG=V1,V2,... [--data-glob 'DIR/*.npz'] --out DIR [--runner local|slurm] [--jobs N] [flags] -- train TASK [train flags]", "train a grid of train flags (and data files), locally or as a Slurm job array: results.csv, best.json, sweep.png", sweepMain},
	{"v1sim", "--out FILE.npz [--split FILE.npz] [flags]", "write a SYNTHETIC V1 data set in the Stringer file formats", v1simMain},
}

// run is main without os.Exit: it picks the subcommand. SIGINT and
// SIGTERM cancel its context (train finishes the step in progress and
// checkpoints).
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" {
			// vkneuro help CMD is vkneuro CMD -h, on stdout.
			if sc := find(args[1]); sc != nil {
				return sc.run(context.Background(), []string{"-h"}, stdout, stdout)
			}
			fmt.Fprintf(stderr, "vkneuro help %s: unknown command; run 'vkneuro help'\n", args[1])
			return exitUsage
		}
		usage(stdout)
		return exitOK
	}
	sc := find(args[0])
	if sc == nil {
		fmt.Fprintf(stderr, "vkneuro: unknown command %q; run 'vkneuro help' for the list\n", args[0])
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return sc.run(ctx, args[1:], stdout, stderr)
}

func find(name string) *subcommand {
	for i := range subcommands {
		if subcommands[i].name == name {
			return &subcommands[i]
		}
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprint(w, "vkneuro trains the Neuromatch deep-learning tutorials' networks on Vulkan or the CPU and analyses them.\n\nUsage:\n\n")
	for _, sc := range subcommands {
		fmt.Fprintf(w, "\tvkneuro %s %s\n", sc.name, sc.args)
	}
	fmt.Fprint(w, "\nCommands:\n\n")
	for _, sc := range subcommands {
		fmt.Fprintf(w, "\t%-8s %s\n", sc.name, sc.summary)
	}
	fmt.Fprint(w, "\nRun 'vkneuro help COMMAND' or 'vkneuro COMMAND -h' for its flags.\n")
}

// usageError is a bad command line (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }
