package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
)

// small is a quick decode problem with minibatches and momentum.
func small(dir string, extra ...string) []string {
	return append([]string{"decode", "--backend", "cpu", "--neurons", "80", "--batch", "50", "--momentum", "0.9",
		"--lr", "0.05", "--iters", "12"}, extra...)
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "missing network"},
		{[]string{"resnet"}, `unknown network "resnet"`},
		{[]string{"decode", "--lr", "0"}, "--lr must be > 0"},
		{[]string{"decode", "--model", "tanh"}, `--model "tanh"`},
		{[]string{"normative", "--l2", "0.1"}, "no penalised weight"},
		{[]string{"decode", "--test-frac", "1"}, "--test-frac 1"},
		{[]string{"decode", "--backend", "cuda"}, `--backend "cuda"`},
		{[]string{"decode", "--init", "a.npz", "--resume", "d"}, "exclude each other"},
		{[]string{"decode", "extra"}, "unexpected arguments"},
		{[]string{"decode", "--checkpoint-every", "5"}, "needs --checkpoint"},
		{[]string{"decode", "--no-such-flag"}, "flag provided but not defined"},
		{[]string{"decode", "--screenshot", "a.png"}, "--screenshot needs --live"},
		{[]string{"decode", "--live", "--screenshot", "a.jpg"}, `--screenshot "a.jpg": want a .png`},
		{[]string{"normative", "--live", "--backend", "cpu"}, "use --backend vulkan or auto"},
	} {
		code, _, stderr := runTrain(t, c.args...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("train %q: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
	// -h lists the tutorials' settings that parseTrainArgs applies.
	code, _, stderr := runTrain(t, "-h")
	for _, want := range []string{"Tutorial 3 CNN: epochs 25, batch 100, lr 0.0005, momentum 0.99, seed 12;",
		"(--model softmax): 1000 full-batch steps, lr 0.1, l2 0.01, l1 0.0005, seed 4,",
		"20 hidden, 20 classes, test-frac 0.4;", "50 full-batch steps, lr 0.0001, seed 4, 10 hidden;",
		"ConvFC: 200 full-batch steps, lr 2, momentum 0.9, l2 0.0005, l1 1e-06, seed 1,"} {
		if code != exitOK || !strings.Contains(stderr, want) {
			t.Errorf("train -h: exit %d, the usage does not say %q:\n%s", code, want, stderr)
		}
	}
}

func writeNPZ(t *testing.T, path string, arrays map[string]*data.Array) string {
	t.Helper()
	if err := data.WriteNPZ(path, arrays); err != nil {
		t.Fatal(err)
	}
	return path
}

func arr(shape ...int) *data.Array {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &data.Array{Shape: shape, Data: make([]float32, n)}
}

func TestBadFiles(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.npz")
	os.WriteFile(garbage, []byte("not a zip file"), 0o644)
	noLabels := writeNPZ(t, filepath.Join(dir, "nolabels.npz"), map[string]*data.Array{"stimuli": arr(10, 48, 64)})
	badLabels := writeNPZ(t, filepath.Join(dir, "badlabels.npz"), map[string]*data.Array{"stimuli": arr(10, 48, 64), "labels": arr(9)})
	twoLabels := writeNPZ(t, filepath.Join(dir, "twolabels.npz"), map[string]*data.Array{"stimuli": arr(10, 48, 64),
		"labels": {Shape: []int{10}, Data: []float32{0, 1, 2, 0, 0, 0, 0, 0, 0, 0}}})
	badResp := writeNPZ(t, filepath.Join(dir, "resp.npz"), map[string]*data.Array{"resp": arr(5, 7), "stimuli": arr(6)})
	badStim := writeNPZ(t, filepath.Join(dir, "stim.npz"), map[string]*data.Array{"stimuli": arr(60, 12, 16)})

	// A decode state_dict with a mis-shaped and a missing entry.
	badInit := writeNPZ(t, filepath.Join(dir, "init.npz"), map[string]*data.Array{
		"in_layer.weight": arr(20, 81), "in_layer.bias": arr(20), "out_layer.weight": arr(20, 20)})
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"normative", "--data", filepath.Join(dir, "missing.npz")}, []string{"missing.npz"}},
		{[]string{"normative", "--data", garbage}, []string{"garbage.npz"}},
		{[]string{"normative", "--data", noLabels}, []string{"nolabels.npz", `missing key "labels"`}},
		{[]string{"normative", "--data", badLabels}, []string{"badlabels.npz", `"labels" has shape [9]`}},
		{[]string{"normative", "--data", twoLabels}, []string{`"labels"[2] = 2`}},
		{[]string{"decode", "--data", badResp}, []string{"resp.npz"}},
		{[]string{"encode", "--neurons", "10", "--stimuli", badStim}, []string{"stim.npz", `"stimuli" has shape [60 12 16], want [60,1,H,W]`}},
		{[]string{"decode", "--backend", "cpu", "--neurons", "80", "--init", badInit},
			[]string{"init.npz", `key "in_layer.weight" has shape [20 81], want [20 80]`, `missing key "out_layer.bias"`}},
	} {
		code, _, stderr := runTrain(t, c.args...)
		if code != exitError {
			t.Errorf("train %q: exit %d, want %d; stderr %q", c.args, code, exitError, stderr)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("train %q: stderr %q does not mention %q", c.args, stderr, w)
			}
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		rows = append(rows, strings.Split(line, ","))
	}
	return rows
}

