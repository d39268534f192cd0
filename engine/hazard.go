package engine

import vk "github.com/vulkan-go/vulkan"

// A Sequence places a pipeline barrier before a command only where the
// command would otherwise race with an earlier one of the same sequence:
// it reads what an earlier command wrote (read after write), writes what
// an earlier one wrote (write after write) or writes over what an
// earlier one read (write after read). Atomic read-modify-writes of
// device scope do not race with each other, so they are ordered only
// against the plain accesses around them. hazards keeps, for every byte
// range of memory the sequence touches, the last write, the atomics and
// the reads since, and what the barriers recorded so far have done for
// them, as Vulkan's memory model defines it: a barrier orders the
// accesses of its source stages before those of its destination stages,
// and makes the writes among them that its source access mask names
// visible to the accesses its destination access mask names; a later
// barrier whose source stages include the destination stages of an
// earlier one extends that chain. The barriers are global memory
// barriers, so one covers every region whose hazards it resolves, and
// the tracker applies each to all regions.
//
// Before the first command, one barrier orders everything earlier
// (previous submits, host writes) before the sequence and after the last
// command one makes everything visible to the host and to later submits
// (see record), so the tracker starts every Run from a clean state.

// stage is a set of the pipeline stages a sequence's commands run in.
type stage uint8

const (
	stageCompute stage = 1 << iota
	stageTransfer
	numStages = 2
)

// access is a set of memory accesses by kind; each kind belongs to one
// stage, so a set of kinds also says the stages.
type access uint8

const (
	shaderRead access = 1 << iota
	shaderWrite
	// shaderAtomic is atomic read-modify-writes (of device scope) and
	// nothing else.
	shaderAtomic
	transferRead
	transferWrite

	plainWrites = shaderWrite | transferWrite
	modifies    = plainWrites | shaderAtomic
)

// accessKinds pairs each kind with its stage and its Vulkan access flags.
var accessKinds = []struct {
	a access
	s stage
	f vk.AccessFlagBits
}{
	{shaderRead, stageCompute, vk.AccessShaderReadBit},
	{shaderWrite, stageCompute, vk.AccessShaderWriteBit},
	{shaderAtomic, stageCompute, vk.AccessShaderReadBit | vk.AccessShaderWriteBit},
	{transferRead, stageTransfer, vk.AccessTransferReadBit},
	{transferWrite, stageTransfer, vk.AccessTransferWriteBit},
}

const writeFlags = vk.AccessShaderWriteBit | vk.AccessTransferWriteBit

func (a access) stages() stage {
	var s stage
	for _, k := range accessKinds {
		if a&k.a != 0 {
			s |= k.s
		}
	}
	return s
}

func (a access) vk() vk.AccessFlagBits {
	var f vk.AccessFlagBits
	for _, k := range accessKinds {
		if a&k.a != 0 {
			f |= k.f
		}
	}
	return f
}

// madeVisible is the kinds of access in the second scope of a barrier
// to the stages dst with access mask flags: those of dst's stages all of
// whose flags are in the mask.
func madeVisible(dst stage, flags vk.AccessFlagBits) access {
	var a access
	for _, k := range accessKinds {
		if dst&k.s != 0 && flags&k.f == k.f {
			a |= k.a
		}
	}
	return a
}

// inFirstScope reports whether barrier b makes writes of kind w
// available: w's stage is a source stage and its write flag is in the
// source access mask.
func (b barrier) inFirstScope(w access) bool {
	return b.src&w.stages() != 0 && b.srcAccess.vk()&w.vk()&writeFlags != 0
}

func (s stage) vk() vk.PipelineStageFlagBits {
	var f vk.PipelineStageFlagBits
	if s&stageCompute != 0 {
		f |= vk.PipelineStageComputeShaderBit
	}
	if s&stageTransfer != 0 {
		f |= vk.PipelineStageTransferBit
	}
	return f
}

// index is the position of a single stage in per-stage arrays.
func (s stage) index() int {
	if s == stageTransfer {
		return 1
	}
	return 0
}

// memKey names the memory a region lies in: a block that buffers are
// sub-allocated from (their regions are byte ranges of the block, so
// buffers sharing a block are told apart by offset), or an image, which
// is tracked whole.
type memKey struct {
	block *memBlock
	img   *Image
}

// use is one command's accesses of the bytes [lo, hi) of key's memory,
// all in one stage.
type use struct {
	key    memKey
	lo, hi uint64
	acc    access
}

// bufferUse is an access of the first n bytes of b.
func bufferUse(b *Buffer, n uint64, acc access) use {
	off := b.alloc.off
	return use{key: memKey{block: b.alloc.block}, lo: off, hi: off + n, acc: acc}
}

// imageUse is an access of all of im.
func imageUse(im *Image, acc access) use {
	return use{key: memKey{img: im}, lo: 0, hi: 1, acc: acc}
}

// barrier is one vkCmdPipelineBarrier with a global memory barrier;
// src == 0 means none is needed.
type barrier struct {
	src, dst             stage
	srcAccess, dstAccess access
}

