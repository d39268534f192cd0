package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vkneuro/vkneuro/viewer"
)

// TestSweepUsage: a bad sweep command line exits 2 with a message naming
// the flag and what was wanted, and writes nothing.
func TestSweepUsage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	grid := []string{"--out", dir, "--grid", "seed=1,2"}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"decode"}, "--out DIR is required"},
		{[]string{"--out", dir, "decode"}, "no --grid"},
		{[]string{"--out", dir}, "holds no sweep (no sweep.json)"},
		{grid, "missing network"},
		{append(grid, "decode", "--jobs", "2"), "--jobs is a sweep flag: give it before the network decode"},
		{append(grid, "decode", "--nope", "2"), "train flags: flag provided but not defined: -nope"},
		{append(grid, "decode", "extra"), `unexpected arguments ["extra"]`},
		{append(grid, "decode", "--seed", "3"), "grid axis seed: --seed is already set by the train flags"},
		{append(grid, "decode", "--summary", "s.json"), "--summary is set by the sweep"},
		{[]string{"--out", dir, "--grid", "l3=1,2", "decode"}, "--grid l3=1,2: train has no flag --l3"},
		{[]string{"--out", dir, "--grid", "seed=1,1", "decode"}, `--grid "seed=1,1": value "1" is given twice`},
		{[]string{"--out", dir, "--grid", "checkpoint=a,b", "decode"}, "--checkpoint is set by the sweep"},
		// Each point's command line goes through train's parser.
		{[]string{"--out", dir, "--grid", "lr=0.1,0", "decode"}, "point 1 (lr=0): --lr must be > 0"},
		{[]string{"--out", dir, "--grid", "seed=1,x", "decode"}, `point 1 (seed=x): invalid value "x" for flag -seed`},
		{append(grid, "resnet"), `point 0 (seed=1): unknown network "resnet"`},
		{append([]string{"--goal", "up"}, grid...), `--goal "up": want min or max`},
		{append([]string{"--metric", "test_r2"}, grid...), "--metric test_r2: give --goal min or max"},
		{append([]string{"--sbatch", "--time=5"}, grid...), "--sbatch needs --slurm"},
		{append([]string{"--jobs", "-1"}, grid...), "--jobs -1, --threads 0: want ≥ 0"},
		{append([]string{"--point", "0"}, append(grid, "decode")...), "--point runs one point of the sweep already in --out"},
	} {
		code, _, stderr := runCmd(t, append([]string{"sweep"}, c.args...)...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("sweep %q: exit %d, stderr %q; want %d and %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused sweep created %s (%v)", dir, err)
	}
	code, _, stderr := runCmd(t, "sweep", "-h")
	for _, want := range []string{"usage: vkneuro sweep", "GOMAXPROCS", "--slurm", "-threads"} {
		if code != exitOK || !strings.Contains(stderr, want) {
			t.Errorf("sweep -h: exit %d, usage lacks %q", code, want)
		}
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

// mustSweep runs a sweep to the end; it must exit 0.
func mustSweep(t *testing.T, exe string, args ...string) {
	t.Helper()
	cmd, out := sweepCmd(exe, args...)
	if err := cmd.Run(); err != nil {
		t.Fatalf("sweep %q: %v\n%s", args, err, out)
	}
}

// decoderSweep is the 9-point decoder sweep (--l2 × --seed) with
// settings small enough for a test.
func decoderSweep(out string, flags ...string) []string {
	return append(append([]string{"--out", out}, flags...), "--grid", "l2=0,0.01,0.1", "--grid", "seed=1,2,3",
		"decode", "--backend", "cpu", "--neurons", "60", "--iters", "40")
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

// TestSweep runs the 9-point decoder sweep one and two at a time and
// through Slurm: results.csv and best.json are the same, every point
// has its files, and sweep.png is drawn. Without Slurm the Slurm part
// skips, except in CI (CI=true), where it fails.
func TestSweep(t *testing.T) {
	exe := buildVkneuro(t)
	tmp := t.TempDir()
	one, two := filepath.Join(tmp, "one"), filepath.Join(tmp, "two")
	mustSweep(t, exe, decoderSweep(one, "--jobs", "1")...)
	mustSweep(t, exe, decoderSweep(two, "--jobs", "2")...)
	sameFile(t, filepath.Join(one, "results.csv"), filepath.Join(two, "results.csv"))
	sameFile(t, filepath.Join(one, "best.json"), filepath.Join(two, "best.json"))
	rows := readCSV(t, filepath.Join(two, "results.csv"))
	if len(rows) != 10 || strings.Join(rows[0], ",") != "index,l2,seed,status,steps,final_loss,test_fraction_correct,test_samples,run" {
		t.Fatalf("results.csv: %q", rows)
	}
	for _, r := range rows[1:] {
		if r[3] != "ok" || r[4] != "40" || r[5] == "" || r[6] == "" {
			t.Errorf("results row %q: want ok after 40 steps with a loss and a score", r)
		}
		for _, f := range []string{"log.txt", "summary.json", "metrics.csv", "model.npz", "checkpoint/checkpoint.json"} {
			if _, err := os.Stat(filepath.Join(two, r[8], f)); err != nil {
				t.Errorf("point %s: %v", r[0], err)
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(two, "sweep.png")); err != nil || fi.Size() == 0 {
		t.Errorf("sweep.png: %v", err)
	}
	// A rerun of a finished sweep runs nothing and writes the same table.
	cmd, out := sweepCmd(exe, "--out", two)
	if err := cmd.Run(); err != nil || !strings.Contains(out.String(), "all 9 points") {
		t.Errorf("rerun: %v\n%s", err, out)
	}
	sameFile(t, filepath.Join(one, "results.csv"), filepath.Join(two, "results.csv"))

	t.Run("slurm", func(t *testing.T) {
		requireSlurm(t)
		viaSlurm := filepath.Join(tmp, "slurm")
		mustSweep(t, exe, decoderSweep(viaSlurm, "--slurm", "--jobs", "2", "--threads", "1")...)
		sameFile(t, filepath.Join(two, "results.csv"), filepath.Join(viaSlurm, "results.csv"))
		sameFile(t, filepath.Join(two, "best.json"), filepath.Join(viaSlurm, "best.json"))
		if script, err := os.ReadFile(filepath.Join(viaSlurm, "slurm", "sweep.sbatch")); err != nil || !strings.Contains(string(script), "--point") {
			t.Errorf("the batch script: %v\n%s", err, script)
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
	t.Skipf("no Slurm cluster (start one with sudo .ci/slurm start and SLURM_CONF=/tmp/vkneuro-slurm/slurm.conf): %v", err)
}

// interruptSweep starts a sweep, sends it SIGINT once point 0 has
// written its first checkpoint (train's SIGINT handler is installed by
// then), and checks that it exits 130 with a valid results.csv in
// which point 0 is interrupted.
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
	if len(rows) != 4 || rows[1][2] != "interrupted" {
		t.Fatalf("results.csv after the interruption: %q, want point 0 interrupted\n%s", rows, out)
	}
	for _, r := range rows[1:] {
		switch r[2] {
		case "ok", "interrupted", "pending":
		default:
			t.Errorf("point %s: status %q after an interruption\n%s", r[0], r[2], out)
		}
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
		return append(append([]string{"--out", out}, flags...), "--grid", "seed=1,2,3",
			"decode", "--backend", "cpu", "--neurons", "80", "--iters", "1500", "--checkpoint-every", "50")
	}
	whole := filepath.Join(tmp, "whole")
	mustSweep(t, exe, args(whole, "--jobs", "2")...)

	local := filepath.Join(tmp, "local")
	interruptSweep(t, exe, local, args(local, "--jobs", "2"))
	mustSweep(t, exe, args(local, "--jobs", "2")...)
	sameFile(t, filepath.Join(whole, "results.csv"), filepath.Join(local, "results.csv"))
	sameFile(t, filepath.Join(whole, "runs", "0", "metrics.csv"), filepath.Join(local, "runs", "0", "metrics.csv"))
	if log, err := os.ReadFile(filepath.Join(local, "runs", "0", "log.txt")); err != nil || !strings.Contains(string(log), "--resume=") {
		t.Errorf("point 0 was not resumed: %v\n%s", err, log)
	}

	t.Run("slurm", func(t *testing.T) {
		requireSlurm(t)
		dir := filepath.Join(tmp, "slurm")
		interruptSweep(t, exe, dir, args(dir, "--slurm", "--jobs", "2", "--threads", "1"))
		mustSweep(t, exe, args(dir, "--slurm", "--jobs", "2", "--threads", "1")...)
		sameFile(t, filepath.Join(whole, "results.csv"), filepath.Join(dir, "results.csv"))
		sameFile(t, filepath.Join(whole, "runs", "0", "metrics.csv"), filepath.Join(dir, "runs", "0", "metrics.csv"))
	})
}
