package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/analysis/figures"
	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/engine/enginetest"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
	"github.com/vkneuro/vkneuro/models"
	"github.com/vkneuro/vkneuro/tasks"
)

// smallConfig makes the default report (synthetic V1, network trained on
// the fly) small enough for a test: 200 neurons in 72 bins of 5° (36
// stimuli ≤ 180°), 200 training gratings for 2 epochs, a short decoder
// and t-SNE. Out is a nested directory Generate must create.
func smallConfig(t *testing.T) Config {
	c := DefaultConfig()
	c.Out = filepath.Join(t.TempDir(), "out", "report")
	c.SynthNeurons, c.SynthStimuli = 200, 72
	c.TrainSamples, c.Epochs = 200, 2
	c.DecodeSteps, c.TSNEIterations = 30, 300
	// The tutorial's encoder lr 2 is for MSE over 23,589 neurons: each
	// weight's gradient is 1/N of it, so 200 neurons need a smaller rate.
	c.ReLUSteps, c.EncodeSteps, c.EncodeLR, c.EvalEvery, c.Bootstrap = 20, 20, 0.05, 5, 50
	c.Logf = t.Logf
	return c
}

// wantFigures are the PNGs every report with a trained network and a
// decoder has.
var wantFigures = []string{
	"v1_data.png", "v1_spectrum.png",
	"gratings.png", "t2_filters.png", "t2_activations.png",
	"loss.png", "filters.png", "rdms.png", "rsa.png", "rdm_rows.png", "tuning.png", "tsne.png",
	"preferred.png", "relu_loss.png", "relu_weights.png", "relu_hidden.png", "relu_test.png", "decoder_results.png", "decoder_weights.png",
	"encode_tuning.png", "encode_loss.png", "encode_predictions.png", "encode_filters.png",
	"encode_r_hist.png", "encode_ceiling.png", "encode_fits.png", "layers_vs_v1.png", "encode_rf.png", "cnn_sensitivity.png",
}

