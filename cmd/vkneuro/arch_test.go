package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/models"
	"github.com/vkneuro/vkneuro/tasks"
)

// TestArch trains a user's network on each task from the command line,
// with the optimizer and schedule flags: the summary records the network
// and its training, and the saved state dict has nn.Sequential's keys.
func TestArch(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		args []string
		keys []string
		want map[string]any
	}{
		{"normative", []string{"normative", "--n-train", "60", "--iters", "6", "--arch",
			"Conv2d(1, 4, 5, stride=2, padding=2), ELU(), AvgPool2d(4), Conv2d(4, 6, kernel_size=3, padding=1), Tanh(), MaxPool2d(2), Flatten(), Linear(72, 8), ReLU(), Linear(8, 1), Sigmoid()",
			"--optimizer", "adam", "--lr-schedule", "step:2:0.5"},
			[]string{"0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias"},
			map[string]any{"loss": "bce", "optimizer": "Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.0)", "lr_schedule": "step:2:0.5", "parameters": 4*25 + 4 + 6*4*9 + 6 + 72*8 + 8 + 8 + 1}},
		{"decode", []string{"decode", "--neurons", "60", "--iters", "8", "--arch", "Linear(60, 16), ReLU(), Dropout(0.1), Linear(16, 20)",
			"--loss", "cross-entropy", "--optimizer", "adamw", "--weight-decay", "0.05", "--lr-schedule", "cosine:4:0.0001", "--penalize", "0.weight", "--l1", "1e-4"},
			[]string{"0.weight", "0.bias", "3.weight", "3.bias"},
			map[string]any{"loss": "cross-entropy", "optimizer": "AdamW(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.05)", "parameters": 60*16 + 16 + 16*20 + 20}},
		{"encode", []string{"encode", "--neurons", "30", "--iters", "4", "--lr", "0.05", "--arch", "Conv2d(1, 3, 3, padding=1), Softplus(), Flatten(), Linear(576, 30)",
			"--optimizer", "sgd", "--momentum", "0.9", "--nesterov", "--loss", "poisson"},
			[]string{"0.weight", "0.bias", "3.weight", "3.bias"},
			map[string]any{"loss": "poisson", "optimizer": "SGD(lr=0.05, momentum=0.9, nesterov=True)", "arch": "Conv2d(1, 3, kernel_size=(3, 3), padding=(1, 1)), Softplus(beta=1.0, threshold=20.0), Flatten(), Linear(576, 30)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			save, summ := filepath.Join(dir, c.name+".npz"), filepath.Join(dir, c.name+".json")
			args := append([]string{"--backend", "cpu", "--quiet", "--save", save, "--summary", summ}, c.args[1:]...)
			if code, _, stderr := runTrain(t, append([]string{c.args[0]}, args...)...); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			sd, err := data.ReadNPZ(save)
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for k := range sd {
				keys = append(keys, k)
			}
			if slices.Sort(keys); !slices.Equal(keys, sortedCopy(c.keys)) {
				t.Errorf("state_dict keys %v, want %v", keys, c.keys)
			}
			var s map[string]any
			b, _ := os.ReadFile(summ)
			if err := json.Unmarshal(b, &s); err != nil {
				t.Fatal(err)
			}
			for k, want := range c.want {
				if n, ok := want.(int); ok {
					want = float64(n)
				}
				if s[k] != want {
					t.Errorf("summary %s = %v, want %v", k, s[k], want)
				}
			}
			// The saved state dict trains again through --init.
			if code, _, stderr := runTrain(t, append([]string{c.args[0], "--backend", "cpu", "--quiet", "--init", save}, c.args[1:]...)...); code != exitOK {
				t.Errorf("--init from the saved state dict: exit %d: %s", code, stderr)
			}
		})
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// TestArchErrors: bad networks and training flags exit non-zero with a
// message naming the module (by index) or the flag, and write nothing.
func TestArchErrors(t *testing.T) {
	dir := t.TempDir()
	outs := []string{"--save", filepath.Join(dir, "m.npz"), "--summary", filepath.Join(dir, "s.json"), "--metrics", filepath.Join(dir, "m.csv"), "--checkpoint", filepath.Join(dir, "ck")}
	file := filepath.Join(dir, "net.txt")
	os.WriteFile(file, []byte("# a decoder\nLinear(80, 16),\n  ReLU(),\n  Linear(16, 4),  # four classes, not 20\n  LogSoftmax(dim=1)\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"normative", "--arch", "Conv2d(1, 8, 5, padding=2), ReLU(), MaxPool2d(2), Conv2d(8, 16, kernel_size=3, padding=1), Tanh(), AvgPool2d(4), Flatten(), Linear(700, 32), ELU(), Linear(32, 1), Sigmoid()"},
			"--arch: module 7 Linear(700, 32): gets 768 = 16×6×8 input features from flattening [16, 6, 8], but in_features is 700"},
		{[]string{"normative", "--arch", "Conv2d(1, 2, 3), Relu()"}, `--arch: module 1 Relu(): unknown module "Relu"`},
		{[]string{"normative", "--arch", "Conv2d(1, 2, 3, dilation=2)"}, "--arch: module 0 Conv2d(1, 2, 3, dilation=2): dilation=2 is not supported"},
		{[]string{"normative", "--arch", "Linear(3072, 1)"}, "--arch: module 0 Linear(3072, 1): gets input [1, 48, 64]"},
		{[]string{"normative", "--arch", "Flatten(), Linear(3072, 2), Sigmoid()"}, "--arch: the network gives [2] outputs per sample (last module: 2 Sigmoid()), but normative needs [1] (0/1 labels)"},
		{[]string{"normative", "--arch", "Flatten(), Linear(3072, 1)"}, "loss bce needs probabilities"},
		{[]string{"decode", "--neurons", "80", "--arch-file", file}, "--arch: the network gives [4] outputs per sample (last module: 3 LogSoftmax(dim=1)), but decode (--model softmax) needs [20] (one score per class of --classes 20)"},
		{[]string{"decode", "--neurons", "80", "--arch", "Linear(80, 20)"}, "loss nll needs log-probabilities"},
		{[]string{"decode", "--neurons", "80", "--arch", "Linear(80, 20)", "--loss", "mse"}, "--loss mse does not fit decode (--model softmax)'s targets"},
		{[]string{"decode", "--arch", "Linear(3, 2)", "--arch-file", file}, "--arch and --arch-file exclude each other"},
		{[]string{"decode", "--arch-file", filepath.Join(dir, "missing.txt")}, "--arch-file: open"},
		{[]string{"decode", "--neurons", "80", "--arch", "Linear(80, 20), LogSoftmax(dim=1)", "--l2", "1e-3"}, "--penalize NAME"},
		{[]string{"normative", "--penalize", "fc.weight"}, "--penalize needs --l1 or --l2"},
		{[]string{"decode", "--optimizer", "rmsprop"}, `--optimizer "rmsprop": want sgd, adam or adamw`},
		{[]string{"decode", "--optimizer", "adam", "--betas", "0.9,1.5"}, "invalid beta parameter at index 1"},
		{[]string{"decode", "--optimizer", "adam", "--nesterov"}, "--nesterov and --dampening apply to --optimizer sgd"},
		{[]string{"decode", "--betas", "0.5,0.5"}, "--betas and --eps apply to --optimizer adam and adamw"},
		{[]string{"decode", "--lr-schedule", "step:0:0.5"}, "StepLR needs step_size ≥ 1"},
		{[]string{"decode", "--loss", "hinge"}, `unknown loss "hinge"`},
	} {
		code, _, stderr := runTrain(t, append(append(c.args, "--backend", "cpu", "--iters", "2"), outs...)...)
		if code == exitOK || !strings.Contains(stderr, c.want) {
			t.Errorf("train %q: exit %d, stderr %q; want an error saying %q", c.args, code, stderr, c.want)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 1 {
			t.Fatalf("train %q wrote files: %v", c.args, ents)
		}
	}
}

// TestSIGKILL kills the training process with SIGKILL at random moments
// of one run, resuming it each time: no checkpoint or output file is
// ever torn, and the final state dict and metrics equal an uninterrupted
// run's bit for bit. Ten kills on the CPU backend; three on Vulkan
// (lavapipe here), each a fresh process opening the device.
func TestSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts training processes for tens of seconds")
	}
	for _, c := range []struct {
		backend string
		kills   int
		iters   string
	}{{"cpu", 10, "600"}, {"vulkan", 3, "300"}} {
		t.Run(c.backend, func(t *testing.T) {
			if c.backend == "vulkan" {
				useSharedVulkan(t) // skips or fails without Vulkan, as the other Vulkan tests
			}
			testSIGKILL(t, c.backend, c.kills, c.iters)
		})
	}
}

