package vulkan

import (
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
)

// Program records ops into one engine.Sequence: every op becomes one or
// a few dispatches whose descriptor sets and push constants are fixed at
// record time, and Run submits the whole command buffer once. Scratch
// buffers (split-K partial products, reduction partials) are allocated
// while recording and freed by Close.
type Program struct {
	be      *Backend
	seq     *engine.Sequence
	err     error
	scratch []*engine.Buffer
	writes  []hostCopy
	// writeCmds counts the commands of Writes, which must come first.
	writeCmds int
	reads     []hostCopy
	cmds      int
	ran       bool // the first Run ended recording
	closed    bool

	// operands are the tensors the recorded ops use, looked at again by
	// Run after a Free (frees is the count of Frees at the last look).
	operands []operand
	frees    uint64
	faults   faults
}

// operand is one tensor of a recorded op.
type operand struct {
	op, name string
	t        *kernels.Tensor
	buf      *engine.Buffer
}

// hostCopy is one Program.Write or Program.Read: v moves to or from
// dev, directly where device buffers are mapped, else through host, a
// mapped buffer that the Run's first (Write) or last (Read) command
// copies from or to.
type hostCopy struct {
	v         []float32
	dev, host *engine.Buffer
}

// via is the buffer the host copies v to or from.
func (c hostCopy) via() *engine.Buffer {
	if c.host != nil {
		return c.host
	}
	return c.dev
}

var _ kernels.Program = (*Program)(nil)

// Err is the first recording error, or nil.
func (p *Program) Err() error { return p.err }

// Run submits the recorded command buffer once and waits for it. It
// fails before the submit when a tensor of a recorded op was freed
// since, and after it when a device-side check failed (an NLL target
// that is not a class index: see fault.go).
func (p *Program) Run() error {
	if p.err != nil {
		return p.err
	}
	if p.closed {
		return fmt.Errorf("vulkan: Run: program is closed")
	}
	if p.be.isClosed() {
		return errClosed
	}
	if err := p.checkOperands(); err != nil {
		return err
	}
	if !p.ran {
		p.ran = true
		for _, r := range p.reads {
			p.hostRead("Read", r.host, r.dev, len(r.v))
		}
		p.faults.recordReads(p)
		if p.err != nil {
			return p.err
		}
	}
	for _, w := range p.writes {
		if err := p.be.m.Upload(w.via(), w.v, 0); err != nil {
			return fmt.Errorf("vulkan: Run: Write: %w", err)
		}
	}
	if p.cmds > 0 {
		if err := p.seq.Run(); err != nil {
			return fmt.Errorf("vulkan: Run: %w", err)
		}
	}
	for _, r := range p.reads {
		if err := p.be.m.Download(r.via(), r.v, 0); err != nil {
			return fmt.Errorf("vulkan: Run: Read: %w", err)
		}
	}
	return p.faults.check(p.be.m)
}

// checkOperands fails when a tensor of a recorded op has been freed,
// naming the first such op and operand; it looks only when some tensor
// of the backend was freed since it last looked.
func (p *Program) checkOperands() error {
	frees := tensors.frees.Load()
	if frees == p.frees {
		return nil
	}
	for _, o := range p.operands {
		if tensors.owner(o.buf) == nil {
			return kernels.FreedError("vulkan", o.op, o.name, o.t)
		}
	}
	p.frees = frees
	return nil
}

// hostRead records, where device buffers are not host-visible, the copy
// of n elements of dev into its mapped twin host as one of the Run's
// last commands; where host is nil there is nothing to copy.
func (p *Program) hostRead(op string, host, dev *engine.Buffer, n int) {
	if host != nil && p.ok(wrap(op, p.seq.Copy(host, dev, n))) {
		p.cmds++
	}
}

// Read makes every later Run end by copying t into dst: a copy into a
// mapped host buffer recorded as the Run's last command when the
// device's buffers are not host-visible (a discrete GPU), so the Run
// stays one submit; a plain memory copy after the Run otherwise.
func (p *Program) Read(dst []float32, t *kernels.Tensor) {
	if r, ok := p.hostCopy("Read", "dst", dst, t); ok {
		p.reads = append(p.reads, r)
	}
}

