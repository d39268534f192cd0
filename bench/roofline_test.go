package bench

import (
	"testing"

	"github.com/vkneuro/vkneuro/kernels/cpu"
)

// TestOpCost checks the roofline's cost model on ops whose work and
// traffic are known by hand.
func TestOpCost(t *testing.T) {
	op := func(name string, ops ...cpu.Operand) cpu.OpStat { return cpu.OpStat{Name: name, Operands: ops} }
	o := func(role string, shape ...int) cpu.Operand { return cpu.Operand{Role: role, Shape: shape} }
	for _, c := range []struct {
		s            cpu.OpStat
		flops, bytes float64
	}{
		// c[m×n] = a[m×k]·b: 2mnk, each operand once.
		{op("MatMul", o("c", 216, 20), o("a", 216, 23589), o("b", 20, 23589)), 2 * 216 * 20 * 23589, 4 * (216*20 + 216*23589 + 20*23589)},
		// y = conv(x, w): 2·|y|·C·KH·KW.
		{op("Conv2D", o("y", 2, 6, 48, 64), o("x", 2, 1, 48, 64), o("w", 6, 1, 7, 7)), 2 * 2 * 6 * 48 * 64 * 49, 4 * (2*6*48*64 + 2*48*64 + 294)},
		// The update reads and writes p and buf, reads grad; state is free.
		{op("Update", o("p", 100), o("grad", 100), o("buf", 100), o("state", 8)), 800, 4 * 500},
		// dyᵀ·x and the update: w and buf twice, dy and x once.
		{op("LinearWeightUpdate", o("w", 20, 300), o("dy", 16, 20), o("x", 16, 300), o("buf", 20, 300)), 2*16*20*300 + 8*6000, 4 * (4*6000 + 16*20 + 16*300)},
		// Pooled block without y: the convolution of every x plane.
		{op("Conv2DMaxPool", o("pooled", 1, 6, 6, 8), o("argmax", 1, 6, 6, 8), o("x", 1, 1, 48, 64), o("w", 6, 1, 7, 7)), 2*6*48*64*49 + 6*48*64, 4 * (2*288 + 3072 + 294)},
	} {
		f, b := OpCost(c.s)
		if f != c.flops || b != c.bytes {
			t.Errorf("%s: %g FLOPs, %g bytes; want %g, %g", c.s.Name, f, b, c.flops, c.bytes)
		}
	}
}
