package engine

import (
	"fmt"

	vk "github.com/vulkan-go/vulkan"

	"github.com/vkneuro/vkneuro/engine/internal/vkc"
)

// Resource is what a kernel binding takes: a *Buffer or an *Image.
type Resource interface {
	fmt.Stringer
	resource()
}

func (*Buffer) resource() {}
func (*Image) resource()  {}

// Image is a 2D image of RGBA8 texels on the device. NewImage makes one
// that kernels write and read as a storage image (a StorageImage binding,
// `layout(rgba8) uniform image2D` in GLSL) and that Blit and CopyImage
// read; SwapchainImage wraps an image of a swapchain, which Blit can
// write and nothing else can use.
type Image struct {
	m             *Manager
	img           vk.Image
	view          vk.ImageView // NewImage's only
	block         *memBlock    // NewImage's own memory
	width, height int
	linear        bool // Blit may filter it bilinearly
	swapchain     bool // owned by a swapchain, presented after each Run
	freed         bool
}

// imageFormat is the texel format of NewImage's images: UNORM, so the
// values shaders store are the bytes read back and shown.
const imageFormat = vk.FormatR8g8b8a8Unorm

// Size is the image's width and height in texels.
func (im *Image) Size() (width, height int) { return im.width, im.height }

// LinearBlit reports whether Blit may filter the image bilinearly.
func (im *Image) LinearBlit() bool { return im.linear }

// String names the image for error messages.
func (im *Image) String() string {
	if im.swapchain {
		return fmt.Sprintf("swapchain image[%d×%d]", im.width, im.height)
	}
	return fmt.Sprintf("image[%d×%d]", im.width, im.height)
}

// layout is the layout commands find the image in.
func (im *Image) layout() vk.ImageLayout {
	if im.swapchain {
		return vk.ImageLayoutTransferDstOptimal
	}
	return vk.ImageLayoutGeneral
}

