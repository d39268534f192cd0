// Command compare trains the tutorials' three workloads in vkneuro (each
// backend) and in PyTorch on the same machine, with the same data, initial
// weights, steps and thread count, and reports the training-loop times side
// by side. The table is printed and appended to bench/RESULTS.md.
//
//	go run ./bench/cmd/compare                      # 3 repeats, medians
//	go run ./bench/cmd/compare --quick              # 1 repeat, few steps
//	go run ./bench/cmd/compare --backends cpu --workloads decode,encode
//	go run ./bench/cmd/compare --scaling --repeats 1
//
// Workloads (hyper-parameters from the tutorials):
//
//	normative  Tutorial 3 CNN, 1000 gratings 48×64, batches of 100, 25 epochs,
//	           SGD lr 5e-4 momentum 0.99, BCE (250 steps)
//	decode     DeepNetSoftmax 23,589→20→20, full batch of 216 stimuli, 300 steps,
//	           SGD lr 0.1, NLL + l2 1e-2 + l1 5e-4 on in_layer.weight
//	encode     ConvFC 60 gratings 12×16 → 23,589 neurons, full batch, 200 steps,
//	           SGD lr 2 momentum 0.9, MSE + l2 5e-4 + l1 1e-6 on out_layer.weight
//
// It needs /usr/bin/python3 with torch and numpy (bench/gen_data.py writes
// the inputs, bench/pytorch_ref.py is the reference), and builds
// ./cmd/vkneuro once, whose train subcommand trains the vkneuro side. On a CPU Vulkan driver (lavapipe) the vulkan backend runs the quick
// variant once: those numbers check that it works, not GPU speed.
//
// cmd/vkneuro is built with the environment the harness runs in, so
// GOEXPERIMENT=simd go run ./bench/cmd/compare measures the AVX2 kernels.
//
// To see where vkneuro's CPU time goes, profile one step of each workload:
//
//	go test -run '^$' -bench Step -benchtime 10x -cpuprofile cpu.prof ./bench/
//	go tool pprof -top bench.test cpu.prof
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vkneuro/vkneuro/bench"
	"github.com/vkneuro/vkneuro/engine"
)

// workload is one training job: how to generate its data and which
// hyper-parameters both frameworks get.
type workload struct {
	name      string
	gen       []string // gen_data.py arguments besides the workload and --out
	args      []string // training arguments shared by vkneuro train and pytorch_ref.py
	steps     int      // optimiser steps the arguments imply
	fullBatch bool     // deterministic trajectory: losses comparable step by step
	size      string   // short description for the tables
}

const (
	nNeurons     = 23589 // the tutorials' recordings
	decodeStim   = 216
	encodeStim   = 60
	normGratings = 1000
)

func normative(gratings, batch, epochs int) workload {
	perEpoch := (gratings + batch - 1) / batch
	return workload{
		name: "normative",
		gen:  []string{"--n", strconv.Itoa(gratings)},
		args: []string{"--epochs", strconv.Itoa(epochs), "--batch", strconv.Itoa(batch),
			"--lr", "0.0005", "--momentum", "0.99", "--l1", "0", "--l2", "0"},
		steps: perEpoch * epochs,
		size:  fmt.Sprintf("%d gratings, batch %d, %d epoch%s", gratings, batch, epochs, plural(epochs)),
	}
}

func decode(stimuli, neurons, iters int) workload {
	return workload{
		name: "decode",
		gen:  []string{"--s", strconv.Itoa(stimuli), "--n", strconv.Itoa(neurons)},
		args: []string{"--iters", strconv.Itoa(iters), "--batch", "0",
			"--lr", "0.1", "--momentum", "0", "--l2", "0.01", "--l1", "0.0005"},
		steps:     iters,
		fullBatch: true,
		size:      fmt.Sprintf("%d×%d, %d steps", stimuli, neurons, iters),
	}
}

