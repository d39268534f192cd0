package engine

import (
	"fmt"
	"sort"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// defaultBlockSize is the size of the shared VkDeviceMemory blocks buffers
// are sub-allocated from. Requests above half a block get their own
// (dedicated) allocation so one huge buffer does not strand a block.
const defaultBlockSize = 64 << 20

// memType is one memory type of the device.
type memType struct {
	flags vk.MemoryPropertyFlags
	heap  uint32
}

func (t memType) has(f vk.MemoryPropertyFlagBits) bool {
	return t.flags&vk.MemoryPropertyFlags(f) == vk.MemoryPropertyFlags(f)
}

const (
	deviceLocal  = vk.MemoryPropertyDeviceLocalBit
	hostVisible  = vk.MemoryPropertyHostVisibleBit
	hostCoherent = vk.MemoryPropertyHostCoherentBit
	hostCached   = vk.MemoryPropertyHostCachedBit
)

// span is a free byte range of a block.
type span struct{ off, size uint64 }

// memBlock is one VkDeviceMemory allocation, mapped once for its lifetime
// when host-visible.
type memBlock struct {
	mem       vk.DeviceMemory
	size      uint64
	typeIndex uint32
	mapped    unsafe.Pointer
	free      []span // sorted by offset, never adjacent
	used      uint64
	dedicated bool
}

// allocation is a byte range of a block.
type allocation struct {
	block     *memBlock
	off, size uint64
}

// ptr is the host address of the allocation (nil if not mapped).
func (a allocation) ptr() unsafe.Pointer {
	if a.block.mapped == nil {
		return nil
	}
	return unsafe.Add(a.block.mapped, a.off)
}

func alignUp(x, a uint64) uint64 {
	if a <= 1 {
		return x
	}
	return (x + a - 1) / a * a
}

// take carves size bytes aligned to align out of b's free list.
func (b *memBlock) take(size, align uint64) (uint64, bool) {
	for i, s := range b.free {
		off := alignUp(s.off, align)
		if off+size > s.off+s.size {
			continue
		}
		var repl []span
		if off > s.off {
			repl = append(repl, span{s.off, off - s.off})
		}
		if end := s.off + s.size; off+size < end {
			repl = append(repl, span{off + size, end - off - size})
		}
		b.free = append(b.free[:i], append(repl, b.free[i+1:]...)...)
		b.used += size
		return off, true
	}
	return 0, false
}

// give returns a range to the free list, merging it with its neighbours.
func (b *memBlock) give(off, size uint64) {
	b.used -= size
	i := sort.Search(len(b.free), func(i int) bool { return b.free[i].off > off })
	b.free = append(b.free, span{})
	copy(b.free[i+1:], b.free[i:])
	b.free[i] = span{off, size}
	if i+1 < len(b.free) && b.free[i].off+b.free[i].size == b.free[i+1].off {
		b.free[i].size += b.free[i+1].size
		b.free = append(b.free[:i+1], b.free[i+2:]...)
	}
	if i > 0 && b.free[i-1].off+b.free[i-1].size == b.free[i].off {
		b.free[i-1].size += b.free[i].size
		b.free = append(b.free[:i], b.free[i+1:]...)
	}
}

// pickType returns the first memory type allowed by bits that has all of
// need, preferring one that also has all of want; -1 if none.
func pickType(types []memType, bits uint32, need, want vk.MemoryPropertyFlagBits) int {
	fallback := -1
	for i, t := range types {
		if bits&(1<<uint(i)) == 0 || !t.has(need) {
			continue
		}
		if t.has(want) {
			return i
		}
		if fallback < 0 {
			fallback = i
		}
	}
	return fallback
}

// Stats counts the memory objects of a Manager.
type Stats struct {
	Blocks          int    // shared VkDeviceMemory blocks
	Dedicated       int    // VkDeviceMemory allocations of one buffer each
	Buffers         int    // live Buffers
	Images          int    // live Images (swapchain images included)
	Semaphores      int    // live Semaphores
	BytesAllocated  uint64 // total size of all VkDeviceMemory allocations
	BytesInUse      uint64 // bytes handed out to buffers (with alignment)
	StagingBytes    uint64 // size of the host staging buffer (0 when unified)
	DescriptorPools int
	Kernels         int
}

// Stats reports the current memory and object counts.
func (m *Manager) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	var s Stats
	for _, b := range m.blocks {
		if b.dedicated {
			s.Dedicated++
		} else {
			s.Blocks++
		}
		s.BytesAllocated += b.size
		s.BytesInUse += b.used
	}
	s.Buffers = len(m.buffers)
	s.Images = len(m.images)
	s.Semaphores = len(m.sems)
	if m.staging != nil {
		s.StagingBytes = m.staging.size
	}
	s.DescriptorPools = len(m.descPools)
	s.Kernels = len(m.kernels)
	return s
}

