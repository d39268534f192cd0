package models

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
)

// countingBackend counts the tensors a backend allocates.
type countingBackend struct {
	kernels.Backend
	tensors int
}

func (c *countingBackend) NewTensor(shape ...int) (*kernels.Tensor, error) {
	c.tensors++
	return c.Backend.NewTensor(shape...)
}

// TestNewErrors: a bad network is refused before anything is allocated,
// naming the module by index and constructor, and what it got.
func TestNewErrors(t *testing.T) {
	be := &countingBackend{Backend: cpu.New()}
	defer be.Close()
	img := []int{1, 48, 64}
	for _, c := range []struct {
		input []int
		arch  string
		loss  Loss
		want  []string
	}{
		// The example with a wrong Linear size: 16×6×8 = 768.
		{img, "Conv2d(1, 8, 5, padding=2), ReLU(), MaxPool2d(2), Conv2d(8, 16, kernel_size=3, padding=1), Tanh(), AvgPool2d(4), Flatten(), Linear(700, 32), ELU(), Linear(32, 1), Sigmoid()", BCE,
			[]string{"module 7 Linear(700, 32)", "768 = 16×6×8", "in_features is 700"}},
		{img, "Conv2d(1, 8, 5, padding=2), ReLU(), MaxPool2d(2), Linear(6144, 1), Sigmoid()", BCE,
			[]string{"module 3 Linear(6144, 1)", "[8, 24, 32]", "6144 = 8×24×32", "add Flatten() before it"}},
		{img, "Conv2d(3, 8, 5), Flatten(), Linear(1, 1), Sigmoid()", BCE,
			[]string{"module 0 Conv2d(3, 8, kernel_size=(5, 5))", "gets 1 input channels", "in_channels is 3"}},
		{[]int{10}, "Conv2d(1, 8, 5)", MSE, []string{"module 0", "needs an image input [C, H, W], got [10]"}},
		{img, "MaxPool2d(100)", MSE, []string{"module 0 MaxPool2d(100)", "window 100×100 is larger than the input [1, 48, 64]"}},
		{img, "Conv2d(1, 2, 51)", MSE, []string{"kernel 51×51 is larger than the padded input 48×64"}},
		{[]int{5}, "Linear(5, 3), LogSoftmax(dim=2)", NLL, []string{"module 1 LogSoftmax(dim=2)", "dim 2 is out of range"}},
		// Losses that do not fit the output.
		{[]int{5}, "Linear(5, 1)", BCE, []string{"loss bce needs probabilities", "Sigmoid()"}},
		{[]int{5}, "Linear(5, 3)", NLL, []string{"loss nll needs log-probabilities", "cross-entropy"}},
		{[]int{5}, "Linear(5, 1), LogSoftmax(dim=1)", NLL, []string{"one score per class", "[1]"}},
		{[]int{5}, "Linear(5, 2), Sigmoid()", BCEWithLogits, []string{"loss bce-logits takes logits", "Sigmoid()"}},
		{[]int{5}, "Linear(5, 4), LogSoftmax(dim=1)", CrossEntropy, []string{"loss cross-entropy takes logits"}},
		{img, "Conv2d(1, 2, 3), Softmax(dim=1)", CrossEntropy, []string{"one score per class", "[2, 46, 62]"}},
	} {
		layers, err := ParseArch(c.arch)
		if err != nil {
			t.Fatalf("%s: %v", c.arch, err)
		}
		before := be.tensors
		m, err := New(be, Sequential{Input: c.input, Layers: layers, Loss: c.loss})
		if err == nil {
			m.Close()
			t.Errorf("New(%s) succeeded, want an error", c.arch)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("New(%s) error %q does not say %q", c.arch, err, w)
			}
		}
		if be.tensors != before {
			t.Errorf("New(%s) allocated %d tensors before failing", c.arch, be.tensors-before)
		}
	}
	for _, c := range []struct {
		name   string
		layers []Layer
		want   string
	}{
		{"Functional with parameters", []Layer{Functional(Linear{In: 3, Out: 2})}, "owns parameters"},
		{"duplicate names", []Layer{Named("a", Linear{In: 3, Out: 3}), Named("a", Linear{In: 3, Out: 3})}, `name "a" must be unique`},
		{"dotted name", []Layer{Named("a.b", Linear{In: 3, Out: 3})}, "contain no '.'"},
		{"nil module", []Layer{nil}, "module 0 is nil"},
		{"no modules", nil, "no modules"},
	} {
		before := be.tensors
		m, err := New(be, Sequential{Input: []int{3}, Layers: c.layers, Loss: MSE})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			if m != nil {
				m.Close()
			}
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
		if be.tensors != before {
			t.Errorf("%s: allocated before failing", c.name)
		}
	}
}

