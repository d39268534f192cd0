package engine

import "unsafe"

// Handles are a Manager's Vulkan objects, for the packages under engine/
// that make Vulkan calls the engine does not (engine/swapchain: surfaces,
// swapchains, presenting). As in C, dispatchable handles are pointers.
// What is made from them must be destroyed before the Manager is closed.
type Handles struct {
	Instance, PhysicalDevice, Device unsafe.Pointer
	// QueueFamily is the family of the one queue the Manager uses (see
	// UseQueue).
	QueueFamily uint32
}

// Handles returns the Manager's Vulkan handles.
func (m *Manager) Handles() Handles {
	return Handles{
		Instance:       unsafe.Pointer(m.inst),
		PhysicalDevice: unsafe.Pointer(m.info.handle),
		Device:         unsafe.Pointer(m.dev),
		QueueFamily:    m.info.queueFamily,
	}
}

// UseQueue calls f with the Manager's queue (a VkQueue) while holding the
// lock that serialises every use of it, which Vulkan requires of queue
// calls (vkQueuePresentKHR, vkQueueWaitIdle). It returns ErrClosed, not
// calling f, after Close.
func (m *Manager) UseQueue(f func(queue unsafe.Pointer)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	f(unsafe.Pointer(m.queue))
	return nil
}
