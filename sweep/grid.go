package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"go.yaml.in/yaml/v3"
)

// Arg is one train flag with its value, passed as --flag=value (a form
// every flag type accepts, booleans included).
type Arg struct {
	Flag  string `json:"flag"`
	Value string `json:"value"`
}

func (a Arg) String() string { return "--" + a.Flag + "=" + a.Value }

// Axis is one dimension of the grid: a train flag and its values.
type Axis struct {
	Flag   string   `json:"flag"`
	Values []string `json:"values"`
}

// ParseAxis reads a grid axis written FLAG=V1,V2,... or, for values
// that hold commas (an --arch), FLAG=["V1","V2"] (a JSON array of
// strings, numbers or booleans). A leading - or -- on FLAG is dropped.
// Values are trimmed of spaces; an empty or repeated value is an error.
func ParseAxis(spec string) (Axis, error) {
	name, list, ok := strings.Cut(spec, "=")
	if !ok || flagName(name) == "" {
		return Axis{}, fmt.Errorf("%q: want FLAG=V1,V2,... or FLAG=[JSON array]", spec)
	}
	var values []string
	if list = strings.TrimSpace(list); strings.HasPrefix(list, "[") {
		var err error
		if values, err = jsonValues(json.RawMessage(list)); err != nil {
			return Axis{}, fmt.Errorf("%q: %v", spec, err)
		}
	} else {
		values = strings.Split(list, ",")
	}
	ax, err := newAxis(name, values)
	if err != nil {
		return Axis{}, fmt.Errorf("%q: %v", spec, err)
	}
	return ax, nil
}

// ParseGridFile reads the axes of a --grid-file: a mapping whose keys
// are train flags and whose values are lists of their values, in JSON
// ({"l2": [0, 0.01, 0.1], "seed": [1, 2, 3]}), or in YAML (a .yaml or
// .yml file) or TOML (a .toml file) with the same structure. The axes
// keep the file's order (the last changes fastest), which a Go map would
// lose. name is the file, for errors; its extension picks the format
// (JSON for any other).
func ParseGridFile(name string, b []byte) ([]Axis, error) {
	var axes []Axis
	var err error
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		axes, err = yamlGrid(b)
	case ".toml":
		axes, err = tomlGrid(b)
	default:
		axes, err = jsonGrid(b)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if len(axes) == 0 {
		return nil, fmt.Errorf("%s: the grid is empty: give at least one FLAG: [values]", name)
	}
	return axes, nil
}

// jsonGrid reads a JSON grid token by token, for the keys' order.
func jsonGrid(b []byte) ([]Axis, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("want a JSON object of FLAG: [values], e.g. {\"l2\": [0, 0.01], \"seed\": [1, 2]}")
	}
	var axes []Axis
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key := tok.(string) // a key of an object is always a string
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, fmt.Errorf("%q: %v", key, err)
		}
		values, err := jsonValues(raw)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", key, err)
		}
		ax, err := newAxis(key, values)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", key, err)
		}
		axes = append(axes, ax)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("more after the JSON object")
	}
	return axes, nil
}

// yamlGrid reads a YAML grid through its node tree, which keeps the
// mapping's order and each scalar as written (1e-3 stays 1e-3).
func yamlGrid(b []byte) ([]Axis, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc.Kind == 0 {
		return nil, nil // an empty file: no axes
	}
	m := &doc
	if m.Kind == yaml.DocumentNode && len(m.Content) == 1 {
		m = m.Content[0]
	}
	if m.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: want a YAML mapping of FLAG: [values], e.g. {l2: [0, 0.01], seed: [1, 2]}", m.Line)
	}
	var axes []Axis
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if v.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("line %d: %q: the values are not a YAML list", v.Line, k.Value)
		}
		values := make([]string, len(v.Content))
		for j, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: %q: value %d is not a string, a number or a boolean", e.Line, k.Value, j+1)
			}
			values[j] = e.Value
		}
		ax, err := newAxis(k.Value, values)
		if err != nil {
			return nil, fmt.Errorf("line %d: %q: %v", k.Line, k.Value, err)
		}
		axes = append(axes, ax)
	}
	return axes, nil
}

