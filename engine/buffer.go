package engine

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"

	"github.com/vkneuro/vkneuro/engine/internal/vkc"
)

// stagingChunk is the size of the host staging buffer used when buffers are
// not host-visible; larger transfers go through it in chunks.
const stagingChunk = 32 << 20

// Buffer is an array of float32 on the device: its own VkBuffer bound to a
// range of a shared memory block.
type Buffer struct {
	m     *Manager
	buf   vk.Buffer
	alloc allocation
	n     int
	host  bool // in mapped host memory whatever the Manager's mode
	freed bool
}

// stagingBuffer is the host-visible buffer for staging copies.
type stagingBuffer struct {
	buf   vk.Buffer
	alloc allocation
	size  uint64
}

// Len is the number of float32 elements.
func (b *Buffer) Len() int { return b.n }

// Bytes is the size in bytes.
func (b *Buffer) Bytes() uint64 { return uint64(b.n) * 4 }

// String names the buffer for error messages.
func (b *Buffer) String() string { return fmt.Sprintf("buffer[%d floats]", b.n) }

// createBuffer makes a VkBuffer and binds it to fresh memory of the best
// type allowed for it. Caller holds m.mu.
func (m *Manager) createBuffer(size uint64, usage vk.BufferUsageFlagBits, need, want vk.MemoryPropertyFlagBits, dedicated bool) (vk.Buffer, allocation, error) {
	info := &vk.BufferCreateInfo{
		SType:       vk.StructureTypeBufferCreateInfo,
		Size:        vk.DeviceSize(size),
		Usage:       vk.BufferUsageFlags(usage),
		SharingMode: vk.SharingModeExclusive,
	}
	var buf vk.Buffer
	r := vk.CreateBuffer(m.dev, info, nil, &buf)
	info.Free()
	if r != vk.Success {
		err := vkErr("vkCreateBuffer", r)
		if isOOM(r) {
			return vk.NullBuffer, allocation{}, fmt.Errorf("%w: creating a buffer of %d bytes: %w", ErrOutOfMemory, size, err)
		}
		return vk.NullBuffer, allocation{}, err
	}
	var req vk.MemoryRequirements
	vk.GetBufferMemoryRequirements(m.dev, buf, &req)
	req.Deref()
	ti := pickType(m.memTypes, req.MemoryTypeBits, need, want)
	if ti < 0 {
		vk.DestroyBuffer(m.dev, buf, nil)
		return vk.NullBuffer, allocation{}, fmt.Errorf("engine: no memory type with flags %#x for a buffer (allowed types %#b)", uint32(need), req.MemoryTypeBits)
	}
	align := uint64(req.Alignment)
	if a := m.info.MinStorageBufferOffsetAlignment; a > align {
		align = a
	}
	var a allocation
	var err error
	if dedicated {
		var b *memBlock
		b, err = m.newBlock(uint32(ti), uint64(req.Size), true)
		if err == nil {
			b.take(uint64(req.Size), 1)
			a = allocation{b, 0, uint64(req.Size)}
		}
	} else {
		a, err = m.allocate(uint32(ti), uint64(req.Size), align)
	}
	if err != nil {
		vk.DestroyBuffer(m.dev, buf, nil)
		return vk.NullBuffer, allocation{}, err
	}
	if r := vk.BindBufferMemory(m.dev, buf, a.block.mem, vk.DeviceSize(a.off)); r != vk.Success {
		m.release(a)
		vk.DestroyBuffer(m.dev, buf, nil)
		return vk.NullBuffer, allocation{}, vkErr("vkBindBufferMemory", r)
	}
	return buf, a, nil
}

// bufferSize checks the length of a new buffer and returns its bytes.
func (m *Manager) bufferSize(op string, n int) (uint64, error) {
	if n <= 0 {
		return 0, fmt.Errorf("engine: %s(%d): length must be positive", op, n)
	}
	size := uint64(n) * 4
	if limit := uint64(m.info.MaxStorageBufferRange); uint64(n) > limit/4 {
		return 0, fmt.Errorf("%w: %s(%d): %d bytes asked, device %q allows %d bytes (%d floats) per storage buffer",
			ErrTooLarge, op, n, size, m.info.Name, limit, limit/4)
	}
	return size, nil
}

