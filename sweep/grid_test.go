package sweep

import (
	"errors"
	"io/fs"
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
		{`lr=[{"a":1}]`, "want a string or a number"},
	} {
		if _, err := ParseAxis(c.spec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseAxis(%q): error %v, want one saying %q", c.spec, err, c.want)
		}
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
