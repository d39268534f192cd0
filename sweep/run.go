package sweep

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/vkneuro/vkneuro/internal/atomicfile"
)

// Exit is how a run's attempt ended, as exit.json records it.
type Exit struct {
	Code   int    `json:"exit_code"`        // -1 when a signal ended it
	Signal string `json:"signal,omitempty"` // that signal's name
}

// Interrupted reports an attempt that SIGINT or SIGTERM stopped: train
// exits 130 after checkpointing, or the signal came before train had
// installed its handler.
func (e Exit) Interrupted() bool {
	return e.Code == 130 || e.Signal == "interrupt" || e.Signal == "terminated"
}

func (e Exit) String() string {
	if e.Signal != "" {
		return "killed by signal " + e.Signal
	}
	return "exit status " + strconv.Itoa(e.Code)
}

// Outcome is what RunPoint did.
type Outcome struct {
	Skipped bool // the point had its summary already: nothing ran
	Resumed bool // the run continued from its checkpoint
	Exit         // how it ended, when it ran
}

// RunPoint runs point i of plan p in its directory under d, as the
// child process `exe train ...` (exe: the vkneuro binary) with its
// output appended to log.txt, and records how it ended in exit.json. A
// point with a summary.json is done and is skipped; one with a
// checkpoint resumes from it. env are variables added to the child's
// environment (Env: its threads and its device). When ctx
// is cancelled the child gets SIGINT (train finishes its step, writes
// its checkpoint and exits 130) and RunPoint returns once it has
// exited. A non-nil error means the run could not be started or its
// record written; a run that fails is an Outcome, not an error.
func RunPoint(ctx context.Context, exe string, d Dir, p Plan, i int, env []string) (Outcome, error) {
	if i < 0 || i >= p.Len() {
		return Outcome{}, fmt.Errorf("point %d: the sweep in %s has points 0 to %d", i, d, p.Len()-1)
	}
	r := d.Run(i)
	if _, err := os.Stat(r.Summary()); err == nil {
		return Outcome{Skipped: true}, nil
	}
	if err := ctx.Err(); err != nil {
		return Outcome{}, err
	}
	if err := os.MkdirAll(string(r), 0o755); err != nil {
		return Outcome{}, err
	}
	_, err := os.Stat(r.checkpointMeta())
	resume := err == nil
	var before []byte // the metrics of earlier attempts, which a resumed train does not rewrite
	if resume {
		if before, err = os.ReadFile(r.Metrics()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Outcome{}, err
		}
	}
	// A stale exit.json would describe the previous attempt while this
	// one runs.
	if err := os.Remove(r.Exit()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return Outcome{}, err
	}
	log, err := os.OpenFile(r.Log(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return Outcome{}, err
	}
	defer log.Close() // on the early returns; closed below otherwise
	args := p.TrainArgs(p.Point(i), r, resume)
	fmt.Fprintf(log, "# %s\n", shellJoin(append([]string{exe}, args...)))
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if len(env) > 0 {
		// exec keeps the last of duplicate keys, so these override what
		// the sweep itself was given.
		cmd.Env = append(os.Environ(), env...)
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(log, "# not started: %v\n", err)
		return Outcome{}, fmt.Errorf("point %d: %w", i, err)
	}
	exited := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			cmd.Process.Signal(os.Interrupt) // an error means it has exited already
		case <-exited:
		}
	}()
	cmd.Wait() // the outcome is in ProcessState
	close(exited)
	out := Outcome{Resumed: resume, Exit: exitOf(cmd.ProcessState)}
	fmt.Fprintf(log, "# %s\n", out.Exit)
	if err := log.Close(); err != nil {
		return out, err
	}
	if resume && before != nil {
		if err := keepEarlierMetrics(r.Metrics(), before); err != nil {
			return out, fmt.Errorf("point %d: %w", i, err)
		}
	}
	return out, writeJSON(r.Exit(), out.Exit)
}

func exitOf(ps *os.ProcessState) Exit {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return Exit{Code: -1, Signal: ws.Signal().String()}
	}
	return Exit{Code: ps.ExitCode()}
}

