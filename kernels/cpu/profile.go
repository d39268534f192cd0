package cpu

import "time"

// Per-op profiles, for the roofline of a training step (bench/roofline):
// a Program recorded while profiling is on keeps, for each op, its name,
// its operands' roles and shapes and the wall time spent in it over all
// Runs. Recording learns the operands from slices, which every op calls
// with its name and tensors before add; Run times each closure. Off (the
// default), the only cost is one flag test per recorded op.

// OpStat is one op of a profiled Program.
type OpStat struct {
	Name     string    // the op, e.g. "MatMul"; "Write" and "Read" for the host copies
	Operands []Operand // in the order the op names them
	Time     time.Duration
	Runs     int
}

// Operand is one tensor an op reads or writes: its role in the op's doc
// ("c", "a", "grad", ...) and its shape.
type Operand struct {
	Role  string
	Shape []int
}

// ProfileOps makes Programs recorded after it keep per-op statistics
// (Program.OpStats, Backend.Profiled). Profiled Programs pay two clock
// reads per op.
func (b *Backend) ProfileOps(on bool) { b.profile.Store(on) }

// Profiled returns the Programs recorded while ProfileOps was on and not
// yet closed, in the order they were made: how a caller that does not
// hold the Program (a model's step) reaches its statistics.
func (b *Backend) Profiled() []*Program {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []*Program
	for _, p := range b.profiled {
		if !p.closed {
			out = append(out, p)
		}
	}
	return out
}

// profiling is the state a profiled Program records with.
type profiling struct {
	stats   []OpStat
	pending OpStat // the operands slices saw since the last add
	// copies are the host copies' entries, timed as one each way.
	writes, reads OpStat
}

// OpStats returns the per-op statistics of a Program recorded while
// ProfileOps was on, in recording order, with the Writes first and the
// Reads last (nil for a Program recorded without profiling).
func (p *Program) OpStats() []OpStat {
	if p.prof == nil {
		return nil
	}
	var out []OpStat
	if len(p.prof.writes.Operands) > 0 {
		out = append(out, p.prof.writes)
	}
	out = append(out, p.prof.stats...)
	if len(p.prof.reads.Operands) > 0 {
		out = append(out, p.prof.reads)
	}
	return out
}

// noteOperands remembers the tensors an op is about to be recorded with.
func (pr *profiling) noteOperands(op string, names []string, shapes [][]int) {
	if pr.pending.Name != op {
		pr.pending = OpStat{Name: op}
	}
	for i, s := range shapes {
		pr.pending.Operands = append(pr.pending.Operands, Operand{Role: names[i], Shape: append([]int(nil), s...)})
	}
}

// recorded closes the entry of the op just added.
func (pr *profiling) recorded() {
	pr.stats = append(pr.stats, pr.pending)
	pr.pending = OpStat{}
}

// timed runs op and adds its wall time to stats[i].
func (pr *profiling) timed(i int, op func() error) error {
	start := time.Now()
	err := op()
	pr.stats[i].Time += time.Since(start)
	pr.stats[i].Runs++
	return err
}

// copies times the host copies of one Run in one direction.
func copies(st *OpStat, cs []hostCopy) {
	start := time.Now()
	for _, c := range cs {
		copy(c.dst, c.src)
	}
	st.Time += time.Since(start)
	st.Runs++
}
