package models

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/internal/atomicfile"
	"github.com/vkneuro/vkneuro/kernels"
)

// A checkpoint directory holds ckpt-<step>.npz (parameters under
// "param.<name>", SGD momentum buffers or Adam's first moments under
// "momentum.<name>", Adam's second moments under "exp_avg_sq.<name>")
// and checkpoint.json naming it with the step, the optimizer's step
// count and the settings that must match on resume. Both are written
// atomically, the .npz first, so the JSON always names a complete file;
// older .npz files are removed after.
const checkpointMetaFile = "checkpoint.json"

// checkpointVersion 2 records the network and the training settings as
// text; version 1 (SGD only) is still read.
const checkpointVersion = 2

type checkpointMeta struct {
	Version int    `json:"version"`
	File    string `json:"file"`
	Step    int    `json:"step"`
	Model   string `json:"model"`
	Variant string `json:"variant,omitempty"`
	Arch    string `json:"arch,omitempty"`
	// Seed and Step determine the minibatch order from here on.
	Seed    uint64 `json:"seed"`
	Batch   int    `json:"batch"`
	Samples int    `json:"samples"`
	// OptimizerSteps is torch.optim's step count (Adam's bias
	// corrections, dropout masks).
	OptimizerSteps int       `json:"optimizer_steps"`
	Optimizer      string    `json:"optimizer,omitempty"`
	Penalties      []Penalty `json:"penalties,omitempty"`
	Schedule       string    `json:"schedule,omitempty"`
	DropoutSeed    uint64    `json:"dropout_seed,omitempty"`
	// Version 1: SGD's settings and the preset's penalties.
	LR       float32 `json:"lr,omitempty"`
	Momentum float32 `json:"momentum,omitempty"`
	L1       float32 `json:"l1,omitempty"`
	L2       float32 `json:"l2,omitempty"`
}

func (tr *Trainer) meta() checkpointMeta {
	m := tr.Model
	return checkpointMeta{Version: checkpointVersion, Step: tr.step, Model: m.Name, Variant: m.Variant, Arch: m.Arch(),
		Seed: tr.Config.Seed, Batch: tr.batch(), Samples: tr.Data.S, OptimizerSteps: int(m.t),
		Optimizer: m.training.Optimizer.String(), Penalties: m.training.Penalties,
		Schedule: tr.Config.Schedule.String(), DropoutSeed: m.dropoutSeed}
}

// upgrade fills a version 1 checkpoint's fields in version 2's terms: it
// trained the preset m with SGD and L1/L2 on m.Penalized, and its
// optimizer had taken one step per training step.
func (meta *checkpointMeta) upgrade(m *Model, schedule Schedule) {
	o := SGD(float64(meta.LR))
	o.Momentum = float64(meta.Momentum)
	meta.Optimizer = o.String()
	meta.Penalties = nil
	if meta.L1 != 0 || meta.L2 != 0 {
		meta.Penalties = []Penalty{{Param: m.Penalized, L1: float64(meta.L1), L2: float64(meta.L2)}}
	}
	meta.Arch, meta.Schedule, meta.OptimizerSteps = m.Arch(), schedule.String(), meta.Step
}

// Checkpoint writes the parameters, optimizer state, step and seed to
// dir (created if needed).
func (tr *Trainer) Checkpoint(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("models: checkpoint: %w", err)
	}
	m := tr.Model
	arrays := map[string]*data.Array{}
	for prefix, which := range optimizerArrays {
		if prefix == "exp_avg_sq." && m.training.Optimizer.Kind == OptSGD {
			continue
		}
		sd, err := m.download(which)
		if err != nil {
			return err
		}
		for k, v := range sd {
			arrays[prefix+k] = v
		}
	}
	meta := tr.meta()
	meta.File = fmt.Sprintf("ckpt-%09d.npz", tr.step)
	if err := data.WriteNPZ(filepath.Join(dir, meta.File), arrays); err != nil {
		return fmt.Errorf("models: checkpoint: %w", err)
	}
	js, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return fmt.Errorf("models: checkpoint: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, checkpointMetaFile), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("models: checkpoint: %w", err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "ckpt-*.npz"))
	for _, f := range old {
		if filepath.Base(f) != meta.File {
			os.Remove(f) // a stale older checkpoint left behind is harmless
		}
	}
	return nil
}

