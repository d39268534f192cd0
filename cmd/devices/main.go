package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/vkneuro/vkneuro/engine"
)

func main() {
	allowCPU := flag.Bool("allow-cpu", true, "let automatic selection choose a CPU driver (lavapipe)")
	flag.Parse()
	if err := run(*allowCPU); err != nil {
		fmt.Fprintln(os.Stderr, "devices:", err)
		os.Exit(1)
	}
}

func run(allowCPU bool) error {
	devs, err := engine.Devices()
	if err != nil {
		if errors.Is(err, engine.ErrNoVulkan) {
			return fmt.Errorf("%w\n(the CPU backend still works without Vulkan)", err)
		}
		return err
	}
	for _, d := range devs {
		fmt.Printf("device %d: %s\n", d.Index, d.Name)
		fmt.Printf("  type %s, vendor %s, driver %s, Vulkan %s\n", d.Type, d.Vendor, d.Driver, d.APIVersion)
		for i, h := range d.Heaps {
			kind := "host"
			if h.DeviceLocal {
				kind = "device-local"
			}
			fmt.Printf("  heap %d: %.1f MiB %s\n", i, float64(h.Size)/(1<<20), kind)
		}
		fmt.Printf("  compute queue %v; work group ≤ %d invocations, size ≤ %v, count ≤ %v\n",
			d.Compute, d.MaxWorkGroupInvocations, d.MaxWorkGroupSize, d.MaxWorkGroupCount)
		fmt.Printf("  shared memory %d B, push constants %d B, storage buffer range %d B, offset alignment %d B\n",
			d.MaxSharedMemory, d.MaxPushConstants, d.MaxStorageBufferRange, d.MinStorageBufferOffsetAlignment)
		fmt.Printf("  subgroup size %d; timestamps %v (period %g ns)\n", d.SubgroupSize, d.Timestamps, d.TimestampPeriod)
	}
	opts := engine.Options{AllowCPU: allowCPU}
	chosen, err := engine.Choose(devs, opts)
	if err != nil {
		fmt.Printf("chosen: none: %v\n", err)
		return nil
	}
	src := "best by type"
	if v := os.Getenv("VKNEURO_DEVICE"); v != "" {
		src = "VKNEURO_DEVICE=" + v
	}
	fmt.Printf("chosen: device %d (%s), %s\n", chosen.Index, chosen.Name, src)
	return nil
}
