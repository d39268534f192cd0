package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/engine/enginetest"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
	"github.com/vkneuro/vkneuro/models"
)

// smallArgs make the default report (synthetic V1, network trained on the
// fly) small enough for a test: 200 neurons in 72 bins of 5° (36 stimuli
// ≤ 180°), 200 training gratings for 2 epochs, a short decoder and t-SNE.
var smallArgs = []string{
	"--synthetic-neurons", "200", "--synthetic-stimuli", "72",
	"--train-samples", "200", "--epochs", "2",
	"--decode-steps", "30", "--tsne-iterations", "300",
}

// wantFigures are the PNGs every report with a trained network and a
// decoder has.
var wantFigures = []string{"gratings.png", "loss.png", "filters.png", "rdms.png", "rsa.png", "rdm_rows.png",
	"tuning.png", "tsne.png", "decoder_weights.png", "decoder_loss.png"}

type testSummary struct {
	RSA      map[string]*float64 `json:"rsa"`
	Stimuli  int                 `json:"n_stimuli"`
	Neurons  int                 `json:"n_neurons"`
	Backend  string              `json:"backend"`
	Device   string              `json:"device"`
	Model    modelSummary        `json:"model"`
	V1       v1Summary           `json:"v1"`
	Decoder  *decoderSummary     `json:"decoder"`
	Figures  []figure            `json:"figures"`
	RSANotes map[string]string   `json:"rsa_notes"`
}

func runReport(t *testing.T, args ...string) (dir string, s testSummary) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "out", "report") // nested: run must create it
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"--out", dir}, args...), &stdout, &stderr)
	t.Logf("stdout:\n%s", stdout.String())
	if stderr.Len() > 0 {
		t.Logf("stderr:\n%s", stderr.String())
	}
	if err != nil {
		t.Fatalf("run %q: %v", args, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("summary.json: %v\n%s", err, b)
	}
	return dir, s
}

