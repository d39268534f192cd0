package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
)

// The convolution micro-kernels of every kernel set the CPU runs are
// checked against the plain loops with guards around their outputs, and
// whole convolutions of each set (forward, both backwards, the fused
// pool block) against the widest set's, which the conformance suite
// checks against the spec.

func TestConvKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for _, kr := range convKernelSets() {
		t.Run(kr.name, func(t *testing.T) {
			for _, ntaps := range []int{0, 1, 7, 49} {
				offs := make([]int, ntaps)
				for i := range offs {
					offs[i] = r.IntN(90)
				}
				taps := newTapOffsets(offs)
				src := randVec(r, 90+kr.cw1)
				wp := randVec(r, corrPlanes*ntaps)
				bias := [6]float32{0.5, -1, 0.25, 2, -0.75, 1.5}
				for nf := 1; nf <= corrPlanes; nf++ {
					ldo := kr.cw + 3
					c0 := randVec(r, 5*ldo+kr.cw)
					all, out := guarded(c0)
					kr.corr(out, ldo, nf, src, taps, wp, &bias)
					checkGuards(t, "corr", all, len(c0))
					want := append([]float32(nil), c0...)
					corrGeneric(kr.cw, want, ldo, nf, src, offs, wp, &bias)
					for i := range want {
						if !closeTo(out[i], want[i], float32(4*ntaps+4)) {
							t.Fatalf("corr taps=%d nf=%d: out[%d] = %v, want %v", ntaps, nf, i, out[i], want[i])
						}
					}
					// corrTiles: rows tiles cw+1 apart (a value between
					// them that must stay), their planes ldo apart.
					for _, rows := range []int{1, 2, 5} {
						ldor, ldsr := kr.cw+1, 7
						ldo := rows*ldor + 3
						c0 := randVec(r, (nf-1)*ldo+(rows-1)*ldor+kr.cw)
						src := randVec(r, (rows-1)*ldsr+90+kr.cw)
						all, out := guarded(c0)
						kr.corrTiles(out, ldo, nf, src, taps, wp, &bias, rows, ldor, ldsr)
						checkGuards(t, "corrTiles", all, len(c0))
						want := append([]float32(nil), c0...)
						for k := range rows {
							corrGeneric(kr.cw, want[k*ldor:], ldo, nf, src[k*ldsr:], offs, wp, &bias)
						}
						for i := range want {
							if !closeTo(out[i], want[i], float32(4*ntaps+4)) {
								t.Fatalf("corrTiles taps=%d nf=%d rows=%d: out[%d] = %v, want %v", ntaps, nf, rows, i, out[i], want[i])
							}
						}
					}
				}
				all, out := guarded(make([]float32, kr.cw1))
				kr.corr1(out, src, taps, wp[min(2, len(wp)):], corrPlanes, 0.5)
				checkGuards(t, "corr1", all, kr.cw1)
				want := make([]float32, kr.cw1)
				corr1Generic(kr.cw1, want, src, offs, wp[min(2, len(wp)):], corrPlanes, 0.5)
				for i := range want {
					if !closeTo(out[i], want[i], float32(4*ntaps+4)) {
						t.Fatalf("corr1 taps=%d: out[%d] = %v, want %v", ntaps, i, out[i], want[i])
					}
				}
			}
			// The tile reads dy's rows of n and, per tap, n/w rows of w
			// values of x ldx apart: everything else is NaN, which would
			// show in the sums.
			nan := float32(math.NaN())
			for _, sh := range []struct{ n, w int }{{1, 1}, {3, 3}, {17, 17}, {4, 1}, {6, 2}, {34, 17}} {
				n, w := sh.n*kr.gk, sh.w*kr.gk
				ldx := w + 40 + 3
				rows := n / w
				for nf := 1; nf <= kr.gf; nf++ {
					for nt := 1; nt <= 4; nt++ {
						const ld = 5
						dy := randVec(r, (nf-1)*(n+ld)+n)
						for f := 0; f < nf-1; f++ {
							for i := range ld {
								dy[f*(n+ld)+n+i] = nan
							}
						}
						x := randVec(r, (rows-1)*ldx+w+40+16)
						for i := range x {
							if i%ldx >= w+40 || i >= (rows-1)*ldx+w+40 {
								x[i] = nan
							}
						}
						offs := [4]int{r.IntN(40), r.IntN(40), r.IntN(40), r.IntN(40)}
						var got, want [24]float32
						kr.wgrad(&got, dy, n+ld, nf, x, &offs, nt, n, w, ldx)
						wgradGeneric(kr.gf, &want, dy, n+ld, nf, x, &offs, nt, n, w, ldx)
						for i := range 4 * kr.gf {
							if !closeTo(got[i], want[i], float32(4*n)) {
								t.Fatalf("wgrad n=%d w=%d nf=%d nt=%d: s[%d] = %v, want %v", n, w, nf, nt, i, got[i], want[i])
							}
						}
					}
				}
			}
		})
	}
}

