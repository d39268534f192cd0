// Package viewer is the live training viewer of `train --live`: a GLFW
// window showing the conv filters, the current batch's feature maps, the
// loss curve and the step rate while training runs, drawn by compute
// shaders on the training device into an engine.Image and blitted into
// the window's Vulkan swapchain (engine/swapchain) by one engine.Sequence,
// so frames never travel through the host.
//
// The window code needs GLFW's C build (X11 headers) and is behind the
// build tag "viewer"; without the tag, Available is false and Prepare and
// Open return ErrNotBuilt, so callers need no build tags of their own.
// Build and test with
//
//	go test -tags viewer ./viewer/ ./cmd/train/
//	go build -tags viewer ./cmd/train    # train --live
//
// Debian packages for the build (GLFW links -lX11 -lXrandr -lXxf86vm -lXi
// -lXcursor -lXinerama -lGL): libx11-dev libxcursor-dev libxrandr-dev
// libxinerama-dev libxi-dev libxxf86vm-dev libgl-dev; for headless tests:
// xvfb xauth (the tests re-run themselves under xvfb-run when DISPLAY is
// unset; a headless train runs as xvfb-run -a train normative --live
// --screenshot live.png), python3 with libx11-6 libxtst6 for the tests
// that type Escape (testdata/x11probe.py), and a Vulkan driver such as
// lavapipe (mesa-vulkan-drivers).
package viewer
