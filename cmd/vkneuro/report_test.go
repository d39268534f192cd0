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
// neurons in 72 bins of 5°, 200 training gratings for 2 epochs, short
// decoders, encoder (at a rate for 200 neurons) and t-SNE, few bootstrap
// resamples.
var smallReport = []string{
	"--synthetic-neurons", "200", "--synthetic-stimuli", "72",
	"--train-samples", "200", "--epochs", "2",
	"--decode-steps", "30", "--relu-steps", "10", "--tsne-iterations", "300",
	"--encode-steps", "10", "--encode-lr", "0.05", "--bootstrap", "20", "--eval-every", "5",
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

// trainSummaryJSON is what the report tests read of train --summary.
type trainSummaryJSON struct {
	FinalLoss    float64            `json:"final_loss"`
	TrainSamples int                `json:"train_samples"`
	Test         map[string]float64 `json:"test"`
}

// readTrainSummary reads train --summary's file, and returns its bytes
// for messages.
func readTrainSummary(t *testing.T, path string) (trainSummaryJSON, []byte) {
	t.Helper()
	var ts trainSummaryJSON
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &ts)
	}
	if err != nil {
		t.Fatal(err)
	}
	return ts, b
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
		{[]string{"--out", "d", "--smooth-mode", "circle", "--ridge-alphas", "1,x,-2", "--bin-width", "0.5"},
			`report: --smooth-mode "circle", want "reflect" or "wrap"; --ridge-alphas: alpha 2 "x" is not a number; --bin-width 0.5, want degrees in [1, 360) (0 or 1: no binning); --ridge-alphas alpha 2 is -2, want positive and finite (see vkneuro report -h)` + "\n"},
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
	halves := filepath.Join(tmp, "halves.npz")
	if err := data.WriteNPZ(halves, map[string]*data.Array{"resp_train": {Shape: []int{6, 2}, Data: make([]float32, 12)},
		"resp_test": {Shape: []int{5, 2}, Data: make([]float32, 10)}, "stimuli": {Shape: []int{6}, Data: make([]float32, 6)}}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--v1", noResp}, `report: --v1: data: ` + noResp + `: missing key "resp" (keys present: ["stimuli"])` + "\n"},
		{[]string{"--metrics", csv}, `report: --metrics: ` + csv + `: line 3: loss "abc" is not a number` + "\n"},
		{[]string{"--model", missing}, `report: --model: models: loading state_dict: data: open ` + missing + ": no such file or directory\n"},
		{[]string{"--v1-split", halves}, `report: --v1-split: data: ` + halves + `: key "resp_test": shape [5 2] differs from key "resp_train" shape [6 2]` + "\n"},
		{[]string{"--encoder", missing}, `report: --encoder: models: loading state_dict: data: open ` + missing + ": no such file or directory\n"},
		{[]string{"--ridge-layers", "pool,fc9"}, `report: --ridge-layers: the network has no layer "fc9" (it has conv, pool, fc, out)` + "\n"},
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
	ts, b := readTrainSummary(t, summ)
	out := filepath.Join(tmp, "report")
	code, _, stderr = runCmd(t, "report", "--backend", "cpu", "--out", out, "--v1", v1, "--seed", seed,
		"--decode-steps", steps, "--model", "../../testdata/report/model.npz", "--tsne-iterations", "300",
		"--synthetic-neurons", "60", "--relu-steps", "0", "--encode-steps", "0", "--bonus-networks=false")
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

// TestBinWidthInTrainAndReport: --bin-width bins the V1 data for train
// decode and for the report alike, so that with one seed they split the
// same binned stimuli.
func TestBinWidthInTrainAndReport(t *testing.T) {
	tmp := t.TempDir()
	v1 := filepath.Join(tmp, "v1.npz")
	if err := data.SaveV1(v1, data.SyntheticV1(data.SynthOptions{Neurons: 40, Stimuli: 360, Seed: 2})); err != nil {
		t.Fatal(err)
	}
	summ := filepath.Join(tmp, "train.json")
	if code, _, stderr := runTrain(t, "decode", "--backend", "cpu", "--data", v1, "--bin-width", "8", "--iters", "3", "--summary", summ, "--quiet"); code != exitOK {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	ts, _ := readTrainSummary(t, summ)
	out := filepath.Join(tmp, "report")
	code, _, stderr := runCmd(t, "report", "--backend", "cpu", "--out", out, "--v1", v1, "--bin-width", "8", "--decode-steps", "3",
		"--model", "../../testdata/report/model.npz", "--tsne-iterations", "300", "--synthetic-neurons", "40",
		"--relu-steps", "0", "--encode-steps", "0", "--bonus-networks=false", "--smooth-mode", "wrap")
	if code != exitOK {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	s := readReportSummary(t, out)
	// 45 bins of 8°: 27 train, 18 test; 23 of them ≤ 180°.
	if ts.TrainSamples != 27 || int(ts.Test["samples"]) != 18 || s.Decoder.TrainStimuli != 27 || s.Decoder.TestStimuli != 18 ||
		s.Stimuli != 23 || s.V1.BinWidth != 8 || s.Decoder.SmoothMode != "wrap" {
		t.Errorf("train %d/%d, report %d/%d stimuli, %d compared, v1 %+v, smoothing %q; want 27/18 both, 23, bin width 8, wrap",
			ts.TrainSamples, int(ts.Test["samples"]), s.Decoder.TrainStimuli, s.Decoder.TestStimuli, s.Stimuli, s.V1, s.Decoder.SmoothMode)
	}
	if code, _, stderr := runTrain(t, "decode", "--backend", "cpu", "--data", v1, "--bin-width", "-3"); code != exitError || !strings.Contains(stderr, "--bin-width -3") {
		t.Errorf("train --bin-width -3: exit %d, %q", code, stderr)
	}
}
