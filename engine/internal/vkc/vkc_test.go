package vkc

import (
	"os"
	"testing"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// refSize is the size of the C structure vulkan-go's PassRef converted a
// value to, compiled from the Khronos headers it bundles (the C copy is
// left to leak: a few bytes per test run).
func refSize[R any](ref *R, _ any) uintptr { return unsafe.Sizeof(*ref) }

// TestLayouts checks the sizes of the structures declared in calls.go
// against those vulkan-go compiled from the Khronos headers, and the
// constants against vulkan-go's. A mistyped or missing field changes most
// sizes, though padding can hide one; what it cannot see, the engine's
// tests with the validation layer do, as every call here runs in them.
func TestLayouts(t *testing.T) {
	ours, consts := cLayout()
	theirs := map[string]uintptr{
		"SubmitInfo":                    refSize((&vk.SubmitInfo{}).PassRef()),
		"MemoryBarrier":                 refSize((&vk.MemoryBarrier{}).PassRef()),
		"ImageMemoryBarrier":            refSize((&vk.ImageMemoryBarrier{}).PassRef()),
		"ImageSubresourceRange":         refSize((&vk.ImageSubresourceRange{}).PassRef()),
		"BufferCopy":                    refSize((&vk.BufferCopy{}).PassRef()),
		"ImageSubresourceLayers":        refSize((&vk.ImageSubresourceLayers{}).PassRef()),
		"ImageBlit":                     refSize((&vk.ImageBlit{}).PassRef()),
		"BufferImageCopy":               refSize((&vk.BufferImageCopy{}).PassRef()),
		"DescriptorBufferInfo":          refSize((&vk.DescriptorBufferInfo{}).PassRef()),
		"DescriptorImageInfo":           refSize((&vk.DescriptorImageInfo{}).PassRef()),
		"WriteDescriptorSet":            refSize((&vk.WriteDescriptorSet{}).PassRef()),
		"SpecializationMapEntry":        refSize((&vk.SpecializationMapEntry{}).PassRef()),
		"SpecializationInfo":            refSize((&vk.SpecializationInfo{}).PassRef()),
		"PipelineShaderStageCreateInfo": refSize((&vk.PipelineShaderStageCreateInfo{}).PassRef()),
		"ComputePipelineCreateInfo":     refSize((&vk.ComputePipelineCreateInfo{}).PassRef()),
		"ExtensionProperties":           refSize((&vk.ExtensionProperties{}).PassRef()),
		"LayerProperties":               refSize((&vk.LayerProperties{}).PassRef()),
		"QueueFamilyProperties":         refSize((&vk.QueueFamilyProperties{}).PassRef()),
		"SurfaceFormat":                 refSize((&vk.SurfaceFormat{}).PassRef()),
	}
	if len(theirs) != len(ours) {
		t.Fatalf("calls.go declares %d structures, the test knows %d", len(ours), len(theirs))
	}
	for name, want := range theirs {
		if got, ok := ours[name]; !ok || got != want {
			t.Errorf("Vk%s: %d bytes here, %d in the Khronos headers", name, got, want)
		}
	}
	want := map[string]int64{
		"StructureTypeSubmitInfo":                    int64(vk.StructureTypeSubmitInfo),
		"StructureTypePipelineShaderStageCreateInfo": int64(vk.StructureTypePipelineShaderStageCreateInfo),
		"StructureTypeComputePipelineCreateInfo":     int64(vk.StructureTypeComputePipelineCreateInfo),
		"StructureTypeWriteDescriptorSet":            int64(vk.StructureTypeWriteDescriptorSet),
		"StructureTypeImageMemoryBarrier":            int64(vk.StructureTypeImageMemoryBarrier),
		"StructureTypeMemoryBarrier":                 int64(vk.StructureTypeMemoryBarrier),
		"ImageAspectColorBit":                        int64(vk.ImageAspectColorBit),
		"ShaderStageComputeBit":                      int64(vk.ShaderStageComputeBit),
	}
	for name, w := range want {
		if got, ok := consts[name]; !ok || got != w {
			t.Errorf("%s = %d here, %d in vulkan-go", name, got, w)
		}
	}
}

// TestOpenLoader checks the loader search: a missing name is skipped for
// the next, and the runtime package's versioned name (what a machine
// without libvulkan-dev has) opens too.
func TestOpenLoader(t *testing.T) {
	if p, _ := OpenLoader(LoaderNames); p == nil {
		if os.Getenv("VKNEURO_REQUIRE_VULKAN") == "1" {
			t.Fatalf("no Vulkan loader among %s", LoaderList())
		}
		t.Skip("no Vulkan loader installed")
	}
	p, name := OpenLoader([]string{"libvkneuro-no-such-loader.so", "libvulkan.so.1"})
	if p == nil || name != "libvulkan.so.1" {
		t.Errorf("OpenLoader(missing, libvulkan.so.1) = %v, %q; want the second", p, name)
	}
	if p, name := OpenLoader([]string{"libvkneuro-no-such-loader.so"}); p != nil {
		t.Errorf("OpenLoader(missing) = %v, %q; want nil", p, name)
	}
}
