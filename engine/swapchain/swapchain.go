package swapchain

import (
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"time"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/engine/internal/vkc"
)

// Extension is the device extension a Swapchain needs; pass it in
// engine.Options.DeviceExtensions, and the window system's instance
// extensions (glfw.GetRequiredInstanceExtensions) in
// Options.InstanceExtensions.
const Extension = "VK_KHR_swapchain"

// Window is a window that makes Vulkan surfaces, such as a *glfw.Window
// (github.com/go-gl/glfw/v3.3/glfw). The result is the address of the new
// VkSurfaceKHR handle, as GLFW's binding returns it.
type Window interface {
	CreateWindowSurface(instance interface{}, allocCallbacks unsafe.Pointer) (uintptr, error)
}

// ErrNotPresentable means the Manager's queue family cannot present to
// the window's surface.
var ErrNotPresentable = errors.New("swapchain: the compute queue family cannot present to this surface")

// Swapchain presents to one window from a Manager's queue. Its methods
// must be called from one goroutine, and it must be closed before the
// Manager.
type Swapchain struct {
	m           *engine.Manager
	inst        vk.Instance
	pd          vk.PhysicalDevice
	dev         vk.Device
	surface     vk.Surface
	format      vkc.SurfaceFormat
	presentMode vk.PresentMode

	swapchain vk.Swapchain
	images    []*engine.Image
	rendered  []*engine.Semaphore // one per image: its frame is drawn, waited by present
	acquired  *engine.Semaphore   // signalled by the acquisition, waited by the frame's Run
	extent    [2]int              // of the images
	fbSize    [2]int              // the framebuffer size the swapchain was made for
	stale     bool                // recreate before the next frame
	held      bool                // an image is acquired and not yet presented
	heldIndex uint32
	presented int
	closed    bool
}

// Frame is an acquired swapchain image, to be drawn and presented.
type Frame struct {
	// Image is the swapchain image: blit into it (engine.Sequence.Blit);
	// what it holds at Present is shown.
	Image *engine.Image
	// Acquired is signalled when Image may be written: the frame's Run
	// waits for it.
	Acquired *engine.Semaphore
	// Rendered is what the frame's Run signals, and Present waits for.
	Rendered *engine.Semaphore
	index    uint32
}

// Frame formats accepted, best first: UNORM, so the values drawn are the
// values shown.
var preferredFormats = []vk.Format{vk.FormatB8g8r8a8Unorm, vk.FormatR8g8b8a8Unorm}

// New makes a surface for win on m's instance and checks that m's queue
// can present to it and that its images can be blit destinations. The
// swapchain itself is made by the first Acquire, at the framebuffer's
// size.
func New(m *engine.Manager, win Window) (*Swapchain, error) {
	if m.Closed() {
		return nil, fmt.Errorf("swapchain: New: %w", engine.ErrClosed)
	}
	h := m.Handles()
	s := &Swapchain{m: m, inst: vk.Instance(h.Instance), pd: vk.PhysicalDevice(h.PhysicalDevice), dev: vk.Device(h.Device)}
	ok := false
	defer func() {
		if !ok {
			s.destroy()
		}
	}()
	// GLFW's binding returns the address of a Go variable as a uintptr,
	// which does not keep it alive: it is read with the collector off.
	var ptr uintptr
	var err error
	prev := debug.SetGCPercent(-1)
	ptr, err = win.CreateWindowSurface(s.inst, nil)
	if err == nil {
		s.surface = vk.SurfaceFromPointer(ptr)
	}
	debug.SetGCPercent(prev)
	if err != nil {
		return nil, fmt.Errorf("swapchain: creating the window's surface: %w (was the Manager opened with the window system's instance extensions?)", err)
	}
	var supported vk.Bool32
	if err := vkErr("vkGetPhysicalDeviceSurfaceSupportKHR", vk.GetPhysicalDeviceSurfaceSupport(s.pd, h.QueueFamily, s.surface, &supported)); err != nil {
		return nil, err
	}
	if supported != vk.True {
		return nil, fmt.Errorf("%w (device %s, queue family %d)", ErrNotPresentable, m.Info().Name, h.QueueFamily)
	}
	if err := s.chooseFormat(); err != nil {
		return nil, err
	}
	if s.acquired, err = m.NewSemaphore(); err != nil {
		return nil, fmt.Errorf("swapchain: %w", err)
	}
	ok = true
	return s, nil
}

