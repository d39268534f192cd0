package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/sweep"
	"github.com/vkneuro/vkneuro/viewer"
	"github.com/vkneuro/vkneuro/viewer/viewertest"
)

// TestSweepUsage: a bad sweep command line is refused with a message
// naming the flag and what was wanted, before anything is written.
func TestSweepUsage(t *testing.T) {
	tmp := t.TempDir()
	dir := filepath.Join(tmp, "s")
	grid := []string{"--out", dir, "--grid", "seed=1,2"}
	train := append(slices.Clone(grid), "--", "train", "decode")
	with := func(args ...string) []string { return append(slices.Clone(train), args...) }
	emptyGrid := filepath.Join(tmp, "empty.json")
	if err := os.WriteFile(emptyGrid, []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--", "train", "decode"}, "--out DIR is required"},
		{[]string{"--out", dir, "--", "train", "decode"}, "nothing to sweep: give --grid"},
		{[]string{"--out", dir}, "holds no sweep (no sweep.json)"},
		{grid, "missing '-- train TASK [train flags]'"},
		{append(slices.Clone(grid), "--", "decode"), `"decode": after the sweep flags comes '-- train TASK`},
		{append(slices.Clone(grid), "--", "train"), "missing TASK after train"},
		{with("--jobs", "2"), "--jobs is a sweep flag: give it before -- train"},
		{with("--nope", "2"), "train flags: flag provided but not defined: -nope"},
		{with("extra"), `unexpected arguments ["extra"]`},
		{with("--seed", "3"), "grid axis seed: --seed is already set by the train flags"},
		{with("--summary", "s.json"), "--summary is set by the sweep"},
		// an unknown train flag in a grid
		{[]string{"--out", dir, "--grid", "l3=1,2", "--", "train", "decode"}, "grid l3: train has no flag --l3"},
		{[]string{"--out", dir, "--grid-file", emptyGrid, "--", "train", "decode"}, "the grid is empty"},
		{[]string{"--out", dir, "--grid", "l2=", "--", "train", "decode"}, `--grid "l2=": value 1 is empty`},
		{[]string{"--out", dir, "--grid", "seed=1,1", "--", "train", "decode"}, `--grid "seed=1,1": value "1" is given twice`},
		{[]string{"--out", dir, "--data-glob", filepath.Join(tmp, "*.npz"), "--", "train", "decode"}, "matches no file"},
		{[]string{"--out", dir, "--grid", "checkpoint=a,b", "--", "train", "decode"}, "--checkpoint is set by the sweep"},
		// Each point's command line goes through train's parser.
		{[]string{"--out", dir, "--grid", "lr=0.1,0", "--", "train", "decode"}, "point 1 (lr=0): --lr must be > 0"},
		{[]string{"--out", dir, "--grid", "seed=1,x", "--", "train", "decode"}, `point 1 (seed=x): invalid value "x" for flag -seed`},
		{append(slices.Clone(grid), "--", "train", "resnet"), `point 0 (seed=1): unknown network "resnet"`},
		{append([]string{"--select", "loss"}, train...), "--select loss: want final_loss, train_seconds or a test metric"},
		{append([]string{"--select", "test_r2"}, train...), "Write test_r2:min or test_r2:max"},
		{append([]string{"--select", "test_mse:up"}, train...), `the goal "up" is not min or max`},
		{append([]string{"--slurm-opt", "--time=5"}, train...), "--slurm-opt needs --runner slurm"},
		{append([]string{"--no-wait"}, train...), "--no-wait needs --runner slurm"},
		{append([]string{"--runner", "pbs"}, train...), `--runner "pbs": want local or slurm`},
		{append([]string{"--jobs", "-1"}, train...), "--jobs -1: want ≥ 1"},
		{[]string{"run-one", dir}, "want DIR INDEX"},
	} {
		code, _, stderr := runCmd(t, append([]string{"sweep"}, c.args...)...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("sweep %q: exit %d, stderr %q; want %d and %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
	// Not the command line but the machine: exit 1, still before anything
	// is written or run.
	notDir := filepath.Join(tmp, "file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{append([]string{"--grid-file", filepath.Join(tmp, "none.json")}, train...), "--grid-file: open"},
		// An unwritable --out (a path under a file: root ignores permissions).
		{[]string{"--out", filepath.Join(notDir, "s"), "--grid", "seed=1,2", "--", "train", "decode"}, "cannot create the directory"},
		{[]string{"run-one", dir, "0"}, "sweep.json: no such file"},
	} {
		code, _, stderr := runCmd(t, append([]string{"sweep"}, c.args...)...)
		if code != exitError || !strings.Contains(stderr, c.want) {
			t.Errorf("sweep %q: exit %d, stderr %q; want %d and %q", c.args, code, stderr, exitError, c.want)
		}
	}
	t.Run("no sbatch", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		code, _, stderr := runCmd(t, append([]string{"sweep", "--runner", "slurm"}, train...)...)
		if want := "--runner slurm: sbatch is not on the PATH"; code != exitError || !strings.Contains(stderr, want) {
			t.Errorf("--runner slurm without sbatch: exit %d, stderr %q; want %d and %q", code, stderr, exitError, want)
		}
	})
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused sweep created %s (%v)", dir, err)
	}
	code, _, stderr := runCmd(t, "sweep", "-h")
	for _, want := range []string{"usage: vkneuro sweep", "-- train TASK", "GOMAXPROCS", "VKNEURO_DEVICE", "-runner", "-slurm-opt", "-select", "run-one"} {
		if code != exitOK || !strings.Contains(stderr, want) {
			t.Errorf("sweep -h: exit %d, usage lacks %q", code, want)
		}
	}
}

// TestLocalGPUs: the local runner's devices are the real GPUs with a
// compute queue, by index, unless the runs are on the CPU or the user
// chose the device.
func TestLocalGPUs(t *testing.T) {
	t.Setenv("VKNEURO_DEVICE", "")
	list := func() ([]engine.DeviceInfo, error) {
		return []engine.DeviceInfo{{Index: 0, Name: "llvmpipe", CPU: true, Compute: true}, {Index: 1, Name: "H200", Compute: true},
			{Index: 2, Name: "display only"}, {Index: 3, Name: "H200", Compute: true}}, nil
	}
	plan := func(fixed ...sweep.Arg) sweep.Plan {
		return sweep.Plan{Network: "decode", Fixed: fixed, Axes: []sweep.Axis{{Flag: "seed", Values: []string{"1"}}}}
	}
	if got := localGPUs(plan(sweep.Arg{Flag: "iters", Value: "3"}), list); !slices.Equal(got, []string{"1", "3"}) {
		t.Errorf("localGPUs = %q, want 1 and 3", got)
	}
	for _, fixed := range []sweep.Arg{{Flag: "backend", Value: "cpu"}, {Flag: "device", Value: "0"}} {
		if got := localGPUs(plan(fixed), list); got != nil {
			t.Errorf("localGPUs with --%s=%s = %q, want none", fixed.Flag, fixed.Value, got)
		}
	}
	if got := localGPUs(plan(), func() ([]engine.DeviceInfo, error) { return nil, engine.ErrNoVulkan }); got != nil {
		t.Errorf("localGPUs without Vulkan = %q", got)
	}
	t.Setenv("VKNEURO_DEVICE", "H200")
	if got := localGPUs(plan(), list); got != nil {
		t.Errorf("localGPUs with VKNEURO_DEVICE set = %q, want none", got)
	}
}

// buildVkneuro builds this command into a temporary directory: a sweep
// runs its points as child processes of the binary, which the test
// binary is not. The viewer build of these tests (make test runs both)
// skips: its sweep code is the same, and the binary built here would
// not have the tag anyway.
func buildVkneuro(t *testing.T) string {
	t.Helper()
	if viewer.Available {
		t.Skip("the sweep runs in the plain build's tests")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	exe := filepath.Join(t.TempDir(), "vkneuro")
	if out, err := exec.Command(goTool, "build", "-o", exe, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return exe
}

// sweepCmd is `exe sweep args...` with its output collected.
func sweepCmd(exe string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(exe, append([]string{"sweep"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

// mustSweep runs a sweep to the end; it must exit 0. It returns its
// output.
func mustSweep(t *testing.T, exe string, args ...string) string {
	t.Helper()
	cmd, out := sweepCmd(exe, args...)
	if err := cmd.Run(); err != nil {
		t.Fatalf("sweep %q: %v\n%s", args, err, out)
	}
	return out.String()
}

// decoderSweep is the 9-point decoder sweep (--l2 × --seed) with
// settings small enough for a test.
func decoderSweep(out string, flags ...string) []string {
	return append(append([]string{"--out", out, "--grid", "l2=0,0.01,0.1", "--grid", "seed=1,2,3"}, flags...),
		"--", "train", "decode", "--backend", "cpu", "--neurons", "60", "--iters", "40")
}

// sameFile fails unless the files at a and b are byte for byte equal.
func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Errorf("%s and %s differ:\n%s\n---\n%s", a, b, x, y)
	}
}

// sameResults fails unless the results.csv of sweeps a and b are equal
// in every column but train_seconds, the one that varies run to run.
func sameResults(t *testing.T, a, b string) {
	t.Helper()
	drop := func(dir string) string {
		rows := readCSV(t, filepath.Join(dir, "results.csv"))
		col := slices.Index(rows[0], "train_seconds")
		if col < 0 {
			t.Fatalf("%s/results.csv has no train_seconds: %q", dir, rows[0])
		}
		var lines []string
		for _, r := range rows {
			lines = append(lines, strings.Join(slices.Delete(slices.Clone(r), col, col+1), ","))
		}
		return strings.Join(lines, "\n")
	}
	if x, y := drop(a), drop(b); x != y {
		t.Errorf("the results of %s and %s differ (train_seconds aside):\n%s\n---\n%s", a, b, x, y)
	}
}

// TestSweep runs the 9-point decoder sweep one and two at a time and
// through Slurm: results.csv (train_seconds aside) and best.json are
// the same, every point has its files, and sweep.png is drawn. Without
// Slurm the Slurm part skips, except in CI (CI=true), where it fails.
func TestSweep(t *testing.T) {
	exe := buildVkneuro(t)
	tmp := t.TempDir()
	one, two := filepath.Join(tmp, "one"), filepath.Join(tmp, "two")
	mustSweep(t, exe, decoderSweep(one, "--jobs", "1")...)
	out := mustSweep(t, exe, decoderSweep(two, "--jobs", "2")...)
	if !strings.Contains(out, "9/9 done, 0 failed") || !strings.Contains(out, "ETA") {
		t.Errorf("no progress line with the counts and an ETA:\n%s", out)
	}
	sameResults(t, one, two)
	sameFile(t, filepath.Join(one, "best.json"), filepath.Join(two, "best.json"))
	rows := readCSV(t, filepath.Join(two, "results.csv"))
	if len(rows) != 10 || strings.Join(rows[0], ",") != "index,l2,seed,data,status,train_seconds,final_loss,test_fraction_correct,test_samples" {
		t.Fatalf("results.csv: %q", rows)
	}
	for _, r := range rows[1:] {
		if r[4] != "ok" || r[5] == "" || r[6] == "" || r[7] == "" || r[8] != "144" {
			t.Errorf("results row %q: want ok with a time, a loss and a score on 144 samples", r)
		}
		for _, f := range []string{"log.txt", "summary.json", "metrics.csv", "model.npz", "checkpoint/checkpoint.json"} {
			if _, err := os.Stat(filepath.Join(two, "runs", r[0], f)); err != nil {
				t.Errorf("point %s: %v", r[0], err)
			}
		}
	}
	// A panel for --l2, one for --seed.
	if b := viewertest.ReadPNG(t, filepath.Join(two, "sweep.png")).Bounds(); b.Dx() != 1120 || b.Dy() != 480 {
		t.Errorf("sweep.png: %dx%d, want 1120x480", b.Dx(), b.Dy())
	}
	// A rerun of a finished sweep runs nothing and writes the same table.
	if out := mustSweep(t, exe, "--out", two); !strings.Contains(out, "all 9 points") {
		t.Errorf("rerun:\n%s", out)
	}
	sameResults(t, one, two)
	// --force runs every point again, from the start.
	if out := mustSweep(t, exe, "--out", two, "--force", "--select", "final_loss"); !strings.Contains(out, "9 of 9 points on this machine") ||
		!strings.Contains(out, "final_loss") {
		t.Errorf("--force:\n%s", out)
	}
	if log, err := os.ReadFile(filepath.Join(two, "runs", "0", "log.txt")); err != nil || strings.Count(string(log), "# exit status 0") != 1 {
		t.Errorf("point 0's log after --force, want one run: %v\n%s", err, log)
	}
	sameResults(t, one, two)

	t.Run("slurm", func(t *testing.T) {
		requireSlurm(t)
		viaSlurm := filepath.Join(tmp, "slurm")
		mustSweep(t, exe, decoderSweep(viaSlurm, "--runner", "slurm", "--jobs", "2", "--slurm-opt=--time=10")...)
		sameResults(t, two, viaSlurm)
		sameFile(t, filepath.Join(one, "best.json"), filepath.Join(viaSlurm, "best.json")) // two's is by --select final_loss now
		script, err := os.ReadFile(filepath.Join(viaSlurm, "sweep.sbatch"))
		for _, want := range []string{"#SBATCH --array=0-8%2\n", "#SBATCH --time=10\n", ` sweep run-one ` + viaSlurm + ` "$SLURM_ARRAY_TASK_ID"`} {
			if err != nil || !strings.Contains(string(script), want) {
				t.Errorf("the batch script lacks %q: %v\n%s", want, err, script)
			}
		}
	})
}

// writeDataFiles writes synthetic V1 data files (decode's --data) with
// v1sim, one per name, each from its own seed.
func writeDataFiles(t *testing.T, exe, dir string, names ...string) {
	t.Helper()
	for i, name := range names {
		cmd := exec.Command(exe, "v1sim", "--out", filepath.Join(dir, name), "--neurons", "60", "--seed", string(rune('1'+i)))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("v1sim: %v\n%s", err, out)
		}
	}
}

// TestSweepSlurmData: the CI test, a 4-point sweep (two data
// files by --data-glob × two seeds from a --grid-file) submitted through
// sbatch without waiting, then collected by the same command, has the
// results.csv of the same sweep run locally. Then points that fail are
// listed with their logs and Slurm outputs.
func TestSweepSlurmData(t *testing.T) {
	exe := buildVkneuro(t)
	tmp := t.TempDir()
	data := filepath.Join(tmp, "data")
	os.Mkdir(data, 0o755)
	writeDataFiles(t, exe, data, "mouse1.npz", "mouse2.npz")
	gridFile := filepath.Join(tmp, "grid.json")
	if err := os.WriteFile(gridFile, []byte(`{"seed": [1, 2]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	args := func(out string, flags ...string) []string {
		return append(append([]string{"--out", out, "--grid-file", gridFile, "--data-glob", filepath.Join(data, "*.npz")}, flags...),
			"--", "train", "decode", "--backend", "cpu", "--iters", "40")
	}
	local := filepath.Join(tmp, "local")
	mustSweep(t, exe, args(local, "--jobs", "2")...)
	rows := readCSV(t, filepath.Join(local, "results.csv"))
	if len(rows) != 5 || strings.Join(rows[0][:4], ",") != "index,seed,data,status" || rows[1][2] != filepath.Join(data, "mouse1.npz") ||
		rows[4][2] != filepath.Join(data, "mouse2.npz") || rows[2][1] != "2" {
		t.Fatalf("results.csv of the data sweep: %q", rows)
	}

	t.Run("slurm", func(t *testing.T) {
		requireSlurm(t)
		dir := filepath.Join(tmp, "slurm")
		if out := mustSweep(t, exe, args(dir, "--runner", "slurm", "--jobs", "2", "--no-wait")...); !strings.Contains(out, "not waiting") {
			t.Errorf("--no-wait:\n%s", out)
		}
		// The same command waits for the job and collects.
		mustSweep(t, exe, "--out", dir)
		sameResults(t, local, dir)
		sameFile(t, filepath.Join(local, "best.json"), filepath.Join(dir, "best.json"))
		if script, err := os.ReadFile(filepath.Join(dir, "sweep.sbatch")); err != nil || !strings.Contains(string(script), "#SBATCH --array=0-3%2\n") {
			t.Errorf("the batch script: %v\n%s", err, script)
		}

		// A data file train refuses: its points fail, and are listed.
		os.WriteFile(filepath.Join(data, "mouse3.npz"), []byte("not an npz"), 0o644)
		bad := filepath.Join(tmp, "bad")
		cmd, out := sweepCmd(exe, "--out", bad, "--data-glob", filepath.Join(data, "mouse[13].npz"), "--runner", "slurm",
			"--", "train", "decode", "--backend", "cpu", "--iters", "40")
		var exit *exec.ExitError
		if err := cmd.Run(); !errors.As(err, &exit) || exit.ExitCode() != exitError {
			t.Fatalf("a sweep with a bad file: %v, want exit status 1\n%s", err, out)
		}
		for _, want := range []string{"1 of 2 points failed:", "point 1 (data=" + filepath.Join(data, "mouse3.npz") + "): train exit status 1; log " +
			filepath.Join(bad, "runs", "1", "log.txt") + ", Slurm task output " + filepath.Join(bad, "slurm")} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("the failure report lacks %q:\n%s", want, out)
			}
		}
		if rows := readCSV(t, filepath.Join(bad, "results.csv")); len(rows) != 3 || rows[1][2] != "ok" || rows[2][2] != "failed" {
			t.Errorf("results.csv with a failed point: %q", rows)
		}
	})
}

// requireSlurm skips the test where no Slurm cluster answers, and fails
// it in CI, where .ci/run starts one (.ci/slurm).
func requireSlurm(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("sbatch")
	if err == nil {
		var out []byte
		if out, err = exec.Command("sinfo", "--noheader", "--format=%T").CombinedOutput(); err == nil && !strings.Contains(string(out), "idle") && !strings.Contains(string(out), "mix") {
			err = errors.New("no idle node: sinfo says " + strings.TrimSpace(string(out)))
		} else if err != nil {
			err = errors.New(strings.TrimSpace(string(out)))
		}
	}
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI needs a Slurm cluster (.ci/run starts one with .ci/slurm start): %v", err)
	}
	t.Skipf("no Slurm cluster, so the Slurm runner is not tested here (start one as root with .ci/slurm start and export SLURM_CONF=/tmp/vkneuro-slurm/slurm.conf, or run make test-slurm): %v", err)
}

// interruptSweep starts a sweep, sends it SIGINT once point 0 has
// written its first checkpoint (train's SIGINT handler is installed by
// then), and checks that it exits 130 with a valid results.csv in
// which point 0 is skipped (interrupted, to be resumed).
func interruptSweep(t *testing.T, exe, dir string, args []string) {
	t.Helper()
	cmd, out := sweepCmd(exe, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ck := filepath.Join(dir, "runs", "0", "checkpoint", "checkpoint.json")
	var err error
wait:
	for {
		select {
		case err = <-exited:
			t.Fatalf("the sweep ended before point 0 checkpointed: %v\n%s", err, out)
		case <-time.After(10 * time.Millisecond): // polling, not a time limit
			if _, statErr := os.Stat(ck); statErr == nil {
				break wait
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = <-exited
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitInterrupted {
		t.Fatalf("interrupted sweep: %v, want exit status %d\n%s", err, exitInterrupted, out)
	}
	rows := readCSV(t, filepath.Join(dir, "results.csv"))
	if len(rows) != 4 || rows[1][3] != "skipped" || rows[1][5] != "" {
		t.Fatalf("results.csv after the interruption: %q, want point 0 skipped without a loss\n%s", rows, out)
	}
	for _, r := range rows[1:] {
		if r[3] != "ok" && r[3] != "skipped" {
			t.Errorf("point %s: status %q after an interruption\n%s", r[0], r[3], out)
		}
	}
	if !strings.Contains(out.String(), "the same command resumes them") {
		t.Errorf("the interrupted sweep does not say how to resume:\n%s", out)
	}
}

// TestSweepInterrupt: SIGINT stops a local sweep (and, with Slurm, a
// Slurm one) with its runs checkpointed; the same command again resumes
// them and ends with the results of a sweep never interrupted, and
// whole metrics files.
func TestSweepInterrupt(t *testing.T) {
	exe := buildVkneuro(t)
	tmp := t.TempDir()
	args := func(out string, flags ...string) []string {
		return append(append([]string{"--out", out, "--grid", "seed=1,2,3"}, flags...),
			"--", "train", "decode", "--backend", "cpu", "--neurons", "80", "--iters", "1500", "--checkpoint-every", "50")
	}
	whole := filepath.Join(tmp, "whole")
	mustSweep(t, exe, args(whole, "--jobs", "2")...)

	local := filepath.Join(tmp, "local")
	interruptSweep(t, exe, local, args(local, "--jobs", "2"))
	mustSweep(t, exe, args(local, "--jobs", "2")...)
	sameResults(t, whole, local)
	sameFile(t, filepath.Join(whole, "runs", "0", "metrics.csv"), filepath.Join(local, "runs", "0", "metrics.csv"))
	if log, err := os.ReadFile(filepath.Join(local, "runs", "0", "log.txt")); err != nil || !strings.Contains(string(log), "--resume=") {
		t.Errorf("point 0 was not resumed: %v\n%s", err, log)
	}

	t.Run("slurm", func(t *testing.T) {
		requireSlurm(t)
		dir := filepath.Join(tmp, "slurm")
		interruptSweep(t, exe, dir, args(dir, "--runner", "slurm", "--jobs", "2"))
		mustSweep(t, exe, args(dir, "--runner", "slurm", "--jobs", "2")...)
		sameResults(t, whole, dir)
		sameFile(t, filepath.Join(whole, "runs", "0", "metrics.csv"), filepath.Join(dir, "runs", "0", "metrics.csv"))
	})
}
