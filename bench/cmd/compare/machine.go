package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vkneuro/vkneuro/bench"
	"github.com/vkneuro/vkneuro/engine"
)

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
	info := exec.Command(h.python, "-c", torchInfo)
	info.Env = append(os.Environ(), h.torchEnv...) // the BLAS the runs load
	if out, err := info.Output(); err == nil {
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
// magnitude slower than OpenBLAS on decode's GEMMs (bench/RESULTS.md,
// the comparison of 2026-12-01 03:21), so the table must say which one
// PyTorch had.
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
	if slices.Contains(h.torchEnv, keepHeap[0]) {
		fmt.Fprintf(&b, "- PyTorch's environment adds %s: glibc keeps freed memory, so PyTorch's per-step temporaries are not page-faulted in again every step (see keepHeap in bench/cmd/compare)\n", strings.Join(keepHeap, " "))
	} else {
		b.WriteString("- PyTorch ran with glibc's default malloc settings (--torch-default-malloc)\n")
	}
	for _, e := range h.torchEnv {
		if strings.HasPrefix(e, "LD_LIBRARY_PATH=") {
			fmt.Fprintf(&b, "- PyTorch's library path starts with %s: the OpenMP build of OpenBLAS, not the pthread one the alternatives system may prefer (see openBLASOpenMP)\n", strings.TrimPrefix(e, "LD_LIBRARY_PATH="))
		}
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
