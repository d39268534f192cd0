package vulkan

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/shaders"
)

// Backend runs kernels.Ops as Vulkan compute shaders on one device.
// Its methods are safe for concurrent use; one Program must not be run
// from two goroutines at once.
type Backend struct {
	m   *engine.Manager
	own bool // Close closes m

	mu           sync.Mutex
	closed       bool
	timePrograms atomic.Bool
	// dummy is bound where a shader has a binding that an op does not
	// use (a convolution without bias), so every descriptor is valid.
	dummy *engine.Buffer
}

var errClosed = errors.New("vulkan: backend is closed")

var _ kernels.Backend = (*Backend)(nil)

// New returns a backend on m. The caller keeps owning m and closes it
// after the backend.
func New(m *engine.Manager) (*Backend, error) {
	if m == nil {
		return nil, errors.New("vulkan: New: nil engine.Manager")
	}
	dummy, err := m.NewBuffer(1)
	if err != nil {
		return nil, fmt.Errorf("vulkan: New: %w", err)
	}
	return &Backend{m: m, dummy: dummy}, nil
}

// Open opens a device with opts and returns a backend that owns it:
// Close closes the device too.
func Open(opts engine.Options) (*Backend, error) {
	m, err := engine.Open(opts)
	if err != nil {
		return nil, err
	}
	b, err := New(m)
	if err != nil {
		m.Close()
		return nil, err
	}
	b.own = true
	return b, nil
}

// Manager is the device the backend runs on.
func (b *Backend) Manager() *engine.Manager { return b.m }

// Name returns "vulkan".
func (b *Backend) Name() string { return "vulkan" }

// Device is the Vulkan device name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)".
func (b *Backend) Device() string { return b.m.Info().Name }

func (b *Backend) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// NewTensor allocates a zero-filled tensor in a device buffer of exactly
// its length; every dimension must be positive.
func (b *Backend) NewTensor(shape ...int) (*kernels.Tensor, error) {
	if b.isClosed() {
		return nil, errClosed
	}
	for _, d := range shape {
		if d <= 0 {
			return nil, fmt.Errorf("vulkan: NewTensor: shape %v: every dimension must be positive", shape)
		}
	}
	buf, err := b.m.NewBuffer(kernels.Numel(shape))
	if err != nil {
		return nil, fmt.Errorf("vulkan: NewTensor %v: %w", shape, err)
	}
	tensors.add(buf, b)
	return &kernels.Tensor{Shape: append([]int(nil), shape...), Storage: buf}, nil
}

// storage returns t's device buffer, or an error naming op and operand
// when t is nil, is not a tensor of this backend, was freed
// (kernels.FreedError) or is larger than its buffer.
func (b *Backend) storage(op, name string, t *kernels.Tensor) (*engine.Buffer, error) {
	if t == nil {
		return nil, fmt.Errorf("vulkan: %s: %s is nil", op, name)
	}
	buf, ok := t.Storage.(*engine.Buffer)
	if !ok || buf == nil {
		return nil, fmt.Errorf("vulkan: %s: %s %s is not a Vulkan tensor (storage %T)", op, name, t, t.Storage)
	}
	switch owner := tensors.owner(buf); {
	case owner == nil:
		return nil, kernels.FreedError("vulkan", op, name, t)
	case owner.m != b.m:
		return nil, fmt.Errorf("vulkan: %s: %s %s is a tensor of another Vulkan device", op, name, t)
	}
	if buf.Len() < t.Len() {
		return nil, fmt.Errorf("vulkan: %s: %s %s needs %d elements, its buffer has %d", op, name, t, t.Len(), buf.Len())
	}
	return buf, nil
}

// tensors is the registry of live tensor buffers: those NewTensor
// made, with the backend that made them, until Free releases them or
// their backend closes. engine.Buffer does not say whether it was
// freed, and a freed buffer's memory may already hold another tensor,
// so this is how a use after Free is told from a use of a live tensor.
// It is one registry for all backends so that a tensor of another
// backend is not mistaken for a freed one.
var tensors = registry{owners: map[*engine.Buffer]*Backend{}}

type registry struct {
	mu     sync.Mutex
	owners map[*engine.Buffer]*Backend
	// frees counts the tensors Free released, so that a Program looks
	// at its operands again only after one.
	frees atomic.Uint64
}

func (r *registry) add(buf *engine.Buffer, b *Backend) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.owners[buf] = b
}

// owner is the backend of buf, or nil when buf is not a live tensor.
func (r *registry) owner(buf *engine.Buffer) *Backend {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.owners[buf]
}

// remove drops buf and reports whether it was live.
func (r *registry) remove(buf *engine.Buffer) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.owners[buf]
	if ok {
		delete(r.owners, buf)
		r.frees.Add(1)
	}
	return ok
}

// forget drops the tensors of b, when its device closes with it.
func (r *registry) forget(b *Backend) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for buf, o := range r.owners {
		if o == b {
			delete(r.owners, buf)
		}
	}
}

// Upload copies src into t.
func (b *Backend) Upload(t *kernels.Tensor, src []float32) error {
	if b.isClosed() {
		return errClosed
	}
	buf, err := b.storage("Upload", "t", t)
	if err != nil {
		return err
	}
	if len(src) != t.Len() {
		return fmt.Errorf("vulkan: Upload: %d values for tensor %s of %d elements", len(src), t, t.Len())
	}
	if err := b.m.Upload(buf, src, 0); err != nil {
		return fmt.Errorf("vulkan: Upload: %w", err)
	}
	return nil
}

