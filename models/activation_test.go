package models

import (
	"math"
	"slices"
	"testing"
)

// TestActivation checks that Activation is the step Program's own conv
// output: before the update it equals what Hidden computes with the same
// weights, its shape follows the last step's batch size, and it is gone
// when SetHyper discards the step Programs. Tolerance 1e-5 + 1e-5·|want|:
// the step and the forward-only Program run the same conv kernel on the
// same weights, so they differ at most by the rounding of a 49-term sum
// of values ≤ ~1.
func TestActivation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bk testBackend) {
		d, h, w := NormativeDataset(NormativeTrainAngles(5, 3))
		m, err := NewNormative(bk.be, h, w, 3)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if err := m.SetHyper(Hyper{LR: 1e-3, Momentum: 0.9}); err != nil {
			t.Fatal(err)
		}
		if _, ok := m.Activation("conv"); ok {
			t.Error("Activation before any step reported ok")
		}
		per := h * w
		for _, n := range []int{3, 2} {
			x, tg := d.X[:n*per], d.T[:n]
			want, _, err := m.Hidden(x, "conv")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := m.Step(x, tg); err != nil {
				t.Fatal(err)
			}
			a, ok := m.Activation("conv")
			if !ok {
				t.Fatalf("batch %d: Activation(conv) not ok after a step", n)
			}
			if wantShape := []int{n, 6, h, w}; !slices.Equal(a.Shape, wantShape) {
				t.Fatalf("batch %d: Activation(conv) shape %v, want %v", n, a.Shape, wantShape)
			}
			got := make([]float32, a.Len())
			if err := bk.be.Download(a, got); err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if e := math.Abs(float64(got[i] - want[i])); !(e <= 1e-5+1e-5*math.Abs(float64(want[i]))) {
					t.Fatalf("batch %d: conv[%d] = %.7g, Hidden before the step %.7g", n, i, got[i], want[i])
				}
			}
		}
		if _, ok := m.Activation("relu"); ok {
			t.Error(`Activation("relu") reported ok: the model has no such module`)
		}
		if a, ok := m.Activation("fc"); !ok || !slices.Equal(a.Shape, []int{2, 10}) {
			t.Errorf("Activation(fc) = %v, %v; want a [2 10] tensor", a, ok)
		}
		if err := m.SetHyper(Hyper{LR: 2e-3}); err != nil {
			t.Fatal(err)
		}
		if _, ok := m.Activation("conv"); ok {
			t.Error("Activation after SetHyper discarded the step Programs reported ok")
		}
	})
}
