// Package vkc is the engine's own thin cgo binding for the Vulkan calls
// that vulkan-go cannot make safely, and the loader both bindings use.
//
// vulkan-go converts a slice of structs passed to a call (submit infos,
// barriers, descriptor writes, copy regions, pipeline create-infos, the
// property arrays of enumerations) into C memory whose only owner is a
// finalizer on a heap cell that nothing references once the conversion
// returns: a garbage collection during the call frees memory the driver
// is still reading or writing. Turning the collector off around such calls
// (debug.SetGCPercent(-1)) leaves runtime.GC and debug.FreeOSMemory
// running, so it cannot be made complete. Here each such call is one small
// C function, as in gio's internal/vk: it takes handles and numbers by
// value, builds the Vulkan structs on the C stack and calls the entry point
// the loader returned. Arrays the caller passes hold no Go pointers, so cgo
// keeps them alive and unmoved for the call.
//
// Only packages under engine/ import it; it owns no Vulkan objects.
package vkc
