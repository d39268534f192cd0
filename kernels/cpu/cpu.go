package cpu

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/vkneuro/vkneuro/kernels"
)

// Backend is the CPU backend. Its methods are safe for concurrent use;
// a Program must not be run from two goroutines at once.
type Backend struct {
	threads int

	mu       sync.Mutex
	closed   bool
	tasks    chan task // work for the pool goroutines; nil with one thread
	profile  atomic.Bool
	profiled []*Program // recorded while profiling (Profiled)
}

// Option configures New.
type Option func(*Backend)

// Threads sets how many goroutines an op may use (default runtime.GOMAXPROCS(0)).
func Threads(n int) Option {
	return func(b *Backend) {
		if n > 0 {
			b.threads = n
		}
	}
}

// New returns a CPU backend. Close it to stop its worker goroutines.
func New(opts ...Option) *Backend {
	b := &Backend{threads: runtime.GOMAXPROCS(0)}
	for _, o := range opts {
		o(b)
	}
	if b.threads > 1 {
		b.tasks = make(chan task, 4*b.threads)
		for i := 0; i < b.threads-1; i++ {
			go worker(b.tasks)
		}
	}
	return b
}

// Name returns "cpu".
func (b *Backend) Name() string { return "cpu" }

// Device describes the processor and thread count.
func (b *Backend) Device() string {
	return fmt.Sprintf("%s/%s, %d threads, %s loops", runtime.GOOS, runtime.GOARCH, b.threads, simdKind)
}

// Threads is the number of goroutines an op may use.
func (b *Backend) Threads() int { return b.threads }

var errClosed = errors.New("cpu: backend is closed")

// NewTensor allocates a zero-filled tensor; every dimension must be positive.
func (b *Backend) NewTensor(shape ...int) (*kernels.Tensor, error) {
	if b.isClosed() {
		return nil, errClosed
	}
	for _, d := range shape {
		if d <= 0 {
			return nil, fmt.Errorf("cpu: NewTensor: shape %v: every dimension must be positive", shape)
		}
	}
	return &kernels.Tensor{Shape: append([]int(nil), shape...), Storage: &buffer{make([]float32, kernels.Numel(shape))}}, nil
}

// buffer is what kernels.Tensor.Storage holds on this backend. A tensor
// and its Reshape views hold the same *buffer, so Free, which drops
// data, is seen by all of them.
type buffer struct{ data []float32 }

// Upload copies src into t.
func (b *Backend) Upload(t *kernels.Tensor, src []float32) error {
	d, err := data("Upload", "t", t)
	if err != nil {
		return err
	}
	if len(src) != len(d) {
		return fmt.Errorf("cpu: Upload: %d values for tensor %s of %d elements", len(src), t, len(d))
	}
	copy(d, src)
	return nil
}

// Download copies t into dst.
func (b *Backend) Download(t *kernels.Tensor, dst []float32) error {
	d, err := data("Download", "t", t)
	if err != nil {
		return err
	}
	if len(dst) != len(d) {
		return fmt.Errorf("cpu: Download: %d values for tensor %s of %d elements", len(dst), t, len(d))
	}
	copy(dst, d)
	return nil
}

// Free drops the storage of t and of every tensor that shares it; the
// garbage collector reclaims it once no recorded Program holds it.
func (b *Backend) Free(t *kernels.Tensor) {
	if t == nil {
		return
	}
	if s, ok := t.Storage.(*buffer); ok && s != nil {
		s.data = nil
	}
}

// NewProgram starts recording an empty Program.
func (b *Backend) NewProgram() kernels.Program {
	p := &Program{b: b}
	if b.profile.Load() {
		p.prof = &profiling{writes: OpStat{Name: "Write"}, reads: OpStat{Name: "Read"}}
		b.mu.Lock()
		b.profiled = append(b.profiled, p)
		b.mu.Unlock()
	}
	if b.isClosed() {
		p.err = errClosed
	}
	return p
}

// Close stops the worker goroutines. Programs of a closed backend fail to
// run; Close must not be called while one is running.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		if b.tasks != nil {
			close(b.tasks)
		}
	}
	return nil
}

func (b *Backend) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// data returns the float32 slice behind t.
func data(op, name string, t *kernels.Tensor) ([]float32, error) {
	if t == nil {
		return nil, fmt.Errorf("cpu: %s: %s is nil", op, name)
	}
	s, ok := t.Storage.(*buffer)
	if !ok || s == nil {
		return nil, fmt.Errorf("cpu: %s: %s %s is not a CPU tensor (storage %T)", op, name, t, t.Storage)
	}
	d := s.data
	if d == nil {
		return nil, kernels.FreedError("cpu", op, name, t)
	}
	if len(d) != t.Len() {
		return nil, fmt.Errorf("cpu: %s: %s %s has %d elements of storage, want %d", op, name, t, len(d), t.Len())
	}
	return d, nil
}

// Program is a list of closures, each checked when its op was recorded.
type Program struct {
	b      *Backend
	ops    []func() error
	writes []hostCopy
	reads  []hostCopy
	err    error
	closed bool
	wg     sync.WaitGroup // reused by every parallel op of this Program
	prof   *profiling     // nil unless recorded while Backend.ProfileOps was on
}

// Err is the first recording error, or nil.
func (p *Program) Err() error { return p.err }