// newBlock allocates (and maps, if host-visible) one VkDeviceMemory.
// Caller holds m.mu.
func (m *Manager) newBlock(typeIndex uint32, size uint64, dedicated bool) (*memBlock, error) {
	t := m.memTypes[typeIndex]
	heap := m.info.Heaps[t.heap]
	if m.heapUsed[t.heap]+size > m.heapLimit[t.heap] {
		return nil, fmt.Errorf("%w: allocating %d bytes on heap %d (%s, %s in use of %s)",
			ErrOutOfMemory, size, t.heap, heapKind(heap), mib(m.heapUsed[t.heap]), mib(m.heapLimit[t.heap]))
	}
	info := &vk.MemoryAllocateInfo{
		SType:           vk.StructureTypeMemoryAllocateInfo,
		AllocationSize:  vk.DeviceSize(size),
		MemoryTypeIndex: typeIndex,
	}
	var mem vk.DeviceMemory
	r := vk.AllocateMemory(m.dev, info, nil, &mem)
	info.Free()
	if r != vk.Success {
		err := vkErr("vkAllocateMemory", r)
		if isOOM(r) {
			return nil, fmt.Errorf("%w: allocating %d bytes on heap %d (%s, %s): %w", ErrOutOfMemory, size, t.heap, heapKind(heap), mib(heap.Size), err)
		}
		return nil, err
	}
	b := &memBlock{mem: mem, size: size, typeIndex: typeIndex, dedicated: dedicated, free: []span{{0, size}}}
	if t.has(hostVisible) {
		var p unsafe.Pointer
		if r := vk.MapMemory(m.dev, mem, 0, vk.DeviceSize(vk.WholeSize), 0, &p); r != vk.Success {
			vk.FreeMemory(m.dev, mem, nil)
			return nil, vkErr("vkMapMemory", r)
		}
		b.mapped = p
	}
	m.heapUsed[t.heap] += size
	m.blocks = append(m.blocks, b)
	return b, nil
}

func heapKind(h Heap) string {
	if h.DeviceLocal {
		return "device-local"
	}
	return "host"
}

// freeBlock unmaps and frees b. Caller holds m.mu.
func (m *Manager) freeBlock(b *memBlock) {
	for i, x := range m.blocks {
		if x == b {
			m.blocks = append(m.blocks[:i], m.blocks[i+1:]...)
			break
		}
	}
	if b.mapped != nil {
		vk.UnmapMemory(m.dev, b.mem)
	}
	vk.FreeMemory(m.dev, b.mem, nil)
	m.heapUsed[m.memTypes[b.typeIndex].heap] -= b.size
}

// allocate finds size bytes of memory type typeIndex aligned to align:
// in an existing block, a new block, or a dedicated allocation for large
// requests. Caller holds m.mu.
func (m *Manager) allocate(typeIndex uint32, size, align uint64) (allocation, error) {
	if size > m.blockSize/2 {
		b, err := m.newBlock(typeIndex, size, true)
		if err != nil {
			return allocation{}, err
		}
		b.take(size, 1)
		return allocation{b, 0, size}, nil
	}
	for _, b := range m.blocks {
		if b.dedicated || b.typeIndex != typeIndex {
			continue
		}
		if off, ok := b.take(size, align); ok {
			return allocation{b, off, size}, nil
		}
	}
	b, err := m.newBlock(typeIndex, m.blockSize, false)
	if err != nil {
		return allocation{}, err
	}
	off, _ := b.take(size, align)
	return allocation{b, off, size}, nil
}

// release returns a to its block; an empty block is freed unless it is the
// last shared block of its type (kept to avoid reallocating on the next
// buffer). Caller holds m.mu.
func (m *Manager) release(a allocation) {
	b := a.block
	b.give(a.off, a.size)
	if b.used != 0 {
		return
	}
	if !b.dedicated {
		for _, x := range m.blocks {
			if x != b && !x.dedicated && x.typeIndex == b.typeIndex {
				m.freeBlock(b)
				return
			}
		}
		return
	}
	m.freeBlock(b)
}
