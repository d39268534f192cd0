package vulkantest

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/engine/enginetest"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
)

const fixtures = "../../testdata/analysis/encoding_fixtures.npz"

// fixture reads one array of the NumPy fixtures as float32 (the
// expected values too: their rounding, ≤ 6e-8 here, is far inside the
// 1e-4 tolerances).
func fixture(t *testing.T, key string) []float32 {
	t.Helper()
	arrs, err := data.ReadNPZ(filepath.FromSlash(fixtures))
	if err != nil {
		t.Fatal(err)
	}
	a, ok := arrs[key]
	if !ok {
		t.Fatalf("%s has no key %q", fixtures, key)
	}
	return a.Data
}

// gemm is analysis.BackendGEMM on the shared enginetest device
// (skipped without Vulkan unless VKNEURO_REQUIRE_VULKAN=1).
func gemm(t *testing.T) analysis.GEMM {
	be, err := vulkan.New(enginetest.Open(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	return analysis.BackendGEMM(be)
}

func close64(got, want, tol float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol
}

// The ridge baseline with its product on Vulkan chooses the alphas the
// NumPy transcription of himalaya's RidgeCV chooses, and scores within
// 1e-4 (see analysis.TestRidgeCVMatchesNumPy for the CPU).
func TestRidgeCVOnVulkanMatchesNumPy(t *testing.T) {
	g := gemm(t)
	const S, N = 60, 240
	for _, c := range []struct {
		name string
		D    int
	}{{"narrow", 20}, {"wide", 150}} {
		k := "ridge_" + c.name + "_"
		res, err := analysis.RidgeCV(fixture(t, k+"x"), S, c.D, fixture(t, k+"train"), fixture(t, k+"test"), N, analysis.RidgeOptions{GEMM: g})
		if err != nil {
			t.Fatal(err)
		}
		alpha, cv := fixture(t, k+"alpha"), fixture(t, k+"cv")
		r, fe := fixture(t, k+"r"), fixture(t, k+"feve")
		// float32 of the fixture's float64 values: a relative 6e-8 off.
		f := func(v []float32, n int) float64 { return float64(v[n]) }
		var worst float64
		for n := 0; n < N; n++ {
			if math.Abs(res.Alpha[n]/f(alpha, n)-1) > 1e-6 {
				t.Errorf("%s: neuron %d chose alpha %v, numpy %v", c.name, n, res.Alpha[n], alpha[n])
			}
			worst = math.Max(worst, math.Abs(res.CVR2[n]-f(cv, n)))
			if !close64(res.TestCorr[n], f(r, n), 1e-4) || !close64(res.FEVE[n], f(fe, n), 1e-4) {
				t.Errorf("%s: neuron %d: test r %v, FEVE %v; numpy %v, %v", c.name, n, res.TestCorr[n], res.FEVE[n], r[n], fe[n])
			}
		}
		// The same float32 product as on the CPU, summed in another order
		// (CV R² values ≲ 1 read as float32: another 6e-8).
		if worst > 1e-6 {
			t.Errorf("%s: max |ΔCV R²| = %.2g, want ≤ 1e-6", c.name, worst)
		}
		t.Logf("%s: max |ΔCV R²| %.2g", c.name, worst)
	}
}

// RDMs made on Vulkan give NumPy's bootstrap interval and noise ceiling.
func TestRSABootstrapAndCeilingOnVulkan(t *testing.T) {
	g := gemm(t)
	const S = 30
	r1, err := analysis.RDM(fixture(t, "boot_resp1"), S, 50, g)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := analysis.RDM(fixture(t, "boot_resp2"), S, 40, g)
	if err != nil {
		t.Fatal(err)
	}
	flat := fixture(t, "boot_idx")
	idx := make([][]int, len(flat)/S)
	for b := range idx {
		idx[b] = make([]int, S)
		for i := range idx[b] {
			idx[b][i] = int(flat[b*S+i])
		}
	}
	iv, err := analysis.RSABootstrapFrom(r1, r2, S, idx, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	want := fixture(t, "boot_ci")
	if !close64(iv.RSA, float64(want[0]), 1e-4) || !close64(iv.Lo, float64(want[1]), 1e-4) || !close64(iv.Hi, float64(want[2]), 1e-4) {
		t.Errorf("RSA %v in [%v, %v], numpy %v in [%v, %v]", iv.RSA, iv.Lo, iv.Hi, want[0], want[1], want[2])
	}
	ceiling, _, _, err := analysis.RSANoiseCeiling(fixture(t, "nc_train"), fixture(t, "nc_test"), S, 50, g)
	if err != nil {
		t.Fatal(err)
	}
	if w := float64(fixture(t, "nc_rsa")[0]); !close64(ceiling, w, 1e-4) {
		t.Errorf("noise ceiling %v, numpy %v", ceiling, w)
	}
}