// Run executes the recorded ops in order.
func (p *Program) Run() error {
	if p.err != nil {
		return p.err
	}
	if p.closed {
		return errors.New("cpu: Run: program is closed")
	}
	if p.b.isClosed() {
		return errClosed
	}
	if p.prof != nil {
		return p.runProfiled()
	}
	for _, w := range p.writes {
		copy(w.dst, w.src)
	}
	for _, op := range p.ops {
		if err := op(); err != nil {
			return err
		}
	}
	for _, r := range p.reads {
		copy(r.dst, r.src)
	}
	return nil
}

// runProfiled is Run with every op timed (ProfileOps).
func (p *Program) runProfiled() error {
	copies(&p.prof.writes, p.writes)
	for i, op := range p.ops {
		if err := p.prof.timed(i, op); err != nil {
			return err
		}
	}
	copies(&p.prof.reads, p.reads)
	return nil
}

// hostCopy is one Program.Read or Program.Write.
type hostCopy struct{ dst, src []float32 }

// Write makes every later Run begin by copying src into t.
func (p *Program) Write(t *kernels.Tensor, src []float32) {
	if !p.ok(kernels.HostLen("Write", "src", src, t)) {
		return
	}
	if len(p.ops) > 0 {
		p.fail(kernels.WriteFirst("cpu"))
		return
	}
	s, ok := p.slices("Write", []string{"t"}, t)
	if !ok {
		return
	}
	p.writes = append(p.writes, hostCopy{s[0], src})
	if p.prof != nil {
		p.prof.writes.Operands = append(p.prof.writes.Operands, Operand{Role: "t", Shape: append([]int(nil), t.Shape...)})
	}
}

// Read makes every later Run end by copying t into dst.
func (p *Program) Read(dst []float32, t *kernels.Tensor) {
	if !p.ok(kernels.HostLen("Read", "dst", dst, t)) {
		return
	}
	s, ok := p.slices("Read", []string{"t"}, t)
	if !ok {
		return
	}
	p.reads = append(p.reads, hostCopy{dst, s[0]})
	if p.prof != nil {
		p.prof.reads.Operands = append(p.prof.reads.Operands, Operand{Role: "t", Shape: append([]int(nil), t.Shape...)})
	}
}

// Close releases the recorded closures and scratch buffers.
func (p *Program) Close() error {
	p.closed = true
	p.ops = nil
	p.writes, p.reads = nil, nil
	return nil
}

// fail records the first error; later ops are ignored.
func (p *Program) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// add appends op unless the Program is already in its error state.
func (p *Program) add(op func() error) {
	if p.err == nil && !p.closed {
		p.ops = append(p.ops, op)
		if p.prof != nil {
			p.prof.recorded()
		}
	}
}

// ok reports whether recording can go on; it records err if non-nil.
func (p *Program) ok(err error) bool {
	if p.err != nil {
		return false
	}
	if p.closed {
		p.err = errors.New("cpu: program is closed")
		return false
	}
	if err != nil {
		p.err = err
		return false
	}
	return true
}

// slices fetches the storage of the named tensors, recording the first error.
func (p *Program) slices(op string, names []string, ts ...*kernels.Tensor) ([][]float32, bool) {
	out := make([][]float32, len(ts))
	for i, t := range ts {
		d, err := data(op, names[i], t)
		if err != nil {
			p.fail(err)
			return nil, false
		}
		out[i] = d
	}
	if p.prof != nil && op != "Write" && op != "Read" {
		shapes := make([][]int, len(ts))
		for i, t := range ts {
			shapes[i] = t.Shape
		}
		p.prof.noteOperands(op, names, shapes)
	}
	return out, true
}

// addParallel records an op that runs body over [0, n) with parallel.
// body is made at record time so that running it allocates nothing.
func (p *Program) addParallel(n, grain int, body func(part, lo, hi int)) {
	p.add(func() error {
		p.parallel(n, grain, body)
		return nil
	})
}

// task is one chunk of a parallel loop.
type task struct {
	body   func(part, lo, hi int)
	part   int
	lo, hi int
	wg     *sync.WaitGroup
}

func worker(tasks <-chan task) {
	for t := range tasks {
		t.body(t.part, t.lo, t.hi)
		t.wg.Done()
	}
}

// parts is how many chunks parallel splits n items into when each chunk
// should hold at least grain items.
func (p *Program) parts(n, grain int) int {
	if grain < 1 {
		grain = 1
	}
	k := min(p.b.threads, (n+grain-1)/grain)
	return max(k, 1)
}

// parallel runs body over [0, n) split into p.parts(n, grain) contiguous
// chunks, numbered 0.., and waits. It does not allocate.
func (p *Program) parallel(n, grain int, body func(part, lo, hi int)) {
	k := p.parts(n, grain)
	if k == 1 || p.b.tasks == nil {
		body(0, 0, n)
		return
	}
	p.wg.Add(k - 1)
	for i := 1; i < k; i++ {
		p.b.tasks <- task{body: body, part: i, lo: i * n / k, hi: (i + 1) * n / k, wg: &p.wg}
	}
	body(0, 0, n/k)
	p.wg.Wait()
}

// sumParts sets dst[i] to the sum over k < parts of acc[k*stride+off+i]:
// it adds up the per-goroutine float64 partials, one part of stride values
// after another, in part order so that the result does not depend on timing.
func sumParts(dst []float32, acc []float64, parts, stride, off int) {
	for i := range dst {
		var v float64
		for k := 0; k < parts; k++ {
			v += acc[k*stride+off+i]
		}
		dst[i] = float32(v)
	}
}
