package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/sweep"
)

// sweepConfig holds the parsed flags of sweep.
type sweepConfig struct {
	out                string
	grid               []string
	gridFile, dataGlob string
	runner             string
	jobs               int
	slurmOpts          []string
	noWait, force      bool
	sel                string
	// metric and goal are --select's; metric "" means the main test
	// metric, known when the runs have finished.
	metric string
	goal   sweep.Goal
}

// listFlag is a flag that may be given many times.
type listFlag struct{ values *[]string }

func (l listFlag) String() string {
	if l.values == nil {
		return ""
	}
	return strings.Join(*l.values, " ")
}
func (l listFlag) Set(v string) error { *l.values = append(*l.values, v); return nil }

const sweepUsage = `usage: vkneuro sweep --grid FLAG=V1,V2,... [--grid ...] [--grid-file FILE] [--data-glob 'DIR/*.npz']
                     --out DIR [--runner local|slurm] [--jobs N] [flags] -- train TASK [train flags]
       vkneuro sweep --out DIR [flags]          (run the sweep saved in DIR again)

Trains one network per point: the Cartesian product of the grids (the last
changing fastest), and one point per data file matching --data-glob (passed as
--data), each a 'vkneuro train TASK' run with the train flags after TASK and the
point's values, e.g.

  vkneuro sweep --grid l2=0,0.01,0.1 --grid seed=1,2,3 --out l2sweep --jobs 2 \
      -- train decode --backend cpu --iters 300

--grid-file FILE gives grids as a JSON object, {"l2": [0, 0.01, 0.1], "seed": [1, 2, 3]},
or the same mapping in YAML (FILE.yaml, FILE.yml) or TOML (FILE.toml).
Values holding commas go as a JSON array: --grid 'arch=["Linear(80, 20), ...", "..."]'.
Every point's command line goes through train's own parser before anything
runs. The sweep gives each run --summary, --metrics, --save and --checkpoint in
DIR/runs/<index>/ (with log.txt): those, --resume, --live and --screenshot
cannot be set. Relative paths are relative to the directory the sweep starts in.

DIR/results.csv has one row per point: index, each grid flag's value, data,
status, train_seconds, final_loss and every numeric test metric of its
summary.json (test_fraction_correct, test_mse, test_corr_median, ...), rewritten
atomically as points finish. Status ok: train finished (a diverged run too, its
final_loss empty); failed: train failed, or was killed without a result;
skipped: no result yet (not started, running, or interrupted). DIR/best.json
names the best point by --select, with the train command that reproduces it;
DIR/sweep.png plots the main test metric against each grid flag.

--runner local (the default) runs --jobs points at once: by default one per GPU
the engine sees (each run's VKNEURO_DEVICE round-robin over them), or one on the
CPU backend; each run gets GOMAXPROCS = the cores / --jobs, the CPU backend's
threads. --runner slurm writes DIR/sweep.sbatch, a job array of one task per
point (--jobs at a time, #SBATCH lines from --slurm-opt), submits it with sbatch
and polls squeue until it ends (or returns at once with --no-wait: the same
command later waits for it and collects). Each task runs 'vkneuro sweep run-one
DIR INDEX' with GOMAXPROCS = its CPUs; the nodes must see DIR, this binary and
the data at the same paths.

Ctrl-C (SIGINT or SIGTERM) starts no more points and interrupts the running ones
(Slurm: cancels the pending tasks, signals the running ones), which checkpoint;
results.csv is written and the exit status is 130. The same command again skips
the points with a summary.json, resumes the interrupted ones from their
checkpoints and reruns the failed ones; --force reruns every point from the
start. The exit status is 1 when a point failed.

flags:
`

