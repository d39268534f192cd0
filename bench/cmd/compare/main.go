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
// Workloads, with the tutorials' settings (tasks.DefaultsFor) at the
// tutorials' data sizes (bench.Neurons and the others):
//
//	normative  Tutorial 3 CNN, 1000 gratings 48×64, batches of 100, 25 epochs,
//	           SGD lr 5e-4 momentum 0.99, BCE (250 steps)
//	decode     DeepNetSoftmax 23,589→20→20, full batch of 216 stimuli, 1000 steps,
//	           SGD lr 0.1, NLL + l2 1e-2 + l1 5e-4 on in_layer.weight
//	encode     ConvFC 60 gratings 12×16 → 23,589 neurons, full batch, 200 steps,
//	           SGD lr 2 momentum 0.9, MSE + l2 5e-4 + l1 1e-6 on out_layer.weight
//
// It needs /usr/bin/python3 with torch and numpy (bench/gen_data.py writes
// the inputs, bench/pytorch_ref.py is the reference), and builds
// ./cmd/vkneuro once, whose train subcommand trains the vkneuro side. On a
// CPU Vulkan driver (lavapipe) the vulkan backend runs the quick variant
// once: those numbers check that it works, not GPU speed.
//
// The files: main.go the flags, workloads.go what is trained,
// harness.go how one run is made and read back, machine.go the header
// describing the machine, compare.go and scaling.go the two reports.
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
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/vkneuro/vkneuro/bench"
)

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
	if _, err := os.Stat(filepath.Join(openBLASOpenMP, "libblas.so.3")); err == nil {
		h.torchEnv = append(h.torchEnv, "LD_LIBRARY_PATH="+openBLASOpenMP)
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