// Write makes every later Run begin by copying src into t: a memory copy
// into t before the submit where device buffers are mapped, else into a
// mapped host buffer that the Run's first command copies into t.
func (p *Program) Write(t *kernels.Tensor, src []float32) {
	if p.err == nil && p.cmds > p.writeCmds {
		p.ok(kernels.WriteFirst("vulkan"))
		return
	}
	w, ok := p.hostCopy("Write", "src", src, t)
	if !ok {
		return
	}
	if w.host != nil && !p.ok(wrap("Write", p.seq.Copy(w.dev, w.host, len(src)))) {
		return
	}
	if w.host != nil {
		p.cmds++
		p.writeCmds++
	}
	p.writes = append(p.writes, w)
}

// hostCopy checks a Read or Write and makes its host buffer when device
// buffers are not mapped.
func (p *Program) hostCopy(op, name string, v []float32, t *kernels.Tensor) (hostCopy, bool) {
	if !p.ok(kernels.HostLen(op, name, v, t)) {
		return hostCopy{}, false
	}
	if p.ran {
		p.ok(fmt.Errorf("vulkan: %s: the Program was already run; recording is over", op))
		return hostCopy{}, false
	}
	b, ok := p.bufs(op, []string{"t"}, t)
	if !ok {
		return hostCopy{}, false
	}
	c := hostCopy{v: v, dev: b[0]}
	if c.host = p.hostTwin(op, len(v)); p.err != nil {
		return hostCopy{}, false
	}
	return c, true
}

// hostTwin is a mapped host buffer of n elements owned by the Program
// where device buffers are not host-visible, else nil.
func (p *Program) hostTwin(op string, n int) *engine.Buffer {
	if p.be.m.Unified() {
		return nil
	}
	h, err := p.be.m.NewHostBuffer(n)
	if !p.ok(wrap(op, err)) {
		return nil
	}
	p.scratch = append(p.scratch, h)
	return h
}

// GPUTime is the summed GPU time of the last Run's commands, measured
// by timestamps; zero unless the Program came from NewTimedProgram.
func (p *Program) GPUTime() time.Duration {
	if p.seq == nil {
		return 0
	}
	var d time.Duration
	for _, t := range p.seq.Times() {
		d += t
	}
	return d
}

// Close releases the command buffer, descriptor sets and scratch
// buffers. It is idempotent.
func (p *Program) Close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	var err error
	if p.seq != nil {
		err = p.seq.Close()
	}
	for _, b := range p.scratch {
		b.Free()
	}
	p.scratch = nil
	return err
}

// ok records err as the Program's error and reports whether recording
// may go on.
func (p *Program) ok(err error) bool {
	if p.err != nil {
		return false
	}
	if err != nil {
		p.err = err
		return false
	}
	return true
}

// bufs resolves the storage of ts (named by names, for errors) and
// remembers them for Run's check that none was freed since.
func (p *Program) bufs(op string, names []string, ts ...*kernels.Tensor) ([]*engine.Buffer, bool) {
	out := make([]*engine.Buffer, len(ts))
	for i, t := range ts {
		b, err := p.be.storage(op, names[i], t)
		if !p.ok(err) {
			return nil, false
		}
		out[i] = b
		p.operands = append(p.operands, operand{op: op, name: names[i], t: t, buf: b})
	}
	return out, true
}

// newScratch allocates a buffer owned by the Program.
func (p *Program) newScratch(op string, n int) *engine.Buffer {
	b, err := p.be.m.NewBuffer(n)
	if !p.ok(wrap(op, err)) {
		return nil
	}
	p.scratch = append(p.scratch, b)
	return b
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("vulkan: %s: %w", op, err)
}

// dispatch records one dispatch of shader with push, a value of the Go
// struct that layouts names for it (the twin of the shader's
// push-constant block).
func (p *Program) dispatch(op, shader string, spec []uint32, bufs []*engine.Buffer, push any, gx, gy, gz int) {
	if p.err != nil {
		return
	}
	if l, ok := layouts[shader]; !ok || reflect.TypeOf(push) != l.push {
		p.ok(fmt.Errorf("vulkan: %s: push constants %T for shader %q, whose layout takes %v", op, push, shader, l.push))
		return
	}
	lim := p.be.m.Info().MaxWorkGroupCount
	if gx < 1 || gy < 1 || gz < 1 || uint64(gx) > uint64(lim[0]) || uint64(gy) > uint64(lim[1]) || uint64(gz) > uint64(lim[2]) {
		p.ok(fmt.Errorf("vulkan: %s: grid %d×%d×%d of %s exceeds the device limit %v", op, gx, gy, gz, shader, lim))
		return
	}
	words, err := pushWords(push)
	if !p.ok(wrap(op, err)) {
		return
	}
	k, err := p.be.kernel(shader, spec)
	if !p.ok(wrap(op, err)) {
		return
	}
	if p.ok(wrap(op, p.seq.Dispatch(k, bufs, words, uint32(gx), uint32(gy), uint32(gz)))) {
		p.cmds++
	}
}