// NewBuffer allocates n zero-filled float32 elements.
func (m *Manager) NewBuffer(n int) (*Buffer, error) {
	size, err := m.bufferSize("NewBuffer", n)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	var buf vk.Buffer
	var a allocation
	usage := vk.BufferUsageStorageBufferBit | vk.BufferUsageTransferSrcBit | vk.BufferUsageTransferDstBit
	if m.unified {
		buf, a, err = m.createBuffer(size, usage, deviceLocal|hostVisible|hostCoherent, hostCached, false)
	} else {
		buf, a, err = m.createBuffer(size, usage, deviceLocal, 0, false)
		if err != nil && !errorsIsOOM(err) {
			// Some devices have no device-local type allowed for storage
			// buffers; any memory will do.
			buf, a, err = m.createBuffer(size, usage, 0, 0, false)
		}
	}
	if err != nil {
		m.mu.Unlock()
		return nil, fmt.Errorf("engine: NewBuffer(%d floats, %d bytes): %w", n, size, err)
	}
	b := &Buffer{m: m, buf: buf, alloc: a, n: n}
	m.buffers[b] = struct{}{}
	m.mu.Unlock()

	if p := a.ptr(); p != nil && m.unified {
		clear(unsafe.Slice((*byte)(p), size))
		return b, nil
	}
	m.xferMu.Lock()
	defer m.xferMu.Unlock()
	err = m.oneShot(func(cmd vk.CommandBuffer) {
		vk.CmdFillBuffer(cmd, buf, 0, vk.DeviceSize(size), 0)
	})
	if err != nil {
		b.Free()
		return nil, fmt.Errorf("engine: NewBuffer(%d): zero fill: %w", n, err)
	}
	return b, nil
}

// NewHostBuffer allocates n zero-filled float32 elements in host-visible,
// coherent memory (cached where the device has it), mapped for the life
// of the buffer: Upload and Download of it are memory copies, never
// submits, also on a device whose other buffers sit behind a staging
// buffer. Sequence.Copy into it is how a sequence hands results to the
// host inside its own submit (a training step's loss on a discrete GPU).
// Shaders may bind it too, at host-memory speed.
func (m *Manager) NewHostBuffer(n int) (*Buffer, error) {
	size, err := m.bufferSize("NewHostBuffer", n)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	usage := vk.BufferUsageStorageBufferBit | vk.BufferUsageTransferSrcBit | vk.BufferUsageTransferDstBit
	buf, a, err := m.createBuffer(size, usage, hostVisible|hostCoherent, hostCached, false)
	if err != nil {
		return nil, fmt.Errorf("engine: NewHostBuffer(%d floats, %d bytes): %w", n, size, err)
	}
	clear(unsafe.Slice((*byte)(a.ptr()), size))
	b := &Buffer{m: m, buf: buf, alloc: a, n: n, host: true}
	m.buffers[b] = struct{}{}
	return b, nil
}

// Free releases the buffer's memory for reuse. Later calls do nothing.
// The buffer must not be in use by a running sequence.
func (b *Buffer) Free() {
	if b == nil {
		return
	}
	m := b.m
	m.freeOnce(&b.freed, func() {
		delete(m.buffers, b)
		vk.DestroyBuffer(m.dev, b.buf, nil)
		m.release(b.alloc)
	})
}

// freeOnce marks an object of m freed and, the first time and while m is
// open (Close destroys everything), runs destroy under m.mu.
func (m *Manager) freeOnce(freed *bool, destroy func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !*freed && !m.closed {
		destroy()
	}
	*freed = true
}

// checkRange validates a host transfer of count elements at off.
func (m *Manager) checkRange(op string, b *Buffer, count, off int) error {
	if b == nil {
		return fmt.Errorf("engine: %s: nil buffer", op)
	}
	if b.m != m {
		return fmt.Errorf("engine: %s: %v belongs to another Manager", op, b)
	}
	if b.freed {
		return fmt.Errorf("engine: %s: %v was freed", op, b)
	}
	if off < 0 || count < 0 || off+count > b.n {
		return fmt.Errorf("engine: %s: elements [%d, %d) out of range of %v", op, off, off+count, b)
	}
	return nil
}

// Upload copies src into elements [off, off+len(src)) of b.
func (m *Manager) Upload(b *Buffer, src []float32, off int) error {
	if err := m.checkRange("Upload", b, len(src), off); err != nil {
		return err
	}
	if len(src) == 0 {
		return nil
	}
	if m.unified || b.host {
		dst := unsafe.Slice((*float32)(unsafe.Add(b.alloc.ptr(), off*4)), len(src))
		copy(dst, src)
		return nil
	}
	return m.staged(b, off, len(src), func(stage []float32, done int) {
		copy(stage, src[done:done+len(stage)])
	}, nil)
}