func vkErr(fn string, r vk.Result) error {
	if r == vk.Success {
		return nil
	}
	return fmt.Errorf("swapchain: %s: %w", fn, vk.Error(r))
}

// chooseFormat picks the image format and present mode.
func (s *Swapchain) chooseFormat() error {
	formats, r := vkc.SurfaceFormats(s.inst, s.pd, s.surface)
	if err := vkErr("vkGetPhysicalDeviceSurfaceFormatsKHR", r); err != nil {
		return err
	}
	blitDst := func(f vk.Format) bool {
		var fp vk.FormatProperties
		vk.GetPhysicalDeviceFormatProperties(s.pd, f, &fp)
		fp.Deref()
		return fp.OptimalTilingFeatures&vk.FormatFeatureFlags(vk.FormatFeatureBlitDstBit) != 0
	}
	chosen := -1
	for _, want := range preferredFormats {
		for i, f := range formats {
			if f.Format == want && chosen < 0 && blitDst(f.Format) {
				chosen = i
			}
		}
	}
	for i, f := range formats {
		if chosen < 0 && blitDst(f.Format) {
			chosen = i
		}
	}
	if chosen < 0 {
		return fmt.Errorf("swapchain: no format of the surface can be a blit destination (formats %v)", formats)
	}
	s.format = formats[chosen]

	var n uint32
	if err := vkErr("vkGetPhysicalDeviceSurfacePresentModesKHR", vk.GetPhysicalDeviceSurfacePresentModes(s.pd, s.surface, &n, nil)); err != nil {
		return err
	}
	modes := make([]vk.PresentMode, n)
	if err := vkErr("vkGetPhysicalDeviceSurfacePresentModesKHR", vk.GetPhysicalDeviceSurfacePresentModes(s.pd, s.surface, &n, modes)); err != nil {
		return err
	}
	// Presenting must not hold training up: mailbox and immediate never
	// wait for a vertical blank; FIFO is the fallback every device has.
	s.presentMode = vk.PresentModeFifo
	rank := map[vk.PresentMode]int{vk.PresentModeMailbox: 2, vk.PresentModeImmediate: 1}
	for _, md := range modes[:n] {
		if rank[md] > rank[s.presentMode] {
			s.presentMode = md
		}
	}
	return nil
}

// Extent is the size of the swapchain images (0×0 before the first
// Acquire).
func (s *Swapchain) Extent() (width, height int) { return s.extent[0], s.extent[1] }

// Presented is the number of frames presented so far.
func (s *Swapchain) Presented() int { return s.presented }

// acquireTimeout bounds the wait for a free image: a frame is skipped
// rather than holding training up.
const acquireTimeout = 20 * time.Millisecond