// segment is a byte range whose accesses since the sequence began are
// the same throughout.
type segment struct {
	lo, hi uint64
	// write is the kind of the last plain write, 0 before any; visible
	// the kinds of access it is visible to, and chain the stages it is
	// available to and ordered before.
	write   access
	visible access
	chain   stage
	// atomics says whether atomics have changed the range since, and
	// atomicVisible and atomicChain are visible and chain for them.
	atomics       bool
	atomicVisible access
	atomicChain   stage
	// readAt is the stages that read the range since the last write, and
	// ordered[i] the stages that every such read of stage i is ordered
	// before.
	readAt  stage
	ordered [numStages]stage
}

// hazards is the access history of one sequence's memory.
type hazards struct {
	mem map[memKey][]segment
}

// add records a command's uses and returns the barrier to place before
// it (src == 0: none). A command's uses do not order among themselves:
// a dispatch may read and write one buffer through two bindings.
func (h *hazards) add(uses []use) barrier {
	if h.mem == nil {
		h.mem = map[memKey][]segment{}
	}
	var b barrier
	for _, u := range uses {
		h.check(u, &b)
	}
	if b.src != 0 {
		h.apply(b)
	}
	// A plain write by the command last: it is what later commands wait
	// for, which orders them after the command's other accesses too.
	for _, u := range uses {
		if u.acc&plainWrites == 0 {
			h.record(u)
		}
	}
	for _, u := range uses {
		if u.acc&plainWrites != 0 {
			h.record(u)
		}
	}
	return b
}

// check adds to b what u needs ordered before it.
func (h *hazards) check(u use, b *barrier) {
	s := u.acc.stages()
	plain := u.acc &^ shaderAtomic
	for _, g := range h.mem[u.key] {
		if g.hi <= u.lo || g.lo >= u.hi {
			continue
		}
		if g.write != 0 && u.acc&^g.visible != 0 { // read or write after write
			b.src |= g.write.stages()
			b.srcAccess |= g.write
			b.dst |= s
			b.dstAccess |= u.acc
		}
		if g.atomics && plain&^g.atomicVisible != 0 { // plain access after atomics
			b.src |= stageCompute
			b.srcAccess |= shaderWrite
			b.dst |= s
			b.dstAccess |= plain
		}
		if u.acc&modifies == 0 {
			continue
		}
		for r := stage(1); r < 1<<numStages; r <<= 1 { // write after read
			if g.readAt&r != 0 && g.ordered[r.index()]&s == 0 {
				b.src |= r
				b.dst |= s
			}
		}
	}
}

// apply records the effect of barrier b on every region.
func (h *hazards) apply(b barrier) {
	seen := madeVisible(b.dst, b.dstAccess.vk())
	for _, segs := range h.mem {
		for i := range segs {
			g := &segs[i]
			if g.write != 0 && (b.inFirstScope(g.write) || g.chain&b.src != 0) {
				g.visible |= seen
				g.chain |= b.dst
			}
			if g.atomics && (b.inFirstScope(shaderAtomic) || g.atomicChain&b.src != 0) {
				g.atomicVisible |= seen
				g.atomicChain |= b.dst
			}
			for r := stage(1); r < 1<<numStages; r <<= 1 {
				if o := &g.ordered[r.index()]; g.readAt&r != 0 && (b.src&r != 0 || *o&b.src != 0) {
					*o |= b.dst
				}
			}
		}
	}
}

// record notes u as the latest access of its range.
func (h *hazards) record(u use) {
	if u.hi <= u.lo {
		return
	}
	s := u.acc.stages()
	touch := func(g segment) segment {
		if u.acc&plainWrites != 0 {
			return segment{lo: g.lo, hi: g.hi, write: u.acc & plainWrites}
		}
		if u.acc&shaderAtomic != 0 {
			g.atomics, g.atomicVisible, g.atomicChain = true, 0, 0
		}
		if u.acc&^shaderAtomic != 0 {
			g.readAt |= s
			g.ordered[s.index()] = 0 // a new read, ordered before nothing yet
		}
		return g
	}
	old := h.mem[u.key]
	out := make([]segment, 0, len(old)+2)
	at := u.lo // [at, u.hi) is not yet in out
	fill := func(end uint64) {
		if at < end {
			out = append(out, touch(segment{lo: at, hi: end}))
			at = end
		}
	}
	for _, g := range old {
		switch {
		case g.hi <= u.lo:
			out = append(out, g)
		case g.lo >= u.hi:
			fill(u.hi)
			out = append(out, g)
		default:
			if g.lo < u.lo {
				p := g
				p.hi = u.lo
				out = append(out, p)
			}
			fill(g.lo)
			p := g
			p.lo, p.hi = max(g.lo, u.lo), min(g.hi, u.hi)
			out = append(out, touch(p))
			at = p.hi
			if g.hi > u.hi {
				p := g
				p.lo = u.hi
				out = append(out, p)
			}
		}
	}
	fill(u.hi)
	// Merge neighbours with the same history, so that a buffer accessed
	// whole stays one segment.
	merged := out[:1]
	for _, g := range out[1:] {
		if last := &merged[len(merged)-1]; last.hi == g.lo && sameHistory(*last, g) {
			last.hi = g.hi
			continue
		}
		merged = append(merged, g)
	}
	h.mem[u.key] = merged
}

// sameHistory reports whether a and b differ in their ranges only.
func sameHistory(a, b segment) bool {
	a.lo, a.hi = b.lo, b.hi
	return a == b
}