// TestConvPlans runs stride-1 convolutions and the fused block with each
// kernel set and compares them with the widest set's results.
func TestConvPlans(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	be := New(Threads(2))
	defer be.Close()
	defer func() { convForce = nil }()
	sets := convKernelSets()
	for ci, c := range []struct{ xs, ws []int }{
		{[]int{2, 1, 48, 64}, []int{6, 1, 7, 7}},
		{[]int{3, 2, 9, 11}, []int{8, 2, 3, 3}},
		{[]int{2, 7, 5, 6}, []int{2, 7, 5, 3}},
		{[]int{2, 3, 6, 15}, []int{7, 3, 2, 2}},
		{[]int{1, 2, 4, 16}, []int{3, 2, 2, 2}},
	} {
		cp := kernels.Conv2DParams{PadH: c.ws[2] / 2, PadW: c.ws[3] / 2}
		pool := kernels.ConvPoolParams{Conv: cp, ReLU: true, Pool: kernels.Pool2DParams{KernelH: 2, KernelW: 2}}
		xv, wv, bv := randVec(r, kernels.Numel(c.xs)), randVec(r, kernels.Numel(c.ws)), randVec(r, c.ws[0])
		g, err := kernels.ConvGeometry("test", &kernels.Tensor{Shape: c.xs}, &kernels.Tensor{Shape: c.ws}, nil, cp)
		if err != nil {
			t.Fatal(err)
		}
		ys := []int{g.N, g.O, g.Ho, g.Wo}
		ps := []int{g.N, g.O, g.Ho / 2, g.Wo / 2}
		var ref [][]float32
		for si := len(sets) - 1; si >= 0; si-- {
			convForce = sets[si]
			mk := func(v []float32, shape ...int) *kernels.Tensor {
				tt, _ := be.NewTensor(shape...)
				if v != nil {
					be.Upload(tt, v)
				}
				return tt
			}
			x, w, b := mk(xv, c.xs...), mk(wv, c.ws...), mk(bv, g.O)
			y, dx, dw, db := mk(nil, ys...), mk(nil, c.xs...), mk(nil, c.ws...), mk(nil, g.O)
			pooled, am, pdw, pdb := mk(nil, ps...), mk(nil, ps...), mk(nil, c.ws...), mk(nil, g.O)
			if err := kernels.Run1(be, func(p kernels.Program) {
				p.Conv2D(y, x, w, b, cp)
				p.Conv2DBackwardInput(dx, y, w, cp)
				p.Conv2DBackwardWeight(dw, db, y, x, cp)
				p.Conv2DMaxPool(pooled, am, nil, nil, x, w, b, pool)
				p.Conv2DMaxPoolBackward(pdw, pdb, nil, pooled, pooled, am, x, w, pool)
			}); err != nil {
				t.Fatal(err)
			}
			var got [][]float32
			for _, tt := range []*kernels.Tensor{y, dx, dw, db, pooled, pdw, pdb} {
				v := make([]float32, tt.Len())
				be.Download(tt, v)
				got = append(got, v)
			}
			if ref == nil {
				ref = got
				continue
			}
			for k, v := range got {
				for i := range v {
					if !closeTo(v[i], ref[k][i], float32(20*g.N*g.Ho*g.Wo)) {
						t.Fatalf("case %d, %s: output %d [%d] = %v, %s gives %v", ci, sets[si].name, k, i, v[i], sets[len(sets)-1].name, ref[k][i])
					}
				}
			}
		}
	}
}