// newSweepFlagSet is sweep's own flags; newPlan also looks in it to
// name a sweep flag misplaced among the train flags.
func newSweepFlagSet(c *sweepConfig, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("sweep", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, sweepUsage)
		fs.PrintDefaults()
	}
	fs.Var(listFlag{&c.grid}, "grid", "a grid `FLAG=V1,V2,...` over a train flag (or FLAG=[JSON array]); repeat for more")
	fs.StringVar(&c.gridFile, "grid-file", "", "grids from a JSON, YAML (.yaml, .yml) or TOML (.toml) `FILE`: {\"FLAG\": [V1, V2, ...], ...}")
	fs.StringVar(&c.dataGlob, "data-glob", "", "one point per data file matching `PATTERN` (e.g. 'data/*.npz'), passed as --data")
	fs.StringVar(&c.out, "out", "", "the sweep's `DIR` (created; running the sweep again resumes it)")
	fs.StringVar(&c.runner, "runner", "local", "local: on this machine; slurm: as a Slurm job array")
	fs.IntVar(&c.jobs, "jobs", 0, "points at once (local default: one per GPU, else 1; slurm: the array's limit, default none)")
	fs.Var(listFlag{&c.slurmOpts}, "slurm-opt", "with --runner slurm: an sbatch `OPTION` for the script (--gres=gpu:1, --time=2:00:00, --partition=gpu); repeat for more")
	fs.BoolVar(&c.noWait, "no-wait", false, "with --runner slurm: submit and return; the same command later waits for the job and collects")
	fs.BoolVar(&c.force, "force", false, "rerun every point from the start, finished ones included")
	fs.StringVar(&c.sel, "select", "", "pick best.json's point by `METRIC[:min|max]`, a results.csv column and whether smaller or larger is better (default: the main test metric)")
	return fs
}

// sweepMain is the sweep subcommand.
func sweepMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "run-one" {
		return sweepRunOne(ctx, args[1:], stderr)
	}
	c, plan, err := parseSweepArgs(args, stderr)
	var ue usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "sweep: %v (see vkneuro sweep -h)\n", err)
		return exitUsage
	case errors.As(err, new(flagError)):
		return exitUsage // the flag package has printed the problem
	case err != nil:
		fmt.Fprintf(stderr, "sweep: %v\n", err)
		return exitError
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "sweep: finding this binary to run train: %v\n", err)
		return exitError
	}
	code, err := runSweep(ctx, c, plan, exe, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sweep: %v\n", err)
	}
	return code
}

// parseSweepArgs reads the command line and checks it whole, every
// point's train command line included, before anything is written. The
// plan comes from the grids and the train command, or from
// DIR/sweep.json when none of them is given.
func parseSweepArgs(args []string, stderr io.Writer) (*sweepConfig, sweep.Plan, error) {
	c := &sweepConfig{}
	sfs := newSweepFlagSet(c, stderr)
	if err := sfs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, sweep.Plan{}, err
		}
		return nil, sweep.Plan{}, flagError{err}
	}
	slurm := c.runner == "slurm"
	switch {
	case c.out == "":
		return nil, sweep.Plan{}, usageError{"--out DIR is required"}
	case c.runner != "local" && !slurm:
		return nil, sweep.Plan{}, usageError{fmt.Sprintf("--runner %q: want local or slurm", c.runner)}
	case c.jobs < 0:
		return nil, sweep.Plan{}, usageError{fmt.Sprintf("--jobs %d: want ≥ 1 (or 0 for the default)", c.jobs)}
	case len(c.slurmOpts) > 0 && !slurm:
		return nil, sweep.Plan{}, usageError{"--slurm-opt needs --runner slurm"}
	case c.noWait && !slurm:
		return nil, sweep.Plan{}, usageError{"--no-wait needs --runner slurm"}
	}
	if c.sel != "" {
		var err error
		if c.metric, c.goal, err = sweep.ParseSelect(c.sel); err != nil {
			return nil, sweep.Plan{}, usageError{err.Error()}
		}
	}
	abs, err := filepath.Abs(c.out)
	if err != nil {
		return nil, sweep.Plan{}, fmt.Errorf("--out %s: %w", c.out, err)
	}
	c.out = abs // the runs, and Slurm's nodes, get absolute paths
	dir := sweep.Dir(c.out)
	if slurm {
		for _, tool := range []string{"sbatch", "squeue", "scancel"} {
			if _, err := exec.LookPath(tool); err != nil {
				return nil, sweep.Plan{}, fmt.Errorf("--runner slurm: %s is not on the PATH (run the sweep on a Slurm login node; Debian: apt-get install slurm-client)", tool)
			}
		}
		if err := (sweep.Slurm{Dir: dir, Options: c.slurmOpts}).Check(); err != nil {
			return nil, sweep.Plan{}, usageError{err.Error()}
		}
	}
	rest := sfs.Args()
	if len(rest) == 0 && len(c.grid) == 0 && c.gridFile == "" && c.dataGlob == "" {
		plan, err := sweep.Load(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, sweep.Plan{}, usageError{fmt.Sprintf("--out %s holds no sweep (no sweep.json): give the grids and -- train TASK [train flags]", c.out)}
		}
		return c, plan, err
	}
	switch {
	case len(rest) == 0:
		return nil, sweep.Plan{}, usageError{"missing '-- train TASK [train flags]' after the sweep flags"}
	case rest[0] != "train":
		return nil, sweep.Plan{}, usageError{fmt.Sprintf("%q: after the sweep flags comes '-- train TASK [train flags]'", rest[0])}
	case len(rest) == 1:
		return nil, sweep.Plan{}, usageError{"missing TASK after train: normative, decode or encode"}
	}
	axes, err := sweepAxes(c)
	if err != nil {
		return nil, sweep.Plan{}, err
	}
	plan, err := newPlan(rest[1], rest[2:], axes)
	if err != nil {
		return nil, sweep.Plan{}, err
	}
	return c, plan, checkPoints(dir, plan)
}

