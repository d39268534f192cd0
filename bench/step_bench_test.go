package bench

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/vkneuro/vkneuro/kernels/cpu"
)

// BenchmarkStep times training steps of each benchmark workload at the
// harness's shapes on the CPU backend, through models.Trainer as vkneuro
// train runs them, so a CPU profile shows where a step's time goes:
//
//	go test -run '^$' -bench Step -benchtime 20x -cpuprofile cpu.prof ./bench/
//	go tool pprof -top bench.test cpu.prof
//
// The data are random (StepData). BenchmarkRoofline breaks the same
// steps down op by op.
func BenchmarkStep(b *testing.B) {
	be := cpu.New()
	defer be.Close()
	for _, c := range StepCases {
		b.Run(fmt.Sprintf("%s/threads%d", c.Name, runtime.GOMAXPROCS(0)), func(b *testing.B) {
			BenchStep(b, be, c, false).Close()
		})
	}
}