func encode(stimuli, neurons, iters int) workload {
	return workload{
		name: "encode",
		gen:  []string{"--s", strconv.Itoa(stimuli), "--n", strconv.Itoa(neurons)},
		args: []string{"--iters", strconv.Itoa(iters), "--batch", "0",
			"--lr", "2", "--momentum", "0.9", "--l2", "0.0005", "--l1", "1e-6"},
		steps:     iters,
		fullBatch: true,
		size:      fmt.Sprintf("%d stimuli → %d neurons, %d steps", stimuli, neurons, iters),
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// variant picks how many steps a workload runs; the shapes are always
// the standard ones.
type variant int

const (
	full      variant = iota // issue 7's recipe
	short                    // --quick: enough steps for a stable per-step time
	cpuVulkan                // the vulkan backend on a CPU driver (lavapipe, ~20 s per encode step): a few steps
)

// spec is a workload at the standard (issue 7) shapes with the number of
// steps of v.
func spec(name string, v variant) workload {
	switch name {
	case "normative":
		return normative(normGratings, 100, [...]int{25, 2, 1}[v])
	case "decode":
		return decode(decodeStim, nNeurons, [...]int{300, 30, 10}[v])
	case "encode":
		return encode(encodeStim, nNeurons, [...]int{200, 10, 3}[v])
	}
	panic("unreachable: workload names are checked in main")
}

// runner is one framework/backend column.
type runner struct {
	framework string // "pytorch" or "vkneuro"
	backend   string // "cpu" or "vulkan"
}

func (r runner) String() string { return r.framework + " " + r.backend }

var (
	pytorch     = runner{"pytorch", "cpu"}
	pytorchCUDA = runner{"pytorch", "cuda"}
)

// runners are the columns: PyTorch on the CPU, on CUDA when asked, and
// vkneuro on each backend.
func (h *harness) runners(backends []string) []runner {
	rs := []runner{pytorch}
	if h.torchCUDA {
		rs = append(rs, pytorchCUDA)
	}
	for _, b := range backends {
		rs = append(rs, runner{"vkneuro", b})
	}
	return rs
}

// reference is the column r is compared with: PyTorch on the same kind
// of device (CUDA for vkneuro's Vulkan backend when it ran, and for
// PyTorch CUDA itself), else PyTorch on the CPU.
func (h *harness) reference(r runner) runner {
	if h.torchCUDA && (r.backend == "vulkan" || r == pytorchCUDA) {
		return pytorchCUDA
	}
	return pytorch
}

// result is one training run.
type result struct {
	sum    bench.Summary
	losses []float64
	err    error
}

type harness struct {
	root, tmp  string
	python     string
	vkneuroBin string // runs the vkneuro side as "vkneuro train ..."
	threads    int
	timeout    time.Duration
	vulkanEnv  []string
	verbose    bool
	torchEnv   []string // extra environment of the PyTorch runs
	torchCUDA  bool     // also run PyTorch on CUDA, the reference for Vulkan
}

// keepHeap tells glibc malloc to keep freed memory instead of returning
// it to the OS: PyTorch allocates each step's large temporaries afresh
// (the encode model's 27 M-weight penalty terms and gradients, 109 MB
// each) and by default glibc serves and frees them with mmap/munmap, so
// every step page-faults them in again. On this project's VMs that made
// a PyTorch encode step about 6× slower (2.47 s against 0.42 s per step,
// 10 steps of bench/pytorch_ref.py encode each way), which would compare
// vkneuro with a misconfigured PyTorch rather than with PyTorch.
var keepHeap = []string{"MALLOC_MMAP_MAX_=0", "MALLOC_TRIM_THRESHOLD_=68719476736", "MALLOC_TOP_PAD_=536870912"}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

func run() error {
	workloadsFlag := flag.String("workloads", "normative,decode,encode", "comma-separated workloads to run")
	backendsFlag := flag.String("backends", "cpu,vulkan", `vkneuro backends to compare with PyTorch ("none" for PyTorch only)`)
	repeats := flag.Int("repeats", 3, "runs of each workload per framework; the table reports medians")
	quick := flag.Bool("quick", false, "one repeat of the quick variants (same shapes, fewer steps)")
	vulkanFull := flag.Bool("vulkan-full", false, "run the vulkan backend at full size and repeats even on a CPU driver (lavapipe)")
	scaling := flag.Bool("scaling", false, "instead of the standard comparison, time steps against neuron count (decode, encode) and batch size (normative)")
	threads := flag.Int("threads", runtime.NumCPU(), "threads for both frameworks (GOMAXPROCS and torch.set_num_threads)")
	python := flag.String("python", "/usr/bin/python3", "Python with torch and numpy")
	vkneuroBin := flag.String("vkneuro", "", "prebuilt vkneuro binary (default: go build ./cmd/vkneuro into the temp dir)")
	results := flag.String("results", "bench/RESULTS.md", `markdown file to append the report to, relative to the repository root ("" to only print)`)
	timeout := flag.Duration("timeout", 30*time.Minute, "limit for one training run")
	keep := flag.Bool("keep", false, "keep the temp dir with data, metrics and summaries")
	verbose := flag.Bool("v", false, "print each run as it finishes")
	torchCUDA := flag.Bool("torch-cuda", false, "also run PyTorch on CUDA (a CUDA build of torch and a GPU); it becomes the reference of the vulkan backend")
	torchMalloc := flag.Bool("torch-default-malloc", false, "run PyTorch with glibc's default malloc settings (by default the harness sets "+strings.Join(keepHeap, " ")+" for it; see keepHeap)")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flag.Args())
	}
	if *repeats < 1 {
		return fmt.Errorf("--repeats %d: want at least 1", *repeats)
	}
	if *threads < 1 {
		return fmt.Errorf("--threads %d: want at least 1", *threads)
	}
	if *quick {
		*repeats = 1
	}
	var names []string
	for _, w := range strings.Split(*workloadsFlag, ",") {
		w = strings.TrimSpace(w)
		if w == "" {
			continue
		}
		if !slices.Contains([]string{"normative", "decode", "encode"}, w) {
			return fmt.Errorf("--workloads: unknown workload %q (want normative, decode, encode)", w)
		}
		names = append(names, w)
	}
	if len(names) == 0 {
		return errors.New("--workloads: none given")
	}
	var backends []string
	if *backendsFlag != "none" {
		for _, b := range strings.Split(*backendsFlag, ",") {
			b = strings.TrimSpace(b)
			if b == "" {
				continue
			}
			if b != "cpu" && b != "vulkan" {
				return fmt.Errorf("--backends: unknown backend %q (want cpu, vulkan or none)", b)
			}
			backends = append(backends, b)
		}
	}

	root, err := repoRoot()
	if err != nil {
		return err
	}
	for _, f := range []string{"bench/gen_data.py", "bench/pytorch_ref.py"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
	}
	tmp, err := os.MkdirTemp("", "vkneuro-bench-")
	if err != nil {
		return err
	}
	if *keep {
		fmt.Fprintln(os.Stderr, "compare: keeping", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	h := &harness{root: root, tmp: tmp, python: *python, threads: *threads, timeout: *timeout, verbose: *verbose, torchCUDA: *torchCUDA}
	if !*torchMalloc {
		h.torchEnv = keepHeap
	}
	m := describeMachine(h)
	if slices.Contains(backends, "vulkan") && m.vulkanCPU && os.Getenv("VKNEURO_DEVICE") == "" {
		// The engine auto-picks a CPU driver only when told to; name it so
		// the vulkan runs use it whatever vkneuro train's default.
		h.vulkanEnv = []string{"VKNEURO_DEVICE=" + m.vulkanName}
	}
	if len(backends) > 0 {
		if *vkneuroBin != "" {
			h.vkneuroBin = *vkneuroBin
		} else {
			h.vkneuroBin = filepath.Join(tmp, "vkneuro")
			fmt.Fprintln(os.Stderr, "compare: go build ./cmd/vkneuro")
			cmd := exec.Command("go", "build", "-o", h.vkneuroBin, "./cmd/vkneuro")
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("go build ./cmd/vkneuro: %w\n%s", err, out)
			}
		}
	}

	var report string
	var failed int
	if *scaling {
		report, failed, err = h.scaling(names, backends, *repeats, m, *vulkanFull)
	} else {
		report, failed, err = h.compare(names, backends, *repeats, *quick, m, *vulkanFull)
	}
	if err != nil {
		return err
	}
	section := header(m, h, backends, *scaling) + "\n" + report
	fmt.Println(section)
	if *results != "" {
		path := *results
		if !filepath.IsAbs(path) {
			path = filepath.Join(root, path)
		}
		if err := bench.AppendSection(path, section); err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "compare: appended to", path)
	}
	if failed > 0 {
		return fmt.Errorf("%d runs failed (see the table)", failed)
	}
	return nil
}

