package engine

import (
	vk "github.com/vulkan-go/vulkan"

	"github.com/vkneuro/vkneuro/engine/internal/vkc"
)

// describe2 adds what only vkGetPhysicalDeviceProperties2 tells: subgroup
// size (Vulkan 1.1) and driver name and info (Vulkan 1.2), e.g. "llvmpipe"
// and "Mesa 22.3.6 (LLVM 15.0.6)".
func describe2(inst vk.Instance, d *DeviceInfo, apiVersion uint32) {
	if apiVersion < vk.MakeVersion(1, 1, 0) {
		return
	}
	p, ok := vkc.PhysicalDeviceProperties2(inst, d.handle, apiVersion >= vk.MakeVersion(1, 2, 0))
	if !ok {
		return
	}
	d.SubgroupSize = p.SubgroupSize
	d.DriverName, d.DriverInfo = p.DriverName, p.DriverInfo
}
