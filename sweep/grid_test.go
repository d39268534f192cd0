package sweep

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseAxis(t *testing.T) {
	for _, c := range []struct {
		spec string
		want Axis
	}{
		{"l2=0,0.01,0.1", Axis{"l2", []string{"0", "0.01", "0.1"}}},
		{"--seed= 1, 2 ,3", Axis{"seed", []string{"1", "2", "3"}}},
		{"-model=relu", Axis{"model", []string{"relu"}}},
		{`arch=["Linear(80, 20), ReLU()", "Linear(80, 5)"]`, Axis{"arch", []string{"Linear(80, 20), ReLU()", "Linear(80, 5)"}}},
		{`lr=[1e-3, 0.1]`, Axis{"lr", []string{"1e-3", "0.1"}}}, // numbers as written
		{`nesterov=[true, false]`, Axis{"nesterov", []string{"true", "false"}}},
	} {
		got, err := ParseAxis(c.spec)
		if err != nil || got.Flag != c.want.Flag || !slices.Equal(got.Values, c.want.Values) {
			t.Errorf("ParseAxis(%q) = %+v, %v; want %+v", c.spec, got, err, c.want)
		}
	}
	for _, c := range []struct{ spec, want string }{
		{"l2", "want FLAG=V1,V2,..."},
		{"=1,2", "want FLAG=V1,V2,..."},
		{"l2=", "value 1 is empty"},
		{"l2=0,,1", "value 2 is empty"},
		{"seed=1,2,1", `value "1" is given twice`},
		{"lr=[0.1,", "not a JSON array"},
		{`lr=[{"a":1}]`, "want a string, a number or a boolean"},
	} {
		if _, err := ParseAxis(c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseAxis(%q): error %v, want one saying %q", c.spec, err, c.want)
		}
	}
}