// sweepAxes are the axes of --data-glob's files, then the grids of
// --grid-file and --grid.
func sweepAxes(c *sweepConfig) ([]sweep.Axis, error) {
	var axes []sweep.Axis
	if c.gridFile != "" {
		b, err := os.ReadFile(c.gridFile)
		if err != nil {
			return nil, fmt.Errorf("--grid-file: %w", err)
		}
		if axes, err = sweep.ParseGridFile(c.gridFile, b); err != nil {
			return nil, usageError{"--grid-file " + err.Error()}
		}
	}
	for _, g := range c.grid {
		ax, err := sweep.ParseAxis(g)
		if err != nil {
			return nil, usageError{"--grid " + err.Error()}
		}
		axes = append(axes, ax)
	}
	if c.dataGlob != "" {
		ax, err := sweep.DataAxis(c.dataGlob)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		// First, so that a data file's points are consecutive.
		axes = append([]sweep.Axis{ax}, axes...)
	}
	if len(axes) == 0 {
		return nil, usageError{"nothing to sweep: give --grid FLAG=V1,V2,..., --grid-file or --data-glob"}
	}
	return axes, nil
}

// newPlan builds the plan of task, its train flags and the axes,
// reading the flags with train's own flag set (so every train flag,
// present and future, can be shared or swept) and writing each as
// --flag=value.
func newPlan(task string, trainArgs []string, axes []sweep.Axis) (sweep.Plan, error) {
	if strings.HasPrefix(task, "-") {
		return sweep.Plan{}, usageError{fmt.Sprintf("%s: the task comes right after train: -- train TASK [train flags]", task)}
	}
	tfs := newTrainFlagSet(&trainConfig{}, io.Discard)
	if err := tfs.Parse(trainArgs); err != nil {
		// A sweep flag given among the train flags is the likely mistake.
		sfs := newSweepFlagSet(&sweepConfig{}, io.Discard)
		for _, a := range trainArgs {
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if strings.HasPrefix(a, "-") && sfs.Lookup(name) != nil && tfs.Lookup(name) == nil {
				return sweep.Plan{}, usageError{fmt.Sprintf("--%s is a sweep flag: give it before -- train", name)}
			}
		}
		return sweep.Plan{}, usageError{fmt.Sprintf("train flags: %v", err)}
	}
	if tfs.NArg() > 0 {
		return sweep.Plan{}, usageError{fmt.Sprintf("unexpected arguments %q after the train flags", tfs.Args())}
	}
	plan := sweep.Plan{Network: task, Axes: axes}
	tfs.Visit(func(f *flag.Flag) { plan.Fixed = append(plan.Fixed, sweep.Arg{Flag: f.Name, Value: f.Value.String()}) })
	for _, ax := range axes {
		if tfs.Lookup(ax.Flag) == nil {
			return sweep.Plan{}, usageError{fmt.Sprintf("grid %s: train has no flag --%s (see vkneuro train -h)", ax.Flag, ax.Flag)}
		}
	}
	if err := plan.Check(); err != nil {
		return sweep.Plan{}, usageError{err.Error()}
	}
	return plan, nil
}

