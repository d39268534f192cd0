package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
)

// eps32 is the float32 machine epsilon, 2⁻²³.
const eps32 = 0x1p-23

// guardValue fills the tensors allocated around every tensor under test:
// an op that writes outside its operands shows up as a changed guard on
// backends that pack tensors into shared memory.
const guardValue = -31337.25

// guardLen is the length of each guard tensor.
const guardLen = 67

// harness allocates guarded tensors for one test case and checks, when
// the case ends, that guards and inputs were not written.
type harness struct {
	t      testing.TB
	b      kernels.Backend
	rng    *rand.Rand
	all    []*kernels.Tensor
	guards []*kernels.Tensor
	inputs []input
}

type input struct {
	name string
	t    *kernels.Tensor
	v    []float32
}

func newHarness(t testing.TB, b kernels.Backend, seed uint64) *harness {
	t.Helper()
	h := &harness{t: t, b: b, rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
	t.Cleanup(h.finish)
	return h
}

func (h *harness) newTensor(shape ...int) *kernels.Tensor {
	h.t.Helper()
	x, err := h.b.NewTensor(shape...)
	if err != nil {
		h.t.Fatalf("NewTensor(%v): %v", shape, err)
	}
	h.all = append(h.all, x)
	return x
}

func (h *harness) guard() {
	h.t.Helper()
	g := h.newTensor(guardLen)
	h.upload(g, constant(guardLen, guardValue))
	h.guards = append(h.guards, g)
}

// out allocates a tensor between two guards and fills it with fill
// (NaN checks that an op which overwrites its output does not read it).
func (h *harness) out(fill float32, shape ...int) *kernels.Tensor {
	h.t.Helper()
	h.guard()
	x := h.newTensor(shape...)
	h.guard()
	h.upload(x, constant(kernels.Numel(shape), fill))
	return x
}

// in allocates a guarded tensor holding v and remembers v, so that finish
// can check the op left its input alone.
func (h *harness) in(name string, v []float32, shape ...int) *kernels.Tensor {
	h.t.Helper()
	if len(v) != kernels.Numel(shape) {
		h.t.Fatalf("kerneltest: %s: %d values for shape %v", name, len(v), shape)
	}
	h.guard()
	x := h.newTensor(shape...)
	h.guard()
	h.upload(x, v)
	h.inputs = append(h.inputs, input{name, x, v})
	return x
}

// mut allocates a guarded tensor holding v that the op may change.
func (h *harness) mut(v []float32, shape ...int) *kernels.Tensor {
	h.t.Helper()
	h.guard()
	x := h.newTensor(shape...)
	h.guard()
	h.upload(x, v)
	return x
}

func (h *harness) upload(x *kernels.Tensor, v []float32) {
	h.t.Helper()
	if err := h.b.Upload(x, v); err != nil {
		h.t.Fatalf("Upload %s: %v", x, err)
	}
}

func (h *harness) get(x *kernels.Tensor) []float32 {
	h.t.Helper()
	v := make([]float32, x.Len())
	if err := h.b.Download(x, v); err != nil {
		h.t.Fatalf("Download %s: %v", x, err)
	}
	return v
}

// run records rec into a fresh Program and runs it once.
func (h *harness) run(rec func(p kernels.Program)) {
	h.t.Helper()
	if err := kernels.Run1(h.b, rec); err != nil {
		h.t.Fatalf("unexpected error: %v", err)
	}
}

func (h *harness) finish() {
	if !h.t.Failed() {
		for _, g := range h.guards {
			for i, v := range h.get(g) {
				if v != guardValue {
					h.t.Errorf("a guard tensor next to an operand changed: element %d is %v, want %v (the op wrote outside its operands)", i, v, guardValue)
					break
				}
			}
		}
		for _, in := range h.inputs {
			got := h.get(in.t)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(in.v[i]) {
					h.t.Errorf("input %s %s changed: element %d is %v, was %v", in.name, in.t, i, got[i], in.v[i])
					break
				}
			}
		}
	}
	for _, x := range h.all {
		h.b.Free(x)
	}
	h.all, h.guards, h.inputs = nil, nil, nil
}

// uniform returns n values uniform in [lo, hi).
func (h *harness) uniform(n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*h.rng.Float64())
	}
	return v
}

