package engine

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	vk "github.com/vulkan-go/vulkan"

	"github.com/vkneuro/vkneuro/engine/internal/vkc"
)

// Options choose and configure the device of a Manager.
type Options struct {
	// Device is a device index ("0") or a case-insensitive substring of its
	// name; "" means the env VKNEURO_DEVICE, then the best device by type
	// (discrete > integrated > virtual > CPU).
	Device string
	// AllowCPU allows choosing a CPU driver (lavapipe, SwiftShader)
	// automatically. An explicit Device choice always may.
	AllowCPU bool
	// Validation enables VK_LAYER_KHRONOS_validation, with its
	// synchronization validation, and collects its messages (see
	// Manager.ValidationErrors); a hazard between commands is an error.
	// The env VKNEURO_VALIDATION=1 enables it too.
	Validation bool
	// InstanceExtensions and DeviceExtensions are enabled in addition to
	// what compute needs, e.g. the window-system extensions a swapchain
	// needs (VK_KHR_surface, VK_KHR_xlib_surface; VK_KHR_swapchain). Open
	// fails, naming the extension, if one is not available.
	InstanceExtensions []string
	DeviceExtensions   []string
	// Staging keeps buffers out of host-visible memory and moves data
	// through a host staging buffer, as on a discrete GPU, even on a
	// device whose memory the host could map (lavapipe, integrated
	// GPUs): it lets such a machine exercise and test that path.
	Staging bool

	// Test hooks: shrink the shared block size, limit every heap.
	blockSize uint64
	heapLimit uint64
}

// Manager owns one Vulkan instance and device, their memory, kernels and
// sequences.
type Manager struct {
	mu     sync.Mutex // guards everything below except xfer*, and the queue and semaphore states
	closed bool

	info  DeviceInfo
	inst  vk.Instance
	fns   *vkc.Funcs // the calls vulkan-go cannot make safely (see vkc)
	col   *collector
	hook  *debugHook
	dev   vk.Device
	queue vk.Queue
	pool  vk.CommandPool

	memTypes  []memType
	heapUsed  []uint64
	heapLimit []uint64
	blockSize uint64
	unified   bool
	blocks    []*memBlock
	buffers   map[*Buffer]struct{}
	images    map[*Image]struct{}
	sems      map[*Semaphore]struct{}
	kernels   map[string]*Kernel
	seqs      map[*Sequence]struct{}
	descPools []*descPool

	submits atomic.Uint64
	ran     ranCounts

	// poolMu serialises use of the command pool, which Vulkan requires
	// to be externally synchronised: allocating, recording and freeing
	// any command buffer (a Sequence's first Run, transfers). Taken
	// after mu when both are held.
	poolMu sync.Mutex

	xferMu    sync.Mutex // serialises staging transfers and zero fills
	xferCmd   vk.CommandBuffer
	xferFence vk.Fence
	staging   *stagingBuffer
}

// Open creates an instance, chooses a device and opens it.
func Open(opts Options) (*Manager, error) {
	if os.Getenv("VKNEURO_VALIDATION") == "1" {
		opts.Validation = true
	}
	m := &Manager{
		col:     &collector{},
		buffers: map[*Buffer]struct{}{},
		images:  map[*Image]struct{}{},
		sems:    map[*Semaphore]struct{}{},
		kernels: map[string]*Kernel{},
		seqs:    map[*Sequence]struct{}{},
	}
	opened := false
	defer func() {
		if !opened {
			m.destroy() // frees whatever was made before the error
		}
	}()
	var err error
	if m.inst, err = newInstance(opts.Validation, opts.InstanceExtensions); err != nil {
		return nil, err
	}
	if opts.Validation {
		if m.hook, err = installDebugReport(m.inst, m.col); err != nil {
			return nil, err
		}
	}
	if m.fns, err = vkc.Load(m.inst); err != nil {
		return nil, err
	}
	devs, err := enumerate(m.inst, m.fns)
	if err != nil {
		return nil, err
	}
	idx, err := choose(devs, opts)
	if err != nil {
		return nil, err
	}
	m.info = devs[idx]
	if err := m.openDevice(opts.DeviceExtensions); err != nil {
		return nil, err
	}
	m.setupMemory(opts)
	if err := m.setupTransfer(); err != nil {
		return nil, err
	}
	opened = true
	return m, nil
}