// checkPoints runs train's parser on every point's command line, so a
// value train would refuse stops the sweep before any run starts.
func checkPoints(dir sweep.Dir, plan sweep.Plan) error {
	for _, pt := range plan.Points() {
		_, err := parseTrainArgs(plan.TrainArgs(pt, dir.Run(pt.Index), false)[1:], io.Discard)
		if err != nil {
			return usageError{fmt.Sprintf("point %d (%s): %v", pt.Index, pt.Label(), err)}
		}
	}
	return nil
}

// sweepRunOne is `vkneuro sweep run-one DIR INDEX`, what each Slurm
// array task runs: point INDEX of the sweep in DIR, on this node, with
// GOMAXPROCS set to the CPUs Slurm gave the task. Its exit status is
// its train's.
func sweepRunOne(ctx context.Context, args []string, stderr io.Writer) int {
	if len(args) != 2 {
		fmt.Fprintf(stderr, "sweep run-one: want DIR INDEX (what a Slurm task of a sweep runs), got %q\n", args)
		return exitUsage
	}
	abs, err := filepath.Abs(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "sweep run-one: %v\n", err)
		return exitError
	}
	dir := sweep.Dir(abs)
	plan, err := sweep.Load(dir)
	if err != nil {
		fmt.Fprintf(stderr, "sweep run-one: %v\n", err)
		return exitError
	}
	i, err := strconv.Atoi(args[1])
	if err != nil || i < 0 || i >= plan.Len() {
		fmt.Fprintf(stderr, "sweep run-one: point %q: the sweep in %s has points 0 to %d\n", args[1], dir, plan.Len()-1)
		return exitUsage
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "sweep run-one: finding this binary to run train: %v\n", err)
		return exitError
	}
	// Without CPU binding (TaskPlugin=task/none) the Go runtime would
	// take every core of the node, however many tasks share it.
	threads, _ := strconv.Atoi(os.Getenv("SLURM_CPUS_ON_NODE"))
	o, err := sweep.RunPoint(ctx, exe, dir, plan, i, sweep.Env(threads, ""))
	if err != nil {
		fmt.Fprintf(stderr, "sweep run-one: %v\n", err)
		return exitError
	}
	pt := plan.Point(i)
	switch {
	case o.Skipped:
		fmt.Fprintf(stderr, "sweep run-one: point %d (%s) had finished already\n", pt.Index, pt.Label())
		return exitOK
	case o.Interrupted():
		return exitInterrupted
	case o.Code != 0:
		fmt.Fprintf(stderr, "sweep run-one: point %d (%s): train %s; see %s\n", pt.Index, pt.Label(), o.Exit, dir.Run(pt.Index).Log())
		return exitError
	}
	return exitOK
}

