package engine

import (
	"fmt"
	"math"
	"time"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"

	"github.com/vkneuro/vkneuro/engine/internal/vkc"
)

// Descriptor sets come from pools that are added as they fill up. Counts
// are tracked here rather than relying on the driver to report exhaustion
// (lavapipe does not).
const (
	poolSets        = 1024
	poolDescriptors = 8192
)

type descPool struct {
	pool        vk.DescriptorPool
	sets, descs uint32 // remaining capacity
}

// allocSet allocates and writes one descriptor set for k over bufs.
// Caller holds m.mu.
func (m *Manager) allocSet(k *Kernel, bufs []*Buffer) (*descPool, vk.DescriptorSet, error) {
	need := uint32(k.bindings)
	var p *descPool
	for _, q := range m.descPools {
		if q.sets > 0 && q.descs >= need {
			p = q
			break
		}
	}
	var set vk.DescriptorSet
	if p != nil {
		var r vk.Result
		set, r = m.allocateSet(p, k.setLayout)
		if r == vk.ErrorOutOfPoolMemory || r == vk.ErrorFragmentedPool {
			p.sets = 0 // do not try this pool again until sets are freed
			p = nil
		} else if err := vkErr("vkAllocateDescriptorSets", r); err != nil {
			return nil, nil, err
		}
	}
	if p == nil {
		var err error
		if p, err = m.newDescPool(); err != nil {
			return nil, nil, err
		}
		var r vk.Result
		if set, r = m.allocateSet(p, k.setLayout); r != vk.Success {
			return nil, nil, vkErr("vkAllocateDescriptorSets", r)
		}
	}
	p.sets--
	p.descs -= need
	writes := make([]vkc.Write, len(bufs))
	for i, b := range bufs {
		writes[i] = vkc.Write{Binding: uint32(i), Buffer: b.buf, Range: b.Bytes()}
	}
	if err := m.fns.UpdateDescriptorSet(m.dev, set, writes); err != nil {
		return nil, nil, err
	}
	return p, set, nil
}

// allocateSet allocates one set of layout from p.
func (m *Manager) allocateSet(p *descPool, layout vk.DescriptorSetLayout) (vk.DescriptorSet, vk.Result) {
	var set vk.DescriptorSet
	info := &vk.DescriptorSetAllocateInfo{
		SType:              vk.StructureTypeDescriptorSetAllocateInfo,
		DescriptorPool:     p.pool,
		DescriptorSetCount: 1,
		PSetLayouts:        []vk.DescriptorSetLayout{layout},
	}
	r := vk.AllocateDescriptorSets(m.dev, info, &set)
	info.Free() // after the call: the C copy points into PSetLayouts
	return set, r
}

func (m *Manager) newDescPool() (*descPool, error) {
	sizes := []vk.DescriptorPoolSize{{Type: vk.DescriptorTypeStorageBuffer, DescriptorCount: poolDescriptors}}
	info := &vk.DescriptorPoolCreateInfo{
		SType:         vk.StructureTypeDescriptorPoolCreateInfo,
		Flags:         vk.DescriptorPoolCreateFlags(vk.DescriptorPoolCreateFreeDescriptorSetBit),
		MaxSets:       poolSets,
		PoolSizeCount: 1,
		PPoolSizes:    sizes,
	}
	var pool vk.DescriptorPool
	r := vk.CreateDescriptorPool(m.dev, info, nil, &pool)
	info.Free()
	if err := vkErr("vkCreateDescriptorPool", r); err != nil {
		return nil, err
	}
	p := &descPool{pool: pool, sets: poolSets, descs: poolDescriptors}
	m.descPools = append(m.descPools, p)
	return p, nil
}

type commandKind int

const (
	cmdDispatch commandKind = iota
	cmdFill
	cmdCopy
)

type command struct {
	kind       commandKind
	k          *Kernel
	pool       *descPool
	set        vk.DescriptorSet
	push       []uint32
	groups     [3]uint32
	bufs       []*Buffer // all buffers used, checked before every Run
	dst, src   *Buffer
	n          int
	fillValue  uint32
	descsTaken uint32
}

