package tasks

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/models"
)

// TestDefaults pins the tutorials' settings, read off the notebooks:
// Tutorial 3's train(net, ..., n_epochs=25, learning_rate=0.0005,
// batch_size=100, momentum=.99) on n_train = 1000 after
// np.random.seed(12); the Bonus tutorial's DeepNetReLU(n_neurons, 10)
// with n_epochs=50, learning_rate=1e-4, DeepNetSoftmax(n_neurons, 20,
// n_classes=20) with decode_orientation's learning_rate=0.1, n_iter=1000,
// L2_penalty=1e-2, L1_penalty=5e-4, both on int(0.6 * n_stimuli)
// training stimuli after np.random.seed(4); and ConvFC's n_iter=200,
// learning_rate=2, SGD momentum 0.9, L2_penalty=5e-4, L1_penalty=1e-6.
func TestDefaults(t *testing.T) {
	for _, c := range []struct {
		network, variant string
		want             Defaults
	}{
		{Normative, "", Defaults{Settings: Settings{Epochs: 25, Batch: 100, LR: 5e-4, Momentum: 0.99, Seed: 12}, NTrain: 1000}},
		{Decode, models.DecodeReLU, Defaults{Settings: Settings{Epochs: 50, LR: 1e-4, Seed: 4}, TestFrac: 0.4, Hidden: 10, Classes: 20}},
		{Decode, models.DecodeSoftmax, Defaults{Settings: Settings{Epochs: 1000, LR: 0.1, L1: 5e-4, L2: 1e-2, Seed: 4}, TestFrac: 0.4, Hidden: 20, Classes: 20}},
		{Encode, "", Defaults{Settings: Settings{Epochs: 200, LR: 2, Momentum: 0.9, L1: 1e-6, L2: 5e-4, Seed: 1}}},
	} {
		got, err := DefaultsFor(c.network, c.variant)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("DefaultsFor(%q, %q) = %+v, %v; want %+v", c.network, c.variant, got, err, c.want)
		}
	}
	for _, bad := range [][2]string{{"resnet", ""}, {Decode, "tanh"}} {
		if _, err := DefaultsFor(bad[0], bad[1]); err == nil || !strings.Contains(err.Error(), bad[0]) && !strings.Contains(err.Error(), bad[1]) {
			t.Errorf("DefaultsFor(%q, %q): error %v, want one naming it", bad[0], bad[1], err)
		}
	}
}

// TestSplit: one seed gives one split, disjoint and covering the
// stimuli, with the tutorial's int(0.6 * n) training stimuli; another
// seed gives another; no test fraction trains on all, in order.
func TestSplit(t *testing.T) {
	for _, S := range []int{5, 216, 360} {
		tr, te := Split(S, 0.4, 7)
		if len(tr) != int(0.6*float64(S)) || len(tr)+len(te) != S {
			t.Errorf("S=%d: %d train, %d test; want %d and the rest", S, len(tr), len(te), int(0.6*float64(S)))
		}
		all := slices.Sorted(slices.Values(append(slices.Clone(tr), te...)))
		for i, v := range all {
			if v != i {
				t.Fatalf("S=%d: the split is not a partition of 0…%d: %v", S, S-1, all)
			}
		}
		tr2, te2 := Split(S, 0.4, 7)
		if !slices.Equal(tr, tr2) || !slices.Equal(te, te2) {
			t.Errorf("S=%d: the same seed gave two splits", S)
		}
		if tr3, _ := Split(S, 0.4, 8); S > 5 && slices.Equal(tr, tr3) {
			t.Errorf("S=%d: seeds 7 and 8 gave the same split", S)
		}
	}
	tr, te := Split(4, 0, 7)
	if !slices.Equal(tr, []int{0, 1, 2, 3}) || te != nil {
		t.Errorf("Split(4, 0, 7) = %v, %v; want all in order and no test", tr, te)
	}
}

func saveV1(t *testing.T, v *data.V1) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "v1.npz")
	if err := data.SaveV1(p, v); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDecode: the targets are the stimuli's classes (softmax) or degrees
