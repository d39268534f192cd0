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
	"strings"

	"github.com/vkneuro/vkneuro/sweep"
)

// sweepConfig holds the parsed flags of sweep.
type sweepConfig struct {
	out           string
	grid          []string
	jobs, threads int
	slurm         bool
	sbatch        []string
	metric, goal  string
	point         int
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

const sweepUsage = `usage: vkneuro sweep --out DIR --grid FLAG=V1,V2,... [--grid ...] [flags] normative|decode|encode [train flags]
       vkneuro sweep --out DIR [flags]          (resume the sweep in DIR)

Trains one network per point of a grid of train flags (the Cartesian product of
the --grid axes, the last axis changing fastest) with the train flags after the
network shared by all, e.g.

  vkneuro sweep --out l2sweep --jobs 2 --grid l2=0,0.01,0.1 --grid seed=1,2,3 \
      decode --backend cpu --iters 200

Each point is a 'vkneuro train' run of this binary in DIR/runs/<i>/ (log.txt,
summary.json, metrics.csv, model.npz, checkpoint/), which the sweep gives
--summary, --metrics, --save and --checkpoint: those, --resume, --live and
--screenshot cannot be set. Values holding commas go as a JSON array:
--grid 'arch=["Conv2d(1,4,3), ReLU(), ...", "..."]'. Every point's command line
is checked with train's own parser before anything runs. Relative paths in
train flags are relative to the directory the sweep is started in.

DIR/results.csv has one row per point (status ok, diverged, failed,
interrupted, incomplete or pending; steps, final_loss and the test metrics),
rewritten atomically as points finish; DIR/best.json names the best point by
--metric with the train command that reproduces it; DIR/sweep.png plots the
metric against the first numeric axis.

Locally, --jobs runs go at once, each with --threads CPU threads: the sweep sets
GOMAXPROCS in each run's environment, the thread count of the Go runtime and of
the CPU backend's op pool (it does not change what a Vulkan device runs). With
--slurm the points go to sbatch as one job array (DIR/slurm/: the script, the
job id, each task's output); each task runs 'vkneuro sweep --point I' on its
node with --cpus-per-task=--threads, and the sweep waits, polling squeue. The
nodes must see DIR and this binary at the same paths.

Ctrl-C (SIGINT or SIGTERM) starts no more points and interrupts the running
ones (with --slurm: cancels the pending tasks and signals the running ones),
which checkpoint and exit; results.csv is then written and the exit status is
130. Running the same command again (or 'vkneuro sweep --out DIR') skips the
finished points, resumes the interrupted ones from their checkpoints and runs
the rest. The exit status is 1 when a point did not finish.

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
	fs.StringVar(&c.out, "out", "", "the sweep's `DIR` (created; a rerun resumes it)")
	fs.Var(listFlag{&c.grid}, "grid", "a grid axis `FLAG=V1,V2,...` over a train flag (or FLAG=[JSON array]); repeat for more axes")
	fs.IntVar(&c.jobs, "jobs", 0, "runs at once: locally 0 means 1; with --slurm the job array's limit, 0 for none")
	fs.IntVar(&c.threads, "threads", 0, "CPU threads per run (GOMAXPROCS; with --slurm also --cpus-per-task); 0: locally the CPUs / --jobs, with --slurm 1")
	fs.BoolVar(&c.slurm, "slurm", false, "submit the points to Slurm as one job array (sbatch), and wait for it")
	fs.Var(listFlag{&c.sbatch}, "sbatch", "with --slurm: one more sbatch `OPTION` (e.g. --sbatch=--partition=gpu); repeat for more")
	fs.StringVar(&c.metric, "metric", "", "results.csv column that picks the best point (default: the test score, else final_loss)")
	fs.StringVar(&c.goal, "goal", "", "min or max: whether a smaller or larger --metric is better (default: known for vkneuro's metrics)")
	fs.IntVar(&c.point, "point", -1, "run only point `I` of the sweep in --out (what each Slurm task runs) and exit with its train's status")
	return fs
}

// sweepMain is the sweep subcommand.
func sweepMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
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
	if c.point >= 0 {
		return sweepPoint(ctx, c, plan, exe, stderr)
	}
	code, err := runSweep(ctx, c, plan, exe, stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "sweep: %v\n", err)
	}
	return code
}

// parseSweepArgs reads the command line and checks it whole, every
// point's train command line included, before anything is written. The
// plan comes from the network and train flags, or from DIR/sweep.json
// when neither they nor --grid are given.
func parseSweepArgs(args []string, stderr io.Writer) (*sweepConfig, sweep.Plan, error) {
	c := &sweepConfig{}
	sfs := newSweepFlagSet(c, stderr)
	if err := sfs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, sweep.Plan{}, err
		}
		return nil, sweep.Plan{}, flagError{err}
	}
	switch {
	case c.out == "":
		return nil, sweep.Plan{}, usageError{"--out DIR is required"}
	case c.jobs < 0 || c.threads < 0:
		return nil, sweep.Plan{}, usageError{fmt.Sprintf("--jobs %d, --threads %d: want ≥ 0", c.jobs, c.threads)}
	case c.goal != "" && c.goal != string(sweep.Min) && c.goal != string(sweep.Max):
		return nil, sweep.Plan{}, usageError{fmt.Sprintf("--goal %q: want min or max", c.goal)}
	case len(c.sbatch) > 0 && !c.slurm:
		return nil, sweep.Plan{}, usageError{"--sbatch needs --slurm"}
	case c.point >= 0 && (c.slurm || len(c.grid) > 0 || sfs.NArg() > 0):
		return nil, sweep.Plan{}, usageError{"--point runs one point of the sweep already in --out: give only --out and --threads"}
	}
	if c.metric != "" && c.goal == "" {
		if _, ok := sweep.GoalOf(c.metric); !ok {
			return nil, sweep.Plan{}, usageError{fmt.Sprintf("--metric %s: give --goal min or max (vkneuro knows the goal of final_loss, test_mse, test_accuracy and test_fraction_correct)", c.metric)}
		}
	}
	abs, err := filepath.Abs(c.out)
	if err != nil {
		return nil, sweep.Plan{}, fmt.Errorf("--out %s: %w", c.out, err)
	}
	c.out = abs // the runs, and Slurm's nodes, get absolute paths
	dir := sweep.Dir(c.out)
	if sfs.NArg() == 0 && len(c.grid) == 0 {
		plan, err := sweep.Load(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, sweep.Plan{}, usageError{fmt.Sprintf("--out %s holds no sweep (no sweep.json): give --grid and the network with its train flags", c.out)}
		}
		return c, plan, err
	}
	if sfs.NArg() == 0 {
		return nil, sweep.Plan{}, usageError{"missing network after the sweep flags: normative, decode or encode"}
	}
	if len(c.grid) == 0 {
		return nil, sweep.Plan{}, usageError{"no --grid: give at least one axis, e.g. --grid seed=1,2,3"}
	}
	plan, err := newPlan(sfs.Arg(0), sfs.Args()[1:], c.grid)
	if err != nil {
		return nil, sweep.Plan{}, err
	}
	return c, plan, checkPoints(dir, plan)
}

// newPlan builds the plan of network, its train flags and the --grid
// axes, reading the flags with train's own flag set (so every train
// flag, present and future, can be shared or swept) and writing each as
// --flag=value.
func newPlan(network string, trainArgs, grid []string) (sweep.Plan, error) {
	if strings.HasPrefix(network, "-") {
		return sweep.Plan{}, usageError{fmt.Sprintf("%s: sweep flags go before the network, train flags after it", network)}
	}
	tfs := newTrainFlagSet(&trainConfig{}, io.Discard)
	if err := tfs.Parse(trainArgs); err != nil {
		// A sweep flag given among the train flags is the likely mistake.
		sfs := newSweepFlagSet(&sweepConfig{}, io.Discard)
		for _, a := range trainArgs {
			name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if strings.HasPrefix(a, "-") && sfs.Lookup(name) != nil && tfs.Lookup(name) == nil {
				return sweep.Plan{}, usageError{fmt.Sprintf("--%s is a sweep flag: give it before the network %s", name, network)}
			}
		}
		return sweep.Plan{}, usageError{fmt.Sprintf("train flags: %v", err)}
	}
	if tfs.NArg() > 0 {
		return sweep.Plan{}, usageError{fmt.Sprintf("unexpected arguments %q after the train flags", tfs.Args())}
	}
	plan := sweep.Plan{Network: network}
	tfs.Visit(func(f *flag.Flag) { plan.Fixed = append(plan.Fixed, sweep.Arg{Flag: f.Name, Value: f.Value.String()}) })
	for _, g := range grid {
		ax, err := sweep.ParseAxis(g)
		if err != nil {
			return sweep.Plan{}, usageError{"--grid " + err.Error()}
		}
		if tfs.Lookup(ax.Flag) == nil {
			return sweep.Plan{}, usageError{fmt.Sprintf("--grid %s: train has no flag --%s (see vkneuro train -h)", g, ax.Flag)}
		}
		plan.Axes = append(plan.Axes, ax)
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

// sweepPoint is --point: one point, in this process's node (a Slurm
// task). Its exit status is its train's.
func sweepPoint(ctx context.Context, c *sweepConfig, plan sweep.Plan, exe string, stderr io.Writer) int {
	dir := sweep.Dir(c.out)
	if c.point >= plan.Len() {
		fmt.Fprintf(stderr, "sweep: --point %d: the sweep in %s has points 0 to %d\n", c.point, dir, plan.Len()-1)
		return exitUsage
	}
	o, err := sweep.RunPoint(ctx, exe, dir, plan, c.point, c.threads)
	if err != nil {
		fmt.Fprintf(stderr, "sweep: %v\n", err)
		return exitError
	}
	pt := plan.Point(c.point)
	switch {
	case o.Skipped:
		fmt.Fprintf(stderr, "sweep: point %d (%s) had finished already\n", pt.Index, pt.Label())
		return exitOK
	case o.Interrupted():
		return exitInterrupted
	case o.Code != 0:
		fmt.Fprintf(stderr, "sweep: point %d (%s): train %s; see %s\n", pt.Index, pt.Label(), o.Exit, dir.Run(pt.Index).Log())
		return exitError
	}
	return exitOK
}

// runSweep runs the points that have not finished, locally or on Slurm,
// then writes results.csv, best.json and sweep.png.
func runSweep(ctx context.Context, c *sweepConfig, plan sweep.Plan, exe string, stdout, stderr io.Writer) (int, error) {
	dir := sweep.Dir(c.out)
	sl := sweep.Slurm{Dir: dir, Jobs: c.jobs, Threads: max(c.threads, 1), Sbatch: c.sbatch}
	if c.slurm {
		for _, tool := range []string{"sbatch", "squeue", "scancel"} {
			if _, err := exec.LookPath(tool); err != nil {
				return exitError, fmt.Errorf("--slurm: %s is not on the PATH (Debian: apt-get install slurm-client)", tool)
			}
		}
		sl.Task = []string{exe, "sweep", "--out", c.out, fmt.Sprintf("--threads=%d", sl.Threads)}
	}
	// A job an earlier --slurm sweep of DIR submitted may still be running
	// its points, whichever way this one runs them.
	if _, err := exec.LookPath("squeue"); err == nil {
		if id, err := sl.Active(); err != nil || id != "" {
			if err != nil {
				return exitError, err
			}
			return exitError, fmt.Errorf("Slurm job %s of an earlier sweep in %s is still queued or running: wait for it, or scancel %s", id, dir, id)
		}
	}
	if err := sweep.Create(dir, plan); err != nil {
		return exitError, err
	}
	t, err := sweep.Collect(dir, plan)
	if err != nil {
		return exitError, err
	}
	var todo []int
	for _, r := range t.Rows {
		if r.Status != sweep.StatusOK && r.Status != sweep.StatusDiverged {
			todo = append(todo, r.Index)
		}
	}
	if err := t.WriteCSV(dir.Results()); err != nil {
		return exitError, err
	}
	p := &progress{dir: dir, plan: plan, w: stderr, last: t}
	var runErr error
	switch {
	case len(todo) == 0:
		fmt.Fprintf(stderr, "sweep: all %d points of %s have finished\n", plan.Len(), dir)
	case c.slurm:
		fmt.Fprintf(stderr, "sweep: %d of %d points to Slurm, %d CPUs each%s\n", len(todo), plan.Len(), sl.Threads, jobsNote(c.jobs))
		id, err := sl.Submit(todo)
		if err != nil {
			return exitError, err
		}
		fmt.Fprintf(stderr, "sweep: Slurm job %s; task outputs in %s\n", id, dir.Slurm())
		if runErr = sl.Wait(ctx, id, p.update); ctx.Err() != nil && errors.Is(runErr, ctx.Err()) {
			runErr = nil // the interruption is reported below
		}
	default:
		jobs := max(c.jobs, 1)
		threads := c.threads
		if threads == 0 {
			threads = max(runtime.NumCPU()/jobs, 1)
		}
		fmt.Fprintf(stderr, "sweep: %d of %d points on this machine, %d at a time, %d threads each\n", len(todo), plan.Len(), jobs, threads)
		l := sweep.Local{Exe: exe, Dir: dir, Plan: plan, Jobs: jobs, Threads: threads}
		runErr = l.Run(ctx, todo, func(int, sweep.Outcome) { p.update() })
	}
	t, err = p.finish()
	if err != nil || runErr != nil {
		return exitError, errors.Join(runErr, err)
	}
	fmt.Fprintf(stdout, "sweep: %s\n", dir.Results())
	if err := writeBest(c, dir, plan, t, stdout, stderr); err != nil {
		return exitError, err
	}
	left := len(t.Rows) - t.Count(sweep.StatusOK) - t.Count(sweep.StatusDiverged)
	switch {
	case ctx.Err() != nil && left > 0:
		fmt.Fprintf(stderr, "sweep: interrupted with %d of %d points unfinished; run the same command again to resume them\n", left, len(t.Rows))
		return exitInterrupted, nil
	case left > 0:
		return exitError, fmt.Errorf("%d of %d points did not finish (see their log.txt); run the same command again to retry them", left, len(t.Rows))
	}
	return exitOK, nil
}

func jobsNote(jobs int) string {
	if jobs == 0 {
		return ""
	}
	return fmt.Sprintf(", %d at a time", jobs)
}

// writeBest picks the best point, writes best.json and sweep.png, and
// says so; with no finished point it only says that.
func writeBest(c *sweepConfig, dir sweep.Dir, plan sweep.Plan, t *sweep.Table, stdout, stderr io.Writer) error {
	if t.Count(sweep.StatusOK) == 0 {
		fmt.Fprintln(stderr, "sweep: no point has finished: no best point, no plot")
		return nil
	}
	metric := c.metric
	if metric == "" {
		metric = t.DefaultMetric()
	}
	if !slices.Contains(t.Columns(), metric) {
		return fmt.Errorf("--metric %s: results.csv has no such column (columns: %s)", metric, strings.Join(t.Columns(), ", "))
	}
	goal := sweep.Goal(c.goal)
	if goal == "" {
		g, ok := sweep.GoalOf(metric)
		if !ok {
			// Only a metric the user did not name gets here (parseSweepArgs
			// asks for --goal with --metric): the runs are fine, there is
			// just no way to rank them.
			fmt.Fprintf(stderr, "sweep: no best point: is a smaller or larger %s better? Rerun with --metric %s --goal min|max\n", metric, metric)
			return nil
		}
		goal = g
	}
	b, err := t.Best(metric, goal)
	if err != nil {
		return err
	}
	if err := sweep.WriteBest(dir, plan, b); err != nil {
		return err
	}
	if err := t.Plot(dir.Figure(), metric, &b); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sweep: best point %d (%s): %s %s (%s); %s, %s\n", b.Row.Index, b.Row.Label(), metric, fmtValue(b.Value), goal,
		dir.Best(), dir.Figure())
	return nil
}

func fmtValue(v float64) string { return fmt.Sprintf("%.6g", v) }

// progress reports points as they finish and keeps results.csv current.
type progress struct {
	dir  sweep.Dir
	plan sweep.Plan
	w    io.Writer
	last *sweep.Table
	err  error // the first failure to read or write the table
}

// update reads the runs again, says which changed status and rewrites
// results.csv when any did.
func (p *progress) update() {
	t, err := sweep.Collect(p.dir, p.plan)
	if err != nil {
		p.err = cmp.Or(p.err, err)
		return
	}
	changed := false
	for i, r := range t.Rows {
		if r.Status == p.last.Rows[i].Status {
			continue
		}
		changed = true
		switch r.Status {
		case sweep.StatusPending, sweep.StatusIncomplete:
			continue // started, or a Slurm task cancelled before it began
		}
		done := t.Count(sweep.StatusOK) + t.Count(sweep.StatusDiverged)
		fmt.Fprintf(p.w, "sweep: point %d (%s): %s%s [%d of %d finished]\n", r.Index, r.Label(), r.Status, describeRow(t, r, p.dir), done, len(t.Rows))
	}
	if changed {
		p.err = cmp.Or(p.err, t.WriteCSV(p.dir.Results()))
	}
	p.last = t
}

// finish updates a last time, writes results.csv even where no status
// changed (a point interrupted again has new steps), and returns the
// table.
func (p *progress) finish() (*sweep.Table, error) {
	p.update()
	if p.err == nil {
		p.err = p.last.WriteCSV(p.dir.Results())
	}
	return p.last, p.err
}

// describeRow is what a finished point's line says after its status.
func describeRow(t *sweep.Table, r sweep.Row, dir sweep.Dir) string {
	switch r.Status {
	case sweep.StatusFailed:
		return fmt.Sprintf(" (train %s; see %s)", r.Exit, dir.Run(r.Index).Log())
	case sweep.StatusInterrupted:
		return fmt.Sprintf(" after step %d", r.Steps)
	}
	var parts []string
	for _, col := range t.Columns() {
		if col == "final_loss" || strings.HasPrefix(col, "test_") && col != "test_samples" {
			if v, ok := t.Value(r, col); ok {
				parts = append(parts, col+" "+fmtValue(v))
			}
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, ", ")
}
