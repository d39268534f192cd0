package models

import (
	"testing"

	"github.com/vkneuro/vkneuro/kernels/cpu"
)

// BenchmarkNormativeStep times one Tutorial 3 training step (batch of
// 100 gratings) on the CPU backend.
func BenchmarkNormativeStep(b *testing.B) {
	be := cpu.New()
	defer be.Close()
	d, h, w := NormativeDataset(NormativeTrainAngles(100, 1))
	m, err := NewNormative(be, h, w, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.SetHyper(Hyper{LR: 5e-4, Momentum: 0.99}); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := m.Step(d.X, d.T); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Seconds())/float64(b.N)*1e3, "ms/step")
}
