//go:build viewer

package engine

// #include <stdlib.h>
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math"
	"time"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// SwapchainExtension is the device extension a Presenter needs; pass it in
// Options.DeviceExtensions, and the window system's instance extensions
// (glfw.GetRequiredInstanceExtensions) in Options.InstanceExtensions.
const SwapchainExtension = "VK_KHR_swapchain"

// WindowSurface is a window that makes Vulkan surfaces, such as a
// *glfw.Window (github.com/go-gl/glfw/v3.3/glfw). The result is the
// address of the new VkSurfaceKHR handle, as GLFW's binding returns it.
type WindowSurface interface {
	CreateWindowSurface(instance interface{}, allocCallbacks unsafe.Pointer) (uintptr, error)
}

// ErrNotPresentable means the device's compute queue cannot present to the
// window's surface.
var ErrNotPresentable = errors.New("engine: the compute queue family cannot present to this surface")

// Presenter draws frames with compute kernels into a storage image (RGBA8)
// on the Manager's device and blits them into a window's swapchain: frames
// never travel through the host. Its methods must be called from one
// goroutine, and it must be closed before its Manager.
type Presenter struct {
	m             *Manager
	surface       vk.Surface
	width, height int // the storage image

	image       vk.Image
	view        vk.ImageView
	block       *memBlock
	imageReady  bool // laid out as GENERAL and drawn at least once
	linearBlit  bool
	format      vk.SurfaceFormat
	presentMode vk.PresentMode

	swapchain vk.Swapchain
	swapImgs  []vk.Image
	extent    [2]int         // of the swapchain images
	fbSize    [2]int         // the framebuffer size the swapchain was made for
	rendered  []vk.Semaphore // one per swapchain image: render done, waited by present
	stale     bool           // recreate the swapchain before the next frame

	acquired vk.Semaphore
	cmd      vk.CommandBuffer
	fence    vk.Fence
	inFlight bool
	descPool vk.DescriptorPool
	kernels  map[string]*ImageKernel
	closed   bool
	frames   int
}

// ImageKernel is a compute pipeline of a Presenter: binding 0 is the frame
// (a `layout(rgba8) uniform image2D`), bindings 1.. are storage buffers.
type ImageKernel struct {
	p    *Presenter
	k    Kernel // module, layouts and pipeline; k.bindings counts the buffers
	name string
}

// Draw is one dispatch of a frame.
type Draw struct {
	Kernel  *ImageKernel
	Buffers []*Buffer // bindings 1..len(Buffers)
	Push    []uint32
	Groups  [3]uint32
}

// Frame formats accepted for the window, best first: UNORM, so the
// values drawn are the values shown.
var preferredFormats = []vk.Format{vk.FormatB8g8r8a8Unorm, vk.FormatR8g8b8a8Unorm}

const storageFormat = vk.FormatR8g8b8a8Unorm

// NewPresenter makes a surface for win, checks that the compute queue can
// present to it, and allocates a width×height storage image to draw into.
// The swapchain is made by the first Present, at the window's size.
func (m *Manager) NewPresenter(win WindowSurface, width, height int) (*Presenter, error) {
	if width <= 0 || height <= 0 || width > 8192 || height > 8192 {
		return nil, fmt.Errorf("engine: NewPresenter: image %d×%d, want 1..8192 each way", width, height)
	}
	if m.Closed() {
		return nil, ErrClosed
	}
	p := &Presenter{m: m, width: width, height: height, kernels: map[string]*ImageKernel{}}
	ok := false
	defer func() {
		if !ok {
			p.destroy()
		}
	}()
	ptr, err := win.CreateWindowSurface(m.inst, nil)
	if err != nil {
		return nil, fmt.Errorf("engine: NewPresenter: %w (was the Manager opened with the window system's Options.InstanceExtensions?)", err)
	}
	p.surface = vk.SurfaceFromPointer(ptr)
	var supported vk.Bool32
	if err := vkErr("vkGetPhysicalDeviceSurfaceSupportKHR", vk.GetPhysicalDeviceSurfaceSupport(m.info.handle, m.info.queueFamily, p.surface, &supported)); err != nil {
		return nil, err
	}
	if supported != vk.True {
		return nil, fmt.Errorf("%w (device %s, queue family %d)", ErrNotPresentable, m.info.Name, m.info.queueFamily)
	}
	if err := p.chooseFormat(); err != nil {
		return nil, err
	}
	if err := p.makeImage(); err != nil {
		return nil, err
	}
	if err := p.makeSync(); err != nil {
		return nil, err
	}
	ok = true
	return p, nil
}

// Size is the size of the storage image frames are drawn in.
func (p *Presenter) Size() (width, height int) { return p.width, p.height }

// Frames is the number of frames presented so far.
func (p *Presenter) Frames() int { return p.frames }

// LinearScaling reports whether the blit to the window filters bilinearly
// (nearest-neighbour otherwise).
func (p *Presenter) LinearScaling() bool { return p.linearBlit }