// TestSequentialNames: modules are named by index, state_dict keys are
// nn.Sequential's, and Named and Functional modules work as in a
// PyTorch class.
func TestSequentialNames(t *testing.T) {
	be := cpu.New()
	defer be.Close()
	layers, err := ParseArch("Conv2d(1, 2, 3, bias=False), ReLU(), Flatten(), Linear(8, 3), LogSoftmax(dim=1)")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(be, Sequential{Input: []int{1, 4, 4}, Layers: layers, Loss: NLL})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got, want := strings.Join(m.paramNames(), " "), "0.weight 3.weight 3.bias"; got != want {
		t.Errorf("state_dict keys %q, want %q", got, want)
	}
	if got, want := strings.Join(m.HiddenLayers(), " "), "0 1 2 3 4"; got != want {
		t.Errorf("modules %q, want %q", got, want)
	}
	if got, want := m.Arch(), "Conv2d(1, 2, kernel_size=(3, 3), bias=False), ReLU(), Flatten(), Linear(8, 3), LogSoftmax(dim=1)"; got != want {
		t.Errorf("Arch() = %q, want %q", got, want)
	}
	x := make([]float32, 2*16)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	h, features, err := m.Hidden(x, "2")
	if err != nil || features != 8 || len(h) != 16 {
		t.Fatalf("Hidden(2) = %d values of %d features, %v", len(h), features, err)
	}
	n, err := NewNormative(be, 48, 64, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if got, want := strings.Join(n.paramNames(), " "), "conv.weight conv.bias fc.weight fc.bias out.weight out.bias"; got != want {
		t.Errorf("normative state_dict keys %q, want %q", got, want)
	}
	if got, want := n.Arch(), "Conv2d(1, 6, kernel_size=(7, 7), padding=(3, 3)), ReLU(), MaxPool2d(8), Flatten(), Linear(288, 10), ReLU(), Linear(10, 1), Sigmoid()"; got != want {
		t.Errorf("normative Arch() = %q, want %q", got, want)
	}
}

// TestSetTrainingErrors: torch.optim's checks, and penalties naming
// parameters the model has.
func TestSetTrainingErrors(t *testing.T) {
	be := cpu.New()
	defer be.Close()
	m, err := New(be, Sequential{Input: []int{3}, Layers: []Layer{Linear{In: 3, Out: 2}}, Loss: MSE})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	nest := SGD(0.1)
	nest.Nesterov = true
	badBeta := Adam(1e-3)
	badBeta.Beta2 = 1
	for _, c := range []struct {
		t    Training
		want string
	}{
		{Training{Optimizer: SGD(-1)}, "invalid learning rate"},
		{Training{Optimizer: nest}, "Nesterov momentum requires a momentum and zero dampening"},
		{Training{Optimizer: badBeta}, "invalid beta parameter at index 1"},
		{Training{Optimizer: SGD(0.1), Penalties: []Penalty{{Param: "1.weight", L1: 1}}}, `penalty on "1.weight": no such parameter (have 0.weight, 0.bias)`},
		{Training{Optimizer: SGD(0.1), Penalties: []Penalty{{Param: "0.weight", L2: -1}}}, "must be ≥ 0"},
		{Training{Optimizer: SGD(0.1), Penalties: []Penalty{{Param: "0.weight", L1: 1}, {Param: "0.weight", L2: 1}}}, "two penalties on 0.weight"},
	} {
		if err := m.SetTraining(c.t); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("SetTraining(%+v) = %v, want %q", c.t, err, c.want)
		}
	}
}

