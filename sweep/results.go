package sweep

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vkneuro/vkneuro/internal/atomicfile"
)

// State is a point's state as Collect reads it from its directory.
type State int

const (
	Pending     State = iota // no files: not started
	Started                  // started, no exit recorded: running, or killed (kill -9, a node lost)
	Interrupted              // stopped by SIGINT/SIGTERM after checkpointing: a rerun resumes it
	Failed                   // train exited with an error, or a signal killed it
	Diverged                 // finished, with a NaN or infinite final loss
	Done                     // finished: summary.json written
)

var stateNames = [...]string{"pending", "started", "interrupted", "failed", "diverged", "done"}

func (s State) String() string { return stateNames[s] }

// Finished reports a point whose train run ended with a summary: a
// rerun of the sweep skips it.
func (s State) Finished() bool { return s == Done || s == Diverged }

// The statuses of results.csv.
const (
	StatusOK      = "ok"      // train finished (a diverged one too: its final_loss is empty)
	StatusFailed  = "failed"  // train failed, or started and left no result
	StatusSkipped = "skipped" // no result (yet): not started, still running, or interrupted
)

// Row is one point's results.
type Row struct {
	Point
	State State
	Data  string // its data file, "" for train's built-in data
	Exit  Exit   // how its last attempt ended, when it has one
	// TrainSeconds and FinalLoss are the summary's, NaN without one (or,
	// for FinalLoss, when it diverged).
	TrainSeconds, FinalLoss float64
	// Test is the summary's test object flattened to results.csv's
	// columns (test_fraction_correct, test_corr_median, ...); NaN where
	// the summary has null.
	Test map[string]float64
	// Log is the run's log.txt; TaskOutput the Slurm task's output file
	// of the last job, "" when there is none.
	Log, TaskOutput string
	// Ended is when the record of how its last attempt ended was
	// written (summary.json or exit.json), zero without one: a sweep
	// tells the points that ended while it ran by a changed Ended, which
	// no clock skew between nodes can fool.
	Ended time.Time
}

// Table is the results of every point of a sweep.
type Table struct {
	Axes []string // the grid's flags, the data axis left out (it has its own column)
	Rows []Row    // in point order
	// Live is set while the sweep runs points: a started point without
	// a result is then still running (skipped so far), not failed.
	Live bool
}

// summaryFields are what Collect reads of train's summary.json.
type summaryFields struct {
	TrainSeconds *float64                   `json:"train_seconds"`
	FinalLoss    *float64                   `json:"final_loss"` // null: diverged
	Test         map[string]json.RawMessage `json:"test"`
}

