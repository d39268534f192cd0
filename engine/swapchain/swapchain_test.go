package swapchain_test

import (
	"errors"
	"strings"
	"testing"
	"unsafe"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/engine/enginetest"
	"github.com/vkneuro/vkneuro/engine/swapchain"
)

// noSurface is a window whose surface cannot be made, as when the Manager
// lacks the window system's instance extensions.
type noSurface struct{ called bool }

func (w *noSurface) CreateWindowSurface(instance interface{}, _ unsafe.Pointer) (uintptr, error) {
	w.called = instance != nil
	return 0, errors.New("VK_KHR_surface not enabled")
}

// TestNewErrors checks what needs no window system: a surface that cannot
// be made is reported with a hint, and a closed Manager is refused. The
// swapchain itself is tested through the viewer (viewer_test.go), which
// needs GLFW and the build tag viewer.
func TestNewErrors(t *testing.T) {
	m := enginetest.Open(t)
	win := &noSurface{}
	if s, err := swapchain.New(m, win); err == nil || !strings.Contains(err.Error(), "instance extensions") {
		t.Errorf("New with a failing surface: %v, %v; want an error naming the instance extensions", s, err)
	}
	if !win.called {
		t.Error("New did not pass the Manager's instance to CreateWindowSurface")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := swapchain.New(m, win); !errors.Is(err, engine.ErrClosed) {
		t.Errorf("New on a closed Manager: %v, want ErrClosed", err)
	}
}
