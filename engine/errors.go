package engine

import (
	"errors"
	"fmt"

	vk "github.com/vulkan-go/vulkan"
)

// ErrNoVulkan means the Vulkan loader (libvulkan.so.1) or any Vulkan driver is
// missing.
var ErrNoVulkan = errors.New("engine: Vulkan is not available (on Debian install libvulkan1 and a driver: mesa-vulkan-drivers, or your GPU vendor's; or use the CPU backend)")

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

// vkList runs a Vulkan enumeration the two-call way: call with a nil
// slice for the count n, then with a slice of n elements, which it returns
// (cut to the count the second call reports). fn names the Vulkan
// function in errors.
func vkList[T any](fn string, call func(n *uint32, out []T) vk.Result) ([]T, error) {
	var n uint32
	if err := vkErr(fn, call(&n, nil)); err != nil {
		return nil, err
	}
	out := make([]T, n)
	if n > 0 {
		if err := vkErr(fn, call(&n, out)); err != nil {
			return nil, err
		}
	}
	return out[:n], nil
}

// isOOM reports whether r is one of the out-of-memory results.
func isOOM(r vk.Result) bool {
	return r == vk.ErrorOutOfDeviceMemory || r == vk.ErrorOutOfHostMemory
}

func errorsIsOOM(err error) bool { return errors.Is(err, ErrOutOfMemory) }
