package bench

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/models"
)

// BenchmarkStep times one training step of each benchmark workload at the
// harness's shapes on the CPU backend, without cmd/train around it, so a
// CPU profile shows where a step's time goes:
//
//	go test -run '^$' -bench Step -benchtime 20x -cpuprofile cpu.prof ./bench/
//	go tool pprof -top bench.test cpu.prof
//
// The data are random: step time does not depend on the values (the only
// value-dependent branches are ReLU and max-pool selections).
func BenchmarkStep(b *testing.B) {
	const neurons = 23589
	cases := []struct {
		name  string
		build func(*cpu.Backend) (*models.Model, error)
		hyper models.Hyper
		n     int // samples per step
	}{
		{"normative/batch100", func(be *cpu.Backend) (*models.Model, error) { return models.NewNormative(be, 48, 64, 1) },
			models.Hyper{LR: 5e-4, Momentum: 0.99}, 100},
		{"decode/216x23589", func(be *cpu.Backend) (*models.Model, error) {
			return models.NewDecode(be, models.Softmax, neurons, 20, 20, 1)
		}, models.Hyper{LR: 0.1, L2: 1e-2, L1: 5e-4}, 216},
		{"encode/60x23589", func(be *cpu.Backend) (*models.Model, error) { return models.NewEncode(be, 12, 16, neurons, 1) },
			models.Hyper{LR: 2, Momentum: 0.9, L2: 5e-4, L1: 1e-6}, 60},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("%s/threads%d", c.name, runtime.GOMAXPROCS(0)), func(b *testing.B) {
			be := cpu.New()
			defer be.Close()
			m, err := c.build(be)
			if err != nil {
				b.Fatal(err)
			}
			defer m.Close()
			if err := m.SetHyper(c.hyper); err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			x := make([]float32, c.n*m.InputSize())
			for i := range x {
				x[i] = float32(rng.NormFloat64()) * 0.3
			}
			t := make([]float32, c.n*m.TargetSize())
			for i := range t {
				switch m.Loss {
				case models.BCE:
					t[i] = float32(rng.IntN(2))
				case models.NLL:
					t[i] = float32(rng.IntN(m.OutputSize()))
				default:
					t[i] = float32(rng.NormFloat64())
				}
			}
			// The first step records the Program; keep it out of the timing.
			if _, err := m.Step(x, t); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := m.Step(x, t); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e3, "ms/step")
		})
	}
}
