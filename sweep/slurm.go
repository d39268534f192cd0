package sweep

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vkneuro/vkneuro/internal/atomicfile"
)

// Slurm runs a sweep's points as one Slurm job array: sbatch submits
// DIR/sweep.sbatch, whose task N runs `vkneuro sweep run-one DIR N`
// (RunPoint on the node). The nodes must see Dir, Exe and the runs'
// input files at the same paths (a shared file system).
type Slurm struct {
	Dir Dir
	Exe string // the vkneuro binary the tasks run
	// Jobs is how many tasks run at once (the array's %P); 0 for as many
	// as the cluster gives (P is then the number of tasks).
	Jobs int
	// Options are more sbatch options (--gres=gpu:1, --time=2:00:00,
	// --partition=gpu), one #SBATCH line each, after the sweep's own so
	// that they override them.
	Options []string
	// Poll is how often Wait asks squeue; 0 means every second.
	Poll time.Duration
}

// jobFile records the id of the sweep's last job.
func (d Dir) jobFile() string { return filepath.Join(d.Slurm(), "job.txt") }

// taskOutput is the output file of job's array task i (the script's
// --output pattern).
func taskOutput(d Dir, job string, i int) string {
	return filepath.Join(d.Slurm(), job+"_"+strconv.Itoa(i)+".out")
}

// lastJob is the id in DIR/slurm/job.txt, "" without one.
func lastJob(d Dir) (string, error) {
	b, err := os.ReadFile(d.jobFile())
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return strings.TrimSpace(string(b)), err
}

// ForgetJob drops the record of the sweep's last Slurm job, whose task
// outputs then no longer describe its points (a local run follows).
func ForgetJob(d Dir) error {
	if err := os.Remove(d.jobFile()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Check reports what would make a bad batch script: a sbatch option
// that is not one, or sets the array the sweep sets, and paths that
// #SBATCH lines cannot hold (Slurm splits them at white space and
// expands % in --output).
func (s Slurm) Check() error {
	for _, o := range s.Options {
		name, _, _ := strings.Cut(o, "=")
		switch {
		case !strings.HasPrefix(o, "-") || strings.ContainsAny(o, "\n\r"):
			return fmt.Errorf("--slurm-opt %q: want one sbatch option, e.g. --slurm-opt=--time=1:00:00", o)
		case name == "--array" || name == "-a":
			return fmt.Errorf("--slurm-opt %q: the sweep sets the job array (--jobs sets its limit)", o)
		}
	}
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	for _, p := range []string{string(s.Dir), cwd} {
		if strings.ContainsAny(p, " \t\n\r%") {
			return fmt.Errorf("--runner slurm: the path %q holds white space or %%, which #SBATCH lines cannot hold; use another directory", p)
		}
	}
	return nil
}

// Script is the batch script of a job array over points indices (sorted,
// distinct, not empty): every point of a fresh sweep gives
// --array=0-(K-1)%P.
func (s Slurm) Script(indices []int) (string, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	array := indexRanges(indices) + "%" + strconv.Itoa(cmp.Or(s.Jobs, len(indices)))
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString("# A vkneuro sweep's job array: task N runs point N of the sweep in " + string(s.Dir) + "\n")
	b.WriteString("# (its files in runs/N/), from the directory the sweep was started in.\n")
	for _, o := range append([]string{"--job-name=vkneuro-sweep", "--array=" + array,
		"--output=" + filepath.Join(s.Dir.Slurm(), "%A_%a.out"), "--chdir=" + cwd}, s.Options...) {
		b.WriteString("#SBATCH " + o + "\n")
	}
	b.WriteString("exec " + shellJoin([]string{s.Exe, "sweep", "run-one", string(s.Dir)}) + ` "$SLURM_ARRAY_TASK_ID"` + "\n")
	return b.String(), nil
}

// Submit writes DIR/sweep.sbatch for points indices, submits it with
// sbatch and returns the job id, which it also records in
// DIR/slurm/job.txt for Active and Collect. The tasks' own outputs go
// to DIR/slurm/<job>_<point>.out; each run's to its log.txt. It takes
// no context: a submission cut short by an interruption could leave a
// job whose id the sweep never learns, while a whole one is cancelled
// by Wait.
func (s Slurm) Submit(indices []int) (string, error) {
	if len(indices) == 0 || s.Jobs < 0 || s.Exe == "" {
		return "", fmt.Errorf("sweep: Slurm submit of %d points, %d jobs, binary %q", len(indices), s.Jobs, s.Exe)
	}
	script, err := s.Script(indices)
	if err != nil {
		return "", err
	}
	// sbatch does not create the output's directory: without it every
	// task would fail before running.
	if err := os.MkdirAll(s.Dir.Slurm(), 0o755); err != nil {
		return "", err
	}
	if err := atomicfile.WriteFile(s.Dir.Script(), []byte(script), 0o755); err != nil {
		return "", err
	}
	out, err := slurmCommand("sbatch", "--parsable", s.Dir.Script())
	if err != nil {
		return "", err
	}
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";") // "id" or "id;cluster"
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", fmt.Errorf("sbatch printed %q, want a job id", out)
	}
	return id, atomicfile.WriteFile(s.Dir.jobFile(), []byte(id+"\n"), 0o644)
}

// Active returns the sweep's last job id if that job still has tasks
// queued or running, else "": a second sweep on the same directory must
// not run points that job runs.
func Active(d Dir) (string, error) {
	id, err := lastJob(d)
	if err != nil || id == "" {
		return "", err
	}
	n, err := queued(id)
	if err != nil || n == 0 {
		return "", err
	}
	return id, nil
}

// Wait returns when job id has no task queued or running, calling tick
// after each look (every s.Poll). When ctx is cancelled it cancels the
// tasks that have not started and sends SIGINT to the running ones
// (their runs checkpoint and exit 130), keeps waiting until they have
// exited, and returns ctx's error.
func (s Slurm) Wait(ctx context.Context, id string, tick func()) error {
	poll := s.Poll
	if poll <= 0 {
		poll = time.Second
	}
	done := ctx.Done()
	for {
		n, err := queued(id)
		if err != nil {
			return err
		}
		tick()
		if n == 0 {
			return ctx.Err()
		}
		select {
		case <-done:
			done = nil // cancel once, then wait for the tasks to exit
			// Pending tasks first, so none starts after the signal.
			if _, err := slurmCommand("scancel", "--state=PENDING", id); err != nil {
				return err
			}
			if _, err := slurmCommand("scancel", "--full", "--signal=INT", id); err != nil {
				return err
			}
		case <-time.After(poll):
		}
	}
}

// queued counts job id's tasks that squeue lists (pending, running or
// completing); a job Slurm no longer knows has none.
func queued(id string) (int, error) {
	out, err := slurmCommand("squeue", "--noheader", "--jobs="+id, "--format=%i")
	if err != nil {
		if strings.Contains(err.Error(), "Invalid job id") {
			return 0, nil
		}
		return 0, err
	}
	return len(strings.Fields(out)), nil
}

// slurmCommand runs a Slurm client and returns its stdout; its error
// says the command and what it printed on stderr. It takes no context:
// after an interruption the sweep must still cancel its tasks and wait
// for them.
func slurmCommand(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %v: %s", shellJoin(append([]string{name}, args...)), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