func TestOutputs(t *testing.T) {
	dir := t.TempDir()
	metrics, summ, save := filepath.Join(dir, "m.csv"), filepath.Join(dir, "s.json"), filepath.Join(dir, "w.npz")
	code, stdout, stderr := runTrain(t, "normative", "--backend", "cpu", "--n-train", "100", "--iters", "4", "--quiet",
		"--metrics", metrics, "--summary", summ, "--save", save)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "normative: 4 steps") || !strings.Contains(stdout, "test accuracy") {
		t.Errorf("stdout %q", stdout)
	}
	if stderr != "" {
		t.Errorf("stderr not quiet: %q", stderr)
	}
	rows := readCSV(t, metrics)
	if len(rows) != 5 || !slices.Equal(rows[0], []string{"step", "loss", "epoch"}) || rows[4][0] != "4" {
		t.Errorf("metrics rows %q", rows)
	}
	var s struct {
		Steps        int                `json:"steps"`
		TrainSeconds float64            `json:"train_seconds"`
		FinalLoss    float64            `json:"final_loss"`
		Backend      string             `json:"backend"`
		Device       string             `json:"device"`
		Test         map[string]float64 `json:"test"`
	}
	b, _ := os.ReadFile(summ)
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Steps != 4 || s.Backend != "cpu" || s.Device == "" || !(s.TrainSeconds > 0) || s.Test["samples"] != 180 ||
		!(s.Test["accuracy"] >= 0 && s.Test["accuracy"] <= 1) || rows[4][1] != formatLoss(s.FinalLoss) {
		t.Errorf("summary %s", b)
	}
	sd, err := data.ReadNPZ(save)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range sd {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"conv.bias", "conv.weight", "fc.bias", "fc.weight", "out.bias", "out.weight"}; !slices.Equal(keys, want) {
		t.Errorf("saved keys %v, want %v", keys, want)
	}
	// --init from the saved file reproduces the first loss of a continuation.
	code, _, stderr = runTrain(t, "normative", "--backend", "cpu", "--n-train", "100", "--iters", "1", "--init", save)
	if code != exitOK {
		t.Errorf("--init of a saved state_dict: exit %d: %s", code, stderr)
	}
}

func formatLoss(v float64) string {
	return string(bytesFloat(float32(v)))
}

func bytesFloat(f float32) []byte {
	b, _ := json.Marshal(f)
	return b
}

// TestResume: a run checkpointed after 5 steps and resumed to 12 logs
// exactly the losses of an uninterrupted 12-step run (minibatches of
// 50, shuffled, momentum 0.9), and ends with the same weights.
func TestResume(t *testing.T) {
	dir := t.TempDir()
	full, part, rest := filepath.Join(dir, "full.csv"), filepath.Join(dir, "part.csv"), filepath.Join(dir, "rest.csv")
	fullW, restW := filepath.Join(dir, "full.npz"), filepath.Join(dir, "rest.npz")
	ck := filepath.Join(dir, "ck")
	mustRun := func(args ...string) {
		t.Helper()
		if code, _, stderr := runTrain(t, args...); code != exitOK {
			t.Fatalf("train %q: exit %d: %s", args, code, stderr)
		}
	}
	mustRun(small(dir, "--metrics", full, "--save", fullW)...)
	args := small(dir, "--metrics", part, "--checkpoint", ck)
	args[len(args)-1-4] = "5" // --iters 5
	mustRun(args...)
	// The resumed run continues the same metrics file.
	mustRun(small(dir, "--metrics", part, "--resume", ck, "--save", restW)...)
	if got, want := readCSV(t, part), readCSV(t, full); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("resumed losses differ:\n got %q\nwant %q", got, want)
	}
	sameWeights(t, restW, fullW)
	// A metrics file that is not the run's so far is refused.
	code, _, stderr := runTrain(t, small(dir, "--metrics", rest, "--resume", ck)...)
	if code != exitError || !strings.Contains(stderr, "--metrics") || !strings.Contains(stderr, "needs the file of the run so far") {
		t.Errorf("resume with a new metrics file: exit %d: %s", code, stderr)
	}

	// Resuming with other settings is refused.
	code, _, stderr = runTrain(t, small(dir, "--resume", ck, "--lr", "0.1")...)
	// The message is models' (it names the checkpoint and both settings).
	if code != exitError || !strings.Contains(stderr, filepath.Join(ck, "checkpoint.json")) || !strings.Contains(stderr, "0.1") {
		t.Errorf("resume with another lr: exit %d: %s", code, stderr)
	}
}