func generate(t *testing.T, c Config, be kernels.Backend) *Summary {
	t.Helper()
	s, err := Generate(context.Background(), c, be)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	// summary.json holds what Generate returned.
	b, err := os.ReadFile(filepath.Join(c.Out, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fromFile Summary
	if err := json.Unmarshal(b, &fromFile); err != nil {
		t.Fatalf("summary.json: %v\n%s", err, b)
	}
	if fromFile.Backend != s.Backend || !reflect.DeepEqual(fromFile.RSA, s.RSA) || !reflect.DeepEqual(fromFile.Figures, s.Figures) {
		t.Errorf("summary.json differs from the returned Summary:\n%s", b)
	}
	return s
}

// CheckReport verifies what every report must contain.
func checkReport(t *testing.T, dir string, s *Summary, backend string, stimuli, neurons int) {
	t.Helper()
	if s.Backend != backend || s.Device == "" {
		t.Errorf("backend %q device %q, want %q and a device", s.Backend, s.Device, backend)
	}
	if s.Stimuli != stimuli || s.Neurons != neurons {
		t.Errorf("n_stimuli %d n_neurons %d, want %d and %d", s.Stimuli, s.Neurons, stimuli, neurons)
	}
	for _, l := range []string{"conv", "pool", "fc"} {
		r := s.RSA[l]
		if r == nil || math.IsNaN(*r) || *r < -1 || *r > 1 {
			t.Errorf("rsa[%q] = %v, want a finite correlation in [−1, 1]", l, r)
		}
	}
	// The one-unit out layer has a constant RDM: no correlation, and a
	// note saying why.
	if r, ok := s.RSA["out"]; !ok || r != nil || !strings.Contains(s.RSANotes["out"], "one unit") {
		t.Errorf("rsa[out] = %v (present %v), note %q: want null with a note", r, ok, s.RSANotes["out"])
	}
	if !(s.Model.TestAccuracy >= 0 && s.Model.TestAccuracy <= 1) || s.Model.TestGratings != 180 {
		t.Errorf("model test accuracy %v on %d gratings", s.Model.TestAccuracy, s.Model.TestGratings)
	}
	// Every defined RSA has a bootstrap interval around it.
	for l, r := range s.RSA {
		if ci, ok := s.RSACI[l]; r != nil && (!ok || !(ci[0] <= *r && *r <= ci[1])) {
			t.Errorf("rsa_ci[%q] = %v (present %v), want an interval containing rsa %v", l, ci, ok, *r)
		}
	}
	listed := map[string]bool{}
	sectionNames := map[string]bool{}
	for _, sec := range sections {
		sectionNames[sec.Name] = true
	}
	for _, f := range s.Figures {
		listed[f.File] = true
		if f.Caption == "" || f.Title == "" || f.Reproduces == "" || !sectionNames[f.Section] {
			t.Errorf("figure %s: title %q, caption %q, reproduces %q, section %q: want all, in a section of the report", f.File, f.Title, f.Caption, f.Reproduces, f.Section)
		}
		checkPNG(t, filepath.Join(dir, f.File))
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for f := range listed {
		if !bytes.Contains(page, []byte(`src="`+f+`"`)) || !bytes.Contains(md, []byte("("+f+")")) {
			t.Errorf("index.html or report.md does not show %s", f)
		}
	}
	// index.html says which tutorial section each figure reproduces,
	// under its section's heading.
	text := html.UnescapeString(string(page))
	for _, f := range s.Figures {
		if !strings.Contains(text, "Reproduces: "+f.Reproduces+".") {
			t.Errorf("index.html does not say what %s reproduces (%q)", f.File, f.Reproduces)
		}
		if !strings.Contains(text, "<h2>"+f.Section+"</h2>") {
			t.Errorf("index.html has no section %q for %s", f.Section, f.File)
		}
	}
	if r := s.RSA["pool"]; r != nil && !bytes.Contains(page, []byte(fmt.Sprintf("%.4f", *r))) {
		t.Errorf("index.html does not show the pool RSA %.4f", *r)
	}
	for _, f := range []string{"summary.json", "index.html", "report.md"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v, want mode 0644", f, err)
		}
	}
	// No temporary files of the atomic writes are left behind.
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") || strings.Contains(e.Name(), ".tmp") {
			t.Errorf("left-over file %s", e.Name())
		}
	}
}

// checkPNG decodes a figure and requires real content: a sensible size,
// many colours and a good share of pixels that are not the background.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	b := img.Bounds()
	if b.Dx() < 300 || b.Dy() < 200 {
		t.Errorf("%s: %v pixels, want at least 300×200", path, b.Size())
	}
	colours := map[[4]uint32]bool{}
	nonWhite := 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			colours[[4]uint32{r, g, bl, a}] = true
			if r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				nonWhite++
			}
		}
	}
	if len(colours) < 16 || float64(nonWhite) < 0.02*float64(b.Dx()*b.Dy()) {
		t.Errorf("%s: %d colours, %d non-white pixels of %d: looks empty", path, len(colours), nonWhite, b.Dx()*b.Dy())
	}
}

func wantAllFigures(t *testing.T, s *Summary) {
	t.Helper()
	have := map[string]bool{}
	for _, f := range s.Figures {
		have[f.File] = true
	}
	for _, f := range wantFigures {
		if !have[f] {
			t.Errorf("figure %s missing from summary.json", f)
		}
	}
}