// Extent is the size of the swapchain images (0×0 before the first frame).
func (p *Presenter) Extent() (width, height int) { return p.extent[0], p.extent[1] }

// chooseFormat picks the swapchain format and present mode, and checks
// that the storage image can be written by shaders and blitted from.
func (p *Presenter) chooseFormat() error {
	pd := p.m.info.handle
	formats, err := vkList("vkGetPhysicalDeviceSurfaceFormatsKHR", func(n *uint32, out []vk.SurfaceFormat) vk.Result {
		return vk.GetPhysicalDeviceSurfaceFormats(pd, p.surface, n, out)
	})
	if err != nil {
		return err
	}
	if len(formats) == 0 {
		return fmt.Errorf("engine: NewPresenter: the surface offers no formats")
	}
	chosen := -1
	for _, want := range preferredFormats {
		for i := range formats {
			formats[i].Deref()
			if formats[i].Format == want && chosen < 0 {
				chosen = i
			}
		}
	}
	var fp vk.FormatProperties
	if chosen < 0 {
		// Any format the swapchain can be blitted into.
		for i := range formats {
			formats[i].Deref()
			vk.GetPhysicalDeviceFormatProperties(pd, formats[i].Format, &fp)
			fp.Deref()
			if fp.OptimalTilingFeatures&vk.FormatFeatureFlags(vk.FormatFeatureBlitDstBit) != 0 {
				chosen = i
				break
			}
		}
	}
	if chosen < 0 {
		return fmt.Errorf("engine: NewPresenter: no surface format can be a blit destination (formats %v)", formats)
	}
	p.format = formats[chosen]
	vk.GetPhysicalDeviceFormatProperties(pd, p.format.Format, &fp)
	fp.Deref()
	if fp.OptimalTilingFeatures&vk.FormatFeatureFlags(vk.FormatFeatureBlitDstBit) == 0 {
		return fmt.Errorf("engine: NewPresenter: swapchain format %d cannot be a blit destination", p.format.Format)
	}
	vk.GetPhysicalDeviceFormatProperties(pd, storageFormat, &fp)
	fp.Deref()
	need := vk.FormatFeatureFlags(vk.FormatFeatureStorageImageBit | vk.FormatFeatureBlitSrcBit | vk.FormatFeatureTransferSrcBit)
	if fp.OptimalTilingFeatures&need != need {
		return fmt.Errorf("engine: NewPresenter: R8G8B8A8_UNORM images cannot be storage images and blit sources on %s (features %#x)", p.m.info.Name, fp.OptimalTilingFeatures)
	}
	p.linearBlit = fp.OptimalTilingFeatures&vk.FormatFeatureFlags(vk.FormatFeatureSampledImageFilterLinearBit) != 0

	modes, err := vkList("vkGetPhysicalDeviceSurfacePresentModesKHR", func(n *uint32, out []vk.PresentMode) vk.Result {
		return vk.GetPhysicalDeviceSurfacePresentModes(pd, p.surface, n, out)
	})
	if err != nil {
		return err
	}
	// Presenting must not hold training up: mailbox and immediate never
	// wait for a vertical blank; FIFO is the fallback every device has.
	p.presentMode = vk.PresentModeFifo
	rank := map[vk.PresentMode]int{vk.PresentModeMailbox: 2, vk.PresentModeImmediate: 1}
	for _, md := range modes {
		if rank[md] > rank[p.presentMode] {
			p.presentMode = md
		}
	}
	return nil
}

