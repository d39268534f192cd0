package vulkan

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/engine/enginetest"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/kernels/kerneltest"
)

// TestConformance runs the shared op suite on the Vulkan device.
func TestConformance(t *testing.T) { kerneltest.Run(t, open(t)) }

// TestConformanceStaging runs the suite (without its tutorial-sized
// shapes) with buffers behind a staging buffer, as on a discrete GPU:
// uploads, downloads and Program.Read then take that path.
func TestConformanceStaging(t *testing.T) {
	_, be := openMemory(t, true)
	defer be.Close()
	kerneltest.RunWith(t, be, kerneltest.RunOptions{})
}

// open returns a Vulkan backend on the shared test device (lavapipe in
// CI, with validation when VKNEURO_VALIDATION=1).
func open(t testing.TB) *Backend {
	t.Helper()
	m := enginetest.Open(t)
	be, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	return be
}

// openMemory returns a backend on the shared test device, or with
// staging set on a device whose buffers sit behind a staging buffer as
// on a discrete GPU; the caller closes the backend.
func openMemory(t testing.TB, staging bool) (*engine.Manager, *Backend) {
	t.Helper()
	var m *engine.Manager
	if staging {
		m = enginetest.OpenStaging(t)
	} else {
		m = enginetest.Open(t)
	}
	be, err := New(m)
	if err != nil {
		t.Fatal(err)
	}
	return m, be
}

func tensor(t testing.TB, b kernels.Backend, v []float32, shape ...int) *kernels.Tensor {
	t.Helper()
	x, err := b.NewTensor(shape...)
	if err != nil {
		t.Fatal(err)
	}
	if v != nil {
		if err := b.Upload(x, v); err != nil {
			t.Fatal(err)
		}
	}
	return x
}

func download(t testing.TB, b kernels.Backend, x *kernels.Tensor) []float32 {
	t.Helper()
	v := make([]float32, x.Len())
	if err := b.Download(x, v); err != nil {
		t.Fatal(err)
	}
	return v
}

func uniform(rng *rand.Rand, n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return v
}

// closeTo reports the first element where |got−want| > atol + rtol·|want|.
func closeTo(got []float32, want []float64, atol, rtol float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("length %d, want %d", len(got), len(want))
	}
	for i := range got {
		d := math.Abs(float64(got[i]) - want[i])
		if !(d <= atol+rtol*math.Abs(want[i])) {
			return fmt.Errorf("element %d: got %v, want %v (|diff| %.3g > atol %.3g + rtol %.3g·|want|)", i, got[i], want[i], d, atol, rtol)
		}
	}
	return nil
}

// naiveMatMul is the definition of MatMul in float64.
func naiveMatMul(c, a, b []float32, m, n, k int, transA, transB bool, alpha, beta float64) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				av := a[i*k+p]
				if transA {
					av = a[p*m+i]
				}
				bv := b[p*n+j]
				if transB {
					bv = b[j*k+p]
				}
				s += float64(av) * float64(bv)
			}
			out[i*n+j] = alpha * s
			if beta != 0 {
				out[i*n+j] += beta * float64(c[i*n+j])
			}
		}
	}
	return out
}

// TestMatMulNaive checks SGEMM against the float64 triple loop on shapes
// that are not multiples of the block tiles, all four transpose cases,
// beta 0 (c holds NaN and must not be read) and beta ≠ 0, and deep k
// that takes the split-K path.
func TestMatMulNaive(t *testing.T) {
	be := open(t)
	rng := rand.New(rand.NewPCG(1, 2))
	shapes := [][3]int{{1, 1, 1}, {7, 5, 3}, {65, 33, 17}, {64, 64, 64}, {100, 70, 130}, {3, 20, 2500}, {60, 20, 4099}}
	for _, s := range shapes {
		for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			for _, beta := range []float32{0, 0.5} {
				m, n, k := s[0], s[1], s[2]
				name := fmt.Sprintf("m=%d,n=%d,k=%d,tA=%v,tB=%v,beta=%v", m, n, k, tr[0], tr[1], beta)
				t.Run(name, func(t *testing.T) { checkMatMul(t, be, rng, m, n, k, tr[0], tr[1], beta) })
			}
		}
	}
}

// checkMatMul runs one c = 1.5·op(a)·op(b) + beta·c on random operands
// against naiveMatMul; with beta 0, c holds NaN, which must not be read.
func checkMatMul(t *testing.T, be *Backend, rng *rand.Rand, m, n, k int, transA, transB bool, beta float32) {
	t.Helper()
	av, bv := uniform(rng, m*k, -1, 1), uniform(rng, k*n, -1, 1)
	cv := uniform(rng, m*n, -1, 1)
	if beta == 0 {
		for i := range cv {
			cv[i] = float32(math.NaN())
		}
	}
	ash, bsh := []int{m, k}, []int{k, n}
	if transA {
		ash = []int{k, m}
	}
	if transB {
		bsh = []int{n, k}
	}
	a, b, c := tensor(t, be, av, ash...), tensor(t, be, bv, bsh...), tensor(t, be, cv, m, n)
	defer be.Free(a)
	defer be.Free(b)
	defer be.Free(c)
	const alpha = 1.5
	if err := kernels.Run1(be, func(p kernels.Program) { p.MatMul(c, a, b, transA, transB, alpha, beta) }); err != nil {
		t.Fatal(err)
	}
	want := naiveMatMul(cv, av, bv, m, n, k, transA, transB, alpha, float64(beta))
	// float32 accumulation of k products of magnitude ≤ 1: the rounding
	// error grows like √k·eps in the typical case and k·eps at worst;
	// 4·k·eps·alpha bounds it.
	atol := 4 * float64(k) * 0x1p-23 * alpha
	if err := closeTo(download(t, be, c), want, atol, 1e-5); err != nil {
		t.Fatal(err)
	}
}

