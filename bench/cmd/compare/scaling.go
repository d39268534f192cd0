package main

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/vkneuro/vkneuro/bench"
)

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
				epochs := max(1, (10*b+bench.NormativeGratings-1)/bench.NormativeGratings)
				points = append(points, point{normative(bench.NormativeGratings, b, epochs), b <= 50})
			}
		case "decode":
			for _, n := range []int{1000, 3000, 10000, 30000, 100000} {
				points = append(points, point{decode(bench.DecodeStimuli, n, 20), n <= 3000})
			}
		case "encode":
			for _, n := range []int{1000, 3000, 10000, 30000, 100000} {
				points = append(points, point{encode(bench.EncodeStimuli, n, 5), n <= 3000})
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
