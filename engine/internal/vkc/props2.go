package vkc

/*
#include <stdint.h>
#include <string.h>

// vkGetPhysicalDeviceProperties2 is not bound by vulkan-go, so it is
// called here through the loader. The structures are declared locally (as
// in vulkan_core.h) so that building needs no Vulkan headers.

typedef struct {
	int32_t sType;
	void* pNext;
	uint32_t subgroupSize;
	uint32_t supportedStages;
	uint32_t supportedOperations;
	uint32_t quadOperationsInAllStages;
} vkn_subgroup_props;

typedef struct {
	int32_t sType;
	void* pNext;
	int32_t driverID;
	char driverName[256];
	char driverInfo[256];
	uint8_t conformanceVersion[4];
} vkn_driver_props;

typedef struct {
	int32_t sType;
	void* pNext;
	// VkPhysicalDeviceProperties is 824 bytes on LP64; room to spare.
	uint64_t properties[128];
} vkn_props2;

typedef void (*vkn_gpdp2)(void*, vkn_props2*);
typedef void* (*vkn_gipa_fn)(void*, const char*);

// vkn_query fills sub (always) and drv (when want_driver) through the
// loader's vkGetInstanceProcAddr gipa_ptr (InstanceProcAddr); it returns 0 on success,
// -1 when the entry point is missing.
static int vkn_query(void* gipa_ptr, void* instance, void* physical, int want_driver, vkn_subgroup_props* sub, vkn_driver_props* drv) {
	vkn_gipa_fn gipa = (vkn_gipa_fn)gipa_ptr;
	vkn_gpdp2 f = gipa ? (vkn_gpdp2)gipa(instance, "vkGetPhysicalDeviceProperties2") : 0;
	if (!f) {
		return -1;
	}
	vkn_props2 p;
	memset(&p, 0, sizeof p);
	memset(sub, 0, sizeof *sub);
	memset(drv, 0, sizeof *drv);
	p.sType = 1000059001;   // VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2
	sub->sType = 1000094000; // VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES
	p.pNext = sub;
	if (want_driver) {
		drv->sType = 1000196000; // VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES
		sub->pNext = drv;
	}
	f(physical, &p);
	return 0;
}
*/
import "C"

import (
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// Properties2 is what the engine reads through
// vkGetPhysicalDeviceProperties2, which vulkan-go does not bind.
type Properties2 struct {
	SubgroupSize           uint32 // Vulkan 1.1
	DriverName, DriverInfo string // Vulkan 1.2, when driver is set
}

// PhysicalDeviceProperties2 queries pd of instance; driver asks for the
// driver properties too (the device must have Vulkan 1.2). It reports
// false when the loader lacks the entry point.
func PhysicalDeviceProperties2(instance vk.Instance, pd vk.PhysicalDevice, driver bool) (Properties2, bool) {
	var sub C.vkn_subgroup_props
	var drv C.vkn_driver_props
	w := C.int(0)
	if driver {
		w = 1
	}
	if C.vkn_query(InstanceProcAddr(), unsafe.Pointer(instance), unsafe.Pointer(pd), w, &sub, &drv) != 0 {
		return Properties2{}, false
	}
	p := Properties2{SubgroupSize: uint32(sub.subgroupSize)}
	if driver {
		p.DriverName = C.GoString(&drv.driverName[0])
		p.DriverInfo = C.GoString(&drv.driverInfo[0])
	}
	return p, true
}
