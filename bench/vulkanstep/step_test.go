package vulkanstep

import (
	"testing"

	"github.com/vkneuro/vkneuro/bench"
	"github.com/vkneuro/vkneuro/engine/enginetest"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
)

// BenchmarkStep times the harness's steps on the Vulkan device with
// every command timed: gpu-ms/step is the device time of a step's
// dispatches, gpu-share% its part of the wall time (the rest is submit,
// fence wait and the batch copies). On a GPU that share says whether a
// step is dominated by GPU work; on lavapipe the "device" is the CPU.
// It also counts what a step's command buffer executes: dispatches,
// transfer commands and pipeline barriers per step, and the barriers a
// full barrier between every two commands would take (commands + 1).
//
//	go test -run '^$' -bench . ./bench/vulkanstep/
func BenchmarkStep(b *testing.B) {
	m := enginetest.Open(b)
	be, err := vulkan.New(m)
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	be.TimePrograms(true)
	for _, c := range bench.StepCases {
		b.Run(c.Name+"/backend=vulkan", func(b *testing.B) {
			ran, submits := m.Ran(), m.Submits()
			bench.BenchStep(b, be, c, true).Close()
			if !m.Unified() {
				return // staged transfers are submits of their own: submits do not count steps
			}
			// BenchStep runs one untimed step, then b.N timed ones, each
			// one submit where buffers are mapped; a submit of anything
			// else would make the quotients below wrong.
			steps := 1 + b.N
			if n := m.Submits() - submits; n != uint64(steps) {
				b.Fatalf("%d submits for %d steps, want one per step", n, steps)
			}
			now := m.Ran()
			per := func(n, was int) float64 { return float64(n-was) / float64(steps) }
			b.ReportMetric(per(now.Dispatches, ran.Dispatches), "dispatches/step")
			b.ReportMetric(per(now.Transfers, ran.Transfers), "transfers/step")
			b.ReportMetric(per(now.Barriers, ran.Barriers), "barriers/step")
			b.ReportMetric(per(now.Dispatches+now.Transfers, ran.Dispatches+ran.Transfers)+1, "full-barriers/step")
		})
	}
}
