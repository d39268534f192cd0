package bench

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{5}, 5},
		{[]float64{math.NaN(), 7, 1, 4}, 4},
	}
	for _, c := range cases {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %v, want NaN", got)
	}
	in := []float64{3, 1, 2}
	Median(in)
	if in[0] != 3 || in[1] != 1 {
		t.Errorf("Median reordered its argument: %v", in)
	}
}

func TestMaxRelDiff(t *testing.T) {
	d, at := MaxRelDiff([]float64{1, 2.2, 3}, []float64{1, 2, 3, 9})
	if math.Abs(d-0.1) > 1e-12 || at != 2 {
		t.Errorf("MaxRelDiff = %v at %d, want 0.1 at 2", d, at)
	}
	// A zero reference falls back to the absolute difference.
	d, at = MaxRelDiff([]float64{0.5, 0.25}, []float64{0.5, 0})
	if d != 0.25 || at != 2 {
		t.Errorf("MaxRelDiff with zero reference = %v at %d, want 0.25 at 2", d, at)
	}
	d, at = MaxRelDiff([]float64{1, math.NaN()}, []float64{1, 1})
	if !math.IsNaN(d) || at != 2 {
		t.Errorf("MaxRelDiff with NaN = %v at %d, want NaN at 2", d, at)
	}
	if d, _ := MaxRelDiff(nil, []float64{1}); !math.IsNaN(d) {
		t.Errorf("MaxRelDiff of no common steps = %v, want NaN", d)
	}
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadSummary(t *testing.T) {
	p := writeFile(t, "s.json", `{"train_seconds": 2.5, "steps": 10, "final_loss": 0.125, "device": "cpu (gonum)"}`)
	s, err := ReadSummary(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.TrainSeconds != 2.5 || s.Steps != 10 || s.FinalLoss != 0.125 || s.Device != "cpu (gonum)" || s.StepSeconds() != 0.25 {
		t.Errorf("ReadSummary = %+v", s)
	}
	p = writeFile(t, "s.json", `{"train_seconds": 1, "steps": 4, "loss": 3}`)
	if s, err := ReadSummary(p); err != nil || s.FinalLoss != 3 {
		t.Errorf("ReadSummary with key loss = %+v, %v; want FinalLoss 3", s, err)
	}
	p = writeFile(t, "s.json", `{"train_seconds": 1, "steps": 4}`)
	if s, err := ReadSummary(p); err != nil || !math.IsNaN(s.FinalLoss) {
		t.Errorf("ReadSummary without a loss = %+v, %v; want NaN FinalLoss", s, err)
	}
	for _, bad := range []struct{ json, key string }{
		{`{"steps": 4}`, "train_seconds"},
		{`{"train_seconds": -1, "steps": 4}`, "train_seconds"},
		{`{"train_seconds": 1, "steps": 4.5}`, "steps"},
		{`{"train_seconds": 1, "steps": "4"}`, "steps"},
		{`{"train_seconds": 1,`, "s.json"},
	} {
		p := writeFile(t, "s.json", bad.json)
		if _, err := ReadSummary(p); err == nil || !strings.Contains(err.Error(), bad.key) {
			t.Errorf("ReadSummary(%s) error = %v, want one naming %q", bad.json, err, bad.key)
		}
	}
}

func TestCPUInfo(t *testing.T) {
	text := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	model, n, err := CPUInfo(strings.NewReader(text))
	if err != nil || model != "AMD EPYC 7B13" || n != 2 {
		t.Errorf("CPUInfo = %q, %d, %v; want AMD EPYC 7B13, 2", model, n, err)
	}
}

// vulkaninfoSummary is the device part of `vulkaninfo --summary` from
// this project's CI machine (lavapipe) with a discrete GPU added.
const vulkaninfoSummary = `Devices:
========
GPU0:
	apiVersion         = 1.3.230
	deviceType         = PHYSICAL_DEVICE_TYPE_CPU
	deviceName         = llvmpipe (LLVM 15.0.6, 256 bits)
	driverID           = DRIVER_ID_MESA_LLVMPIPE
	driverName         = llvmpipe
	driverInfo         = Mesa 22.3.6 (LLVM 15.0.6)
GPU1:
	deviceType         = PHYSICAL_DEVICE_TYPE_DISCRETE_GPU
	deviceName         = NVIDIA H100 80GB HBM3
	driverName         = NVIDIA
	driverInfo         = 550.54.15
`

func TestVulkanDevices(t *testing.T) {
	devs := VulkanDevices(vulkaninfoSummary)
	if len(devs) != 2 {
		t.Fatalf("VulkanDevices found %d devices, want 2: %v", len(devs), devs)
	}
	if got, want := devs[0].String(), "llvmpipe (LLVM 15.0.6, 256 bits) [CPU; llvmpipe Mesa 22.3.6 (LLVM 15.0.6)]"; got != want {
		t.Errorf("device 0 = %q, want %q", got, want)
	}
	if !devs[0].IsCPU() {
		t.Errorf("%v: IsCPU false, want true", devs[0])
	}
	if devs[1].Name != "NVIDIA H100 80GB HBM3" || devs[1].Type != "DISCRETE_GPU" || devs[1].IsCPU() {
		t.Errorf("device 1 = %+v, IsCPU %v; want the discrete H100", devs[1], devs[1].IsCPU())
	}
	if devs := VulkanDevices("ERROR: no devices\n"); len(devs) != 0 {
		t.Errorf("VulkanDevices(no devices) = %v, want none", devs)
	}
}

func TestAppendSection(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "RESULTS.md")
	if err := AppendSection(p, "## one\n\nfirst\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if !strings.HasPrefix(string(b), "# vkneuro benchmark results\n") || !strings.HasSuffix(string(b), "\n## one\n\nfirst\n") {
		t.Errorf("new file:\n%s", b)
	}
	// Sections others wrote stay as they are.
	if err := os.WriteFile(p, []byte("# Results\n\n## engine\n\nkeep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := AppendSection(p, "## two\n"); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(p)
	if want := "# Results\n\n## engine\n\nkeep me\n\n## two\n"; string(b) != want {
		t.Errorf("appended file = %q, want %q", b, want)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
}

func TestTable(t *testing.T) {
	got := Table([]string{"a", "b"}, [][]string{{"1", "x|y"}, {"2"}})
	want := "| a | b |\n|---|---|\n| 1 | x\\|y |\n| 2 |  |\n"
	if got != want {
		t.Errorf("Table =\n%q, want\n%q", got, want)
	}
}

func TestFormat(t *testing.T) {
	if got := FormatMillis(0.012345); got != "12.3" {
		t.Errorf("FormatMillis(0.012345) = %q", got)
	}
	if got := FormatRatio(2.345); got != "2.35×" {
		t.Errorf("FormatRatio(2.345) = %q", got)
	}
	if got := FormatRatio(math.Inf(1)); got != "–" {
		t.Errorf("FormatRatio(Inf) = %q", got)
	}
	if got := FormatSeconds(math.NaN()); got != "–" {
		t.Errorf("FormatSeconds(NaN) = %q", got)
	}
}
