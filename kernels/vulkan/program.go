package vulkan

import (
	"fmt"
	"math"
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

// Run submits the recorded command buffer once and waits for it.
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
	if !p.ran {
		p.ran = true
		for _, r := range p.reads {
			if r.host != nil && p.ok(wrap("Read", p.seq.Copy(r.host, r.dev, len(r.v)))) {
				p.cmds++
			}
		}
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
	return nil
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
	if !p.be.m.Unified() {
		h, err := p.be.m.NewHostBuffer(len(v))
		if !p.ok(wrap(op, err)) {
			return hostCopy{}, false
		}
		p.scratch = append(p.scratch, h)
		c.host = h
	}
	return c, true
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

// bufs resolves the storage of ts (named by names, for errors).
func (p *Program) bufs(op string, names []string, ts ...*kernels.Tensor) ([]*engine.Buffer, bool) {
	out := make([]*engine.Buffer, len(ts))
	for i, t := range ts {
		b, err := storage(op, names[i], t)
		if !p.ok(err) {
			return nil, false
		}
		out[i] = b
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

// dispatch records one shader dispatch.
func (p *Program) dispatch(op, shader string, spec []uint32, bufs []*engine.Buffer, push []uint32, gx, gy, gz int) {
	if p.err != nil {
		return
	}
	lim := p.be.m.Info().MaxWorkGroupCount
	if gx < 1 || gy < 1 || gz < 1 || uint64(gx) > uint64(lim[0]) || uint64(gy) > uint64(lim[1]) || uint64(gz) > uint64(lim[2]) {
		p.ok(fmt.Errorf("vulkan: %s: grid %d×%d×%d of %s exceeds the device limit %v", op, gx, gy, gz, shader, lim))
		return
	}
	k, err := p.be.kernel(shader, spec)
	if !p.ok(wrap(op, err)) {
		return
	}
	if p.ok(wrap(op, p.seq.Dispatch(k, bufs, push, uint32(gx), uint32(gy), uint32(gz)))) {
		p.cmds++
	}
}

// Work-group sizes. Reductions need powers of two.
const (
	wgElem   = 256 // element-wise, grid-stride
	wgReduce = 256
	// maxGridStride caps grid-stride dispatches: beyond this many
	// groups every invocation loops instead.
	maxGridStride = 4096
)

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// pow2 is the smallest power of two ≥ n, clamped to [lo, hi].
func pow2(n, lo, hi int) int {
	v := lo
	for v < n && v < hi {
		v *= 2
	}
	return v
}

func u32(v int) uint32     { return uint32(v) }
func f32(v float32) uint32 { return math.Float32bits(v) }
func b32(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}

func elemGroups(n int) int { return min(ceilDiv(n, wgElem), maxGridStride) }

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

// matmulConfig is a block tile of matmul.comp (bm×bn, bk deep); each
// thread computes tm×tn.
type matmulConfig struct{ bm, bn, bk, tm, tn int }

func (c matmulConfig) threads() int { return (c.bm / c.tm) * (c.bn / c.tn) }

// spec is matmul.comp's specialization for an m×n×k product. The vec4
// loads of a (b) need the length of its contiguous axis to be a multiple
// of 4; kChunk and kBase, multiples of bk, always are.
func (c matmulConfig) spec(m, n, k int, transA, transB bool) []uint32 {
	vecA, vecB := k%4 == 0, n%4 == 0
	if transA {
		vecA = m%4 == 0
	}
	if transB {
		vecB = k%4 == 0
	}
	return []uint32{u32(c.threads()), 1, 1, u32(c.bm), u32(c.bn), u32(c.bk), b32(transA), b32(transB), u32(c.tm), u32(c.tn),
		b32(vecA && vecLoads), b32(vecB && vecLoads)}
}

// vecLoads enables matmul.comp's vec4 tile loads; tests and benchmarks
// turn it off to check and time the scalar loads.
var vecLoads = true

// gpuTiles makes a CPU driver use the GPU block tiles, so that tests on
// lavapipe check the tiles a GPU runs.
var gpuTiles = false

// gpuMatMul is the block tile for a GPU: the classic 128×128×8 tile
// with 8×8 per thread (256 threads) for large outputs, 64×64×16 with
// 4×4 otherwise, and 32-wide tiles for dimensions of at most 32 so that
// thin outputs waste fewer threads.
func gpuMatMul(m, n int) matmulConfig {
	if m >= 128 && n >= 128 {
		return matmulConfig{bm: 128, bn: 128, bk: 8, tm: 8, tn: 8}
	}
	cfg := matmulConfig{bm: 64, bn: 64, bk: 16, tm: 4, tn: 4}
	if m <= 32 {
		cfg.bm = 32
	}
	if n <= 32 {
		cfg.bn = 32
	}
	return cfg
}

// cpuMatMul is the block tile for a CPU driver (lavapipe), which runs
// invocations as SIMD lanes and every shared-memory read as a gather,
// so more outputs per invocation run faster; but LLVM compiles each
// pipeline at first use in time growing with the register block.
// Measured on lavapipe at 512³ (GFLOP/s, first-use compile), with the
// shader's earlier scalar shared-memory reads: 4×4 0.6, 0.5–0.9 s; 8×8
// 2.0, 1–1.5 s; 8×16 2.6, 3.7 s; 16×16 3.3, 11 s. 8×8 is the compromise
// (7.2 GFLOP/s with the vec4 reads). Block sizes are 16, 32, 64 or 128 per dimension,
// the smallest that covers it, since padding costs real work on a CPU;
// few block shapes keep the number of pipelines small.
func cpuMatMul(m, n int) matmulConfig {
	return matmulConfig{bm: pow2(m, 16, 128), bn: pow2(n, 16, 128), bk: 8, tm: 8, tn: 8}
}

// loopBudget bounds the loop iterations one matmul.comp invocation runs
// over its k chunk. llvmpipe (lavapipe) counts the iterations of all the
// loops of an invocation together and ends every loop once the count
// reaches 65535 (gallivm's LP_MAX_TGSI_LOOP_ITERATIONS): a longer k loop
// silently drops the rest of k and returns a wrong product (60×1152 =
// 60×23589 · 23589×1152, the encode model's input gradient, came out
// 27% off). Half the limit leaves room for the loops outside the k loop
// and for error in tileLoops. GPUs have no such limit; bounded chunks
// cost them nothing but a few more split-K partials.
const loopBudget = 65535 / 2

// tileLoops bounds the loop iterations of matmul.comp per BK-deep k
// tile: the two staging loops, whose trip counts depend on the
// invocation and so are not unrolled, the kk loop, and the k loop
// itself. Measured on lavapipe with a 16×16×8 tile of 4 invocations:
// 76 = 32 + 32 + 8 + 4.
func (c matmulConfig) tileLoops() int {
	t := c.threads()
	return ceilDiv(c.bm*c.bk, t) + ceilDiv(c.bn*c.bk, t) + c.bk + 4
}

// maxKChunk is the deepest k range one invocation may cover.
func (c matmulConfig) maxKChunk() int { return loopBudget / c.tileLoops() * c.bk }

// maxSplitScratch bounds the split-K scratch buffer (splits·m·n floats)
// to 64 MiB; more splits than fit run in passes. A variable so that
// tests can reach the passes at small sizes.
var maxSplitScratch = 16 << 20

// chooseMatMul picks the block tile, the split-K factor and the k range
// of one split for an m×n×k product. When the output has too few tiles
// to occupy the device and k is deep, k is split into chunks whose
// partial products are summed by a second pass; k is split anyway into
// chunks of at most maxKChunk.
func chooseMatMul(m, n, k int, cpu bool) (cfg matmulConfig, splits, kChunk int) {
	cfg = gpuMatMul(m, n)
	if cpu {
		cfg = cpuMatMul(m, n)
	}
	tiles := ceilDiv(m, cfg.bm) * ceilDiv(n, cfg.bn)
	// Enough groups to fill a discrete GPU's compute units several
	// times; a CPU driver runs a few groups per core.
	target := 256
	if cpu {
		target = 8
	}
	splits = 1
	if tiles < target {
		splits = min(ceilDiv(target, tiles), k/256)
		splits = min(splits, maxSplitScratch/(m*n))
		splits = max(splits, 1)
	}
	kChunk = min(ceilDiv(ceilDiv(k, splits), cfg.bk)*cfg.bk, cfg.maxKChunk())
	splits = ceilDiv(k, kChunk)
	return cfg, splits, kChunk
}

// MatMul computes c = alpha·op(a)·op(b) + beta·c with matmul.comp, plus
// matmul_reduce.comp when k is split.
func (p *Program) MatMul(c, a, b *kernels.Tensor, transA, transB bool, alpha, beta float32) {
	if p.err != nil {
		return
	}
	m, n, k, err := kernels.MatMulDims(c, a, b, transA, transB)
	if !p.ok(err) {
		return
	}
	bs, ok := p.bufs("MatMul", []string{"c", "a", "b"}, c, a, b)
	if !ok {
		return
	}
	cfg, splits, kChunk := chooseMatMul(m, n, k, p.be.m.Info().CPU && !gpuTiles)
	spec := cfg.spec(m, n, k, transA, transB)
	gx, gy := ceilDiv(n, cfg.bn), ceilDiv(m, cfg.bm)
	// Splits run in passes of up to perPass, sharing one scratch
	// buffer; every pass after the first adds into c (beta 1).
	perPass := min(splits, max(1, maxSplitScratch/(m*n)))
	var part *engine.Buffer
	if perPass > 1 {
		if part = p.newScratch("MatMul", perPass*m*n); part == nil {
			return
		}
	}
	for z0 := 0; z0 < splits; z0 += perPass {
		zs := min(perPass, splits-z0)
		kBase := z0 * kChunk
		pb := beta
		if z0 > 0 {
			pb = 1
		}
		if zs == 1 {
			push := []uint32{u32(m), u32(n), u32(k), f32(alpha), f32(pb), u32(kChunk), 0, u32(kBase)}
			p.dispatch("MatMul", "matmul", spec, []*engine.Buffer{bs[1], bs[2], bs[0]}, push, gx, gy, 1)
			continue
		}
		push := []uint32{u32(m), u32(n), u32(k), f32(1), f32(0), u32(kChunk), 1, u32(kBase)}
		p.dispatch("MatMul", "matmul", spec, []*engine.Buffer{bs[1], bs[2], part}, push, gx, gy, zs)
		p.dispatch("MatMul", "matmul_reduce", []uint32{wgElem, 1, 1}, []*engine.Buffer{part, bs[0]},
			[]uint32{u32(m * n), u32(zs), f32(alpha), f32(pb)}, elemGroups(m*n), 1, 1)
	}
}

// eltwise op codes, as in eltwise.comp.
const (
	opReLU = iota
	opReLUBwd
	opSigmoid
	opSigmoidBwd
	opBCEBwd
	opMSEBwd
	opAddScaled
	opAddSign
	opNLLBwd
	opAddBias
)

// eltwise records out[i] = f(a[i], b[i]) for i < n.
func (p *Program) eltwise(op string, code int, a, b, out *engine.Buffer, n, p0, p1 int, s float32) {
	p.dispatch(op, "eltwise", []uint32{wgElem, 1, 1, u32(code)}, []*engine.Buffer{a, b, out},
		[]uint32{u32(n), u32(p0), u32(p1), f32(s)}, elemGroups(n), 1, 1)
}

// unary records an op of the form out = f(in1[, in2]) over same-shape tensors.
func (p *Program) unary(op string, code int, names []string, out, a, b *kernels.Tensor, s float32) {
	ts := []*kernels.Tensor{out, a}
	if b != nil {
		ts = append(ts, b)
	}
	if p.err != nil || !p.ok(kernels.SameShape(op, ts...)) {
		return
	}
	bs, ok := p.bufs(op, names, ts...)
	if !ok {
		return
	}
	bb := bs[1]
	if b != nil {
		bb = bs[2]
	}
	p.eltwise(op, code, bs[1], bb, bs[0], out.Len(), 0, 0, s)
}

// ReLU sets y = max(x, 0); y may alias x.
func (p *Program) ReLU(y, x *kernels.Tensor) {
	p.unary("ReLU", opReLU, []string{"y", "x"}, y, x, nil, 0)
}

// ReLUBackward sets dx = dy where y > 0, else 0; dx may alias dy.
func (p *Program) ReLUBackward(dx, dy, y *kernels.Tensor) {
	p.unary("ReLUBackward", opReLUBwd, []string{"dx", "dy", "y"}, dx, dy, y, 0)
}

// Sigmoid sets y = 1/(1+exp(−x)); y may alias x.
func (p *Program) Sigmoid(y, x *kernels.Tensor) {
	p.unary("Sigmoid", opSigmoid, []string{"y", "x"}, y, x, nil, 0)
}

// SigmoidBackward sets dx = dy·y·(1−y); dx may alias dy.
func (p *Program) SigmoidBackward(dx, dy, y *kernels.Tensor) {
	p.unary("SigmoidBackward", opSigmoidBwd, []string{"dx", "dy", "y"}, dx, dy, y, 0)
}

// BCEBackward sets dp = (p − t)/max(p(1−p), 1e-12)/n.
func (p *Program) BCEBackward(dp, pr, target *kernels.Tensor) {
	if pr == nil {
		p.ok(fmt.Errorf("kernels: BCEBackward: p is nil"))
		return
	}
	p.unary("BCEBackward", opBCEBwd, []string{"dp", "p", "target"}, dp, pr, target, 1/float32(pr.Len()))
}

// MSEBackward sets dy = 2(y − t)/n.
func (p *Program) MSEBackward(dy, y, target *kernels.Tensor) {
	if y == nil {
		p.ok(fmt.Errorf("kernels: MSEBackward: y is nil"))
		return
	}
	p.unary("MSEBackward", opMSEBwd, []string{"dy", "y", "target"}, dy, y, target, 2/float32(y.Len()))
}

// L2PenaltyGrad adds 2·coef·w into dw.
func (p *Program) L2PenaltyGrad(dw, w *kernels.Tensor, coef float32) {
	p.unary("L2PenaltyGrad", opAddScaled, []string{"dw", "w"}, dw, w, nil, 2*coef)
}

// L1PenaltyGrad adds coef·sign(w) into dw.
func (p *Program) L1PenaltyGrad(dw, w *kernels.Tensor, coef float32) {
	p.unary("L1PenaltyGrad", opAddSign, []string{"dw", "w"}, dw, w, nil, coef)
}

// NLLBackward sets dlogp[i,c] = −1/N where c == target[i], else 0.
func (p *Program) NLLBackward(dlogp, target *kernels.Tensor) {
	if p.err != nil {
		return
	}
	n, c, err := kernels.NLLDims("NLLBackward", dlogp, target)
	if !p.ok(err) {
		return
	}
	bs, ok := p.bufs("NLLBackward", []string{"dlogp", "target"}, dlogp, target)
	if ok {
		p.eltwise("NLLBackward", opNLLBwd, bs[0], bs[1], bs[0], n*c, c, 0, -1/float32(n))
	}
}

// AddBias adds bias[j] to x[i, j, ...] in place.
func (p *Program) AddBias(x, bias *kernels.Tensor) {
	if p.err != nil {
		return
	}
	_, f, inner, err := kernels.BiasDims("AddBias", x, bias)
	if !p.ok(err) {
		return
	}
	bs, ok := p.bufs("AddBias", []string{"x", "bias"}, x, bias)
	if ok {
		p.eltwise("AddBias", opAddBias, bs[0], bs[1], bs[0], x.Len(), inner, f, 0)
	}
}

// SGD updates p in place (sgd.comp) at lr = state[StepLR].
func (p *Program) SGD(param, grad, buf, state *kernels.Tensor, o kernels.SGDParams) {
	if p.err != nil || !p.ok(kernels.SameShape("SGD", param, grad, buf)) || !p.ok(kernels.StepStateShape("SGD", state)) {
		return
	}
	bs, ok := p.bufs("SGD", []string{"p", "grad", "buf", "state"}, param, grad, buf, state)
	if !ok {
		return
	}
	n := param.Len()
	p.dispatch("SGD", "sgd", []uint32{wgElem, 1, 1}, bs,
		[]uint32{u32(n), f32(float32(o.Momentum)), f32(float32(1 - o.Dampening)), f32(float32(o.WeightDecay)), b32(o.Nesterov)},
		elemGroups(n), 1, 1)
}

// reduce op codes, as in reduce_op.comp.
const (
	redSum = iota
	redSq
	redAbs
	redBCE
	redMSE
	redNLL
)

// reduceElems is how many elements one reduction group covers before a
// second pass is worth it.
const reduceElems = 8 * wgReduce

// reduce records out[0] = (acc ? out[0] : 0) + s·Σ_{i<n} term(i): one
// dispatch when one group suffices, else per-group partials into scratch
// and a second one-group pass over them.
func (p *Program) reduce(op string, code int, x, t, out *engine.Buffer, n, c int, acc bool, s float32) {
	spec := []uint32{wgReduce, 1, 1, u32(code)}
	groups := min(ceilDiv(n, reduceElems), wgReduce)
	if groups == 1 {
		p.dispatch(op, "reduce_op", spec, []*engine.Buffer{x, t, out},
			[]uint32{u32(n), u32(c), b32(acc), f32(s)}, 1, 1, 1)
		return
	}
	part := p.newScratch(op, groups)
	if part == nil {
		return
	}
	p.dispatch(op, "reduce_op", spec, []*engine.Buffer{x, t, part},
		[]uint32{u32(n), u32(c), 0, f32(1)}, groups, 1, 1)
	p.dispatch(op, "reduce_op", []uint32{wgReduce, 1, 1, redSum}, []*engine.Buffer{part, part, out},
		[]uint32{u32(groups), 0, b32(acc), f32(s)}, 1, 1, 1)
}

func (p *Program) sum(op string, out, x *kernels.Tensor, mean bool) {
	if p.err != nil || !p.ok(kernels.Scalar(op, "out", out)) || !p.ok(kernels.SameLen(op, x)) {
		return
	}
	bs, ok := p.bufs(op, []string{"out", "x"}, out, x)
	if !ok {
		return
	}
	s := float32(1)
	if mean {
		s = 1 / float32(x.Len())
	}
	p.reduce(op, redSum, bs[1], bs[1], bs[0], x.Len(), 0, false, s)
}

// Sum sets out[0] = Σ x.
func (p *Program) Sum(out, x *kernels.Tensor) { p.sum("Sum", out, x, false) }

// Mean sets out[0] = Σ x / len(x).
func (p *Program) Mean(out, x *kernels.Tensor) { p.sum("Mean", out, x, true) }

func (p *Program) loss(op string, code int, loss, a, t *kernels.Tensor) {
	if p.err != nil || !p.ok(kernels.Scalar(op, "loss", loss)) || !p.ok(kernels.SameShape(op, a, t)) {
		return
	}
	bs, ok := p.bufs(op, []string{"loss", "input", "target"}, loss, a, t)
	if ok {
		p.reduce(op, code, bs[1], bs[2], bs[0], a.Len(), 0, false, 1/float32(a.Len()))
	}
}

// BCELoss sets loss[0] = −mean(t·log p + (1−t)·log(1−p)), logs clamped at −100.
func (p *Program) BCELoss(loss, pr, target *kernels.Tensor) {
	p.loss("BCELoss", redBCE, loss, pr, target)
}

// MSELoss sets loss[0] = mean((y − t)²).
func (p *Program) MSELoss(loss, y, target *kernels.Tensor) {
	p.loss("MSELoss", redMSE, loss, y, target)
}

// NLLLoss sets loss[0] = −mean(logp[i, target[i]]). A target outside
// [0, C) contributes 0: the device cannot report it.
func (p *Program) NLLLoss(loss, logp, target *kernels.Tensor) {
	if p.err != nil {
		return
	}
	n, c, err := kernels.NLLDims("NLLLoss", logp, target)
	if !p.ok(err) || !p.ok(kernels.Scalar("NLLLoss", "loss", loss)) {
		return
	}
	bs, ok := p.bufs("NLLLoss", []string{"loss", "logp", "target"}, loss, logp, target)
	if ok {
		p.reduce("NLLLoss", redNLL, bs[1], bs[2], bs[0], n, c, false, 1/float32(n))
	}
}

func (p *Program) penalty(op string, code int, loss, w *kernels.Tensor, coef float32) {
	if p.err != nil || !p.ok(kernels.Scalar(op, "loss", loss)) || !p.ok(kernels.SameLen(op, w)) {
		return
	}
	bs, ok := p.bufs(op, []string{"loss", "w"}, loss, w)
	if ok {
		p.reduce(op, code, bs[1], bs[1], bs[0], w.Len(), 0, true, coef)
	}
}

// L2Penalty adds coef·Σ w² into loss[0].
func (p *Program) L2Penalty(loss, w *kernels.Tensor, coef float32) {
	p.penalty("L2Penalty", redSq, loss, w, coef)
}

// L1Penalty adds coef·Σ |w| into loss[0].
func (p *Program) L1Penalty(loss, w *kernels.Tensor, coef float32) {
	p.penalty("L1Penalty", redAbs, loss, w, coef)
}

// columnElems is how many positions one bias_grad group reduces before
// the reduction is split across groups.
const columnElems = 4096

// columnSum records dst[j] = Σ_{i,k} src[i, j, k] over src viewed as
// [outer, f, inner], in one pass or, for long columns, two.
func (p *Program) columnSum(op string, src, dst *engine.Buffer, outer, f, inner int) {
	total := outer * inner
	wg := pow2(total, 32, wgReduce)
	groups := min(ceilDiv(total, columnElems), 256)
	chunk := ceilDiv(total, groups)
	if groups == 1 {
		p.dispatch(op, "bias_grad", []uint32{u32(wg), 1, 1}, []*engine.Buffer{src, dst},
			[]uint32{u32(outer), u32(f), u32(inner), u32(chunk)}, 1, f, 1)
		return
	}
	part := p.newScratch(op, f*groups)
	if part == nil {
		return
	}
	p.dispatch(op, "bias_grad", []uint32{u32(wg), 1, 1}, []*engine.Buffer{src, part},
		[]uint32{u32(outer), u32(f), u32(inner), u32(chunk)}, groups, f, 1)
	p.columnSum(op, part, dst, 1, f, groups)
}

// BiasGrad sets db[j] = Σ over all other axes of dy[i, j, ...].
func (p *Program) BiasGrad(db, dy *kernels.Tensor) {
	if p.err != nil {
		return
	}
	outer, f, inner, err := kernels.BiasDims("BiasGrad", dy, db)
	if !p.ok(err) {
		return
	}
	bs, ok := p.bufs("BiasGrad", []string{"db", "dy"}, db, dy)
	if ok {
		p.columnSum("BiasGrad", bs[1], bs[0], outer, f, inner)
	}
}

// Shared-memory capacity of conv2d.comp in floats (TILE_MAX, WMAX).
const (
	convTileMax = 3072
	convWMax    = 1024
)

func convPush(g kernels.ConvGeom) []uint32 {
	return []uint32{u32(g.C), u32(g.H), u32(g.W), u32(g.O), u32(g.KH), u32(g.KW),
		u32(g.Ho), u32(g.Wo), u32(g.StrideH), u32(g.StrideW), u32(g.PadH), u32(g.PadW)}
}

// Conv2D records the tiled direct convolution of conv2d.comp.
func (p *Program) Conv2D(y, x, w, bias *kernels.Tensor, cp kernels.Conv2DParams) {
	if p.err != nil {
		return
	}
	g, err := kernels.ConvGeometry("Conv2D", x, w, bias, cp)
	if !p.ok(err) || !p.ok(kernels.CheckConvOut("Conv2D", "y", y, g)) {
		return
	}
	bs, ok := p.bufs("Conv2D", []string{"y", "x", "w"}, y, x, w)
	if !ok {
		return
	}
	bb := p.be.dummy
	if bias != nil {
		b, ok := p.bufs("Conv2D", []string{"bias"}, bias)
		if !ok {
			return
		}
		bb = b[0]
	}
	p.conv("Conv2D", bs[1], bs[2], bb, bs[0], g, bias != nil, false)
}

// conv records conv2d.comp for geometry g (x [N,C,H,W] → y [N,O,Ho,Wo]);
// transposed reads w as the flipped transpose (see the shader).
func (p *Program) conv(op string, x, w, bias, y *engine.Buffer, g kernels.ConvGeom, hasBias, transposed bool) {
	// Each invocation computes px adjacent pixels of a row for ob
	// channels; a work-group covers th rows of tw·px pixels.
	ob := min(8, g.O)
	// With few output channels each weight load serves only ob·px
	// products, so wide rows get more pixels per invocation.
	px := 1
	switch {
	case g.Wo >= 64 && ob <= 2:
		px = 8
	case g.Wo >= 32:
		px = 4
	case g.Wo >= 8:
		px = 2
	}
	tw := pow2(ceilDiv(g.Wo, px), 1, 8)
	th := pow2(g.Ho, 1, 16)
	ih, iw := (th-1)*g.StrideH+g.KH, (tw*px-1)*g.StrideW+g.KW
	shared := ih*iw <= convTileMax && ob*g.KH*g.KW <= convWMax
	tilesX, tilesY := ceilDiv(g.Wo, tw*px), ceilDiv(g.Ho, th)
	push := []uint32{u32(g.C), u32(g.H), u32(g.W), u32(g.O), u32(g.Ho), u32(g.Wo),
		u32(g.PadH), u32(g.PadW), u32(tilesX), b32(hasBias)}
	spec := []uint32{u32(tw), u32(th), 1, u32(ob), b32(shared),
		u32(g.KH), u32(g.KW), u32(g.StrideH), u32(g.StrideW), u32(px), b32(transposed)}
	p.dispatch(op, "conv2d", spec, []*engine.Buffer{x, w, bias, y}, push, tilesX*tilesY, ceilDiv(g.O, ob), g.N)
}

// Conv2DBackwardInput sets dx from dy and w (conv2d_bwd_input.comp).
func (p *Program) Conv2DBackwardInput(dx, dy, w *kernels.Tensor, cp kernels.Conv2DParams) {
	if p.err != nil {
		return
	}
	g, err := kernels.ConvGeometry("Conv2DBackwardInput", dx, w, nil, cp)
	if !p.ok(err) || !p.ok(kernels.CheckConvOut("Conv2DBackwardInput", "dy", dy, g)) {
		return
	}
	bs, ok := p.bufs("Conv2DBackwardInput", []string{"dx", "dy", "w"}, dx, dy, w)
	if !ok {
		return
	}
	if g.StrideH == 1 && g.StrideW == 1 && g.PadH < g.KH && g.PadW < g.KW {
		// Stride 1: dx is the convolution of dy with the flipped,
		// transposed weights and padding K−1−P, the tiled forward kernel.
		t := kernels.ConvGeom{N: g.N, C: g.O, H: g.Ho, W: g.Wo, O: g.C, KH: g.KH, KW: g.KW,
			Ho: g.H, Wo: g.W, StrideH: 1, StrideW: 1, PadH: g.KH - 1 - g.PadH, PadW: g.KW - 1 - g.PadW}
		p.conv("Conv2DBackwardInput", bs[1], bs[2], p.be.dummy, bs[0], t, false, true)
		return
	}
	const wg = 128
	cb := min(4, g.C)
	p.dispatch("Conv2DBackwardInput", "conv2d_bwd_input", []uint32{wg, 1, 1, u32(cb)},
		[]*engine.Buffer{bs[1], bs[2], bs[0]}, convPush(g), ceilDiv(g.H*g.W, wg), ceilDiv(g.C, cb), g.N)
}

// Conv2DBackwardWeight sets dw (and db unless nil) from dy and x: chunked
// reductions over the N·Ho·Wo output positions (conv2d_bwd_weight.comp),
// summed across chunks by bias_grad.comp.
func (p *Program) Conv2DBackwardWeight(dw, db, dy, x *kernels.Tensor, cp kernels.Conv2DParams) {
	const op = "Conv2DBackwardWeight"
	if p.err != nil {
		return
	}
	g, err := kernels.ConvGeometry(op, x, dw, db, cp)
	if !p.ok(err) || !p.ok(kernels.CheckConvOut(op, "dy", dy, g)) {
		return
	}
	bs, ok := p.bufs(op, []string{"dw", "dy", "x"}, dw, dy, x)
	if !ok {
		return
	}
	nw := dw.Len()
	// Positions are reduced in chunks of about columnElems, one
	// work-group per chunk and filter (or weight); a second pass sums
	// the chunks.
	groups := min(ceilDiv(g.N*g.Ho*g.Wo, columnElems), 256)
	taps := g.KH * g.KW
	if taps <= maxTaps {
		// Segments of px adjacent output pixels; all taps of one
		// filter per work-group. The shared-memory staging of taps·wg
		// partial sums bounds the work-group size.
		px := 1
		switch {
		case g.Wo >= 16:
			px = 4
		case g.Wo >= 4:
			px = 2
		}
		segW := ceilDiv(g.Wo, px)
		segs := g.N * g.Ho * segW
		chunk := ceilDiv(segs, groups)
		groups = ceilDiv(segs, chunk)
		dst := p.weightDst(op, bs[0], nw, groups)
		wg := min(pow2(chunk, 32, wgReduce), max(32, prevPow2(tapsShared/taps)))
		push := []uint32{u32(g.N), u32(g.C), u32(g.H), u32(g.W), u32(g.O), u32(g.Ho), u32(g.Wo),
			u32(g.PadH), u32(g.PadW), u32(segW), u32(chunk)}
		spec := []uint32{u32(wg), 1, 1, u32(g.KH), u32(g.KW), u32(g.StrideH), u32(g.StrideW), u32(px)}
		p.dispatch(op, "conv2d_bwd_weight_taps", spec, []*engine.Buffer{bs[1], bs[2], dst}, push, groups, g.O*g.C, 1)
		p.finishWeight(op, dst, bs[0], nw, groups)
	} else {
		total := g.N * g.Ho * g.Wo
		chunk := ceilDiv(total, groups)
		groups = ceilDiv(total, chunk)
		dst := p.weightDst(op, bs[0], nw, groups)
		wg := pow2(chunk, 32, wgReduce)
		push := append(append([]uint32{u32(g.N)}, convPush(g)...), u32(chunk))
		p.dispatch(op, "conv2d_bwd_weight", []uint32{u32(wg), 1, 1},
			[]*engine.Buffer{bs[1], bs[2], dst}, push, groups, nw, 1)
		p.finishWeight(op, dst, bs[0], nw, groups)
	}
	if db != nil {
		b, ok := p.bufs(op, []string{"db"}, db)
		if ok {
			p.columnSum(op, bs[1], b[0], g.N, g.O, g.Ho*g.Wo)
		}
	}
}

// weightDst is where the first pass of a weight gradient writes: dw
// itself for one chunk, else a scratch buffer of nw·groups partials.
func (p *Program) weightDst(op string, dw *engine.Buffer, nw, groups int) *engine.Buffer {
	if groups == 1 {
		return dw
	}
	if s := p.newScratch(op, nw*groups); s != nil {
		return s
	}
	return p.be.dummy // p.err is set: nothing more is recorded
}

// finishWeight sums the chunk partials into dw when there are several.
func (p *Program) finishWeight(op string, part, dw *engine.Buffer, nw, groups int) {
	if groups > 1 {
		p.columnSum(op, part, dw, 1, nw, groups)
	}
}

func poolPush(total int, g kernels.PoolGeom) []uint32 {
	return []uint32{u32(total), u32(g.H), u32(g.W), u32(g.Ho), u32(g.Wo),
		u32(g.KH), u32(g.KW), u32(g.StrideH), u32(g.StrideW)}
}

// MaxPool2D records maxpool.comp.
func (p *Program) MaxPool2D(y, argmax, x *kernels.Tensor, pp kernels.Pool2DParams) {
	const op = "MaxPool2D"
	if p.err != nil {
		return
	}
	g, err := kernels.PoolGeometry(op, x, pp)
	if !p.ok(err) || !p.ok(kernels.CheckPoolOut(op, "y", y, g)) || !p.ok(kernels.CheckPoolOut(op, "argmax", argmax, g)) {
		return
	}
	bs, ok := p.bufs(op, []string{"x", "y", "argmax"}, x, y, argmax)
	if !ok {
		return
	}
	total := y.Len()
	p.dispatch(op, "maxpool", []uint32{wgElem, 1, 1}, bs, poolPush(total, g), elemGroups(total), 1, 1)
}

// MaxPool2DBackward records, for non-overlapping windows (the usual
// stride = kernel), a zero fill of dx and maxpool_scatter.comp, one
// write per window; for overlapping windows maxpool_bwd.comp, a gather
// over the windows covering each input element.
func (p *Program) MaxPool2DBackward(dx, dy, argmax *kernels.Tensor, pp kernels.Pool2DParams) {
	const op = "MaxPool2DBackward"
	if p.err != nil {
		return
	}
	g, err := kernels.PoolGeometry(op, dx, pp)
	if !p.ok(err) || !p.ok(kernels.CheckPoolOut(op, "dy", dy, g)) || !p.ok(kernels.CheckPoolOut(op, "argmax", argmax, g)) {
		return
	}
	bs, ok := p.bufs(op, []string{"dy", "argmax", "dx"}, dy, argmax, dx)
	if !ok {
		return
	}
	if g.StrideH >= g.KH && g.StrideW >= g.KW {
		if !p.ok(wrap(op, p.seq.Fill(bs[2], 0))) {
			return
		}
		p.cmds++
		total := dy.Len()
		p.dispatch(op, "maxpool_scatter", []uint32{wgElem, 1, 1}, bs,
			[]uint32{u32(total), u32(g.H * g.W), u32(g.Ho * g.Wo)}, elemGroups(total), 1, 1)
		return
	}
	total := dx.Len()
	p.dispatch(op, "maxpool_bwd", []uint32{wgElem, 1, 1}, bs, poolPush(total, g), elemGroups(total), 1, 1)
}

// Limits of conv2d_bwd_weight_taps.comp: kernels of up to maxTaps taps,
// and taps·work-group size ≤ tapsShared floats of shared memory (16 KiB).
const (
	maxTaps    = 64
	tapsShared = 4096
)

// prevPow2 is the largest power of two ≤ n (n ≥ 1).
func prevPow2(n int) int {
	v := 1
	for v*2 <= n {
		v *= 2
	}
	return v
}

// rowGrid spreads rows work-groups over a 2-D grid within the 65535 limit.
func rowGrid(rows int) (gx, gy int) {
	gx = min(rows, 65535)
	return gx, ceilDiv(rows, gx)
}

// Softmax records softmax.comp: one work-group per row.
func (p *Program) Softmax(y, x *kernels.Tensor, dim int, log bool) {
	if p.err != nil {
		return
	}
	outer, n, inner, err := kernels.AxisDims("Softmax", x, dim)
	if !p.ok(err) || !p.ok(kernels.SameShape("Softmax", y, x)) {
		return
	}
	bs, ok := p.bufs("Softmax", []string{"x", "y"}, x, y)
	if !ok {
		return
	}
	rows := outer * inner
	gx, gy := rowGrid(rows)
	p.dispatch("Softmax", "softmax", []uint32{u32(pow2(n, 32, 256)), 1, 1}, bs,
		[]uint32{u32(rows), u32(n), u32(inner), b32(log)}, gx, gy, 1)
}

// SoftmaxBackward records softmax_bwd.comp.
func (p *Program) SoftmaxBackward(dx, dy, y *kernels.Tensor, dim int, log bool) {
	if p.err != nil {
		return
	}
	outer, n, inner, err := kernels.AxisDims("SoftmaxBackward", y, dim)
	if !p.ok(err) || !p.ok(kernels.SameShape("SoftmaxBackward", dx, dy, y)) {
		return
	}
	bs, ok := p.bufs("SoftmaxBackward", []string{"dy", "y", "dx"}, dy, y, dx)
	if !ok {
		return
	}
	rows := outer * inner
	gx, gy := rowGrid(rows)
	p.dispatch("SoftmaxBackward", "softmax_bwd", []uint32{u32(pow2(n, 32, 256)), 1, 1}, bs,
		[]uint32{u32(rows), u32(n), u32(inner), b32(log)}, gx, gy, 1)
}