// makeImage creates the storage image in its own memory allocation
// (images and buffers are not mixed in the shared blocks, which spares
// the bufferImageGranularity rules).
func (p *Presenter) makeImage() error {
	m := p.m
	info := &vk.ImageCreateInfo{
		SType:         vk.StructureTypeImageCreateInfo,
		ImageType:     vk.ImageType2d,
		Format:        storageFormat,
		Extent:        vk.Extent3D{Width: uint32(p.width), Height: uint32(p.height), Depth: 1},
		MipLevels:     1,
		ArrayLayers:   1,
		Samples:       vk.SampleCount1Bit,
		Tiling:        vk.ImageTilingOptimal,
		Usage:         vk.ImageUsageFlags(vk.ImageUsageStorageBit | vk.ImageUsageTransferSrcBit),
		SharingMode:   vk.SharingModeExclusive,
		InitialLayout: vk.ImageLayoutUndefined,
	}
	var img vk.Image
	if err := vkErr("vkCreateImage", vk.CreateImage(m.dev, info, nil, &img)); err != nil {
		return err
	}
	p.image = img
	var req vk.MemoryRequirements
	vk.GetImageMemoryRequirements(m.dev, img, &req)
	req.Deref()
	ti := pickType(m.memTypes, req.MemoryTypeBits, deviceLocal, 0)
	if ti < 0 {
		ti = pickType(m.memTypes, req.MemoryTypeBits, 0, 0)
	}
	if ti < 0 {
		return fmt.Errorf("engine: NewPresenter: no memory type for a %d×%d image (allowed types %#b)", p.width, p.height, req.MemoryTypeBits)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	b, err := m.newBlock(uint32(ti), uint64(req.Size), true)
	if err == nil {
		b.take(uint64(req.Size), 1)
	}
	m.mu.Unlock()
	if err != nil {
		return fmt.Errorf("engine: NewPresenter: %d×%d image: %w", p.width, p.height, err)
	}
	p.block = b
	if err := vkErr("vkBindImageMemory", vk.BindImageMemory(m.dev, img, b.mem, 0)); err != nil {
		return err
	}
	vinfo := &vk.ImageViewCreateInfo{
		SType:    vk.StructureTypeImageViewCreateInfo,
		Image:    img,
		ViewType: vk.ImageViewType2d,
		Format:   storageFormat,
		SubresourceRange: vk.ImageSubresourceRange{
			AspectMask: vk.ImageAspectFlags(vk.ImageAspectColorBit), LevelCount: 1, LayerCount: 1,
		},
	}
	var view vk.ImageView
	if err := vkErr("vkCreateImageView", vk.CreateImageView(m.dev, vinfo, nil, &view)); err != nil {
		return err
	}
	p.view = view
	return nil
}

// maxDraws bounds the dispatches of one frame (descriptor sets in the pool).
const maxDraws = 16

func (p *Presenter) makeSync() error {
	m := p.m
	var s vk.Semaphore
	if err := vkErr("vkCreateSemaphore", vk.CreateSemaphore(m.dev, &vk.SemaphoreCreateInfo{SType: vk.StructureTypeSemaphoreCreateInfo}, nil, &s)); err != nil {
		return err
	}
	p.acquired = s
	f, err := m.newFence()
	if err != nil {
		return err
	}
	p.fence = f
	cmd, err := m.newCommandBuffer()
	if err != nil {
		return err
	}
	p.cmd = cmd
	sizes := []vk.DescriptorPoolSize{
		{Type: vk.DescriptorTypeStorageImage, DescriptorCount: maxDraws},
		{Type: vk.DescriptorTypeStorageBuffer, DescriptorCount: maxDraws * 31},
	}
	var pool vk.DescriptorPool
	if err := vkErr("vkCreateDescriptorPool", vk.CreateDescriptorPool(m.dev, &vk.DescriptorPoolCreateInfo{
		SType:         vk.StructureTypeDescriptorPoolCreateInfo,
		MaxSets:       maxDraws,
		PoolSizeCount: uint32(len(sizes)),
		PPoolSizes:    sizes,
	}, nil, &pool)); err != nil {
		return err
	}
	p.descPool = pool
	return nil
}

// Kernel returns the pipeline of spirv (entry point "main") with the frame
// at binding 0 and buffers storage buffers at bindings 1..buffers, a push
// block of pushWords words and specialization constants spec (ids 0, 1,
// …). Pipelines are cached by name and spec.
func (p *Presenter) Kernel(name string, spirv []byte, buffers, pushWords int, spec ...uint32) (*ImageKernel, error) {
	key := kernelKey(name, spec)
	if k, ok := p.kernels[key]; ok {
		if k.k.bindings != buffers || k.k.pushWords != pushWords {
			return nil, fmt.Errorf("engine: Presenter.Kernel %s: cached with %d buffers and %d push words, asked for %d and %d",
				key, k.k.bindings, k.k.pushWords, buffers, pushWords)
		}
		return k, nil
	}
	if len(spirv) == 0 || len(spirv)%4 != 0 || binary.LittleEndian.Uint32(spirv) != spirvMagic {
		return nil, fmt.Errorf("engine: Presenter.Kernel %s: %d bytes are not SPIR-V", key, len(spirv))
	}
	if buffers < 0 || buffers > 31 {
		return nil, fmt.Errorf("engine: Presenter.Kernel %s: %d buffers, want 0..31", key, buffers)
	}
	if pushWords < 0 || pushWords > 32 || uint32(pushWords*4) > p.m.info.MaxPushConstants {
		return nil, fmt.Errorf("engine: Presenter.Kernel %s: %d push-constant words, want 0..%d", key, pushWords, min(32, p.m.info.MaxPushConstants/4))
	}
	k := &ImageKernel{p: p, name: key, k: Kernel{m: p.m, name: name, spec: append([]uint32(nil), spec...), bindings: buffers, pushWords: pushWords}}
	if err := k.k.build(spirv, true); err != nil {
		k.k.destroy(p.m.dev)
		return nil, fmt.Errorf("engine: Presenter.Kernel %s: %w", key, err)
	}
	p.kernels[key] = k
	return k, nil
}

// waitFrame waits for the frame in flight, if any, to finish on the device.
func (p *Presenter) waitFrame() error {
	if !p.inFlight {
		return nil
	}
	fences := []vk.Fence{p.fence}
	if err := vkErr("vkWaitForFences", vk.WaitForFences(p.m.dev, 1, fences, vk.True, ^uint64(0))); err != nil {
		return err
	}
	p.inFlight = false
	return vkErr("vkResetFences", vk.ResetFences(p.m.dev, 1, fences))
}

// makeSwapchain (re)creates the swapchain for a framebuffer of fbW×fbH;
// it reports false when the window has no area (minimised).
func (p *Presenter) makeSwapchain(fbW, fbH int) (bool, error) {
	m := p.m
	var caps vk.SurfaceCapabilities
	if err := vkErr("vkGetPhysicalDeviceSurfaceCapabilitiesKHR", vk.GetPhysicalDeviceSurfaceCapabilities(m.info.handle, p.surface, &caps)); err != nil {
		return false, err
	}
	caps.Deref()
	caps.CurrentExtent.Deref()
	caps.MinImageExtent.Deref()
	caps.MaxImageExtent.Deref()
	w, h := uint32(fbW), uint32(fbH)
	if caps.CurrentExtent.Width != math.MaxUint32 {
		w, h = caps.CurrentExtent.Width, caps.CurrentExtent.Height
	} else {
		w = min(max(w, caps.MinImageExtent.Width), caps.MaxImageExtent.Width)
		h = min(max(h, caps.MinImageExtent.Height), caps.MaxImageExtent.Height)
	}
	if w == 0 || h == 0 {
		return false, nil
	}
	if caps.SupportedUsageFlags&vk.ImageUsageFlags(vk.ImageUsageTransferDstBit) == 0 {
		return false, fmt.Errorf("engine: Presenter: swapchain images of this surface cannot be transfer destinations (usage %#x)", caps.SupportedUsageFlags)
	}
	count := caps.MinImageCount + 1
	if caps.MaxImageCount > 0 && count > caps.MaxImageCount {
		count = caps.MaxImageCount
	}
	alpha := vk.CompositeAlphaOpaqueBit
	for _, a := range []vk.CompositeAlphaFlagBits{vk.CompositeAlphaOpaqueBit, vk.CompositeAlphaInheritBit, vk.CompositeAlphaPreMultipliedBit, vk.CompositeAlphaPostMultipliedBit} {
		if caps.SupportedCompositeAlpha&vk.CompositeAlphaFlags(a) != 0 {
			alpha = a
			break
		}
	}
	// The device may still use the old swapchain's images.
	m.mu.Lock()
	r := vk.QueueWaitIdle(m.queue)
	m.mu.Unlock()
	if err := vkErr("vkQueueWaitIdle", r); err != nil {
		return false, err
	}
	old := p.swapchain
	var sc vk.Swapchain
	err := vkErr("vkCreateSwapchainKHR", vk.CreateSwapchain(m.dev, &vk.SwapchainCreateInfo{
		SType:            vk.StructureTypeSwapchainCreateInfo,
		Surface:          p.surface,
		MinImageCount:    count,
		ImageFormat:      p.format.Format,
		ImageColorSpace:  p.format.ColorSpace,
		ImageExtent:      vk.Extent2D{Width: w, Height: h},
		ImageArrayLayers: 1,
		ImageUsage:       vk.ImageUsageFlags(vk.ImageUsageTransferDstBit),
		ImageSharingMode: vk.SharingModeExclusive,
		PreTransform:     caps.CurrentTransform,
		CompositeAlpha:   alpha,
		PresentMode:      p.presentMode,
		Clipped:          vk.True,
		OldSwapchain:     old,
	}, nil, &sc))
	p.destroySwapchain()
	if err != nil {
		return false, err
	}
	p.swapchain = sc
	imgs, err := vkList("vkGetSwapchainImagesKHR", func(n *uint32, out []vk.Image) vk.Result {
		return vk.GetSwapchainImages(m.dev, sc, n, out)
	})
	if err != nil {
		return false, err
	}
	p.swapImgs = imgs
	for range p.swapImgs {
		var s vk.Semaphore
		if err := vkErr("vkCreateSemaphore", vk.CreateSemaphore(m.dev, &vk.SemaphoreCreateInfo{SType: vk.StructureTypeSemaphoreCreateInfo}, nil, &s)); err != nil {
			return false, err
		}
		p.rendered = append(p.rendered, s)
	}
	p.extent = [2]int{int(w), int(h)}
	p.fbSize = [2]int{fbW, fbH}
	p.stale = false
	return true, nil
}

// destroySwapchain frees the swapchain and its semaphores; the queue must
// be idle.
func (p *Presenter) destroySwapchain() {
	dev := p.m.dev
	for _, s := range p.rendered {
		vk.DestroySemaphore(dev, s, nil)
	}
	p.rendered = nil
	p.swapImgs = nil
	if p.swapchain != vk.NullSwapchain {
		vk.DestroySwapchain(dev, p.swapchain, nil)
		p.swapchain = vk.NullSwapchain
	}
}

// acquireTimeout bounds the wait for a free swapchain image: a frame is
// skipped rather than holding training up.
const acquireTimeout = 20 * time.Millisecond

// Present runs draws into the storage image, blits it (scaled) into the
// next swapchain image of a window whose framebuffer is fbW×fbH and
// queues it for presentation. It waits for the previous frame, which has
// normally long finished. It reports false when no frame was shown: the
// window has no area, no image was free within 20 ms, or the swapchain
// was out of date (it is recreated for the next call).
func (p *Presenter) Present(draws []Draw, fbW, fbH int) (bool, error) {
	if p.closed {
		return false, fmt.Errorf("engine: Presenter.Present: %w", ErrClosed)
	}
	if len(draws) > maxDraws {
		return false, fmt.Errorf("engine: Presenter.Present: %d draws, at most %d", len(draws), maxDraws)
	}
	for i, d := range draws {
		if err := p.checkDraw(d); err != nil {
			return false, fmt.Errorf("engine: Presenter.Present: draw %d: %w", i, err)
		}
	}
	if fbW <= 0 || fbH <= 0 {
		return false, nil
	}
	if err := p.waitFrame(); err != nil {
		return false, fmt.Errorf("engine: Presenter.Present: %w", err)
	}
	// The surface may fix the extent to something other than the
	// framebuffer size; recreate only when the framebuffer changed.
	if p.swapchain == vk.NullSwapchain || p.stale || p.fbSize != [2]int{fbW, fbH} {
		ok, err := p.makeSwapchain(fbW, fbH)
		if err != nil || !ok {
			return false, err
		}
	}
	dev := p.m.dev
	var idx uint32
	r := vk.AcquireNextImage(dev, p.swapchain, uint64(acquireTimeout), p.acquired, vk.NullFence, &idx)
	switch r {
	case vk.Success:
	case vk.Suboptimal:
		p.stale = true // still presentable; recreate next time
	case vk.ErrorOutOfDate:
		p.stale = true
		return false, nil
	case vk.Timeout, vk.NotReady:
		return false, nil
	default:
		return false, fmt.Errorf("engine: Presenter.Present: %w", vkErr("vkAcquireNextImageKHR", r))
	}
	p.m.poolMu.Lock()
	err := p.record(draws, p.swapImgs[idx])
	p.m.poolMu.Unlock()
	if err != nil {
		return false, errors.Join(fmt.Errorf("engine: Presenter.Present: recording: %w", err), p.dropAcquired())
	}
	m := p.m
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return false, ErrClosed
	}
	r = vk.QueueSubmit(m.queue, 1, []vk.SubmitInfo{{
		SType:                vk.StructureTypeSubmitInfo,
		WaitSemaphoreCount:   1,
		PWaitSemaphores:      []vk.Semaphore{p.acquired},
		PWaitDstStageMask:    []vk.PipelineStageFlags{vk.PipelineStageFlags(vk.PipelineStageTransferBit)},
		CommandBufferCount:   1,
		PCommandBuffers:      []vk.CommandBuffer{p.cmd},
		SignalSemaphoreCount: 1,
		PSignalSemaphores:    []vk.Semaphore{p.rendered[idx]},
	}}, p.fence)
	m.submits.Add(1)
	var pr vk.Result
	if r == vk.Success {
		p.inFlight = true
		pr = vk.QueuePresent(m.queue, &vk.PresentInfo{
			SType:              vk.StructureTypePresentInfo,
			WaitSemaphoreCount: 1,
			PWaitSemaphores:    []vk.Semaphore{p.rendered[idx]},
			SwapchainCount:     1,
			PSwapchains:        []vk.Swapchain{p.swapchain},
			PImageIndices:      []uint32{idx},
		})
	}
	m.mu.Unlock()
	if err := vkErr("vkQueueSubmit", r); err != nil {
		return false, errors.Join(fmt.Errorf("engine: Presenter.Present: %w", err), p.dropAcquired())
	}
	p.imageReady = true
	switch pr {
	case vk.Success:
	case vk.Suboptimal, vk.ErrorOutOfDate:
		p.stale = true
	default:
		return false, fmt.Errorf("engine: Presenter.Present: %w", vkErr("vkQueuePresentKHR", pr))
	}
	p.frames++
	return true, nil
}

