package models

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/internal/atomicfile"
)

// A checkpoint directory holds ckpt-<step>.npz (parameters under
// "param.<name>", momentum buffers under "momentum.<name>") and
// checkpoint.json naming it with the step and the settings that must
// match on resume. Both are written atomically, the .npz first, so the
// JSON always names a complete file; older .npz files are removed after.
const checkpointMetaFile = "checkpoint.json"

type checkpointMeta struct {
	Version int    `json:"version"`
	File    string `json:"file"`
	Step    int    `json:"step"`
	Model   string `json:"model"`
	Variant string `json:"variant,omitempty"`
	// Seed and Step determine the minibatch order from here on.
	Seed     uint64  `json:"seed"`
	Batch    int     `json:"batch"`
	Samples  int     `json:"samples"`
	LR       float32 `json:"lr"`
	Momentum float32 `json:"momentum"`
	L1       float32 `json:"l1"`
	L2       float32 `json:"l2"`
}

func (tr *Trainer) meta() checkpointMeta {
	h := tr.Model.hyper
	return checkpointMeta{Version: 1, Step: tr.step, Model: tr.Model.Name, Variant: tr.Model.Variant,
		Seed: tr.Config.Seed, Batch: tr.batch(), Samples: tr.Data.S,
		LR: h.LR, Momentum: h.Momentum, L1: h.L1, L2: h.L2}
}

// Checkpoint writes the parameters, momentum buffers, step and seed to
// dir (created if needed).
func (tr *Trainer) Checkpoint(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("models: checkpoint: %w", err)
	}
	params, err := tr.Model.StateDict()
	if err != nil {
		return err
	}
	mom, err := tr.Model.Momentum()
	if err != nil {
		return err
	}
	arrays := make(map[string]*data.Array, 2*len(params))
	for k, v := range params {
		arrays["param."+k] = v
	}
	for k, v := range mom {
		arrays["momentum."+k] = v
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

// Resume restores a checkpoint written by Checkpoint. The model, batch
// size, data set size, seed and hyper-parameters must equal the
// checkpoint's (they determine the rest of the run); Config.Steps may
// differ.
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
	if meta.Version != 1 || meta.File == "" || filepath.Base(meta.File) != meta.File {
		return fmt.Errorf("models: resume: %s: not a vkneuro checkpoint (version %d, file %q)", path, meta.Version, meta.File)
	}
	want := tr.meta()
	var diffs []string
	diff := func(what string, got, want any) {
		if got != want {
			diffs = append(diffs, fmt.Sprintf("%s %v (now %v)", what, got, want))
		}
	}
	diff("model", meta.Model, want.Model)
	diff("variant", meta.Variant, want.Variant)
	diff("seed", meta.Seed, want.Seed)
	diff("batch", meta.Batch, want.Batch)
	diff("samples", meta.Samples, want.Samples)
	diff("lr", meta.LR, want.LR)
	diff("momentum", meta.Momentum, want.Momentum)
	diff("l1", meta.L1, want.L1)
	diff("l2", meta.L2, want.L2)
	if len(diffs) > 0 {
		return fmt.Errorf("models: resume: %s was written with %s: use the same settings to continue", path, strings.Join(diffs, ", "))
	}
	arrays, err := data.ReadNPZ(filepath.Join(dir, meta.File))
	if err != nil {
		return fmt.Errorf("models: resume: %w", err)
	}
	params := map[string]*data.Array{}
	mom := map[string]*data.Array{}
	for k, v := range arrays {
		switch {
		case strings.HasPrefix(k, "param."):
			params[strings.TrimPrefix(k, "param.")] = v
		case strings.HasPrefix(k, "momentum."):
			mom[strings.TrimPrefix(k, "momentum.")] = v
		default:
			return fmt.Errorf("models: resume: %s: unexpected key %q", meta.File, k)
		}
	}
	if err := tr.Model.LoadStateDict(params); err != nil {
		return fmt.Errorf("models: resume: %s: %w", meta.File, err)
	}
	if err := tr.Model.LoadMomentum(mom); err != nil {
		return fmt.Errorf("models: resume: %s: %w", meta.File, err)
	}
	tr.step = meta.Step
	tr.Model.t = uint32(meta.Step)
	return nil
}
