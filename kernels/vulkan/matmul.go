package vulkan

import (
	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
)

// Matrix products: SGEMM in matmul.comp with BM×BN×BK block tiles
// staged in shared memory and a TM×TN register block per invocation,
// all specialization constants, as are the transposes and the vec4 tile
// loads (the shader documents its thread layout). The host picks the
// tile (gpuMatMul, cpuMatMul) and whether k is split (chooseMatMul):
// when the output has too few tiles to fill the device and k is deep,
// each split writes a partial product to scratch and matmul_reduce.comp
// sums them; k is split anyway into chunks short enough for llvmpipe's
// loop limit (loopBudget: a deeper chunk silently lost the rest of k,
// 60×1152 = 60×23589 · 23589×1152, the encode model's input gradient,
// came out 27% off); splits beyond a 64 MiB scratch run in passes that
// add into c.

// matmulPush is matmul.comp's push-constant block.
type matmulPush struct {
	M, N, K     uint32
	Alpha, Beta float32
	KChunk      uint32 // k range of one split
	Split       uint32 // 1: write raw partial products for matmul_reduce
	KBase       uint32 // first k of this pass
}

// matmulReducePush is matmul_reduce.comp's push-constant block.
type matmulReducePush struct {
	MN, Splits  uint32
	Alpha, Beta float32
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
// pipeline at first use in time growing with the register block: 8×8
// per invocation is the compromise between the two (the measurements
// are in bench/RESULTS.md, "lavapipe matmul register blocks"). Block
// sizes are 16, 32, 64 or 128 per dimension,
// the smallest that covers it, since padding costs real work on a CPU;
// few block shapes keep the number of pipelines small.
func cpuMatMul(m, n int) matmulConfig {
	return matmulConfig{bm: pow2(m, 16, 128), bn: pow2(n, 16, 128), bk: 8, tm: 8, tn: 8}
}

// tileLoops bounds the loop iterations of matmul.comp per BK-deep k
// tile: the two staging loops, whose trip counts depend on the
// invocation and so are not unrolled, the kk loop, and the k loop
// itself (on lavapipe a 16×16×8 tile of 4 invocations counts 76 =
// 32 + 32 + 8 + 4, as this formula gives).
func (c matmulConfig) tileLoops() int {
	t := c.threads()
	return ceilDiv(c.bm*c.bk, t) + ceilDiv(c.bn*c.bk, t) + c.bk + 4
}

// maxKChunk is the deepest k range one invocation may cover within
// loopBudget; bounded chunks cost GPUs nothing but a few more split-K
// partials.
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
	p.matmul("MatMul", bs[1], bs[2], bs[0], m, n, k, transA, transB, alpha, beta)
}

// matmul records c = alpha·op(a)·op(b) + beta·c on buffers, for MatMul
// and the fused ops that form a product into scratch.
func (p *Program) matmul(op string, a, b, c *engine.Buffer, m, n, k int, transA, transB bool, alpha, beta float32) {
	bs := []*engine.Buffer{c, a, b}
	cfg, splits, kChunk := chooseMatMul(m, n, k, p.be.m.Info().CPU && !gpuTiles)
	spec := cfg.spec(m, n, k, transA, transB)
	gx, gy := ceilDiv(n, cfg.bn), ceilDiv(m, cfg.bm)
	// Splits run in passes of up to perPass, sharing one scratch
	// buffer; every pass after the first adds into c (beta 1).
	perPass := min(splits, max(1, maxSplitScratch/(m*n)))
	var part *engine.Buffer
	if perPass > 1 {
		if part = p.newScratch(op, perPass*m*n); part == nil {
			return
		}
	}
	for z0 := 0; z0 < splits; z0 += perPass {
		zs := min(perPass, splits-z0)
		push := matmulPush{M: u32(m), N: u32(n), K: u32(k), Alpha: alpha, Beta: beta, KChunk: u32(kChunk), KBase: u32(z0 * kChunk)}
		if z0 > 0 {
			push.Beta = 1
		}
		if zs == 1 {
			p.dispatch(op, "matmul", spec, []*engine.Buffer{bs[1], bs[2], bs[0]}, push, gx, gy, 1)
			continue
		}
		red := matmulReducePush{MN: u32(m * n), Splits: u32(zs), Alpha: push.Alpha, Beta: push.Beta}
		push.Alpha, push.Beta, push.Split = 1, 0, 1
		p.dispatch(op, "matmul", spec, []*engine.Buffer{bs[1], bs[2], part}, push, gx, gy, zs)
		p.dispatch(op, "matmul_reduce", []uint32{wgElem, 1, 1}, []*engine.Buffer{part, bs[0]}, red, elemGroups(m*n), 1, 1)
	}
}