// Download copies elements [off, off+len(dst)) of b into dst.
func (m *Manager) Download(b *Buffer, dst []float32, off int) error {
	if err := m.checkRange("Download", b, len(dst), off); err != nil {
		return err
	}
	if len(dst) == 0 {
		return nil
	}
	if m.unified || b.host {
		src := unsafe.Slice((*float32)(unsafe.Add(b.alloc.ptr(), off*4)), len(dst))
		copy(dst, src)
		return nil
	}
	return m.staged(b, off, len(dst), nil, func(stage []float32, done int) {
		copy(dst[done:done+len(stage)], stage)
	})
}

// staged moves count elements at off between b and the host through the
// staging buffer, one chunk per submit: fill (upload) writes a chunk into
// the staging memory before the copy, drain (download) reads it after.
func (m *Manager) staged(b *Buffer, off, count int, fill, drain func(stage []float32, done int)) error {
	m.xferMu.Lock()
	defer m.xferMu.Unlock()
	if err := m.ensureStaging(); err != nil {
		return err
	}
	chunk := int(m.staging.size / 4)
	for done := 0; done < count; done += chunk {
		n := min(chunk, count-done)
		stage := unsafe.Slice((*float32)(m.staging.alloc.ptr()), n)
		at, size := uint64(off+done)*4, uint64(n)*4
		var err error
		if fill != nil {
			fill(stage, done)
			err = m.oneShot(func(cmd vk.CommandBuffer) {
				m.fns.CmdCopyBuffer(cmd, m.staging.buf, b.buf, 0, at, size)
			})
		} else {
			err = m.oneShot(func(cmd vk.CommandBuffer) {
				m.fns.CmdCopyBuffer(cmd, b.buf, m.staging.buf, at, 0, size)
			})
		}
		if err != nil {
			return fmt.Errorf("engine: staging copy of %v: %w", b, err)
		}
		if drain != nil {
			drain(stage, done)
		}
	}
	return nil
}

// ensureStaging creates the staging buffer on first use. Caller holds xferMu.
func (m *Manager) ensureStaging() error {
	if m.staging != nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	size := uint64(stagingChunk)
	buf, a, err := m.createBuffer(size, vk.BufferUsageTransferSrcBit|vk.BufferUsageTransferDstBit,
		hostVisible|hostCoherent, hostCached, true)
	if err != nil {
		return fmt.Errorf("engine: staging buffer: %w", err)
	}
	m.staging = &stagingBuffer{buf: buf, alloc: a, size: size}
	return nil
}

// oneShot records one transfer command buffer, submits it and waits.
// A barrier before makes earlier work (sequences, host writes) visible to
// the transfer; one after makes the transfer visible to the host and to
// later submits. Caller holds xferMu.
func (m *Manager) oneShot(record func(cmd vk.CommandBuffer)) error {
	cmd := m.xferCmd
	begin := &vk.CommandBufferBeginInfo{
		SType: vk.StructureTypeCommandBufferBeginInfo,
		Flags: vk.CommandBufferUsageFlags(vk.CommandBufferUsageOneTimeSubmitBit),
	}
	m.poolMu.Lock()
	err := vkErr("vkBeginCommandBuffer", vk.BeginCommandBuffer(cmd, begin))
	begin.Free()
	if err == nil {
		m.barrier(cmd, allStages|hostStage, allStages, allWrites|vk.AccessHostWriteBit, allAccess)
		record(cmd)
		m.barrier(cmd, allStages, allStages|hostStage, allWrites, allAccess|vk.AccessHostReadBit)
		err = vkErr("vkEndCommandBuffer", vk.EndCommandBuffer(cmd))
	}
	m.poolMu.Unlock()
	if err != nil {
		return err
	}
	return m.submitWait(cmd, m.xferFence, nil)
}

const (
	allStages = vk.PipelineStageComputeShaderBit | vk.PipelineStageTransferBit
	hostStage = vk.PipelineStageHostBit
	allWrites = vk.AccessShaderWriteBit | vk.AccessTransferWriteBit
	allAccess = vk.AccessShaderReadBit | vk.AccessShaderWriteBit | vk.AccessTransferReadBit | vk.AccessTransferWriteBit
)

// barrier records a global memory barrier and the layout transitions
// images.
func (m *Manager) barrier(cmd vk.CommandBuffer, src, dst vk.PipelineStageFlagBits, srcAccess, dstAccess vk.AccessFlagBits, images ...vkc.ImageBarrier) {
	m.fns.CmdPipelineBarrier(cmd, vk.PipelineStageFlags(src), vk.PipelineStageFlags(dst), vk.AccessFlags(srcAccess), vk.AccessFlags(dstAccess), images...)
}