// TestRowsAxpy checks the patch update of the pool block's backward
// against its plain loop, with guards around the rows it writes.
func TestRowsAxpy(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for width := 1; width <= 17; width++ {
		for _, rows := range []int{0, 1, 7} {
			const ldy, ldx = 19, 23
			x := randVec(r, max(rows, 1)*ldx)
			y0 := randVec(r, max(rows, 1)*ldy)
			all, y := guarded(y0)
			rowsAxpy(y, ldy, 0.75, x, ldx, rows, width)
			checkGuards(t, "rowsAxpy", all, len(y0))
			want := append([]float32(nil), y0...)
			rowsAxpyGeneric(want, ldy, 0.75, x, ldx, rows, width)
			for i := range want {
				if !closeTo(y[i], want[i], 4) {
					t.Fatalf("width %d rows %d: y[%d] = %v, want %v", width, rows, i, y[i], want[i])
				}
			}
		}
	}
}

// TestPatchSum checks the pool block's weight-gradient sums against
// their plain loop, with guards around the rows they write, for patch
// counts around the vector code's groups of four.
func TestPatchSum(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	for width := 1; width <= 17; width++ {
		for _, rows := range []int{1, 3, 7} {
			for _, np := range []int{0, 1, 3, 4, 5, 9, 48} {
				const ldg, ldx = 19, 23
				x := randVec(r, rows*ldx+40)
				offs := make([]int32, np)
				for i := range offs {
					offs[i] = int32(r.IntN(40 - width + ldx))
				}
				gv := randVec(r, np)
				g0 := randVec(r, rows*ldg)
				all, g := guarded(g0)
				patchSum(g, ldg, x, offs, gv, ldx, rows, width)
				checkGuards(t, "patchSum", all, len(g0))
				want := append([]float32(nil), g0...)
				patchSumGeneric(want, ldg, x, offs, gv, ldx, rows, width)
				for i := range want {
					if !closeTo(g[i], want[i], float32(4*(np+1))) {
						t.Fatalf("width %d rows %d patches %d: g[%d] = %v, want %v", width, rows, np, i, g[i], want[i])
					}
				}
			}
		}
	}
}

// TestConvWeightGradDeterministic checks that the stride-1 weight and
// bias gradients are the same bits on one goroutine and on two, run after
// run: the runs of images are fixed by the batch, not by the timing.
func TestConvWeightGradDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	for _, c := range []struct{ xs, ws []int }{
		{[]int{37, 1, 12, 16}, []int{6, 1, 7, 7}}, // dy's rows in place
		{[]int{37, 2, 9, 11}, []int{5, 2, 3, 3}},  // wide dy planes
	} {
		cp := kernels.Conv2DParams{PadH: c.ws[2] / 2, PadW: c.ws[3] / 2}
		ys := []int{c.xs[0], c.ws[0], c.xs[2], c.xs[3]}
		xv, dyv := randVec(r, kernels.Numel(c.xs)), randVec(r, kernels.Numel(ys))
		var ref []float32
		for _, threads := range []int{1, 2, 2, 2} {
			be := New(Threads(threads))
			mk := func(v []float32, shape ...int) *kernels.Tensor {
				tt, _ := be.NewTensor(shape...)
				if v != nil {
					be.Upload(tt, v)
				}
				return tt
			}
			x, dy, dw, db := mk(xv, c.xs...), mk(dyv, ys...), mk(nil, c.ws...), mk(nil, c.ws[0])
			if err := kernels.Run1(be, func(p kernels.Program) { p.Conv2DBackwardWeight(dw, db, dy, x, cp) }); err != nil {
				t.Fatal(err)
			}
			got := make([]float32, dw.Len()+db.Len())
			be.Download(dw, got[:dw.Len()])
			be.Download(db, got[dw.Len():])
			be.Close()
			if ref == nil {
				ref = got
				continue
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
					t.Fatalf("%v: %d goroutines: gradient [%d] = %v, one goroutine gives %v", c.ws, threads, i, got[i], ref[i])
				}
			}
		}
	}
}

