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
//
//	go test -run '^$' -bench . ./bench/vulkanstep/
func BenchmarkStep(b *testing.B) {
	kb, err := vulkan.New(enginetest.Open(b))
	if err != nil {
		b.Fatal(err)
	}
	be := kb
	defer be.Close()
	be.TimePrograms(true)
	for _, c := range bench.StepCases {
		b.Run(c.Name+"/backend=vulkan", func(b *testing.B) { bench.BenchStep(b, be, c, true) })
	}
}
