package engine_test

import (
	"errors"
	"math"
	"testing"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/engine/enginetest"
	"github.com/vkneuro/vkneuro/shaders"
)

const localSize = 64

func kernel(t testing.TB, m *engine.Manager, name string, bindings, push int, spec ...uint32) *engine.Kernel {
	t.Helper()
	code, err := shaders.SPIRV(name)
	if err != nil {
		t.Fatal(err)
	}
	if len(spec) == 0 {
		spec = []uint32{localSize, 1, 1}
	}
	k, err := m.Kernel(name, code, bindings, push, spec...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustSPIRV(name string) []byte {
	code, err := shaders.SPIRV(name)
	if err != nil {
		panic(err) // the embedded shaders are part of the build
	}
	return code
}

func groups(n int) uint32 { return uint32((n + localSize - 1) / localSize) }

func newBuf(t testing.TB, m *engine.Manager, data []float32) *engine.Buffer {
	t.Helper()
	b, err := m.NewBuffer(len(data))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Free)
	if err := m.Upload(b, data, 0); err != nil {
		t.Fatal(err)
	}
	return b
}

func download(t testing.TB, m *engine.Manager, b *engine.Buffer) []float32 {
	t.Helper()
	out := make([]float32, b.Len())
	if err := m.Download(b, out, 0); err != nil {
		t.Fatal(err)
	}
	return out
}

func newSeq(t testing.TB, m *engine.Manager) *engine.Sequence {
	t.Helper()
	s, err := m.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestAxpyChain records 150 dependent dispatches in one command buffer:
// each reads the previous result, so a missing barrier shows up as a wrong
// sum. y_k = y_{k-1} + a_k x with x = i, a_k = 1 + k%3, so
// y = y0 + x·Σa_k exactly (all values are small integers, exact in float32).
func TestAxpyChain(t *testing.T) {
	m := enginetest.Open(t)
	const n, steps = 1000, 150
	x := make([]float32, n)
	y0 := make([]float32, n)
	for i := range x {
		x[i] = float32(i % 17)
		y0[i] = float32(i % 5)
	}
	xb, yb := newBuf(t, m, x), newBuf(t, m, y0)
	k := kernel(t, m, "axpy", 2, 2)
	s := newSeq(t, m)
	sumA := 0
	for step := 0; step < steps; step++ {
		a := 1 + step%3
		sumA += a
		if err := s.Dispatch(k, []*engine.Buffer{xb, yb}, []uint32{n, math.Float32bits(float32(a))}, groups(n), 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	submits := m.Submits()
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if got := m.Submits() - submits; got != 1 {
		t.Errorf("Run made %d submits, want 1", got)
	}
	got := download(t, m, yb)
	for i := range got {
		if want := y0[i] + x[i]*float32(sumA); got[i] != want {
			t.Fatalf("y[%d] = %v, want %v", i, got[i], want)
		}
	}
	// Running again applies the chain again on the current y.
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	got = download(t, m, yb)
	for i := range got {
		if want := y0[i] + 2*x[i]*float32(sumA); got[i] != want {
			t.Fatalf("second Run: y[%d] = %v, want %v", i, got[i], want)
		}
	}
	if err := s.Dispatch(k, []*engine.Buffer{xb, yb}, []uint32{n, 0}, 1, 1, 1); err == nil {
		t.Error("Dispatch after Run: no error")
	}
}

// TestFillCopy mixes transfer and compute commands, which need barriers
// across both stages.
func TestFillCopy(t *testing.T) {
	m := enginetest.Open(t)
	const n = 1000003
	a, b := newBuf(t, m, make([]float32, n)), newBuf(t, m, make([]float32, n))
	fill := kernel(t, m, "fill", 1, 2)
	axpy := kernel(t, m, "axpy", 2, 2)
	s := newSeq(t, m)
	steps := []error{
		s.Fill(a, 1.5),    // a = 1.5
		s.Copy(b, a, n-1), // b = 1.5 except the last = 0
		s.Dispatch(fill, []*engine.Buffer{a}, []uint32{n, math.Float32bits(-2)}, groups(n), 1, 1),     // a = -2
		s.Dispatch(axpy, []*engine.Buffer{a, b}, []uint32{n, math.Float32bits(0.5)}, groups(n), 1, 1), // b += -1
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
	}
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	got := download(t, m, b)
	for i, v := range got {
		want := float32(0.5)
		if i == n-1 {
			want = -1
		}
		if v != want {
			t.Fatalf("b[%d] = %v, want %v", i, v, want)
		}
	}
	ga := download(t, m, a)
	if ga[0] != -2 || ga[n-1] != -2 {
		t.Fatalf("a = %v…%v, want -2", ga[0], ga[n-1])
	}
}

// TestReduceSum sums odd sizes in two passes. The inputs are small
// integers whose sums stay below 2^24, so every partial sum is exact in
// float32 whatever the order: compare exactly.
func TestReduceSum(t *testing.T) {
	m := enginetest.Open(t)
	const wgs = 32
	k := kernel(t, m, "reduce_sum", 2, 1)
	for _, n := range []int{1, 2, 63, 64, 65, 1000, 4097, 1000003} {
		x := make([]float32, n)
		var want float64
		for i := range x {
			x[i] = float32(i%7) - 2
			want += float64(x[i])
		}
		xb := newBuf(t, m, x)
		part := newBuf(t, m, make([]float32, wgs))
		out := newBuf(t, m, make([]float32, 1))
		s := newSeq(t, m)
		if err := s.Dispatch(k, []*engine.Buffer{xb, part}, []uint32{uint32(n)}, wgs, 1, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.Dispatch(k, []*engine.Buffer{part, out}, []uint32{wgs}, 1, 1, 1); err != nil {
			t.Fatal(err)
		}
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		if got := download(t, m, out)[0]; float64(got) != want {
			t.Errorf("n=%d: sum = %v, want %v", n, got, want)
		}
	}
}

func TestKernelCache(t *testing.T) {
	m := enginetest.Open(t)
	k1 := kernel(t, m, "axpy", 2, 2, 64, 1, 1)
	k2 := kernel(t, m, "axpy", 2, 2, 64, 1, 1)
	k3 := kernel(t, m, "axpy", 2, 2, 128, 1, 1)
	if k1 != k2 {
		t.Error("same name and spec constants gave two kernels")
	}
	if k1 == k3 {
		t.Error("different spec constants gave the same kernel")
	}
	code, _ := shaders.SPIRV("axpy")
	if _, err := m.Kernel("axpy", code, 3, 2, 64, 1, 1); err == nil {
		t.Error("cached kernel asked with other bindings: no error")
	}
	if _, err := m.Kernel("junk", []byte{1, 2, 3, 4}, 1, 0); err == nil {
		t.Error("non-SPIR-V code: no error")
	}
	if _, err := m.Kernel("axpy2", code, 2, 33); err == nil {
		t.Error("33 push words: no error")
	}
	if _, err := m.Kernel("axpy3", code, 2, 2, 4096, 1, 1); err == nil {
		t.Error("work group of 4096: no error")
	}
	if _, err := shaders.SPIRV("no_such_kernel"); err == nil {
		t.Error("missing shader name: no error")
	}
}

func TestDispatchErrors(t *testing.T) {
	m := enginetest.Open(t)
	k := kernel(t, m, "axpy", 2, 2)
	a := newBuf(t, m, make([]float32, 10))
	s := newSeq(t, m)
	push := []uint32{10, 0}
	cases := map[string]error{
		"one buffer":      s.Dispatch(k, []*engine.Buffer{a}, push, 1, 1, 1),
		"one push word":   s.Dispatch(k, []*engine.Buffer{a, a}, push[:1], 1, 1, 1),
		"nil buffer":      s.Dispatch(k, []*engine.Buffer{a, nil}, push, 1, 1, 1),
		"zero groups":     s.Dispatch(k, []*engine.Buffer{a, a}, push, 0, 1, 1),
		"too many groups": s.Dispatch(k, []*engine.Buffer{a, a}, push, m.Info().MaxWorkGroupCount[0]+1, 1, 1),
		"nil kernel":      s.Dispatch(nil, nil, nil, 1, 1, 1),
		"copy to itself":  s.Copy(a, a, 1),
		"copy too long":   s.Copy(a, newBuf(t, m, make([]float32, 5)), 6),
	}
	for name, err := range cases {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if s.Len() != 0 {
		t.Errorf("failed commands were recorded: Len = %d", s.Len())
	}
	freed := newBuf(t, m, make([]float32, 10))
	if err := s.Fill(freed, 1); err != nil {
		t.Fatal(err)
	}
	freed.Free()
	if err := s.Run(); err == nil {
		t.Error("Run with a freed buffer: no error")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Run(); !errors.Is(err, engine.ErrClosed) {
		t.Errorf("Run after Close = %v, want ErrClosed", err)
	}
}

func TestTimestamps(t *testing.T) {
	m := enginetest.Open(t)
	if !m.Info().Timestamps {
		t.Skipf("%s has no compute-queue timestamps", m.Info().Name)
	}
	const n = 100000
	x, y := newBuf(t, m, make([]float32, n)), newBuf(t, m, make([]float32, n))
	k := kernel(t, m, "axpy", 2, 2)
	s := newSeq(t, m)
	if err := s.EnableTimestamps(); err != nil {
		t.Fatal(err)
	}
	if err := s.Fill(x, 1); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		if err := s.Dispatch(k, []*engine.Buffer{x, y}, []uint32{n, math.Float32bits(2)}, groups(n), 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Copy(x, y, n); err != nil {
		t.Fatal(err)
	}
	if s.Times() != nil {
		t.Error("Times before Run is not nil")
	}
	for run := 0; run < 2; run++ {
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		times := s.Times()
		if len(times) != s.Len() {
			t.Fatalf("run %d: %d times for %d commands", run, len(times), s.Len())
		}
		var total float64
		for i, d := range times {
			if d < 0 {
				t.Errorf("run %d: command %d took %v", run, i, d)
			}
			total += d.Seconds()
		}
		// Six passes over 100k floats cannot take zero time on any device
		// whose timestamps tick: a zero total means the queries were not
		// written or read.
		if total <= 0 {
			t.Errorf("run %d: all durations zero: %v", run, times)
		}
	}
	// Each run sets x = 1 and adds 2x to y five times: y = 10 after the
	// first run, 20 after the second.
	if got := download(t, m, y); got[0] != 20 || got[n-1] != 20 {
		t.Errorf("y = %v…%v, want 20", got[0], got[n-1])
	}

	plain := newSeq(t, m)
	if err := plain.Fill(x, 0); err != nil {
		t.Fatal(err)
	}
	if err := plain.Run(); err != nil {
		t.Fatal(err)
	}
	if plain.Times() != nil {
		t.Error("Times without EnableTimestamps is not nil")
	}
	if err := plain.EnableTimestamps(); err == nil {
		t.Error("EnableTimestamps after Run: no error")
	}
}

// TestManySequences checks that descriptor pools grow when full and that
// the sets of closed sequences are reused.
func TestManySequences(t *testing.T) {
	m := enginetest.Open(t)
	const n, perSeq = 16, 300
	x, y := newBuf(t, m, make([]float32, n)), newBuf(t, m, make([]float32, n))
	if err := m.Upload(x, []float32{1}, 0); err != nil {
		t.Fatal(err)
	}
	k := kernel(t, m, "axpy", 2, 2)
	var total float32
	round := func() []*engine.Sequence {
		var seqs []*engine.Sequence
		for i := 0; i < 4; i++ {
			s := newSeq(t, m)
			for j := 0; j < perSeq; j++ {
				if err := s.Dispatch(k, []*engine.Buffer{x, y}, []uint32{n, math.Float32bits(1)}, 1, 1, 1); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Run(); err != nil {
				t.Fatal(err)
			}
			total += perSeq
			seqs = append(seqs, s)
		}
		return seqs
	}
	seqs := round()
	pools := m.Stats().DescriptorPools
	if pools < 2 {
		t.Errorf("%d live descriptor sets in %d pool(s) of at most 1024 sets", 4*perSeq, pools)
	}
	for _, s := range seqs {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	round()
	if p := m.Stats().DescriptorPools; p != pools {
		t.Errorf("descriptor pools grew from %d to %d although freed sets were available", pools, p)
	}
	if got := download(t, m, y)[0]; got != total {
		t.Errorf("y[0] = %v, want %v", got, total)
	}
}
