package analysis

import (
	"math/rand/v2"
	"testing"

	"github.com/vkneuro/vkneuro/kernels/cpu"
)

func TestBackendGEMMMatchesCPUGEMM(t *testing.T) {
	be := cpu.New()
	defer be.Close()
	g := BackendGEMM(be)
	rng := rand.New(rand.NewPCG(11, 12))
	m, n, k := 13, 9, 31
	a := randMatrix(rng, m, k)
	b := randMatrix(rng, n, k)
	for _, transB := range []bool{true, false} {
		want := make([]float32, m*n)
		got := make([]float32, m*n)
		if err := CPUGEMM(want, a, b, m, n, k, transB); err != nil {
			t.Fatal(err)
		}
		if err := g(got, a, b, m, n, k, transB); err != nil {
			t.Fatal(err)
		}
		// Two float32 dot products of 31 unit terms in different
		// orders: differ by a few ε·√k·|terms| ≈ 1e-6.
		for i := range want {
			if !close64(float64(got[i]), float64(want[i]), 1e-5, 1e-5) {
				t.Fatalf("transB=%v: c[%d] = %v, CPUGEMM %v", transB, i, got[i], want[i])
			}
		}
	}
	// RDM through the backend, with a and b the same slice.
	x := randMatrix(rng, 20, 50)
	r1, err := RDM(x, 20, 50, g)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := RDM(x, 20, 50, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range r1 {
		if !close64(float64(r1[i]), float64(r2[i]), 1e-5, 0) {
			t.Fatalf("rdm[%d] = %v via backend, %v via CPUGEMM", i, r1[i], r2[i])
		}
	}
	if err := g(make([]float32, 3), a, b, m, n, k, true); err == nil {
		t.Error("short c accepted")
	}
}