// TestMatMulTiles runs the GPU block tiles (128×128×8 by 8×8, 64×64×16
// by 4×4 and the 32-wide ones) with vec4 and scalar tile loads on shapes
// at the tile edges, with and without the multiples of 4 that vec4 loads
// need, in all four transpose cases. On lavapipe the CPU tiles run
// otherwise, so this is where the GPU tiles are checked.
func TestMatMulTiles(t *testing.T) {
	be := open(t)
	rng := rand.New(rand.NewPCG(5, 6))
	defer func(g, v bool) { gpuTiles, vecLoads = g, v }(gpuTiles, vecLoads)
	gpuTiles = true
	shapes := [][3]int{{132, 136, 24}, {129, 130, 9}, {64, 68, 20}, {65, 63, 17}, {33, 12, 1000}, {8, 200, 44}}
	for _, vec := range []bool{true, false} {
		vecLoads = vec
		for _, s := range shapes {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				m, n, k := s[0], s[1], s[2]
				t.Run(fmt.Sprintf("vec=%v,m=%d,n=%d,k=%d,tA=%v,tB=%v", vec, m, n, k, tr[0], tr[1]), func(t *testing.T) {
					checkMatMul(t, be, rng, m, n, k, tr[0], tr[1], 0.5)
				})
			}
		}
	}
}

// TestChooseMatMul checks that every split covers k exactly once and
// stays within lavapipe's loop limit (see loopBudget), for CPU and GPU
// tiles.
func TestChooseMatMul(t *testing.T) {
	dims := []int{1, 15, 16, 60, 128, 1000, 1152, 23589}
	for _, cpu := range []bool{false, true} {
		for _, m := range dims {
			for _, n := range dims {
				for _, k := range []int{1, 7, 8, 255, 4099, 23589, 65536, 1 << 20, 1 << 24} {
					cfg, splits, kChunk := chooseMatMul(m, n, k, cpu)
					// matmul.comp reads each thread's operands as vec4s.
					if cfg.tm%4 != 0 || cfg.tn%4 != 0 || cfg.bm%cfg.tm != 0 || cfg.bn%cfg.tn != 0 {
						t.Fatalf("cpu=%v m=%d n=%d: tile %+v: tm and tn must be multiples of 4 dividing bm and bn", cpu, m, n, cfg)
					}
					if kChunk%cfg.bk != 0 || kChunk > cfg.maxKChunk() || splits < 1 ||
						splits*kChunk < k || (splits-1)*kChunk >= k {
						t.Errorf("cpu=%v m=%d n=%d k=%d: tile %+v, %d splits of %d (max %d)",
							cpu, m, n, k, cfg, splits, kChunk, cfg.maxKChunk())
					}
					if loops := kChunk / cfg.bk * cfg.tileLoops(); loops > loopBudget {
						t.Errorf("cpu=%v m=%d n=%d k=%d: %d loop iterations per invocation, budget %d", cpu, m, n, k, loops, loopBudget)
					}
				}
			}
		}
	}
}

// TestMatMulPasses checks split-K in passes, reached here by shrinking
// the scratch bound: several splits per pass, and one split per pass
// (every pass after the first adds into c).
func TestMatMulPasses(t *testing.T) {
	be := open(t)
	rng := rand.New(rand.NewPCG(3, 4))
	defer func(v int) { maxSplitScratch = v }(maxSplitScratch)
	const m, n, k = 5, 7, 40000
	if _, splits, _ := chooseMatMul(m, n, k, be.m.Info().CPU); splits < 4 {
		t.Fatalf("k=%d gives %d splits; the test needs at least 4", k, splits)
	}
	for _, perPass := range []int{1, 3} {
		for _, beta := range []float32{0, 0.5} {
			t.Run(fmt.Sprintf("perPass=%d,beta=%v", perPass, beta), func(t *testing.T) {
				maxSplitScratch = perPass * m * n
				checkMatMul(t, be, rng, m, n, k, false, true, beta)
			})
		}
	}
}

// TestOneSubmitPerRun checks that a multi-op Program costs exactly one
// queue submit per Run.
func TestOneSubmitPerRun(t *testing.T) {
	be := open(t)
	x := tensor(t, be, []float32{-1, 2, -3, 4, 5, -6}, 2, 3)
	w := tensor(t, be, []float32{1, 0, 0, 1, 1, 1}, 2, 3)
	y := tensor(t, be, nil, 2, 2)
	s := tensor(t, be, nil, 1)
	p := be.NewProgram()
	defer p.Close()
	p.ReLU(x, x)
	p.MatMul(y, x, w, false, true, 1, 0)
	p.Sum(s, y)
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	for run := 0; run < 3; run++ {
		before := be.m.Submits()
		if err := p.Run(); err != nil {
			t.Fatal(err)
		}
		if got := be.m.Submits() - before; got != 1 {
			t.Fatalf("run %d: %d submits, want 1", run, got)
		}
	}
	// relu(x) = [0 2 0; 4 5 0]; y = x·wᵀ = [0 2; 4 9]; Σ = 15.
	if got := download(t, be, s)[0]; got != 15 {
		t.Fatalf("Sum = %v, want 15", got)
	}
}