// repoRoot walks up from the working directory to the go.mod of vkneuro.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.Contains(b, []byte("module github.com/vkneuro/vkneuro\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the vkneuro repository (no go.mod of github.com/vkneuro/vkneuro above the working directory)")
		}
		dir = parent
	}
}

type machine struct {
	cpu        string
	processors int
	vulkan     []bench.VulkanDevice
	vulkanName string // deviceName of the first device, for VKNEURO_DEVICE
	vulkanCPU  bool   // the first (only usable) device is a CPU driver
	goVersion  string
	torch      string
	commit     string
	loadStart  string // /proc/loadavg when the harness started
}

// loadAvg is the 1-, 5- and 15-minute load averages from /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// busy reports whether the 1-minute load average in load (as loadAvg
// prints it) exceeds the number of processors.
func busy(load string, processors int) bool {
	f := strings.Fields(load)
	if len(f) == 0 || processors <= 0 {
		return false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return err == nil && v > float64(processors)
}

func describeMachine(h *harness) machine {
	m := machine{cpu: "unknown CPU", goVersion: runtime.Version(), loadStart: loadAvg()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		if model, n, err := bench.CPUInfo(f); err == nil {
			m.cpu, m.processors = model, n
		}
		f.Close()
	}
	if out, err := exec.Command("vulkaninfo", "--summary").Output(); err == nil {
		m.vulkan = bench.VulkanDevices(string(out))
	} else if devs, err := engine.Devices(); err == nil {
		// No vulkan-tools: ask the engine, which sees what vkneuro train sees.
		// Without this a lavapipe-only machine looked GPU-less, and the
		// vulkan runs went full size on the CPU driver.
		for _, d := range devs {
			typ := d.Type
			if d.CPU {
				typ = "CPU"
			}
			m.vulkan = append(m.vulkan, bench.VulkanDevice{Name: d.Name, Type: typ, DriverInfo: d.Driver})
		}
	}
	if len(m.vulkan) > 0 {
		m.vulkanName = m.vulkan[0].Name
		m.vulkanCPU = true
		for _, d := range m.vulkan {
			if !d.IsCPU() {
				m.vulkanCPU = false
			}
		}
	}
	if out, err := exec.Command(h.python, "-c", torchInfo).Output(); err == nil {
		m.torch = strings.TrimSpace(string(out))
	}
	cmd := exec.Command("git", "describe", "--always", "--dirty")
	cmd.Dir = h.root
	if out, err := cmd.Output(); err == nil {
		m.commit = strings.TrimSpace(string(out))
	}
	return m
}

// torchInfo prints PyTorch's version and the BLAS library its matmul
// loaded: on Debian python3-torch runs on whatever libblas.so.3 the
// alternatives system points to, and the reference BLAS is an order of
// magnitude slower than OpenBLAS on decode's GEMMs (≈130 ms, measured
// with other work on the cores, against ≈6 ms for one 216×23,589×20
// product and its backward), so the table must say which one PyTorch had.
const torchInfo = `import torch
torch.ones(64, 64) @ torch.ones(64, 64)
libs = sorted({l.split()[-1] for l in open('/proc/self/maps') if any(k in l for k in ('blas', 'mkl'))})
print(torch.__version__ + ', BLAS ' + (' + '.join(libs) or 'none loaded'))`

func header(m machine, h *harness, backends []string, scaling bool) string {
	var b strings.Builder
	title := "Comparison with PyTorch"
	if scaling {
		title = "Scaling: step time against problem size"
	}
	fmt.Fprintf(&b, "## %s — %s\n\n", title, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- command: `go run ./bench/cmd/compare %s`\n", strings.Join(os.Args[1:], " "))
	fmt.Fprintf(&b, "- CPU: %s, %d logical processors; both frameworks use %d threads (GOMAXPROCS, torch.set_num_threads)\n", m.cpu, m.processors, h.threads)
	vk := "none found (vulkaninfo, engine.Devices)"
	if len(m.vulkan) > 0 {
		var names []string
		for _, d := range m.vulkan {
			names = append(names, d.String())
		}
		vk = strings.Join(names, "; ")
	}
	fmt.Fprintf(&b, "- Vulkan device: %s\n", vk)
	torch := m.torch
	if torch == "" {
		torch = "unknown"
	}
	goexp := ""
	if e := os.Getenv("GOEXPERIMENT"); e != "" {
		goexp = " GOEXPERIMENT=" + e
	}
	fmt.Fprintf(&b, "- %s%s, PyTorch %s (%s), vkneuro %s\n", m.goVersion, goexp, torch, h.python, m.commit)
	if len(h.torchEnv) > 0 {
		fmt.Fprintf(&b, "- PyTorch's environment adds %s: glibc keeps freed memory, so PyTorch's per-step temporaries are not page-faulted in again every step (see keepHeap in bench/cmd/compare)\n", strings.Join(h.torchEnv, " "))
	} else {
		b.WriteString("- PyTorch ran with glibc's default malloc settings (--torch-default-malloc)\n")
	}
	end := loadAvg()
	fmt.Fprintf(&b, "- load average (1, 5, 15 min) at start %s, at end %s", m.loadStart, end)
	if busy(m.loadStart, m.processors) || busy(end, m.processors) {
		b.WriteString(": above the core count, other work competed for the cores; times are inflated and noisy")
	}
	b.WriteString("\n")
	if m.vulkanCPU && slices.Contains(backends, "vulkan") {
		b.WriteString("- The Vulkan device is a CPU driver: its numbers show that the vulkan backend trains, they do not measure GPU speed.\n")
	}
	return b.String()
}

// train runs one training job and reads back its summary and losses.
func (h *harness) train(r runner, w workload, data string, tag string) result {
	dir := filepath.Join(h.tmp, "runs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return result{err: err}
	}
	metrics := filepath.Join(dir, tag+".csv")
	summary := filepath.Join(dir, tag+".json")
	args := []string{w.name, "--data", filepath.Join(data, "data.npz"), "--init", filepath.Join(data, "init.npz")}
	if w.name == "encode" {
		args = append(args, "--stimuli", filepath.Join(data, "stimuli.npz"))
	}
	args = append(args, w.args...)
	args = append(args, "--test-frac", "0", "--seed", "1", "--metrics", metrics, "--summary", summary, "--quiet")
	env := os.Environ()
	var prog string
	if r.framework == "pytorch" {
		prog = h.python
		args = append([]string{filepath.Join(h.root, "bench", "pytorch_ref.py")}, args...)
		args = append(args, "--threads", strconv.Itoa(h.threads), "--device", r.backend)
		t := strconv.Itoa(h.threads)
		env = append(env, "OMP_NUM_THREADS="+t, "MKL_NUM_THREADS="+t)
		env = append(env, h.torchEnv...)
	} else {
		prog = h.vkneuroBin
		args = append(append([]string{"train"}, args...), "--backend", r.backend)
		env = append(env, "GOMAXPROCS="+strconv.Itoa(h.threads))
		if r.backend == "vulkan" {
			env = append(env, h.vulkanEnv...)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), h.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Env = env
	cmd.Dir = h.root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 && len(msg) > 400 {
			msg = msg[i+1:]
		}
		if ctx.Err() != nil {
			err = fmt.Errorf("timed out after %v", h.timeout)
		}
		return result{err: fmt.Errorf("%s %s: %v: %s", r, w.name, err, msg)}
	}
	s, err := bench.ReadSummary(summary)
	if err != nil {
		return result{err: err}
	}
	losses, err := bench.ReadLosses(metrics)
	if err != nil {
		return result{err: err}
	}
	if s.Steps != w.steps {
		return result{err: fmt.Errorf("%s %s: took %d steps, the arguments imply %d", r, w.name, s.Steps, w.steps)}
	}
	if h.verbose {
		fmt.Fprintf(os.Stderr, "compare: %-14s %-9s %-40s %8.3fs %8.2f ms/step (process %.1fs)\n", r, w.name, w.size, s.TrainSeconds, 1e3*s.StepSeconds(), time.Since(start).Seconds())
	}
	return result{sum: s, losses: losses}
}

// generate writes the inputs of w into a fresh directory.
func (h *harness) generate(w workload, tag string) (string, error) {
	dir := filepath.Join(h.tmp, "data", tag)
	args := append([]string{filepath.Join(h.root, "bench", "gen_data.py"), w.name, "--out", dir}, w.gen...)
	cmd := exec.Command(h.python, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("gen_data.py %s: %w\n%s", strings.Join(args[1:], " "), err, out)
	}
	return dir, nil
}

type cell struct {
	w       workload
	r       runner
	results []result
}

func (c *cell) stepSeconds() []float64 {
	var v []float64
	for _, r := range c.results {
		if r.err == nil {
			v = append(v, r.sum.StepSeconds())
		}
	}
	return v
}

func (c *cell) firstOK() *result {
	for i := range c.results {
		if c.results[i].err == nil {
			return &c.results[i]
		}
	}
	return nil
}

func (c *cell) errs() []error {
	var v []error
	for _, r := range c.results {
		if r.err != nil {
			v = append(v, r.err)
		}
	}
	return v
}

func (h *harness) compare(names, backends []string, repeats int, quick bool, m machine, vulkanFull bool) (string, int, error) {
	runners := h.runners(backends)
	type key struct{ w, r string }
	cells := map[key]*cell{}
	var order []key
	data := map[string]string{}
	for _, name := range names {
		v := full
		if quick {
			v = short
		}
		w := spec(name, v)
		dir, err := h.generate(w, name)
		if err != nil {
			return "", 0, err
		}
		data[name] = dir
		for _, r := range runners {
			wr := w
			if r.backend == "vulkan" && m.vulkanCPU && !vulkanFull {
				wr = spec(name, cpuVulkan)
			}
			k := key{name, r.String()}
			cells[k] = &cell{w: wr, r: r}
			order = append(order, k)
		}
	}
	// Repeats are the outer loop so that slow drift of a shared machine
	// spreads over all columns instead of biasing one.
	for rep := 0; rep < repeats; rep++ {
		for _, k := range order {
			c := cells[k]
			if c.r.backend == "vulkan" && m.vulkanCPU && !vulkanFull && rep > 0 {
				continue
			}
			tag := fmt.Sprintf("%s-%s-%s", c.w.name, c.r.framework, c.r.backend)
			if rep > 0 {
				tag += fmt.Sprintf("-rep%d", rep+1)
			}
			c.results = append(c.results, h.train(c.r, c.w, data[c.w.name], tag))
		}
	}

	header := []string{"workload", "framework", "backend", "steps", "runs", "train s (median)", "ms/step (median)", "ms/step min–max", "vs PyTorch (per step)", "final loss", "max rel. loss diff vs PyTorch"}
	var rows [][]string
	var failed int
	var errLines []string
	for _, k := range order {
		c := cells[k]
		ref := cells[key{k.w, h.reference(c.r).String()}]
		row := []string{c.w.name, c.r.framework, c.r.backend, strconv.Itoa(c.w.steps)}
		errs := c.errs()
		failed += len(errs)
		for _, e := range errs {
			errLines = append(errLines, "- "+e.Error())
		}
		ok := c.firstOK()
		if ok == nil {
			row = append(row, fmt.Sprintf("0/%d", len(c.results)), "failed", "–", "–", "–", "–", "–")
			rows = append(rows, row)
			continue
		}
		secs := make([]float64, 0, len(c.results))
		for _, r := range c.results {
			if r.err == nil {
				secs = append(secs, r.sum.TrainSeconds)
			}
		}
		steps := c.stepSeconds()
		med := bench.Median(steps)
		spread := fmt.Sprintf("%s–%s", bench.FormatMillis(slices.Min(steps)), bench.FormatMillis(slices.Max(steps)))
		ratio := "1 (reference)"
		parity := "–"
		if ref != c {
			ratio = bench.FormatRatio(med / bench.Median(ref.stepSeconds()))
			if refOK := ref.firstOK(); refOK != nil {
				if c.w.fullBatch {
					d, at := bench.MaxRelDiff(ok.losses, refOK.losses)
					parity = fmt.Sprintf("%.2g (step %d of %d)", d, at, min(len(ok.losses), len(refOK.losses)))
				} else {
					parity = "n/a: own shuffles"
				}
			}
		}
		row = append(row, fmt.Sprintf("%d/%d", len(steps), len(c.results)), bench.FormatSeconds(bench.Median(secs)),
			bench.FormatMillis(med), spread, ratio, strconv.FormatFloat(ok.sum.FinalLoss, 'g', 4, 64), parity)
		rows = append(rows, row)
	}
	var b strings.Builder
	b.WriteString(bench.Table(header, rows))
	b.WriteString("\n")
	for _, name := range names {
		v := full
		if quick {
			v = short
		}
		w := spec(name, v)
		fmt.Fprintf(&b, "- %s: %s (`%s`)\n", name, w.size, strings.Join(w.args, " "))
	}
	if m.vulkanCPU && !vulkanFull && slices.Contains(backends, "vulkan") {
		fmt.Fprintf(&b, "- vulkan rows: on a CPU driver one run of a few steps (%d, %d and %d: same shapes), which checks that the backend trains and matches PyTorch's losses — not GPU speed; the first step's one-time costs weigh more in so few steps.\n",
			spec("normative", cpuVulkan).steps, spec("decode", cpuVulkan).steps, spec("encode", cpuVulkan).steps)
	}
	b.WriteString("- train s: wall time of the training loop alone as each program reports it (data loading, model building and process start excluded); vs PyTorch: ratio of median per-step times, above 1 means vkneuro is slower.\n")
	if h.torchCUDA {
		gpu := "unknown (no run succeeded)"
		for _, k := range order {
			if c := cells[k]; c.r == pytorchCUDA && c.firstOK() != nil && c.firstOK().sum.Device != "" {
				gpu = c.firstOK().sum.Device
				break
			}
		}
		fmt.Fprintf(&b, "- with PyTorch on CUDA (%s): the vulkan rows are compared with pytorch cuda (GPU against GPU), the cpu rows with pytorch cpu.\n", gpu)
	}
	b.WriteString("- loss diff: largest relative difference of the per-step training loss from PyTorch's over the steps both ran (full-batch workloads are deterministic; normative shuffles with each framework's own generator).\n")
	if len(errLines) > 0 {
		b.WriteString("\nFailed runs:\n\n" + strings.Join(errLines, "\n") + "\n")
	}
	return b.String(), failed, nil
}

// scaling times a few steps of decode and encode over neuron counts and
// of normative over batch sizes.
func (h *harness) scaling(names, backends []string, repeats int, m machine, vulkanFull bool) (string, int, error) {
	runners := h.runners(backends)
	type point struct {
		w     workload
		small bool // cheap enough for a CPU Vulkan driver
	}
	var points []point
	for _, name := range names {
		switch name {
		case "normative":
			for _, b := range []int{10, 50, 100, 250, 1000} {
				epochs := max(1, (10*b+normGratings-1)/normGratings)
				points = append(points, point{normative(normGratings, b, epochs), b <= 50})
			}
		case "decode":
			for _, n := range []int{1000, 3000, 10000, 30000, 100000} {
				points = append(points, point{decode(decodeStim, n, 20), n <= 3000})
			}
		case "encode":
			for _, n := range []int{1000, 3000, 10000, 30000, 100000} {
				points = append(points, point{encode(encodeStim, n, 5), n <= 3000})
			}
		}
	}
	header := []string{"workload", "size"}
	for _, r := range runners {
		header = append(header, r.String()+" ms/step")
		if h.reference(r) != r {
			header = append(header, "vs "+h.reference(r).String())
		}
	}
	var rows [][]string
	var failed int
	var errLines []string
	for i, p := range points {
		tag := fmt.Sprintf("%s-%d", p.w.name, i)
		dir, err := h.generate(p.w, tag)
		if err != nil {
			return "", 0, err
		}
		cells := make([]*cell, len(runners))
		for j, r := range runners {
			cells[j] = &cell{w: p.w, r: r}
		}
		for rep := 0; rep < repeats; rep++ {
			for j, r := range runners {
				if r.backend == "vulkan" && m.vulkanCPU && !vulkanFull && (!p.small || rep > 0) {
					continue
				}
				cells[j].results = append(cells[j].results, h.train(r, p.w, dir, fmt.Sprintf("%s-%s-%s-rep%d", tag, r.framework, r.backend, rep+1)))
			}
		}
		os.RemoveAll(dir) // the 100k-neuron inputs are large
		row := []string{p.w.name, p.w.size}
		refMed := map[runner]float64{}
		for j, r := range runners {
			refMed[r] = bench.Median(cells[j].stepSeconds())
		}
		for j, r := range runners {
			c := cells[j]
			for _, e := range c.errs() {
				failed++
				errLines = append(errLines, "- "+e.Error())
			}
			med := bench.Median(c.stepSeconds())
			switch {
			case len(c.results) == 0:
				row = append(row, "skipped")
			case math.IsNaN(med):
				row = append(row, "failed")
			default:
				row = append(row, bench.FormatMillis(med))
			}
			if ref := h.reference(r); ref != r {
				row = append(row, bench.FormatRatio(med/refMed[ref]))
			}
		}
		rows = append(rows, row)
	}
	var b strings.Builder
	b.WriteString(bench.Table(header, rows))
	fmt.Fprintf(&b, "\n- median of %d run(s) per point; ms/step = training-loop seconds / steps; vs PyTorch above 1 means vkneuro is slower.\n", repeats)
	b.WriteString("- few steps per point: each program's first step (PyTorch's first autograd pass and allocations, vkneuro's Program recording) is in the mean, so the smallest sizes overstate the per-step time of both.\n")
	if m.vulkanCPU && !vulkanFull && slices.Contains(backends, "vulkan") {
		b.WriteString("- vulkan on a CPU driver: only the small sizes, one run; correctness, not GPU speed.\n")
	}
	if len(errLines) > 0 {
		b.WriteString("\nFailed runs:\n\n" + strings.Join(errLines, "\n") + "\n")
	}
	return b.String(), failed, nil
}