// NewImage allocates a width×height image of RGBA8 texels, all zero, in
// its own memory allocation (images and buffers are not mixed in the
// shared blocks, which spares the bufferImageGranularity rules).
func (m *Manager) NewImage(width, height int) (*Image, error) {
	lim := int(m.info.MaxImageDimension2D)
	if width <= 0 || height <= 0 || width > lim || height > lim {
		return nil, fmt.Errorf("engine: NewImage(%d, %d): want 1..%d each way (the device's maxImageDimension2D)", width, height, lim)
	}
	var fp vk.FormatProperties
	vk.GetPhysicalDeviceFormatProperties(m.info.handle, imageFormat, &fp)
	fp.Deref()
	need := vk.FormatFeatureFlags(vk.FormatFeatureStorageImageBit | vk.FormatFeatureBlitSrcBit | vk.FormatFeatureBlitDstBit |
		vk.FormatFeatureTransferSrcBit | vk.FormatFeatureTransferDstBit)
	if fp.OptimalTilingFeatures&need != need {
		return nil, fmt.Errorf("engine: NewImage: R8G8B8A8_UNORM images cannot be storage images, blit and transfer sources and destinations on %s (features %#x)",
			m.info.Name, fp.OptimalTilingFeatures)
	}
	im := &Image{m: m, width: width, height: height,
		linear: fp.OptimalTilingFeatures&vk.FormatFeatureFlags(vk.FormatFeatureSampledImageFilterLinearBit) != 0}
	ok := false
	defer func() {
		if !ok {
			m.mu.Lock()
			if !m.closed { // Close destroyed the device, and with it the image
				im.destroy()
			}
			m.mu.Unlock()
		}
	}()
	info := &vk.ImageCreateInfo{
		SType:         vk.StructureTypeImageCreateInfo,
		ImageType:     vk.ImageType2d,
		Format:        imageFormat,
		Extent:        vk.Extent3D{Width: uint32(width), Height: uint32(height), Depth: 1},
		MipLevels:     1,
		ArrayLayers:   1,
		Samples:       vk.SampleCount1Bit,
		Tiling:        vk.ImageTilingOptimal,
		Usage:         vk.ImageUsageFlags(vk.ImageUsageStorageBit | vk.ImageUsageTransferSrcBit | vk.ImageUsageTransferDstBit),
		SharingMode:   vk.SharingModeExclusive,
		InitialLayout: vk.ImageLayoutUndefined,
	}
	var img vk.Image
	r := vk.CreateImage(m.dev, info, nil, &img)
	info.Free()
	if err := vkErr("vkCreateImage", r); err != nil {
		return nil, fmt.Errorf("engine: NewImage(%d, %d): %w", width, height, err)
	}
	im.img = img
	var req vk.MemoryRequirements
	vk.GetImageMemoryRequirements(m.dev, img, &req)
	req.Deref()
	ti := pickType(m.memTypes, req.MemoryTypeBits, deviceLocal, 0)
	if ti < 0 {
		ti = pickType(m.memTypes, req.MemoryTypeBits, 0, 0)
	}
	if ti < 0 {
		return nil, fmt.Errorf("engine: NewImage(%d, %d): no memory type for it (allowed types %#b)", width, height, req.MemoryTypeBits)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	b, err := m.newBlock(uint32(ti), uint64(req.Size), true)
	if err == nil {
		b.take(uint64(req.Size), 1)
	}
	m.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("engine: NewImage(%d, %d): %w", width, height, err)
	}
	im.block = b
	if err := vkErr("vkBindImageMemory", vk.BindImageMemory(m.dev, img, b.mem, 0)); err != nil {
		return nil, err
	}
	vinfo := &vk.ImageViewCreateInfo{
		SType:    vk.StructureTypeImageViewCreateInfo,
		Image:    img,
		ViewType: vk.ImageViewType2d,
		Format:   imageFormat,
		SubresourceRange: vk.ImageSubresourceRange{
			AspectMask: vk.ImageAspectFlags(vk.ImageAspectColorBit), LevelCount: 1, LayerCount: 1,
		},
	}
	var view vk.ImageView
	r = vk.CreateImageView(m.dev, vinfo, nil, &view)
	vinfo.Free()
	if err := vkErr("vkCreateImageView", r); err != nil {
		return nil, err
	}
	im.view = view
	// Laid out GENERAL once, where it stays, and cleared.
	m.xferMu.Lock()
	err = m.oneShot(func(cmd vk.CommandBuffer) {
		m.barrier(cmd, allStages, vk.PipelineStageTransferBit, 0, vk.AccessTransferWriteBit, vkc.ImageBarrier{
			Image: img, DstAccess: vk.AccessFlags(vk.AccessTransferWriteBit),
			OldLayout: vk.ImageLayoutUndefined, NewLayout: vk.ImageLayoutGeneral,
		})
		m.fns.CmdClearColorImage(cmd, img, vk.ImageLayoutGeneral)
	})
	m.xferMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("engine: NewImage(%d, %d): clearing: %w", width, height, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	m.images[im] = struct{}{}
	ok = true
	return im, nil
}

// SwapchainImage wraps handle, a width×height image of a swapchain made
// on the Manager's device (engine/swapchain makes them), as a destination
// for Blit. A Sequence that blits into it takes it in an undefined layout,
// its old contents discarded, and leaves it ready to present
// (VK_IMAGE_LAYOUT_PRESENT_SRC_KHR). Free forgets it; the swapchain
// destroys it.
func (m *Manager) SwapchainImage(handle uint64, width, height int) (*Image, error) {
	if handle == 0 || width <= 0 || height <= 0 {
		return nil, fmt.Errorf("engine: SwapchainImage(%#x, %d, %d): want a handle and a positive size", handle, width, height)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	im := &Image{m: m, img: vkc.FromUint64[vk.Image](handle), width: width, height: height, swapchain: true}
	m.images[im] = struct{}{}
	return im, nil
}

// Free destroys the image (forgets it, for a swapchain image). Later
// calls do nothing. The image must not be in use by a running sequence.
func (im *Image) Free() {
	if im == nil {
		return
	}
	m := im.m
	m.freeOnce(&im.freed, func() {
		delete(m.images, im)
		im.destroy()
	})
}

// destroy frees what exists. Caller holds m.mu.
func (im *Image) destroy() {
	im.freed = true
	if im.swapchain {
		return
	}
	m := im.m
	if im.view != vk.NullImageView {
		vk.DestroyImageView(m.dev, im.view, nil)
		im.view = vk.NullImageView
	}
	if im.img != vk.NullImage {
		vk.DestroyImage(m.dev, im.img, nil)
		im.img = vk.NullImage
	}
	if im.block != nil {
		m.freeBlock(im.block)
		im.block = nil
	}
}
