package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMain makes the test binary a stand-in for `vkneuro train` when
// FAKE_TRAIN is set, so the runners are tested (under -race too)
// without building vkneuro.
func TestMain(m *testing.M) {
	if mode, ok := os.LookupEnv("FAKE_TRAIN"); ok {
		os.Exit(fakeTrain(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeTrain does what a sweep needs of train: for steps --iters (default
// 4) it writes the metrics of the steps it runs (from the checkpoint's
// step with --resume, as train does), a checkpoint and a summary whose
// final loss is the seed and whose test metrics hold GOMAXPROCS and
// VKNEURO_DEVICE (-1 when unset). Seed
// 13 fails. In mode "block" it checkpoints at step 1 and waits for
// SIGINT, then exits 130 as train does.
func fakeTrain(mode string, args []string) int {
	flags := map[string]string{}
	for _, a := range args[2:] {
		k, v, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		flags[k] = v
	}
	fmt.Println("fake train", strings.Join(args, " "))
	if flags["seed"] == "13" {
		fmt.Println("train: seed 13 is unlucky")
		return 1
	}
	iters := 4
	if v, ok := flags["iters"]; ok {
		iters, _ = strconv.Atoi(v)
	}
	start := 0
	if dir, ok := flags["resume"]; ok {
		var ck struct{ Step int }
		b, _ := os.ReadFile(filepath.Join(dir, "checkpoint.json"))
		json.Unmarshal(b, &ck)
		start = ck.Step
	}
	checkpoint := func(step int) {
		os.MkdirAll(flags["checkpoint"], 0o755)
		os.WriteFile(filepath.Join(flags["checkpoint"], "checkpoint.json"), fmt.Appendf(nil, `{"step":%d}`, step), 0o644)
	}
	metrics := func(to int) {
		rows := "step,loss,epoch\n"
		for s := start + 1; s <= to; s++ {
			rows += fmt.Sprintf("%d,%d,0\n", s, s)
		}
		os.WriteFile(flags["metrics"], []byte(rows), 0o644)
	}
	if mode == "block" {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		metrics(1)
		checkpoint(1) // last: the test takes it to mean "ready for SIGINT"
		<-sig
		return 130
	}
	metrics(iters)
	checkpoint(iters)
	seed, _ := strconv.Atoi(flags["seed"])
	device := -1
	if v, ok := os.LookupEnv("VKNEURO_DEVICE"); ok {
		device, _ = strconv.Atoi(v)
	}
	os.WriteFile(flags["summary"], fmt.Appendf(nil, `{"steps":%d,"train_seconds":0.5,"final_loss":%d,"test":{"gomaxprocs":%d,"device":%d,"samples":10}}`,
		iters, seed, runtime.GOMAXPROCS(0), device), 0o644)
	return 0
}

func fakePlan(seeds ...string) Plan {
	return Plan{Network: "decode", Fixed: []Arg{{"iters", "4"}}, Axes: []Axis{{"seed", seeds}}}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestLocal: every point runs once with the given GOMAXPROCS, on the
// device of its job slot, a failing one is recorded as failed, and a
// second Run skips the finished ones.
func TestLocal(t *testing.T) {
	t.Setenv("FAKE_TRAIN", "run")
	t.Setenv("VKNEURO_DEVICE", "9") // what the user's shell has: overridden
	d := Dir(t.TempDir())
	p := fakePlan("1", "2", "13", "4")
	l := Local{Exe: os.Args[0], Dir: d, Plan: p, Jobs: 2, Threads: 3, Devices: []string{"0", "1", "2"}}
	var done []int
	if err := l.Run(context.Background(), []int{0, 1, 2, 3}, func(i int, o Outcome) {
		done = append(done, i)
		if o.Skipped || o.Resumed || (o.Code != 0) != (i == 2) {
			t.Errorf("point %d: outcome %+v", i, o)
		}
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(done)
	if !slices.Equal(done, []int{0, 1, 2, 3}) {
		t.Errorf("done called for %v, want every point once", done)
	}
	tab, err := Collect(d, p)
	if err != nil {
		t.Fatal(err)
	}
	devices := map[float64]bool{}
	for i, want := range []State{Done, Done, Failed, Done} {
		r := tab.Rows[i]
		if r.State != want {
			t.Errorf("point %d: state %v, want %v", i, r.State, want)
		}
		if want == Done {
			devices[r.Test["test_device"]] = true
			if r.Test["test_gomaxprocs"] != 3 || r.TrainSeconds != 0.5 {
				t.Errorf("point %d: %+v, want GOMAXPROCS 3 and the summary's train_seconds", i, r)
			}
		}
	}
	// Two job slots: devices 0 and 1, never the third or the inherited 9.
	if len(devices) != 2 || !devices[0] || !devices[1] {
		t.Errorf("the points ran on devices %v, want 0 and 1", devices)
	}
	if e := tab.Rows[2].Exit; e.Code != 1 || !strings.Contains(readFile(t, d.Run(2).Log()), "seed 13 is unlucky\n# exit status 1\n") {
		t.Errorf("failed point: exit %+v, log %q", e, readFile(t, d.Run(2).Log()))
	}
	// A point with a summary is not run again.
	o, err := RunPoint(context.Background(), os.Args[0], d, p, 0, nil)
	if err != nil || !o.Skipped {
		t.Errorf("rerun of a finished point: %+v, %v; want skipped", o, err)
	}
	if _, err := RunPoint(context.Background(), os.Args[0], d, p, 4, nil); err == nil {
		t.Error("point 4 of 4: no error")
	}
	if _, err := RunPoint(context.Background(), filepath.Join(t.TempDir(), "no-vkneuro"), d, p, 2, nil); err == nil {
		t.Error("a missing binary: no error")
	}
}

// TestInterrupt: cancelling Run interrupts the running points (SIGINT)
// and starts no others; at most Jobs run at once; a rerun resumes the
// interrupted ones from their checkpoints and their metrics files end
// up whole.
func TestInterrupt(t *testing.T) {
	t.Setenv("FAKE_TRAIN", "block")
	d := Dir(t.TempDir())
	p := fakePlan("1", "2", "3")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error)
	go func() {
		errc <- Local{Exe: os.Args[0], Dir: d, Plan: p, Jobs: 2}.Run(ctx, []int{0, 1, 2}, func(int, Outcome) {})
	}()
	// Points 0 and 1 block until SIGINT, so point 2 cannot start.
	for _, i := range []int{0, 1} {
		for {
			if _, err := os.Stat(d.Run(i).checkpointMeta()); err == nil {
				break
			}
			time.Sleep(5 * time.Millisecond) // polling, not a time limit
		}
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	tab, err := Collect(d, p)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []State{Interrupted, Interrupted, Pending} {
		if tab.Rows[i].State != want || tab.Status(tab.Rows[i]) != StatusSkipped {
			t.Errorf("point %d: %v, %q; want %v, skipped", i, tab.Rows[i].State, tab.Status(tab.Rows[i]), want)
		}
	}

	t.Setenv("FAKE_TRAIN", "run")
	var resumed []int
	if err := (Local{Exe: os.Args[0], Dir: d, Plan: p, Jobs: 2}).Run(context.Background(), []int{0, 1, 2}, func(i int, o Outcome) {
		if o.Resumed {
			resumed = append(resumed, i)
		}
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(resumed)
	if !slices.Equal(resumed, []int{0, 1}) {
		t.Errorf("resumed %v, want [0 1]", resumed)
	}
	if log := readFile(t, d.Run(0).Log()); !strings.Contains(log, "--resume="+d.Run(0).Checkpoint()) || !strings.Contains(log, "# exit status 130\n") {
		t.Errorf("log of the resumed point:\n%s", log)
	}
	// The fake, like train, writes only the steps it ran; the sweep puts
	// step 1 back.
	if got, want := readFile(t, d.Run(0).Metrics()), "step,loss,epoch\n1,1,0\n2,2,0\n3,3,0\n4,4,0\n"; got != want {
		t.Errorf("metrics of the resumed point %q, want %q", got, want)
	}
	if tab, err = Collect(d, p); err != nil || tab.Count(StatusOK) != 3 {
		t.Errorf("after the rerun: %d ok, %v; want 3", tab.Count(StatusOK), err)
	}
}

func TestKeepEarlierMetrics(t *testing.T) {
	const h = "step,loss,epoch\n"
	for _, c := range []struct{ before, now, want string }{
		{h + "1,a,0\n2,b,0\n", h + "3,c,0\n", h + "1,a,0\n2,b,0\n3,c,0\n"},
		// rows the earlier attempt wrote past the checkpoint are replaced
		{h + "1,a,0\n2,b,0\n3,x,0\n", h + "3,c,0\n", h + "1,a,0\n2,b,0\n3,c,0\n"},
		// a train that rewrites the whole file is left alone
		{h + "1,a,0\n", h + "1,a,0\n2,b,0\n", h + "1,a,0\n2,b,0\n"},
		// a resumed run that ran no step keeps the earlier rows
		{h + "1,a,0\n", h, h + "1,a,0\n"},
		// a torn last row of the earlier file is dropped
		{h + "1,a,0\n2,b", h + "3,c,0\n", h + "1,a,0\n3,c,0\n"},
		// another kind of file is not mixed in
		{"x,y\n1,2\n", h + "3,c,0\n", h + "3,c,0\n"},
	} {
		path := filepath.Join(t.TempDir(), "m.csv")
		os.WriteFile(path, []byte(c.now), 0o644)
		if err := keepEarlierMetrics(path, []byte(c.before)); err != nil {
			t.Errorf("before %q, now %q: %v", c.before, c.now, err)
			continue
		}
		if got := readFile(t, path); got != c.want {
			t.Errorf("before %q, now %q: got %q, want %q", c.before, c.now, got, c.want)
		}
	}
}

func TestLocalJobs(t *testing.T) {
	for _, c := range []struct{ jobs, gpus, cpus, n, threads int }{
		{0, 0, 16, 1, 16}, // the CPU backend: one job with every core
		{0, 4, 16, 4, 4},  // one per GPU
		{2, 0, 16, 2, 8},  // the user's count, the cores split
		{3, 1, 2, 3, 1},   // never under one thread
	} {
		if n, threads := LocalJobs(c.jobs, c.gpus, c.cpus); n != c.n || threads != c.threads {
			t.Errorf("LocalJobs(%d, %d, %d) = %d, %d; want %d, %d", c.jobs, c.gpus, c.cpus, n, threads, c.n, c.threads)
		}
	}
	if got := Env(2, "1"); !slices.Equal(got, []string{"GOMAXPROCS=2", "VKNEURO_DEVICE=1"}) {
		t.Errorf("Env = %q", got)
	}
	if got := Env(0, ""); got != nil {
		t.Errorf("Env with nothing to set = %q", got)
	}
}

// TestScript: the batch script is what the issue asks: the array over
// the points with the job limit, one #SBATCH line per option, and the
// run-one of each task; bad options and paths are refused.
func TestScript(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	s := Slurm{Dir: "/shared/l2sweep", Exe: "/opt/vkneuro/bin/vkneuro", Jobs: 4, Options: []string{"--gres=gpu:1", "--time=1:00:00"}}
	got, err := s.Script([]int{0, 1, 2, 3, 4, 5, 6, 7, 8})
	if err != nil {
		t.Fatal(err)
	}
	want := `#!/bin/sh
# A vkneuro sweep's job array: task N runs point N of the sweep in /shared/l2sweep
# (its files in runs/N/), from the directory the sweep was started in.
#SBATCH --job-name=vkneuro-sweep
#SBATCH --array=0-8%4
#SBATCH --output=/shared/l2sweep/slurm/%A_%a.out
#SBATCH --chdir=` + cwd + `
#SBATCH --gres=gpu:1
#SBATCH --time=1:00:00
exec /opt/vkneuro/bin/vkneuro sweep run-one /shared/l2sweep "$SLURM_ARRAY_TASK_ID"
`
	if got != want {
		t.Errorf("script:\n%s\nwant:\n%s", got, want)
	}
	// A rerun's array holds the points left; no --jobs: no limit but the count.
	s.Jobs = 0
	if got, _ := s.Script([]int{1, 2, 5}); !strings.Contains(got, "#SBATCH --array=1-2,5%3\n") {
		t.Errorf("script of points 1, 2, 5:\n%s", got)
	}
	if err := s.Check(); err != nil {
		t.Errorf("Check of good options: %v", err)
	}
	for _, c := range []struct {
		s    Slurm
		want string
	}{
		{Slurm{Dir: "/s", Options: []string{"gres=gpu:1"}}, "want one sbatch option"},
		{Slurm{Dir: "/s", Options: []string{"--time=1\n#SBATCH --x"}}, "want one sbatch option"},
		{Slurm{Dir: "/s", Options: []string{"--array=0-3"}}, "the sweep sets the job array"},
		{Slurm{Dir: "/my sweeps/s"}, "white space or %"},
	} {
		if err := c.s.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check %+v: %v, want %q", c.s, err, c.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	got := shellJoin([]string{"/usr/bin/vkneuro", "--arch=Linear(2, 3)", "it's", "", "--l2=0.01"})
	if want := `/usr/bin/vkneuro '--arch=Linear(2, 3)' 'it'\''s' '' --l2=0.01`; got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}
