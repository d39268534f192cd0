package main

import (
	"slices"
	"strings"
	"testing"
)

// TestSpec pins the standard workloads to the tutorials' settings
// (tasks.DefaultsFor): the harness rejects a run whose step count
// differs from what its arguments imply, so a wrong count here would
// fail every run.
func TestSpec(t *testing.T) {
	cases := []struct {
		name  string
		steps int
		args  string
	}{
		{"normative", 250, "--epochs 25 --batch 100 --lr 0.0005 --momentum 0.99 --l1 0 --l2 0"},
		{"decode", 1000, "--iters 1000 --batch 0 --lr 0.1 --momentum 0 --l1 0.0005 --l2 0.01"},
		{"encode", 200, "--iters 200 --batch 0 --lr 2 --momentum 0.9 --l1 1e-06 --l2 0.0005"},
	}
	for _, c := range cases {
		w := spec(c.name, full)
		if w.steps != c.steps || strings.Join(w.args, " ") != c.args {
			t.Errorf("%s: %d steps, args %q; want %d, %q", c.name, w.steps, strings.Join(w.args, " "), c.steps, c.args)
		}
		for _, v := range []variant{short, cpuVulkan} {
			q := spec(c.name, v)
			if !slices.Equal(q.gen, w.gen) || q.steps >= w.steps {
				t.Errorf("%s variant %d: gen %v, %d steps; want the same data as the full run (%v) and fewer steps", c.name, v, q.gen, q.steps, w.gen)
			}
		}
	}
	if got := spec("decode", full).gen; !slices.Equal(got, []string{"--s", "216", "--n", "23589"}) {
		t.Errorf("decode data %v, want 216×23589", got)
	}
	if got := spec("encode", full).gen; !slices.Equal(got, []string{"--s", "60", "--n", "23589"}) {
		t.Errorf("encode data %v, want 60×23589", got)
	}
	if got := spec("normative", full).gen; !slices.Equal(got, []string{"--n", "1000"}) {
		t.Errorf("normative data %v, want 1000 gratings", got)
	}
	// A last partial batch counts as a step, as torch.split makes it.
	if got := normative(1000, 300, 2).steps; got != 8 {
		t.Errorf("1000 gratings in batches of 300 for 2 epochs: %d steps, want 8", got)
	}
}
