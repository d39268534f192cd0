package sweep

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/vkneuro/vkneuro/internal/atomicfile"
)

// Dir is a sweep's directory.
type Dir string

// Files of a sweep directory.
func (d Dir) Plan() string    { return filepath.Join(string(d), "sweep.json") }
func (d Dir) Results() string { return filepath.Join(string(d), "results.csv") }
func (d Dir) Best() string    { return filepath.Join(string(d), "best.json") }
func (d Dir) Figure() string  { return filepath.Join(string(d), "sweep.png") }
func (d Dir) Script() string  { return filepath.Join(string(d), "sweep.sbatch") }
func (d Dir) Slurm() string   { return filepath.Join(string(d), "slurm") } // the job id and the tasks' outputs
func (d Dir) runs() string    { return filepath.Join(string(d), "runs") }

// Run is point i's directory.
func (d Dir) Run(i int) Run { return Run(filepath.Join(d.runs(), strconv.Itoa(i))) }

// Run is one point's directory.
type Run string

// Files of a run directory: the first four are train's outputs, Log its
// stdout and stderr, Exit how its last attempt ended.
func (r Run) Summary() string    { return filepath.Join(string(r), "summary.json") }
func (r Run) Metrics() string    { return filepath.Join(string(r), "metrics.csv") }
func (r Run) Model() string      { return filepath.Join(string(r), "model.npz") }
func (r Run) Checkpoint() string { return filepath.Join(string(r), "checkpoint") }
func (r Run) Log() string        { return filepath.Join(string(r), "log.txt") }
func (r Run) Exit() string       { return filepath.Join(string(r), "exit.json") }

// checkpointMeta is train's checkpoint.json, whose step a sweep reads.
func (r Run) checkpointMeta() string { return filepath.Join(r.Checkpoint(), "checkpoint.json") }

// Create makes d for plan p, writing sweep.json; if d already holds a
// sweep it must be the same plan (the rerun then resumes it).
func Create(d Dir, p Plan) error {
	if err := os.MkdirAll(string(d), 0o755); err != nil {
		return fmt.Errorf("--out %s: cannot create the directory: %w", d, err)
	}
	old, err := Load(d)
	switch {
	case err == nil:
		if !old.Equal(p) {
			return fmt.Errorf("%s holds another sweep (task, train flags, grid or data files differ); use another directory, or run `vkneuro sweep --out %s` alone to resume that one", d.Plan(), d)
		}
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	if err := writeJSON(d.Plan(), p); err != nil {
		return fmt.Errorf("--out %s: cannot write in it: %w", d, err)
	}
	return nil
}

// Clear removes every point's directory (for --force, which reruns
// them all from the start); the plan and the tables stay until the
// sweep rewrites them.
func Clear(d Dir) error { return os.RemoveAll(d.runs()) }

// Load reads d's plan; a missing sweep.json is an error satisfying
// errors.Is(err, fs.ErrNotExist).
func Load(d Dir) (Plan, error) {
	b, err := os.ReadFile(d.Plan())
	if err != nil {
		return Plan{}, err
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return Plan{}, fmt.Errorf("%s: %w", d.Plan(), err)
	}
	if err := p.Check(); err != nil {
		return Plan{}, fmt.Errorf("%s: %w", d.Plan(), err)
	}
	return p, nil
}

// readJSON reads path into v; ok is false when path does not exist.
func readJSON(path string, v any) (ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

// writeJSON writes v to path atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}
