// Package swapchain shows engine images in a window: it makes the
// window's Vulkan surface on a Manager's instance, keeps a swapchain for
// it (recreating it when the framebuffer changes size or the surface says
// it is out of date), acquires its images and presents them.
//
// Drawing is not its job. Acquire returns a Frame: a swapchain image, the
// semaphore the acquisition signals and the one presentation waits for.
// The caller draws with an engine.Sequence that blits into Frame.Image
// and runs with engine.Wait(Frame.Acquired) and
// engine.Signal(Frame.Rendered), then calls Present. So the engine has
// one recording path, Sequence, and this package the few KHR calls the
// engine does not make, on engine.Manager.Handles and UseQueue.
//
// Windows come from the window system's binding, such as GLFW's
// (*glfw.Window satisfies Window); the Manager must have been opened
// with the instance extensions it requires and Extension.
package swapchain
