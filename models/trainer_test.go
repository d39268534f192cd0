package models

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
)

// TestNewTrainerNewData: a second full-batch Trainer on the same model
// with data of the same size trains on its own data, not on what the
// first one left resident on the device.
func TestNewTrainerNewData(t *testing.T) {
	be := cpu.New()
	defer be.Close()
	v := data.SyntheticV1(data.SynthOptions{Neurons: 40, Stimuli: 36, Seed: 3})
	cls := make([]float32, v.S)
	for i, s := range v.Stimuli {
		cls[i] = float32(data.StimulusClass(float64(s), 4))
	}
	a := Dataset{X: v.Resp, T: cls, S: v.S}
	b := Dataset{X: make([]float32, len(v.Resp)), T: make([]float32, len(cls)), S: v.S}
	for i, x := range v.Resp {
		b.X[i] = 30 * x // data B: another scale, so the losses differ far
	}
	for i := range cls {
		b.T[i] = float32((int(cls[i]) + 1) % 4)
	}
	build := func() *Model {
		m, err := NewDecode(be, DecodeSoftmax, v.N, 8, 4, 5)
		if err != nil {
			t.Fatal(err)
		}
		if err := m.SetHyper(Hyper{LR: 0.05}); err != nil {
			t.Fatal(err)
		}
		return m
	}
	step := func(m *Model, d Dataset) float32 {
		var loss float32
		tr, err := NewTrainer(m, d, TrainConfig{Steps: 1, Progress: func(_ int, l float32) { loss = l }})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return loss
	}
	m1 := build()
	defer m1.Close()
	step(m1, a)
	got := step(m1, b) // one step on A, then a new Trainer on B
	m2 := build()
	defer m2.Close()
	step(m2, a)
	want, err := m2.Step(b.X, b.T) // the batch path, which always takes its data
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("second Trainer's first loss %v, want %v (the loss on its own data)", got, want)
	}
	// A Trainer whose fields were changed after NewTrainer checks them again.
	tr, err := NewTrainer(m1, a, TrainConfig{Steps: 1})
	if err != nil {
		t.Fatal(err)
	}
	tr.Data.S = 2
	if _, err := tr.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "training inputs") {
		t.Errorf("Run after changing Data.S: %v", err)
	}
}

