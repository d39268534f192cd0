package cpu_test

import (
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/kernels/kerneltest"
)

var _ kernels.Backend = (*cpu.Backend)(nil)

func TestConformance(t *testing.T) { kerneltest.Run(t, cpu.New()) }

func BenchmarkOps(b *testing.B) { kerneltest.Bench(b, cpu.New()) }
