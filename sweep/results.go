package sweep

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vkneuro/vkneuro/internal/atomicfile"
)

// A point's status, as Collect reads it from its directory.
const (
	StatusOK          = "ok"          // finished: summary.json written
	StatusDiverged    = "diverged"    // finished with a NaN or infinite loss
	StatusFailed      = "failed"      // train exited with an error
	StatusInterrupted = "interrupted" // stopped by SIGINT/SIGTERM; a rerun resumes it
	StatusIncomplete  = "incomplete"  // started, no exit recorded: still running, or killed (kill -9, a Slurm time limit)
	StatusPending     = "pending"     // not started
)

// Row is one point's results.
type Row struct {
	Point
	Status string
	Exit   Exit // how its last attempt ended, when it has one
	// Steps is the steps done (the checkpoint's for a run that did not
	// finish), 0 when unknown; FinalLoss is NaN unless it finished.
	Steps     int
	FinalLoss float64
	// Test is the summary's test metrics (e.g. fraction_correct,
	// samples), nil without.
	Test map[string]float64
}

// Table is the results of every point of a sweep.
type Table struct {
	Axes []string // the grid's flags
	Rows []Row    // in point order
	// runs[i] is Rows[i]'s directory relative to the sweep's, as
	// results.csv names it.
	runs []string
}

// summaryFields are what Collect reads of train's summary.json.
type summaryFields struct {
	Steps     int                 `json:"steps"`
	FinalLoss *float64            `json:"final_loss"` // null: diverged
	Test      map[string]*float64 `json:"test"`       // null: not finite (train writes NaN so)
}

// Collect reads every point's state from its directory under d.
func Collect(d Dir, p Plan) (*Table, error) {
	t := &Table{}
	for _, ax := range p.Axes {
		t.Axes = append(t.Axes, ax.Flag)
	}
	for _, pt := range p.Points() {
		r := d.Run(pt.Index)
		row := Row{Point: pt, FinalLoss: math.NaN()}
		var s summaryFields
		done, err := readJSON(r.Summary(), &s)
		if err != nil {
			return nil, err
		}
		switch {
		case done:
			row.Status, row.Steps = StatusOK, s.Steps
			for k, v := range s.Test {
				if v != nil {
					if row.Test == nil {
						row.Test = map[string]float64{}
					}
					row.Test[k] = *v
				}
			}
			if s.FinalLoss != nil {
				row.FinalLoss = *s.FinalLoss
			} else {
				row.Status = StatusDiverged
			}
		default:
			if row.Status, err = unfinished(r, &row.Exit); err != nil {
				return nil, err
			}
			var ck struct {
				Step int `json:"step"`
			}
			if _, err := readJSON(r.checkpointMeta(), &ck); err != nil {
				return nil, err
			}
			row.Steps = ck.Step
		}
		rel, err := filepath.Rel(string(d), string(r))
		if err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, row)
		t.runs = append(t.runs, filepath.ToSlash(rel))
	}
	return t, nil
}

// unfinished is the status of a run without a summary, with its exit
// record in *e.
func unfinished(r Run, e *Exit) (string, error) {
	recorded, err := readJSON(r.Exit(), e)
	switch {
	case err != nil:
		return "", err
	case recorded && e.Interrupted():
		return StatusInterrupted, nil
	case recorded:
		return StatusFailed, nil
	}
	if _, err := os.Stat(r.Log()); err == nil {
		return StatusIncomplete, nil
	}
	return StatusPending, nil
}

// testColumn is results.csv's column of test metric k.
func testColumn(k string) string { return "test_" + k }

// Columns are results.csv's columns: index, the axes, status, steps,
// final_loss, test_<metric> for every test metric some point has
// (sorted), and run (the point's directory).
func (t *Table) Columns() []string {
	cols := slices.Concat([]string{"index"}, t.Axes, []string{"status", "steps", "final_loss"})
	var test []string
	for _, r := range t.Rows {
		for k := range r.Test {
			if c := testColumn(k); !slices.Contains(test, c) {
				test = append(test, c)
			}
		}
	}
	slices.Sort(test)
	return append(append(cols, test...), "run")
}

