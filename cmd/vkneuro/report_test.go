package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/analysis/report"
	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/engine"
)

// smallReport makes the default report small enough for a test: 200
// neurons in 72 bins of 5°, 200 training gratings for 2 epochs, a short
// decoder and t-SNE.
var smallReport = []string{
	"--synthetic-neurons", "200", "--synthetic-stimuli", "72",
	"--train-samples", "200", "--epochs", "2",
	"--decode-steps", "30", "--tsne-iterations", "300",
}

// readReportSummary reads DIR/summary.json.
func readReportSummary(t *testing.T, dir string) report.Summary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s report.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary.json: %v\n%s", err, b)
	}
	return s
}

// TestReportAutoBackend runs the subcommand end to end: the flags reach
// report.Config, progress goes to stdout, and auto runs on Vulkan only
// when a real (non-CPU) GPU is there; with lavapipe alone it falls back
// to the CPU and says so.
func TestReportAutoBackend(t *testing.T) {
	if os.Getenv("VKNEURO_DEVICE") != "" {
		t.Skip("VKNEURO_DEVICE chooses the device explicitly")
	}
	want := "cpu"
	if devs, err := engine.Devices(); err == nil {
		for _, d := range devs {
			if d.Compute && !d.CPU {
				want = "vulkan"
			}
		}
	}
	dir := filepath.Join(t.TempDir(), "out")
	code, stdout, stderr := runCmd(t, append([]string{"report", "--out", dir, "--seed", "3"}, smallReport...)...)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	s := readReportSummary(t, dir)
	if s.Backend != want || (want == "cpu") != strings.Contains(stderr, "report: using the CPU backend") {
		t.Errorf("backend %q, stderr %q; want %q", s.Backend, stderr, want)
	}
	if s.Neurons != 200 || s.Stimuli != 36 || s.Decoder == nil || s.Decoder.Steps != 30 || s.Model.Training == nil ||
		s.Model.Training.Steps != 4 || *s.V1.Seed != 3 {
		t.Errorf("summary %+v does not follow the flags", s)
	}
	for _, line := range []string{"report: backend ", "report: RSA V1 vs pool", "report: wrote " + dir} {
		if !strings.Contains(stdout, line) {
			t.Errorf("stdout does not have %q:\n%s", line, stdout)
		}
	}
}

// TestReportUsage: bad settings are usage errors naming their flags, all
// at once, before anything is read or computed.
func TestReportUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--backend", "cpu"}, "report: --out is required (see vkneuro report -h)\n"},
		{[]string{"--out", "d", "--backend", "gpu", "--epochs", "0", "--decode-l1", "-1"},
			`report: --backend "gpu", want auto, vulkan or cpu; --epochs 0, want ≥ 1; --decode-l1 -1, want ≥ 0 (see vkneuro report -h)` + "\n"},
		{[]string{"--out", "d", "extra"}, `report: unexpected arguments ["extra"] (flags only) (see vkneuro report -h)` + "\n"},
	} {
		code, _, stderr := runCmd(t, append([]string{"report"}, c.args...)...)
		if code != exitUsage || stderr != c.want {
			t.Errorf("report %q: exit %d, stderr %q; want %d, %q", c.args, code, stderr, exitUsage, c.want)
		}
	}
}

// TestReportBadFiles: an unusable input file is an error naming its flag,
// the file and what is wrong (report.TestInputErrors checks each kind).
func TestReportBadFiles(t *testing.T) {
	tmp := t.TempDir()
	noResp := filepath.Join(tmp, "noresp.npz")
	if err := data.WriteNPZ(noResp, map[string]*data.Array{"stimuli": {Shape: []int{10}, Data: make([]float32, 10)}}); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(tmp, "metrics.csv")
	if err := os.WriteFile(csv, []byte("step,loss,epoch\n1,0.5,0\n2,abc,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(tmp, "absent.npz")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--v1", noResp}, `report: --v1: data: ` + noResp + `: missing key "resp" (keys present: ["stimuli"])` + "\n"},
		{[]string{"--metrics", csv}, `report: --metrics: ` + csv + `: line 3: loss "abc" is not a number` + "\n"},
		{[]string{"--model", missing}, `report: --model: models: loading state_dict: data: open ` + missing + ": no such file or directory\n"},
	} {
		args := append([]string{"report", "--backend", "cpu", "--out", filepath.Join(tmp, "out")}, c.args...)
		code, _, stderr := runCmd(t, append(args, smallReport...)...)
		if code != exitError || stderr != c.want {
			t.Errorf("report %q: exit %d, stderr\n%q\nwant %d,\n%q", c.args, code, stderr, exitError, c.want)
		}
	}
}

// TestDecoderSameInTrainAndReport: train decode and the report's decoder
// are one task. For one V1 file and seed they hold out the same stimuli
// with the same classes, so, with the same settings, they train to the
// same loss and test score; and they reject a stimulus outside
// [0°, 360°) with the same message.
func TestDecoderSameInTrainAndReport(t *testing.T) {
	tmp := t.TempDir()
	v := data.SyntheticV1(data.SynthOptions{Neurons: 60, Stimuli: 40, Seed: 9})
	v1 := filepath.Join(tmp, "v1.npz")
	if err := data.SaveV1(v1, v); err != nil {
		t.Fatal(err)
	}
	const seed, steps = "7", "25"
	summ := filepath.Join(tmp, "train.json")
	code, _, stderr := runTrain(t, "decode", "--backend", "cpu", "--data", v1, "--seed", seed, "--iters", steps, "--summary", summ, "--quiet")
	if code != exitOK {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	var ts struct {
		FinalLoss    float64            `json:"final_loss"`
		TrainSamples int                `json:"train_samples"`
		Test         map[string]float64 `json:"test"`
	}
	b, _ := os.ReadFile(summ)
	if err := json.Unmarshal(b, &ts); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(tmp, "report")
	code, _, stderr = runCmd(t, "report", "--backend", "cpu", "--out", out, "--v1", v1, "--seed", seed,
		"--decode-steps", steps, "--model", "../../testdata/report/model.npz", "--tsne-iterations", "300")
	if code != exitOK {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	d := readReportSummary(t, out).Decoder
	if d == nil || d.TrainStimuli != ts.TrainSamples || d.TestStimuli != int(ts.Test["samples"]) ||
		d.FinalLoss != ts.FinalLoss || d.TestAccuracy != ts.Test["fraction_correct"] {
		t.Errorf("report decoder %+v\ntrain %s\nwant the same split sizes, final loss and test accuracy", d, b)
	}

	// An orientation outside [0°, 360°): the same error from both.
	v.Stimuli[5] = 360
	if err := data.SaveV1(v1, v); err != nil {
		t.Fatal(err)
	}
	want := v1 + `: key "stimuli"[5] = 360°, outside [0°, 360°) where the 20 orientation classes are defined` + "\n"
	if code, _, stderr := runTrain(t, "decode", "--backend", "cpu", "--data", v1); code != exitError || stderr != "train: "+want {
		t.Errorf("train: exit %d, stderr %q; want %d, %q", code, stderr, exitError, "train: "+want)
	}
	code, _, stderr = runCmd(t, "report", "--backend", "cpu", "--out", out, "--v1", v1, "--model", "../../testdata/report/model.npz")
	if code != exitError || stderr != "report: --v1: "+want {
		t.Errorf("report: exit %d, stderr %q; want %d, %q", code, stderr, exitError, "report: --v1: "+want)
	}
}