// checkReport verifies what every report must contain.
func checkReport(t *testing.T, dir string, s testSummary, backend string, stimuli, neurons int) {
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
	listed := map[string]bool{}
	for _, f := range s.Figures {
		listed[f.File] = true
		if f.Caption == "" || f.Title == "" {
			t.Errorf("figure %s has no title or caption", f.File)
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

func wantAllFigures(t *testing.T, s testSummary) {
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
	dir, s := runReport(t, append([]string{"--backend", "cpu"}, smallArgs...)...)
	checkReport(t, dir, s, "cpu", 36, 200)
	wantAllFigures(t, s)
	if s.V1.Source != "synthetic" || !s.V1.Synthetic || s.V1.Seed == nil || *s.V1.Seed != 12 || s.V1.FileStimuli != 72 {
		t.Errorf("v1 %+v, want synthetic with seed 12 and 72 stimuli", s.V1)
	}
	if s.Model.Source != "trained" || s.Model.Training == nil || s.Model.Training.Steps != 4 || s.Model.Saved != "model.npz" {
		t.Errorf("model %+v, want trained for 4 steps and saved as model.npz", s.Model)
	}
	if s.Decoder == nil || s.Decoder.Neurons != 200 || s.Decoder.TrainStimuli+s.Decoder.TestStimuli != 72 {
		t.Errorf("decoder %+v, want 200 neurons and 72 stimuli", s.Decoder)
	}
	// The saved network loads back, and the metrics CSV is the loss curve.
	be := cpu.New()
	defer be.Close()
	m, err := models.NewNormative(be, gratingH, gratingW, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.LoadStateDictFile(filepath.Join(dir, "model.npz")); err != nil {
		t.Error(err)
	}
	losses, err := readMetrics(filepath.Join(dir, "train_metrics.csv"))
	if err != nil || len(losses) != 4 {
		t.Errorf("train_metrics.csv: %d losses, %v; want 4", len(losses), err)
	}

	// The same report again, with that model and metrics given as files,
	// gives the same RSA: the network is what determines it.
	_, s2 := runReport(t, append([]string{"--backend", "cpu", "--model", filepath.Join(dir, "model.npz"),
		"--metrics", filepath.Join(dir, "train_metrics.csv")}, smallArgs...)...)
	if s2.Model.Source != "file" || s2.Model.LossCurve == nil || s2.Model.LossCurve.Steps != 4 {
		t.Errorf("second run model %+v, want from file with a 4-step loss curve", s2.Model)
	}
	for _, l := range []string{"conv", "pool", "fc"} {
		if a, b := s.RSA[l], s2.RSA[l]; a == nil || b == nil || *a != *b {
			t.Errorf("rsa[%s] %v trained vs %v loaded, want equal", l, deref(a), deref(b))
		}
	}
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// useSharedVulkan makes run use the process's shared Vulkan manager.
func useSharedVulkan(t *testing.T) {
	m := enginetest.Open(t)
	oldOpen, oldClose := openEngine, closeEngine
	openEngine = func(engine.Options) (*engine.Manager, error) { return m, nil }
	closeEngine = func(*engine.Manager) error { return nil }
	t.Cleanup(func() { openEngine, closeEngine = oldOpen, oldClose })
}

func TestDefaultReportVulkan(t *testing.T) {
	useSharedVulkan(t)
	dir, s := runReport(t, append([]string{"--backend", "vulkan"}, smallArgs...)...)
	checkReport(t, dir, s, "vulkan", 36, 200)
	wantAllFigures(t, s)
}

// TestAutoBackend: auto runs on Vulkan only when a real (non-CPU) GPU is
// there; with lavapipe alone it falls back to the CPU and says so.
func TestAutoBackend(t *testing.T) {
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
	dir, s := runReport(t, append([]string{"--backend", "auto"}, smallArgs...)...)
	checkReport(t, dir, s, want, 36, 200)
}

func TestUserV1File(t *testing.T) {
	v := data.SyntheticV1(data.SynthOptions{Neurons: 150, Stimuli: 60, Seed: 5})
	v.Synthetic = false // as a user's own recording would be
	path := filepath.Join(t.TempDir(), "my_v1.npz")
	if err := data.SaveV1(path, v); err != nil {
		t.Fatal(err)
	}
	dir, s := runReport(t, append([]string{"--backend", "cpu", "--v1", path}, smallArgs...)...)
	// 60 bins of 6°: centres 3°, 9°, …, 177° are ≤ 180°.
	checkReport(t, dir, s, "cpu", 30, 150)
	if s.V1.Source != "file" || s.V1.File != path || s.V1.Synthetic || s.V1.Seed != nil || s.V1.FileStimuli != 60 {
		t.Errorf("v1 %+v, want file %s, not synthetic, 60 stimuli", s.V1, path)
	}
}

// TestBadFiles checks the exact errors for unusable inputs.
func TestBadFiles(t *testing.T) {
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
	noFC := map[string]*data.Array{}
	for k, v := range goodModel {
		noFC[k] = v
	}
	delete(noFC, "fc.weight")
	noFC["fc.weight.typo"] = arr(10, 288)
	misShaped := map[string]*data.Array{}
	for k, v := range goodModel {
		misShaped[k] = v
	}
	misShaped["out.weight"] = arr(10, 1)
	missingModel := filepath.Join(tmp, "absent.npz")
	noFCPath := write("nofc.npz", noFC)
	misShapedPath := write("misshaped.npz", misShaped)
	noResp := write("noresp.npz", map[string]*data.Array{"stimuli": arr(10)})
	badStim := write("badstim.npz", map[string]*data.Array{"resp": arr(10, 4), "stimuli": arr(9)})
	badCSV := filepath.Join(tmp, "metrics.csv")
	if err := os.WriteFile(badCSV, []byte("step,loss,epoch\n1,0.5,0\n2,abc,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--model", noFCPath},
			`--model: ` + noFCPath + `: models: normative state_dict: missing key "fc.weight" (want shape [10 288]); unexpected key "fc.weight.typo"`},
		{[]string{"--model", misShapedPath},
			`--model: ` + misShapedPath + `: models: normative state_dict: key "out.weight" has shape [10 1], want [1 10]`},
		{[]string{"--model", missingModel},
			`--model: models: loading state_dict: data: open ` + missingModel + `: no such file or directory`},
		{[]string{"--v1", noResp},
			`--v1: data: ` + noResp + `: missing key "resp" (keys present: ["stimuli"])`},
		{[]string{"--v1", badStim},
			`--v1: data: ` + badStim + `: key "stimuli": shape [9] has 9 stimuli, but key "resp" has shape [10 4] (10 stimuli)`},
		{[]string{"--metrics", badCSV},
			`--metrics: ` + badCSV + `: line 3: loss "abc" is not a finite number`},
		{[]string{"--backend", "gpu"}, `--backend "gpu", want auto, cpu or vulkan`},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		args := append([]string{"--out", filepath.Join(tmp, "out"), "--backend", "cpu"}, c.args...)
		err := run(context.Background(), args, &stdout, &stderr)
		if err == nil {
			t.Errorf("run %q: no error, want %q", c.args, c.want)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("run %q:\n got %q\nwant %q", c.args, err.Error(), c.want)
		}
	}
	if err := run(context.Background(), []string{"--backend", "cpu"}, &bytes.Buffer{}, &bytes.Buffer{}); err == nil || err.Error() != "--out is required" {
		t.Errorf("no --out: %v, want \"--out is required\"", err)
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
	r := &report{cfg: &config{}, timings: map[string]float64{}}
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

// TestFixtureReport runs the whole command on the fixture files: the RSA
// in summary.json is the tutorial's.
func TestFixtureReport(t *testing.T) {
	exp := readFixture(t)
	dir, s := runReport(t, "--backend", "cpu", "--model", filepath.Join(fixtureDir, "model.npz"),
		"--v1", filepath.Join(fixtureDir, "v1.npz"), "--decode-steps", "30", "--tsne-iterations", "300")
	checkReport(t, dir, s, "cpu", len(exp["stimuli"].Data), 64)
	for _, name := range []string{"conv", "pool", "fc"} {
		want := float64(exp["rsa_"+name].Data[0])
		if got := s.RSA[name]; got == nil || math.Abs(*got-want) > rsaTol {
			t.Errorf("summary.json rsa[%s] = %v, tutorial %v", name, deref(got), want)
		}
	}
	// No loss curve without training or --metrics.
	for _, f := range s.Figures {
		if f.File == "loss.png" {
			t.Error("loss.png drawn without any losses")
		}
	}
}

// TestMain lets TestExitCode run main in a child process.
func TestMain(m *testing.M) {
	if os.Getenv("REPORT_TEST_MAIN") == "1" {
		os.Args = append([]string{"report"}, strings.Fields(os.Getenv("REPORT_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestExitCode: a bad file ends the command with status 1 and one line on
// stderr naming the file and key, not a panic.
func TestExitCode(t *testing.T) {
	tmp := t.TempDir()
	bad := filepath.Join(tmp, "v1.npz")
	if err := data.WriteNPZ(bad, map[string]*data.Array{"resp": {Shape: []int{4, 3}, Data: make([]float32, 12)}}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "REPORT_TEST_MAIN=1",
		"REPORT_TEST_ARGS=--backend cpu --out "+filepath.Join(tmp, "out")+" --v1 "+bad)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit: %v, want status 1; stderr:\n%s", err, stderr.String())
	}
	want := `report: --v1: data: ` + bad + `: missing key "stimuli" (keys present: ["resp"])` + "\n"
	if stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
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