func (m *Manager) openDevice(extensions []string) error {
	exts := make([]string, 0, len(extensions))
	if len(extensions) > 0 {
		have, err := deviceExtensions(m.fns, m.info.handle)
		if err != nil {
			return err
		}
		for _, e := range extensions {
			if !have[e] {
				return fmt.Errorf("engine: Options.DeviceExtensions: device %s lacks extension %s", m.info.Name, e)
			}
			exts = append(exts, cstr(e))
		}
	}
	qinfo := []vk.DeviceQueueCreateInfo{{
		SType:            vk.StructureTypeDeviceQueueCreateInfo,
		QueueFamilyIndex: m.info.queueFamily,
		QueueCount:       1,
		PQueuePriorities: []float32{1},
	}}
	dinfo := &vk.DeviceCreateInfo{
		SType:                vk.StructureTypeDeviceCreateInfo,
		QueueCreateInfoCount: 1,
		PQueueCreateInfos:    qinfo,
	}
	if len(exts) > 0 {
		dinfo.EnabledExtensionCount = uint32(len(exts))
		dinfo.PpEnabledExtensionNames = exts
	}
	var dev vk.Device
	r := vk.CreateDevice(m.info.handle, dinfo, nil, &dev)
	// Free releases the binding's C copy of dinfo and keeps dinfo, whose
	// priorities and names the copy points into, alive until the call
	// has returned.
	dinfo.Free()
	if err := vkErr("vkCreateDevice", r); err != nil {
		return fmt.Errorf("engine: opening %s: %w", m.info.Name, err)
	}
	m.dev = dev
	var q vk.Queue
	vk.GetDeviceQueue(dev, m.info.queueFamily, 0, &q)
	m.queue = q
	pinfo := &vk.CommandPoolCreateInfo{
		SType:            vk.StructureTypeCommandPoolCreateInfo,
		Flags:            vk.CommandPoolCreateFlags(vk.CommandPoolCreateResetCommandBufferBit),
		QueueFamilyIndex: m.info.queueFamily,
	}
	var pool vk.CommandPool
	r = vk.CreateCommandPool(dev, pinfo, nil, &pool)
	pinfo.Free()
	if err := vkErr("vkCreateCommandPool", r); err != nil {
		return err
	}
	m.pool = pool
	return nil
}

// setupMemory reads the memory types and decides between unified memory
// (buffers host-visible and mapped) and device-local memory with staging.
func (m *Manager) setupMemory(opts Options) {
	var mem vk.PhysicalDeviceMemoryProperties
	vk.GetPhysicalDeviceMemoryProperties(m.info.handle, &mem)
	mem.Deref()
	hasDeviceOnly := false
	unifiedOK := false
	for i := uint32(0); i < mem.MemoryTypeCount; i++ {
		mem.MemoryTypes[i].Deref()
		t := memType{flags: mem.MemoryTypes[i].PropertyFlags, heap: mem.MemoryTypes[i].HeapIndex}
		m.memTypes = append(m.memTypes, t)
		if t.has(deviceLocal) && !t.has(hostVisible) {
			hasDeviceOnly = true
		}
		if t.has(deviceLocal | hostVisible | hostCoherent) {
			unifiedOK = true
		}
	}
	// A discrete GPU with resizable BAR also has device-local host-visible
	// memory, but host reads of it cross PCIe uncached: stage there.
	discrete := m.info.Type == "discrete GPU"
	m.unified = unifiedOK && (!discrete || !hasDeviceOnly) && !opts.Staging
	m.heapUsed = make([]uint64, len(m.info.Heaps))
	m.heapLimit = make([]uint64, len(m.info.Heaps))
	for i, h := range m.info.Heaps {
		m.heapLimit[i] = h.Size
		if opts.heapLimit > 0 {
			m.heapLimit[i] = opts.heapLimit
		}
	}
	m.blockSize = defaultBlockSize
	if opts.blockSize > 0 {
		m.blockSize = opts.blockSize
	}
}

func (m *Manager) setupTransfer() error {
	cmd, err := m.newCommandBuffer()
	if err != nil {
		return err
	}
	m.xferCmd = cmd
	fence, err := m.newFence()
	if err != nil {
		return err
	}
	m.xferFence = fence
	return nil
}

// newCommandBuffer allocates one primary command buffer from the pool.
func (m *Manager) newCommandBuffer() (vk.CommandBuffer, error) {
	m.poolMu.Lock()
	defer m.poolMu.Unlock()
	cmds := make([]vk.CommandBuffer, 1)
	info := &vk.CommandBufferAllocateInfo{
		SType:              vk.StructureTypeCommandBufferAllocateInfo,
		CommandPool:        m.pool,
		Level:              vk.CommandBufferLevelPrimary,
		CommandBufferCount: 1,
	}
	r := vk.AllocateCommandBuffers(m.dev, info, cmds)
	info.Free()
	if err := vkErr("vkAllocateCommandBuffers", r); err != nil {
		return nil, err
	}
	return cmds[0], nil
}

func (m *Manager) newFence() (vk.Fence, error) {
	var f vk.Fence
	info := &vk.FenceCreateInfo{SType: vk.StructureTypeFenceCreateInfo}
	r := vk.CreateFence(m.dev, info, nil, &f)
	info.Free()
	if err := vkErr("vkCreateFence", r); err != nil {
		return vk.NullFence, err
	}
	return f, nil
}

