package vulkantest

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/sbinet/npyio/npz"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/engine/enginetest"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
)

const fixtures = "../../testdata/analysis/encoding_fixtures.npz"

func fixture[T float32 | float64](t *testing.T, key string) []T {
	t.Helper()
	f, err := npz.Open(filepath.FromSlash(fixtures))
	if err != nil {
		t.Fatalf("open fixture: %v", err)
	}
	defer f.Close()
	var v []T
	if err := f.Read(key+".npy", &v); err != nil {
		t.Fatalf("fixture key %q: %v", key, err)
	}
	return v
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
		res, err := analysis.RidgeCV(fixture[float32](t, k+"x"), S, c.D, fixture[float32](t, k+"train"), fixture[float32](t, k+"test"), N, analysis.RidgeOptions{GEMM: g})
		if err != nil {
			t.Fatal(err)
		}
		alpha, cv := fixture[float64](t, k+"alpha"), fixture[float64](t, k+"cv")
		r, fe := fixture[float64](t, k+"r"), fixture[float64](t, k+"feve")
		var worst float64
		for n := 0; n < N; n++ {
			if res.Alpha[n] != alpha[n] {
				t.Errorf("%s: neuron %d chose alpha %v, numpy %v", c.name, n, res.Alpha[n], alpha[n])
			}
			worst = math.Max(worst, math.Abs(res.CVR2[n]-cv[n]))
			if !close64(res.TestCorr[n], r[n], 1e-4) || !close64(res.FEVE[n], fe[n], 1e-4) {
				t.Errorf("%s: neuron %d: test r %v, FEVE %v; numpy %v, %v", c.name, n, res.TestCorr[n], res.FEVE[n], r[n], fe[n])
			}
		}
		// The same float32 product as on the CPU, summed in another order.
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
	r1, err := analysis.RDM(fixture[float32](t, "boot_resp1"), S, 50, g)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := analysis.RDM(fixture[float32](t, "boot_resp2"), S, 40, g)
	if err != nil {
		t.Fatal(err)
	}
	flat := fixture[float64](t, "boot_idx")
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
	want := fixture[float64](t, "boot_ci")
	if !close64(iv.RSA, want[0], 1e-4) || !close64(iv.Lo, want[1], 1e-4) || !close64(iv.Hi, want[2], 1e-4) {
		t.Errorf("RSA %v in [%v, %v], numpy %v in [%v, %v]", iv.RSA, iv.Lo, iv.Hi, want[0], want[1], want[2])
	}
	ceiling, _, _, err := analysis.RSANoiseCeiling(fixture[float32](t, "nc_train"), fixture[float32](t, "nc_test"), S, 50, g)
	if err != nil {
		t.Fatal(err)
	}
	if w := fixture[float64](t, "nc_rsa")[0]; !close64(ceiling, w, 1e-4) {
		t.Errorf("noise ceiling %v, numpy %v", ceiling, w)
	}
}