// classes returns n class indices in [0, c) as float32.
func (h *harness) classes(n, c int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(h.rng.IntN(c))
	}
	return v
}

func constant(n int, v float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = v
	}
	return s
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// rms is the root mean square of v, the typical size of its elements.
func rms(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s / float64(max(len(v), 1)))
}

func maxAbs(v []float32) float64 {
	var m float64
	for _, x := range v {
		m = math.Max(m, math.Abs(float64(x)))
	}
	return m
}

// dotTol is the tolerance for outputs that are sums of k products whose
// typical size is scale. Summing k terms in float32 in order makes each
// addition round with error up to eps/2·|partial sum|; with random signs
// the partial sums grow like √k·scale, and the rounding errors add up as
// a random walk to about 0.2·k·eps·scale. atol = 4·k·eps·scale is ~20×
// that, which no correct float32 order (sequential, blocked, tree) exceeds,
// yet it is far below the ~scale that one missing or doubled term costs.
// rtol covers the final rounding and scalar factors (alpha, beta, bias).
func dotTol(k int, scale float64) (atol, rtol float64) {
	return 4 * float64(k) * eps32 * scale, 8 * eps32
}

// sumTol is the relative tolerance for a sum of n same-sign terms in
// float32: the error grows like √n·eps in relative terms (random walk of
// roundings relative to a sum that grows like n), plus a few ulp for the
// logs and exps inside the terms.
func sumTol(n int) float64 {
	return (4*math.Sqrt(float64(n)) + 32) * eps32
}

// check compares got with want elementwise: |got−want| ≤ atol + rtol·|want|.
func check(t testing.TB, name string, got []float32, want []float64, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", name, len(got), len(want))
	}
	bad, worst, worstI := 0, 0.0, -1
	var msgs []string
	for i := range got {
		g, w := float64(got[i]), want[i]
		d := math.Abs(g - w)
		lim := atol + rtol*math.Abs(w)
		if d <= lim && !math.IsNaN(g) {
			continue
		}
		if math.IsInf(w, 0) && g == w {
			continue
		}
		bad++
		if len(msgs) < 5 {
			msgs = append(msgs, fmt.Sprintf("[%d] got %.9g want %.9g (|diff| %.3g > %.3g)", i, g, w, d, lim))
		}
		if r := d / lim; r > worst || math.IsNaN(d) {
			worst, worstI = r, i
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values outside atol %.3g + rtol %.3g·|want| (worst at %d):\n\t%s",
			name, bad, len(got), atol, rtol, worstI, strings.Join(msgs, "\n\t"))
	}
}

// checkScalar is check for a single value.
func checkScalar(t testing.TB, name string, got float32, want, atol, rtol float64) {
	t.Helper()
	check(t, name, []float32{got}, []float64{want}, atol, rtol)
}

// expectErr records rec and checks that the Program ends in an error that
// mentions every string in want, and that Run reports it too.
func expectErr(t *testing.T, b kernels.Backend, rec func(p kernels.Program), want ...string) {
	t.Helper()
	p := b.NewProgram()
	defer p.Close()
	rec(p)
	err := p.Err()
	if err == nil {
		t.Fatalf("no recording error, want one mentioning %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if rerr := p.Run(); rerr == nil || rerr.Error() != err.Error() {
		t.Errorf("Run after a recording error returned %v, want %v", rerr, err)
	}
}

// stepState is a step state (kernels.FillStepState) for step t at
// learning rate lr, with Adam's default betas.
func stepState(lr float32, t uint32) []float32 {
	s := make([]float32, kernels.StepStateLen)
	kernels.FillStepState(s, t, float64(lr), 0.9, 0.999, 0)
	return s
}

// poolGeom is the geometry of pool p over an input of shape xs, and its
// output shape, for the spec (the tests' shapes are valid).
func poolGeom(t testing.TB, xs []int, p kernels.Pool2DParams) (kernels.PoolGeom, []int) {
	t.Helper()
	g, err := kernels.PoolGeometry("spec", &kernels.Tensor{Shape: xs}, p)
	if err != nil {
		t.Fatal(err)
	}
	return g, []int{g.N, g.C, g.Ho, g.Wo}
}