// runSweep runs the points without a summary, locally or on Slurm,
// then writes results.csv, best.json and sweep.png.
func runSweep(ctx context.Context, c *sweepConfig, plan sweep.Plan, exe string, stdout, stderr io.Writer) (int, error) {
	dir := sweep.Dir(c.out)
	if err := sweep.Create(dir, plan); err != nil {
		return exitError, err
	}
	// A job an earlier Slurm run of this sweep submitted may still be
	// running its points, whichever runner this one uses: this run then
	// waits for it and collects, as after --no-wait.
	if _, err := exec.LookPath("squeue"); err == nil {
		id, err := sweep.Active(dir)
		if err != nil {
			return exitError, err
		}
		if id != "" {
			return awaitJob(ctx, c, plan, id, stdout, stderr)
		}
	}
	if c.force {
		if err := sweep.Clear(dir); err != nil {
			return exitError, err
		}
	}
	t, err := sweep.Collect(dir, plan)
	if err != nil {
		return exitError, err
	}
	if err := t.WriteCSV(dir.Results()); err != nil {
		return exitError, err
	}
	var todo []int
	for _, r := range t.Rows {
		if !r.State.Finished() {
			todo = append(todo, r.Index)
		}
	}
	p := newSweepProgress(dir, plan, t, stderr)
	var runErr error
	switch {
	case len(todo) == 0:
		fmt.Fprintf(stderr, "sweep: all %d points of %s have finished (--force reruns them)\n", plan.Len(), dir)
	case c.runner == "slurm":
		sl := sweep.Slurm{Dir: dir, Exe: exe, Jobs: c.jobs, Options: c.slurmOpts}
		id, err := sl.Submit(todo)
		if err != nil {
			return exitError, err
		}
		fmt.Fprintf(stderr, "sweep: %d of %d points submitted to Slurm as job %s (%s; task outputs in %s)\n", len(todo), plan.Len(), id, dir.Script(), dir.Slurm())
		if c.noWait {
			fmt.Fprintf(stderr, "sweep: not waiting; 'vkneuro sweep --out %s' waits for job %s and collects its results\n", dir, id)
			return exitOK, nil
		}
		if runErr = sl.Wait(ctx, id, p.update); ctx.Err() != nil && errors.Is(runErr, ctx.Err()) {
			runErr = nil // the interruption is reported by finish
		}
	default:
		if err := sweep.ForgetJob(dir); err != nil {
			return exitError, err
		}
		devices := localGPUs(plan, engine.Devices)
		jobs, threads := sweep.LocalJobs(c.jobs, len(devices), runtime.NumCPU())
		on := fmt.Sprintf("GOMAXPROCS=%d each", threads)
		if len(devices) > 0 {
			on += ", on GPUs " + strings.Join(devices, ", ") + " (VKNEURO_DEVICE, round-robin)"
		}
		fmt.Fprintf(stderr, "sweep: %d of %d points on this machine, %d at a time, %s\n", len(todo), plan.Len(), jobs, on)
		l := sweep.Local{Exe: exe, Dir: dir, Plan: plan, Jobs: jobs, Threads: threads, Devices: devices}
		runErr = l.Run(ctx, todo, func(int, sweep.Outcome) { p.update() })
	}
	return finish(ctx, c, plan, p, runErr, stdout, stderr)
}

// awaitJob waits for Slurm job id of this sweep (unless --no-wait), then
// collects as a sweep that had submitted it would.
func awaitJob(ctx context.Context, c *sweepConfig, plan sweep.Plan, id string, stdout, stderr io.Writer) (int, error) {
	dir := sweep.Dir(c.out)
	t, err := sweep.Collect(dir, plan)
	if err != nil {
		return exitError, err
	}
	p := newSweepProgress(dir, plan, t, stderr)
	if c.noWait {
		t, err := p.finishTable(true)
		if err != nil {
			return exitError, err
		}
		fmt.Fprintf(stderr, "sweep: Slurm job %s of this sweep still runs: %d of %d points done, %d failed; results so far in %s\n",
			id, t.Count(sweep.StatusOK), plan.Len(), t.Count(sweep.StatusFailed), dir.Results())
		return exitOK, nil
	}
	fmt.Fprintf(stderr, "sweep: Slurm job %s of this sweep is still queued or running: waiting for it (Ctrl-C cancels it)\n", id)
	runErr := sweep.Slurm{Dir: dir}.Wait(ctx, id, p.update)
	if ctx.Err() != nil && errors.Is(runErr, ctx.Err()) {
		runErr = nil
	}
	return finish(ctx, c, plan, p, runErr, stdout, stderr)
}