// dropAcquired replaces the acquire semaphore after a frame failed
// between acquiring an image and submitting: the old one stays signalled
// with nobody to wait for it. The swapchain is recreated next time, which
// also takes the acquired image back.
func (p *Presenter) dropAcquired() error {
	m := p.m
	m.mu.Lock()
	r := vk.QueueWaitIdle(m.queue)
	m.mu.Unlock()
	if err := vkErr("vkQueueWaitIdle", r); err != nil {
		return err
	}
	p.destroySwapchain()
	vk.DestroySemaphore(m.dev, p.acquired, nil)
	p.acquired = vk.NullSemaphore
	var s vk.Semaphore
	if err := vkErr("vkCreateSemaphore", vk.CreateSemaphore(m.dev, &vk.SemaphoreCreateInfo{SType: vk.StructureTypeSemaphoreCreateInfo}, nil, &s)); err != nil {
		return err
	}
	p.acquired = s
	return nil
}

func (p *Presenter) checkDraw(d Draw) error {
	if d.Kernel == nil || d.Kernel.p != p {
		return fmt.Errorf("kernel is nil or from another Presenter")
	}
	k := &d.Kernel.k
	if len(d.Buffers) != k.bindings {
		return fmt.Errorf("%s: %d buffers, kernel takes %d", d.Kernel.name, len(d.Buffers), k.bindings)
	}
	if len(d.Push) != k.pushWords {
		return fmt.Errorf("%s: %d push-constant words, kernel takes %d", d.Kernel.name, len(d.Push), k.pushWords)
	}
	for i, b := range d.Buffers {
		switch {
		case b == nil:
			return fmt.Errorf("%s: buffer %d is nil", d.Kernel.name, i)
		case b.m != p.m:
			return fmt.Errorf("%s: buffer %d (%v) belongs to another Manager", d.Kernel.name, i, b)
		case b.freed:
			return fmt.Errorf("%s: buffer %d (%v) was freed", d.Kernel.name, i, b)
		}
	}
	lim := p.m.info.MaxWorkGroupCount
	for i, g := range d.Groups {
		if g == 0 || g > lim[i] {
			return fmt.Errorf("%s: work groups %v, each dimension must be 1..%v", d.Kernel.name, d.Groups, lim)
		}
	}
	return nil
}

