package bench

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Summary is what one training run reports in its --summary JSON file
// (vkneuro train and bench/pytorch_ref.py write the same fields).
type Summary struct {
	TrainSeconds float64 // wall time of the training loop alone
	Steps        int     // optimiser steps taken
	FinalLoss    float64 // loss of the last step; NaN when absent
	Device       string  // where it ran, when the program says
}

// StepSeconds is the mean time of one optimiser step.
func (s Summary) StepSeconds() float64 {
	if s.Steps <= 0 {
		return math.NaN()
	}
	return s.TrainSeconds / float64(s.Steps)
}

// ReadSummary reads a --summary JSON file. train_seconds and steps are
// required; the final loss is taken from final_loss (or loss), the device
// from device (or device_name) when present.
func ReadSummary(path string) (Summary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Summary{}, fmt.Errorf("bench: summary: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return Summary{}, fmt.Errorf("bench: summary %s: %w", path, err)
	}
	s := Summary{FinalLoss: math.NaN()}
	secs, ok := m["train_seconds"].(float64)
	if !ok || secs < 0 || math.IsNaN(secs) {
		return Summary{}, fmt.Errorf("bench: summary %s: key %q: want a non-negative number, got %v", path, "train_seconds", m["train_seconds"])
	}
	s.TrainSeconds = secs
	steps, ok := m["steps"].(float64)
	if !ok || steps < 0 || steps != math.Trunc(steps) {
		return Summary{}, fmt.Errorf("bench: summary %s: key %q: want a non-negative integer, got %v", path, "steps", m["steps"])
	}
	s.Steps = int(steps)
	for _, k := range []string{"final_loss", "loss", "final_train_loss"} {
		if v, ok := m[k].(float64); ok {
			s.FinalLoss = v
			break
		}
	}
	for _, k := range []string{"device", "device_name"} {
		if v, ok := m[k].(string); ok && v != "" {
			s.Device = v
			break
		}
	}
	return s, nil
}