// localGPUs are the VKNEURO_DEVICE values of the real GPUs that list
// (engine.Devices) gives, which the local runner's jobs share
// round-robin; none when the runs are on the CPU backend, when the user
// chose the device (VKNEURO_DEVICE or --device), or without Vulkan. CPU
// drivers such as lavapipe are left out: the CPU backend is faster than
// they are.
func localGPUs(plan sweep.Plan, list func() ([]engine.DeviceInfo, error)) []string {
	for _, a := range plan.Fixed {
		if (a.Flag == "backend" && a.Value == "cpu") || a.Flag == "device" {
			return nil
		}
	}
	if os.Getenv("VKNEURO_DEVICE") != "" {
		return nil
	}
	devs, err := list()
	if err != nil {
		return nil // no Vulkan: the runs use the CPU backend (train says so)
	}
	var gpus []string
	for _, d := range devs {
		if d.Compute && !d.CPU {
			gpus = append(gpus, strconv.Itoa(d.Index))
		}
	}
	return gpus
}

// finish writes the final results.csv, lists the failed points, writes
// best.json and sweep.png, and says how the sweep ended.
func finish(ctx context.Context, c *sweepConfig, plan sweep.Plan, p *sweepProgress, runErr error, stdout, stderr io.Writer) (int, error) {
	t, err := p.finishTable(false)
	if err != nil || runErr != nil {
		return exitError, errors.Join(runErr, err)
	}
	dir := p.dir
	fmt.Fprintf(stdout, "sweep: %s\n", dir.Results())
	failed := t.Count(sweep.StatusFailed)
	if failed > 0 {
		fmt.Fprintf(stderr, "sweep: %d of %d points failed:\n", failed, len(t.Rows))
		for _, r := range t.Rows {
			if t.Status(r) == sweep.StatusFailed {
				fmt.Fprintf(stderr, "  point %d (%s): %s\n", r.Index, r.Label(), describeFailure(r))
			}
		}
	}
	if err := writeBest(c, dir, plan, t, stdout, stderr); err != nil {
		return exitError, err
	}
	skipped := t.Count(sweep.StatusSkipped)
	switch {
	case ctx.Err() != nil && skipped > 0:
		fmt.Fprintf(stderr, "sweep: interrupted with %d of %d points not run to the end; the same command resumes them\n", skipped, len(t.Rows))
		return exitInterrupted, nil
	case failed > 0:
		return exitError, fmt.Errorf("%d of %d points failed; the same command reruns them", failed, len(t.Rows))
	case skipped > 0:
		return exitError, fmt.Errorf("%d of %d points have no result; the same command runs them", skipped, len(t.Rows))
	}
	return exitOK, nil
}

// describeFailure says how a failed point ended and where its logs are.
func describeFailure(r sweep.Row) string {
	how := "train " + r.Exit.String()
	if r.State == sweep.Started {
		how = "no result: killed, or it could not start train"
	}
	how += "; log " + r.Log
	if r.TaskOutput != "" {
		how += ", Slurm task output " + r.TaskOutput
	}
	return how
}

// writeBest picks the best point by --select, writes best.json and
// sweep.png, and says so; with no finished point it only says that.
func writeBest(c *sweepConfig, dir sweep.Dir, plan sweep.Plan, t *sweep.Table, stdout, stderr io.Writer) error {
	mainMetric := t.MainMetric()
	if t.Count(sweep.StatusOK) == 0 {
		fmt.Fprintln(stderr, "sweep: no point has finished: no best point, no plot")
		return nil
	}
	metric, goal := c.metric, c.goal
	if metric == "" {
		metric = mainMetric
		goal, _ = sweep.GoalOf(mainMetric) // MainMetric's are all known
	}
	b, err := t.Best(metric, goal)
	if err != nil {
		return fmt.Errorf("--select %s: %w", metric, err)
	}
	if err := sweep.WriteBest(dir, plan, b); err != nil {
		return err
	}
	if err := t.Plot(dir.Figure(), mainMetric, &b, plan); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sweep: best point %d (%s): %s %s (%s); %s, %s\n", b.Row.Index, b.Row.Label(), metric, fmtValue(b.Value), goal,
		dir.Best(), dir.Figure())
	return nil
}

