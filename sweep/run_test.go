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
// final loss is the seed and whose test metrics hold GOMAXPROCS. Seed
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
	os.WriteFile(flags["summary"], fmt.Appendf(nil, `{"steps":%d,"final_loss":%d,"test":{"gomaxprocs":%d,"samples":10}}`,
		iters, seed, runtime.GOMAXPROCS(0)), 0o644)
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

// TestLocal: every point runs once with the given GOMAXPROCS, a failing
// one is recorded as failed, and a second Run skips the finished ones.
func TestLocal(t *testing.T) {
	t.Setenv("FAKE_TRAIN", "run")
	d := Dir(t.TempDir())
	p := fakePlan("1", "2", "13", "4")
	l := Local{Exe: os.Args[0], Dir: d, Plan: p, Jobs: 2, Threads: 3}
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
	for i, want := range []string{StatusOK, StatusOK, StatusFailed, StatusOK} {
		r := tab.Rows[i]
		if r.Status != want {
			t.Errorf("point %d: status %q, want %q", i, r.Status, want)
		}
		if want == StatusOK && (r.Test["gomaxprocs"] != 3 || r.Steps != 4) {
			t.Errorf("point %d: %+v, want GOMAXPROCS 3 and 4 steps", i, r)
		}
	}
	if e := tab.Rows[2].Exit; e.Code != 1 || !strings.Contains(readFile(t, d.Run(2).Log()), "seed 13 is unlucky\n# exit status 1\n") {
		t.Errorf("failed point: exit %+v, log %q", e, readFile(t, d.Run(2).Log()))
	}
	// A point with a summary is not run again.
	o, err := RunPoint(context.Background(), os.Args[0], d, p, 0, 0)
	if err != nil || !o.Skipped {
		t.Errorf("rerun of a finished point: %+v, %v; want skipped", o, err)
	}
	if _, err := RunPoint(context.Background(), os.Args[0], d, p, 4, 0); err == nil {
		t.Error("point 4 of 4: no error")
	}
	if _, err := RunPoint(context.Background(), filepath.Join(t.TempDir(), "no-vkneuro"), d, p, 2, 0); err == nil {
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
	for i, want := range []string{StatusInterrupted, StatusInterrupted, StatusPending} {
		if tab.Rows[i].Status != want {
			t.Errorf("point %d: %q, want %q", i, tab.Rows[i].Status, want)
		}
	}
	if tab.Rows[0].Steps != 1 {
		t.Errorf("interrupted point at step %d, want its checkpoint's 1", tab.Rows[0].Steps)
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

func TestShellQuote(t *testing.T) {
	got := shellJoin([]string{"/usr/bin/vkneuro", "--arch=Linear(2, 3)", "it's", "", "--l2=0.01"})
	if want := `/usr/bin/vkneuro '--arch=Linear(2, 3)' 'it'\''s' '' --l2=0.01`; got != want {
		t.Errorf("shellJoin = %s, want %s", got, want)
	}
}