// TestSequentialStateDictInPyTorch saves custom networks' state dicts
// and checks with testdata/models/check_state_dict.py that each loads
// strictly into nn.Sequential(<arch>) and gives vkneuro's forward pass
// (needs /usr/bin/python3 with torch; skipped without). The reverse, a
// state dict exported from PyTorch training in vkneuro, is
// TestGoldenCustom.
func TestSequentialStateDictInPyTorch(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import torch").Run(); err != nil {
		t.Skipf("no PyTorch at %s: %v", py, err)
	}
	be := cpu.New()
	defer be.Close()
	dir := t.TempDir()
	for i, c := range []struct {
		input []int
		arch  string
		loss  Loss
	}{
		{[]int{1, 24, 32}, "Conv2d(1, 8, 5, padding=2), ReLU(), MaxPool2d(2), Conv2d(8, 16, kernel_size=3, padding=1), Tanh(), AvgPool2d(4), Flatten(), Linear(192, 32), ELU(), Dropout(0.2), Linear(32, 1), Sigmoid()", BCE},
		{[]int{30}, "Linear(30, 12, bias=False), Softplus(beta=2), Linear(12, 5), LogSoftmax(dim=1)", NLL},
		{[]int{2, 9, 11}, "Conv2d(2, 3, (3, 5), stride=(2, 1), padding=(1, 2)), Sigmoid(), Flatten(), Linear(165, 7)", MSE},
	} {
		layers, err := ParseArch(c.arch)
		if err != nil {
			t.Fatal(err)
		}
		m, err := New(be, Sequential{Input: c.input, Layers: layers, Loss: c.loss, Seed: uint64(i)})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		state := filepath.Join(dir, fmt.Sprint(i, "state.npz"))
		if err := m.SaveStateDict(state); err != nil {
			t.Fatal(err)
		}
		x := &data.Array{Shape: append([]int{4}, c.input...), Data: make([]float32, 4*m.InputSize())}
		for j := range x.Data {
			x.Data[j] = float32(math.Sin(float64(j)))
		}
		y, err := m.Forward(x.Data)
		if err != nil {
			t.Fatal(err)
		}
		in, out := filepath.Join(dir, fmt.Sprint(i, "x.npz")), filepath.Join(dir, fmt.Sprint(i, "y.npz"))
		if err := data.WriteNPZ(in, map[string]*data.Array{"x": x}); err != nil {
			t.Fatal(err)
		}
		if err := data.WriteNPZ(out, map[string]*data.Array{"y": {Shape: []int{4, m.OutputSize()}, Data: y}}); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(py, "../testdata/models/check_state_dict.py", m.Arch(), state, in, out)
		cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
		if got, err := cmd.CombinedOutput(); err != nil || strings.TrimSpace(string(got)) != "ok" {
			t.Errorf("%s: PyTorch: %v\n%s", c.arch, err, got)
		}
	}
}

// TestInputGradient checks the vector-Jacobian product against central
// finite differences of the forward pass, on both backends, through
// every kind of layer that passes a gradient to its input. The forward
// pass is float32, so the step h trades its rounding (≈ 1e-7·|y|/h per
// output) against truncation; a max-pool's arg-max must not move within
// h, hence the small step and plain outputs of the second network.
func TestInputGradient(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bk testBackend) {
		for _, c := range []struct {
			arch string
			loss Loss
			h    float32
		}{
			{"Conv2d(1, 3, 3, padding=1), Tanh(), Conv2d(3, 2, 2, stride=2), ELU(), AvgPool2d(2, stride=1), Dropout(0.5), Flatten(), Linear(2, 3), Softplus(), LogSoftmax(dim=1)", NLL, 1e-2},
			{"Conv2d(1, 3, 3, padding=1), Sigmoid(), MaxPool2d(2, stride=1), Conv2d(3, 2, 2, stride=2), Flatten(), Linear(8, 3)", MSE, 1e-3},
		} {
			layers, err := ParseArch(c.arch)
			if err != nil {
				t.Fatal(err)
			}
			m, err := New(bk.be, Sequential{Input: []int{1, 5, 5}, Layers: layers, Loss: c.loss, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			const S = 2
			x := make([]float32, S*m.InputSize())
			dy := make([]float32, S*m.OutputSize())
			for i := range x {
				x[i] = float32(math.Sin(float64(3*i + 1)))
			}
			for i := range dy {
				dy[i] = float32(math.Cos(float64(5*i + 2)))
			}
			g, err := m.InputGradient(x, dy)
			if err != nil {
				t.Fatal(err)
			}
			f := func(x []float32) float64 {
				y, err := m.Forward(x)
				if err != nil {
					t.Fatal(err)
				}
				var s float64
				for i, v := range y {
					s += float64(dy[i]) * float64(v)
				}
				return s
			}
			var worst, scale float64
			for k := range x {
				xp, xm := slices.Clone(x), slices.Clone(x)
				xp[k] += c.h
				xm[k] -= c.h
				fd := (f(xp) - f(xm)) / float64(xp[k]-xm[k])
				worst = math.Max(worst, math.Abs(fd-float64(g[k])))
				scale = math.Max(scale, math.Abs(fd))
			}
			if !(worst <= 2e-3*scale) || scale == 0 {
				t.Errorf("%s: input gradient differs from finite differences by %.3g (scale %.3g)", c.arch, worst, scale)
			}
		}
	})
}