// submitWait submits cmd, waiting for and signalling the semaphores of
// sync, waits for fence and resets it.
func (m *Manager) submitWait(cmd vk.CommandBuffer, fence vk.Fence, sync []Sync) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	wait, signal, err := m.syncs(sync)
	if err != nil {
		m.mu.Unlock()
		return err
	}
	// Waits are at every stage a sequence's commands use.
	r := m.fns.QueueSubmit(m.queue, cmd, wait, vk.PipelineStageFlags(allStages), signal, fence)
	m.submits.Add(1)
	if r == vk.Success {
		settle(sync)
	}
	m.mu.Unlock()
	if err := vkErr("vkQueueSubmit", r); err != nil {
		return err
	}
	fences := []vk.Fence{fence}
	if err := vkErr("vkWaitForFences", vk.WaitForFences(m.dev, 1, fences, vk.True, ^uint64(0))); err != nil {
		return err
	}
	return vkErr("vkResetFences", vk.ResetFences(m.dev, 1, fences))
}

// Info describes the opened device.
func (m *Manager) Info() DeviceInfo { return m.info }

// Unified reports whether buffers live in host-visible memory that is
// read and written directly (lavapipe, integrated GPUs): no staging copies.
func (m *Manager) Unified() bool { return m.unified }

// ValidationErrors returns copies of all validation-layer error messages so
// far (none when validation is off).
func (m *Manager) ValidationErrors() []string {
	errs, _ := m.col.snapshot()
	return errs
}

// ValidationWarnings returns copies of all validation-layer warnings so far.
func (m *Manager) ValidationWarnings() []string {
	_, warns := m.col.snapshot()
	return warns
}

// Validation reports whether the validation layer is active.
func (m *Manager) Validation() bool { return m.hook != nil }

// Submits is the number of vkQueueSubmit calls so far: one per
// Sequence.Run, plus, when not Unified, one per staging chunk of
// Upload/Download and one per NewBuffer (its zero fill).
func (m *Manager) Submits() uint64 { return m.submits.Load() }

// Ran is the total of Sequence.Counts over every Run of the Manager's
// sequences so far: the difference across a training step is what the
// step executed.
func (m *Manager) Ran() Counts { return m.ran.load() }

// ranCounts is Counts, summed by concurrent Runs.
type ranCounts struct{ dispatches, transfers, barriers atomic.Int64 }

func (r *ranCounts) add(c Counts) {
	r.dispatches.Add(int64(c.Dispatches))
	r.transfers.Add(int64(c.Transfers))
	r.barriers.Add(int64(c.Barriers))
}

func (r *ranCounts) load() Counts {
	return Counts{Dispatches: int(r.dispatches.Load()), Transfers: int(r.transfers.Load()), Barriers: int(r.barriers.Load())}
}

// Closed reports whether Close was called.
func (m *Manager) Closed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// Close waits for the device to be idle and destroys everything the
// Manager made, in reverse order of creation. Later calls do nothing.
// Buffers, kernels and sequences of the Manager must not be used after.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	m.mu.Unlock()
	// Wait for a transfer in progress to finish before tearing down.
	m.xferMu.Lock()
	defer m.xferMu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.destroy()
}

// destroy frees whatever exists; it also cleans up a half-opened Manager.
func (m *Manager) destroy() error {
	var err error
	if m.dev != nil {
		err = vkErr("vkDeviceWaitIdle", vk.DeviceWaitIdle(m.dev))
		for s := range m.seqs {
			s.destroy()
		}
		for _, k := range m.kernels {
			k.destroy(m.dev)
		}
		m.kernels = nil
		for _, p := range m.descPools {
			vk.DestroyDescriptorPool(m.dev, p.pool, nil)
		}
		m.descPools = nil
		for b := range m.buffers {
			vk.DestroyBuffer(m.dev, b.buf, nil)
			b.freed = true
		}
		m.buffers = nil
		for im := range m.images {
			im.destroy()
		}
		m.images = nil
		for s := range m.sems {
			vk.DestroySemaphore(m.dev, s.sem, nil)
			s.freed = true
		}
		m.sems = nil
		if m.staging != nil {
			vk.DestroyBuffer(m.dev, m.staging.buf, nil)
			m.staging = nil
		}
		for len(m.blocks) > 0 {
			m.freeBlock(m.blocks[len(m.blocks)-1])
		}
		if m.xferFence != vk.NullFence {
			vk.DestroyFence(m.dev, m.xferFence, nil)
		}
		if m.pool != nil {
			vk.DestroyCommandPool(m.dev, m.pool, nil) // frees all command buffers
		}
		vk.DestroyDevice(m.dev, nil)
		m.dev = nil
	}
	if m.inst != nil {
		if m.hook != nil {
			m.hook.remove(m.inst)
		}
		vk.DestroyInstance(m.inst, nil)
		m.inst = nil
	}
	m.closed = true
	return err
}