// Sequence is a list of commands recorded into one command buffer and
// submitted as a whole by Run, any number of times. A full memory barrier
// separates consecutive commands, so each sees the results of the
// previous ones, and the results are visible to the host after Run.
type Sequence struct {
	m        *Manager
	cmd      vk.CommandBuffer
	fence    vk.Fence
	cmds     []command
	recorded bool
	closed   bool

	timestamps bool
	query      vk.QueryPool
	ticks      []uint64
	times      []time.Duration
}

// NewSequence starts an empty sequence.
func (m *Manager) NewSequence() (*Sequence, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	s := &Sequence{m: m}
	ok := false
	defer func() {
		if !ok {
			s.destroy() // frees what was made before the error
		}
	}()
	cmd, err := m.newCommandBuffer()
	if err != nil {
		return nil, err
	}
	s.cmd = cmd
	fence, err := m.newFence()
	if err != nil {
		return nil, err
	}
	s.fence = fence
	m.seqs[s] = struct{}{}
	ok = true
	return s, nil
}

func (s *Sequence) checkRecording(op string) error {
	if s.closed {
		return fmt.Errorf("engine: Sequence.%s: %w", op, ErrClosed)
	}
	if s.recorded {
		return fmt.Errorf("engine: Sequence.%s: the sequence was already run; recording is over (make a new Sequence)", op)
	}
	return nil
}

func (s *Sequence) checkBuffer(op string, i int, b *Buffer) error {
	switch {
	case b == nil:
		return fmt.Errorf("engine: Sequence.%s: buffer %d is nil", op, i)
	case b.m != s.m:
		return fmt.Errorf("engine: Sequence.%s: buffer %d (%v) belongs to another Manager", op, i, b)
	case b.freed:
		return fmt.Errorf("engine: Sequence.%s: buffer %d (%v) was freed", op, i, b)
	}
	return nil
}

// Dispatch records k over bufs (binding i = bufs[i]) with push constants
// push and groupsX×groupsY×groupsZ work groups.
func (s *Sequence) Dispatch(k *Kernel, bufs []*Buffer, push []uint32, groupsX, groupsY, groupsZ uint32) error {
	if err := s.checkRecording("Dispatch"); err != nil {
		return err
	}
	if k == nil || k.m != s.m {
		return fmt.Errorf("engine: Sequence.Dispatch: kernel is nil or from another Manager")
	}
	if len(bufs) != k.bindings {
		return fmt.Errorf("engine: Sequence.Dispatch %v: %d buffers, kernel takes %d", k, len(bufs), k.bindings)
	}
	if len(push) != k.pushWords {
		return fmt.Errorf("engine: Sequence.Dispatch %v: %d push-constant words, kernel takes %d", k, len(push), k.pushWords)
	}
	for i, b := range bufs {
		if err := s.checkBuffer("Dispatch "+k.String(), i, b); err != nil {
			return err
		}
	}
	g := [3]uint32{groupsX, groupsY, groupsZ}
	lim := s.m.info.MaxWorkGroupCount
	for i := range g {
		if g[i] == 0 || g[i] > lim[i] {
			return fmt.Errorf("engine: Sequence.Dispatch %v: work groups %v, each dimension must be 1..%v", k, g, lim)
		}
	}
	m := s.m
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	pool, set, err := m.allocSet(k, bufs)
	m.mu.Unlock()
	if err != nil {
		return fmt.Errorf("engine: Sequence.Dispatch %v: %w", k, err)
	}
	s.cmds = append(s.cmds, command{
		kind: cmdDispatch, k: k, pool: pool, set: set, groups: g,
		push: append([]uint32(nil), push...), bufs: append([]*Buffer(nil), bufs...),
		descsTaken: uint32(k.bindings),
	})
	return nil
}

// Fill records setting every element of b to value.
func (s *Sequence) Fill(b *Buffer, value float32) error {
	if err := s.checkRecording("Fill"); err != nil {
		return err
	}
	if err := s.checkBuffer("Fill", 0, b); err != nil {
		return err
	}
	s.cmds = append(s.cmds, command{kind: cmdFill, dst: b, fillValue: math.Float32bits(value), bufs: []*Buffer{b}})
	return nil
}

