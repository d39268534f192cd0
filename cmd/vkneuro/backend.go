package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/cpu"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
)

// The hooks let tests run on the Vulkan manager shared by the process
// (enginetest.Open) instead of opening a device per run.
var (
	// openEngine opens a Vulkan device.
	openEngine = engine.Open
	// closeEngine releases what openEngine opened.
	closeEngine = func(m *engine.Manager) error { return m.Close() }
)

// backendNames are what --backend takes.
const backendNames = "auto, vulkan or cpu"

func validBackend(name string) bool { return name == "auto" || name == "vulkan" || name == "cpu" }

// openBackend opens the backend --backend names, on the Vulkan device
// --device names. auto uses Vulkan only on a device that is not a CPU
// driver (a CPU driver such as lavapipe is slower than the CPU backend)
// and otherwise says on stderr, prefixed with cmd, why it uses the CPU;
// vulkan takes any device, CPU drivers included. release closes the
// backend and then its device.
func openBackend(cmd, name, device string, stderr io.Writer) (be kernels.Backend, release func() error, err error) {
	if name == "cpu" {
		be := cpu.New()
		return be, be.Close, nil
	}
	m, err := openEngine(engine.Options{Device: device, AllowCPU: name == "vulkan"})
	if err != nil {
		if name == "vulkan" {
			return nil, nil, fmt.Errorf("--backend vulkan: %w", err)
		}
		fmt.Fprintf(stderr, "%s: using the CPU backend (no Vulkan GPU: %s)\n", cmd, strings.SplitN(err.Error(), "\n", 2)[0])
		be := cpu.New()
		return be, be.Close, nil
	}
	be, err = vulkan.New(m)
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("--backend %s: %w", name, err), closeEngine(m))
	}
	return be, func() error { return errors.Join(be.Close(), closeEngine(m)) }, nil
}