// checkpointMeta is what the tests read of DIR/checkpoint.json.
type checkpointMeta struct {
	Step int    `json:"step"`
	File string `json:"file"`
}

// readCheckpointMeta reads the checkpoint.json of the checkpoint
// directory dir.
func readCheckpointMeta(t *testing.T, dir string) checkpointMeta {
	t.Helper()
	var meta checkpointMeta
	b, err := os.ReadFile(filepath.Join(dir, "checkpoint.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	return meta
}

func sameWeights(t *testing.T, a, b string) {
	t.Helper()
	wa, err := data.ReadNPZ(a)
	if err != nil {
		t.Fatal(err)
	}
	wb, err := data.ReadNPZ(b)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range wb {
		if wa[k] == nil || !slices.Equal(wa[k].Data, v.Data) {
			t.Errorf("%s differs between %s and %s", k, filepath.Base(a), filepath.Base(b))
		}
	}
}

// TestSIGINT sends the process SIGINT during training: the step in
// progress finishes, a checkpoint is written, the exit status is 130,
// and resuming from it ends where an uninterrupted run ends.
func TestSIGINT(t *testing.T) {
	dir := t.TempDir()
	ck := filepath.Join(dir, "ck")
	fullW, resumedW := filepath.Join(dir, "full.npz"), filepath.Join(dir, "resumed.npz")
	afterStep = func(ctx context.Context, step int) {
		if step == 4 {
			syscall.Kill(os.Getpid(), syscall.SIGINT)
			// Delivery is asynchronous: wait until the handler has
			// cancelled the context, so the loop stops after this step.
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Second):
				t.Error("SIGINT did not cancel the training context within 10 s")
			}
		}
	}
	code, _, stderr := runTrain(t, small(dir, "--checkpoint", ck)...)
	afterStep = nil
	if code != exitInterrupted || !strings.Contains(stderr, "interrupted after step") {
		t.Fatalf("exit %d, stderr %q; want %d and an interruption message", code, stderr, exitInterrupted)
	}
	meta := readCheckpointMeta(t, ck)
	if meta.Step != 4 {
		t.Errorf("checkpoint at step %d, want 4", meta.Step)
	}
	if _, err := data.ReadNPZ(filepath.Join(ck, meta.File)); err != nil {
		t.Errorf("checkpoint file: %v", err)
	}
	if code, _, stderr := runTrain(t, small(dir, "--resume", ck, "--save", resumedW)...); code != exitOK {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runTrain(t, small(dir, "--save", fullW)...); code != exitOK {
		t.Fatalf("uninterrupted: exit %d: %s", code, stderr)
	}
	sameWeights(t, resumedW, fullW)
}

// TestBackends: --backend vulkan trains on any Vulkan device (lavapipe
// included) and gives the CPU's losses within float32 tolerance; auto
// picks Vulkan only on a real GPU and says why it fell back.
func TestBackends(t *testing.T) {
	be, err := vulkan.Open(engine.Options{AllowCPU: true})
	if err != nil {
		if os.Getenv("VKNEURO_REQUIRE_VULKAN") == "1" || !(errors.Is(err, engine.ErrNoVulkan) || errors.Is(err, engine.ErrNoDevice)) {
			t.Fatalf("opening Vulkan: %v", err)
		}
		t.Skipf("no Vulkan: %v", err)
	}
	onCPU := strings.Contains(strings.ToLower(be.Device()), "llvmpipe")
	be.Close()
	dir := t.TempDir()
	vk, cp := filepath.Join(dir, "vk.csv"), filepath.Join(dir, "cpu.csv")
	args := func(backend, metrics string) []string {
		return []string{"decode", "--backend", backend, "--neurons", "80", "--iters", "10", "--metrics", metrics}
	}
	if code, _, stderr := runTrain(t, args("vulkan", vk)...); code != exitOK {
		t.Fatalf("--backend vulkan: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runTrain(t, args("cpu", cp)...); code != exitOK {
		t.Fatalf("--backend cpu: exit %d: %s", code, stderr)
	}
	rv, rc := readCSV(t, vk), readCSV(t, cp)
	if len(rv) != len(rc) {
		t.Fatalf("%d vs %d metric rows", len(rv), len(rc))
	}
	for i := 1; i < len(rv); i++ {
		var a, b float64
		json.Unmarshal([]byte(rv[i][1]), &a)
		json.Unmarshal([]byte(rc[i][1]), &b)
		// Same float32 problem, different summation order: 1e-4 relative.
		if d := a - b; d > 1e-4*b || d < -1e-4*b {
			t.Errorf("step %d: vulkan loss %g, cpu %g", i, a, b)
		}
	}
	code, _, stderr := runTrain(t, "decode", "--neurons", "80", "--iters", "1")
	if code != exitOK {
		t.Fatalf("--backend auto: exit %d: %s", code, stderr)
	}
	if onCPU != strings.Contains(stderr, "using the CPU backend") {
		t.Errorf("auto with a CPU Vulkan driver = %v; stderr %q", onCPU, stderr)
	}
}

// TestDataFiles trains from user files in each network's format.
func TestDataFiles(t *testing.T) {
	dir := t.TempDir()
	summ := filepath.Join(dir, "s.json")
	readTest := func() map[string]float64 {
		t.Helper()
		var s struct {
			Data string         `json:"data"`
			Test map[string]any `json:"test"` // numbers, and encode's score summaries
		}
		b, err := os.ReadFile(summ)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(s.Data, ".npz") {
			t.Errorf("summary data %q, want the file", s.Data)
		}
		if s.Test == nil {
			return nil
		}
		nums := map[string]float64{}
		for k, v := range s.Test {
			if f, ok := v.(float64); ok {
				nums[k] = f
			}
		}
		return nums
	}

	// normative: 16×16 images (no 48×64 test gratings then), labels [S,1].
	img := arr(6, 16, 16)
	for i := range img.Data {
		img.Data[i] = float32(i%7) / 7
	}
	lab := &data.Array{Shape: []int{6, 1}, Data: []float32{0, 1, 0, 1, 1, 0}}
	norm := writeNPZ(t, filepath.Join(dir, "norm.npz"), map[string]*data.Array{"stimuli": img, "labels": lab})
	if code, _, stderr := runTrain(t, "normative", "--backend", "cpu", "--data", norm, "--iters", "2", "--summary", summ); code != exitOK {
		t.Fatalf("normative --data: exit %d: %s", code, stderr)
	}
	if test := readTest(); test != nil {
		t.Errorf("normative on 16×16 images reported test metrics %v", test)
	}

	// decode: Stringer format, 40 stimuli in [0°, 360°), relu variant.
	v := data.SyntheticV1(data.SynthOptions{Neurons: 30, Stimuli: 40, Seed: 2})
	dec := filepath.Join(dir, "dec.npz")
	if err := data.SaveV1(dec, v); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runTrain(t, "decode", "--model", "relu", "--backend", "cpu", "--data", dec, "--iters", "3", "--test-frac", "0.25", "--summary", summ); code != exitOK {
		t.Fatalf("decode --data: exit %d: %s", code, stderr)
	}
	if test := readTest(); test["samples"] != 10 || !(test["mse"] > 0) {
		t.Errorf("decode relu test metrics %v, want mse on 10 held-out stimuli", test)
	}

	// encode: split format with stimulus images of another size.
	sv := data.SyntheticV1Split(data.SynthOptions{Neurons: 9, Stimuli: 6, Seed: 2})
	enc := filepath.Join(dir, "enc.npz")
	if err := data.SaveV1Split(enc, sv); err != nil {
		t.Fatal(err)
	}
	stim := writeNPZ(t, filepath.Join(dir, "stim.npz"), map[string]*data.Array{"stimuli": arr(6, 1, 8, 10)})
	if code, _, stderr := runTrain(t, "encode", "--backend", "cpu", "--data", enc, "--stimuli", stim, "--iters", "3", "--lr", "0.1", "--summary", summ); code != exitOK {
		t.Fatalf("encode --data --stimuli: exit %d: %s", code, stderr)
	}
	if test := readTest(); test["samples"] != 6 || !(test["mse"] > 0) {
		t.Errorf("encode test metrics %v, want mse on resp_test of the 6 stimuli", test)
	}
}
