package vkc

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

typedef void* (*vkn_gipa_fn)(void*, const char*);

static void* vkn_proc(void* gipa, void* instance, const char* name) {
	return ((vkn_gipa_fn)gipa)(instance, name);
}
*/
import "C"

import (
	"strings"
	"sync"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// LoaderNames are the Vulkan loaders tried, in order. vulkan-go's own
// loader tries only the unversioned libvulkan.so, which Debian ships in
// libvulkan-dev; a machine with just the runtime package (libvulkan1)
// has libvulkan.so.1, and macOS (MoltenVK, the Vulkan SDK) has dylibs.
var LoaderNames = []string{"libvulkan.so", "libvulkan.so.1", "libvulkan.1.dylib", "libvulkan.dylib", "libMoltenVK.dylib"}

var gipa struct {
	once sync.Once
	ptr  unsafe.Pointer
}

// InstanceProcAddr is the loader's vkGetInstanceProcAddr, or nil when no
// loader could be opened. The loader is opened once per process.
func InstanceProcAddr() unsafe.Pointer {
	gipa.once.Do(func() { gipa.ptr, _ = OpenLoader(LoaderNames) })
	return gipa.ptr
}

// OpenLoader returns vkGetInstanceProcAddr from the first of names that
// opens and has it, and that name.
func OpenLoader(names []string) (unsafe.Pointer, string) {
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

// LoaderList names LoaderNames for error messages.
func LoaderList() string { return strings.Join(LoaderNames, ", ") }

// ProcAddr returns the entry point name of instance (nil for the global
// functions), or nil when the loader or the function is missing.
func ProcAddr(instance vk.Instance, name string) unsafe.Pointer {
	g := InstanceProcAddr()
	if g == nil {
		return nil
	}
	cs := C.CString(name)
	defer C.free(unsafe.Pointer(cs))
	return C.vkn_proc(g, unsafe.Pointer(instance), cs)
}