// record writes the frame's command buffer: the draws (a barrier between
// each), then the blit into the swapchain image dst with its layout
// transitions. The storage image stays in the GENERAL layout.
func (p *Presenter) record(draws []Draw, dst vk.Image) error {
	dev := p.m.dev
	if err := vkErr("vkResetDescriptorPool", vk.ResetDescriptorPool(dev, p.descPool, 0)); err != nil {
		return err
	}
	sets := make([]vk.DescriptorSet, len(draws))
	for i, d := range draws {
		var set vk.DescriptorSet
		if err := vkErr("vkAllocateDescriptorSets", vk.AllocateDescriptorSets(dev, &vk.DescriptorSetAllocateInfo{
			SType:              vk.StructureTypeDescriptorSetAllocateInfo,
			DescriptorPool:     p.descPool,
			DescriptorSetCount: 1,
			PSetLayouts:        []vk.DescriptorSetLayout{d.Kernel.k.setLayout},
		}, &set)); err != nil {
			return err
		}
		sets[i] = set
		writes := []vk.WriteDescriptorSet{{
			SType:           vk.StructureTypeWriteDescriptorSet,
			DstSet:          set,
			DstBinding:      0,
			DescriptorCount: 1,
			DescriptorType:  vk.DescriptorTypeStorageImage,
			PImageInfo:      []vk.DescriptorImageInfo{{ImageView: p.view, ImageLayout: vk.ImageLayoutGeneral}},
		}}
		for j, b := range d.Buffers {
			writes = append(writes, vk.WriteDescriptorSet{
				SType:           vk.StructureTypeWriteDescriptorSet,
				DstSet:          set,
				DstBinding:      uint32(1 + j),
				DescriptorCount: 1,
				DescriptorType:  vk.DescriptorTypeStorageBuffer,
				PBufferInfo:     []vk.DescriptorBufferInfo{{Buffer: b.buf, Range: vk.DeviceSize(b.Bytes())}},
			})
		}
		vk.UpdateDescriptorSets(dev, uint32(len(writes)), writes, 0, nil)
	}
	cmd := p.cmd
	if err := p.beginCmd(); err != nil {
		return err
	}
	color := vk.ImageSubresourceRange{AspectMask: vk.ImageAspectFlags(vk.ImageAspectColorBit), LevelCount: 1, LayerCount: 1}
	// Training's writes (earlier submits, host uploads) become visible to
	// the draws, and the last frame's blit has read the image before the
	// draws overwrite it.
	oldLayout := vk.ImageLayoutGeneral
	if !p.imageReady {
		oldLayout = vk.ImageLayoutUndefined
	}
	vk.CmdPipelineBarrier(cmd, vk.PipelineStageFlags(allStages|hostStage), vk.PipelineStageFlags(vk.PipelineStageComputeShaderBit), 0,
		1, []vk.MemoryBarrier{{
			SType:         vk.StructureTypeMemoryBarrier,
			SrcAccessMask: vk.AccessFlags(allWrites | vk.AccessHostWriteBit),
			DstAccessMask: vk.AccessFlags(vk.AccessShaderReadBit | vk.AccessShaderWriteBit),
		}}, 0, nil,
		1, []vk.ImageMemoryBarrier{{
			SType:               vk.StructureTypeImageMemoryBarrier,
			SrcAccessMask:       vk.AccessFlags(vk.AccessTransferReadBit),
			DstAccessMask:       vk.AccessFlags(vk.AccessShaderWriteBit),
			OldLayout:           oldLayout,
			NewLayout:           vk.ImageLayoutGeneral,
			SrcQueueFamilyIndex: vk.QueueFamilyIgnored,
			DstQueueFamilyIndex: vk.QueueFamilyIgnored,
			Image:               p.image,
			SubresourceRange:    color,
		}})
	for i, d := range draws {
		if i > 0 {
			p.m.barrier(cmd, vk.PipelineStageComputeShaderBit, vk.PipelineStageComputeShaderBit, vk.AccessShaderWriteBit, vk.AccessShaderReadBit|vk.AccessShaderWriteBit)
		}
		k := &d.Kernel.k
		vk.CmdBindPipeline(cmd, vk.PipelineBindPointCompute, k.pipeline)
		vk.CmdBindDescriptorSets(cmd, vk.PipelineBindPointCompute, k.layout, 0, 1, []vk.DescriptorSet{sets[i]}, 0, nil)
		if len(d.Push) > 0 {
			push := append([]uint32(nil), d.Push...)
			vk.CmdPushConstants(cmd, k.layout, vk.ShaderStageFlags(vk.ShaderStageComputeBit), 0, uint32(4*len(push)), unsafe.Pointer(&push[0]))
		}
		vk.CmdDispatch(cmd, d.Groups[0], d.Groups[1], d.Groups[2])
	}
	// Draws → blit source; swapchain image: undefined → transfer
	// destination (after the acquire semaphore, waited at the transfer
	// stage).
	vk.CmdPipelineBarrier(cmd, vk.PipelineStageFlags(vk.PipelineStageComputeShaderBit|vk.PipelineStageTransferBit), vk.PipelineStageFlags(vk.PipelineStageTransferBit), 0,
		0, nil, 0, nil,
		2, []vk.ImageMemoryBarrier{{
			SType:               vk.StructureTypeImageMemoryBarrier,
			SrcAccessMask:       vk.AccessFlags(vk.AccessShaderWriteBit),
			DstAccessMask:       vk.AccessFlags(vk.AccessTransferReadBit),
			OldLayout:           vk.ImageLayoutGeneral,
			NewLayout:           vk.ImageLayoutGeneral,
			SrcQueueFamilyIndex: vk.QueueFamilyIgnored,
			DstQueueFamilyIndex: vk.QueueFamilyIgnored,
			Image:               p.image,
			SubresourceRange:    color,
		}, {
			SType:               vk.StructureTypeImageMemoryBarrier,
			SrcAccessMask:       0,
			DstAccessMask:       vk.AccessFlags(vk.AccessTransferWriteBit),
			OldLayout:           vk.ImageLayoutUndefined,
			NewLayout:           vk.ImageLayoutTransferDstOptimal,
			SrcQueueFamilyIndex: vk.QueueFamilyIgnored,
			DstQueueFamilyIndex: vk.QueueFamilyIgnored,
			Image:               dst,
			SubresourceRange:    color,
		}})
	layers := vk.ImageSubresourceLayers{AspectMask: vk.ImageAspectFlags(vk.ImageAspectColorBit), LayerCount: 1}
	filter := vk.FilterNearest
	if p.linearBlit {
		filter = vk.FilterLinear
	}
	vk.CmdBlitImage(cmd, p.image, vk.ImageLayoutGeneral, dst, vk.ImageLayoutTransferDstOptimal, 1, []vk.ImageBlit{{
		SrcSubresource: layers,
		SrcOffsets:     [2]vk.Offset3D{{}, {X: int32(p.width), Y: int32(p.height), Z: 1}},
		DstSubresource: layers,
		DstOffsets:     [2]vk.Offset3D{{}, {X: int32(p.extent[0]), Y: int32(p.extent[1]), Z: 1}},
	}}, filter)
	vk.CmdPipelineBarrier(cmd, vk.PipelineStageFlags(vk.PipelineStageTransferBit), vk.PipelineStageFlags(vk.PipelineStageBottomOfPipeBit), 0,
		0, nil, 0, nil,
		1, []vk.ImageMemoryBarrier{{
			SType:               vk.StructureTypeImageMemoryBarrier,
			SrcAccessMask:       vk.AccessFlags(vk.AccessTransferWriteBit),
			DstAccessMask:       0,
			OldLayout:           vk.ImageLayoutTransferDstOptimal,
			NewLayout:           vk.ImageLayoutPresentSrc,
			SrcQueueFamilyIndex: vk.QueueFamilyIgnored,
			DstQueueFamilyIndex: vk.QueueFamilyIgnored,
			Image:               dst,
			SubresourceRange:    color,
		}})
	return vkErr("vkEndCommandBuffer", vk.EndCommandBuffer(cmd))
}

