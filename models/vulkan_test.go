package models

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/engine/enginetest"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
)

// TestOneSubmitPerStep checks the design promise: a training step is one
// recorded Program, so N steps on Vulkan are N queue submits (the batch
// stays resident and the loss comes back in the step's own submit), also
// with buffers behind a staging buffer as on a discrete GPU. Both memory
// paths run the same pipelines on one device, so their losses must be
// identical.
func TestOneSubmitPerStep(t *testing.T) {
	for _, batch := range []int{0, 5} {
		var unified, staging string
		t.Run(fmt.Sprint("unified/batch=", batch), func(t *testing.T) { unified = testOneSubmitPerStep(t, enginetest.Open(t), batch) })
		t.Run(fmt.Sprint("staging/batch=", batch), func(t *testing.T) { staging = testOneSubmitPerStep(t, enginetest.OpenStaging(t), batch) })
		if unified != staging {
			t.Errorf("batch %d: losses (step,loss,epoch) differ between memory paths:\nunified:\n%s\nstaging:\n%s", batch, unified, staging)
		}
	}
}

// testOneSubmitPerStep trains full-batch (batch 0) or on mini-batches,
// which come from the host every step, and returns the metrics of the
// counted steps.
func testOneSubmitPerStep(t *testing.T, mgr *engine.Manager, batch int) string {
	be, err := vulkan.New(mgr)
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	f := loadFixture(t, "encode")
	m, err := NewEncode(be, 12, 16, 64, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.SetHyper(f.hyper); err != nil {
		t.Fatal(err)
	}
	x, tg := f.arrays["x"], f.arrays["target"]
	d := Dataset{X: x.Data, T: tg.Data, S: x.Shape[0]}
	// The first epoch records the Programs (two with a last, smaller
	// mini-batch) and uploads a full batch.
	epoch, err := NewTrainer(m, d, TrainConfig{Steps: 1, Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	if batch > 0 && d.S%batch == 0 {
		t.Fatalf("fixture of %d samples: choose a batch that leaves a smaller last one", d.S)
	}
	warm, err := NewTrainer(m, d, TrainConfig{Steps: epoch.BatchesPerEpoch(), Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := warm.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	const n = 7
	var metrics strings.Builder
	tr, err := NewTrainer(m, d, TrainConfig{Steps: n, Batch: batch, Metrics: &metrics})
	if err != nil {
		t.Fatal(err)
	}
	before, stats := mgr.Submits(), mgr.Stats()
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := mgr.Submits() - before; got != n {
		t.Errorf("%d training steps made %d queue submits, want %d", n, got, n)
	}
	// Nothing is allocated on the device per step: no buffers, memory,
	// descriptor pools or pipelines.
	if after := mgr.Stats(); after != stats {
		t.Errorf("%d training steps changed the device objects from %+v to %+v", n, stats, after)
	}
	return metrics.String()
}

// TestNormativeRecipeVulkan trains Tutorial 3's recipe on Vulkan. It
// times the first epoch and, if the full 25 epochs would take more than
// 3 minutes (lavapipe on two busy cores: ~0.5–1.2 s per step of 100
// gratings), trains recipeShortEpochs instead; the accuracy bar stays
// ≥ 0.95 either way.
func TestNormativeRecipeVulkan(t *testing.T) {
	if testing.Short() {
		t.Skip("tutorial-sized Vulkan training skipped under -short")
	}
	bk := openVulkan(t)
	r := normativeRecipe(t, bk.be, 180)
	t.Logf("vulkan (%s): %d steps in %.2f s, test accuracy %.3f", bk.be.Device(), r.steps, r.secs, r.acc)
}

// TestLastStepGPUTime checks the device time of a step: reported by a
// Vulkan backend that times its Programs, absent otherwise.
func TestLastStepGPUTime(t *testing.T) {
	kb, err := vulkan.New(enginetest.Open(t))
	if err != nil {
		t.Fatal(err)
	}
	be := kb
	defer be.Close()
	f := loadFixture(t, "encode")
	x, tg := f.arrays["x"], f.arrays["target"]
	for _, timed := range []bool{false, true} {
		be.TimePrograms(timed)
		m, err := NewEncode(be, 12, 16, 64, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.LastStepGPUTime(); ok {
			t.Errorf("timed=%v: a device time before the first step", timed)
		}
		if _, err := m.Step(x.Data, tg.Data); err != nil {
			t.Fatal(err)
		}
		d, ok := m.LastStepGPUTime()
		if ok != timed || (timed && d <= 0) {
			t.Errorf("timed=%v: LastStepGPUTime = %v, %v", timed, d, ok)
		}
		m.Close()
	}
}

// TestOneSubmitPerStepAdamSchedule: under Adam, a learning-rate schedule
// that changes the rate every epoch, and dropout, N steps are still N
// submits of the same recorded Programs: the per-step values ride in the
// step state, nothing is recorded or allocated again.
func TestOneSubmitPerStepAdamSchedule(t *testing.T) {
	for _, batch := range []int{0, 10} {
		t.Run(fmt.Sprint("batch=", batch), func(t *testing.T) {
			mgr := enginetest.OpenStaging(t)
			be, err := vulkan.New(mgr)
			if err != nil {
				t.Fatal(err)
			}
			defer be.Close()
			m, d, sched := customDecode(t, be)
			defer m.Close()
			warm, err := NewTrainer(m, d, TrainConfig{Steps: 8, Batch: batch, Schedule: sched})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := warm.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			progs := map[*recording]bool{}
			for _, g := range m.steps {
				progs[g] = true
			}
			for _, g := range m.feeds {
				progs[g] = true
			}
			const n = 12
			var lrs []float64
			tr, err := NewTrainer(m, d, TrainConfig{Steps: 8 + n, Batch: batch, Schedule: sched,
				Progress: func(int, float32) { lrs = append(lrs, m.LR()) }})
			if err != nil {
				t.Fatal(err)
			}
			tr.step = 8 // continue the schedule where warm left it
			before, stats := mgr.Submits(), mgr.Stats()
			if _, err := tr.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := mgr.Submits() - before; got != n {
				t.Errorf("%d steps made %d queue submits, want %d", n, got, n)
			}
			if after := mgr.Stats(); after != stats {
				t.Errorf("%d steps changed the device objects from %+v to %+v", n, stats, after)
			}
			for _, cache := range []map[int]*recording{m.steps, m.feeds} {
				for _, g := range cache {
					if !progs[g] {
						t.Errorf("batch %d: a step Program was recorded again", g.n)
					}
				}
			}
			changes := 0
			for i := 1; i < len(lrs); i++ {
				if lrs[i] != lrs[i-1] {
					changes++
				}
			}
			if changes == 0 {
				t.Errorf("the learning rate never changed over %d steps: %v", n, lrs)
			}
		})
	}
}

// TestDropoutSameOnBackends: the same network, seeds and data give the
// same dropout masks on the CPU and on Vulkan, step after step (the
// losses follow each other to rounding, which different masks would not
// allow), and the masks change from step to step.
func TestDropoutSameOnBackends(t *testing.T) {
	train := func(be kernels.Backend) []float32 {
		m, d, sched := customDecode(t, be)
		defer m.Close()
		var losses []float32
		tr, err := NewTrainer(m, d, TrainConfig{Steps: 6, Schedule: sched,
			Progress: func(_ int, l float32) { losses = append(losses, l) }})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return losses
	}
	c := cpu.New()
	defer c.Close()
	want := train(c)
	got := train(openVulkan(t).be)
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-5*math.Abs(float64(want[i]))) {
			t.Errorf("step %d: vulkan loss %.9g, cpu %.9g", i+1, got[i], want[i])
		}
	}
	// Masks per step: with one sample the dropped units of two steps of
	// the same weights differ.
	m, d, _ := customDecode(t, c)
	defer m.Close()
	if err := m.SetTraining(Training{Optimizer: Adam(0)}); err != nil { // the weights stay put
		t.Fatal(err)
	}
	l1, _ := m.Step(d.X[:m.InputSize()], d.T[:1])
	l2, _ := m.Step(d.X[:m.InputSize()], d.T[:1])
	if l1 == l2 {
		t.Errorf("two steps at lr 0 gave the same loss %v: the dropout mask did not change", l1)
	}
}
