package vkc

/*
#include <stddef.h>
#include <stdlib.h>
#include <stdint.h>

// The structures are declared here as in vulkan_core.h, so that building
// needs no Vulkan headers; TestLayouts compares their sizes with those
// vulkan-go compiled from the Khronos headers. Dispatchable handles are
// pointers, non-dispatchable ones 64-bit values, enums 32-bit.

typedef uint64_t vkn_h;

enum {
	VKN_STYPE_SUBMIT_INFO = 4,
	VKN_STYPE_PIPELINE_SHADER_STAGE_CREATE_INFO = 18,
	VKN_STYPE_COMPUTE_PIPELINE_CREATE_INFO = 29,
	VKN_STYPE_WRITE_DESCRIPTOR_SET = 35,
	VKN_STYPE_IMAGE_MEMORY_BARRIER = 45,
	VKN_STYPE_MEMORY_BARRIER = 46,
	VKN_ASPECT_COLOR = 1,
	VKN_STAGE_COMPUTE = 0x20,
};

typedef struct {
	int32_t sType;
	const void* pNext;
	uint32_t waitSemaphoreCount;
	const vkn_h* pWaitSemaphores;
	const uint32_t* pWaitDstStageMask;
	uint32_t commandBufferCount;
	void* const* pCommandBuffers;
	uint32_t signalSemaphoreCount;
	const vkn_h* pSignalSemaphores;
} vkn_submit_info;

typedef struct {
	int32_t sType;
	const void* pNext;
	uint32_t srcAccessMask, dstAccessMask;
} vkn_memory_barrier;

typedef struct {
	uint32_t aspectMask, baseMipLevel, levelCount, baseArrayLayer, layerCount;
} vkn_subresource_range;

typedef struct {
	int32_t sType;
	const void* pNext;
	uint32_t srcAccessMask, dstAccessMask;
	int32_t oldLayout, newLayout;
	uint32_t srcQueueFamilyIndex, dstQueueFamilyIndex;
	vkn_h image;
	vkn_subresource_range subresourceRange;
} vkn_image_memory_barrier;

typedef struct {
	uint64_t srcOffset, dstOffset, size;
} vkn_buffer_copy;

typedef struct {
	uint32_t aspectMask, mipLevel, baseArrayLayer, layerCount;
} vkn_subresource_layers;

typedef struct {
	int32_t x, y, z;
} vkn_offset3d;

typedef struct {
	uint32_t width, height, depth;
} vkn_extent3d;

typedef struct {
	vkn_subresource_layers srcSubresource;
	vkn_offset3d srcOffsets[2];
	vkn_subresource_layers dstSubresource;
	vkn_offset3d dstOffsets[2];
} vkn_image_blit;

typedef struct {
	uint64_t bufferOffset;
	uint32_t bufferRowLength, bufferImageHeight;
	vkn_subresource_layers imageSubresource;
	vkn_offset3d imageOffset;
	vkn_extent3d imageExtent;
} vkn_buffer_image_copy;

typedef union {
	float float32[4];
	int32_t int32[4];
	uint32_t uint32[4];
} vkn_clear_color;

typedef struct {
	vkn_h buffer;
	uint64_t offset, range;
} vkn_descriptor_buffer_info;

typedef struct {
	vkn_h sampler, imageView;
	int32_t imageLayout;
} vkn_descriptor_image_info;

typedef struct {
	int32_t sType;
	const void* pNext;
	vkn_h dstSet;
	uint32_t dstBinding, dstArrayElement, descriptorCount;
	int32_t descriptorType;
	const vkn_descriptor_image_info* pImageInfo;
	const vkn_descriptor_buffer_info* pBufferInfo;
	const vkn_h* pTexelBufferView;
} vkn_write_descriptor_set;

typedef struct {
	uint32_t constantID, offset;
	size_t size;
} vkn_specialization_map_entry;

typedef struct {
	uint32_t mapEntryCount;
	const vkn_specialization_map_entry* pMapEntries;
	size_t dataSize;
	const void* pData;
} vkn_specialization_info;

typedef struct {
	int32_t sType;
	const void* pNext;
	uint32_t flags, stage;
	vkn_h module;
	const char* pName;
	const vkn_specialization_info* pSpecializationInfo;
} vkn_pipeline_shader_stage_create_info;

typedef struct {
	int32_t sType;
	const void* pNext;
	uint32_t flags;
	vkn_pipeline_shader_stage_create_info stage;
	vkn_h layout, basePipelineHandle;
	int32_t basePipelineIndex;
} vkn_compute_pipeline_create_info;

typedef struct {
	char extensionName[256];
	uint32_t specVersion;
} vkn_extension_properties;

typedef struct {
	char layerName[256];
	uint32_t specVersion, implementationVersion;
	char description[256];
} vkn_layer_properties;

typedef struct {
	uint32_t queueFlags, queueCount, timestampValidBits;
	vkn_extent3d minImageTransferGranularity;
} vkn_queue_family_properties;

typedef struct {
	int32_t format, colorSpace;
} vkn_surface_format;

// What Go passes per element: no Go pointers, so cgo may pass its arrays.

typedef struct {
	vkn_h image;
	uint32_t srcAccess, dstAccess;
	int32_t oldLayout, newLayout;
} vkn_image_transition;

typedef struct {
	uint32_t binding;
	int32_t type;
	vkn_h buffer;
	uint64_t range;
	vkn_h view;
	int32_t layout;
} vkn_write;

static int32_t vkn_queue_submit(void* fn, void* queue, void* cmd, uint32_t nwait, const vkn_h* waits, uint32_t wait_stage,
		uint32_t nsignal, const vkn_h* signals, vkn_h fence) {
	uint32_t stages[nwait > 0 ? nwait : 1];
	for (uint32_t i = 0; i < nwait; i++) {
		stages[i] = wait_stage;
	}
	vkn_submit_info s = {VKN_STYPE_SUBMIT_INFO, NULL, nwait, waits, stages, 1, &cmd, nsignal, signals};
	return ((int32_t (*)(void*, uint32_t, const vkn_submit_info*, vkn_h))fn)(queue, 1, &s, fence);
}

static void vkn_cmd_barrier(void* fn, void* cmd, uint32_t src_stage, uint32_t dst_stage, uint32_t src_access, uint32_t dst_access,
		uint32_t nimg, const vkn_image_transition* t) {
	vkn_memory_barrier mb = {VKN_STYPE_MEMORY_BARRIER, NULL, src_access, dst_access};
	vkn_image_memory_barrier ib[nimg > 0 ? nimg : 1];
	for (uint32_t i = 0; i < nimg; i++) {
		vkn_image_memory_barrier b = {VKN_STYPE_IMAGE_MEMORY_BARRIER, NULL, t[i].srcAccess, t[i].dstAccess, t[i].oldLayout, t[i].newLayout,
			~0u, ~0u, t[i].image, {VKN_ASPECT_COLOR, 0, 1, 0, 1}};
		ib[i] = b;
	}
	((void (*)(void*, uint32_t, uint32_t, uint32_t, uint32_t, const vkn_memory_barrier*, uint32_t, const void*, uint32_t, const vkn_image_memory_barrier*))fn)(
		cmd, src_stage, dst_stage, 0, 1, &mb, 0, NULL, nimg, ib);
}

static void vkn_cmd_copy_buffer(void* fn, void* cmd, vkn_h src, vkn_h dst, uint64_t src_off, uint64_t dst_off, uint64_t size) {
	vkn_buffer_copy r = {src_off, dst_off, size};
	((void (*)(void*, vkn_h, vkn_h, uint32_t, const vkn_buffer_copy*))fn)(cmd, src, dst, 1, &r);
}

static void vkn_cmd_blit_image(void* fn, void* cmd, vkn_h src, int32_t src_layout, int32_t sw, int32_t sh,
		vkn_h dst, int32_t dst_layout, int32_t dw, int32_t dh, int32_t filter) {
	vkn_image_blit r = {{VKN_ASPECT_COLOR, 0, 0, 1}, {{0, 0, 0}, {sw, sh, 1}}, {VKN_ASPECT_COLOR, 0, 0, 1}, {{0, 0, 0}, {dw, dh, 1}}};
	((void (*)(void*, vkn_h, int32_t, vkn_h, int32_t, uint32_t, const vkn_image_blit*, int32_t))fn)(cmd, src, src_layout, dst, dst_layout, 1, &r, filter);
}

static void vkn_cmd_copy_image_to_buffer(void* fn, void* cmd, vkn_h img, int32_t layout, uint32_t w, uint32_t h, vkn_h buf) {
	vkn_buffer_image_copy r = {0, 0, 0, {VKN_ASPECT_COLOR, 0, 0, 1}, {0, 0, 0}, {w, h, 1}};
	((void (*)(void*, vkn_h, int32_t, vkn_h, uint32_t, const vkn_buffer_image_copy*))fn)(cmd, img, layout, buf, 1, &r);
}

static void vkn_cmd_clear_color_image(void* fn, void* cmd, vkn_h img, int32_t layout) {
	vkn_clear_color zero = {{0, 0, 0, 0}};
	vkn_subresource_range all = {VKN_ASPECT_COLOR, 0, 1, 0, 1};
	((void (*)(void*, vkn_h, int32_t, const vkn_clear_color*, uint32_t, const vkn_subresource_range*))fn)(cmd, img, layout, &zero, 1, &all);
}

static void vkn_update_descriptor_set(void* fn, void* dev, vkn_h set, uint32_t n, const vkn_write* w) {
	vkn_write_descriptor_set ws[n];
	vkn_descriptor_buffer_info bi[n];
	vkn_descriptor_image_info ii[n];
	for (uint32_t i = 0; i < n; i++) {
		vkn_descriptor_buffer_info b = {w[i].buffer, 0, w[i].range};
		vkn_descriptor_image_info im = {0, w[i].view, w[i].layout};
		bi[i] = b;
		ii[i] = im;
		vkn_write_descriptor_set d = {VKN_STYPE_WRITE_DESCRIPTOR_SET, NULL, set, w[i].binding, 0, 1, w[i].type,
			w[i].view ? &ii[i] : NULL, w[i].view ? NULL : &bi[i], NULL};
		ws[i] = d;
	}
	((void (*)(void*, uint32_t, const vkn_write_descriptor_set*, uint32_t, const void*))fn)(dev, n, ws, 0, NULL);
}

static int32_t vkn_create_compute_pipeline(void* fn, void* dev, vkn_h module, vkn_h layout, uint32_t nspec, const uint32_t* spec, vkn_h* out) {
	vkn_specialization_map_entry e[nspec > 0 ? nspec : 1];
	for (uint32_t i = 0; i < nspec; i++) {
		vkn_specialization_map_entry x = {i, 4 * i, 4};
		e[i] = x;
	}
	vkn_specialization_info si = {nspec, e, 4 * (size_t)nspec, spec};
	vkn_compute_pipeline_create_info ci = {VKN_STYPE_COMPUTE_PIPELINE_CREATE_INFO, NULL, 0,
		{VKN_STYPE_PIPELINE_SHADER_STAGE_CREATE_INFO, NULL, 0, VKN_STAGE_COMPUTE, module, "main", nspec > 0 ? &si : NULL},
		layout, 0, -1};
	return ((int32_t (*)(void*, vkn_h, uint32_t, const vkn_compute_pipeline_create_info*, const void*, vkn_h*))fn)(dev, 0, 1, &ci, NULL, out);
}

static int32_t vkn_enumerate_instance_extensions(void* fn, const char* layer, uint32_t* n, vkn_extension_properties* out) {
	return ((int32_t (*)(const char*, uint32_t*, vkn_extension_properties*))fn)(layer, n, out);
}

static int32_t vkn_enumerate_device_extensions(void* fn, void* pd, uint32_t* n, vkn_extension_properties* out) {
	return ((int32_t (*)(void*, const char*, uint32_t*, vkn_extension_properties*))fn)(pd, NULL, n, out);
}

static int32_t vkn_enumerate_instance_layers(void* fn, uint32_t* n, vkn_layer_properties* out) {
	return ((int32_t (*)(uint32_t*, vkn_layer_properties*))fn)(n, out);
}

static int32_t vkn_queue_families(void* fn, void* pd, uint32_t* n, vkn_queue_family_properties* out) {
	((void (*)(void*, uint32_t*, vkn_queue_family_properties*))fn)(pd, n, out);
	return 0;
}

static int32_t vkn_surface_formats(void* fn, void* pd, vkn_h surface, uint32_t* n, vkn_surface_format* out) {
	return ((int32_t (*)(void*, vkn_h, uint32_t*, vkn_surface_format*))fn)(pd, surface, n, out);
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// MaxWrites bounds the descriptor writes of one UpdateDescriptorSet and
// the semaphores of one QueueSubmit (their arrays live on the C stack).
const MaxWrites = 64

// Funcs are the entry points of one instance for the calls below.
type Funcs struct {
	queueSubmit, cmdPipelineBarrier, cmdCopyBuffer, cmdBlitImage, cmdCopyImageToBuffer,
	cmdClearColorImage, updateDescriptorSets, createComputePipelines,
	enumerateDeviceExtensionProperties, getPhysicalDeviceQueueFamilyProperties unsafe.Pointer
}

// Load resolves the entry points through instance; it fails naming the
// first one the loader does not have.
func Load(instance vk.Instance) (*Funcs, error) {
	f := &Funcs{}
	for _, e := range []struct {
		dst  *unsafe.Pointer
		name string
	}{
		{&f.queueSubmit, "vkQueueSubmit"},
		{&f.cmdPipelineBarrier, "vkCmdPipelineBarrier"},
		{&f.cmdCopyBuffer, "vkCmdCopyBuffer"},
		{&f.cmdBlitImage, "vkCmdBlitImage"},
		{&f.cmdCopyImageToBuffer, "vkCmdCopyImageToBuffer"},
		{&f.cmdClearColorImage, "vkCmdClearColorImage"},
		{&f.updateDescriptorSets, "vkUpdateDescriptorSets"},
		{&f.createComputePipelines, "vkCreateComputePipelines"},
		{&f.enumerateDeviceExtensionProperties, "vkEnumerateDeviceExtensionProperties"},
		{&f.getPhysicalDeviceQueueFamilyProperties, "vkGetPhysicalDeviceQueueFamilyProperties"},
	} {
		if *e.dst = ProcAddr(instance, e.name); *e.dst == nil {
			return nil, fmt.Errorf("vkc: the Vulkan loader has no %s", e.name)
		}
	}
	return f, nil
}

// nonDispatchable are the handle types passed to the calls below; on
// 64-bit platforms vulkan-go declares them as C pointers.
type nonDispatchable interface {
	vk.Buffer | vk.Image | vk.ImageView | vk.Semaphore | vk.Fence | vk.DescriptorSet |
		vk.ShaderModule | vk.PipelineLayout | vk.Surface
}

// handle is the 64-bit value of a non-dispatchable handle.
func handle[T nonDispatchable](h T) C.vkn_h { return C.vkn_h(uintptr(unsafe.Pointer(h))) }

// handles converts a slice of non-dispatchable handles; nil when empty.
func handles[T nonDispatchable](hs []T) []C.vkn_h {
	if len(hs) == 0 {
		return nil
	}
	out := make([]C.vkn_h, len(hs))
	for i, h := range hs {
		out[i] = handle(h)
	}
	return out
}

// first is the address of s[0], or nil for an empty slice.
func first[T any](s []T) *T {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

// QueueSubmit submits cmd, waiting for wait at waitStage first and
// signalling signal and fence when it completes.
func (f *Funcs) QueueSubmit(queue vk.Queue, cmd vk.CommandBuffer, wait []vk.Semaphore, waitStage vk.PipelineStageFlags, signal []vk.Semaphore, fence vk.Fence) vk.Result {
	if len(wait) > MaxWrites || len(signal) > MaxWrites {
		return vk.ErrorTooManyObjects
	}
	w, s := handles(wait), handles(signal)
	return vk.Result(C.vkn_queue_submit(f.queueSubmit, unsafe.Pointer(queue), unsafe.Pointer(cmd),
		C.uint32_t(len(w)), first(w), C.uint32_t(waitStage), C.uint32_t(len(s)), first(s), handle(fence)))
}

// ImageBarrier is a layout transition of the colour aspect of a 2D image
// (one level, one layer) on the command's queue family.
type ImageBarrier struct {
	Image                vk.Image
	SrcAccess, DstAccess vk.AccessFlags
	OldLayout, NewLayout vk.ImageLayout
}

// CmdPipelineBarrier records a global memory barrier and the image
// barriers images between the stages src and dst.
func (f *Funcs) CmdPipelineBarrier(cmd vk.CommandBuffer, src, dst vk.PipelineStageFlags, srcAccess, dstAccess vk.AccessFlags, images ...ImageBarrier) {
	t := make([]C.vkn_image_transition, len(images))
	for i, b := range images {
		t[i] = C.vkn_image_transition{
			image: handle(b.Image), srcAccess: C.uint32_t(b.SrcAccess), dstAccess: C.uint32_t(b.DstAccess),
			oldLayout: C.int32_t(b.OldLayout), newLayout: C.int32_t(b.NewLayout),
		}
	}
	C.vkn_cmd_barrier(f.cmdPipelineBarrier, unsafe.Pointer(cmd), C.uint32_t(src), C.uint32_t(dst),
		C.uint32_t(srcAccess), C.uint32_t(dstAccess), C.uint32_t(len(t)), first(t))
}

// CmdCopyBuffer records copying size bytes from src at srcOff to dst at
// dstOff.
func (f *Funcs) CmdCopyBuffer(cmd vk.CommandBuffer, src, dst vk.Buffer, srcOff, dstOff, size uint64) {
	C.vkn_cmd_copy_buffer(f.cmdCopyBuffer, unsafe.Pointer(cmd), handle(src), handle(dst), C.uint64_t(srcOff), C.uint64_t(dstOff), C.uint64_t(size))
}

// CmdBlitImage records scaling all of the sw×sh image src onto all of the
// dw×dh image dst with filter.
func (f *Funcs) CmdBlitImage(cmd vk.CommandBuffer, src vk.Image, srcLayout vk.ImageLayout, sw, sh int, dst vk.Image, dstLayout vk.ImageLayout, dw, dh int, filter vk.Filter) {
	C.vkn_cmd_blit_image(f.cmdBlitImage, unsafe.Pointer(cmd), handle(src), C.int32_t(srcLayout), C.int32_t(sw), C.int32_t(sh),
		handle(dst), C.int32_t(dstLayout), C.int32_t(dw), C.int32_t(dh), C.int32_t(filter))
}

// CmdCopyImageToBuffer records copying all w×h texels of img to the start
// of buf, tightly packed.
func (f *Funcs) CmdCopyImageToBuffer(cmd vk.CommandBuffer, img vk.Image, layout vk.ImageLayout, w, h int, buf vk.Buffer) {
	C.vkn_cmd_copy_image_to_buffer(f.cmdCopyImageToBuffer, unsafe.Pointer(cmd), handle(img), C.int32_t(layout), C.uint32_t(w), C.uint32_t(h), handle(buf))
}

// CmdClearColorImage records setting every texel of img to zero.
func (f *Funcs) CmdClearColorImage(cmd vk.CommandBuffer, img vk.Image, layout vk.ImageLayout) {
	C.vkn_cmd_clear_color_image(f.cmdClearColorImage, unsafe.Pointer(cmd), handle(img), C.int32_t(layout))
}

// Write is one descriptor of a set: a storage image when View is set,
// else the first Range bytes of the storage buffer Buffer.
type Write struct {
	Binding uint32
	Buffer  vk.Buffer
	Range   uint64
	View    vk.ImageView
	Layout  vk.ImageLayout
}

// UpdateDescriptorSet writes writes (at most MaxWrites) into set.
func (f *Funcs) UpdateDescriptorSet(dev vk.Device, set vk.DescriptorSet, writes []Write) error {
	if len(writes) == 0 {
		return nil
	}
	if len(writes) > MaxWrites {
		return fmt.Errorf("vkc: UpdateDescriptorSet: %d writes, at most %d", len(writes), MaxWrites)
	}
	w := make([]C.vkn_write, len(writes))
	for i, x := range writes {
		w[i] = C.vkn_write{binding: C.uint32_t(x.Binding), _type: C.int32_t(vk.DescriptorTypeStorageBuffer), buffer: handle(x.Buffer), _range: C.uint64_t(x.Range)}
		if x.View != vk.NullImageView {
			w[i] = C.vkn_write{binding: C.uint32_t(x.Binding), _type: C.int32_t(vk.DescriptorTypeStorageImage), view: handle(x.View), layout: C.int32_t(x.Layout)}
		}
	}
	C.vkn_update_descriptor_set(f.updateDescriptorSets, unsafe.Pointer(dev), handle(set), C.uint32_t(len(w)), &w[0])
	return nil
}

// CreateComputePipeline makes the pipeline of module's "main" with layout
// and the specialization constants spec (constant_id 0, 1, …).
func (f *Funcs) CreateComputePipeline(dev vk.Device, module vk.ShaderModule, layout vk.PipelineLayout, spec []uint32) (vk.Pipeline, vk.Result) {
	var p vk.Pipeline
	r := C.vkn_create_compute_pipeline(f.createComputePipelines, unsafe.Pointer(dev), handle(module), handle(layout),
		C.uint32_t(len(spec)), (*C.uint32_t)(first(spec)), (*C.vkn_h)(unsafe.Pointer(&p)))
	return p, vk.Result(r)
}

// list runs a Vulkan enumeration the two-call way, again while the driver
// reports VK_INCOMPLETE (the list grew between the calls).
func list[T any](call func(n *C.uint32_t, out *T) C.int32_t) ([]T, vk.Result) {
	for {
		var n C.uint32_t
		if r := vk.Result(call(&n, nil)); r != vk.Success {
			return nil, r
		}
		out := make([]T, n)
		if n == 0 {
			return out, vk.Success
		}
		r := vk.Result(call(&n, &out[0]))
		if r == vk.Incomplete {
			continue
		}
		return out[:n], r
	}
}

// InstanceExtensions lists the instance extensions available, with those
// of layer when layer is not "".
func InstanceExtensions(layer string) ([]string, vk.Result) {
	fn := ProcAddr(nil, "vkEnumerateInstanceExtensionProperties")
	if fn == nil {
		return nil, vk.ErrorInitializationFailed
	}
	var cl *C.char
	if layer != "" {
		cl = C.CString(layer)
		defer C.free(unsafe.Pointer(cl))
	}
	props, r := list(func(n *C.uint32_t, out *C.vkn_extension_properties) C.int32_t {
		return C.vkn_enumerate_instance_extensions(fn, cl, n, out)
	})
	return extensionNames(props), r
}

// InstanceLayers lists the instance layers the loader knows.
func InstanceLayers() ([]string, vk.Result) {
	fn := ProcAddr(nil, "vkEnumerateInstanceLayerProperties")
	if fn == nil {
		return nil, vk.ErrorInitializationFailed
	}
	props, r := list(func(n *C.uint32_t, out *C.vkn_layer_properties) C.int32_t {
		return C.vkn_enumerate_instance_layers(fn, n, out)
	})
	names := make([]string, len(props))
	for i := range props {
		names[i] = C.GoString(&props[i].layerName[0])
	}
	return names, r
}

// DeviceExtensions lists the device extensions of pd.
func (f *Funcs) DeviceExtensions(pd vk.PhysicalDevice) ([]string, vk.Result) {
	props, r := list(func(n *C.uint32_t, out *C.vkn_extension_properties) C.int32_t {
		return C.vkn_enumerate_device_extensions(f.enumerateDeviceExtensionProperties, unsafe.Pointer(pd), n, out)
	})
	return extensionNames(props), r
}

func extensionNames(props []C.vkn_extension_properties) []string {
	names := make([]string, len(props))
	for i := range props {
		names[i] = C.GoString(&props[i].extensionName[0])
	}
	return names
}

// QueueFamily is what the engine reads of a queue family.
type QueueFamily struct {
	Flags         vk.QueueFlags
	Count         uint32
	TimestampBits uint32
}

// QueueFamilies lists the queue families of pd.
func (f *Funcs) QueueFamilies(pd vk.PhysicalDevice) []QueueFamily {
	props, _ := list(func(n *C.uint32_t, out *C.vkn_queue_family_properties) C.int32_t {
		return C.vkn_queue_families(f.getPhysicalDeviceQueueFamilyProperties, unsafe.Pointer(pd), n, out)
	})
	qs := make([]QueueFamily, len(props))
	for i, p := range props {
		qs[i] = QueueFamily{Flags: vk.QueueFlags(p.queueFlags), Count: uint32(p.queueCount), TimestampBits: uint32(p.timestampValidBits)}
	}
	return qs
}

// SurfaceFormat is a format and colour space a surface can present.
type SurfaceFormat struct {
	Format     vk.Format
	ColorSpace vk.ColorSpace
}

// SurfaceFormats lists the formats surface offers on pd
// (vkGetPhysicalDeviceSurfaceFormatsKHR of instance, which must have
// VK_KHR_surface enabled).
func SurfaceFormats(instance vk.Instance, pd vk.PhysicalDevice, surface vk.Surface) ([]SurfaceFormat, vk.Result) {
	fn := ProcAddr(instance, "vkGetPhysicalDeviceSurfaceFormatsKHR")
	if fn == nil {
		return nil, vk.ErrorExtensionNotPresent
	}
	props, r := list(func(n *C.uint32_t, out *C.vkn_surface_format) C.int32_t {
		return C.vkn_surface_formats(fn, unsafe.Pointer(pd), handle(surface), n, out)
	})
	fs := make([]SurfaceFormat, len(props))
	for i, p := range props {
		fs[i] = SurfaceFormat{Format: vk.Format(p.format), ColorSpace: vk.ColorSpace(p.colorSpace)}
	}
	return fs, r
}

// cLayout reports the sizes of the structures declared above and the
// values of their constants, for TestLayouts to compare with vulkan-go's
// (cgo cannot be used in test files).
func cLayout() (sizes map[string]uintptr, consts map[string]int64) {
	sizes = map[string]uintptr{
		"SubmitInfo":                    C.sizeof_vkn_submit_info,
		"MemoryBarrier":                 C.sizeof_vkn_memory_barrier,
		"ImageMemoryBarrier":            C.sizeof_vkn_image_memory_barrier,
		"ImageSubresourceRange":         C.sizeof_vkn_subresource_range,
		"BufferCopy":                    C.sizeof_vkn_buffer_copy,
		"ImageSubresourceLayers":        C.sizeof_vkn_subresource_layers,
		"ImageBlit":                     C.sizeof_vkn_image_blit,
		"BufferImageCopy":               C.sizeof_vkn_buffer_image_copy,
		"DescriptorBufferInfo":          C.sizeof_vkn_descriptor_buffer_info,
		"DescriptorImageInfo":           C.sizeof_vkn_descriptor_image_info,
		"WriteDescriptorSet":            C.sizeof_vkn_write_descriptor_set,
		"SpecializationMapEntry":        C.sizeof_vkn_specialization_map_entry,
		"SpecializationInfo":            C.sizeof_vkn_specialization_info,
		"PipelineShaderStageCreateInfo": C.sizeof_vkn_pipeline_shader_stage_create_info,
		"ComputePipelineCreateInfo":     C.sizeof_vkn_compute_pipeline_create_info,
		"ExtensionProperties":           C.sizeof_vkn_extension_properties,
		"LayerProperties":               C.sizeof_vkn_layer_properties,
		"QueueFamilyProperties":         C.sizeof_vkn_queue_family_properties,
		"SurfaceFormat":                 C.sizeof_vkn_surface_format,
	}
	consts = map[string]int64{
		"StructureTypeSubmitInfo":                    C.VKN_STYPE_SUBMIT_INFO,
		"StructureTypePipelineShaderStageCreateInfo": C.VKN_STYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
		"StructureTypeComputePipelineCreateInfo":     C.VKN_STYPE_COMPUTE_PIPELINE_CREATE_INFO,
		"StructureTypeWriteDescriptorSet":            C.VKN_STYPE_WRITE_DESCRIPTOR_SET,
		"StructureTypeImageMemoryBarrier":            C.VKN_STYPE_IMAGE_MEMORY_BARRIER,
		"StructureTypeMemoryBarrier":                 C.VKN_STYPE_MEMORY_BARRIER,
		"ImageAspectColorBit":                        C.VKN_ASPECT_COLOR,
		"ShaderStageComputeBit":                      C.VKN_STAGE_COMPUTE,
	}
	return sizes, consts
}

// The engine's public API passes non-dispatchable handles as the 64-bit
// values Vulkan defines them as; vulkan-go declares them as C pointers,
// which must then be 8 bytes (this fails to compile otherwise).
var _ = [1]struct{}{}[unsafe.Sizeof(vk.Image(nil))-8]

// Uint64 is the 64-bit value of a non-dispatchable handle.
func Uint64[T nonDispatchable](h T) uint64 { return uint64(handle(h)) }

// FromUint64 is the handle whose 64-bit value is v.
func FromUint64[T nonDispatchable](v uint64) T { return *(*T)(unsafe.Pointer(&v)) }
