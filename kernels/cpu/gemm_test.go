package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The GEMM micro-kernels of every kernel set the CPU runs are checked
// against the plain loops at every length edge, with guards around
// their outputs; then whole products of each set against a float64
// reference at the sets' tile edges, with every transpose, alpha and
// beta, and through an epilogue (the fused ops' path). The conformance
// suite (cpu_test.go) covers only the widest set.

func TestGemmKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, kr := range gemmKernelSets() {
		t.Run(kr.name, func(t *testing.T) {
			for _, kc := range []int{0, 1, 2, 3, 7, 16, 64, 129} {
				for _, add := range []bool{false, true} {
					ldc, ldb := kr.nr+5, kr.nr+3*(kc%2)
					ap, bp := randVec(r, kr.mr*kc), randVec(r, ldb*kc+kr.nr)
					c0 := randVec(r, (kr.mr-1)*ldc+kr.nr)
					all, c := guarded(c0)
					kr.outer(c, ldc, ap, bp, ldb, kc, add)
					checkGuards(t, "outer", all, len(c0))
					want := append([]float32(nil), c0...)
					outerGeneric(kr.mr, kr.nr, want, ldc, ap, bp, ldb, kc, add)
					for i := range want {
						if i%ldc < kr.nr && !closeTo(c[i], want[i], float32(4*kc+4)) || i%ldc >= kr.nr && c[i] != c0[i] {
							t.Fatalf("outer kc=%d add=%v: c[%d,%d] = %v, want %v", kc, add, i/ldc, i%ldc, c[i], want[i])
						}
					}
				}
			}
			dots := []struct {
				dnr int
				dot func(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int)
			}{{kr.dnr, kr.dot}}
			if kr.dotNarrow != nil {
				dots = append(dots, struct {
					dnr int
					dot func(s *[24]float32, a []float32, lda, ra int, b []float32, ldb, rb, k int)
				}{kr.dnrNarrow, kr.dotNarrow})
			}
			for _, d := range dots {
				for _, k := range []int{kr.dk, 2 * kr.dk, 5 * kr.dk, 37 * kr.dk} {
					for ra := 1; ra <= kr.dmr; ra++ {
						for rb := 1; rb <= d.dnr; rb++ {
							const ld = 7
							a, b := randVec(r, (ra-1)*(k+ld)+k), randVec(r, (rb-1)*(k+ld)+k)
							var got, want [24]float32
							d.dot(&got, a, k+ld, ra, b, k+ld, rb, k)
							dotTileGeneric(kr.dmr, d.dnr, &want, a, k+ld, ra, b, k+ld, rb, k)
							for i := range kr.dmr * d.dnr {
								if !closeTo(got[i], want[i], float32(4*k)) {
									t.Fatalf("dot %dx%d k=%d ra=%d rb=%d: s[%d] = %v, want %v", kr.dmr, d.dnr, k, ra, rb, i, got[i], want[i])
								}
							}
						}
					}
				}
			}
		})
	}
}

// refGemm is alpha·op(a)·op(b) + beta·c in float64.
func refGemm(m, n, k int, a, b, c []float32, tA, tB bool, alpha, beta float32) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				av, bv := a[i*k+l], b[l*n+j]
				if tA {
					av = a[l*m+i]
				}
				if tB {
					bv = b[j*k+l]
				}
				s += float64(av) * float64(bv)
			}
			out[i*n+j] = float64(alpha) * s
			if beta != 0 {
				out[i*n+j] += float64(beta) * float64(c[i*n+j])
			}
		}
	}
	return out
}

func TestGemmPlans(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	be := New(Threads(3))
	defer be.Close()
	defer func() { gemmForce = nil }()
	for _, kr := range gemmKernelSets() {
		gemmForce = kr
		var sizes []int
		for _, q := range []int{kr.mr, kr.nr, kr.dmr, kr.dnr} {
			sizes = append(sizes, q-1, q, q+1, 2*q+1)
		}
		sizes = append(sizes, 1, 70)
		ks := []int{1, 5, kr.dk, 4*kr.dk + 3, gemmKC + 1, 600}
		for ci := 0; ci < 160; ci++ {
			m, n, k := sizes[r.IntN(len(sizes))], sizes[r.IntN(len(sizes))], ks[r.IntN(len(ks))]
			m, n = max(m, 1), max(n, 1)
			tA, tB := r.IntN(2) == 1, r.IntN(2) == 1
			alpha, beta := float32(0.75), []float32{0, 1, -0.5}[ci%3]
			name := fmt.Sprintf("%s/m=%d,n=%d,k=%d,tA=%v,tB=%v,beta=%g", kr.name, m, n, k, tA, tB, beta)
			a, b := randVec(r, m*k), randVec(r, k*n)
			c0 := randVec(r, m*n)
			if beta == 0 {
				for i := range c0 {
					c0[i] = float32(math.NaN())
				}
			}
			want := refGemm(m, n, k, a, b, c0, tA, tB, alpha, beta)
			c := append([]float32(nil), c0...)
			p := be.NewProgram().(*Program)
			p.newGemm(m, n, k, a, b, c, tA, tB, alpha, beta, nil).record(p)
			if err := p.Run(); err != nil {
				t.Fatal(err)
			}
			checkProduct(t, name, c, want, k)
			if beta != 0 {
				continue
			}
			// The same product delivered block by block to an epilogue.
			got := make([]float32, m*n)
			seen := make([]int, m*n)
			epi := func(_, i0, i1, j0, j1 int, blk []float32, ld int) {
				for i := i0; i < i1; i++ {
					for j := j0; j < j1; j++ {
						got[i*n+j] = blk[(i-i0)*ld+j-j0]
						seen[i*n+j]++
					}
				}
			}
			p = be.NewProgram().(*Program)
			p.newGemm(m, n, k, a, b, nil, tA, tB, alpha, 0, epi).record(p)
			if err := p.Run(); err != nil {
				t.Fatal(err)
			}
			for i, s := range seen {
				if s != 1 {
					t.Fatalf("%s epilogue: element %d delivered %d times", name, i, s)
				}
			}
			checkProduct(t, name+" epilogue", got, want, k)
		}
	}
}

func checkProduct(t *testing.T, name string, got []float32, want []float64, k int) {
	t.Helper()
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); !(d <= 4*float64(k+2)*0x1p-23*4+1e-6*math.Abs(want[i])) {
			t.Fatalf("%s: c[%d] = %v, want %v", name, i, got[i], want[i])
		}
	}
}
