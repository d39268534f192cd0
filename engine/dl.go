package engine

/*
#cgo linux LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

// vkn_open returns vkGetInstanceProcAddr from the library name, which
// stays open for the life of the process, or NULL.
static void* vkn_open(const char* name) {
	void* lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		return NULL;
	}
	void* gipa = dlsym(lib, "vkGetInstanceProcAddr");
	if (!gipa) {
		dlclose(lib);
	}
	return gipa;
}
*/
import "C"

import (
	"strings"
	"sync"
	"unsafe"
)

// loaderNames are the Vulkan loaders tried, in order. vulkan-go's own
// loader tries only the unversioned libvulkan.so, which Debian ships in
// libvulkan-dev; a machine with just the runtime package (libvulkan1)
// has libvulkan.so.1, and macOS (MoltenVK, the Vulkan SDK) has dylibs.
var loaderNames = []string{"libvulkan.so", "libvulkan.so.1", "libvulkan.1.dylib", "libvulkan.dylib", "libMoltenVK.dylib"}

var gipa struct {
	once sync.Once
	ptr  unsafe.Pointer
}

// instanceProcAddr is the loader's vkGetInstanceProcAddr, or nil when no
// loader could be opened.
func instanceProcAddr() unsafe.Pointer {
	gipa.once.Do(func() { gipa.ptr, _ = openLoader(loaderNames) })
	return gipa.ptr
}

// openLoader returns vkGetInstanceProcAddr from the first of names that
// opens and has it, and that name.
func openLoader(names []string) (unsafe.Pointer, string) {
	for _, n := range names {
		cs := C.CString(n)
		p := C.vkn_open(cs)
		C.free(unsafe.Pointer(cs))
		if p != nil {
			return p, n
		}
	}
	return nil, ""
}

// loaderList names loaderNames for error messages.
func loaderList() string { return strings.Join(loaderNames, ", ") }
