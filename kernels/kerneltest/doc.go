// Package kerneltest is the conformance suite and benchmark driver for
// kernels.Backend implementations, in the style of gonum's testblas:
// a backend's test file calls Run(t, backend) and its benchmark file
// calls Bench(b, backend) (RunWith and BenchWith take options; under
// -short the tutorials' largest shapes are left out).
//
// The suite carries the specification of every op as a plain loop that
// accumulates in float64 (spec.go): the plain loop is the definition.
// Backends are checked against it with per-op tolerances on many shapes
// (suite.go and a file per family: activations.go, dropout.go,
// avgpool.go, losses.go, optim.go), for not writing outside their
// operands (guard tensors), Program reuse, accumulation, aliasing, sticky
// recording errors and bad shapes; dropout masks and optimizers across
// Runs of one Program with the step state rewritten in between; errors
// that only running finds (NLL targets) and the use of freed tensors
// and their views (free.go); every backward op of the spec is checked
// against finite differences of its forward and the backend's backward
// against the spec's (gradcheck.go); and every op is checked against
// PyTorch's values in testdata/kernels/golden.npz (golden.go), written
// by testdata/kernels/gen_kernel_fixtures.py.
package kerneltest