// TestParseGridFile: the axes come in the file's order, values as
// written; a malformed or empty grid is refused, naming the file.
func TestParseGridFile(t *testing.T) {
	axes, err := ParseGridFile("g.json", []byte(`{"seed": [3, 1, 2], "--lr": [1e-3, "0.1"], "arch": ["Linear(80, 5), LogSoftmax(dim=1)"]}`))
	want := []Axis{{"seed", []string{"3", "1", "2"}}, {"lr", []string{"1e-3", "0.1"}}, {"arch", []string{"Linear(80, 5), LogSoftmax(dim=1)"}}}
	if err != nil || len(axes) != len(want) {
		t.Fatalf("ParseGridFile = %+v, %v; want %+v", axes, err, want)
	}
	for i := range want {
		if axes[i].Flag != want[i].Flag || !slices.Equal(axes[i].Values, want[i].Values) {
			t.Errorf("axis %d = %+v, want %+v", i, axes[i], want[i])
		}
	}
	for _, c := range []struct{ text, want string }{
		{`{}`, "g.json: the grid is empty"},
		{`{"l2": []}`, `g.json: "l2": no values`},
		{`{"l2": [0, 0]}`, `g.json: "l2": value "0" is given twice`},
		{`{"l2": 0.1}`, `g.json: "l2": the values are not a JSON array`},
		{`[["l2", 0]]`, "g.json: want a JSON object"},
		{`{"l2": [0]} {}`, "g.json: more after the JSON object"},
		{`{"l2": [0]`, "g.json: "},
	} {
		if _, err := ParseGridFile("g.json", []byte(c.text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseGridFile(%s): %v, want an error saying %q", c.text, err, c.want)
		}
	}
}

// TestParseGridFileYAMLTOML: a YAML or TOML grid gives the axes a JSON
// one does, in the file's order; their errors name the file and where.
func TestParseGridFileYAMLTOML(t *testing.T) {
	want := []Axis{{"seed", []string{"3", "1", "2"}}, {"lr", []string{"1e-3", "0.1"}}, {"nesterov", []string{"true", "false"}}, {"arch", []string{"Linear(80, 5), LogSoftmax(dim=1)"}}}
	for _, c := range []struct{ name, text string }{
		{"g.yaml", "seed: [3, 1, 2]\n--lr:\n  - 1e-3\n  - \"0.1\"\nnesterov: [true, false]\narch: [\"Linear(80, 5), LogSoftmax(dim=1)\"]\n"},
		{"g.YML", "{seed: [3, 1, 2], lr: [1e-3, 0.1], nesterov: [true, false], arch: ['Linear(80, 5), LogSoftmax(dim=1)']}"},
		{"g.toml", "seed = [3, 1, 2]\nlr = [1e-3, \"0.1\"]\nnesterov = [true, false]\narch = [\"Linear(80, 5), LogSoftmax(dim=1)\"]\n"},
	} {
		axes, err := ParseGridFile(c.name, []byte(c.text))
		if err != nil || len(axes) != len(want) {
			t.Fatalf("%s: ParseGridFile = %+v, %v; want %+v", c.name, axes, err, want)
		}
		for i := range want {
			if axes[i].Flag != want[i].Flag || !slices.Equal(axes[i].Values, want[i].Values) {
				// TOML writes numbers back in Go's shortest form.
				if c.name == "g.toml" && want[i].Flag == "lr" && slices.Equal(axes[i].Values, []string{"0.001", "0.1"}) {
					continue
				}
				t.Errorf("%s: axis %d = %+v, want %+v", c.name, i, axes[i], want[i])
			}
		}
	}
	for _, c := range []struct{ name, text, want string }{
		{"g.yaml", "", "g.yaml: the grid is empty"},
		{"g.yaml", "- l2\n- seed\n", "g.yaml: line 1: want a YAML mapping"},
		{"g.yaml", "l2: 0.1\n", `g.yaml: line 1: "l2": the values are not a YAML list`},
		{"g.yaml", "l2: [0, [1]]\n", `g.yaml: line 1: "l2": value 2 is not`},
		{"g.yaml", "l2: [0, 0]\n", `g.yaml: line 1: "l2": value "0" is given twice`},
		{"g.yaml", "l2: [0\n", "g.yaml: yaml: line"},
		{"g.toml", "", "g.toml: the grid is empty"},
		{"g.toml", "l2 = 0.1\n", `g.toml: "l2": the values are not a TOML array`},
		{"g.toml", "[opt]\nl2 = [0]\n", `g.toml: "opt": the values are not a TOML array`},
		{"g.toml", "l2 = [0, {a = 1}]\n", `g.toml: "l2": value 2 is`},
		{"g.toml", "l2 = [\n", "g.toml: toml: "},
	} {
		if _, err := ParseGridFile(c.name, []byte(c.text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseGridFile(%s, %q): %v, want an error saying %q", c.name, c.text, err, c.want)
		}
	}
}

// TestDataAxis: one value per file the glob matches, sorted, not
// directories; a glob matching nothing is an error.
func TestDataAxis(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"b.npz", "a.npz", "c.txt"} {
		if err := os.WriteFile(filepath.Join(dir, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "d.npz"), 0o755); err != nil {
		t.Fatal(err)
	}
	ax, err := DataAxis(filepath.Join(dir, "*.npz"))
	if want := []string{filepath.Join(dir, "a.npz"), filepath.Join(dir, "b.npz")}; err != nil || ax.Flag != "data" || !slices.Equal(ax.Values, want) {
		t.Errorf("DataAxis = %+v, %v; want data %q", ax, err, want)
	}
	if _, err := DataAxis(filepath.Join(dir, "*.csv")); err == nil || !strings.Contains(err.Error(), "matches no file") {
		t.Errorf("a glob matching nothing: %v", err)
	}
	if _, err := DataAxis("[a-"); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("a malformed glob: %v", err)
	}
	p := Plan{Network: "decode", Axes: []Axis{{"seed", []string{"1"}}, ax}}
	if got := p.Data(p.Point(1)); got != ax.Values[1] {
		t.Errorf("Data of point 1 = %q, want %q", got, ax.Values[1])
	}
	q := Plan{Network: "decode", Fixed: []Arg{{"data", "x.npz"}}, Axes: []Axis{{"seed", []string{"1"}}}}
	if got := q.Data(q.Point(0)); got != "x.npz" {
		t.Errorf("Data with a shared --data = %q", got)
	}
}

func testPlan() Plan {
	return Plan{Network: "decode", Fixed: []Arg{{"backend", "cpu"}, {"init", "w.npz"}},
		Axes: []Axis{{"l2", []string{"0", "0.1", "1"}}, {"seed", []string{"1", "2"}}}}
}

// TestPoints: the points are the product of the axes, last axis fastest,
// and each point's train command line carries the shared flags, its
// values and the run's files.
func TestPoints(t *testing.T) {
	p := testPlan()
	if p.Len() != 6 {
		t.Fatalf("Len %d, want 6", p.Len())
	}
	var labels []string
	for i, pt := range p.Points() {
		if pt.Index != i {
			t.Errorf("point %d has index %d", i, pt.Index)
		}
		labels = append(labels, pt.Label())
	}
	want := []string{"l2=0 seed=1", "l2=0 seed=2", "l2=0.1 seed=1", "l2=0.1 seed=2", "l2=1 seed=1", "l2=1 seed=2"}
	if !slices.Equal(labels, want) {
		t.Errorf("points %q, want %q", labels, want)
	}
	r := Dir("/s").Run(3)
	fresh := []string{"train", "decode", "--backend=cpu", "--init=w.npz", "--l2=0.1", "--seed=2",
		"--summary=/s/runs/3/summary.json", "--metrics=/s/runs/3/metrics.csv", "--save=/s/runs/3/model.npz", "--checkpoint=/s/runs/3/checkpoint"}
	if got := p.TrainArgs(p.Point(3), r, false); !slices.Equal(got, fresh) {
		t.Errorf("TrainArgs fresh:\n got %q\nwant %q", got, fresh)
	}
	// Resuming drops --init (train refuses it with --resume).
	resumed := append(slices.Delete(slices.Clone(fresh), 3, 4), "--resume=/s/runs/3/checkpoint")
	if got := p.TrainArgs(p.Point(3), r, true); !slices.Equal(got, resumed) {
		t.Errorf("TrainArgs resumed:\n got %q\nwant %q", got, resumed)
	}
	if got, want := p.PointArgs(p.Point(3)), fresh[:6]; !slices.Equal(got, want) {
		t.Errorf("PointArgs %q, want %q", got, want)
	}
}

func TestPlanCheck(t *testing.T) {
	if err := testPlan().Check(); err != nil {
		t.Errorf("a good plan: %v", err)
	}
	for _, c := range []struct {
		edit func(*Plan)
		want string
	}{
		{func(p *Plan) { p.Network = "" }, "no network"},
		{func(p *Plan) { p.Fixed = append(p.Fixed, Arg{"summary", "s.json"}) }, "--summary is set by the sweep"},
		{func(p *Plan) { p.Axes[0].Flag = "checkpoint" }, "grid axis checkpoint: --checkpoint is set by the sweep"},
		{func(p *Plan) { p.Axes[1].Flag = "backend" }, "--backend is already set by the train flags"},
		{func(p *Plan) { p.Axes[1].Flag = "l2" }, "--l2 is already set by grid axis l2"},
		{func(p *Plan) { p.Axes[1].Values = nil }, "grid axis seed has no values"},
		{func(p *Plan) { p.Axes = nil }, "nothing to sweep"},
		// --data-glob and a shared --data
		{func(p *Plan) { p.Fixed = append(p.Fixed, Arg{"data", "x.npz"}); p.Axes[0].Flag = "data" }, "grid axis data: --data is already set by the train flags"},
	} {
		p := testPlan()
		c.edit(&p)
		if err := p.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check: %v, want an error saying %q", err, c.want)
		}
	}
}