// Download copies t into dst.
func (b *Backend) Download(t *kernels.Tensor, dst []float32) error {
	if b.isClosed() {
		return errClosed
	}
	buf, err := b.storage("Download", "t", t)
	if err != nil {
		return err
	}
	if len(dst) != t.Len() {
		return fmt.Errorf("vulkan: Download: %d values for tensor %s of %d elements", len(dst), t, t.Len())
	}
	if err := b.m.Download(buf, dst, 0); err != nil {
		return fmt.Errorf("vulkan: Download: %w", err)
	}
	return nil
}

// Free releases t's buffer, which its Reshape views share: any later
// use of t or of a view is an error (kernels.FreedError), and freeing
// again is a no-op. A tensor that is not a Vulkan tensor is left alone.
func (b *Backend) Free(t *kernels.Tensor) {
	if t == nil {
		return
	}
	buf, ok := t.Storage.(*engine.Buffer)
	if !ok || buf == nil {
		return
	}
	if tensors.remove(buf) {
		buf.Free()
	}
}

// NewProgram starts recording an empty Program (one engine.Sequence),
// timed as by NewTimedProgram after TimePrograms(true).
func (b *Backend) NewProgram() kernels.Program { return b.newProgram(b.timePrograms.Load()) }

// TimePrograms makes later NewProgram calls return timed Programs, so
// that code written against kernels.Backend (models, trainers) can
// report its device time (Program.GPUTime) for benchmarks. The two
// timestamps per command cost a little device time of their own.
func (b *Backend) TimePrograms(on bool) { b.timePrograms.Store(on) }

// NewTimedProgram is NewProgram with a GPU timestamp around every
// command; Program.GPUTime reports the last Run's total.
func (b *Backend) NewTimedProgram() *Program { return b.newProgram(true) }

func (b *Backend) newProgram(timed bool) *Program {
	p := &Program{be: b}
	if b.isClosed() {
		p.err = errClosed
		return p
	}
	seq, err := b.m.NewSequence()
	if err != nil {
		p.err = fmt.Errorf("vulkan: NewProgram: %w", err)
		return p
	}
	p.seq = seq
	if timed {
		if err := seq.EnableTimestamps(); err != nil {
			p.err = fmt.Errorf("vulkan: NewProgram: %w", err)
		}
	}
	return p
}

// Close releases the backend's own buffers, and the device when the
// backend was made by Open. Its tensors count as freed afterwards
// (their buffers stay allocated on a device the caller owns, for code
// that reads them through engine). It is idempotent.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	b.dummy.Free()
	tensors.forget(b)
	if b.own {
		return b.m.Close()
	}
	return nil
}

// kernel returns the pipeline for shader name with spec constants spec,
// from the engine's cache after the first call.
func (b *Backend) kernel(name string, spec []uint32) (*engine.Kernel, error) {
	l, ok := layouts[name]
	if !ok {
		return nil, fmt.Errorf("vulkan: no layout for shader %q", name)
	}
	spv, err := shaders.SPIRV(name)
	if err != nil {
		return nil, err
	}
	return b.m.Kernel(name, spv, l.bindings, int(l.push.Size()/4), spec...)
}

// layout is a shader's interface: its number of storage-buffer
// bindings and the Go twin of its push-constant block, whose fields
// Program.dispatch pushes in order. TestLayouts checks both against the
// shader's SPIR-V.
type layout struct {
	bindings int
	push     reflect.Type
}

var layouts = map[string]layout{
	"matmul":                 {3, reflect.TypeFor[matmulPush]()},
	"matmul_reduce":          {2, reflect.TypeFor[matmulReducePush]()},
	"eltwise":                {4, reflect.TypeFor[eltwisePush]()},
	"sgd":                    {4, reflect.TypeFor[sgdPush]()},
	"reduce_op":              {4, reflect.TypeFor[reducePush]()},
	"bias_grad":              {2, reflect.TypeFor[biasGradPush]()},
	"softmax":                {2, reflect.TypeFor[softmaxPush]()},
	"softmax_bwd":            {3, reflect.TypeFor[softmaxPush]()},
	"maxpool":                {3, reflect.TypeFor[poolPush]()},
	"maxpool_scatter":        {3, reflect.TypeFor[maxpoolScatterPush]()},
	"maxpool_bwd":            {3, reflect.TypeFor[poolPush]()},
	"conv2d":                 {4, reflect.TypeFor[convPush]()},
	"conv2d_bwd_input":       {3, reflect.TypeFor[convBwdInputPush]()},
	"conv2d_bwd_weight":      {3, reflect.TypeFor[convBwdWeightPush]()},
	"conv2d_bwd_weight_taps": {3, reflect.TypeFor[convBwdWeightTapsPush]()},
	"peak":                   {1, reflect.TypeFor[peakPush]()},
	"avgpool":                {2, reflect.TypeFor[poolPush]()},
	"avgpool_bwd":            {2, reflect.TypeFor[poolPush]()},
	"adam":                   {5, reflect.TypeFor[adamPush]()},
	"update":                 {7, reflect.TypeFor[updatePush]()},
	"conv_maxpool":           {5, reflect.TypeFor[convPoolPush]()},
	"conv_maxpool_bwd":       {6, reflect.TypeFor[convPoolBwdPush]()},
}