// tomlGrid reads a TOML grid: top-level keys in the file's order
// (MetaData.Keys), each an array of strings, numbers or booleans;
// numbers are written back in Go's shortest form (TOML keeps no other).
func tomlGrid(b []byte) ([]Axis, error) {
	var m map[string]any
	md, err := toml.Decode(string(b), &m)
	if err != nil {
		return nil, err
	}
	var axes []Axis
	for _, key := range md.Keys() {
		if len(key) != 1 {
			continue // a nested key: its table is refused below
		}
		k := key[0]
		list, ok := m[k].([]any)
		if !ok {
			return nil, fmt.Errorf("%q: the values are not a TOML array", k)
		}
		values := make([]string, len(list))
		for i, v := range list {
			switch v := v.(type) {
			case string:
				values[i] = v
			case int64:
				values[i] = strconv.FormatInt(v, 10)
			case float64:
				values[i] = strconv.FormatFloat(v, 'g', -1, 64)
			case bool:
				values[i] = strconv.FormatBool(v)
			default:
				return nil, fmt.Errorf("%q: value %d is %v, want a string, a number or a boolean", k, i+1, v)
			}
		}
		ax, err := newAxis(k, values)
		if err != nil {
			return nil, fmt.Errorf("%q: %v", k, err)
		}
		axes = append(axes, ax)
	}
	return axes, nil
}

// jsonValues reads a JSON array of strings, numbers (kept as written:
// 1e-3 stays 1e-3) and booleans as flag values.
func jsonValues(raw json.RawMessage) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var list []any
	if err := dec.Decode(&list); err != nil {
		return nil, fmt.Errorf("the values are not a JSON array: %v", err)
	}
	values := make([]string, len(list))
	for i, v := range list {
		switch v := v.(type) {
		case string:
			values[i] = v
		case json.Number:
			values[i] = v.String()
		case bool:
			values[i] = strconv.FormatBool(v)
		default:
			return nil, fmt.Errorf("value %d is %v, want a string, a number or a boolean", i+1, v)
		}
	}
	return values, nil
}

// flagName is a flag as written on a command line (-l2, --l2, l2)
// without its dashes.
func flagName(s string) string { return strings.TrimLeft(strings.TrimSpace(s), "-") }

// newAxis checks an axis's values: at least one, none empty or repeated.
func newAxis(flag string, values []string) (Axis, error) {
	if len(values) == 0 {
		return Axis{}, fmt.Errorf("no values")
	}
	for i, v := range values {
		values[i] = strings.TrimSpace(v)
		if values[i] == "" {
			return Axis{}, fmt.Errorf("value %d is empty", i+1)
		}
		if slices.Contains(values[:i], values[i]) {
			return Axis{}, fmt.Errorf("value %q is given twice", values[i])
		}
	}
	return Axis{Flag: flagName(flag), Values: values}, nil
}

// DataFlag is train's flag for its data file: --data-glob sweeps it,
// and results.csv gives it a column of its own.
const DataFlag = "data"

// DataAxis is the axis of one point per file matching the glob pattern
// (filepath.Glob, sorted), passed to train as --data; it is an error
// when the pattern is malformed or matches no file.
func DataAxis(pattern string) (Axis, error) {
	files, err := filepath.Glob(pattern)
	if err != nil {
		return Axis{}, fmt.Errorf("--data-glob %q: %v", pattern, err)
	}
	files = slices.DeleteFunc(files, func(f string) bool {
		fi, err := os.Stat(f)
		return err != nil || fi.IsDir()
	})
	if len(files) == 0 {
		return Axis{}, fmt.Errorf("--data-glob %q matches no file", pattern)
	}
	return Axis{Flag: DataFlag, Values: files}, nil
}

// reserved are the train flags a sweep sets for every run, with why a
// user may not.
var reserved = map[string]string{
	"summary":    "each run writes DIR/runs/<i>/summary.json",
	"metrics":    "each run writes DIR/runs/<i>/metrics.csv",
	"save":       "each run saves DIR/runs/<i>/model.npz",
	"checkpoint": "each run checkpoints to DIR/runs/<i>/checkpoint",
	"resume":     "a rerun of the sweep resumes its runs",
	"live":       "sweep runs have no window",
	"screenshot": "sweep runs have no window",
}

// Plan is what a sweep runs: the network, the train flags all runs
// share, and the grid.
type Plan struct {
	Network string `json:"network"`
	Fixed   []Arg  `json:"fixed"`
	Axes    []Axis `json:"axes"`
}