// beginCmd resets p.cmd and begins recording it for one submit. Caller
// holds m.poolMu.
func (p *Presenter) beginCmd() error {
	if err := vkErr("vkResetCommandBuffer", vk.ResetCommandBuffer(p.cmd, 0)); err != nil {
		return err
	}
	return vkErr("vkBeginCommandBuffer", vk.BeginCommandBuffer(p.cmd, &vk.CommandBufferBeginInfo{
		SType: vk.StructureTypeCommandBufferBeginInfo,
		Flags: vk.CommandBufferUsageFlags(vk.CommandBufferUsageOneTimeSubmitBit),
	}))
}

// recordSnapshot records copying the image into buf into p.cmd.
func (p *Presenter) recordSnapshot(buf *Buffer) error {
	p.m.poolMu.Lock()
	defer p.m.poolMu.Unlock()
	cmd := p.cmd
	if err := p.beginCmd(); err != nil {
		return err
	}
	p.m.barrier(cmd, allStages, vk.PipelineStageTransferBit, allWrites, vk.AccessTransferReadBit|vk.AccessTransferWriteBit)
	vk.CmdCopyImageToBuffer(cmd, p.image, vk.ImageLayoutGeneral, buf.buf, 1, []vk.BufferImageCopy{{
		ImageSubresource: vk.ImageSubresourceLayers{AspectMask: vk.ImageAspectFlags(vk.ImageAspectColorBit), LayerCount: 1},
		ImageExtent:      vk.Extent3D{Width: uint32(p.width), Height: uint32(p.height), Depth: 1},
	}})
	p.m.barrier(cmd, vk.PipelineStageTransferBit, allStages|hostStage, vk.AccessTransferWriteBit, allAccess|vk.AccessHostReadBit)
	return vkErr("vkEndCommandBuffer", vk.EndCommandBuffer(cmd))
}