// Acquire returns the next image of a window whose framebuffer is
// fbW×fbH, (re)making the swapchain when the size changed or it went out
// of date. It reports false when no frame can be shown now: the window
// has no area, no image was free within 20 ms, or the swapchain was out
// of date (it is remade by the next call). A frame acquired and not
// presented (its drawing failed) is dropped here, which costs a new
// swapchain.
func (s *Swapchain) Acquire(fbW, fbH int) (Frame, bool, error) {
	if s.closed {
		return Frame{}, false, fmt.Errorf("swapchain: Acquire: %w", engine.ErrClosed)
	}
	if fbW <= 0 || fbH <= 0 {
		return Frame{}, false, nil
	}
	if s.held {
		if err := s.drop(); err != nil {
			return Frame{}, false, fmt.Errorf("swapchain: Acquire: dropping the frame that was not presented: %w", err)
		}
	}
	// The surface may fix the extent to something other than the
	// framebuffer size; remake only when the framebuffer changed.
	if s.swapchain == vk.NullSwapchain || s.stale || s.fbSize != [2]int{fbW, fbH} {
		ok, err := s.makeSwapchain(fbW, fbH)
		if err != nil || !ok {
			return Frame{}, false, err
		}
	}
	var idx uint32
	sem := vkc.FromUint64[vk.Semaphore](s.acquired.Handle())
	switch r := vk.AcquireNextImage(s.dev, s.swapchain, uint64(acquireTimeout), sem, vk.NullFence, &idx); r {
	case vk.Success:
	case vk.Suboptimal:
		s.stale = true // still presentable; remade next time
	case vk.ErrorOutOfDate:
		s.stale = true
		return Frame{}, false, nil
	case vk.Timeout, vk.NotReady:
		return Frame{}, false, nil
	default:
		return Frame{}, false, vkErr("vkAcquireNextImageKHR", r)
	}
	if err := s.acquired.NoteSignal(); err != nil {
		return Frame{}, false, fmt.Errorf("swapchain: Acquire: %w", err)
	}
	s.held, s.heldIndex = true, idx
	return Frame{Image: s.images[idx], Acquired: s.acquired, Rendered: s.rendered[idx], index: idx}, true, nil
}

// Present queues f's image for presentation once f.Rendered is
// signalled. f must be the frame the last Acquire returned, drawn by a
// Run that signalled f.Rendered.
func (s *Swapchain) Present(f Frame) error {
	switch {
	case s.closed:
		return fmt.Errorf("swapchain: Present: %w", engine.ErrClosed)
	case !s.held || f.index != s.heldIndex || f.Rendered != s.rendered[s.heldIndex]:
		return errors.New("swapchain: Present: the frame is not the one the last Acquire returned")
	case !f.Rendered.Pending():
		return errors.New("swapchain: Present: the frame was not drawn (no Run signalled Frame.Rendered); the next Acquire drops it")
	}
	info := &vk.PresentInfo{
		SType:              vk.StructureTypePresentInfo,
		WaitSemaphoreCount: 1,
		PWaitSemaphores:    []vk.Semaphore{vkc.FromUint64[vk.Semaphore](f.Rendered.Handle())},
		SwapchainCount:     1,
		PSwapchains:        []vk.Swapchain{s.swapchain},
		PImageIndices:      []uint32{f.index},
	}
	var r vk.Result
	err := s.m.UseQueue(func(q unsafe.Pointer) { r = vk.QueuePresent(vk.Queue(q), info) })
	info.Free() // after the call: the binding's C copy points into the slices
	if err != nil {
		return fmt.Errorf("swapchain: Present: %w", err)
	}
	switch r {
	case vk.Success:
	case vk.Suboptimal, vk.ErrorOutOfDate, vk.ErrorSurfaceLost:
		// The presentation may not happen, but its wait does.
		s.stale = true
	default:
		return vkErr("vkQueuePresentKHR", r)
	}
	if err := f.Rendered.NoteWait(); err != nil {
		return fmt.Errorf("swapchain: Present: %w", err)
	}
	s.held = false
	if r == vk.Success || r == vk.Suboptimal {
		s.presented++
	}
	return nil
}

// waitIdle waits for the queue, so that no image or semaphore of the
// swapchain is in use.
func (s *Swapchain) waitIdle() error {
	var r vk.Result
	if err := s.m.UseQueue(func(q unsafe.Pointer) { r = vk.QueueWaitIdle(vk.Queue(q)) }); err != nil {
		return err
	}
	return vkErr("vkQueueWaitIdle", r)
}

// drop gives up the frame acquired and not presented: its image stays
// acquired until the swapchain is destroyed, and the acquire semaphore
// may still be signalled, so both are made anew.
func (s *Swapchain) drop() error {
	if err := s.waitIdle(); err != nil {
		return err
	}
	s.destroySwapchain()
	s.acquired.Free()
	s.held = false
	var err error
	s.acquired, err = s.m.NewSemaphore()
	return err
}

