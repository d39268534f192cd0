package sweep

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	p := Plan{Network: "decode", Axes: []Axis{{"l2", []string{"0", "0.01", "1"}}, {"model", []string{"softmax", "relu"}}}}
	ok := func(loss, score string) string {
		return `{"steps": 50, "final_loss": ` + loss + `, "test": {"fraction_correct": ` + score + `, "samples": 144}}`
	}
	writeRun(t, d, 0, map[string]string{"summary.json": ok("0.5", "0.25"), "log.txt": "", "exit.json": `{"exit_code": 0}`})
	writeRun(t, d, 1, map[string]string{"summary.json": ok("0.25", "0.75")})
	writeRun(t, d, 2, map[string]string{"summary.json": `{"steps": 50, "final_loss": null, "test": {"mse": null, "samples": 144}}`})
	writeRun(t, d, 3, map[string]string{"log.txt": "", "exit.json": `{"exit_code": 1}`})
	writeRun(t, d, 4, map[string]string{"log.txt": "", "exit.json": `{"exit_code": -1, "signal": "interrupt"}`,
		"checkpoint/checkpoint.json": `{"step": 20}`})
	writeRun(t, d, 5, map[string]string{"log.txt": ""})
	return d, p
}

// TestCollect reads each state from the run files, and results.csv
// holds exactly the numbers of the summaries.
func TestCollect(t *testing.T) {
	d, p := statusSweep(t)
	writeRun(t, d, 1, map[string]string{"summary.json": `{"steps": 50, "final_loss": 0.1234567890123, "test": {"fraction_correct": 0.75, "samples": 144}}`})
	tab, err := Collect(d, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := tab.WriteCSV(d.Results()); err != nil {
		t.Fatal(err)
	}
	want := `index,l2,model,status,steps,final_loss,test_fraction_correct,test_samples,run
0,0,softmax,ok,50,0.5,0.25,144,runs/0
1,0,relu,ok,50,0.1234567890123,0.75,144,runs/1
2,0.01,softmax,diverged,50,,,144,runs/2
3,0.01,relu,failed,,,,,runs/3
4,1,softmax,interrupted,20,,,,runs/4
5,1,relu,incomplete,,,,,runs/5
`
	if got := readFile(t, d.Results()); got != want {
		t.Errorf("results.csv:\n%s\nwant:\n%s", got, want)
	}
	if tab.Count(StatusOK) != 2 || tab.Count(StatusPending) != 0 {
		t.Errorf("counts: %d ok, %d pending", tab.Count(StatusOK), tab.Count(StatusPending))
	}
	os.RemoveAll(string(d.Run(5)))
	if tab, _ = Collect(d, p); tab.Rows[5].Status != StatusPending {
		t.Errorf("a point without files: %q, want pending", tab.Rows[5].Status)
	}
	writeRun(t, d, 0, map[string]string{"summary.json": "{"})
	if _, err := Collect(d, p); err == nil || !strings.Contains(err.Error(), filepath.Join("runs", "0", "summary.json")) {
		t.Errorf("a torn summary: %v, want an error naming it", err)
	}
}

func TestBest(t *testing.T) {
	d, p := statusSweep(t)
	tab, err := Collect(d, p)
	if err != nil {
		t.Fatal(err)
	}
	if m := tab.DefaultMetric(); m != "test_fraction_correct" {
		t.Errorf("DefaultMetric %q", m)
	}
	for _, c := range []struct {
		metric string
		goal   Goal
		index  int
	}{
		{"test_fraction_correct", Max, 1},
		{"test_fraction_correct", Min, 0},
		{"final_loss", Min, 1},
		{"test_samples", Max, 0}, // a tie goes to the lowest index
	} {
		b, err := tab.Best(c.metric, c.goal)
		if err != nil || b.Row.Index != c.index {
			t.Errorf("Best(%s, %s) = point %d, %v; want %d", c.metric, c.goal, b.Row.Index, err, c.index)
		}
	}
	if _, err := tab.Best("test_r2", Max); err == nil || !strings.Contains(err.Error(), "columns: index, l2") {
		t.Errorf("Best of a missing column: %v", err)
	}
	if g, ok := GoalOf("test_mse"); g != Min || !ok {
		t.Errorf("GoalOf(test_mse) = %q, %v", g, ok)
	}
	b, _ := tab.Best("final_loss", Min)
	if err := WriteBest(d, p, b); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, d.Best())
	for _, want := range []string{`"index": 1`, `"value": 0.25`, `"l2": "0"`, `"model": "relu"`, `"run": "runs/1"`, `"--model=relu"`} {
		if !strings.Contains(got, want) {
			t.Errorf("best.json lacks %s:\n%s", want, got)
		}
	}
}

// TestPlot draws curves against a numeric axis and bars without one.
func TestPlot(t *testing.T) {
	d, p := statusSweep(t)
	tab, err := Collect(d, p)
	if err != nil {
		t.Fatal(err)
	}
	if x := tab.numericAxis(); x != 0 {
		t.Errorf("numericAxis %d, want 0 (l2)", x)
	}
	if tab.logScale(0) {
		t.Error("log scale for values with a 0")
	}
	b, _ := tab.Best("final_loss", Min)
	path := filepath.Join(string(d), "curves.png")
	if err := tab.Plot(path, "final_loss", &b); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, path, 640, 480)
	// model alone is not numeric: bars.
	q := Plan{Network: "decode", Axes: []Axis{{"model", []string{"softmax", "relu"}}}}
	tq, err := Collect(d, q)
	if err != nil {
		t.Fatal(err)
	}
	if tq.numericAxis() != -1 {
		t.Error("a numeric axis among model values")
	}
	if err := tq.Plot(filepath.Join(string(d), "bars.png"), "final_loss", nil); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, filepath.Join(string(d), "bars.png"), 640, 480)
	if err := tab.Plot(filepath.Join(string(d), "none.png"), "test_r2", nil); err == nil || !strings.Contains(err.Error(), "no finished point has test_r2") {
		t.Errorf("Plot of a metric no point has: %v", err)
	}
	if got := shortLabel(tab.Rows[3], 20); got != "l2=0.01 model=relu" {
		t.Errorf("shortLabel that fits: %q", got)
	}
	if got := shortLabel(tab.Rows[3], 10); got != "point 3" {
		t.Errorf("shortLabel that does not fit: %q, want point 3", got)
	}
	lr := &Table{Axes: []string{"lr"}, Rows: []Row{{Point: Point{Args: []Arg{{"lr", "0.001"}}}}, {Point: Point{Args: []Arg{{"lr", "0.1"}}}}}}
	if !lr.logScale(0) {
		t.Error("no log scale for lr 0.001 to 0.1")
	}
}

func checkPNG(t *testing.T, path string, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != w || cfg.Height != h {
		t.Errorf("%s: %dx%d, %v; want a %dx%d PNG", path, cfg.Width, cfg.Height, err, w, h)
	}
}