func testSIGKILL(t *testing.T, backend string, kills int, iters string) {
	dir := t.TempDir()
	arch := filepath.Join(dir, "net.txt")
	os.WriteFile(arch, []byte("Linear(200, 32), ELU(), Dropout(0.2), Linear(32, 20), LogSoftmax(dim=1)"), 0o644)
	args := func(tag string, extra ...string) []string {
		return append([]string{"train", "decode", "--backend", backend, "--quiet", "--neurons", "200", "--batch", "50",
			"--iters", iters, "--arch-file", arch, "--optimizer", "adam", "--lr-schedule", "cosine:5",
			"--penalize", "0.weight", "--l2", "1e-3", "--dropout-seed", "3",
			"--metrics", filepath.Join(dir, tag+".csv"), "--save", filepath.Join(dir, tag+".npz")}, extra...)
	}
	child := func(a []string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "VKNEURO_TEST_MAIN="+strings.Join(a, " "))
		return cmd
	}
	if out, err := child(args("full")).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	ck := filepath.Join(dir, "ck")
	rng := rand.New(rand.NewPCG(1, uint64(len(backend))))
	started := 0
	var at []int // the checkpoint's step after each kill
	for k := 0; k <= kills; k++ {
		a := args("cut", "--checkpoint", ck, "--checkpoint-every", "7")
		if _, err := os.Stat(filepath.Join(ck, "checkpoint.json")); err == nil {
			a = args("cut", "--resume", ck, "--checkpoint-every", "7")
		}
		cmd := child(a)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		started++
		if k == kills {
			if err := cmd.Wait(); err != nil {
				t.Fatalf("last resume: %v\n%s", err, out.String())
			}
			break
		}
		// Kill at a random moment once the run has moved past its last
		// checkpoint, so that every kill interrupts a progressing run
		// (with Vulkan, a process spends its first second opening the
		// device and compiling pipelines).
		last := 0
		if len(at) > 0 {
			last = at[len(at)-1]
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		deadline := time.Now().Add(time.Minute)
	wait:
		for checkpointStep(ck) <= last && time.Now().Before(deadline) {
			select {
			case <-exited:
				break wait
			case <-time.After(5 * time.Millisecond):
			}
		}
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		cmd.Process.Kill() // SIGKILL
		<-exited
		at = append(at, checkNotTorn(t, ck, filepath.Join(dir, "cut.csv")))
	}
	// The kills must land mid-run, or this tests nothing: the run must
	// have checkpointed and been killed again after resuming.
	if progressed := slices.Compact(slices.Clone(at)); len(progressed) < 3 {
		t.Errorf("checkpoint steps at the kills %v: the kills did not interrupt a progressing run", at)
	}
	if got, want := readCSV(t, filepath.Join(dir, "cut.csv")), readCSV(t, filepath.Join(dir, "full.csv")); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("after %d kills the metrics differ from the uninterrupted run's (%d vs %d rows)", kills, len(got), len(want))
	}
	sameWeights(t, filepath.Join(dir, "cut.npz"), filepath.Join(dir, "full.npz"))
	t.Logf("%s: %d processes, %d killed; checkpoint steps after each kill: %v", backend, started, kills, at)
}