func TestDefaultReportCPU(t *testing.T) {
	be := cpu.New()
	defer be.Close()
	c := smallConfig(t)
	s := generate(t, c, be)
	checkReport(t, c.Out, s, "cpu", 36, 200)
	wantAllFigures(t, s)
	if s.V1.Source != "synthetic" || !s.V1.Synthetic || s.V1.Seed == nil || *s.V1.Seed != 12 || s.V1.FileStimuli != 72 {
		t.Errorf("v1 %+v, want synthetic with seed 12 and 72 stimuli", s.V1)
	}
	if s.Model.Source != "trained" || s.Model.Training == nil || s.Model.Training.Steps != 4 || s.Model.Saved != "model.npz" {
		t.Errorf("model %+v, want trained for 4 steps and saved as model.npz", s.Model)
	}
	// 60/40 of the 72 stimuli, the tutorial's split.
	if s.Decoder == nil || s.Decoder.Neurons != 200 || s.Decoder.TrainStimuli != 43 || s.Decoder.TestStimuli != 29 || s.Decoder.Steps != 30 ||
		s.Decoder.L1 != 5e-4 || s.Decoder.SmoothMode != "reflect" {
		t.Errorf("decoder %+v, want the penalised one: 200 neurons, 43 training and 29 test stimuli, 30 steps, smoothing mode reflect", s.Decoder)
	}
	relu, plain := s.Decoders["relu"], s.Decoders["softmax"]
	if relu == nil || relu.Class != "DeepNetReLU" || relu.Metric != "mse" || relu.Steps != 20 || len(relu.LossAt10) != 2 ||
		plain == nil || plain.L1 != 0 || plain.L2 != 0 || len(s.Decoders) != 3 {
		t.Errorf("decoders %v, want DeepNetReLU (20 steps) and DeepNetSoftmax without and with penalties", s.Decoders)
	}
	checkEncoding(t, c.Out, s, 200, 60)
	for _, v := range []string{"fc", "convfc"} {
		n := s.BonusNetworks[v]
		if n == nil || n.Steps != 4 || n.RSA["fc"] == nil {
			t.Errorf("bonus network %s: %+v, want trained for 4 steps with an RSA for fc", v, n)
		}
	}
	if n := s.BonusNetworks["convfc"]; n == nil || n.RSA["conv"] == nil || n.Layers["conv"] != 6*48*64 {
		t.Errorf("bonus network ConvFC %+v, want its conv layer of 6×48×64 units compared", n)
	}
	// The saved network loads back, and the metrics CSV is the loss curve.
	m, err := models.NewNormative(be, gratingH, gratingW, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.LoadStateDictFile(filepath.Join(c.Out, "model.npz")); err != nil {
		t.Error(err)
	}
	mt, err := readMetrics(filepath.Join(c.Out, "train_metrics.csv"))
	if err != nil || len(mt.Loss) != 4 {
		t.Errorf("train_metrics.csv: %d losses, %v; want 4", len(mt.Loss), err)
	}

	// The same report again, with that model and metrics given as files,
	// gives the same RSA: the network is what determines it.
	c2 := smallConfig(t)
	c2.ModelPath, c2.MetricsPath = filepath.Join(c.Out, "model.npz"), filepath.Join(c.Out, "train_metrics.csv")
	s2 := generate(t, c2, be)
	if s2.Model.Source != "file" || s2.Model.LossCurve == nil || s2.Model.LossCurve.Steps != 4 {
		t.Errorf("second run model %+v, want from file with a 4-step loss curve", s2.Model)
	}
	for _, l := range []string{"conv", "pool", "fc"} {
		if a, b := s.RSA[l], s2.RSA[l]; a == nil || b == nil || *a != *b {
			t.Errorf("rsa[%s] %v trained vs %v loaded, want equal", l, deref(a), deref(b))
		}
	}
}

// checkEncoding checks the encoding section's summary and encoding.npz
// for split data of S stimuli × N neurons.
func checkEncoding(t *testing.T, dir string, s *Summary, N, S int) {
	t.Helper()
	e := s.Encode
	if e == nil {
		t.Fatal("no encode in summary.json")
	}
	for name, sum := range map[string]analysis.Summary{"test_corr": e.TestCorr, "reliability": e.Reliability, "normalized_corr": e.NormCorr, "feve": e.FEVE} {
		if sum.N < 1 || sum.N > N || !(sum.Q25 <= sum.Median && sum.Median <= sum.Q75) {
			t.Errorf("encode.%s = %+v, want a summary over 1…%d neurons", name, sum, N)
		}
	}
	for _, f := range []string{"pixels", "conv", "pool", "fc"} {
		r, ok := s.Ridge[f]
		if !ok || r.TestCorr.N < 1 || r.Alpha.N != N || r.Alpha.Median <= 0 {
			t.Errorf("ridge.%s = %+v (present %v), want scores and alphas of %d neurons", f, r, ok, N)
		}
	}
	if c := s.RSANoiseCeiling; c == nil || *c < -1 || *c > 1 || s.RSANoiseCeilingCI == nil {
		t.Errorf("rsa_noise_ceiling %v, interval %v", c, s.RSANoiseCeilingCI)
	}
	arrs, err := data.ReadNPZ(filepath.Join(dir, "encoding.npz"))
	if err != nil {
		t.Fatal(err)
	}
	features := map[string]int{"pixels": 12 * 16, "conv": 6 * 48 * 64, "pool": 6 * 6 * 8, "fc": 10}
	want := map[string][]int{"test_corr": {N}, "reliability": {N}, "feve": {N}, "normalized_corr": {N}, "prediction": {S, N}}
	for f, d := range features {
		want["ridge_"+f+"_alpha"], want["ridge_"+f+"_test_corr"], want["features_"+f] = []int{N}, []int{N}, []int{S, d}
	}
	for k, shape := range want {
		if a := arrs[k]; a == nil || !slices.Equal(a.Shape, shape) {
			t.Errorf("encoding.npz %q: %v, want shape %v", k, a, shape)
		}
	}
	// The per-neuron arrays are what the summary summarises.
	if got, err := analysis.Summarize(figures.Float64s(arrs["test_corr"].Data)); err != nil || math.Abs(got.Median-e.TestCorr.Median) > 1e-6 {
		t.Errorf("median of encoding.npz test_corr %v (%v), summary %v", got.Median, err, e.TestCorr.Median)
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func TestDefaultReportVulkan(t *testing.T) {
	be, err := vulkan.New(enginetest.Open(t))
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	c := smallConfig(t)
	s := generate(t, c, be)
	checkReport(t, c.Out, s, "vulkan", 36, 200)
	wantAllFigures(t, s)
}

// TestUserV1File reads the V1 data from a file whose name has characters
// that HTML and a Markdown table must escape: the pages show the name
// as it is, not as markup.
func TestUserV1File(t *testing.T) {
	v := data.SyntheticV1(data.SynthOptions{Neurons: 150, Stimuli: 60, Seed: 5})
	v.Synthetic = false // as a user's own recording would be
	path := filepath.Join(t.TempDir(), "my <i>&v1 | data.npz")
	if err := data.SaveV1(path, v); err != nil {
		t.Fatal(err)
	}
	split := data.SyntheticV1Split(data.SynthOptions{Neurons: 150, Stimuli: 40, Seed: 6})
	split.Synthetic = false
	splitPath := filepath.Join(t.TempDir(), "my split.npz")
	if err := data.SaveV1Split(splitPath, split); err != nil {
		t.Fatal(err)
	}
	be := cpu.New()
	defer be.Close()
	c := smallConfig(t)
	c.V1Path, c.V1SplitPath, c.BinWidth = path, splitPath, 1
	s := generate(t, c, be)
	checkEncoding(t, c.Out, s, 150, 40)
	if s.Encode.Data != splitPath || s.Encode.RSAStimuli != 20 {
		t.Errorf("encode data %q over %d stimuli, want %s and its 20 stimuli ≤ 180°", s.Encode.Data, s.Encode.RSAStimuli, splitPath)
	}
	// 60 bins of 6°: centres 3°, 9°, …, 177° are ≤ 180°.
	checkReport(t, c.Out, s, "cpu", 30, 150)
	if s.V1.Source != "file" || s.V1.File != path || s.V1.Synthetic || s.V1.Seed != nil || s.V1.FileStimuli != 60 {
		t.Errorf("v1 %+v, want file %s, not synthetic, 60 stimuli", s.V1, path)
	}
	page, _ := os.ReadFile(filepath.Join(c.Out, "index.html"))
	md, _ := os.ReadFile(filepath.Join(c.Out, "report.md"))
	if bytes.Contains(page, []byte("<i>")) || !bytes.Contains(page, []byte("my &lt;i&gt;&amp;v1 | data.npz")) {
		t.Errorf("index.html does not escape the file name:\n%s", page)
	}
	if !bytes.Contains(md, []byte(`my <i>&v1 \| data.npz`)) {
		t.Errorf("report.md does not escape the | of the file name in its table:\n%s", md)
	}
}

// TestBinWidth: --bin-width bins the V1 data as the tutorials'
// load_data(bin_width) before anything uses it.
func TestBinWidth(t *testing.T) {
	be := cpu.New()
	defer be.Close()
	c := smallConfig(t)
	c.BinWidth = 10 // 72 bins of 5° become 36 of 10°, 18 of them ≤ 180°
	c.ReLUSteps, c.EncodeSteps, c.BonusNetworks = 0, 0, false
	s := generate(t, c, be)
	if s.Stimuli != 18 || s.V1.BinWidth != 10 || s.Decoder.TrainStimuli+s.Decoder.TestStimuli != 36 || !strings.Contains(s.V1.Description, "10° bins") {
		t.Errorf("%d stimuli compared, v1 %+v, decoder on %d+%d: want 18, bin width 10 and 36", s.Stimuli, s.V1, s.Decoder.TrainStimuli, s.Decoder.TestStimuli)
	}
	if s.Encode != nil || len(s.Decoders) != 2 {
		t.Errorf("encode %v, decoders %v: want none and two (no DeepNetReLU)", s.Encode, s.Decoders)
	}
}

// TestInputErrors checks the errors for unusable inputs: an *InputError
// naming which input, whose message names the file and what is wrong.
func TestInputErrors(t *testing.T) {
	tmp := t.TempDir()
	write := func(name string, arrays map[string]*data.Array) string {
		p := filepath.Join(tmp, name)
		if err := data.WriteNPZ(p, arrays); err != nil {
			t.Fatal(err)
		}
		return p
	}
	arr := func(shape ...int) *data.Array {
		return &data.Array{Shape: shape, Data: make([]float32, kernels.Numel(shape))}
	}
	goodModel := map[string]*data.Array{"conv.weight": arr(6, 1, 7, 7), "conv.bias": arr(6), "fc.weight": arr(10, 288),
		"fc.bias": arr(10), "out.weight": arr(1, 10), "out.bias": arr(1)}
	noFC := maps(goodModel)
	delete(noFC, "fc.weight")
	noFC["fc.weight.typo"] = arr(10, 288)
	misShaped := maps(goodModel)
	misShaped["out.weight"] = arr(10, 1)
	missingModel := filepath.Join(tmp, "absent.npz")
	noFCPath := write("nofc.npz", noFC)
	misShapedPath := write("misshaped.npz", misShaped)
	noResp := write("noresp.npz", map[string]*data.Array{"stimuli": arr(10)})
	badStim := write("badstim.npz", map[string]*data.Array{"resp": arr(10, 4), "stimuli": arr(9)})
	outOfRange := data.SyntheticV1(data.SynthOptions{Neurons: 20, Stimuli: 12, Seed: 1})
	outOfRange.Stimuli[7] = 365
	outOfRangePath := filepath.Join(tmp, "range.npz")
	if err := data.SaveV1(outOfRangePath, outOfRange); err != nil {
		t.Fatal(err)
	}
	badCSV := filepath.Join(tmp, "metrics.csv")
	if err := os.WriteFile(badCSV, []byte("step,loss,epoch\n1,0.5,0\n2,abc,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badHalves := write("halves.npz", map[string]*data.Array{"resp_train": arr(10, 4), "resp_test": arr(10, 5), "stimuli": arr(10)})
	fewStimuli := write("few.npz", map[string]*data.Array{"resp_train": arr(4, 3), "resp_test": arr(4, 3), "stimuli": arr(4)})
	// An encoder for another number of neurons than the split data's 200.
	wrongEncoder := write("encoder.npz", map[string]*data.Array{"conv.weight": arr(6, 1, 7, 7), "conv.bias": arr(6),
		"out_layer.weight": arr(7, 6*12*16), "out_layer.bias": arr(7)})
	nanCSV := filepath.Join(tmp, "nan.csv")
	if err := os.WriteFile(nanCSV, []byte("step,loss,epoch\n1,0.5,0\n2,NaN,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		set   func(*Config)
		input Input
		want  string
	}{
		{func(c *Config) { c.ModelPath = noFCPath }, InputModel,
			noFCPath + `: models: normative state_dict: missing key "fc.weight" (want shape [10 288]); unexpected key "fc.weight.typo"`},
		{func(c *Config) { c.ModelPath = misShapedPath }, InputModel,
			misShapedPath + `: models: normative state_dict: key "out.weight" has shape [10 1], want [1 10]`},
		{func(c *Config) { c.ModelPath = missingModel }, InputModel,
			`models: loading state_dict: data: open ` + missingModel + `: no such file or directory`},
		{func(c *Config) { c.V1Path = noResp }, InputV1,
			`data: ` + noResp + `: missing key "resp" (keys present: ["stimuli"])`},
		{func(c *Config) { c.V1Path = badStim }, InputV1,
			`data: ` + badStim + `: key "stimuli": shape [9] has 9 stimuli, but key "resp" has shape [10 4] (10 stimuli)`},
		{func(c *Config) { c.V1Path = outOfRangePath }, InputV1,
			outOfRangePath + `: key "stimuli"[7] = 365°, outside [0°, 360°) where the 20 orientation classes are defined`},
		{func(c *Config) { c.MetricsPath = badCSV }, InputMetrics, badCSV + `: line 3: loss "abc" is not a number`},
		{func(c *Config) { c.MetricsPath = nanCSV }, InputMetrics, nanCSV + `: line 3: loss NaN is not finite (the run diverged), nothing to plot`},
		{func(c *Config) { c.V1SplitPath = badHalves }, InputV1Split,
			`data: ` + badHalves + `: key "resp_test": shape [10 5] differs from key "resp_train" shape [10 4]`},
		{func(c *Config) { c.V1SplitPath = fewStimuli }, InputV1Split,
			fewStimuli + `: 4 stimuli, want at least 5: the ridge baselines cross-validate over 5 folds of stimuli`},
		{func(c *Config) { c.EncoderPath = wrongEncoder }, InputEncoder,
			wrongEncoder + `: models: encode state_dict: key "out_layer.weight" has shape [7 1152], want [200 1152]; key "out_layer.bias" has shape [7], want [200]`},
	}
	be := cpu.New()
	defer be.Close()
	for _, tc := range cases {
		c := smallConfig(t)
		tc.set(&c)
		_, err := Generate(context.Background(), c, be)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Input != tc.input || ie.Err.Error() != tc.want {
			t.Errorf("Generate: %v\nwant an InputError of %s: %s", err, tc.input, tc.want)
		}
		// Bad inputs fail before the long steps: nothing was trained.
		if _, err := os.Stat(filepath.Join(c.Out, "model.npz")); err == nil && c.ModelPath == "" {
			t.Errorf("%s: the network was trained before the bad input was found", tc.want)
		}
	}
}

// TestRidgeLayerError: a ridge layer the network does not have is an
// error naming the flag and the layers there are, before any training.
func TestRidgeLayerError(t *testing.T) {
	c := smallConfig(t)
	c.RidgeLayers = []string{"pool", "fc2"}
	be := cpu.New()
	defer be.Close()
	_, err := Generate(context.Background(), c, be)
	if err == nil || err.Error() != `--ridge-layers: the network has no layer "fc2" (it has conv, pool, fc, out)` {
		t.Errorf("Generate: %v", err)
	}
	if _, err := os.Stat(filepath.Join(c.Out, "model.npz")); err == nil {
		t.Error("the network was trained before the bad layer name was found")
	}
}

func maps(m map[string]*data.Array) map[string]*data.Array {
	out := map[string]*data.Array{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestProblems: each unusable setting is named as its flag, and Generate
// refuses the Config before touching anything.
func TestProblems(t *testing.T) {
	c := DefaultConfig()
	if ps := (&Config{Out: "x", SynthNeurons: 2, SynthStimuli: 8, TrainSamples: 1, Epochs: 1, Batch: 1, LR: 1,
		DecodeHidden: 1, DecodeClasses: 2, DecodeLR: 1, TSNEIterations: 300, TuningUnits: 1,
		ReLUHidden: 1, ReLULR: 1, EncodeLR: 1, Bootstrap: 2}).Problems(); len(ps) != 0 {
		t.Errorf("the smallest usable Config has problems %v", ps)
	}
	c.DecodeSteps, c.Momentum, c.TSNEIterations = -1, 1, 100
	c.BinWidth, c.RidgeAlphas, c.SmoothMode = 0.5, []float64{1, 0, math.Inf(1)}, analysis.Boundary(7)
	want := []Problem{{"out", "is required"}, {"momentum", "1, want 0 ≤ momentum < 1"},
		{"decode-steps", "-1, want ≥ 0"}, {"tsne-iterations", "100, want ≥ 300 (250 are early exaggeration)"},
		{"bin-width", "0.5, want degrees in [1, 360) (0 or 1: no binning)"}, {"smooth-mode", "Boundary(7), want reflect or wrap"},
		{"ridge-alphas", "alpha 2 is 0, want positive and finite"}, {"ridge-alphas", "alpha 3 is +Inf, want positive and finite"}}
	if got := c.Problems(); !slices.Equal(got, want) {
		t.Errorf("Problems() = %v, want %v", got, want)
	}
	c.BinWidth, c.RidgeAlphas, c.SmoothMode = 0, nil, analysis.Reflect
	_, err := Generate(context.Background(), c, cpu.New())
	if err == nil || err.Error() != "report: config: out is required; momentum 1, want 0 ≤ momentum < 1; decode-steps -1, want ≥ 0; tsne-iterations 100, want ≥ 300 (250 are early exaggeration)" {
		t.Errorf("Generate with a bad Config: %v", err)
	}
}

// TestDefaultConfig: the report trains and decodes with the tutorials'
// settings, the ones the train subcommand uses.
func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	norm, dec := tasks.MustDefaultsFor(tasks.Normative, ""), tasks.MustDefaultsFor(tasks.Decode, models.DecodeSoftmax)
	if c.Epochs != norm.Epochs || c.Batch != norm.Batch || c.LR != norm.LR || c.Momentum != norm.Momentum ||
		c.TrainSamples != norm.NTrain || uint64(c.Seed) != norm.Seed {
		t.Errorf("normative training %+v, tutorial %+v", c, norm)
	}
	if c.DecodeSteps != dec.Epochs || c.DecodeHidden != dec.Hidden || c.DecodeClasses != dec.Classes ||
		c.DecodeLR != dec.LR || c.DecodeL2 != dec.L2 || c.DecodeL1 != dec.L1 {
		t.Errorf("decoder %+v, tutorial %+v", c, dec)
	}
}

// fixture is testdata/report, written by gen_rsa_fixture.py with the
// tutorial's own PyTorch code.
const fixtureDir = "../../testdata/report"

func readFixture(t *testing.T) map[string]*data.Array {
	t.Helper()
	exp, err := data.ReadNPZ(filepath.Join(fixtureDir, "expected.npz"))
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

// Tolerances against PyTorch. Hidden activity: float32 convolutions and
// GEMMs summing 49 or 288 products in another order differ by a few ulps of
// the largest terms, so atol 1e-4 + rtol 1e-4. RSA: both sides compute the
// RDMs in float32 (errors ~1e-6 per entry, 16,110 entries) and correlate in
// float64, so 1e-4 is loose for rounding but far below any real change.
const (
	hiddenAtol, hiddenRtol = 1e-4, 1e-4
	rsaTol                 = 1e-4
)

// fixtureRSA checks the pipeline's hidden activity, RDMs and RSA against
// the PyTorch fixture on one backend.
func fixtureRSA(t *testing.T, be kernels.Backend) {
	exp := readFixture(t)
	v1, err := data.LoadV1(filepath.Join(fixtureDir, "v1.npz"))
	if err != nil {
		t.Fatal(err)
	}
	net, err := models.NewNormative(be, gratingH, gratingW, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()
	if err := net.LoadStateDictFile(filepath.Join(fixtureDir, "model.npz")); err != nil {
		t.Fatal(err)
	}
	r := &report{cfg: &Config{}, timings: map[string]float64{}}
	if err := r.hiddenActivity(net, v1); err != nil {
		t.Fatal(err)
	}
	stim := exp["stimuli"].Data
	if r.S != len(stim) {
		t.Fatalf("%d stimuli, fixture has %d", r.S, len(stim))
	}
	for i := range stim {
		if r.stim[i] != stim[i] {
			t.Fatalf("stimulus %d = %v, fixture %v", i, r.stim[i], stim[i])
		}
	}
	for _, name := range []string{"pool", "fc", "out"} {
		want := exp["hidden_"+name]
		l := r.layer(name)
		if l == nil || len(l.Resp) != len(want.Data) {
			t.Fatalf("layer %s: %v, fixture shape %v", name, l, want.Shape)
		}
		worst := 0.0
		for i, w := range want.Data {
			d := math.Abs(float64(l.Resp[i] - w))
			if d > hiddenAtol+hiddenRtol*math.Abs(float64(w)) {
				t.Errorf("%s[%d] = %v, PyTorch %v", name, i, l.Resp[i], w)
				break
			}
			worst = max(worst, d)
		}
		t.Logf("%s: max |Go − PyTorch| = %.2g", name, worst)
	}
	if err := r.rdms(be); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"conv", "pool", "fc"} {
		want := float64(exp["rsa_"+name].Data[0])
		l := r.layer(name)
		if l.RSA == nil || math.Abs(*l.RSA-want) > rsaTol {
			t.Errorf("RSA %s = %v, tutorial %v (tolerance %g)", name, deref(l.RSA), want, rsaTol)
		} else {
			t.Logf("RSA %s = %.6f, tutorial %.6f", name, *l.RSA, want)
		}
	}
	if !math.IsNaN(float64(exp["rsa_out"].Data[0])) || r.layer("out").RSA != nil {
		t.Errorf("RSA out: fixture %v, Go %v; want NaN and undefined", exp["rsa_out"].Data[0], deref(r.layer("out").RSA))
	}
}

func TestFixtureRSACPU(t *testing.T) {
	be := cpu.New()
	defer be.Close()
	fixtureRSA(t, be)
}

func TestFixtureRSAVulkan(t *testing.T) {
	be, err := vulkan.New(enginetest.Open(t))
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	fixtureRSA(t, be)
}

// TestFixtureReport runs the whole pipeline on the fixture files: the RSA
// in summary.json is the tutorial's.
func TestFixtureReport(t *testing.T) {
	exp := readFixture(t)
	be := cpu.New()
	defer be.Close()
	c := smallConfig(t)
	c.ModelPath, c.V1Path = filepath.Join(fixtureDir, "model.npz"), filepath.Join(fixtureDir, "v1.npz")
	s := generate(t, c, be)
	checkReport(t, c.Out, s, "cpu", len(exp["stimuli"].Data), 64)
	for _, name := range []string{"conv", "pool", "fc"} {
		want := float64(exp["rsa_"+name].Data[0])
		if got := s.RSA[name]; got == nil || math.Abs(*got-want) > rsaTol {
			t.Errorf("summary.json rsa[%s] = %v, tutorial %v", name, deref(got), want)
		}
	}
	// No loss curve without training or a metrics file.
	for _, f := range s.Figures {
		if f.File == "loss.png" {
			t.Error("loss.png drawn without any losses")
		}
	}
}

func TestBlockColumns(t *testing.T) {
	w := []float32{1, 2, 3, 4, 5, 10, 20, 30, 40, 50} // 2×5
	got, cols := blockColumns(w, 2, 5, 3)             // blocks of 2: {1,2} {3,4} {5}
	want := []float32{1.5, 3.5, 5, 15, 35, 50}
	if cols != 3 || !slices.Equal(got, want) {
		t.Errorf("blockColumns = %v (%d cols), want %v (3)", got, cols, want)
	}
	if got, cols := blockColumns(w, 2, 5, 5); cols != 5 || !slices.Equal(got, w) {
		t.Errorf("blockColumns with room = %v (%d cols), want the input", got, cols)
	}
}