// TestWriteReadInSubmit checks that Program.Write and Program.Read cost
// no submit of their own, also where buffers are not host-visible: the
// copies from and to the host ride in the Run's submit.
func TestWriteReadInSubmit(t *testing.T) {
	for _, staging := range []bool{false, true} {
		m, be := openMemory(t, staging)
		x := tensor(t, be, nil, 4)
		s := tensor(t, be, nil, 1)
		var got [1]float32
		in := []float32{-1, 2, -3, 4}
		p := be.NewProgram()
		p.Write(x, in)
		p.ReLU(x, x)
		p.Sum(s, x)
		p.Read(got[:], s)
		if err := p.Err(); err != nil {
			t.Fatal(err)
		}
		for run := 0; run < 2; run++ {
			before := m.Submits()
			if err := p.Run(); err != nil {
				t.Fatal(err)
			}
			if n := m.Submits() - before; n != 1 {
				t.Errorf("staging=%v run %d: Run with Read made %d submits, want 1", staging, run, n)
			}
			if want := float32(6 * (run + 1)); got[0] != want {
				t.Errorf("staging=%v run %d: Read gave %v, want %v", staging, run, got[0], want)
			}
			for i := range in {
				in[i] *= float32(run+2) / float32(run+1)
			}
		}
		p.Read(got[:], s)
		if err := p.Err(); err == nil || !strings.Contains(err.Error(), "already run") {
			t.Errorf("staging=%v: Read after Run: err = %v, want one saying the Program already ran", staging, err)
		}
		p.Close()
		be.Close()
	}
}