// Check reports a plan without axes, one that names a flag twice, sets
// a flag the sweep sets, or has an axis without values. It does not know train's flags:
// the command checks each point's whole command line with train's own
// parser.
func (p Plan) Check() error {
	if p.Network == "" {
		return fmt.Errorf("no network")
	}
	if len(p.Axes) == 0 {
		return fmt.Errorf("nothing to sweep: no grid axis and no data files")
	}
	seen := map[string]string{}
	use := func(flag, where string) error {
		if why, ok := reserved[flag]; ok {
			return fmt.Errorf("%s: --%s is set by the sweep (%s)", where, flag, why)
		}
		if prev, ok := seen[flag]; ok {
			return fmt.Errorf("%s: --%s is already set by %s", where, flag, prev)
		}
		seen[flag] = where
		return nil
	}
	for _, a := range p.Fixed {
		if err := use(a.Flag, "the train flags"); err != nil {
			return err
		}
	}
	for _, ax := range p.Axes {
		if err := use(ax.Flag, "grid axis "+ax.Flag); err != nil {
			return err
		}
		if len(ax.Values) == 0 {
			return fmt.Errorf("grid axis %s has no values", ax.Flag)
		}
	}
	return nil
}

// Equal reports whether p and q are the same sweep.
func (p Plan) Equal(q Plan) bool {
	a, _ := json.Marshal(p)
	b, _ := json.Marshal(q)
	return bytes.Equal(a, b)
}

// Len is the number of points.
func (p Plan) Len() int {
	n := 1
	for _, ax := range p.Axes {
		n *= len(ax.Values)
	}
	return n
}

// Point is one set of grid values: Args[k] is axis k's.
type Point struct {
	Index int
	Args  []Arg
}

// Point returns point i (0 ≤ i < Len()); the last axis changes fastest.
func (p Plan) Point(i int) Point {
	args := make([]Arg, len(p.Axes))
	r := i
	for k := len(p.Axes) - 1; k >= 0; k-- {
		ax := p.Axes[k]
		args[k] = Arg{ax.Flag, ax.Values[r%len(ax.Values)]}
		r /= len(ax.Values)
	}
	return Point{Index: i, Args: args}
}

// Points lists every point in index order.
func (p Plan) Points() []Point {
	pts := make([]Point, p.Len())
	for i := range pts {
		pts[i] = p.Point(i)
	}
	return pts
}

// Data is point pt's data file: its --data-glob file, else the --data
// all points share, else "" (train's built-in data).
func (p Plan) Data(pt Point) string {
	for _, a := range slices.Concat(pt.Args, p.Fixed) {
		if a.Flag == DataFlag {
			return a.Value
		}
	}
	return ""
}

// Label names the point by its values, e.g. "l2=0.01 seed=2".
func (pt Point) Label() string {
	parts := make([]string, len(pt.Args))
	for i, a := range pt.Args {
		parts[i] = a.Flag + "=" + a.Value
	}
	return strings.Join(parts, " ")
}

// PointArgs is the train command line of point pt: train, the
// network, the shared flags and the point's values.
func (p Plan) PointArgs(pt Point) []string {
	args := []string{"train", p.Network}
	for _, a := range slices.Concat(p.Fixed, pt.Args) {
		args = append(args, a.String())
	}
	return args
}

// TrainArgs is the command line (after the binary) of point pt's run in
// r: PointArgs and the run's output files; resume adds --resume from
// the run's checkpoint and drops --init (a checkpoint holds the
// parameters, and train refuses both).
func (p Plan) TrainArgs(pt Point, r Run, resume bool) []string {
	args := slices.DeleteFunc(p.PointArgs(pt), func(a string) bool { return resume && strings.HasPrefix(a, "--init=") })
	args = append(args, "--summary="+r.Summary(), "--metrics="+r.Metrics(), "--save="+r.Model(), "--checkpoint="+r.Checkpoint())
	if resume {
		args = append(args, "--resume="+r.Checkpoint())
	}
	return args
}

// indexRanges writes indices (sorted, distinct) as Slurm's --array
// takes them: "0-3,5,7-8".
func indexRanges(indices []int) string {
	var b strings.Builder
	for i := 0; i < len(indices); {
		j := i
		for j+1 < len(indices) && indices[j+1] == indices[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(indices[i]))
		if j > i {
			b.WriteString("-" + strconv.Itoa(indices[j]))
		}
		i = j + 1
	}
	return b.String()
}
