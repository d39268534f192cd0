package engine

// #include <stdlib.h>
import "C"

import (
	"fmt"
	"sync"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// The binding supports exactly one Go debug-report callback per process: the
// first function ever passed is used for every callback created later. So
// there is one callback, debugReport, and it routes each message through a
// process-global registry to the collector of the Manager whose callback
// fired, identified by the user-data token (a C allocation, so no Go pointer
// crosses into C).
var (
	registryMu sync.RWMutex
	registry   = map[unsafe.Pointer]*collector{}
)

// collector keeps copies of the validation messages of one Manager.
type collector struct {
	mu       sync.Mutex
	errors   []string
	warnings []string
}

func (c *collector) add(flags vk.DebugReportFlags, msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if flags&vk.DebugReportFlags(vk.DebugReportErrorBit) != 0 {
		c.errors = append(c.errors, msg)
	} else {
		c.warnings = append(c.warnings, msg)
	}
}

func (c *collector) snapshot() (errs, warns []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errors...), append([]string(nil), c.warnings...)
}

// debugReport is the one Go callback. Message strings are only valid during
// the call; the binding already copies them into Go strings.
func debugReport(flags vk.DebugReportFlags, _ vk.DebugReportObjectType, _ uint64, _ uint, code int32, prefix, msg string, user unsafe.Pointer) vk.Bool32 {
	registryMu.RLock()
	c := registry[user]
	registryMu.RUnlock()
	if c != nil {
		c.add(flags, fmt.Sprintf("[%s] %s (code %d)", prefix, msg, code))
	}
	return vk.False // never abort the call that triggered the message
}

// debugHook is a registered debug-report callback of one instance.
type debugHook struct {
	token    unsafe.Pointer
	callback vk.DebugReportCallback
}

// installDebugReport registers c and creates the callback on inst.
func installDebugReport(inst vk.Instance, c *collector) (*debugHook, error) {
	token := C.malloc(1)
	registryMu.Lock()
	registry[token] = c
	registryMu.Unlock()
	info := &vk.DebugReportCallbackCreateInfo{
		SType:       vk.StructureTypeDebugReportCallbackCreateInfo,
		Flags:       vk.DebugReportFlags(vk.DebugReportErrorBit | vk.DebugReportWarningBit),
		PfnCallback: debugReport,
		PUserData:   token,
	}
	var cb vk.DebugReportCallback
	r := vk.CreateDebugReportCallback(inst, info, nil, &cb)
	info.Free()
	if err := vkErr("vkCreateDebugReportCallbackEXT", r); err != nil {
		unregister(token)
		return nil, err
	}
	return &debugHook{token: token, callback: cb}, nil
}

// remove destroys the callback and forgets the collector.
func (h *debugHook) remove(inst vk.Instance) {
	vk.DestroyDebugReportCallback(inst, h.callback, nil)
	unregister(h.token)
}

func unregister(token unsafe.Pointer) {
	registryMu.Lock()
	delete(registry, token)
	registryMu.Unlock()
	C.free(token)
}