// Value is row r's number in a numeric column (steps, final_loss or a
// test metric); ok is false when r has none there.
func (t *Table) Value(r Row, col string) (v float64, ok bool) {
	switch {
	case col == "steps":
		v, ok = float64(r.Steps), r.Steps > 0
	case col == "final_loss":
		v = r.FinalLoss
		ok = !math.IsNaN(v)
	case strings.HasPrefix(col, "test_"):
		v, ok = r.Test[strings.TrimPrefix(col, "test_")]
	}
	return v, ok && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// formatNumber writes v exactly (the shortest form that reads back as v).
func formatNumber(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// WriteCSV writes the table to path atomically, so that a reader (or a
// sweep interrupted while writing it) never sees a partial file.
func (t *Table) WriteCSV(path string) error {
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cols := t.Columns()
		cw.Write(cols)
		for i, r := range t.Rows {
			rec := []string{strconv.Itoa(r.Index)}
			for _, a := range r.Args {
				rec = append(rec, a.Value)
			}
			rec = append(rec, r.Status)
			for _, c := range cols[len(rec) : len(cols)-1] {
				cell := ""
				if v, ok := t.Value(r, c); ok {
					cell = formatNumber(v)
				}
				rec = append(rec, cell)
			}
			cw.Write(append(rec, t.runs[i]))
		}
		cw.Flush()
		return cw.Error()
	})
}

// Count is how many points have status s.
func (t *Table) Count(s string) int {
	n := 0
	for _, r := range t.Rows {
		if r.Status == s {
			n++
		}
	}
	return n
}

// Goal says whether a metric is better small or large.
type Goal string

const (
	Min Goal = "min"
	Max Goal = "max"
)

// knownGoals are the goals of the metrics train writes.
var knownGoals = map[string]Goal{
	"final_loss":            Min,
	"test_mse":              Min,
	"test_accuracy":         Max,
	"test_fraction_correct": Max,
}

// GoalOf is metric's goal when vkneuro knows it.
func GoalOf(metric string) (Goal, bool) {
	g, ok := knownGoals[metric]
	return g, ok
}

// DefaultMetric is the test score when the finished points have exactly
// one (besides the sample count), else final_loss.
func (t *Table) DefaultMetric() string {
	var score []string
	for _, c := range t.Columns() {
		if strings.HasPrefix(c, "test_") && c != "test_samples" {
			score = append(score, c)
		}
	}
	if len(score) == 1 {
		return score[0]
	}
	return "final_loss"
}

// Best is the best point by a metric.
type Best struct {
	Metric string
	Goal   Goal
	Value  float64
	Row    Row
	Run    string // its directory, relative to the sweep's
}

// Best is the finished point with the smallest (Min) or largest (Max)
// value of metric; ties go to the lowest index. It is an error when no
// finished point has the metric.
func (t *Table) Best(metric string, goal Goal) (Best, error) {
	if goal != Min && goal != Max {
		return Best{}, fmt.Errorf("goal %q: want min or max", goal)
	}
	b := Best{Metric: metric, Goal: goal}
	found := false
	for i, r := range t.Rows {
		v, ok := t.Value(r, metric)
		if !ok || r.Status != StatusOK {
			continue
		}
		if !found || (goal == Min && v < b.Value) || (goal == Max && v > b.Value) {
			b.Value, b.Row, b.Run, found = v, r, t.runs[i], true
		}
	}
	if !found {
		return Best{}, fmt.Errorf("no finished point has a value of %q (columns: %s)", metric, strings.Join(t.Columns(), ", "))
	}
	return b, nil
}

// bestRecord is best.json.
type bestRecord struct {
	Metric string            `json:"metric"`
	Goal   Goal              `json:"goal"`
	Value  float64           `json:"value"`
	Index  int               `json:"index"`
	Point  map[string]string `json:"point"`
	Run    string            `json:"run"`
	// Train is the train command line that reproduces the point.
	Train []string `json:"train"`
}

// WriteBest writes b as best.json of sweep d of plan p.
func WriteBest(d Dir, p Plan, b Best) error {
	rec := bestRecord{Metric: b.Metric, Goal: b.Goal, Value: b.Value, Index: b.Row.Index, Point: map[string]string{},
		Run: b.Run, Train: p.PointArgs(b.Row.Point)}
	for _, a := range b.Row.Args {
		rec.Point[a.Flag] = a.Value
	}
	return writeJSON(d.Best(), rec)
}
