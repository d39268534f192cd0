package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/vkneuro/vkneuro/bench"
	"github.com/vkneuro/vkneuro/tasks"
)

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
// every step page-faults them in again. That made a PyTorch encode step
// several times slower on this project's VMs (bench/RESULTS.md, the
// comparison of 2026-12-01 03:21), which would compare vkneuro with a
// misconfigured PyTorch rather than with PyTorch.
var keepHeap = []string{"MALLOC_MMAP_MAX_=0", "MALLOC_TRIM_THRESHOLD_=68719476736", "MALLOC_TOP_PAD_=536870912"}

// openBLASOpenMP is where Debian's libopenblas0-openmp puts its BLAS.
// With libopenblas0-pthread installed too, the alternatives system
// prefers the pthread build (priority 100 to 95), whose threads compete
// with PyTorch's OpenMP ones on two cores: decode's step took 24.9 ms
// there against 8–9 on the OpenMP build (bench/RESULTS.md, 2026-12-01
// 22:38). The harness puts this directory first on PyTorch's library
// path when it exists, so PyTorch runs on its best BLAS here whatever
// else is installed.
const openBLASOpenMP = "/usr/lib/x86_64-linux-gnu/openblas-openmp"

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
	losses, err := tasks.ReadLosses(metrics)
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