// Copy records copying the first n elements of src to dst.
func (s *Sequence) Copy(dst, src *Buffer, n int) error {
	if err := s.checkRecording("Copy"); err != nil {
		return err
	}
	if err := s.checkBuffer("Copy", 0, dst); err != nil {
		return err
	}
	if err := s.checkBuffer("Copy", 1, src); err != nil {
		return err
	}
	if dst == src {
		return fmt.Errorf("engine: Sequence.Copy: source and destination are the same %v", dst)
	}
	if n <= 0 || n > dst.n || n > src.n {
		return fmt.Errorf("engine: Sequence.Copy: %d elements from %v to %v, want 1..min of both lengths", n, src, dst)
	}
	s.cmds = append(s.cmds, command{kind: cmdCopy, dst: dst, src: src, n: n, bufs: []*Buffer{dst, src}})
	return nil
}

// Len is the number of commands recorded.
func (s *Sequence) Len() int { return len(s.cmds) }

// EnableTimestamps makes Run measure the device time of every command
// (see Times). Call it before the first Run.
func (s *Sequence) EnableTimestamps() error {
	if err := s.checkRecording("EnableTimestamps"); err != nil {
		return err
	}
	if !s.m.info.Timestamps {
		return fmt.Errorf("engine: Sequence.EnableTimestamps: the compute queue of %s has no timestamps", s.m.info.Name)
	}
	s.timestamps = true
	return nil
}

// Times returns the device time of each command in the last Run, in
// recording order; nil without EnableTimestamps or before the first Run.
func (s *Sequence) Times() []time.Duration {
	if s.times == nil {
		return nil
	}
	return append([]time.Duration(nil), s.times...)
}

// Run submits the sequence and waits for it to finish. The first Run ends
// recording.
func (s *Sequence) Run() error {
	if s.closed {
		return fmt.Errorf("engine: Sequence.Run: %w", ErrClosed)
	}
	for i, c := range s.cmds {
		for j, b := range c.bufs {
			if b.freed {
				return fmt.Errorf("engine: Sequence.Run: command %d uses buffer %d (%v), which was freed", i, j, b)
			}
		}
	}
	if !s.recorded {
		s.m.poolMu.Lock()
		err := s.record()
		s.m.poolMu.Unlock()
		if err != nil {
			return fmt.Errorf("engine: Sequence.Run: recording: %w", err)
		}
		s.recorded = true
	}
	if err := s.m.submitWait(s.cmd, s.fence); err != nil {
		return fmt.Errorf("engine: Sequence.Run: %w", err)
	}
	if s.timestamps && len(s.cmds) > 0 {
		return s.readTimes()
	}
	return nil
}