// TestErrors checks that recording errors name the op and stop the Program.
func TestErrors(t *testing.T) {
	be := open(t)
	a := tensor(t, be, nil, 2, 3)
	b := tensor(t, be, nil, 4, 5)
	c := tensor(t, be, nil, 2, 5)
	foreign := &kernels.Tensor{Shape: []int{2, 3}, Storage: make([]float32, 6)}
	cases := []struct {
		name string
		rec  func(p kernels.Program)
		want string
	}{
		{"matmul shapes", func(p kernels.Program) { p.MatMul(c, a, b, false, false, 1, 0) }, "MatMul"},
		{"foreign tensor", func(p kernels.Program) { p.ReLU(foreign, foreign) }, "not a Vulkan tensor"},
		{"first error sticks", func(p kernels.Program) {
			p.Sum(a, a)
			p.ReLU(a, a)
		}, "Sum"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := kernels.Run1(be, tc.rec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// xcase is one op run on both backends from the same inputs.
type xcase struct {
	name   string
	shapes [][]int
	// gen makes operand i's initial contents (outputs too: ops that add
	// into their output read them).
	gen  func(rng *rand.Rand, i, n int) []float32
	outs []int // operands compared after the run
	rec  func(p kernels.Program, t []*kernels.Tensor)
	// atol, rtol: see each case.
	atol, rtol float64
}

func randn(rng *rand.Rand, _, n int) []float32 { return uniform(rng, n, -1, 1) }

func runCase(t *testing.T, b kernels.Backend, c xcase, seed uint64) [][]float32 {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	ts := make([]*kernels.Tensor, len(c.shapes))
	for i, s := range c.shapes {
		ts[i] = tensor(t, b, c.gen(rng, i, kernels.Numel(s)), s...)
		defer b.Free(ts[i])
	}
	if err := kernels.Run1(b, func(p kernels.Program) { c.rec(p, ts) }); err != nil {
		t.Fatal(err)
	}
	out := make([][]float32, len(c.outs))
	for i, j := range c.outs {
		out[i] = download(t, b, ts[j])
	}
	return out
}

// TestMatchesCPU runs every op on random shapes on this backend and on
// kernels/cpu and compares the results.
func TestMatchesCPU(t *testing.T) {
	be := open(t)
	ref := cpu.New()
	defer ref.Close()
	for i, c := range crossCases() {
		t.Run(c.name, func(t *testing.T) {
			got := runCase(t, be, c, uint64(i))
			want := runCase(t, ref, c, uint64(i))
			for k := range got {
				w := make([]float64, len(want[k]))
				for j, v := range want[k] {
					w[j] = float64(v)
				}
				if err := closeTo(got[k], w, c.atol, c.rtol); err != nil {
					t.Errorf("operand %d %v: %v", c.outs[k], c.shapes[c.outs[k]], err)
				}
			}
		})
	}
}

func convCase(n, ch, h, w, o, k int, cp kernels.Conv2DParams) []xcase {
	g, err := kernels.ConvGeometry("", &kernels.Tensor{Shape: []int{n, ch, h, w}}, &kernels.Tensor{Shape: []int{o, ch, k, k}}, nil, cp)
	if err != nil {
		panic(err)
	}
	x, wt, y := []int{n, ch, h, w}, []int{o, ch, k, k}, []int{n, o, g.Ho, g.Wo}
	name := fmt.Sprintf("x=%v,w=%v,%+v", x, wt, cp)
	// Sums of C·K·K (forward, input grad: O·K·K) or N·Ho·Wo (weight
	// grad) products of magnitude ≤ 1 in float32 on both sides:
	// tolerance ∝ terms·eps.
	taps := float64(ch * k * k)
	return []xcase{
		{name: "Conv2D/" + name, shapes: [][]int{y, x, wt, {o}}, gen: randn, outs: []int{0},
			rec:  func(p kernels.Program, t []*kernels.Tensor) { p.Conv2D(t[0], t[1], t[2], t[3], cp) },
			atol: 4 * taps * 0x1p-23, rtol: 1e-5},
		{name: "Conv2DNoBias/" + name, shapes: [][]int{y, x, wt}, gen: randn, outs: []int{0},
			rec:  func(p kernels.Program, t []*kernels.Tensor) { p.Conv2D(t[0], t[1], t[2], nil, cp) },
			atol: 4 * taps * 0x1p-23, rtol: 1e-5},
		{name: "Conv2DBackwardInput/" + name, shapes: [][]int{x, y, wt}, gen: randn, outs: []int{0},
			rec:  func(p kernels.Program, t []*kernels.Tensor) { p.Conv2DBackwardInput(t[0], t[1], t[2], cp) },
			atol: 4 * float64(o*k*k) * 0x1p-23, rtol: 1e-5},
		{name: "Conv2DBackwardWeight/" + name, shapes: [][]int{wt, {o}, y, x}, gen: randn, outs: []int{0, 1},
			rec:  func(p kernels.Program, t []*kernels.Tensor) { p.Conv2DBackwardWeight(t[0], t[1], t[2], t[3], cp) },
			atol: 4 * float64(n*g.Ho*g.Wo) * 0x1p-23, rtol: 1e-5},
	}
}

func crossCases() []xcase {
	var cs []xcase
	elem := func(name string, shape []int, rec func(p kernels.Program, t []*kernels.Tensor), nops int, gen func(*rand.Rand, int, int) []float32, atol float64) {
		sh := make([][]int, nops)
		for i := range sh {
			sh[i] = shape
		}
		cs = append(cs, xcase{name: fmt.Sprintf("%s/%v", name, shape), shapes: sh, gen: gen, outs: []int{0}, rec: rec, atol: atol, rtol: 1e-5})
	}
	// probs keeps BCE inputs away from 0 and 1 (targets in [0, 1]).
	probs := func(rng *rand.Rand, i, n int) []float32 { return uniform(rng, n, 0.02, 0.98) }
	for _, shape := range [][]int{{7}, {33, 17}, {4, 3, 20, 30}} {
		// Element-wise results are one or two roundings from the
		// reference; exp in the shader may differ by a few ulp.
		elem("ReLU", shape, func(p kernels.Program, t []*kernels.Tensor) { p.ReLU(t[0], t[1]) }, 2, randn, 0)
		elem("ReLUInPlace", shape, func(p kernels.Program, t []*kernels.Tensor) { p.ReLU(t[0], t[0]) }, 1, randn, 0)
		elem("ReLUBackward", shape, func(p kernels.Program, t []*kernels.Tensor) { p.ReLUBackward(t[0], t[1], t[2]) }, 3, randn, 0)
		elem("Sigmoid", shape, func(p kernels.Program, t []*kernels.Tensor) { p.Sigmoid(t[0], t[1]) }, 2, randn, 1e-6)
		elem("SigmoidBackward", shape, func(p kernels.Program, t []*kernels.Tensor) { p.SigmoidBackward(t[0], t[1], t[2]) }, 3, randn, 1e-6)
		elem("BCEBackward", shape, func(p kernels.Program, t []*kernels.Tensor) { p.BCEBackward(t[0], t[1], t[2]) }, 3, probs, 1e-6)
		elem("MSEBackward", shape, func(p kernels.Program, t []*kernels.Tensor) { p.MSEBackward(t[0], t[1], t[2]) }, 3, randn, 1e-7)
		elem("L2PenaltyGrad", shape, func(p kernels.Program, t []*kernels.Tensor) { p.L2PenaltyGrad(t[0], t[1], 0.3) }, 2, randn, 1e-6)
		elem("L1PenaltyGrad", shape, func(p kernels.Program, t []*kernels.Tensor) { p.L1PenaltyGrad(t[0], t[1], 0.3) }, 2, randn, 1e-6)
		// The float32 forms of tanh, expm1, log1p and σ in mathf.glsl are
		// a few ulp from kernels/cpu's float64 ones.
		wide := func(rng *rand.Rand, i, n int) []float32 { return uniform(rng, n, -6, 6) }
		elem("Tanh", shape, func(p kernels.Program, t []*kernels.Tensor) { p.Tanh(t[0], t[1]) }, 2, wide, 1e-7)
		elem("TanhBackward", shape, func(p kernels.Program, t []*kernels.Tensor) { p.TanhBackward(t[0], t[1], t[2]) }, 3, randn, 1e-7)
		elem("ELU", shape, func(p kernels.Program, t []*kernels.Tensor) { p.ELU(t[0], t[1], 0.7) }, 2, wide, 1e-7)
		elem("ELUBackward", shape, func(p kernels.Program, t []*kernels.Tensor) { p.ELUBackward(t[0], t[1], t[2], 0.7) }, 3, wide, 1e-7)
		elem("Softplus", shape, func(p kernels.Program, t []*kernels.Tensor) { p.Softplus(t[0], t[1], 2, 5) }, 2, wide, 1e-7)
		elem("SoftplusBackward", shape, func(p kernels.Program, t []*kernels.Tensor) { p.SoftplusBackward(t[0], t[1], t[2], 2, 5) }, 3, wide, 1e-7)
		elem("BCEWithLogitsBackward", shape, func(p kernels.Program, t []*kernels.Tensor) { p.BCEWithLogitsBackward(t[0], t[1], t[2]) }, 3, wide, 1e-7)
		// Poisson rates (not log rates) must be positive.
		rates := func(rng *rand.Rand, i, n int) []float32 { return uniform(rng, n, 0.05, 3) }
		elem("PoissonNLLBackward", shape, func(p kernels.Program, t []*kernels.Tensor) { p.PoissonNLLBackward(t[0], t[1], t[2], true, 1e-8) }, 3, randn, 1e-7)
		elem("PoissonNLLBackwardRate", shape, func(p kernels.Program, t []*kernels.Tensor) { p.PoissonNLLBackward(t[0], t[1], t[2], false, 1e-3) }, 3, rates, 1e-7)
		elem("Fill", shape, func(p kernels.Program, t []*kernels.Tensor) { p.Fill(t[0], 2.5) }, 1, randn, 0)
		elem("Copy", shape, func(p kernels.Program, t []*kernels.Tensor) { p.Copy(t[0], t[1]) }, 2, randn, 0)
		// The state's random values make lr random and every run a
		// first step; the suite checks the rest against the spec.
		cs = append(cs, xcase{name: fmt.Sprintf("SGD/%v", shape), shapes: [][]int{shape, shape, shape, {kernels.StepStateLen}}, gen: randn, outs: []int{0, 2},
			rec: func(p kernels.Program, t []*kernels.Tensor) {
				p.SGD(t[0], t[1], t[2], t[3], kernels.SGDParams{Momentum: 0.9, WeightDecay: 0.01})
				p.SGD(t[0], t[1], t[2], t[3], kernels.SGDParams{Momentum: 0.9, WeightDecay: 0.01, Nesterov: true})
			}, atol: 1e-6, rtol: 1e-5})
		// Random state bits are a random step count for Dropout: both
		// backends draw the same mask from them, which must match
		// exactly (kept values are one float32 product).
		for _, pr := range []float32{0.3, 1} {
			cs = append(cs, xcase{name: fmt.Sprintf("Dropout/%v,p=%v", shape, pr), shapes: [][]int{shape, shape, shape, shape, {kernels.StepStateLen}}, gen: randn, outs: []int{0, 2},
				rec: func(p kernels.Program, t []*kernels.Tensor) {
					p.Dropout(t[0], t[1], t[4], pr, 42)
					p.DropoutBackward(t[2], t[3], t[4], pr, 42)
				}})
		}
		// Adam's state holds lr/(1 − β1^t), sqrt(1 − β2^t) and 1 − lr·wd:
		// positive; v, a running mean of squares, too.
		adamGen := func(rng *rand.Rand, i, n int) []float32 {
			switch i {
			case 3:
				return uniform(rng, n, 0, 1)
			case 4:
				return uniform(rng, n, 0.05, 1)
			}
			return uniform(rng, n, -1, 1)
		}
		for _, decoupled := range []bool{false, true} {
			o := kernels.AdamParams{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01, Decoupled: decoupled}
			cs = append(cs, xcase{name: fmt.Sprintf("Adam/%v,decoupled=%v", shape, decoupled), shapes: [][]int{shape, shape, shape, shape, {kernels.StepStateLen}}, gen: adamGen, outs: []int{0, 2, 3},
				rec: func(p kernels.Program, t []*kernels.Tensor) {
					p.Adam(t[0], t[1], t[2], t[3], t[4], o)
					p.Adam(t[0], t[1], t[2], t[3], t[4], o)
				}, atol: 1e-6, rtol: 1e-5})
		}
		n := kernels.Numel(shape)
		// Reductions of n terms in float32: error ∝ n·eps (worst case)
		// relative to the sum of magnitudes, here ≤ n.
		sumTol := 4 * float64(n) * 0x1p-23
		red := func(name string, rec func(p kernels.Program, t []*kernels.Tensor), gen func(*rand.Rand, int, int) []float32, scale float64) {
			cs = append(cs, xcase{name: fmt.Sprintf("%s/%v", name, shape), shapes: [][]int{{1}, shape, shape}, gen: gen, outs: []int{0}, rec: rec, atol: sumTol * scale, rtol: 1e-5})
		}
		red("Sum", func(p kernels.Program, t []*kernels.Tensor) { p.Sum(t[0], t[1]) }, randn, 1)
		red("Mean", func(p kernels.Program, t []*kernels.Tensor) { p.Mean(t[0], t[1]) }, randn, 1/float64(n))
		red("MSELoss", func(p kernels.Program, t []*kernels.Tensor) { p.MSELoss(t[0], t[1], t[2]) }, randn, 4/float64(n))
		red("BCELoss", func(p kernels.Program, t []*kernels.Tensor) { p.BCELoss(t[0], t[1], t[2]) }, probs, 4/float64(n))
		red("BCEWithLogitsLoss", func(p kernels.Program, t []*kernels.Tensor) { p.BCEWithLogitsLoss(t[0], t[1], t[2]) }, wide, 48/float64(n))
		red("PoissonNLLLoss", func(p kernels.Program, t []*kernels.Tensor) { p.PoissonNLLLoss(t[0], t[1], t[2], true, 1e-8) }, randn, 4/float64(n))
		red("PoissonNLLLossRate", func(p kernels.Program, t []*kernels.Tensor) { p.PoissonNLLLoss(t[0], t[1], t[2], false, 1e-3) }, rates, 12/float64(n))
		red("L2Penalty", func(p kernels.Program, t []*kernels.Tensor) { p.L2Penalty(t[0], t[1], 0.3) }, randn, 1)
		red("L1Penalty", func(p kernels.Program, t []*kernels.Tensor) { p.L1Penalty(t[0], t[1], 0.3) }, randn, 1)
	}
	// Column sums long enough to take the two-pass path.
	// The last two are longer than one grid-stride pass of AddBias
	// (4096·256 elements) and than a work-group for BiasGrad, so the
	// incremental index updates wrap.
	for _, shape := range [][]int{{9, 5}, {300, 10}, {3, 4, 50, 60}, {40, 3, 10, 10}, {3, 7, 300, 211}} {
		inner := kernels.Numel(shape) / shape[1]
		cs = append(cs,
			xcase{name: fmt.Sprintf("AddBias/%v", shape), shapes: [][]int{shape, {shape[1]}}, gen: randn, outs: []int{0},
				rec: func(p kernels.Program, t []*kernels.Tensor) { p.AddBias(t[0], t[1]) }, atol: 1e-7, rtol: 1e-6},
			xcase{name: fmt.Sprintf("BiasGrad/%v", shape), shapes: [][]int{{shape[1]}, shape}, gen: randn, outs: []int{0},
				rec: func(p kernels.Program, t []*kernels.Tensor) { p.BiasGrad(t[0], t[1]) }, atol: 4 * float64(inner) * 0x1p-23, rtol: 1e-5})
	}
	// NLL over class indices.
	for _, nc := range [][2]int{{5, 3}, {1000, 10}, {3000, 7}} {
		n, c := nc[0], nc[1]
		gen := func(rng *rand.Rand, i, sz int) []float32 {
			if i == 2 {
				v := make([]float32, sz)
				for j := range v {
					v[j] = float32(rng.IntN(c))
				}
				return v
			}
			return uniform(rng, sz, -3, 0)
		}
		cs = append(cs,
			xcase{name: fmt.Sprintf("NLLLoss/%dx%d", n, c), shapes: [][]int{{1}, {n, c}, {n}}, gen: gen, outs: []int{0},
				rec: func(p kernels.Program, t []*kernels.Tensor) { p.NLLLoss(t[0], t[1], t[2]) }, atol: 4 * 3 * float64(n) * 0x1p-23 / float64(n), rtol: 1e-5},
			xcase{name: fmt.Sprintf("NLLBackward/%dx%d", n, c), shapes: [][]int{{n, c}, {n, c}, {n}}, gen: gen, outs: []int{0},
				rec: func(p kernels.Program, t []*kernels.Tensor) { p.NLLBackward(t[0], t[2]) }, atol: 0, rtol: 1e-6})
	}
	// Softmax along each axis, rows shorter and longer than a work-group.
	for _, sd := range []struct {
		shape []int
		dim   int
	}{{[]int{6, 10}, 1}, {[]int{6, 10}, 0}, {[]int{3, 700}, -1}, {[]int{2, 5, 3, 4}, 1}} {
		for _, log := range []bool{false, true} {
			name := fmt.Sprintf("%v,dim=%d,log=%v", sd.shape, sd.dim, log)
			// exp/log differ by a few ulp between GLSL and Go; sums of
			// ≤ 700 terms.
			cs = append(cs,
				xcase{name: "Softmax/" + name, shapes: [][]int{sd.shape, sd.shape}, gen: randn, outs: []int{0},
					rec: func(p kernels.Program, t []*kernels.Tensor) { p.Softmax(t[0], t[1], sd.dim, log) }, atol: 1e-6, rtol: 1e-5},
				xcase{name: "SoftmaxBackward/" + name, shapes: [][]int{sd.shape, sd.shape, sd.shape}, gen: randn, outs: []int{0},
					rec: func(p kernels.Program, t []*kernels.Tensor) {
						// A real forward output as y: softmax rows sum to 1.
						p.Softmax(t[2], t[2], sd.dim, log)
						p.SoftmaxBackward(t[0], t[1], t[2], sd.dim, log)
					}, atol: 1e-5, rtol: 1e-5})
		}
	}
	// Max and average pool, including overlapping windows (stride <
	// kernel) and inputs whose size is not a multiple of the stride.
	for _, pc := range []struct {
		x []int
		p kernels.Pool2DParams
	}{
		{[]int{2, 3, 8, 8}, kernels.Pool2DParams{KernelH: 2, KernelW: 2}},
		// Stride > kernel: gaps and a remainder that only the zero fill covers.
		{[]int{2, 2, 9, 11}, kernels.Pool2DParams{KernelH: 2, KernelW: 3, StrideH: 3, StrideW: 4}},
		{[]int{2, 2, 9, 11}, kernels.Pool2DParams{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2}},
		{[]int{1, 2, 7, 6}, kernels.Pool2DParams{KernelH: 3, KernelW: 2, StrideH: 1, StrideW: 1}},
	} {
		g, err := kernels.PoolGeometry("", &kernels.Tensor{Shape: pc.x}, pc.p)
		if err != nil {
			panic(err)
		}
		y := []int{g.N, g.C, g.Ho, g.Wo}
		name := fmt.Sprintf("%v,%+v", pc.x, pc.p)
		pp := pc.p
		cs = append(cs,
			xcase{name: "MaxPool2D/" + name, shapes: [][]int{y, y, pc.x}, gen: randn, outs: []int{0, 1},
				rec: func(p kernels.Program, t []*kernels.Tensor) { p.MaxPool2D(t[0], t[1], t[2], pp) }},
			xcase{name: "MaxPool2DBackward/" + name, shapes: [][]int{pc.x, y, y, y, pc.x}, gen: randn, outs: []int{0},
				rec: func(p kernels.Program, t []*kernels.Tensor) {
					p.MaxPool2D(t[3], t[2], t[4], pp)
					p.MaxPool2DBackward(t[0], t[1], t[2], pp)
				}, atol: 1e-6, rtol: 1e-6},
			// Sums of up to KH·KW terms (windows covering an element,
			// backward) in float32 on both sides.
			xcase{name: "AvgPool2D/" + name, shapes: [][]int{y, pc.x}, gen: randn, outs: []int{0},
				rec: func(p kernels.Program, t []*kernels.Tensor) { p.AvgPool2D(t[0], t[1], pp) }, atol: 1e-6, rtol: 1e-5},
			xcase{name: "AvgPool2DBackward/" + name, shapes: [][]int{pc.x, y}, gen: randn, outs: []int{0},
				rec: func(p kernels.Program, t []*kernels.Tensor) { p.AvgPool2DBackward(t[0], t[1], pp) }, atol: 1e-6, rtol: 1e-5})
	}
	cs = append(cs, convCase(2, 1, 12, 16, 6, 7, kernels.Conv2DParams{PadH: 3, PadW: 3})...)
	cs = append(cs, convCase(3, 3, 11, 9, 10, 3, kernels.Conv2DParams{StrideH: 2, StrideW: 2, PadH: 1, PadW: 1})...)
	cs = append(cs, convCase(2, 2, 9, 10, 3, 4, kernels.Conv2DParams{StrideH: 1, StrideW: 3})...)
	// Large stride and kernel: the input tile does not fit shared memory.
	cs = append(cs, convCase(1, 2, 70, 70, 2, 6, kernels.Conv2DParams{StrideH: 4, StrideW: 4, PadH: 2, PadW: 2})...)
	// Wide rows with few output channels: 8 pixels per invocation
	// (forward for the first, the input gradient for the second).
	cs = append(cs, convCase(2, 3, 10, 70, 2, 3, kernels.Conv2DParams{PadH: 1, PadW: 1})...)
	cs = append(cs, convCase(1, 1, 6, 66, 4, 3, kernels.Conv2DParams{PadH: 1, PadW: 1})...)
	// More than 64 taps: the general weight-gradient kernel.
	cs = append(cs, convCase(2, 2, 14, 12, 3, 9, kernels.Conv2DParams{PadH: 4, PadW: 4})...)
	// Enough output positions for a chunked weight gradient.
	cs = append(cs, convCase(8, 1, 24, 32, 6, 5, kernels.Conv2DParams{PadH: 2, PadW: 2})...)
	for _, s := range [][3]int{{1000, 20, 300}, {10, 1, 288}} {
		m, n, k := s[0], s[1], s[2]
		cs = append(cs, xcase{name: fmt.Sprintf("MatMul/%v", s), shapes: [][]int{{m, n}, {m, k}, {n, k}}, gen: randn, outs: []int{0},
			rec: func(p kernels.Program, t []*kernels.Tensor) { p.MatMul(t[0], t[1], t[2], false, true, 1, 1) }, atol: 4 * float64(k) * 0x1p-23, rtol: 1e-5})
	}
	return cs
}

// TestOpenOwnsManager checks that a backend made by Open works and that
// its Close closes the device, after which the backend refuses work.
func TestOpenOwnsManager(t *testing.T) {
	be, err := Open(engine.Options{AllowCPU: true, Validation: os.Getenv("VKNEURO_VALIDATION") == "1"})
	if err != nil {
		if os.Getenv("VKNEURO_REQUIRE_VULKAN") != "1" && (errors.Is(err, engine.ErrNoVulkan) || errors.Is(err, engine.ErrNoDevice)) {
			t.Skipf("no Vulkan: %v", err)
		}
		t.Fatal(err)
	}
	x := tensor(t, be, []float32{1, -2, 3}, 3)
	if err := kernels.Run1(be, func(p kernels.Program) { p.ReLU(x, x) }); err != nil {
		t.Fatal(err)
	}
	if got := download(t, be, x); got[0] != 1 || got[1] != 0 || got[2] != 3 {
		t.Fatalf("ReLU gave %v, want [1 0 3]", got)
	}
	if errs := be.Manager().ValidationErrors(); len(errs) > 0 {
		t.Errorf("validation errors: %v", errs)
	}
	if err := be.Close(); err != nil {
		t.Fatal(err)
	}
	if !be.Manager().Closed() {
		t.Error("Close of a backend from Open left its Manager open")
	}
	if _, err := be.NewTensor(2); err == nil {
		t.Error("NewTensor after Close succeeded")
	}
	if err := be.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestPeak checks peak.comp against its spec (peakRef) on every
// invocation of a small run, and that MeasurePeak reports a rate.
func TestPeak(t *testing.T) {
	be := open(t)
	const n, iters = 300, 77
	y, err := be.m.NewBuffer(n)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Free()
	p := be.newProgram(false)
	defer p.Close()
	p.peak(y, n, iters)
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, n)
	if err := be.m.Download(y, got, 0); err != nil {
		t.Fatal(err)
	}
	want := make([]float64, n)
	for i := range want {
		want[i] = peakRef(i, iters)
	}
	// A driver may fold the start values in another order or not fuse
	// the multiply-add: each of the 32 chains (values < 2) can then gain
	// up to an ulp, 2⁻²², per iteration; skipped work would be off by
	// far more.
	if err := closeTo(got, want, 32*iters*0x1p-22, 0); err != nil {
		t.Fatal(err)
	}
	pk, err := be.MeasurePeak(2)
	if err != nil {
		t.Fatal(err)
	}
	if !(pk.GFLOPS > 0) || math.IsInf(pk.GFLOPS, 0) {
		t.Fatalf("MeasurePeak = %+v, want a positive finite rate", pk)
	}
	t.Logf("%s: FP32 peak %.1f GFLOP/s (%g flops in %v, %s)", be.Device(), pk.GFLOPS, pk.Flops, pk.Time, pk.Timer)
}

// TestPoolLoopLimit checks pooling against llvmpipe's loop limit (see
// loopBudget): a 180×180 window, just within the budget, averages all
// of it, and on a CPU driver a 256×256 window, which would be cut
// short, is refused at record time with an error naming the op; a GPU
// runs it. The input is all ones, whose sums are exact in float32, so a
// window cut short shows as a mean below 1.
func TestPoolLoopLimit(t *testing.T) {
	be := open(t)
	for _, k := range []int{180, 256} {
		t.Run(fmt.Sprint("window=", k), func(t *testing.T) {
			xv := make([]float32, k*k)
			for i := range xv {
				xv[i] = 1
			}
			x, y := tensor(t, be, xv, 1, 1, k, k), tensor(t, be, nil, 1, 1, 1, 1)
			defer be.Free(x)
			defer be.Free(y)
			err := kernels.Run1(be, func(p kernels.Program) { p.AvgPool2D(y, x, kernels.Pool2DParams{KernelH: k, KernelW: k}) })
			if windowLoops(kernels.PoolGeom{KH: k, KW: k}) > loopBudget && be.m.Info().CPU {
				if err == nil || !strings.Contains(err.Error(), "AvgPool2D") || !strings.Contains(err.Error(), "loop iterations") {
					t.Fatalf("AvgPool2D over %d×%d on %s: error %v, want one naming the op and the loop limit", k, k, be.Device(), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := download(t, be, y)[0]; got != 1 {
				t.Fatalf("AvgPool2D over %d×%d ones = %v, want 1", k, k, got)
			}
		})
	}
}

// TestNLLFaults checks the fault checks behind NLL's target errors
// (fault.go) where the suite does not reach: on mapped and on staged
// memory, the smallest bad row wins when rows run in many work-groups
// (NLLLoss over two reduction passes, NLLBackward over a grid stride),
// the first faulty op in recording order is named, and a Program with
// more checks than one fault buffer holds reports one in the second.
func TestNLLFaults(t *testing.T) {
	for _, staging := range []bool{false, true} {
		t.Run(fmt.Sprint("staging=", staging), func(t *testing.T) {
			m, be := openMemory(t, staging)
			defer be.Close()
			const n, c = 5000, 3
			rng := rand.New(rand.NewPCG(10, 11))
			logp := tensor(t, be, uniform(rng, n*c, -3, 0), n, c)
			dlogp := tensor(t, be, nil, n, c)
			loss := tensor(t, be, nil, 1)
			good := make([]float32, n)
			for i := range good {
				good[i] = float32(i % c)
			}
			bad := append([]float32(nil), good...)
			bad[4000], bad[1234], bad[4999] = -1, 3, 0.5
			goodT, badT := tensor(t, be, good, n), tensor(t, be, bad, n)
			for _, tc := range []struct {
				name string
				rec  func(p kernels.Program)
				want string
			}{
				{"NLLLoss", func(p kernels.Program) { p.NLLLoss(loss, logp, badT) }, "NLLLoss: row 1234: target 3 "},
				{"NLLBackward", func(p kernels.Program) { p.NLLBackward(dlogp, badT) }, "NLLBackward: row 1234: target 3 "},
				{"first op", func(p kernels.Program) {
					p.NLLLoss(loss, logp, goodT)
					p.NLLBackward(dlogp, badT)
					p.NLLLoss(loss, logp, badT)
				}, "NLLBackward: row 1234"},
				{"second fault buffer", func(p kernels.Program) {
					for range faultSlots + 5 {
						p.NLLBackward(dlogp, goodT)
					}
					p.NLLLoss(loss, logp, badT)
				}, "NLLLoss: row 1234"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					err := kernels.Run1(be, tc.rec)
					if err == nil || !strings.Contains(err.Error(), tc.want) {
						t.Fatalf("Run: error %v, want one containing %q", err, tc.want)
					}
				})
			}
			if errs := m.ValidationErrors(); len(errs) > 0 {
				t.Errorf("validation errors: %v", errs)
			}
		})
	}
}

// TestRunAfterFree checks that a Program recorded before a Free of one
// of its tensors refuses to run, naming the op and the operand, rather
// than running on memory that another tensor may hold by then.
func TestRunAfterFree(t *testing.T) {
	be := open(t)
	x := tensor(t, be, []float32{1, -2, 3}, 3)
	y := tensor(t, be, nil, 3)
	defer be.Free(y)
	p := be.NewProgram()
	defer p.Close()
	p.ReLU(y, x)
	if err := p.Run(); err != nil {
		t.Fatal(err)
	}
	view, err := x.Reshape(1, 3)
	if err != nil {
		t.Fatal(err)
	}
	be.Free(view)
	err = p.Run()
	if !errors.Is(err, kernels.ErrFreed) || !strings.Contains(err.Error(), "ReLU: x [3]") {
		t.Fatalf("Run after Free of x's view: error %v, want kernels.ErrFreed naming ReLU's x [3]", err)
	}
}