// Collect reads every point's state from its directory under d.
func Collect(d Dir, p Plan) (*Table, error) {
	t := &Table{}
	for _, ax := range p.Axes {
		if ax.Flag != DataFlag {
			t.Axes = append(t.Axes, ax.Flag)
		}
	}
	job, err := lastJob(d)
	if err != nil {
		return nil, err
	}
	for _, pt := range p.Points() {
		r := d.Run(pt.Index)
		row := Row{Point: pt, Data: p.Data(pt), TrainSeconds: math.NaN(), FinalLoss: math.NaN(), Log: r.Log()}
		if job != "" {
			if out := taskOutput(d, job, pt.Index); exists(out) {
				row.TaskOutput = out
			}
		}
		var s summaryFields
		done, err := readJSON(r.Summary(), &s)
		if err != nil {
			return nil, err
		}
		if done {
			row.State, row.Ended = Done, modTime(r.Summary())
			if s.TrainSeconds != nil {
				row.TrainSeconds = *s.TrainSeconds
			}
			if s.FinalLoss != nil {
				row.FinalLoss = *s.FinalLoss
			} else {
				row.State = Diverged
			}
			if row.Test, err = flattenTest(s.Test); err != nil {
				return nil, fmt.Errorf("%s: test: %w", r.Summary(), err)
			}
		} else if row.State, err = unfinished(r, &row.Exit, row.TaskOutput != ""); err != nil {
			return nil, err
		} else if row.State == Failed || row.State == Interrupted {
			row.Ended = modTime(r.Exit())
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// unfinished is the state of a run without a summary, with its exit
// record in *e; task says a Slurm task has started for it.
func unfinished(r Run, e *Exit, task bool) (State, error) {
	recorded, err := readJSON(r.Exit(), e)
	switch {
	case err != nil:
		return 0, err
	case recorded && e.Interrupted():
		return Interrupted, nil
	case recorded:
		return Failed, nil
	case task || exists(r.Log()):
		return Started, nil
	}
	return Pending, nil
}

// modTime is path's modification time, zero when it cannot be read.
func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// flattenTest turns the summary's test object into results.csv's
// columns: every number, nested objects joined with "_" (test_corr's
// median is test_corr_median), each prefixed with test_ unless it has
// it; null is NaN (an empty cell). Strings, booleans and arrays are not
// metrics and are left out.
func flattenTest(test map[string]json.RawMessage) (map[string]float64, error) {
	out := map[string]float64{}
	var walk func(prefix string, raw json.RawMessage) error
	walk = func(name string, raw json.RawMessage) error {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		switch v := v.(type) {
		case nil:
			out[name] = math.NaN()
		case float64:
			out[name] = v
		case map[string]any:
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil {
				return err
			}
			for k, sub := range obj {
				if err := walk(name+"_"+k, sub); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for k, raw := range test {
		name := k
		if !strings.HasPrefix(name, "test_") {
			name = "test_" + name
		}
		if err := walk(name, raw); err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// Status is row r's status in results.csv.
func (t *Table) Status(r Row) string {
	switch r.State {
	case Done, Diverged:
		return StatusOK
	case Failed:
		return StatusFailed
	case Started:
		if t.Live {
			return StatusSkipped
		}
		return StatusFailed
	}
	return StatusSkipped
}

// Count is how many points have results.csv status s.
func (t *Table) Count(s string) int {
	n := 0
	for _, r := range t.Rows {
		if t.Status(r) == s {
			n++
		}
	}
	return n
}

// Columns are results.csv's columns: index, the grid flags, data,
// status, train_seconds, final_loss, and every test metric some point
// has (sorted).
func (t *Table) Columns() []string {
	cols := slices.Concat([]string{"index"}, t.Axes, []string{"data", "status", "train_seconds", "final_loss"})
	var test []string
	for _, r := range t.Rows {
		for k := range r.Test {
			if !slices.Contains(test, k) {
				test = append(test, k)
			}
		}
	}
	sort.Strings(test)
	return append(cols, test...)
}

// Value is row r's number in a numeric column (train_seconds,
// final_loss or a test metric); ok is false when r has none there.
func (t *Table) Value(r Row, col string) (v float64, ok bool) {
	switch {
	case col == "train_seconds":
		v, ok = r.TrainSeconds, true
	case col == "final_loss":
		v, ok = r.FinalLoss, true
	case strings.HasPrefix(col, "test_"):
		v, ok = r.Test[col]
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
		for _, r := range t.Rows {
			rec := []string{strconv.Itoa(r.Index)}
			for _, a := range r.Args {
				if a.Flag != DataFlag {
					rec = append(rec, a.Value)
				}
			}
			rec = append(rec, r.Data, t.Status(r))
			for _, c := range cols[len(rec):] {
				cell := ""
				if v, ok := t.Value(r, c); ok {
					cell = formatNumber(v)
				}
				rec = append(rec, cell)
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	})
}

// Goal says whether a metric is better small or large.
type Goal string

const (
	Min Goal = "min"
	Max Goal = "max"
)

// GoalOf is metric's goal when vkneuro knows it: losses and errors are
// better small, scores and correlations large.
func GoalOf(metric string) (Goal, bool) {
	switch metric {
	case "final_loss", "train_seconds", "test_mse", "test_loss":
		return Min, true
	case "test_accuracy", "test_fraction_correct":
		return Max, true
	}
	// The encoding scores' summaries (train's test object for encode).
	for _, score := range []string{"test_corr_", "test_normalized_corr_", "test_feve_", "test_reliability_"} {
		if stat, ok := strings.CutPrefix(metric, score); ok && slices.Contains([]string{"median", "mean", "q25", "q75"}, stat) {
			return Max, true
		}
	}
	return "", false
}

// ParseSelect reads --select METRIC[:min|max]. METRIC is final_loss,
// train_seconds or a test_ column of results.csv; without a goal it
// must be one whose goal GoalOf knows.
func ParseSelect(s string) (metric string, goal Goal, err error) {
	metric, g, hasGoal := strings.Cut(s, ":")
	switch {
	case metric != "final_loss" && metric != "train_seconds" && !strings.HasPrefix(metric, "test_"):
		return "", "", fmt.Errorf("--select %s: want final_loss, train_seconds or a test metric (test_fraction_correct, test_mse, test_corr_median, ...), optionally :min or :max", s)
	case hasGoal && g != string(Min) && g != string(Max):
		return "", "", fmt.Errorf("--select %s: the goal %q is not min or max", s, g)
	case hasGoal:
		return metric, Goal(g), nil
	}
	if goal, ok := GoalOf(metric); ok {
		return metric, goal, nil
	}
	return "", "", fmt.Errorf("--select %s: is a smaller or a larger %s better? Write %s:min or %s:max", s, metric, metric, metric)
}

// mainMetrics are the tasks' test scores (train's "test" object has
// one of them), in the order MainMetric prefers them.
var mainMetrics = []string{"test_accuracy", "test_fraction_correct", "test_mse"}

// MainMetric is the task's test score that finished points have, else
// final_loss (a sweep without a test set).
func (t *Table) MainMetric() string {
	for _, m := range mainMetrics {
		for _, r := range t.Rows {
			if _, ok := r.Test[m]; ok && r.State.Finished() {
				return m
			}
		}
	}
	return "final_loss"
}

// Best is the best point by a metric.
type Best struct {
	Metric string
	Goal   Goal
	Value  float64
	Row    Row
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
	for _, r := range t.Rows {
		v, ok := t.Value(r, metric)
		if !ok || r.State != Done {
			continue
		}
		if !found || (goal == Min && v < b.Value) || (goal == Max && v > b.Value) {
			b.Value, b.Row, found = v, r, true
		}
	}
	if !found {
		return Best{}, fmt.Errorf("no finished point has a value of %s (columns: %s)", metric, strings.Join(t.Columns(), ", "))
	}
	return b, nil
}

// bestRecord is best.json.
type bestRecord struct {
	Metric string            `json:"metric"`
	Goal   Goal              `json:"goal"`
	Value  float64           `json:"value"`
	Index  int               `json:"index"`
	Point  map[string]string `json:"point"` // the grid flags' values
	Data   string            `json:"data"`
	Run    string            `json:"run"` // its directory, relative to the sweep's
	// Train is the train command line that reproduces the point.
	Train []string `json:"train"`
}

// WriteBest writes b as best.json of sweep d of plan p.
func WriteBest(d Dir, p Plan, b Best) error {
	rec := bestRecord{Metric: b.Metric, Goal: b.Goal, Value: b.Value, Index: b.Row.Index, Point: map[string]string{},
		Data: b.Row.Data, Run: filepath.ToSlash(filepath.Join("runs", strconv.Itoa(b.Row.Index))), Train: p.PointArgs(b.Row.Point)}
	for _, a := range b.Row.Args {
		if a.Flag != DataFlag {
			rec.Point[a.Flag] = a.Value
		}
	}
	return writeJSON(d.Best(), rec)
}