func (s *Sequence) record() error {
	m := s.m
	nq := uint32(2 * len(s.cmds))
	if s.timestamps && nq > 0 {
		var qp vk.QueryPool
		info := &vk.QueryPoolCreateInfo{
			SType:      vk.StructureTypeQueryPoolCreateInfo,
			QueryType:  vk.QueryTypeTimestamp,
			QueryCount: nq,
		}
		r := vk.CreateQueryPool(m.dev, info, nil, &qp)
		info.Free()
		if err := vkErr("vkCreateQueryPool", r); err != nil {
			return err
		}
		s.query = qp
		s.ticks = make([]uint64, nq)
	}
	cmd := s.cmd
	begin := &vk.CommandBufferBeginInfo{SType: vk.StructureTypeCommandBufferBeginInfo}
	r := vk.BeginCommandBuffer(cmd, begin)
	begin.Free()
	if err := vkErr("vkBeginCommandBuffer", r); err != nil {
		return err
	}
	if s.query != nil {
		vk.CmdResetQueryPool(cmd, s.query, 0, nq)
	}
	// Earlier submits (uploads, other sequences) and host writes are made
	// visible to the first command.
	m.barrier(cmd, allStages|hostStage, allStages, allWrites|vk.AccessHostWriteBit, allAccess)
	for i, c := range s.cmds {
		if i > 0 {
			m.barrier(cmd, allStages, allStages, allWrites, allAccess)
		}
		if s.query != nil {
			vk.CmdWriteTimestamp(cmd, vk.PipelineStageBottomOfPipeBit, s.query, uint32(2*i))
		}
		switch c.kind {
		case cmdDispatch:
			vk.CmdBindPipeline(cmd, vk.PipelineBindPointCompute, c.k.pipeline)
			if c.k.bindings > 0 {
				vk.CmdBindDescriptorSets(cmd, vk.PipelineBindPointCompute, c.k.layout, 0, 1, []vk.DescriptorSet{c.set}, 0, nil)
			}
			if len(c.push) > 0 {
				vk.CmdPushConstants(cmd, c.k.layout, vk.ShaderStageFlags(vk.ShaderStageComputeBit), 0, uint32(4*len(c.push)), unsafe.Pointer(&c.push[0]))
			}
			vk.CmdDispatch(cmd, c.groups[0], c.groups[1], c.groups[2])
		case cmdFill:
			vk.CmdFillBuffer(cmd, c.dst.buf, 0, vk.DeviceSize(c.dst.Bytes()), c.fillValue)
		case cmdCopy:
			m.fns.CmdCopyBuffer(cmd, c.src.buf, c.dst.buf, 0, 0, uint64(4*c.n))
		}
		if s.query != nil {
			vk.CmdWriteTimestamp(cmd, vk.PipelineStageBottomOfPipeBit, s.query, uint32(2*i+1))
		}
	}
	m.barrier(cmd, allStages, allStages|hostStage, allWrites, allAccess|vk.AccessHostReadBit)
	return vkErr("vkEndCommandBuffer", vk.EndCommandBuffer(cmd))
}

func (s *Sequence) readTimes() error {
	n := uint32(len(s.ticks))
	flags := vk.QueryResultFlags(vk.QueryResult64Bit | vk.QueryResultWaitBit)
	if err := vkErr("vkGetQueryPoolResults", vk.GetQueryPoolResults(s.m.dev, s.query, 0, n, uint(8*n), unsafe.Pointer(&s.ticks[0]), 8, flags)); err != nil {
		return fmt.Errorf("engine: Sequence.Run: timestamps: %w", err)
	}
	mask := ^uint64(0)
	if bits := s.m.info.timestampBits; bits < 64 {
		mask = 1<<bits - 1
	}
	period := float64(s.m.info.TimestampPeriod)
	if s.times == nil {
		s.times = make([]time.Duration, len(s.cmds))
	}
	for i := range s.times {
		ticks := (s.ticks[2*i+1] - s.ticks[2*i]) & mask
		s.times[i] = time.Duration(float64(ticks) * period)
	}
	return nil
}

// Close frees the command buffer, descriptor sets and queries. Later calls
// do nothing.
func (s *Sequence) Close() error {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.closed || m.closed {
		s.closed = true
		return nil
	}
	s.destroy()
	return nil
}

// destroy frees what exists. Caller holds m.mu; the device must not be
// running the sequence (Run waits, so only a concurrent Run could).
func (s *Sequence) destroy() {
	m := s.m
	s.closed = true
	delete(m.seqs, s)
	for i := range s.cmds {
		c := &s.cmds[i]
		if c.set != nil {
			set := c.set
			vk.FreeDescriptorSets(m.dev, c.pool.pool, 1, &set)
			c.pool.sets++
			c.pool.descs += c.descsTaken
			c.set = nil
		}
	}
	if s.query != nil {
		vk.DestroyQueryPool(m.dev, s.query, nil)
		s.query = nil
	}
	if s.fence != vk.NullFence {
		vk.DestroyFence(m.dev, s.fence, nil)
		s.fence = vk.NullFence
	}
	if s.cmd != nil {
		m.poolMu.Lock()
		vk.FreeCommandBuffers(m.dev, m.pool, 1, []vk.CommandBuffer{s.cmd})
		m.poolMu.Unlock()
		s.cmd = nil
	}
}
