package sweep

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/viewer/viewertest"
)

// writeRun puts files into point i's directory: name → content.
func writeRun(t *testing.T, d Dir, i int, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(string(d.Run(i)), name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// statusSweep is a 3×2 sweep whose points are in every state.
func statusSweep(t *testing.T) (Dir, Plan) {
	d := Dir(t.TempDir())
	p := Plan{Network: "decode", Fixed: []Arg{{"data", "v1.npz"}},
		Axes: []Axis{{"l2", []string{"0", "0.01", "1"}}, {"model", []string{"softmax", "relu"}}}}
	ok := func(loss, score string) string {
		return `{"steps": 50, "train_seconds": 1.5, "final_loss": ` + loss + `, "test": {"fraction_correct": ` + score + `, "samples": 144}}`
	}
	writeRun(t, d, 0, map[string]string{"summary.json": ok("0.5", "0.25"), "log.txt": "", "exit.json": `{"exit_code": 0}`})
	writeRun(t, d, 1, map[string]string{"summary.json": ok("0.25", "0.75")})
	writeRun(t, d, 2, map[string]string{"summary.json": `{"steps": 50, "train_seconds": 2, "final_loss": null, "test": {"mse": null, "samples": 144}}`})
	writeRun(t, d, 3, map[string]string{"log.txt": "", "exit.json": `{"exit_code": 1}`})
	writeRun(t, d, 4, map[string]string{"log.txt": "", "exit.json": `{"exit_code": -1, "signal": "interrupt"}`,
		"checkpoint/checkpoint.json": `{"step": 20}`})
	writeRun(t, d, 5, map[string]string{"log.txt": ""})
	return d, p
}

// TestCollect reads each state from the run files, maps it to
// results.csv's three statuses, and results.csv holds exactly the
// numbers of the summaries.
func TestCollect(t *testing.T) {
	d, p := statusSweep(t)
	writeRun(t, d, 1, map[string]string{"summary.json": `{"steps": 50, "train_seconds": 0.25, "final_loss": 0.1234567890123, "test": {"fraction_correct": 0.75, "samples": 144}}`})
	tab, err := Collect(d, p)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []State{Done, Done, Diverged, Failed, Interrupted, Started} {
		if tab.Rows[i].State != want {
			t.Errorf("point %d: state %v, want %v", i, tab.Rows[i].State, want)
		}
	}
	if err := tab.WriteCSV(d.Results()); err != nil {
		t.Fatal(err)
	}
	// Point 5 started and left nothing: once the sweep no longer runs
	// it, it has failed.
	want := `index,l2,model,data,status,train_seconds,final_loss,test_fraction_correct,test_mse,test_samples
0,0,softmax,v1.npz,ok,1.5,0.5,0.25,,144
1,0,relu,v1.npz,ok,0.25,0.1234567890123,0.75,,144
2,0.01,softmax,v1.npz,ok,2,,,,144
3,0.01,relu,v1.npz,failed,,,,,
4,1,softmax,v1.npz,skipped,,,,,
5,1,relu,v1.npz,failed,,,,,
`
	if got := readFile(t, d.Results()); got != want {
		t.Errorf("results.csv:\n%s\nwant:\n%s", got, want)
	}
	// While the sweep runs, point 5 may still be running.
	tab.Live = true
	if s := tab.Status(tab.Rows[5]); s != StatusSkipped {
		t.Errorf("a started point while the sweep runs: %q, want skipped", s)
	}
	if tab.Count(StatusOK) != 3 || tab.Count(StatusFailed) != 1 || tab.Count(StatusSkipped) != 2 {
		t.Errorf("counts: %d ok, %d failed, %d skipped", tab.Count(StatusOK), tab.Count(StatusFailed), tab.Count(StatusSkipped))
	}
	if tab.Rows[0].Ended.IsZero() || tab.Rows[3].Ended.IsZero() || !tab.Rows[5].Ended.IsZero() {
		t.Errorf("Ended: %v, %v, %v; want the summary's and exit.json's times, and none", tab.Rows[0].Ended, tab.Rows[3].Ended, tab.Rows[5].Ended)
	}
	os.RemoveAll(string(d.Run(5)))
	if tab, _ = Collect(d, p); tab.Rows[5].State != Pending || tab.Status(tab.Rows[5]) != StatusSkipped {
		t.Errorf("a point without files: %v, %q; want pending, skipped", tab.Rows[5].State, tab.Status(tab.Rows[5]))
	}
	// A Slurm task that started and left no run files has started.
	if err := os.MkdirAll(d.Slurm(), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(d.jobFile(), []byte("77\n"), 0o644)
	os.WriteFile(taskOutput(d, "77", 5), []byte("slurmstepd: error: execve(): vkneuro: No such file or directory\n"), 0o644)
	if tab, _ = Collect(d, p); tab.Rows[5].State != Started || tab.Rows[5].TaskOutput != filepath.Join(d.Slurm(), "77_5.out") {
		t.Errorf("a point whose task started: %v, output %q", tab.Rows[5].State, tab.Rows[5].TaskOutput)
	}
	if err := ForgetJob(d); err != nil {
		t.Fatal(err)
	}
	if tab, _ = Collect(d, p); tab.Rows[5].State != Pending {
		t.Errorf("after ForgetJob: %v, want pending", tab.Rows[5].State)
	}
	writeRun(t, d, 0, map[string]string{"summary.json": "{"})
	if _, err := Collect(d, p); err == nil || !strings.Contains(err.Error(), filepath.Join("runs", "0", "summary.json")) {
		t.Errorf("a torn summary: %v, want an error naming it", err)
	}
}

// TestEncodingColumns: encode's test object, with score summaries
// nested, a null summary and a string, flattens to numeric columns.
func TestEncodingColumns(t *testing.T) {
	d := Dir(t.TempDir())
	p := Plan{Network: "encode", Axes: []Axis{{"seed", []string{"1", "2"}}}}
	writeRun(t, d, 0, map[string]string{"summary.json": `{"train_seconds": 3, "final_loss": 0.5, "test": {"mse": 0.125, "samples": 10,
		"test_corr": {"median": 0.5, "mean": 0.25, "q25": 0.125, "q75": 0.75, "n": 40}, "feve": null,
		"normalized_corr_excluded": 2, "encoding_scores_error": "no"}}`})
	tab, err := Collect(d, p)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(tab.Columns(), ",")
	want := "index,seed,data,status,train_seconds,final_loss,test_corr_mean,test_corr_median,test_corr_n,test_corr_q25,test_corr_q75,test_feve,test_mse,test_normalized_corr_excluded,test_samples"
	if got != want {
		t.Errorf("columns:\n %s\nwant\n %s", got, want)
	}
	if v, ok := tab.Value(tab.Rows[0], "test_corr_median"); !ok || v != 0.5 {
		t.Errorf("test_corr_median = %v, %v", v, ok)
	}
	if _, ok := tab.Value(tab.Rows[0], "test_feve"); ok {
		t.Error("a null metric has a value")
	}
	if m := tab.MainMetric(); m != "test_mse" {
		t.Errorf("MainMetric %q, want test_mse", m)
	}
	if g, ok := GoalOf("test_corr_median"); g != Max || !ok {
		t.Errorf("GoalOf(test_corr_median) = %q, %v", g, ok)
	}
	if _, ok := GoalOf("test_corr_n"); ok {
		t.Error("GoalOf knows a count")
	}
}

func TestParseSelect(t *testing.T) {
	for _, c := range []struct {
		in     string
		metric string
		goal   Goal
	}{
		{"test_fraction_correct", "test_fraction_correct", Max},
		{"final_loss", "final_loss", Min},
		{"test_mse:max", "test_mse", Max},
		{"test_corr_n:min", "test_corr_n", Min},
	} {
		m, g, err := ParseSelect(c.in)
		if err != nil || m != c.metric || g != c.goal {
			t.Errorf("ParseSelect(%q) = %q, %q, %v; want %q, %q", c.in, m, g, err, c.metric, c.goal)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"loss", "want final_loss, train_seconds or a test metric"},
		{"test_mse:up", `the goal "up" is not min or max`},
		{"test_r2", "Write test_r2:min or test_r2:max"},
	} {
		if _, _, err := ParseSelect(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseSelect(%q): %v, want an error saying %q", c.in, err, c.want)
		}
	}
}

func TestBest(t *testing.T) {
	d, p := statusSweep(t)
	tab, err := Collect(d, p)
	if err != nil {
		t.Fatal(err)
	}
	if m := tab.MainMetric(); m != "test_fraction_correct" {
		t.Errorf("MainMetric %q", m)
	}
	for _, c := range []struct {
		metric string
		goal   Goal
		index  int
	}{
		{"test_fraction_correct", Max, 1},
		{"test_fraction_correct", Min, 0},
		{"final_loss", Min, 1},
		{"test_samples", Max, 0}, // a tie goes to the lowest index; the diverged point 2 is not a candidate
	} {
		b, err := tab.Best(c.metric, c.goal)
		if err != nil || b.Row.Index != c.index {
			t.Errorf("Best(%s, %s) = point %d, %v; want %d", c.metric, c.goal, b.Row.Index, err, c.index)
		}
	}
	if _, err := tab.Best("test_r2", Max); err == nil || !strings.Contains(err.Error(), "columns: index, l2") {
		t.Errorf("Best of a missing column: %v", err)
	}
	b, _ := tab.Best("final_loss", Min)
	if err := WriteBest(d, p, b); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, d.Best())
	for _, want := range []string{`"index": 1`, `"value": 0.25`, `"l2": "0"`, `"model": "relu"`, `"data": "v1.npz"`, `"run": "runs/1"`, `"--model=relu"`} {
		if !strings.Contains(got, want) {
			t.Errorf("best.json lacks %s:\n%s", want, got)
		}
	}
}

// TestPlot draws a panel per grid flag, by value or by place.
func TestPlot(t *testing.T) {
	d, p := statusSweep(t)
	tab, err := Collect(d, p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := tab.Best("final_loss", Min)
	path := filepath.Join(string(d), "two.png")
	if err := tab.Plot(path, "final_loss", &b, p); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 1120, 480) // two panels side by side
	l2, ok := tab.panel(p, 0, "final_loss")
	if !ok || l2.Title != "by --l2" || len(l2.Series) != 2 || l2.Series[0].Name != "model=softmax" || l2.Series[1].Name != "model=relu" {
		t.Errorf("the --l2 panel: %+v", l2)
	}
	model, _ := tab.panel(p, 1, "final_loss")
	if model.Title != "by --model: 0 softmax, 1 relu" || model.Series[0].X[0] != 0 || model.Series[0].X[1] != 1 {
		t.Errorf("the --model panel, by place: %+v", model)
	}
	if err := tab.Plot(filepath.Join(string(d), "none.png"), "test_r2", nil, p); err == nil || !strings.Contains(err.Error(), "no finished point has test_r2") {
		t.Errorf("Plot of a metric no point has: %v", err)
	}
	// A flag with one value gets no panel.
	q := Plan{Network: "decode", Axes: []Axis{{"l2", []string{"0", "0.01", "1"}}, {"model", []string{"softmax"}}}}
	tq := &Table{Axes: []string{"l2", "model"}}
	for i, pt := range q.Points() {
		tq.Rows = append(tq.Rows, Row{Point: pt, State: Done, FinalLoss: float64(i), TrainSeconds: math.NaN()})
	}
	path = filepath.Join(string(d), "one.png")
	if err := tq.Plot(path, "final_loss", nil, q); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 560, 480)
	if !logScale([]string{"0.001", "0.1"}) || logScale([]string{"0", "0.01", "1"}) || logScale([]string{"1", "2"}) {
		t.Error("logScale: want it for 0.001 to 0.1 only")
	}
	if lp, _ := (&Table{Rows: []Row{{Point: Point{Args: []Arg{{"lr", "0.001"}}}, State: Done, FinalLoss: 1}}}).panel(
		Plan{Axes: []Axis{{"lr", []string{"0.001", "0.1"}}}}, 0, "final_loss"); lp.Title != "by log10(--lr)" || lp.Series[0].X[0] != -3 {
		t.Errorf("a log10 panel: %+v", lp)
	}
	if got := shorten("/data/mouse1_session2.npz", 12); got != "…ession2.npz" {
		t.Errorf("shorten = %q", got)
	}
	if got := shortLabel(tab.Rows[3], 20); got != "l2=0.01 model=relu" {
		t.Errorf("shortLabel that fits: %q", got)
	}
	if got := shortLabel(tab.Rows[3], 10); got != "point 3" {
		t.Errorf("shortLabel that does not fit: %q, want point 3", got)
	}
}

// checkPNG fails unless path is a whole PNG of w×h pixels.
func checkPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	if b := viewertest.ReadPNG(t, path).Bounds(); b.Dx() != w || b.Dy() != h {
		t.Errorf("%s: %dx%d, want %dx%d", path, b.Dx(), b.Dy(), w, h)
	}
}