// (relu), the rows are those of Split's indices, and the file and the
// synthetic population give the same task.
func TestDecode(t *testing.T) {
	v := data.SyntheticV1(data.SynthOptions{Neurons: 12, Stimuli: 30, Seed: 3})
	path := saveV1(t, v)
	o := Options{Network: Decode, Data: path, Seed: 5, TestFrac: 0.4, Hidden: 4, Classes: 6}
	task, err := Load(o)
	if err != nil {
		t.Fatal(err)
	}
	tr, te := Split(v.S, 0.4, 5)
	if task.Metric != "fraction_correct" || task.Variant != models.DecodeSoftmax || task.Source != path ||
		task.Train.S != len(tr) || task.Test.S != len(te) {
		t.Fatalf("task %s/%s from %s: %d train, %d test", task.Metric, task.Variant, task.Source, task.Train.S, task.Test.S)
	}
	for i, s := range te {
		if want := float32(data.StimulusClass(float64(v.Stimuli[s]), 6)); task.Test.T[i] != want {
			t.Errorf("test target %d (stimulus %d at %g°) = %g, want class %g", i, s, v.Stimuli[s], task.Test.T[i], want)
		}
		if !slices.Equal(task.Test.X[i*v.N:(i+1)*v.N], v.Resp[s*v.N:(s+1)*v.N]) {
			t.Errorf("test row %d is not stimulus %d's responses", i, s)
		}
	}
	o.Variant = models.DecodeReLU
	relu, err := Load(o)
	if err != nil {
		t.Fatal(err)
	}
	if relu.Metric != "mse" || relu.Train.T[0] != v.Stimuli[tr[0]] {
		t.Errorf("relu: metric %s, first target %g; want mse and %g°", relu.Metric, relu.Train.T[0], v.Stimuli[tr[0]])
	}
	// Without the file: the same synthetic population from the options.
	synth, err := Load(Options{Network: Decode, Seed: 3, Neurons: 12, SynthStimuli: 30, TestFrac: 0.4, Hidden: 4, Classes: 6})
	if err != nil {
		t.Fatal(err)
	}
	fromFile, _ := Load(Options{Network: Decode, Data: path, Seed: 3, TestFrac: 0.4, Hidden: 4, Classes: 6})
	if !slices.Equal(synth.Train.X, fromFile.Train.X) || !slices.Equal(synth.Test.T, fromFile.Test.T) ||
		!strings.HasPrefix(synth.Source, "synthetic V1 (30 stimuli × 12 neurons, seed 3)") {
		t.Errorf("synthetic task from %q differs from the file's", synth.Source)
	}
}

// TestDecodeOutOfRange: an orientation where no class is defined is an
// error naming the file, the index and the value, at either end.
func TestDecodeOutOfRange(t *testing.T) {
	for _, deg := range []float32{-0.5, 360, 721} {
		v := data.SyntheticV1(data.SynthOptions{Neurons: 4, Stimuli: 10, Seed: 1})
		v.Stimuli[3] = deg
		path := saveV1(t, v)
		_, err := Load(Options{Network: Decode, Data: path, Seed: 1, TestFrac: 0.4, Hidden: 2, Classes: 20})
		want := fmt.Sprintf(`%s: key "stimuli"[3] = %g°, outside [0°, 360°) where the 20 orientation classes are defined`, path, deg)
		if err == nil || err.Error() != want {
			t.Errorf("stimulus %g°: %v, want %q", deg, err, want)
		}
		// Degrees need no classes: the relu variant takes any angle.
		if _, err := Load(Options{Network: Decode, Variant: models.DecodeReLU, Data: path, Seed: 1, TestFrac: 0.4, Hidden: 2}); err != nil {
			t.Errorf("relu with a stimulus at %g°: %v", deg, err)
		}
	}
}

// TestLoadErrors: unusable files and options are errors naming the file,
// key or option and what was expected.
func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, arrays map[string]*data.Array) string {
		p := filepath.Join(dir, name)
		if err := data.WriteNPZ(p, arrays); err != nil {
			t.Fatal(err)
		}
		return p
	}
	arr := func(shape ...int) *data.Array {
		n := 1
		for _, d := range shape {
			n *= d
		}
		return &data.Array{Shape: shape, Data: make([]float32, n)}
	}
	nan := arr(4, 16, 16)
	nan.Data[37] = float32(math.NaN())
	small := write("small.npz", map[string]*data.Array{"stimuli": arr(4, 6, 6), "labels": arr(4)})
	nanImg := write("nan.npz", map[string]*data.Array{"stimuli": nan, "labels": arr(4)})
	sv := data.SyntheticV1Split(data.SynthOptions{Neurons: 3, Stimuli: 5, Seed: 1})
	split := filepath.Join(dir, "split.npz")
	if err := data.SaveV1Split(split, sv); err != nil {
		t.Fatal(err)
	}
	wrongCount := write("stim.npz", map[string]*data.Array{"stimuli": arr(4, 1, 8, 8)})
	few := saveV1(t, data.SyntheticV1(data.SynthOptions{Neurons: 3, Stimuli: 1, Seed: 1}))
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{Network: Normative, Data: small}, small + `: key "stimuli" images are 6×6, want at least 8×8 for the 8×8 max-pool`},
		{Options{Network: Normative, Data: nanImg}, nanImg + `: key "stimuli" has a non-finite value NaN at flat index 37`},
		{Options{Network: Normative}, "tasks: normative: 0 training gratings, want ≥ 1"},
		{Options{Network: Encode, Data: split, Stimuli: wrongCount}, wrongCount + `: key "stimuli" has shape [4 1 8 8], want [5,1,H,W] (one image per stimulus of ` + split + `)`},
		{Options{Network: Decode, Data: few, TestFrac: 0.4, Classes: 20}, few + ": 1 stimuli leave no training samples with test fraction 0.4"},
		{Options{Network: Decode, Data: few, TestFrac: 1, Classes: 20}, "tasks: test fraction 1: want 0 ≤ f < 1"},
		{Options{Network: Decode, Data: few, Classes: 1}, "tasks: decode: 1 orientation classes, want ≥ 2"},
		{Options{Network: "resnet"}, `tasks: unknown network "resnet": want normative, decode or encode`},
	} {
		if _, err := Load(c.o); err == nil || err.Error() != c.want {
			t.Errorf("Load(%+v):\n got %v\nwant %s", c.o, err, c.want)
		}
	}
}

