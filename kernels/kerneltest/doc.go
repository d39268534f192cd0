// Package kerneltest is the conformance suite and benchmark driver for
// kernels.Backend implementations, in the style of gonum's testblas:
// a backend's test file calls Run(t, backend) and its benchmark file
// calls Bench(b, backend).
//
// The suite carries the specification of every op as a plain loop that
// accumulates in float64 (spec.go): the plain loop is the definition,
// and backends are checked against it with per-op tolerances, against
// finite differences of it for every backward op, and against PyTorch
// golden values in testdata/kernels/golden.npz.
package kerneltest