// optimizerArrays are the tensors a checkpoint holds, by key prefix.
var optimizerArrays = map[string]func(*Param) *kernels.Tensor{
	"param.":      func(p *Param) *kernels.Tensor { return p.Value },
	"momentum.":   func(p *Param) *kernels.Tensor { return p.Buf },
	"exp_avg_sq.": func(p *Param) *kernels.Tensor { return p.Buf2 },
}

// Resume restores a checkpoint written by Checkpoint. The network, batch
// size, data set size, seed, optimizer, penalties and schedule must
// equal the checkpoint's (they determine the rest of the run);
// Config.Steps may differ.
func (tr *Trainer) Resume(dir string) error {
	path := filepath.Join(dir, checkpointMetaFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("models: resume: %w", err)
	}
	var meta checkpointMeta
	if err := json.Unmarshal(raw, &meta); err != nil {
		return fmt.Errorf("models: resume: %s: %w", path, err)
	}
	if meta.Version < 1 || meta.Version > checkpointVersion || meta.File == "" || filepath.Base(meta.File) != meta.File {
		return fmt.Errorf("models: resume: %s: not a vkneuro checkpoint (version %d, file %q)", path, meta.Version, meta.File)
	}
	m := tr.Model
	if meta.Version == 1 {
		meta.upgrade(m, tr.Config.Schedule)
	}
	want := tr.meta()
	var diffs []string
	diff := func(what string, got, want any) {
		if !reflect.DeepEqual(got, want) {
			diffs = append(diffs, fmt.Sprintf("%s %v (now %v)", what, got, want))
		}
	}
	diff("model", meta.Model, want.Model)
	diff("variant", meta.Variant, want.Variant)
	diff("network", meta.Arch, want.Arch)
	diff("seed", meta.Seed, want.Seed)
	diff("batch", meta.Batch, want.Batch)
	diff("samples", meta.Samples, want.Samples)
	diff("optimizer", meta.Optimizer, want.Optimizer)
	diff("penalties", fmt.Sprint(meta.Penalties), fmt.Sprint(want.Penalties))
	diff("schedule", meta.Schedule, want.Schedule)
	diff("dropout seed", meta.DropoutSeed, want.DropoutSeed)
	if len(diffs) > 0 {
		return fmt.Errorf("models: resume: %s was written with %s: use the same settings to continue", path, strings.Join(diffs, ", "))
	}
	arrays, err := data.ReadNPZ(filepath.Join(dir, meta.File))
	if err != nil {
		return fmt.Errorf("models: resume: %w", err)
	}
	dicts := map[string]map[string]*data.Array{}
	for k, v := range arrays {
		prefix, name, ok := strings.Cut(k, ".")
		if _, known := optimizerArrays[prefix+"."]; !ok || !known {
			return fmt.Errorf("models: resume: %s: unexpected key %q", meta.File, k)
		}
		if dicts[prefix+"."] == nil {
			dicts[prefix+"."] = map[string]*data.Array{}
		}
		dicts[prefix+"."][name] = v
	}
	adam := m.training.Optimizer.Kind != OptSGD
	for prefix := range optimizerArrays {
		sd := dicts[prefix]
		if prefix == "exp_avg_sq." && !adam {
			if sd != nil {
				return fmt.Errorf("models: resume: %s: second moments for an SGD run", meta.File)
			}
			continue
		}
		if err := m.checkDict(sd); err != nil {
			return fmt.Errorf("models: resume: %s: %w (%s)", meta.File, err, strings.TrimSuffix(prefix, "."))
		}
	}
	if adam {
		if err := m.ResetOptimizer(); err != nil { // allocates the second moments
			return err
		}
	}
	for prefix, which := range optimizerArrays {
		if sd := dicts[prefix]; sd != nil {
			if err := m.uploadDict(sd, which); err != nil {
				return fmt.Errorf("models: resume: %s: %w", meta.File, err)
			}
		}
	}
	tr.step = meta.Step
	m.t = uint32(meta.OptimizerSteps)
	return nil
}
