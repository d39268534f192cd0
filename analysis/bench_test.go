package analysis

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vkneuro/vkneuro/kernels/cpu"
)

// The tutorials' largest input: 360 one-degree stimulus bins × 23,589
// recorded neurons (bonus tutorial's resp_all).
const benchS, benchN = 360, 23589

func BenchmarkRDM(b *testing.B) {
	x := randMatrix(rand.New(rand.NewPCG(1, 1)), benchS, benchN)
	b.ResetTimer()
	for b.Loop() {
		if _, err := RDM(x, benchS, benchN, nil); err != nil {
			b.Fatal(err)
		}
	}
	// Z·Zᵀ dominates: 2·S²·N flops.
	b.ReportMetric(2*benchS*benchS*benchN*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkPCA(b *testing.B) {
	x := randMatrix(rand.New(rand.NewPCG(2, 2)), benchS, benchN)
	b.ResetTimer()
	for b.Loop() {
		if _, err := PCA(x, benchS, benchN, 20); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPreferredStimulus(b *testing.B) {
	x := randMatrix(rand.New(rand.NewPCG(3, 3)), benchS, benchN)
	stim := make([]float32, benchS)
	for i := range stim {
		stim[i] = float32(i)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := PreferredStimulus(x, benchS, benchN, stim, 5, Wrap); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTSNE embeds 360 points of 20 PCA dimensions with the
// tutorials' settings (perplexity 30, 1000 iterations).
func BenchmarkTSNE(b *testing.B) {
	x, _ := clusters(360, 20, 4)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := TSNE(x, 360, 20, TSNEOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	// Each iteration evaluates every ordered pair twice (Z, then the
	// gradient), ≈ 20 flops per pair.
	b.ReportMetric(20*2*360*359*1000*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// The split data's shape (oribinned6_split: 60 stimuli × 23,589
// neurons) and the encode network's conv layer (6 × 12 × 16 features).
const benchSplitS, benchFeatures = 60, 1152

// BenchmarkRidgeCV times the split data's ridge baseline on gonum's
// GEMM and the CPU backend, with the product in RidgeCV's blocks of
// 2²¹ values and in one piece (2²⁵ ≥ 1080×23,589), the choice
// ridgeMaxProduct records.
func BenchmarkRidgeCV(b *testing.B) {
	rng := rand.New(rand.NewPCG(4, 4))
	x := randMatrix(rng, benchSplitS, benchFeatures)
	train := randMatrix(rng, benchSplitS, benchN)
	test := randMatrix(rng, benchSplitS, benchN)
	be := cpu.New()
	defer be.Close()
	defer func(v int) { ridgeMaxProduct = v }(ridgeMaxProduct)
	for _, g := range []struct {
		name string
		g    GEMM
	}{{"gonum", CPUGEMM}, {"backend=cpu", BackendGEMM(be)}} {
		for _, block := range []int{21, 25} {
			b.Run(fmt.Sprintf("%s/block=2^%d", g.name, block), func(b *testing.B) {
				ridgeMaxProduct = 1 << block
				for b.Loop() {
					if _, err := RidgeCV(x, benchSplitS, benchFeatures, train, test, benchN, RidgeOptions{GEMM: g.g}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkRSABootstrap(b *testing.B) {
	for _, S := range []int{benchSplitS, benchS} {
		rng := rand.New(rand.NewPCG(5, 5))
		r1, err := RDM(randMatrix(rng, S, 200), S, 200, nil)
		if err != nil {
			b.Fatal(err)
		}
		r2, err := RDM(randMatrix(rng, S, 200), S, 200, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("S=%d", S), func(b *testing.B) {
			for b.Loop() {
				if _, err := RSABootstrap(r1, r2, S, BootstrapOptions{Seed: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