// TestTrainerAndEvaluate: Trainer sets the settings' hyper-parameters and
// takes Iters steps, or Epochs passes of minibatches; Evaluate scores the
// test set with the task's metric, and says when there is none.
func TestTrainerAndEvaluate(t *testing.T) {
	be := cpu.New()
	defer be.Close()
	task, err := Load(Options{Network: Encode, Seed: 1, Neurons: 7, SynthStimuli: 10})
	if err != nil {
		t.Fatal(err)
	}
	m, err := task.Build(be)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := Settings{Epochs: 3, Batch: 4, LR: 0.5, Momentum: 0.9, L1: 1e-6, L2: 5e-4, Seed: 2}
	tr, err := task.Trainer(m, s, models.TrainConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Config.Steps != 9 || tr.Config.Batch != 4 || tr.Config.Seed != 2 || m.Hyper() != s.Hyper() {
		t.Errorf("Trainer: %d steps, batch %d, seed %d, hyper %+v; want 9 (3 epochs of 3 batches of ≤ 4), 4, 2, %+v",
			tr.Config.Steps, tr.Config.Batch, tr.Config.Seed, m.Hyper(), s.Hyper())
	}
	s.Iters = 5
	if tr, _ := task.Trainer(m, s, models.TrainConfig{}); tr.Config.Steps != 5 {
		t.Errorf("Iters 5: %d steps", tr.Config.Steps)
	}
	sc, ok, err := task.Evaluate(m)
	e, err2 := m.Evaluate(task.Test)
	if !ok || err != nil || err2 != nil || sc.Metric != "mse" || sc.Value != e.MSE || sc.Samples != 10 {
		t.Errorf("Evaluate = %+v, %v, %v; want the mse %g on the 10 stimuli", sc, ok, err, e.MSE)
	}
	// Normative images of another size than the test gratings: no test set.
	img := &data.Array{Shape: []int{2, 16, 16}, Data: make([]float32, 512)}
	path := filepath.Join(t.TempDir(), "n.npz")
	if err := data.WriteNPZ(path, map[string]*data.Array{"stimuli": img, "labels": {Shape: []int{2}, Data: []float32{0, 1}}}); err != nil {
		t.Fatal(err)
	}
	norm, err := Load(Options{Network: Normative, Data: path})
	if err != nil {
		t.Fatal(err)
	}
	nm, err := norm.Build(be)
	if err != nil {
		t.Fatal(err)
	}
	defer nm.Close()
	if _, ok, err := norm.Evaluate(nm); ok || err != nil {
		t.Errorf("normative on 16×16 images: Evaluate ok %v, %v; want no test set", ok, err)
	}
}

// TestReadLosses reads what a Trainer writes, NaN of a diverged run
// included, and names the file and line of what it cannot read.
func TestReadLosses(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.csv")
	os.WriteFile(p, []byte(models.MetricsHeader+"1,0.5,0\n2,NaN,0\n"), 0o644)
	l, err := ReadLosses(p)
	if err != nil || len(l) != 2 || l[0] != 0.5 || l[1] == l[1] {
		t.Errorf("ReadLosses = %v, %v; want [0.5 NaN]", l, err)
	}
	// The column named exactly "loss", wherever it stands (PyTorch's
	// reference also writes a test_loss).
	os.WriteFile(p, []byte("step,test_loss,loss\n1,9,0.5\n2,9,0.25\n"), 0o644)
	if l, err := ReadLosses(p); err != nil || !slices.Equal(l, []float64{0.5, 0.25}) {
		t.Errorf("ReadLosses with a test_loss column = %v, %v; want [0.5 0.25]", l, err)
	}
	for _, c := range []struct{ csv, want string }{
		{"step,epoch\n1,0\n", `: header "step,epoch" has no "loss" column (want "step,loss,epoch")`},
		{"step,loss\n1\n", ": line 2 has 1 fields, no loss column 2"},
		{"step,loss\n1,x\n", `: line 2: loss "x" is not a number`},
		{"", ": reading the header: EOF"},
	} {
		os.WriteFile(p, []byte(c.csv), 0o644)
		if _, err := ReadLosses(p); err == nil || err.Error() != p+c.want {
			t.Errorf("ReadLosses of %q: %v, want %q", c.csv, err, p+c.want)
		}
	}
	if _, err := ReadLosses(filepath.Join(dir, "absent.csv")); err == nil || !strings.Contains(err.Error(), "absent.csv") {
		t.Errorf("a missing file: %v", err)
	}
}