// Median of xs (mean of the two middle values for an even count); NaN
// for none. NaNs in xs are ignored.
func Median(xs []float64) float64 {
	v := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	sort.Float64s(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// MaxRelDiff is the largest |a[i]-ref[i]| / |ref[i]| over the steps both
// trajectories have, and the step (1-based) where it occurs. Reference
// values of exactly zero use the absolute difference. It is NaN when the
// trajectories share no step.
func MaxRelDiff(a, ref []float64) (float64, int) {
	n := min(len(a), len(ref))
	if n == 0 {
		return math.NaN(), 0
	}
	worst, at := 0.0, 0
	for i := 0; i < n; i++ {
		d := math.Abs(a[i] - ref[i])
		if ref[i] != 0 {
			d /= math.Abs(ref[i])
		}
		if math.IsNaN(d) {
			return math.NaN(), i + 1
		}
		if d > worst || at == 0 {
			worst, at = d, i+1
		}
	}
	return worst, at
}

// CPUInfo returns the model name and the number of logical processors
// listed in a /proc/cpuinfo-format text.
func CPUInfo(r io.Reader) (model string, processors int, err error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "processor":
			processors++
		case "model name":
			if model == "" {
				model = strings.TrimSpace(v)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", 0, fmt.Errorf("bench: cpuinfo: %w", err)
	}
	if model == "" {
		model = "unknown CPU"
	}
	return model, processors, nil
}

// VulkanDevice is one device listed by `vulkaninfo --summary`.
type VulkanDevice struct {
	Name       string // deviceName, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)"
	Type       string // deviceType without its prefix: CPU, DISCRETE_GPU, ...
	DriverInfo string // driverName and driverInfo, e.g. "llvmpipe Mesa 22.3.6 (LLVM 15.0.6)"
}

// String is e.g. "llvmpipe (LLVM 15.0.6, 256 bits) [CPU; llvmpipe Mesa 22.3.6]".
func (d VulkanDevice) String() string {
	var extra []string
	if d.Type != "" {
		extra = append(extra, d.Type)
	}
	if d.DriverInfo != "" {
		extra = append(extra, d.DriverInfo)
	}
	if len(extra) == 0 {
		return d.Name
	}
	return d.Name + " [" + strings.Join(extra, "; ") + "]"
}

// VulkanDevices parses `vulkaninfo --summary` output: each device is a
// "GPUn:" line followed by "key = value" lines.
func VulkanDevices(summary string) []VulkanDevice {
	var devs []VulkanDevice
	var cur map[string]string
	flush := func() {
		if cur != nil && cur["deviceName"] != "" {
			d := VulkanDevice{Name: cur["deviceName"], Type: strings.TrimPrefix(cur["deviceType"], "PHYSICAL_DEVICE_TYPE_")}
			d.DriverInfo = strings.TrimSpace(cur["driverName"] + " " + cur["driverInfo"])
			devs = append(devs, d)
		}
		cur = nil
	}
	for _, line := range strings.Split(summary, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "GPU") && strings.HasSuffix(t, ":") {
			if _, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(t, "GPU"), ":")); err == nil {
				flush()
				cur = map[string]string{}
				continue
			}
		}
		k, v, ok := strings.Cut(t, "=")
		if !ok || cur == nil {
			continue
		}
		cur[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	flush()
	return devs
}

// IsCPU reports whether the device is a CPU-emulated driver
// (lavapipe/llvmpipe, SwiftShader), whose timings measure correctness, not
// GPU speed.
func (d VulkanDevice) IsCPU() bool {
	if d.Type == "CPU" {
		return true
	}
	name := strings.ToLower(d.Name + " " + d.DriverInfo)
	for _, s := range []string{"llvmpipe", "lavapipe", "swiftshader"} {
		if strings.Contains(name, s) {
			return true
		}
	}
	return false
}

// AppendSection appends text to the markdown file at path (created when
// missing), keeping what is there, separated by a blank line. The file is
// replaced atomically: written to a temporary file in the same directory,
// synced, then renamed.
func AppendSection(path, text string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("bench: results: %w", err)
	}
	var b strings.Builder
	if len(old) == 0 {
		b.WriteString("# vkneuro benchmark results\n\nAppended by `go run ./bench/cmd/compare`; each section is one run of the harness. Compare numbers only within a section (same machine, same moment).\n")
	} else {
		b.Write(old)
		if !strings.HasSuffix(string(old), "\n") {
			b.WriteString("\n")
		}
	}
	b.WriteString("\n")
	b.WriteString(strings.TrimRight(text, "\n"))
	b.WriteString("\n")
	return WriteFileAtomic(path, []byte(b.String()))
}

// WriteFileAtomic writes data to a temporary file next to path, syncs it
// and renames it over path.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("bench: write %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("bench: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("bench: write %s: sync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("bench: write %s: close: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("bench: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("bench: write %s: rename: %w", path, err)
	}
	ok = true
	return nil
}

// Table renders a markdown table; every row must have len(header) cells.
func Table(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("| " + strings.Join(header, " | ") + " |\n|")
	for range header {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range rows {
		cells := make([]string, len(header))
		copy(cells, r)
		for i, c := range cells {
			cells[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	return b.String()
}

// FormatSeconds prints a duration in seconds with three significant
// digits; "–" for NaN.
func FormatSeconds(s float64) string {
	if math.IsNaN(s) {
		return "–"
	}
	return strconv.FormatFloat(s, 'g', 3, 64)
}

// FormatMillis prints seconds as milliseconds with three significant
// digits; "–" for NaN.
func FormatMillis(s float64) string {
	if math.IsNaN(s) {
		return "–"
	}
	return strconv.FormatFloat(s*1e3, 'g', 3, 64)
}

// FormatRatio prints a ratio like "2.31×"; "–" for NaN or Inf.
func FormatRatio(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "–"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "×"
}
