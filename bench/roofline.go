package bench

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
)

// The roofline of a training step: for every op a profiled CPU Program
// ran (cpu.Backend.ProfileOps), the work it does (nominal FLOPs) and the
// bytes it must move as a pass of its own (each operand read or written
// once, operands updated in place twice), the time the machine's
// ceilings allow for that (the larger of FLOPs at the FP32 peak and
// bytes at the streaming bandwidth of a working set that size), the time
// measured, and the share of the floor reached.

// RooflineRow is one op of a step.
type RooflineRow struct {
	Op       string
	Operands string  // roles and shapes, e.g. "c[216 20] a[216 23589] b[20 23589]"
	Flops    float64 // per step
	Bytes    float64 // per step
	Floor    float64 // seconds per step
	Bound    string  // "compute" or "memory": which ceiling sets Floor
	Measured float64 // seconds per step
}

// Ceilings are the machine's measured limits.
type Ceilings struct {
	GFLOPS float64 // FP32 FMA peak of the widest vector width, all threads
	// Bandwidth is the streaming rate in GB/s (read and written bytes
	// together) for a working set of the given size.
	Bandwidth func(bytes float64) float64
}

// BandwidthCurve returns the Ceilings.Bandwidth of a measured set: the
// rate of the smallest measured working set at least as large as the
// one asked for (the largest set's beyond), using the copy pattern
// (reads and writes in equal parts, as most ops).
func BandwidthCurve(ms []cpu.Bandwidth) func(bytes float64) float64 {
	ms = append([]cpu.Bandwidth(nil), ms...)
	sort.Slice(ms, func(i, j int) bool { return ms[i].Bytes < ms[j].Bytes })
	return func(bytes float64) float64 {
		for _, m := range ms {
			if float64(m.Bytes) >= bytes {
				return m.Copy
			}
		}
		return ms[len(ms)-1].Copy
	}
}

// inPlace are the operands each op reads and writes back.
var inPlace = map[string]map[string]bool{
	"SGD": {"p": true, "buf": true}, "Adam": {"p": true, "m": true, "v": true},
	"Update":             {"p": true, "buf": true, "buf2": true, "loss": true},
	"LinearWeightUpdate": {"w": true, "buf": true, "buf2": true, "loss": true},
	"L1PenaltyGrad":      {"dw": true}, "L2PenaltyGrad": {"dw": true}, "AddBias": {"x": true},
}

// OpCost is the nominal work and compulsory traffic of one op as a pass
// of its own. FLOPs: 2 per multiply-add, about one per element for
// comparisons, selections and adds, a few for the element-wise ops with
// an exp or a log in them.
func OpCost(s cpu.OpStat) (flops, bytes float64) {
	shape := map[string][]int{}
	for _, o := range s.Operands {
		shape[o.Role] = o.Shape
		n := float64(kernels.Numel(o.Shape)) * 4
		switch {
		case o.Role == "state":
		case inPlace[s.Name][o.Role]:
			bytes += 2 * n
		default:
			bytes += n
		}
	}
	numel := func(role string) float64 {
		if sh, ok := shape[role]; ok {
			return float64(kernels.Numel(sh))
		}
		return 0
	}
	switch s.Name {
	case "MatMul":
		m := float64(shape["c"][0])
		return 2 * numel("c") * numel("a") / m, bytes
	case "Conv2D":
		return 2 * numel("y") * numel("w") / float64(shape["w"][0]), bytes
	case "Conv2DBackwardInput":
		return 2 * numel("dy") * numel("w") / float64(shape["w"][0]), bytes
	case "Conv2DBackwardWeight":
		return 2 * numel("dy") * numel("dw") / float64(shape["dw"][0]), bytes
	case "Update":
		return 8 * numel("p"), bytes
	case "LinearWeightUpdate":
		return 2*numel("dy")*numel("x")/float64(shape["x"][0]) + 8*numel("w"), bytes
	case "Conv2DMaxPool":
		// The convolution's outputs: y's, or x's planes for each filter
		// (a "same" convolution) when y is not written.
		outs := numel("y")
		if outs == 0 {
			outs = numel("x") / float64(shape["x"][1]) * float64(shape["w"][0])
		}
		return 2*outs*numel("w")/float64(shape["w"][0]) + outs, bytes
	case "Conv2DMaxPoolBackward":
		// One patch per maximum: into dw, and into dx when written.
		f := 2 * numel("pooled") * numel("w") / float64(shape["w"][0])
		if numel("dx") > 0 {
			f *= 2
		}
		return f, bytes
	case "Write", "Read":
		return 0, 2 * bytes // a host copy reads and writes
	}
	// Element-wise ops, reductions, pools, losses, optimizers: a few
	// operations per element of their largest operand.
	var n float64
	for _, o := range s.Operands {
		n = max(n, float64(kernels.Numel(o.Shape)))
	}
	per := map[string]float64{"SGD": 5, "Adam": 12, "Sigmoid": 4, "Softmax": 4, "SoftmaxBackward": 3,
		"BCELoss": 6, "BCEBackward": 5, "MSELoss": 3, "MSEBackward": 3, "L1PenaltyGrad": 2, "L2PenaltyGrad": 2,
		"L1Penalty": 2, "L2Penalty": 2}[s.Name]
	return max(per, 1) * n, bytes
}

// Roofline turns a profiled step (stats of runs Runs) into rows.
func Roofline(stats []cpu.OpStat, c Ceilings) []RooflineRow {
	rows := make([]RooflineRow, 0, len(stats))
	for _, s := range stats {
		if s.Runs == 0 {
			continue
		}
		f, by := OpCost(s)
		r := RooflineRow{Op: s.Name, Flops: f, Bytes: by, Measured: s.Time.Seconds() / float64(s.Runs)}
		var ops []string
		for _, o := range s.Operands {
			ops = append(ops, fmt.Sprintf("%s%v", o.Role, o.Shape))
		}
		r.Operands = strings.Join(ops, " ")
		tc, tm := f/(c.GFLOPS*1e9), by/(c.Bandwidth(by)*1e9)
		r.Floor, r.Bound = tc, "compute"
		if tm > tc {
			r.Floor, r.Bound = tm, "memory"
		}
		rows = append(rows, r)
	}
	return rows
}

// RooflineTable writes rows as a markdown table with a total row.
func RooflineTable(rows []RooflineRow) string {
	var out [][]string
	var f, by, fl, ms float64
	for _, r := range rows {
		out = append(out, []string{r.Op, "`" + r.Operands + "`", fmt.Sprintf("%.4g", r.Flops/1e9), fmt.Sprintf("%.4g", r.Bytes/1e6),
			fmt.Sprintf("%.3g", r.Floor*1e3), r.Bound, fmt.Sprintf("%.3g", r.Measured*1e3), fmt.Sprintf("%.0f%%", 100*r.Floor/r.Measured)})
		f, by, fl, ms = f+r.Flops, by+r.Bytes, fl+r.Floor, ms+r.Measured
	}
	out = append(out, []string{"**step**", "", fmt.Sprintf("%.4g", f/1e9), fmt.Sprintf("%.4g", by/1e6),
		fmt.Sprintf("%.3g", fl*1e3), "", fmt.Sprintf("%.3g", ms*1e3), fmt.Sprintf("%.0f%%", 100*fl/ms)})
	return Table([]string{"op", "operands", "GFLOP", "MB moved", "floor ms", "bound", "measured ms", "of floor"}, out)
}