// keepEarlierMetrics puts back in front of the metrics CSV at path the
// rows of before (the file as earlier attempts left it) whose steps
// precede its first row: train --metrics with --resume writes the rows
// of the steps it ran, so without this a resumed run's file would start
// at the checkpoint. A file that already starts at step 1 is left alone.
func keepEarlierMetrics(path string, before []byte) error {
	now, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	header, rows := splitCSV(now)
	oldHeader, oldRows := splitCSV(before)
	if !bytes.Equal(header, oldHeader) {
		return nil // not the same kind of file: nothing to keep
	}
	first := -1 // a file with no rows: keep every earlier row
	if len(rows) > 0 {
		if first = rowStep(rows[0]); first < 0 {
			return fmt.Errorf("%s: the first row %q has no step number", path, rows[0])
		}
	}
	var kept [][]byte
	for _, row := range oldRows {
		s := rowStep(row)
		if s < 1 || (first >= 0 && s >= first) {
			break
		}
		kept = append(kept, row)
	}
	if len(kept) == 0 {
		return nil
	}
	var b bytes.Buffer
	b.Write(header)
	for _, row := range append(kept, rows...) {
		b.Write(row)
	}
	return atomicfile.WriteFile(path, b.Bytes(), 0o644)
}

// splitCSV splits a CSV file into its header line and complete rows,
// each with its newline; a torn last line is dropped.
func splitCSV(b []byte) (header []byte, rows [][]byte) {
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			break
		}
		if header == nil {
			header = b[:nl+1]
		} else {
			rows = append(rows, b[:nl+1])
		}
		b = b[nl+1:]
	}
	return header, rows
}

// rowStep is the step number in a metrics row's first column, -1 if none.
func rowStep(row []byte) int {
	first, _, _ := bytes.Cut(row, []byte{','})
	n, err := strconv.Atoi(string(bytes.TrimSpace(first)))
	if err != nil {
		return -1
	}
	return n
}

// shellJoin writes args as a shell command line, quoting what needs it,
// for logs a user can paste.
func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}

// shellQuote quotes s for a POSIX shell unless it is plainly safe.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./:,+%@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Env is the environment a run adds to the sweep's: threads > 0 sets
// GOMAXPROCS, the Go runtime's threads and the CPU backend's (cpu.New's
// default), and device != "" sets VKNEURO_DEVICE, the Vulkan device the
// engine opens (an index or a name, as engine.Options.Device).
func Env(threads int, device string) []string {
	var env []string
	if threads > 0 {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(threads))
	}
	if device != "" {
		env = append(env, "VKNEURO_DEVICE="+device)
	}
	return env
}

// LocalJobs is the local runner's default: one job per GPU (gpus, the
// real ones the engine sees), else one on the CPU backend; and each
// job's share of the cpus cores, its thread count. jobs > 0 is the
// user's count, kept.
func LocalJobs(jobs, gpus, cpus int) (n, threads int) {
	n = jobs
	if n <= 0 {
		n = max(gpus, 1)
	}
	return n, max(cpus/n, 1)
}

// Local runs a sweep's points on this machine.
type Local struct {
	Exe  string // the vkneuro binary
	Dir  Dir
	Plan Plan
	// Jobs is how many runs go at once (at least 1); Threads is each
	// run's GOMAXPROCS (Env), 0 to leave it as inherited.
	Jobs, Threads int
	// Devices are the GPUs (VKNEURO_DEVICE values) the jobs share
	// round-robin: job slot k always runs on Devices[k%len(Devices)], so
	// with as many jobs as GPUs no two runs share one. Nil leaves
	// VKNEURO_DEVICE as inherited.
	Devices []string
}

// Run runs the points indices in order, at most l.Jobs at a time, and
// calls done (one call at a time) after each has run. When ctx is
// cancelled it starts no more and interrupts the running ones, and
// returns once they have exited. An error starting a run stops the
// sweep the same way (without interrupting) and is returned.
func (l Local) Run(ctx context.Context, indices []int, done func(i int, o Outcome)) error {
	if l.Jobs < 1 {
		return fmt.Errorf("sweep: %d jobs, want at least 1", l.Jobs)
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstErr != nil
	}
	next := make(chan int)
	for slot := range min(l.Jobs, len(indices)) {
		device := ""
		if len(l.Devices) > 0 {
			device = l.Devices[slot%len(l.Devices)]
		}
		env := Env(l.Threads, device)
		wg.Go(func() {
			for i := range next {
				o, err := RunPoint(ctx, l.Exe, l.Dir, l.Plan, i, env)
				mu.Lock()
				switch {
				case err != nil && ctx.Err() == nil:
					if firstErr == nil {
						firstErr = err
					}
				case err == nil:
					done(i, o)
				}
				mu.Unlock()
			}
		})
	}
	for _, i := range indices {
		if failed() || ctx.Err() != nil {
			break
		}
		select {
		case next <- i:
		case <-ctx.Done():
		}
	}
	close(next)
	wg.Wait()
	return firstErr
}
