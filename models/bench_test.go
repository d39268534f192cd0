package models

import (
	"testing"

	"github.com/vkneuro/vkneuro/engine/enginetest"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
)

// BenchmarkNormativeStep times one Tutorial 3 training step (a batch of
// 100 gratings: upload, one Program run, loss download) per backend and
// reports ms/step and the step's convolution and matmul GFLOP/s.
func BenchmarkNormativeStep(b *testing.B) {
	b.Run("cpu", func(b *testing.B) {
		be := cpu.New()
		defer be.Close()
		benchNormativeStep(b, be)
	})
	b.Run("vulkan", func(b *testing.B) {
		be, err := vulkan.New(enginetest.Open(b))
		if err != nil {
			b.Fatal(err)
		}
		defer be.Close()
		benchNormativeStep(b, be)
	})
}

func benchNormativeStep(b *testing.B, be kernels.Backend) {
	d, h, w := NormativeDataset(NormativeTrainAngles(100, 1))
	m, err := NewNormative(be, h, w, 1)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	if err := m.SetHyper(Hyper{LR: 5e-4, Momentum: 0.99}); err != nil {
		b.Fatal(err)
	}
	if _, err := m.Step(d.X, d.T); err != nil { // record the Program outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Step(d.X, d.T); err != nil {
			b.Fatal(err)
		}
	}
	// Forward conv + weight gradient (the input gradient of the first
	// layer is not needed): 2 × 2·N·O·H·W·K², plus fc forward and its
	// two gradients: 3 × 2·N·288·10.
	flops := 2*2*100*6*48*64*49.0 + 3*2*100*288*10.0
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(sec*1e3, "ms/step")
	b.ReportMetric(flops/sec/1e9, "GFLOP/s")
}
