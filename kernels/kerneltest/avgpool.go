package kerneltest

import (
	"fmt"
	"math"
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
)

// avgPoolCases are average-pool geometries: a single element, odd and
// prime sizes, overlapping windows (stride < kernel), gapped ones
// (stride > kernel, so some inputs get no gradient), leftover rows and
// columns past the last window, a window as large as the plane, and the
// tutorials' 4×4 and 8×8 pools.
var avgPoolCases = []poolCase{
	{n: 1, c: 1, h: 1, w: 1, p: kernels.Pool2DParams{KernelH: 1, KernelW: 1}},
	{n: 2, c: 3, h: 8, w: 8, p: kernels.Pool2DParams{KernelH: 2, KernelW: 2}},
	{n: 2, c: 2, h: 9, w: 7, p: kernels.Pool2DParams{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}},   // overlapping
	{n: 3, c: 5, h: 17, w: 19, p: kernels.Pool2DParams{KernelH: 4, KernelW: 3, StrideH: 1, StrideW: 2}}, // overlapping, primes
	{n: 1, c: 2, h: 13, w: 11, p: kernels.Pool2DParams{KernelH: 2, KernelW: 3, StrideH: 3, StrideW: 4}}, // gapped
	{n: 2, c: 3, h: 11, w: 13, p: kernels.Pool2DParams{KernelH: 5, KernelW: 5}},                         // leftovers
	{n: 1, c: 3, h: 7, w: 5, p: kernels.Pool2DParams{KernelH: 7, KernelW: 5}},                           // the whole plane
	{n: 2, c: 1, h: 5, w: 23, p: kernels.Pool2DParams{KernelH: 1, KernelW: 8, StrideH: 2, StrideW: 3}},  // overlapping along w, gapped along h
	{n: 10, c: 6, h: 48, w: 64, p: kernels.Pool2DParams{KernelH: 4, KernelW: 4}},                        // the tutorials' pools, small batch
	{n: 10, c: 6, h: 48, w: 64, p: kernels.Pool2DParams{KernelH: 8, KernelW: 8}},
	{n: 100, c: 6, h: 48, w: 64, p: kernels.Pool2DParams{KernelH: 4, KernelW: 4}, large: true}, // and their batch of 100
	{n: 100, c: 6, h: 48, w: 64, p: kernels.Pool2DParams{KernelH: 8, KernelW: 8}, large: true},
}

func testAvgPool(t *testing.T, b kernels.Backend, o RunOptions) {
	for ci, c := range avgPoolCases {
		if c.large && !o.Large {
			continue
		}
		name := fmt.Sprintf("x=%dx%dx%dx%d,k=%dx%d,stride=%d,%d", c.n, c.c, c.h, c.w, c.p.KernelH, c.p.KernelW, c.p.StrideH, c.p.StrideW)
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, b, uint64(2500+ci))
			xs := []int{c.n, c.c, c.h, c.w}
			g, ys := poolGeom(t, xs, c.p)
			xv, dyv := h.uniform(kernels.Numel(xs), -1, 1), h.uniform(kernels.Numel(ys), -1, 1)
			x, dy := h.in("x", xv, xs...), h.in("dy", dyv, ys...)
			nan := float32(math.NaN())
			y, dx := h.out(nan, ys...), h.out(nan, xs...)
			h.run(func(p kernels.Program) {
				p.AvgPool2D(y, x, c.p)
				p.AvgPool2DBackward(dx, dy, c.p)
			})
			k := g.KH * g.KW
			// A k-term sum, divided by k.
			atol, rtol := dotTol(k, rms(xv)/float64(k))
			check(t, "y", h.get(y), specAvgPool2D(f64(xv), g), atol, rtol)
			// Overlapping windows add up to ⌈K/S⌉² terms dy/k into one
			// input; inputs no window covers must be 0, not the NaN dx held.
			adds := ((g.KH + g.StrideH - 1) / g.StrideH) * ((g.KW + g.StrideW - 1) / g.StrideW)
			atol, rtol = dotTol(adds, rms(dyv)/float64(k))
			check(t, "dx", h.get(dx), specAvgPool2DBackward(f64(dyv), g), atol, rtol)
		})
	}
}
