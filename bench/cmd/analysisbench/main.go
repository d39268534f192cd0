// Command analysisbench times the analysis package's ridge baseline
// (RidgeCV), RDM and RSA bootstrap at the tutorials' sizes — the split
// V1 data's 60 stimuli × 23,589 neurons with the encode network's conv
// layer (1152 features) as predictors, and the 360-stimulus data for
// the RDM and bootstrap — against a NumPy/SciPy implementation of the
// same computations (bench/analysis_ref.py) on the same data and the
// same machine, in one run. The table is printed and appended to
// bench/RESULTS.md.
//
//	go run ./bench/cmd/analysisbench [-vulkan] [-repeats 5] [-results bench/RESULTS.md]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/bench"
	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
	"github.com/vkneuro/vkneuro/models"
	"github.com/vkneuro/vkneuro/tasks"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("analysisbench: ")
	neurons := flag.Int("neurons", 23589, "neurons (the Stringer recordings' count)")
	splitS := flag.Int("stimuli", data.DefaultSplitStimuli, "stimuli of the split data (ridge, RDM, bootstrap)")
	bigS := flag.Int("big-stimuli", 360, "stimuli of the second RDM and bootstrap size (0 to skip)")
	repeats := flag.Int("repeats", 5, "timed repeats of each computation (the median is reported)")
	useVulkan := flag.Bool("vulkan", false, "also time the GEMMs on the Vulkan backend (VKNEURO_DEVICE picks the device)")
	python := flag.String("python", "/usr/bin/python3", "Python with numpy and scipy")
	results := flag.String("results", "bench/RESULTS.md", `markdown file to append the report to ("" to only print)`)
	seed := flag.Int64("seed", 1, "seed of the synthetic data and the bootstrap")
	flag.Parse()
	if *repeats < 1 || *neurons < 1 || *splitS < analysis.RidgeFolds {
		log.Fatalf("need repeats ≥ 1, neurons ≥ 1 and at least %d stimuli", analysis.RidgeFolds)
	}
	root, err := repoRoot()
	if err != nil {
		log.Fatal(err)
	}
	loadStart := bench.LoadAvg()

	// Inputs: synthetic split V1 data and the encode network's conv
	// layer for the tutorial's gratings, as the report would use them.
	sp := data.SyntheticV1Split(data.SynthOptions{Neurons: *neurons, Stimuli: *splitS, Seed: *seed})
	cpuBE := cpu.New()
	defer cpuBE.Close()
	x, D, err := convFeatures(cpuBE, *splitS, uint64(*seed))
	if err != nil {
		log.Fatal(err)
	}
	type rsaInput struct {
		name       string
		S          int
		resp, feat []float32
		featD      int
	}
	inputs := []rsaInput{{"small", *splitS, sp.RespTrain, x, D}}
	if *bigS > 0 {
		v := data.SyntheticV1(data.SynthOptions{Neurons: *neurons, Stimuli: *bigS, Seed: *seed})
		fx, fd, err := convFeatures(cpuBE, *bigS, uint64(*seed))
		if err != nil {
			log.Fatal(err)
		}
		inputs = append(inputs, rsaInput{"big", *bigS, v.Resp, fx, fd})
	}

	dir, err := os.MkdirTemp("", "analysisbench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	arr := func(v []float32, shape ...int) *data.Array { return &data.Array{Shape: shape, Data: v} }
	alphas := analysis.DefaultRidgeAlphas() // analysis_ref.py has the same grid
	npz := map[string]*data.Array{
		"x": arr(x, *splitS, D), "train": arr(sp.RespTrain, *splitS, *neurons), "test": arr(sp.RespTest, *splitS, *neurons),
	}
	for _, in := range inputs {
		npz["resp_"+in.name] = arr(in.resp, in.S, *neurons)
		npz["feat_"+in.name] = arr(in.feat, in.S, in.featD)
	}
	inPath, refPath := filepath.Join(dir, "inputs.npz"), filepath.Join(dir, "ref.npz")
	if err := data.WriteNPZ(inPath, npz); err != nil {
		log.Fatal(err)
	}

	// GEMMs to time: gonum's, the CPU backend's and, with -vulkan, Vulkan's.
	type gemm struct {
		name string
		g    analysis.GEMM
	}
	gemms := []gemm{{"cpu (gonum Sgemm)", analysis.CPUGEMM}, {"cpu backend", analysis.BackendGEMM(cpuBE)}}
	vulkanDevice := ""
	if *useVulkan {
		m, err := engine.Open(engine.Options{AllowCPU: true})
		if err != nil {
			log.Fatalf("-vulkan: %v", err)
		}
		defer m.Close()
		vb, err := vulkan.New(m)
		if err != nil {
			log.Fatalf("-vulkan: %v", err)
		}
		defer vb.Close()
		vulkanDevice = vb.Device()
		gemms = append(gemms, gemm{"vulkan", analysis.BackendGEMM(vb)})
	}

	var rows [][]string
	median := func(f func() error) float64 {
		var ts []float64
		for i := 0; i < *repeats; i++ {
			t0 := time.Now()
			if err := f(); err != nil {
				log.Fatal(err)
			}
			ts = append(ts, time.Since(t0).Seconds())
		}
		return bench.Median(ts)
	}

	// Ridge.
	ridgeTimes := make([]float64, len(gemms))
	var ridge *analysis.RidgeResult
	for i, g := range gemms {
		ridgeTimes[i] = median(func() (err error) {
			ridge, err = analysis.RidgeCV(x, *splitS, D, sp.RespTrain, sp.RespTest, *neurons, analysis.RidgeOptions{GEMM: g.g})
			return err
		})
	}
	rdmTimes := make([][]float64, len(inputs))
	rdms := make([][2][]float32, len(inputs))
	bootTimes := make([]float64, len(inputs))
	boots := make([]*analysis.RSAInterval, len(inputs))
	for k, in := range inputs {
		rdmTimes[k] = make([]float64, len(gemms))
		for i, g := range gemms {
			rdmTimes[k][i] = median(func() (err error) {
				rdms[k][0], err = analysis.RDM(in.resp, in.S, *neurons, g.g)
				return err
			})
		}
		var err error
		if rdms[k][1], err = analysis.RDM(in.feat, in.S, in.featD, nil); err != nil {
			log.Fatal(err)
		}
		bootTimes[k] = median(func() (err error) {
			boots[k], err = analysis.RSABootstrap(rdms[k][0], rdms[k][1], in.S, analysis.BootstrapOptions{Seed: uint64(*seed)})
			return err
		})
	}

	// NumPy on the same inputs.
	cmd := exec.Command(*python, filepath.Join(root, "bench", "analysis_ref.py"), "--in", inPath, "--out", refPath, "--repeats", fmt.Sprint(*repeats))
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("%s bench/analysis_ref.py: %v", *python, err)
	}
	ref, err := data.ReadNPZ(refPath)
	if err != nil {
		log.Fatal(err)
	}
	t := func(key string) float64 { return float64(ref["t_"+key].Data[0]) }

	cells := func(ts []float64, np float64) []string {
		var c []string
		best := math.Inf(1)
		for _, v := range ts {
			c = append(c, bench.FormatMillis(v))
			best = math.Min(best, v)
		}
		for len(c) < len(gemms) {
			c = append(c, "–")
		}
		return append(c, bench.FormatMillis(np), bench.FormatRatio(np/best))
	}
	ridgeNote := fmt.Sprintf("RidgeCV, %d alphas, 5 folds, %d×%d features → %d×%d", len(alphas), *splitS, D, *splitS, *neurons)
	rows = append(rows, append([]string{ridgeNote, "NumPy himalaya-style (float64)"}, cells(ridgeTimes, t("ridge_himalaya"))...))
	rows = append(rows, append([]string{ridgeNote, "NumPy, the Go formulation (float32 product)"}, cells(ridgeTimes, t("ridge_stacked"))...))
	for k, in := range inputs {
		rows = append(rows, append([]string{fmt.Sprintf("RDM, %d×%d", in.S, *neurons), "tutorial 3 (zscore, float32)"}, cells(rdmTimes[k], t("rdm_"+in.name))...))
		rows = append(rows, append([]string{fmt.Sprintf("RSA bootstrap, 1000 resamples of %d stimuli", in.S), "gather + corrcoef per resample"}, cells([]float64{bootTimes[k]}, t("boot_"+in.name))...))
	}
	header := []string{"computation", "NumPy implementation"}
	for _, g := range gemms {
		header = append(header, "vkneuro "+g.name+" (ms)")
	}
	header = append(header, "NumPy (ms)", "NumPy / best vkneuro")

	// Agreement, so that the timed computations are known to be the same.
	var agree strings.Builder
	for _, v := range []string{"himalaya", "stacked"} {
		a, r := ref["ridge_"+v+"_alpha"].Data, ref["ridge_"+v+"_r"].Data
		same, worst := 0, 0.0
		for n := range a {
			// The .npz is float32: 0.1 comes back as 0.1000000015.
			if math.Abs(float64(a[n])/ridge.Alpha[n]-1) < 1e-6 {
				same++
			}
			worst = math.Max(worst, math.Abs(float64(r[n])-ridge.TestCorr[n]))
		}
		fmt.Fprintf(&agree, "- ridge vs NumPy %s: the same alpha for %d of %d neurons, max |Δ test r| %.2g\n", v, same, len(a), worst)
	}
	for k, in := range inputs {
		r := ref["rdm_"+in.name].Data
		var worst float64
		for i, v := range rdms[k][0] {
			worst = math.Max(worst, math.Abs(float64(v)-float64(r[i])))
		}
		b := ref["boot_"+in.name].Data
		fmt.Fprintf(&agree, "- S = %d: max |Δ RDM| %.2g; RSA %.4f in [%.4f, %.4f] (NumPy %.4f in [%.4f, %.4f], its own resamples)\n",
			in.S, worst, boots[k].RSA, boots[k].Lo, boots[k].Hi, b[0], b[1], b[2])
	}

	var report strings.Builder
	fmt.Fprintf(&report, "## Analysis: ridge baseline, RDM and RSA bootstrap against NumPy — %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&report, "- command: `go run ./bench/cmd/analysisbench %s` at %s\n", strings.Join(os.Args[1:], " "), commit(root))
	cpuName, procs := cpuInfo()
	fmt.Fprintf(&report, "- CPU: %s, %d logical processors; Go GOMAXPROCS %d, NumPy on its BLAS's default threads\n", cpuName, procs, runtime.GOMAXPROCS(0))
	fmt.Fprintf(&report, "- %s; %s\n", runtime.Version(), strings.TrimSpace(lastLine(stdout.String())))
	if vulkanDevice != "" {
		fmt.Fprintf(&report, "- Vulkan device: %s\n", vulkanDevice)
	}
	fmt.Fprintf(&report, "- data: synthetic split V1 (seed %d), the encode network's conv layer (untrained, tutorial filters) for the gratings; median of %d runs each\n", *seed, *repeats)
	fmt.Fprintf(&report, "- load average (1, 5, 15 min) at start %s, at end %s\n\n", loadStart, bench.LoadAvg())
	report.WriteString(bench.Table(header, rows))
	report.WriteString("\n")
	report.WriteString(agree.String())
	fmt.Print(report.String())
	if *results != "" {
		if err := bench.AppendSection(filepath.Join(root, *results), report.String()); err != nil {
			log.Fatal(err)
		}
	}
}

// convFeatures returns the encode network's conv-layer activity for the
// Bonus tutorial's S gratings (S × 1152).
func convFeatures(be kernels.Backend, S int, seed uint64) ([]float32, int, error) {
	pix, h, w := tasks.EncodeGratings(S)
	m, err := models.NewEncode(be, h, w, 1, seed)
	if err != nil {
		return nil, 0, err
	}
	defer m.Close()
	return m.Hidden(pix, "conv")
}

func repoRoot() (string, error) {
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("find the repository root (run inside the checkout): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func commit(root string) string {
	cmd := exec.Command("git", "describe", "--always", "--dirty")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "unknown commit"
	}
	return strings.TrimSpace(string(out))
}

func cpuInfo() (string, int) {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU", runtime.NumCPU()
	}
	defer f.Close()
	model, n, err := bench.CPUInfo(f)
	if err != nil {
		return "unknown CPU", runtime.NumCPU()
	}
	return model, n
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
