package report

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/engine/enginetest"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
)

// tutorialFixtures is testdata/report/tutorial_fixtures.npz, written by
// gen_tutorial_fixtures.py with the tutorials' own code.
func tutorialFixtures(t *testing.T) map[string]*data.Array {
	t.Helper()
	f, err := data.ReadNPZ(filepath.Join(fixtureDir, "tutorial_fixtures.npz"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// tutorial2Fixture checks Tutorial 2's activations, full-field and patch
// gratings, against PyTorch's ConvolutionalLayer on one backend: the
// same de-meaned filters, centred gratings, padding and bias. Float32
// convolutions of 49 products in another order differ by a few ulps of
// the largest term (|activation| ≲ 4).
func tutorial2Fixture(t *testing.T, be kernels.Backend) {
	f := tutorialFixtures(t)
	for _, c := range []struct {
		key   string
		patch bool
	}{{"t2_act_full", false}, {"t2_act_patch", true}} {
		r := &report{cfg: &Config{PatchGratings: c.patch}}
		if err := r.tutorial2(be); err != nil {
			t.Fatal(err)
		}
		want := f[c.key]
		if len(r.t2.act) != len(want.Data) {
			t.Fatalf("%s: %d activations, PyTorch %v", c.key, len(r.t2.act), want.Shape)
		}
		worst := 0.0
		for i, w := range want.Data {
			d := math.Abs(float64(r.t2.act[i] - w))
			if d > 2e-5 {
				t.Fatalf("%s[%d] = %v, PyTorch %v", c.key, i, r.t2.act[i], w)
			}
			worst = max(worst, d)
		}
		t.Logf("%s: max |Go − PyTorch| = %.2g", c.key, worst)
	}
}

func TestTutorial2FixtureCPU(t *testing.T) {
	be := cpu.New()
	defer be.Close()
	tutorial2Fixture(t, be)
}

func TestTutorial2FixtureVulkan(t *testing.T) {
	be, err := vulkan.New(enginetest.Open(t))
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	tutorial2Fixture(t, be)
}

// TestPreferredOrientationFixture: the report's preferred orientations,
// which sort the decoders' W_in, are SciPy's gaussian_filter1d + argmax of
// the orientation-sorted tuning curves, with σ = 5° in bins, in both
// boundary modes; the fixture's population has neurons near 0°/360° where
// the modes disagree.
func TestPreferredOrientationFixture(t *testing.T) {
	f := tutorialFixtures(t)
	resp, stim := f["pref_resp"], f["pref_stimuli"]
	v := &data.V1{Resp: resp.Data, S: resp.Shape[0], N: resp.Shape[1], Stimuli: stim.Data}
	differ := 0
	for i, w := range f["pref_reflect"].Data {
		if w != f["pref_wrap"].Data[i] {
			differ++
		}
	}
	if differ == 0 {
		t.Fatal("the fixture's modes agree on every neuron: it cannot tell them apart")
	}
	for _, mode := range []analysis.Boundary{analysis.Reflect, analysis.Wrap} {
		got, err := preferredOrientation(v, 5, mode)
		if err != nil {
			t.Fatal(err)
		}
		want := f["pref_"+mode.String()].Data
		for n := range want {
			if float32(got[n]) != want[n] {
				t.Errorf("mode %s: neuron %d prefers %v°, SciPy %v°", mode, n, got[n], want[n])
			}
		}
	}
	t.Logf("%d of %d neurons prefer different orientations in the two modes", differ, v.N)
}
