package vkc

/*
#include <stdint.h>
#include <stdlib.h>

// VkValidationFeaturesEXT (VK_EXT_validation_features), which vulkan-go's
// headers predate; values from vulkan_core.h.
enum {
	VKN_STYPE_VALIDATION_FEATURES = 1000247000,
	VKN_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION = 4,
};

typedef struct {
	int32_t sType;
	const void* pNext;
	uint32_t enabledValidationFeatureCount;
	const int32_t* pEnabledValidationFeatures;
	uint32_t disabledValidationFeatureCount;
	const int32_t* pDisabledValidationFeatures;
} vkn_validation_features;

// vkn_sync_validation allocates the structure and its one enable in one
// block, for free.
static vkn_validation_features* vkn_sync_validation(void) {
	vkn_validation_features* f = calloc(1, sizeof *f + sizeof(int32_t));
	if (!f) {
		return NULL;
	}
	int32_t* enables = (int32_t*)(f + 1);
	enables[0] = VKN_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION;
	f->sType = VKN_STYPE_VALIDATION_FEATURES;
	f->enabledValidationFeatureCount = 1;
	f->pEnabledValidationFeatures = enables;
	return f;
}
*/
import "C"

import "unsafe"

// SyncValidation returns, in C memory, a VkValidationFeaturesEXT that
// turns on the validation layer's synchronization validation, to chain
// to VkInstanceCreateInfo.pNext (which vulkan-go copies as it is). The
// caller frees it with FreeC after vkCreateInstance. It is nil when C
// memory is exhausted. A wrong layout here would show as the engine's
// test of a removed barrier finding no hazard reported.
func SyncValidation() unsafe.Pointer { return unsafe.Pointer(C.vkn_sync_validation()) }

// FreeC frees C memory this package allocated.
func FreeC(p unsafe.Pointer) { C.free(p) }