// makeSwapchain (re)makes the swapchain for a framebuffer of fbW×fbH; it
// reports false when the window has no area (minimised).
func (s *Swapchain) makeSwapchain(fbW, fbH int) (bool, error) {
	var caps vk.SurfaceCapabilities
	if err := vkErr("vkGetPhysicalDeviceSurfaceCapabilitiesKHR", vk.GetPhysicalDeviceSurfaceCapabilities(s.pd, s.surface, &caps)); err != nil {
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
		return false, fmt.Errorf("swapchain: the surface's images cannot be transfer destinations (usage %#x)", caps.SupportedUsageFlags)
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
	if err := s.waitIdle(); err != nil {
		return false, err
	}
	info := &vk.SwapchainCreateInfo{
		SType:            vk.StructureTypeSwapchainCreateInfo,
		Surface:          s.surface,
		MinImageCount:    count,
		ImageFormat:      s.format.Format,
		ImageColorSpace:  s.format.ColorSpace,
		ImageExtent:      vk.Extent2D{Width: w, Height: h},
		ImageArrayLayers: 1,
		ImageUsage:       vk.ImageUsageFlags(vk.ImageUsageTransferDstBit),
		ImageSharingMode: vk.SharingModeExclusive,
		PreTransform:     caps.CurrentTransform,
		CompositeAlpha:   alpha,
		PresentMode:      s.presentMode,
		Clipped:          vk.True,
		OldSwapchain:     s.swapchain,
	}
	var sc vk.Swapchain
	r := vk.CreateSwapchain(s.dev, info, nil, &sc)
	info.Free()
	s.destroySwapchain()
	if err := vkErr("vkCreateSwapchainKHR", r); err != nil {
		return false, err
	}
	s.swapchain = sc
	var n uint32
	if err := vkErr("vkGetSwapchainImagesKHR", vk.GetSwapchainImages(s.dev, sc, &n, nil)); err != nil {
		return false, err
	}
	imgs := make([]vk.Image, n)
	if err := vkErr("vkGetSwapchainImagesKHR", vk.GetSwapchainImages(s.dev, sc, &n, imgs)); err != nil {
		return false, err
	}
	for _, img := range imgs[:n] {
		im, err := s.m.SwapchainImage(vkc.Uint64(img), int(w), int(h))
		if err != nil {
			return false, fmt.Errorf("swapchain: %w", err)
		}
		s.images = append(s.images, im)
		sem, err := s.m.NewSemaphore()
		if err != nil {
			return false, fmt.Errorf("swapchain: %w", err)
		}
		s.rendered = append(s.rendered, sem)
	}
	s.extent = [2]int{int(w), int(h)}
	s.fbSize = [2]int{fbW, fbH}
	s.stale = false
	return true, nil
}

// destroySwapchain frees the swapchain, its images and semaphores; the
// queue must be idle.
func (s *Swapchain) destroySwapchain() {
	for _, im := range s.images {
		im.Free()
	}
	for _, sem := range s.rendered {
		sem.Free()
	}
	s.images, s.rendered = nil, nil
	if s.swapchain != vk.NullSwapchain {
		vk.DestroySwapchain(s.dev, s.swapchain, nil)
		s.swapchain = vk.NullSwapchain
	}
}

// Close waits for the queue, then frees the swapchain and the surface.
// Later calls do nothing. Close the Swapchain before its Manager.
func (s *Swapchain) Close() error {
	if s.closed {
		return nil
	}
	if s.m.Closed() {
		s.closed = true
		return errors.New("swapchain: Close: the Manager was closed first; the swapchain and surface were not freed")
	}
	err := s.waitIdle()
	s.destroy()
	return err
}

// destroy frees whatever exists; the queue must be idle.
func (s *Swapchain) destroy() {
	s.closed = true
	s.destroySwapchain()
	s.acquired.Free()
	if s.surface != vk.NullSurface {
		vk.DestroySurface(s.inst, s.surface, nil)
		s.surface = vk.NullSurface
	}
}
