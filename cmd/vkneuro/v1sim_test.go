package main

import (
	"bytes"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/data"
)

func TestRunWritesBothFormats(t *testing.T) {
	dir := t.TempDir()
	out, split := filepath.Join(dir, "v1.npz"), filepath.Join(dir, "split.npz")
	var stdout, stderr bytes.Buffer
	err := v1sim([]string{"--out", out, "--split", split, "--neurons", "40", "--seed", "7"}, &stdout, &stderr)
	if err != nil {
		t.Fatal(err, stderr.String())
	}
	v, err := data.LoadV1(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := data.SyntheticV1(data.SynthOptions{Neurons: 40, Seed: 7}); !reflect.DeepEqual(v, want) {
		t.Error("the -out file differs from data.SyntheticV1 with the same options")
	}
	sp, err := data.LoadV1Split(split)
	if err != nil {
		t.Fatal(err)
	}
	if want := data.SyntheticV1Split(data.SynthOptions{Neurons: 40, Seed: 7}); !reflect.DeepEqual(sp, want) {
		t.Error("the -split file differs from data.SyntheticV1Split with the same options")
	}
	if sp.S != 60 || v.S != 360 || !v.Synthetic || !sp.Synthetic {
		t.Errorf("S = %d and %d, synthetic %v %v; want 360, 60, true, true", v.S, sp.S, v.Synthetic, sp.Synthetic)
	}
	if !strings.Contains(stdout.String(), "SYNTHETIC") {
		t.Errorf("output does not say the data are synthetic: %q", stdout.String())
	}
}

func TestRunNoiseless(t *testing.T) {
	out := filepath.Join(t.TempDir(), "v1.npz")
	if err := v1sim([]string{"-out", out, "-neurons", "5", "-noise", "0", "-stimuli", "36"}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	v, err := data.LoadV1(out)
	if err != nil {
		t.Fatal(err)
	}
	want := data.SyntheticV1(data.SynthOptions{Neurons: 5, Seed: 1, Noise: -1, Stimuli: 36})
	if !reflect.DeepEqual(v, want) {
		t.Error("-noise 0 did not give noiseless data")
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "v.npz")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "nothing to write: give -out and/or -split"},
		{[]string{"-out", out, "extra"}, `unexpected argument "extra"; all options are flags`},
		{[]string{"-out", out, "-split", out}, `-out and -split name the same file "` + out + `"`},
		{[]string{"-out", out, "-neurons", "0"}, "-neurons 0: want at least 1"},
		{[]string{"-out", out, "-stimuli", "0"}, "-stimuli 0, -split-stimuli 60: want at least 1"},
		{[]string{"-out", out, "-noise", "-1"}, "-noise -1: want a value ≥ 0"},
		{[]string{"-out", out, "-neurons", "10000000"}, "360 stimuli × 10000000 neurons exceeds 268435456 values"},
		{[]string{"-out", filepath.Join(dir, "missing", "v.npz"), "-neurons", "2"}, "data: " + filepath.Join(dir, "missing", "v.npz") + ": open "},
		{[]string{"-bogus"}, "flag provided but not defined: -bogus"},
	} {
		err := v1sim(tc.args, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("run(%q): error %v, want prefix %q", tc.args, err, tc.want)
		}
	}
}