// customDecode is a custom decoder under Adam with a cosine schedule,
// dropout and a penalty: every piece of state a resume must restore
// matters (moments, the step count of the bias corrections and of the
// dropout masks, the schedule's epoch).
func customDecode(t *testing.T, be kernels.Backend) (*Model, Dataset, Schedule) {
	t.Helper()
	v := data.SyntheticV1(data.SynthOptions{Neurons: 60, Stimuli: 72, Seed: 3})
	layers, err := ParseArch("Linear(60, 16), ELU(), Dropout(0.3), Linear(16, 8)")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(be, Sequential{Input: []int{v.N}, Layers: layers, Loss: CrossEntropy, Seed: 2, DropoutSeed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SetTraining(Training{Optimizer: Adam(0.01), Penalties: []Penalty{{Param: "0.weight", L1: 1e-4, L2: 1e-3}}}); err != nil {
		t.Fatal(err)
	}
	cls := make([]float32, v.S)
	for i, s := range v.Stimuli {
		cls[i] = float32(data.StimulusClass(float64(s), 8))
	}
	return m, Dataset{X: v.Resp, T: cls, S: v.S}, CosineAnnealingLR(3, 1e-4)
}

// TestResumeCustomBitForBit: a custom network under Adam, a schedule and
// dropout, cut mid-epoch and resumed, follows the uninterrupted run bit
// for bit, and its metrics file, resumed with OpenMetrics after a crash
// that left rows past the checkpoint and a torn line, holds exactly the
// uninterrupted run's rows.
func TestResumeCustomBitForBit(t *testing.T) {
	be := cpu.New()
	defer be.Close()
	const steps, cut = 40, 13 // 72 samples in batches of 10: 8 per epoch
	dir := t.TempDir()
	run := func(m *Model, d Dataset, c TrainConfig, metrics string, resume string) []float32 {
		var losses []float32
		c.Progress = func(_ int, l float32) { losses = append(losses, l) }
		tr, err := NewTrainer(m, d, c)
		if err != nil {
			t.Fatal(err)
		}
		if resume != "" {
			if err := tr.Resume(resume); err != nil {
				t.Fatal(err)
			}
		}
		mf, err := OpenMetrics(metrics, tr.MetricsHeader(), tr.Step())
		if err != nil {
			t.Fatal(err)
		}
		tr.Config.Metrics = mf
		if _, err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := mf.Close(); err != nil {
			t.Fatal(err)
		}
		return losses
	}
	mA, d, sched := customDecode(t, be)
	defer mA.Close()
	allPath := filepath.Join(dir, "all.csv")
	all := run(mA, d, TrainConfig{Steps: steps, Batch: 10, Seed: 7, Schedule: sched}, allPath, "")

	ckpt := filepath.Join(dir, "ckpt")
	cutPath := filepath.Join(dir, "cut.csv")
	mB, _, _ := customDecode(t, be)
	defer mB.Close()
	first := run(mB, d, TrainConfig{Steps: cut, Batch: 10, Seed: 7, Schedule: sched, CheckpointDir: ckpt, CheckpointEvery: 5}, cutPath, "")
	// A crash after the checkpoint: the file has rows the checkpoint
	// does not, and a torn last one.
	f, err := os.OpenFile(cutPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("14,0.5,1\n15,0.4")
	f.Close()
	mC, _, _ := customDecode(t, be)
	defer mC.Close()
	rest := run(mC, d, TrainConfig{Steps: steps, Batch: 10, Seed: 7, Schedule: sched}, cutPath, ckpt)
	if got := append(first, rest...); !slices.Equal(got, all) {
		t.Fatalf("losses after resume differ:\n got %v\nwant %v", got, all)
	}
	sdA, _ := mA.StateDict()
	sdC, _ := mC.StateDict()
	for k := range sdA {
		if !slices.Equal(sdA[k].Data, sdC[k].Data) {
			t.Errorf("%s differs between the resumed and the uninterrupted run", k)
		}
	}
	want, _ := os.ReadFile(allPath)
	got, _ := os.ReadFile(cutPath)
	if string(got) != string(want) {
		t.Errorf("resumed metrics file differs from the uninterrupted run's:\n%s\nwant\n%s", got, want)
	}
	if n := strings.Count(string(want), "\n"); n != steps+1 {
		t.Errorf("metrics file has %d lines, want %d", n, steps+1)
	}

	// Other settings are refused.
	mD, _, _ := customDecode(t, be)
	defer mD.Close()
	if err := mD.SetTraining(Training{Optimizer: AdamW(0.01), Penalties: []Penalty{{Param: "0.weight", L1: 1e-4, L2: 1e-3}}}); err != nil {
		t.Fatal(err)
	}
	tr, _ := NewTrainer(mD, d, TrainConfig{Steps: steps, Batch: 10, Seed: 7, Schedule: sched})
	if err := tr.Resume(ckpt); err == nil || !strings.Contains(err.Error(), "optimizer Adam(") {
		t.Errorf("resume under AdamW: %v", err)
	}
	tr, _ = NewTrainer(mA, d, TrainConfig{Steps: steps, Batch: 10, Seed: 7})
	if err := tr.Resume(ckpt); err == nil || !strings.Contains(err.Error(), "schedule cosine:3:0.0001 (now none)") {
		t.Errorf("resume without the schedule: %v", err)
	}
	// A metrics file that is not this run's is refused, not overwritten.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte(MetricsHeader+"1,0.3,0\n3,0.2,0\n"), 0o644)
	if _, err := OpenMetrics(bad, MetricsHeader, 5); err == nil || !strings.Contains(err.Error(), `row 2 is "3,0.2,0", want step 2`) {
		t.Errorf("OpenMetrics on another run's file: %v", err)
	}
	if _, err := OpenMetrics(filepath.Join(dir, "missing.csv"), MetricsHeader, 5); err == nil || !strings.Contains(err.Error(), "needs the file of the run so far") {
		t.Errorf("OpenMetrics without a file: %v", err)
	}
}
