package engine

import (
	"errors"
	"fmt"

	vk "github.com/vulkan-go/vulkan"
)

// ErrNoVulkan means the Vulkan loader (libvulkan.so) or any Vulkan driver is
// missing.
var ErrNoVulkan = errors.New("engine: Vulkan is not available (on Debian install mesa-vulkan-drivers and libvulkan-dev, or use the CPU backend)")

// ErrNoDevice means no Vulkan device matches the request.
var ErrNoDevice = errors.New("engine: no matching Vulkan device")

// ErrOutOfMemory means a device memory allocation failed or would exceed its
// heap; the wrapping error names the bytes asked for and the heap.
var ErrOutOfMemory = errors.New("engine: out of device memory")

// ErrTooLarge means a buffer exceeds the device's maxStorageBufferRange.
var ErrTooLarge = errors.New("engine: buffer larger than the device's maxStorageBufferRange")

// ErrClosed means the Manager or Sequence was already closed.
var ErrClosed = errors.New("engine: closed")

// vkErr wraps a failing VkResult as "vk: <function>: <result>".
func vkErr(fn string, r vk.Result) error {
	if r == vk.Success {
		return nil
	}
	return fmt.Errorf("vk: %s: %w", fn, vk.Error(r))
}

// isOOM reports whether r is one of the out-of-memory results.
func isOOM(r vk.Result) bool {
	return r == vk.ErrorOutOfDeviceMemory || r == vk.ErrorOutOfHostMemory
}

func errorsIsOOM(err error) bool { return errors.Is(err, ErrOutOfMemory) }