// Snapshot downloads the last frame drawn, for screenshots and tests; it
// is the only path that copies a frame to the host.
func (p *Presenter) Snapshot() (*image.RGBA, error) {
	if p.closed {
		return nil, fmt.Errorf("engine: Presenter.Snapshot: %w", ErrClosed)
	}
	if !p.imageReady {
		return nil, fmt.Errorf("engine: Presenter.Snapshot: no frame has been drawn yet")
	}
	if err := p.waitFrame(); err != nil {
		return nil, fmt.Errorf("engine: Presenter.Snapshot: %w", err)
	}
	m := p.m
	buf, err := m.NewBuffer(p.width * p.height) // one float32 slot per RGBA8 pixel
	if err != nil {
		return nil, fmt.Errorf("engine: Presenter.Snapshot: %w", err)
	}
	defer buf.Free()
	cmd := p.cmd
	if err := p.recordSnapshot(buf); err != nil {
		return nil, err
	}
	if err := m.submitWait(cmd, p.fence); err != nil {
		return nil, fmt.Errorf("engine: Presenter.Snapshot: %w", err)
	}
	words := make([]float32, p.width*p.height)
	if err := m.Download(buf, words, 0); err != nil {
		return nil, fmt.Errorf("engine: Presenter.Snapshot: %w", err)
	}
	img := image.NewRGBA(image.Rect(0, 0, p.width, p.height))
	for i, w := range words {
		binary.LittleEndian.PutUint32(img.Pix[4*i:], math.Float32bits(w))
	}
	return img, nil
}