// checkNotTorn: the checkpoint, if any, is complete (its JSON names an
// .npz that reads), and the metrics file, if any, is whole rows. It
// returns the checkpoint's step (0 without one).
func checkNotTorn(t *testing.T, ck, metrics string) int {
	t.Helper()
	step := 0
	if _, err := os.Stat(filepath.Join(ck, "checkpoint.json")); err == nil {
		meta := readCheckpointMeta(t, ck)
		if _, err := data.ReadNPZ(filepath.Join(ck, meta.File)); err != nil {
			t.Errorf("checkpoint at step %d: %v", meta.Step, err)
		}
		step = meta.Step
	}
	if b, err := os.ReadFile(metrics); err == nil && len(b) > 0 && b[len(b)-1] != '\n' {
		t.Errorf("metrics file ends in a torn row: %q", b[max(0, len(b)-40):])
	}
	return step
}

// checkpointStep is the step of the checkpoint in ck, 0 without one.
func checkpointStep(ck string) int {
	var meta checkpointMeta
	b, err := os.ReadFile(filepath.Join(ck, "checkpoint.json"))
	if err != nil || json.Unmarshal(b, &meta) != nil {
		return 0
	}
	return meta.Step
}

// TestReportArch: report --arch compares every module of a user's
// normative network with V1, trained on the fly or loaded with --model
// (a state dict that train --arch saved), and refuses a bad spec before
// writing anything.
func TestReportArch(t *testing.T) {
	dir := t.TempDir()
	arch := "Conv2d(1, 4, 5, stride=2, padding=2), ReLU(), MaxPool2d(4), Flatten(), Linear(192, 12), Tanh(), Linear(12, 1), Sigmoid()"
	saved := filepath.Join(dir, "net.npz")
	if code, _, stderr := runTrain(t, "normative", "--backend", "cpu", "--quiet", "--n-train", "60", "--iters", "3", "--arch", arch, "--save", saved); code != exitOK {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	for _, extra := range [][]string{nil, {"--model", saved}} {
		out := filepath.Join(dir, fmt.Sprint("out", len(extra)))
		args := append(append([]string{"report", "--backend", "cpu", "--out", out, "--arch", arch}, smallReport...), extra...)
		if code, _, stderr := runCmd(t, args...); code != exitOK {
			t.Fatalf("report %q: exit %d: %s", extra, code, stderr)
		}
		var s struct {
			RSA   map[string]*float64 `json:"rsa"`
			Model struct {
				Arch   string `json:"arch"`
				Source string `json:"source"`
			} `json:"model"`
			TSNE struct {
				Layers []string `json:"layers"`
			} `json:"tsne"`
		}
		b, _ := os.ReadFile(filepath.Join(out, "summary.json"))
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"0", "1", "2", "3", "4", "5", "6", "7"} {
			if _, ok := s.RSA[m]; !ok {
				t.Errorf("%q: no RSA for module %s: %v", extra, m, s.RSA)
			}
		}
		if s.RSA["2"] == nil || s.RSA["7"] != nil {
			t.Errorf("%q: RSA of module 2 %v (want a value), of the one-unit output 7 %v (want null)", extra, s.RSA["2"], s.RSA["7"])
		}
		if !strings.HasPrefix(s.Model.Arch, "Conv2d(1, 4, kernel_size=(5, 5), stride=(2, 2)") || !slices.Equal(s.TSNE.Layers, []string{"V1", "4", "5"}) {
			t.Errorf("%q: summary arch %q, t-SNE layers %v", extra, s.Model.Arch, s.TSNE.Layers)
		}
		if _, err := os.Stat(filepath.Join(out, "filters.png")); err != nil {
			t.Errorf("%q: no filters figure of module 0: %v", extra, err)
		}
	}
	out := filepath.Join(dir, "bad")
	code, _, stderr := runCmd(t, append([]string{"report", "--backend", "cpu", "--out", out, "--arch", "Conv2d(1, 4, 5), Swish()"}, smallReport...)...)
	if code != exitUsage || !strings.Contains(stderr, `--arch: module 1 Swish(): unknown module "Swish"`) {
		t.Errorf("report with a bad --arch: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("report with a bad --arch made %s", out)
	}
}

// TestEvalEvery: --eval-every adds test_loss to the metrics every K
// steps, and each value equals an independent evaluation (forward pass,
// NLL and the penalties, computed here) of the model saved at that step.
func TestEvalEvery(t *testing.T) {
	dir := t.TempDir()
	base := []string{"decode", "--backend", "cpu", "--quiet", "--neurons", "60", "--lr", "0.05", "--eval-every", "4"}
	metrics := filepath.Join(dir, "m.csv")
	for _, iters := range []string{"4", "8"} {
		args := append(slices.Clone(base), "--iters", iters, "--save", filepath.Join(dir, iters+".npz"))
		if iters == "8" {
			args = append(args, "--metrics", metrics)
		}
		if code, _, stderr := runTrain(t, args...); code != exitOK {
			t.Fatalf("train: exit %d: %s", code, stderr)
		}
	}
	rows := readCSV(t, metrics)
	if strings.Join(rows[0], ",") != "step,loss,epoch,test_loss" || len(rows) != 9 {
		t.Fatalf("metrics %q", rows)
	}
	task, err := tasks.Load(tasks.Options{Network: "decode", Variant: models.DecodeSoftmax, Neurons: 60, Seed: 4, TestFrac: 0.4, Hidden: 20, Classes: 20})
	if err != nil {
		t.Fatal(err)
	}
	be := cpu.New()
	defer be.Close()
	for i, r := range rows[1:] {
		if ((i+1)%4 == 0) == (r[3] == "") {
			t.Errorf("row %q: test_loss should be there exactly at steps 4 and 8", r)
		}
	}
	for _, step := range []int{4, 8} {
		got, err := strconv.ParseFloat(rows[step][3], 64)
		if err != nil {
			t.Fatal(err)
		}
		m, err := task.Build(be)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if err := m.LoadStateDictFile(filepath.Join(dir, fmt.Sprint(step, ".npz"))); err != nil {
			t.Fatal(err)
		}
		y, err := m.Forward(task.Test.X)
		if err != nil {
			t.Fatal(err)
		}
		var want float64
		for i := 0; i < task.Test.S; i++ {
			want -= float64(y[i*20+int(task.Test.T[i])])
		}
		want /= float64(task.Test.S)
		sd, _ := m.StateDict()
		for _, w := range sd["in_layer.weight"].Data { // the tutorial's penalties, L1 5e-4 and L2 1e-2
			want += 5e-4*math.Abs(float64(w)) + 1e-2*float64(w)*float64(w)
		}
		if math.Abs(got-want) > 1e-5*math.Abs(want) {
			t.Errorf("step %d: test_loss %.9g, independent evaluation %.9g", step, got, want)
		}
	}
	if code, _, stderr := runTrain(t, "normative", "--backend", "cpu", "--data", filepath.Join(dir, "none.npz"), "--eval-every", "2"); code == exitOK || !strings.Contains(stderr, "none.npz") {
		t.Errorf("--eval-every with unreadable data: exit %d: %s", code, stderr)
	}
}

// TestDiverged: a loss that blows up is reported on stderr at once and in
// the summary, with the losses around it.
func TestDiverged(t *testing.T) {
	dir := t.TempDir()
	summ := filepath.Join(dir, "s.json")
	code, _, stderr := runTrain(t, "decode", "--backend", "cpu", "--quiet", "--neurons", "60", "--lr", "50", "--iters", "30", "--summary", summ)
	if code != exitOK || !strings.Contains(stderr, "the loss diverged at step") || !strings.Contains(stderr, "try a smaller --lr") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var s struct {
		DivergedAt int      `json:"diverged_at_step"`
		Before     *float64 `json:"loss_before_divergence"`
		After      *float64 `json:"loss_at_divergence"`
	}
	b, _ := os.ReadFile(summ)
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.DivergedAt < 2 || s.Before == nil || (s.After != nil && !(*s.After > *s.Before)) {
		t.Errorf("summary: diverged at %d, before %v, after %v", s.DivergedAt, s.Before, s.After)
	}
	// A converging run has no such key.
	if code, _, _ := runTrain(t, "decode", "--backend", "cpu", "--quiet", "--neurons", "60", "--lr", "0.05", "--iters", "30", "--summary", summ); code != exitOK {
		t.Fatal(code)
	}
	if b, _ := os.ReadFile(summ); strings.Contains(string(b), "diverged") {
		t.Errorf("a converging run's summary says it diverged:\n%s", b)
	}
	// Tutorial 3's recipe ends on minibatch losses near 1e-6 that jump a
	// hundredfold and back: a trained network's noise, not divergence.
	if code, _, stderr := runTrain(t, "normative", "--backend", "cpu", "--quiet", "--summary", summ); code != exitOK || strings.Contains(stderr, "diverged") {
		t.Errorf("Tutorial 3's recipe: exit %d, stderr %q", code, stderr)
	}
}

// TestEncodeScores: train encode's summary has the field's encoding
// scores, on the held-out stimuli with --holdout-stimuli.
func TestEncodeScores(t *testing.T) {
	summ := filepath.Join(t.TempDir(), "s.json")
	if code, _, stderr := runTrain(t, "encode", "--backend", "cpu", "--quiet", "--neurons", "40", "--iters", "20", "--lr", "0.05",
		"--holdout-stimuli", "0.25", "--summary", summ); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s struct {
		TrainSamples int `json:"train_samples"`
		Test         map[string]json.RawMessage
	}
	b, _ := os.ReadFile(summ)
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	var samples int
	json.Unmarshal(s.Test["samples"], &samples)
	if samples == 0 || samples+s.TrainSamples != 60 || samples > 16 {
		t.Errorf("%d held-out and %d training stimuli of the synthetic split set's 60, want a quarter held out", samples, s.TrainSamples)
	}
	for _, k := range []string{"test_corr", "reliability", "normalized_corr", "feve"} {
		var sum struct {
			Median, Mean, Q25, Q75 *float64
			N                      int
		}
		if err := json.Unmarshal(s.Test[k], &sum); err != nil || sum.Median == nil || sum.Q25 == nil || sum.N < 1 || sum.N > 40 || !(*sum.Q25 <= *sum.Median) {
			t.Errorf("test.%s = %s", k, s.Test[k])
		}
	}
	if code, _, stderr := runTrain(t, "encode", "--holdout-stimuli", "0.2", "--test-frac", "0.2"); code != exitUsage || !strings.Contains(stderr, "--holdout-stimuli") {
		t.Errorf("--holdout-stimuli with --test-frac: exit %d: %s", code, stderr)
	}
}
