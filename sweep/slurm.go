package sweep

import (
	"bytes"
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

// Slurm runs a sweep's points as one Slurm job array: sbatch submits a
// script whose task N runs Task with --point N, which runs RunPoint on
// the node. The nodes must see Dir, Task's binary and the runs' input
// files at the same paths (a shared file system).
type Slurm struct {
	Dir Dir
	// Task is the command of every array task, without the point (the
	// script appends --point "$SLURM_ARRAY_TASK_ID").
	Task []string
	// Jobs is how many tasks run at once (the array's %N limit), 0 for
	// as many as the cluster gives; Threads the CPUs of each task
	// (--cpus-per-task), at least 1.
	Jobs, Threads int
	// Sbatch are more sbatch options (partition, time, account), passed
	// as given after the sweep's own, so they can override them.
	Sbatch []string
	// Poll is how often Wait asks squeue; 0 means every second.
	Poll time.Duration
}

// Files of DIR/slurm.
func (s Slurm) script() string  { return filepath.Join(s.Dir.Slurm(), "sweep.sbatch") }
func (s Slurm) jobFile() string { return filepath.Join(s.Dir.Slurm(), "job.txt") }

// Submit submits points indices (sorted, distinct, not empty) as one
// job array and returns its job id, which it also records in
// DIR/slurm/job.txt for Active. The tasks' own outputs go to
// DIR/slurm/<job>_<point>.out; each run's to its log.txt. It takes no
// context: a submission cut short by an interruption could leave a job
// whose id the sweep never learns, while a whole one is cancelled by
// Wait.
func (s Slurm) Submit(indices []int) (string, error) {
	if len(indices) == 0 || s.Threads < 1 || s.Jobs < 0 || len(s.Task) == 0 {
		return "", fmt.Errorf("sweep: Slurm submit of %d points with %d threads, %d jobs, task %q", len(indices), s.Threads, s.Jobs, s.Task)
	}
	if err := os.MkdirAll(s.Dir.Slurm(), 0o755); err != nil {
		return "", err
	}
	script := "#!/bin/sh\n# A vkneuro sweep's job array: task N runs point N of the sweep in " + string(s.Dir) + ".\nexec " +
		shellJoin(s.Task) + ` --point "$SLURM_ARRAY_TASK_ID"` + "\n"
	if err := atomicfile.WriteFile(s.script(), []byte(script), 0o755); err != nil {
		return "", err
	}
	cwd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	array := indexRanges(indices)
	if s.Jobs > 0 {
		array += "%" + strconv.Itoa(s.Jobs)
	}
	args := append([]string{"--parsable", "--job-name=vkneuro-sweep", "--array=" + array,
		"--cpus-per-task=" + strconv.Itoa(s.Threads), "--output=" + filepath.Join(s.Dir.Slurm(), "%A_%a.out"),
		"--chdir=" + cwd}, s.Sbatch...)
	out, err := slurmCommand("sbatch", append(args, s.script())...)
	if err != nil {
		return "", err
	}
	id, _, _ := strings.Cut(strings.TrimSpace(out), ";") // "id" or "id;cluster"
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return "", fmt.Errorf("sbatch printed %q, want a job id", out)
	}
	return id, atomicfile.WriteFile(s.jobFile(), []byte(id+"\n"), 0o644)
}

// Active returns the job id recorded in DIR/slurm/job.txt if that job
// still has tasks queued or running, else "": a second sweep on the
// same directory must not run points that job runs.
func (s Slurm) Active() (string, error) {
	b, err := os.ReadFile(s.jobFile())
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(string(b))
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
