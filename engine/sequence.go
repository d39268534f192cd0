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
	poolDescriptors = 8192 // storage buffers
	poolImages      = 1024 // storage images
)

type descPool struct {
	pool        vk.DescriptorPool
	sets        uint32 // remaining capacity
	descs, imgs uint32
}

// descCount is how many descriptors of each kind a set takes.
type descCount struct{ bufs, imgs uint32 }

func countDescs(bindings []Binding) descCount {
	var c descCount
	for _, b := range bindings {
		if b == StorageImage {
			c.imgs++
		} else {
			c.bufs++
		}
	}
	return c
}

// allocSet allocates one descriptor set for k and writes res into it.
// Caller holds m.mu.
func (m *Manager) allocSet(k *Kernel, res []Resource) (*descPool, vk.DescriptorSet, error) {
	need := countDescs(k.bindings)
	var p *descPool
	for _, q := range m.descPools {
		if q.sets > 0 && q.descs >= need.bufs && q.imgs >= need.imgs {
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
	p.descs -= need.bufs
	p.imgs -= need.imgs
	writes := make([]vkc.Write, len(res))
	for i, r := range res {
		switch r := r.(type) {
		case *Buffer:
			writes[i] = vkc.Write{Binding: uint32(i), Buffer: r.buf, Range: r.Bytes()}
		case *Image:
			writes[i] = vkc.Write{Binding: uint32(i), View: r.view, Layout: vk.ImageLayoutGeneral}
		}
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
	sizes := []vk.DescriptorPoolSize{
		{Type: vk.DescriptorTypeStorageBuffer, DescriptorCount: poolDescriptors},
		{Type: vk.DescriptorTypeStorageImage, DescriptorCount: poolImages},
	}
	info := &vk.DescriptorPoolCreateInfo{
		SType:         vk.StructureTypeDescriptorPoolCreateInfo,
		Flags:         vk.DescriptorPoolCreateFlags(vk.DescriptorPoolCreateFreeDescriptorSetBit),
		MaxSets:       poolSets,
		PoolSizeCount: uint32(len(sizes)),
		PPoolSizes:    sizes,
	}
	var pool vk.DescriptorPool
	r := vk.CreateDescriptorPool(m.dev, info, nil, &pool)
	info.Free()
	if err := vkErr("vkCreateDescriptorPool", r); err != nil {
		return nil, err
	}
	p := &descPool{pool: pool, sets: poolSets, descs: poolDescriptors, imgs: poolImages}
	m.descPools = append(m.descPools, p)
	return p, nil
}

type commandKind int

const (
	cmdDispatch commandKind = iota
	cmdFill
	cmdCopy
	cmdBlit
	cmdCopyImage
)

type command struct {
	kind      commandKind
	k         *Kernel
	pool      *descPool
	set       vk.DescriptorSet
	push      []uint32
	groups    [3]uint32
	res       []Resource // all buffers and images used, checked before every Run
	dst, src  *Buffer
	dstImg    *Image
	srcImg    *Image
	n         int
	fillValue uint32
	linear    bool
	taken     descCount
	pre       barrier // recorded before the command; pre.src == 0: none
}

// Sequence is a list of commands recorded into one command buffer and
// submitted as a whole by Run, any number of times. Each command sees
// the results of the earlier ones and of everything submitted before the
// Run, and the results are visible to the host after Run. Commands that
// touch disjoint memory (different buffers, or different parts of one)
// are not ordered: a barrier comes before a command only where it reads
// or overwrites what an earlier one wrote, or overwrites what an earlier
// one read (see hazards), so that a device may overlap the rest. What a
// kernel reads and writes through each binding comes from its SPIR-V
// (see shaderBinding).
type Sequence struct {
	m        *Manager
	cmd      vk.CommandBuffer
	fence    vk.Fence
	cmds     []command
	hz       hazards
	counts   Counts
	recorded bool
	closed   bool
	// dropBarrier, when positive, is one more than the index of a
	// command whose barrier record leaves out: the test hook that shows
	// the validation layer reporting the hazard a missing barrier leaves.
	dropBarrier int

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

// checkResource reports why r, argument i of op, cannot be used.
func (s *Sequence) checkResource(op string, i int, r Resource) error {
	var m *Manager
	var freed bool
	kind := "buffer"
	switch r := r.(type) {
	case *Buffer:
		if r != nil {
			m, freed = r.m, r.freed
		}
	case *Image:
		kind = "image"
		if r != nil {
			m, freed = r.m, r.freed
		}
	}
	switch {
	case m == nil:
		return fmt.Errorf("engine: Sequence.%s: %s %d is nil", op, kind, i)
	case m != s.m:
		return fmt.Errorf("engine: Sequence.%s: %s %d (%v) belongs to another Manager", op, kind, i, r)
	case freed:
		return fmt.Errorf("engine: Sequence.%s: %s %d (%v) was freed", op, kind, i, r)
	}
	return nil
}

// Dispatch records k over bufs (binding i = bufs[i]) with push constants
// push and groupsX×groupsY×groupsZ work groups.
func (s *Sequence) Dispatch(k *Kernel, bufs []*Buffer, push []uint32, groupsX, groupsY, groupsZ uint32) error {
	res := make([]Resource, len(bufs))
	for i, b := range bufs {
		res[i] = b
	}
	return s.DispatchWith(k, res, push, groupsX, groupsY, groupsZ)
}

// DispatchWith is Dispatch for kernels made by KernelWith: binding i is
// res[i], a *Buffer for a StorageBuffer binding, an *Image from NewImage
// for a StorageImage one.
func (s *Sequence) DispatchWith(k *Kernel, res []Resource, push []uint32, groupsX, groupsY, groupsZ uint32) error {
	if err := s.checkRecording("Dispatch"); err != nil {
		return err
	}
	if k == nil || k.m != s.m {
		return fmt.Errorf("engine: Sequence.Dispatch: kernel is nil or from another Manager")
	}
	if len(res) != len(k.bindings) {
		return fmt.Errorf("engine: Sequence.Dispatch %v: %d bindings given, kernel takes %d", k, len(res), len(k.bindings))
	}
	if len(push) != k.pushWords {
		return fmt.Errorf("engine: Sequence.Dispatch %v: %d push-constant words, kernel takes %d", k, len(push), k.pushWords)
	}
	for i, r := range res {
		if err := s.checkResource("Dispatch "+k.String(), i, r); err != nil {
			return err
		}
		img, isImage := r.(*Image)
		switch {
		case isImage != (k.bindings[i] == StorageImage):
			return fmt.Errorf("engine: Sequence.Dispatch %v: binding %d is a %v, given %v", k, i, k.bindings[i], r)
		case isImage && img.swapchain:
			return fmt.Errorf("engine: Sequence.Dispatch %v: binding %d: %v is a swapchain image, which kernels cannot bind (Blit into it)", k, i, r)
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
	pool, set, err := m.allocSet(k, res)
	m.mu.Unlock()
	if err != nil {
		return fmt.Errorf("engine: Sequence.Dispatch %v: %w", k, err)
	}
	uses := make([]use, 0, len(res))
	for i, r := range res {
		if k.access[i] == 0 {
			continue
		}
		switch r := r.(type) {
		case *Buffer:
			uses = append(uses, bufferUse(r, r.Bytes(), k.access[i]))
		case *Image:
			uses = append(uses, imageUse(r, k.access[i]))
		}
	}
	s.add(command{
		kind: cmdDispatch, k: k, pool: pool, set: set, groups: g,
		push: append([]uint32(nil), push...), res: append([]Resource(nil), res...),
		taken: countDescs(k.bindings),
	}, uses...)
	return nil
}

// add appends c, which makes uses, with the barrier it needs.
func (s *Sequence) add(c command, uses ...use) {
	c.pre = s.hz.add(uses)
	if c.pre.src != 0 {
		s.counts.Barriers++
	}
	if c.kind == cmdDispatch {
		s.counts.Dispatches++
	} else {
		s.counts.Transfers++
	}
	s.cmds = append(s.cmds, c)
}

// checkCommand reports why op cannot be recorded on res.
func (s *Sequence) checkCommand(op string, res ...Resource) error {
	if err := s.checkRecording(op); err != nil {
		return err
	}
	for i, r := range res {
		if err := s.checkResource(op, i, r); err != nil {
			return err
		}
	}
	return nil
}

// Fill records setting every element of b to value.
func (s *Sequence) Fill(b *Buffer, value float32) error {
	if err := s.checkCommand("Fill", b); err != nil {
		return err
	}
	s.add(command{kind: cmdFill, dst: b, fillValue: math.Float32bits(value), res: []Resource{b}},
		bufferUse(b, b.Bytes(), transferWrite))
	return nil
}

// Copy records copying the first n elements of src to dst.
func (s *Sequence) Copy(dst, src *Buffer, n int) error {
	if err := s.checkCommand("Copy", dst, src); err != nil {
		return err
	}
	if dst == src {
		return fmt.Errorf("engine: Sequence.Copy: source and destination are the same %v", dst)
	}
	if n <= 0 || n > dst.n || n > src.n {
		return fmt.Errorf("engine: Sequence.Copy: %d elements from %v to %v, want 1..min of both lengths", n, src, dst)
	}
	s.add(command{kind: cmdCopy, dst: dst, src: src, n: n, res: []Resource{dst, src}},
		bufferUse(src, uint64(4*n), transferRead), bufferUse(dst, uint64(4*n), transferWrite))
	return nil
}

// Blit records scaling all of src, an image from NewImage, onto all of
// dst, filtering bilinearly if linear (which src.LinearBlit must allow),
// else taking the nearest texel. dst is an image from NewImage or a
// swapchain image (SwapchainImage).
func (s *Sequence) Blit(dst, src *Image, linear bool) error {
	if err := s.checkCommand("Blit", dst, src); err != nil {
		return err
	}
	switch {
	case dst == src:
		return fmt.Errorf("engine: Sequence.Blit: source and destination are the same %v", dst)
	case src.swapchain:
		return fmt.Errorf("engine: Sequence.Blit: the source %v is a swapchain image, which can only be a destination", src)
	case linear && !src.linear:
		return fmt.Errorf("engine: Sequence.Blit: %s cannot filter %v bilinearly (see Image.LinearBlit)", s.m.info.Name, src)
	}
	s.add(command{kind: cmdBlit, dstImg: dst, srcImg: src, linear: linear, res: []Resource{dst, src}},
		imageUse(src, transferRead), imageUse(dst, transferWrite))
	return nil
}

// CopyImage records copying every texel of src, an image from NewImage,
// into the first width×height elements of dst, row by row: the bits of
// element y*width+x are texel (x, y), red in the low byte.
func (s *Sequence) CopyImage(dst *Buffer, src *Image) error {
	if err := s.checkCommand("CopyImage", dst, src); err != nil {
		return err
	}
	if src.swapchain {
		return fmt.Errorf("engine: Sequence.CopyImage: %v is a swapchain image, which can only be a Blit destination", src)
	}
	if n := src.width * src.height; dst.n < n {
		return fmt.Errorf("engine: Sequence.CopyImage: %v into %v, want at least %d elements", src, dst, n)
	}
	s.add(command{kind: cmdCopyImage, dst: dst, srcImg: src, res: []Resource{dst, src}},
		imageUse(src, transferRead), bufferUse(dst, uint64(4*src.width*src.height), transferWrite))
	return nil
}

// Len is the number of commands recorded.
func (s *Sequence) Len() int { return len(s.cmds) }

// Counts says what a Run of a sequence, or the Runs of a Manager's
// sequences, execute.
type Counts struct {
	Dispatches int // Dispatch commands
	Transfers  int // Fill, Copy, Blit and CopyImage commands
	// Barriers is the pipeline barriers: one before the first command
	// and one after the last (between the Run and the rest of the
	// queue and the host), and one before each command that needs one.
	Barriers int
}

// Counts is what one Run of the sequence executes, as recorded so far.
func (s *Sequence) Counts() Counts {
	c := s.counts
	c.Barriers += 2
	return c
}

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
// Commands with no barrier between them may overlap on the device; each
// one's time then ends when it and every command before it have ended,
// so together they still span the Run.
func (s *Sequence) Times() []time.Duration {
	if s.times == nil {
		return nil
	}
	return append([]time.Duration(nil), s.times...)
}

// Run submits the sequence and waits for it to finish. The first Run ends
// recording. sync orders the submit with other queue work: its commands
// start after every Wait semaphore is signalled, and every Signal
// semaphore is signalled when they have finished (see Semaphore).
func (s *Sequence) Run(sync ...Sync) error {
	if s.closed {
		return fmt.Errorf("engine: Sequence.Run: %w", ErrClosed)
	}
	for i, c := range s.cmds {
		for j, r := range c.res {
			if freed(r) {
				return fmt.Errorf("engine: Sequence.Run: command %d uses %v (its argument %d), which was freed", i, r, j)
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
	if err := s.m.submitWait(s.cmd, s.fence, sync); err != nil {
		return fmt.Errorf("engine: Sequence.Run: %w", err)
	}
	s.m.ran.add(s.Counts())
	if s.timestamps && len(s.cmds) > 0 {
		return s.readTimes()
	}
	return nil
}

// freed reports whether a buffer or image was freed.
func freed(r Resource) bool {
	switch r := r.(type) {
	case *Buffer:
		return r.freed
	case *Image:
		return r.freed
	}
	return false
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
	// Swapchain images come undefined (their old contents discarded) and
	// leave ready to present; images of NewImage stay GENERAL throughout.
	var acquire, release []vkc.ImageBarrier
	seen := map[*Image]bool{}
	for _, c := range s.cmds {
		if img := c.dstImg; img != nil && img.swapchain && !seen[img] {
			seen[img] = true
			acquire = append(acquire, vkc.ImageBarrier{Image: img.img, DstAccess: vk.AccessFlags(vk.AccessTransferWriteBit),
				OldLayout: vk.ImageLayoutUndefined, NewLayout: vk.ImageLayoutTransferDstOptimal})
			release = append(release, vkc.ImageBarrier{Image: img.img, SrcAccess: vk.AccessFlags(vk.AccessTransferWriteBit),
				OldLayout: vk.ImageLayoutTransferDstOptimal, NewLayout: vk.ImageLayoutPresentSrc})
		}
	}
	// Earlier submits (uploads, other sequences) and host writes are made
	// visible to the first command. Semaphores Run waits for are waited at
	// allStages, which this barrier's first scope includes, so the layout
	// transitions happen after them.
	m.barrier(cmd, allStages|hostStage, allStages, allWrites|vk.AccessHostWriteBit, allAccess, acquire...)
	for i, c := range s.cmds {
		if b := c.pre; b.src != 0 && i+1 != s.dropBarrier {
			m.barrier(cmd, b.src.vk(), b.dst.vk(), b.srcAccess.vk(), b.dstAccess.vk())
		}
		if s.query != nil {
			vk.CmdWriteTimestamp(cmd, vk.PipelineStageBottomOfPipeBit, s.query, uint32(2*i))
		}
		switch c.kind {
		case cmdDispatch:
			vk.CmdBindPipeline(cmd, vk.PipelineBindPointCompute, c.k.pipeline)
			if len(c.k.bindings) > 0 {
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
		case cmdBlit:
			filter := vk.FilterNearest
			if c.linear {
				filter = vk.FilterLinear
			}
			m.fns.CmdBlitImage(cmd, c.srcImg.img, vk.ImageLayoutGeneral, c.srcImg.width, c.srcImg.height,
				c.dstImg.img, c.dstImg.layout(), c.dstImg.width, c.dstImg.height, filter)
		case cmdCopyImage:
			m.fns.CmdCopyImageToBuffer(cmd, c.srcImg.img, vk.ImageLayoutGeneral, c.srcImg.width, c.srcImg.height, c.dst.buf)
		}
		if s.query != nil {
			vk.CmdWriteTimestamp(cmd, vk.PipelineStageBottomOfPipeBit, s.query, uint32(2*i+1))
		}
	}
	m.barrier(cmd, allStages, allStages|hostStage, allWrites, allAccess|vk.AccessHostReadBit, release...)
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
			c.pool.descs += c.taken.bufs
			c.pool.imgs += c.taken.imgs
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
