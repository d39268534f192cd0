package tasks

import (
	"bytes"
	"context"
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

// TestBinWidth: LoadV1 bins as load_data(bin_width) does (data.V1.Bin)
// the file and the synthetic data alike, leaves them as they are for 0
// and 1, and names --bin-width for a width it cannot use.
func TestBinWidth(t *testing.T) {
	v := data.SyntheticV1(data.SynthOptions{Neurons: 7, Stimuli: 360, Seed: 2})
	path := filepath.Join(t.TempDir(), "v1.npz")
	if err := data.SaveV1(path, v); err != nil {
		t.Fatal(err)
	}
	for _, o := range []Options{{Data: path}, {Neurons: 7, SynthStimuli: 360, Seed: 2}} {
		for _, w := range []float64{0, 1} {
			o.BinWidth = w
			got, _, err := LoadV1(o)
			if err != nil || !reflect.DeepEqual(got.Resp, v.Resp) || !reflect.DeepEqual(got.Stimuli, v.Stimuli) {
				t.Errorf("bin width %g (data %q): %v; want the data as they are", w, o.Data, err)
			}
		}
		o.BinWidth = 6
		got, src, err := LoadV1(o)
		want := v.Bin(6)
		if err != nil || got.S != 60 || !reflect.DeepEqual(got.Resp, want.Resp) || !reflect.DeepEqual(got.Stimuli, want.Stimuli) || !strings.Contains(src, "6° bins") {
			t.Errorf("bin width 6 (data %q): %d stimuli, source %q, %v; want V1.Bin(6)'s 60", o.Data, got.S, src, err)
		}
	}
	for _, w := range []float64{-1, 0.5, 360, math.NaN()} {
		if _, _, err := LoadV1(Options{Data: path, BinWidth: w}); err == nil || !strings.HasPrefix(err.Error(), "--bin-width ") {
			t.Errorf("bin width %g: %v, want an error naming --bin-width", w, err)
		}
	}
	// decode trains on the binned data.
	task, err := Load(Options{Network: Decode, Data: path, BinWidth: 10, Hidden: 3, Classes: 4, TestFrac: 0.25})
	if err != nil || task.Train.S+task.Test.S != 36 {
		t.Errorf("decode with --bin-width 10: %v, %d stimuli; want 36", err, task.Train.S+task.Test.S)
	}
}

// TestReadMetricsTestLoss reads the test_loss column a Trainer writes
// with EvalEvery: the evaluated steps and their losses, beside every
// step's training loss.
func TestReadMetricsTestLoss(t *testing.T) {
	v := data.SyntheticV1(data.SynthOptions{Neurons: 12, Stimuli: 30, Seed: 3})
	task, err := NewDecode(v, "v", Options{Hidden: 4, Classes: 4, TestFrac: 0.4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	be := cpu.New()
	defer be.Close()
	m, err := task.Build(be)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var csv bytes.Buffer
	tr, err := task.Trainer(m, Settings{Iters: 7, LR: 0.1, L2: 1e-2}, models.TrainConfig{Metrics: &csv, EvalEvery: 3, Test: task.Test})
	if err != nil {
		t.Fatal(err)
	}
	csv.WriteString(tr.MetricsHeader())
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.csv")
	if err := os.WriteFile(path, csv.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Loss) != 7 || !slices.Equal(got.TestSteps, []int{3, 6}) || len(got.TestLoss) != 2 {
		t.Fatalf("ReadMetrics = %+v, want 7 losses and test losses at steps 3 and 6", got)
	}
	for _, l := range got.TestLoss {
		if !(l > 0) || math.IsInf(l, 0) {
			t.Errorf("test loss %v, want a positive number", l)
		}
	}
	for _, bad := range []struct{ csv, want string }{
		{"step,loss,epoch,test_loss\n1,0.5,0,x\n", `: line 2: test_loss "x" is not a number`},
		{"step,loss,epoch,test_loss\nz,0.5,0,1\n", `: line 2: step "z" is not an integer`},
	} {
		if _, err := ParseMetrics("f.csv", strings.NewReader(bad.csv)); err == nil || err.Error() != "f.csv"+bad.want {
			t.Errorf("ParseMetrics(%q): %v, want %q", bad.csv, err, bad.want)
		}
	}
}