// TestPrefetchRun asks for runs ending at every offset in a cache line
// (the assembly must not read past them: it only asks, but the wrapper
// keeps its addresses inside the run).
func TestPrefetchRun(t *testing.T) {
	if prefetchRun == nil {
		t.Skip("no prefetch in this build")
	}
	v := make([]float32, 100)
	for lo := 0; lo < 17; lo++ {
		for hi := lo; hi <= len(v); hi++ {
			prefetchRun(v[lo:hi])
		}
	}
}

// TestConvForwardImages checks every image of a stride-1 forward
// against the plain sum, on two goroutines, for each kernel set: the
// goroutines take the images from a shared counter, a step ahead.
func TestConvForwardImages(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	be := New(Threads(2))
	defer be.Close()
	defer func() { convForce = nil }()
	const n, c, h, w, o, k = 7, 2, 9, 64, 6, 5
	cp := kernels.Conv2DParams{PadH: k / 2, PadW: k / 2}
	xv, wv, bv := randVec(r, n*c*h*w), randVec(r, o*c*k*k), randVec(r, o)
	want := make([]float32, n*o*h*w)
	for i := range n {
		for f := range o {
			for y := range h {
				for xx := range w {
					s := float64(bv[f])
					for ch := range c {
						for kh := range k {
							for kw := range k {
								iy, ix := y+kh-k/2, xx+kw-k/2
								if iy >= 0 && iy < h && ix >= 0 && ix < w {
									s += float64(wv[((f*c+ch)*k+kh)*k+kw]) * float64(xv[((i*c+ch)*h+iy)*w+ix])
								}
							}
						}
					}
					want[((i*o+f)*h+y)*w+xx] = float32(s)
				}
			}
		}
	}
	for _, set := range convKernelSets() {
		convForce = set
		mk := func(v []float32, shape ...int) *kernels.Tensor {
			tt, _ := be.NewTensor(shape...)
			if v != nil {
				be.Upload(tt, v)
			}
			return tt
		}
		x, wt, b, y := mk(xv, n, c, h, w), mk(wv, o, c, k, k), mk(bv, o), mk(nil, n, o, h, w)
		if err := kernels.Run1(be, func(p kernels.Program) { p.Conv2D(y, x, wt, b, cp) }); err != nil {
			t.Fatal(err)
		}
		got := make([]float32, y.Len())
		be.Download(y, got)
		for i := range got {
			if !closeTo(got[i], want[i], 20*c*k*k) {
				t.Fatalf("%s: y[%d] = %v, want %v", set.name, i, got[i], want[i])
			}
		}
	}
}

// TestCorrTilesBounds checks that corrTiles panics where the last tile's
// output or input runs one value past its slice.
func TestCorrTilesBounds(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	for _, kr := range convKernelSets() {
		taps := newTapOffsets([]int{0, 5, 9})
		wp := randVec(r, 3*corrPlanes)
		var bias [6]float32
		const rows, ldsr, nf = 3, 7, 2
		ldor := kr.cw + 1
		ldo := rows*ldor + 3
		nout, nsrc := (nf-1)*ldo+(rows-1)*ldor+kr.cw, (rows-1)*ldsr+9+kr.cw
		for _, short := range []struct{ out, src int }{{0, 0}, {1, 0}, {0, 1}} {
			out, src := make([]float32, nout-short.out), randVec(r, nsrc-short.src)
			panicked := func() (p bool) {
				defer func() { p = recover() != nil }()
				kr.corrTiles(out, ldo, nf, src, taps, wp, &bias, rows, ldor, ldsr)
				return false
			}()
			if panicked != (short.out+short.src > 0) {
				t.Errorf("%s: corrTiles with out %d, src %d short: panicked %v", kr.name, short.out, short.src, panicked)
			}
		}
	}
}
