package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vkneuro/vkneuro/bench"
)

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
