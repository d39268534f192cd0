package models

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseArch(t *testing.T) {
	for _, c := range []struct {
		spec string
		want []Layer
	}{
		{
			// The example, as a user copies it from PyTorch.
			"Conv2d(1, 8, 5, padding=2), ReLU(), MaxPool2d(2), Conv2d(8, 16, kernel_size=3, padding=1), Tanh(), AvgPool2d(4), Flatten(), Linear(768, 32), ELU(), Linear(32, 1), Sigmoid()",
			[]Layer{Conv2d{In: 1, Out: 8, Kernel: Square(5), Padding: Square(2)}, ReLU{}, MaxPool2d{Kernel: Square(2)},
				Conv2d{In: 8, Out: 16, Kernel: Square(3), Padding: Square(1)}, Tanh{}, AvgPool2d{Kernel: Square(4)}, Flatten{},
				Linear{In: 768, Out: 32}, ELU{Alpha: 1}, Linear{In: 32, Out: 1}, Sigmoid{}},
		},
		{
			// nn.Sequential(...) around it, nn. prefixes, tuples, keywords,
			// newlines, comments and trailing commas.
			`nn.Sequential(
				nn.Conv2d(in_channels=3, out_channels=4, kernel_size=(5, 3), stride=(1, 2), padding=(2, 1), bias=False),  # first
				torch.nn.Softplus(beta=2, threshold=5.5),
				nn.MaxPool2d(kernel_size=3, stride=1),
				nn.Dropout(), nn.Dropout(0.25),
				nn.Flatten(start_dim=1),
				nn.Linear(10, 2, bias=True),
				nn.LogSoftmax(dim=-1),
			)`,
			[]Layer{Conv2d{In: 3, Out: 4, Kernel: [2]int{5, 3}, Stride: [2]int{1, 2}, Padding: [2]int{2, 1}, NoBias: true},
				Softplus{Beta: 2, Threshold: 5.5}, MaxPool2d{Kernel: Square(3), Stride: Square(1)}, Dropout{P: 0.5}, Dropout{P: 0.25},
				Flatten{}, Linear{In: 10, Out: 2}, LogSoftmax{Dim: -1}},
		},
		{"Conv2d(2, 2, 3, padding='same'), Softmax(dim=1), ELU(alpha=.5), Softplus(), ReLU(inplace=True)",
			[]Layer{Conv2d{In: 2, Out: 2, Kernel: Square(3), Padding: Square(1)}, Softmax{Dim: 1}, ELU{Alpha: 0.5},
				Softplus{Beta: 1, Threshold: 20}, ReLU{}}},
		{"Conv2d(1, 1, (3), padding='valid'), AvgPool2d((2, 3), (1, 1), count_include_pad=False)",
			[]Layer{Conv2d{In: 1, Out: 1, Kernel: Square(3)}, AvgPool2d{Kernel: [2]int{2, 3}, Stride: Square(1)}}},
	} {
		got, err := ParseArch(c.spec)
		if err != nil {
			t.Errorf("ParseArch(%q): %v", c.spec, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseArch(%q)\n got %#v\nwant %#v", c.spec, got, c.want)
		}
		// FormatArch writes what ParseArch reads back.
		again, err := ParseArch(FormatArch(got))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Errorf("FormatArch %q reads back as %#v, %v", FormatArch(got), again, err)
		}
	}
}

func TestParseArchErrors(t *testing.T) {
	for _, c := range []struct{ spec, want string }{
		{"", "no modules"},
		{"Linear(3, 2), Conv3d(1, 2, 3)", `module 1 Conv3d(1, 2, 3): unknown module "Conv3d"`},
		{"Linear(3)", `module 0 Linear(3): missing required argument "out_features"`},
		{"Linear(3, 2, True, 4, 5, 6)", "at most 5 positional"},
		{"Linear(3, 2, biass=False)", `unexpected keyword argument "biass"`},
		{"Linear(3, out_features=2, out_features=3)", `multiple values for argument "out_features"`},
		{"Linear(in_features=3, 2)", "positional argument follows keyword argument"},
		{"Linear(3.5, 2)", "in_features must be an integer, got 3.5"},
		{"Linear(0, 2)", "in_features must be positive"},
		{"Conv2d(1, 2, 3, groups=2)", "groups=2 is not supported"},
		{"Conv2d(1, 2, 3, dilation=(2, 1))", "dilation=(2, 1) is not supported"},
		{"Conv2d(1, 2, 4, padding='same')", "even kernel"},
		{"Conv2d(1, 2, (3, 3, 3))", "kernel_size must be an integer ≥ 1 or a pair"},
		{"MaxPool2d(2, ceil_mode=True)", "ceil_mode=True is not supported"},
		{"AvgPool2d(2, padding=1)", "padding=1 is not supported"},
		{"Flatten(0)", "start_dim=0 is not supported"},
		{"LogSoftmax()", "give dim="},
		{"Dropout(1.5)", "between 0 and 1"},
		{"Softplus(beta=0)", "beta must be positive"},
		{"ReLU(), ", ""}, // a trailing comma is fine
		{"ReLU() ReLU()", "expected ',' between modules"},
		{"ReLU(", "expected"},
		{"Linear(3, 2", "expected ')'"},
		{"Linear(3, 'two')", "out_features must be an integer"},
		{"Linear(3, 2, bias=1)", "bias must be True or False"},
		{"Sequential(ReLU()) extra", "after Sequential"},
		{"ELU(alpha=x)", "expected a number"},
	} {
		_, err := ParseArch(c.spec)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("ParseArch(%q): %v", c.spec, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("ParseArch(%q) error = %v, want it to contain %q", c.spec, err, c.want)
		}
	}
}

// FuzzParseArch: no input panics the parser, and what it accepts
// formats and reads back to the same layers.
func FuzzParseArch(f *testing.F) {
	for _, s := range []string{
		"Conv2d(1, 8, 5, padding=2), ReLU(), MaxPool2d(2), Flatten(), Linear(768, 32), ELU(), Linear(32, 1), Sigmoid()",
		"nn.Sequential(nn.Linear(3, 2, bias=False), nn.LogSoftmax(dim=1))",
		"Conv2d(1, 1, (3, 5), stride=(2, 1), padding='same'), Dropout(p=0.1), AvgPool2d(2, 1), Softplus(2, 10.5), Tanh()",
		"Linear(3, 2,), # comment\n ReLU()",
		"((((1))))", "Linear(1e3, -2)", "ELU(alpha=-1e-300)", "'", "Linear(3, 2)))",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		layers, err := ParseArch(spec)
		if err != nil {
			return
		}
		text := FormatArch(layers)
		again, err := ParseArch(text)
		if err != nil {
			t.Fatalf("%q parsed, but its format %q does not: %v", spec, text, err)
		}
		if !reflect.DeepEqual(again, layers) {
			t.Fatalf("%q → %q → %#v, want %#v", spec, text, again, layers)
		}
	})
}