// Close waits for the device, then frees the swapchain, surface, image,
// kernels and synchronisation objects. Later calls do nothing. Close the
// Presenter before its Manager.
func (p *Presenter) Close() error {
	if p.closed {
		return nil
	}
	if p.m.Closed() {
		p.closed = true
		return fmt.Errorf("engine: Presenter.Close: the Manager was closed first; the presenter's objects were not freed")
	}
	var err error
	p.m.mu.Lock()
	if r := vk.QueueWaitIdle(p.m.queue); r != vk.Success {
		err = vkErr("vkQueueWaitIdle", r)
	}
	p.m.mu.Unlock()
	p.inFlight = false
	p.destroy()
	return err
}

// destroy frees whatever exists; the device must be idle.
func (p *Presenter) destroy() {
	p.closed = true
	m := p.m
	dev := m.dev
	p.destroySwapchain()
	for _, k := range p.kernels {
		k.k.destroy(dev)
	}
	p.kernels = nil
	if p.descPool != vk.NullDescriptorPool {
		vk.DestroyDescriptorPool(dev, p.descPool, nil)
		p.descPool = vk.NullDescriptorPool
	}
	if p.cmd != nil {
		m.poolMu.Lock()
		vk.FreeCommandBuffers(dev, m.pool, 1, []vk.CommandBuffer{p.cmd})
		m.poolMu.Unlock()
		p.cmd = nil
	}
	if p.fence != vk.NullFence {
		vk.DestroyFence(dev, p.fence, nil)
		p.fence = vk.NullFence
	}
	if p.acquired != vk.NullSemaphore {
		vk.DestroySemaphore(dev, p.acquired, nil)
		p.acquired = vk.NullSemaphore
	}
	if p.view != vk.NullImageView {
		vk.DestroyImageView(dev, p.view, nil)
		p.view = vk.NullImageView
	}
	if p.image != vk.NullImage {
		vk.DestroyImage(dev, p.image, nil)
		p.image = vk.NullImage
	}
	if p.block != nil {
		m.mu.Lock()
		m.freeBlock(p.block)
		m.mu.Unlock()
		p.block = nil
	}
	if p.surface != vk.NullSurface {
		vk.DestroySurface(m.inst, p.surface, nil)
		p.surface = vk.NullSurface
	}
}