// pushWords lays out a push-constant struct (fields of uint32, int32 or
// float32 only, in the order of the GLSL block; TestLayouts checks each
// against its shader) as the 32-bit words the engine pushes.
func pushWords(push any) ([]uint32, error) {
	v := reflect.ValueOf(push)
	w := make([]uint32, v.NumField())
	for i := range w {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Uint32:
			w[i] = uint32(f.Uint())
		case reflect.Int32:
			w[i] = uint32(int32(f.Int()))
		case reflect.Float32:
			w[i] = math.Float32bits(float32(f.Float()))
		default:
			return nil, fmt.Errorf("push-constant field %s of %T is %s, not a 32-bit scalar", v.Type().Field(i).Name, push, f.Kind())
		}
	}
	return w, nil
}

// Work-group sizes. Reductions need powers of two.
const (
	wgElem   = 256 // element-wise, grid-stride
	wgReduce = 256
	// maxGridStride caps grid-stride dispatches: beyond this many
	// groups every invocation loops instead.
	maxGridStride = 4096
)

// loopBudget bounds the loop iterations one invocation runs.
// llvmpipe (lavapipe) counts the iterations of all the loops of an
// invocation together and ends every loop once the count reaches 65535
// (gallivm's LP_MAX_TGSI_LOOP_ITERATIONS): a longer loop silently drops
// the rest of its work and returns a wrong result (see matmul.go for
// the product it broke). Half the limit leaves room for error in the
// estimates of the callers. GPUs have no such limit.
const loopBudget = 65535 / 2

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// pow2 is the smallest power of two ≥ n, clamped to [lo, hi].
func pow2(n, lo, hi int) int {
	v := lo
	for v < n && v < hi {
		v *= 2
	}
	return v
}

// prevPow2 is the largest power of two ≤ n (n ≥ 1).
func prevPow2(n int) int {
	v := 1
	for v*2 <= n {
		v *= 2
	}
	return v
}

func u32(v int) uint32 { return uint32(v) }
func b32(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}

func elemGroups(n int) int { return min(ceilDiv(n, wgElem), maxGridStride) }

// loopGroups is the grid of a grid-stride dispatch of wgElem
// invocations over n elements that take perElem loop iterations each:
// elemGroups(n), or more groups on a CPU driver where an invocation
// would otherwise run past loopBudget. ok is false (and the Program's
// error set) when a single element takes more than the budget there.
func (p *Program) loopGroups(op string, n, perElem int) (groups int, ok bool) {
	groups = elemGroups(n)
	if !p.be.m.Info().CPU {
		return groups, true
	}
	if perElem > loopBudget {
		return 0, p.ok(fmt.Errorf("vulkan: %s: %d loop iterations per element exceed the %d that %s runs per invocation",
			op, perElem, loopBudget, p.be.Device()))
	}
	need := ceilDiv(n, wgElem*(loopBudget/perElem))
	if lim := int(p.be.m.Info().MaxWorkGroupCount[0]); need > lim {
		return 0, p.ok(fmt.Errorf("vulkan: %s: %d elements of %d loop iterations need %d work-groups to stay within the %d iterations that %s runs per invocation, more than its limit %d",
			op, n, perElem, need, loopBudget, p.be.Device(), lim))
	}
	return max(groups, need), true
}

// Fill sets every element of t to v (vkCmdFillBuffer).
func (p *Program) Fill(t *kernels.Tensor, v float32) {
	if p.err != nil {
		return
	}
	if t != nil && t.Len() == 0 {
		p.ok(fmt.Errorf("kernels: Fill: zero-sized tensor %s", t))
		return
	}
	b, ok := p.bufs("Fill", []string{"t"}, t)
	if ok && p.ok(wrap("Fill", p.seq.Fill(b[0], v))) {
		p.cmds++
	}
}

// Copy copies src into dst (vkCmdCopyBuffer).
func (p *Program) Copy(dst, src *kernels.Tensor) {
	if !p.ok(kernels.SameLen("Copy", dst, src)) {
		return
	}
	b, ok := p.bufs("Copy", []string{"dst", "src"}, dst, src)
	if !ok || b[0] == b[1] {
		return // a copy onto itself changes nothing
	}
	if p.ok(wrap("Copy", p.seq.Copy(b[0], b[1], dst.Len()))) {
		p.cmds++
	}
}