func TestIndexRanges(t *testing.T) {
	for _, c := range []struct {
		in   []int
		want string
	}{
		{[]int{0}, "0"},
		{[]int{0, 1, 2, 3}, "0-3"},
		{[]int{0, 1, 2, 3, 5, 7, 8}, "0-3,5,7-8"},
		{[]int{2, 4, 6}, "2,4,6"},
	} {
		if got := indexRanges(c.in); got != c.want {
			t.Errorf("indexRanges(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestCreate: a directory takes its plan once; the same plan again is a
// resume, another one is refused.
func TestCreate(t *testing.T) {
	d := Dir(filepath.Join(t.TempDir(), "s"))
	if _, err := Load(d); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of an empty directory: %v, want ErrNotExist", err)
	}
	p := testPlan()
	if err := Create(d, p); err != nil {
		t.Fatal(err)
	}
	if got, err := Load(d); err != nil || !got.Equal(p) {
		t.Errorf("Load = %+v, %v; want %+v", got, err, p)
	}
	if err := Create(d, p); err != nil {
		t.Errorf("Create with the same plan: %v", err)
	}
	q := testPlan()
	q.Axes[1].Values = []string{"1", "3"}
	if err := Create(d, q); err == nil || !strings.Contains(err.Error(), "holds another sweep") {
		t.Errorf("Create with another plan: %v, want a refusal", err)
	}
}