func fmtValue(v float64) string { return fmt.Sprintf("%.6g", v) }

// sweepProgress reports points as they end, with the counts and an
// ETA, and keeps results.csv current.
type sweepProgress struct {
	dir   sweep.Dir
	plan  sweep.Plan
	w     io.Writer
	last  *sweep.Table
	start time.Time
	// before holds, for each point this run of the sweep runs, when its
	// previous attempt ended (sweep.Row.Ended): a point has ended in
	// this run when that changes.
	before   map[int]time.Time
	reported map[int]bool
	ended    int   // points reported ok or failed
	err      error // the first failure to read or write the table
}

func newSweepProgress(dir sweep.Dir, plan sweep.Plan, t *sweep.Table, w io.Writer) *sweepProgress {
	t.Live = true
	p := &sweepProgress{dir: dir, plan: plan, w: w, last: t, start: time.Now(), before: map[int]time.Time{}, reported: map[int]bool{}}
	for _, r := range t.Rows {
		if !r.State.Finished() {
			p.before[r.Index] = r.Ended
		}
	}
	return p
}

// update reads the runs again, reports the points that ended since the
// last look and rewrites results.csv when a state changed.
func (p *sweepProgress) update() {
	t, err := sweep.Collect(p.dir, p.plan)
	if err != nil {
		p.err = cmp.Or(p.err, err)
		return
	}
	t.Live = true
	changed := false
	var ended []sweep.Row
	for i, r := range t.Rows {
		changed = changed || r.State != p.last.Rows[i].State
		before, todo := p.before[r.Index]
		if !todo || p.reported[r.Index] || r.Ended.IsZero() || r.Ended.Equal(before) {
			continue
		}
		p.reported[r.Index] = true
		if r.State != sweep.Interrupted {
			p.ended++
		}
		ended = append(ended, r)
	}
	for _, r := range ended {
		fmt.Fprintf(p.w, "sweep: point %d (%s) %s [%s]\n", r.Index, r.Label(), describeRow(t, r), p.counts(t))
	}
	if changed {
		p.err = cmp.Or(p.err, t.WriteCSV(p.dir.Results()))
	}
	p.last = t
}

// counts is the progress line's tail: points done and failed of all,
// and the time left at the pace so far.
func (p *sweepProgress) counts(t *sweep.Table) string {
	s := fmt.Sprintf("%d/%d done, %d failed", t.Count(sweep.StatusOK), len(t.Rows), t.Count(sweep.StatusFailed))
	if left := len(p.before) - p.ended; p.ended > 0 && left > 0 {
		eta := time.Duration(float64(time.Since(p.start)) * float64(left) / float64(p.ended))
		s += ", ETA " + eta.Round(time.Second).String()
	}
	return s
}

// finishTable updates a last time and writes results.csv even where no
// state changed (an interrupted point has a new checkpoint); live says
// whether points may still run (a Slurm job not waited for).
func (p *sweepProgress) finishTable(live bool) (*sweep.Table, error) {
	p.update()
	p.last.Live = live
	if p.err == nil {
		p.err = p.last.WriteCSV(p.dir.Results())
	}
	return p.last, p.err
}

// describeRow is what a point's line says of how it ended.
func describeRow(t *sweep.Table, r sweep.Row) string {
	switch r.State {
	case sweep.Failed:
		return fmt.Sprintf("failed (train %s; log %s)", r.Exit, r.Log)
	case sweep.Interrupted:
		return "interrupted (checkpointed: the same command resumes it)"
	case sweep.Diverged:
		return "ok, but its loss diverged"
	}
	parts := []string{"ok"}
	for _, col := range []string{"final_loss", t.MainMetric()} {
		if v, ok := t.Value(r, col); ok && !slices.Contains(parts, col) {
			parts = append(parts, col+" "+fmtValue(v))
		}
	}
	return strings.Join(parts, ", ")
}
