package main

import (
	"fmt"
	"strconv"

	"github.com/vkneuro/vkneuro/bench"
	"github.com/vkneuro/vkneuro/models"
	"github.com/vkneuro/vkneuro/tasks"
)

// workload is one training job: how to generate its data and which
// hyper-parameters both frameworks get.
type workload struct {
	name      string
	gen       []string // gen_data.py arguments besides the workload and --out
	args      []string // training arguments shared by vkneuro train and pytorch_ref.py
	steps     int      // optimiser steps the arguments imply
	fullBatch bool     // deterministic trajectory: losses comparable step by step
	size      string   // short description for the tables
}

// trainArgs are the flags of s that vkneuro train and pytorch_ref.py
// share: --iters when s counts steps, else --epochs. The seed is the
// harness's own (see harness.train).
func trainArgs(s tasks.Settings) []string {
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	steps := []string{"--epochs", strconv.Itoa(s.Epochs)}
	if s.Iters > 0 {
		steps = []string{"--iters", strconv.Itoa(s.Iters)}
	}
	return append(steps, "--batch", strconv.Itoa(s.Batch), "--lr", g(s.LR), "--momentum", g(s.Momentum), "--l1", g(s.L1), "--l2", g(s.L2))
}

// normative is Tutorial 3's training (tasks.DefaultsFor) on gratings in
// batches of batch for epochs.
func normative(gratings, batch, epochs int) workload {
	s := tasks.MustDefaultsFor(tasks.Normative, "").Settings
	s.Batch, s.Epochs = batch, epochs
	perEpoch := (gratings + batch - 1) / batch
	return workload{
		name:  tasks.Normative,
		gen:   []string{"--n", strconv.Itoa(gratings)},
		args:  trainArgs(s),
		steps: perEpoch * epochs,
		size:  fmt.Sprintf("%d gratings, batch %d, %d epoch%s", gratings, batch, epochs, plural(epochs)),
	}
}

// decode is the Bonus tutorial's DeepNetSoftmax training (its lr and
// penalties) for iters full-batch steps.
func decode(stimuli, neurons, iters int) workload {
	return fullBatch(tasks.Decode, tasks.MustDefaultsFor(tasks.Decode, models.DecodeSoftmax).Settings, stimuli, neurons, iters,
		fmt.Sprintf("%d×%d, %d steps", stimuli, neurons, iters))
}

// encode is the Bonus tutorial's ConvFC training for iters full-batch
// steps.
func encode(stimuli, neurons, iters int) workload {
	return fullBatch(tasks.Encode, tasks.MustDefaultsFor(tasks.Encode, "").Settings, stimuli, neurons, iters,
		fmt.Sprintf("%d stimuli → %d neurons, %d steps", stimuli, neurons, iters))
}

// fullBatch is network's workload of iters full-batch steps with the
// settings s on stimuli × neurons generated data.
func fullBatch(network string, s tasks.Settings, stimuli, neurons, iters int, size string) workload {
	s.Iters, s.Batch = iters, 0
	return workload{
		name:      network,
		gen:       []string{"--s", strconv.Itoa(stimuli), "--n", strconv.Itoa(neurons)},
		args:      trainArgs(s),
		steps:     iters,
		fullBatch: true,
		size:      size,
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// variant picks how many steps a workload runs; the shapes are always
// the standard ones.
type variant int

const (
	full      variant = iota // the tutorials' epochs and n_iter
	short                    // --quick: enough steps for a stable per-step time
	cpuVulkan                // the vulkan backend on a CPU driver, slow per step (RESULTS.md): a few steps
)

// spec is a workload at the standard shapes (bench's: the tutorials'
// data) with the number of steps of v.
func spec(name string, v variant) workload {
	switch name {
	case tasks.Normative:
		d := tasks.MustDefaultsFor(tasks.Normative, "")
		return normative(bench.NormativeGratings, d.Batch, [...]int{d.Epochs, 2, 1}[v])
	case tasks.Decode:
		d := tasks.MustDefaultsFor(tasks.Decode, models.DecodeSoftmax)
		return decode(bench.DecodeStimuli, bench.Neurons, [...]int{d.Epochs, 30, 10}[v])
	case tasks.Encode:
		d := tasks.MustDefaultsFor(tasks.Encode, "")
		return encode(bench.EncodeStimuli, bench.Neurons, [...]int{d.Epochs, 10, 3}[v])
	}
	panic("unreachable: workload names are checked in main")
}
