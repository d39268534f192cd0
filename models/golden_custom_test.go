package models

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
)

// customCase is one case of testdata/models/custom.json, which
// gen_custom_fixtures.py trains in PyTorch.
type customCase struct {
	Name      string `json:"name"`
	Task      string `json:"task"`
	Input     []int  `json:"input"`
	Arch      string `json:"arch"`
	Loss      string `json:"loss"`
	Optimizer struct {
		Kind        string      `json:"kind"`
		LR          float64     `json:"lr"`
		Momentum    float64     `json:"momentum"`
		Dampening   float64     `json:"dampening"`
		Nesterov    bool        `json:"nesterov"`
		Betas       *[2]float64 `json:"betas"`
		Eps         *float64    `json:"eps"`
		WeightDecay *float64    `json:"weight_decay"`
	} `json:"optimizer"`
	Schedule  string `json:"schedule"`
	Penalties []struct {
		Param string  `json:"param"`
		L1    float64 `json:"l1"`
		L2    float64 `json:"l2"`
	} `json:"penalties"`
	Steps int `json:"steps"`
}

func loadCustomCases(t *testing.T) []customCase {
	t.Helper()
	raw, err := os.ReadFile("../testdata/models/custom.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []customCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

// build makes the case's network and training settings from the same
// text PyTorch's script read.
func (c customCase) build(be kernels.Backend) (*Model, Training, Schedule, error) {
	layers, err := ParseArch(c.Arch)
	if err != nil {
		return nil, Training{}, Schedule{}, err
	}
	loss, err := ParseLoss(c.Loss)
	if err != nil {
		return nil, Training{}, Schedule{}, err
	}
	o, err := ParseOptimizer(c.Optimizer.Kind, c.Optimizer.LR)
	if err != nil {
		return nil, Training{}, Schedule{}, err
	}
	o.Momentum, o.Dampening, o.Nesterov = c.Optimizer.Momentum, c.Optimizer.Dampening, c.Optimizer.Nesterov
	if b := c.Optimizer.Betas; b != nil {
		o.Beta1, o.Beta2 = b[0], b[1]
	}
	if e := c.Optimizer.Eps; e != nil {
		o.Eps = *e
	}
	if wd := c.Optimizer.WeightDecay; wd != nil {
		o.WeightDecay = *wd
	}
	tr := Training{Optimizer: o}
	for _, p := range c.Penalties {
		tr.Penalties = append(tr.Penalties, Penalty{Param: p.Param, L1: p.L1, L2: p.L2})
	}
	sched, err := ParseSchedule(c.Schedule)
	if err != nil {
		return nil, Training{}, Schedule{}, err
	}
	m, err := New(be, Sequential{Name: c.Name, Input: c.Input, Layers: layers, Loss: loss})
	return m, tr, sched, err
}

// TestGoldenCustom trains the networks users compose (every layer kind,
// loss, optimizer and schedule) from PyTorch's initial weights, full
// batch, and follows PyTorch's per-step losses and final weights with
// the tolerances of TestGolden.
func TestGoldenCustom(t *testing.T) {
	cases := loadCustomCases(t)
	forEachBackend(t, func(t *testing.T, bk testBackend) {
		for _, c := range cases {
			t.Run(c.Name, func(t *testing.T) { runGoldenCustom(t, bk.be, c) })
		}
	})
}

func runGoldenCustom(t *testing.T, be kernels.Backend, c customCase) {
	arrays, err := data.ReadNPZ("../testdata/models/custom_" + c.Name + ".npz")
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{arrays: arrays}
	m, training, sched, err := c.build(be)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	init := f.dict("init/")
	// The state dict PyTorch's nn.Sequential wrote has exactly our keys
	// and shapes, in order: it loads strictly (LoadStateDict checks).
	if err := m.LoadStateDict(init); err != nil {
		t.Fatal(err)
	}
	if err := m.SetTraining(training); err != nil {
		t.Fatal(err)
	}
	x, tg := f.arrays["x"], f.arrays["target"]
	// Evaluate's loss (host, float64) plus the penalties is PyTorch's
	// first objective.
	ev, err := m.Evaluate(Dataset{X: x.Data, T: tg.Data, S: x.Shape[0]})
	if err != nil {
		t.Fatal(err)
	}
	obj := ev.Loss
	for _, p := range c.Penalties {
		for _, w := range init[p.Param].Data {
			obj += p.L1*math.Abs(float64(w)) + p.L2*float64(w)*float64(w)
		}
	}
	if want := float64(f.arrays["losses"].Data[0]); !(math.Abs(obj-want) <= 1e-5*math.Abs(want)) {
		t.Errorf("Evaluate's loss + penalties %.9g, PyTorch's first objective %.9g", obj, want)
	}
	var losses []float32
	var lrs []float64
	tr, err := NewTrainer(m, Dataset{X: x.Data, T: tg.Data, S: x.Shape[0]}, TrainConfig{
		Steps: c.Steps, Schedule: sched,
		Progress: func(_ int, l float32) { losses = append(losses, l); lrs = append(lrs, m.LR()) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkLosses(t, losses, f.arrays["losses"].Data)
	// The schedule's rates are PyTorch's group['lr'] (float64) exactly;
	// the fixture stores them as float32.
	for i, want := range f.arrays["lrs"].Data {
		if float32(lrs[i]) != want {
			t.Errorf("step %d: learning rate %.9g, PyTorch %.9g", i+1, lrs[i], want)
		}
	}
	got, err := m.StateDict()
	if err != nil {
		t.Fatal(err)
	}
	f32err := f.dict("f32err/")
	final := f.dict("final/")
	if ours := slices.Sorted(slices.Values(m.paramNames())); !slices.Equal(sortedKeys(final), ours) {
		t.Errorf("PyTorch state_dict keys %v, ours %v", sortedKeys(final), ours)
	}
	for k, w := range final {
		if err := closeScaled(got[k].Data, w.Data, weightRTol, f32ErrAllowed*float64(f32err[k].Data[0])); err != nil {
			t.Errorf("final %s: %v", k, err)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
