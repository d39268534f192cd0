package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
)

func main() {
	allowCPU := flag.Bool("allow-cpu", true, "let automatic selection choose a CPU driver (lavapipe)")
	peak := flag.Bool("peak", false, "also measure the chosen device's FP32 peak (the rate GEMM benchmarks are compared with)")
	flag.Parse()
	if err := run(*allowCPU, *peak); err != nil {
		fmt.Fprintln(os.Stderr, "devices:", err)
		os.Exit(1)
	}
}

func run(allowCPU, peak bool) error {
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
	if peak {
		return measurePeak(opts)
	}
	return nil
}

// measurePeak opens the chosen device and prints its FP32 peak.
func measurePeak(opts engine.Options) error {
	kb, err := vulkan.Open(opts)
	if err != nil {
		return err
	}
	be := kb.(*vulkan.Backend)
	defer be.Close()
	pk, err := be.MeasurePeak(5)
	if err != nil {
		return err
	}
	fmt.Printf("FP32 peak: %.1f GFLOP/s (best of 5 runs of %.3g flops: %v by %s)\n", pk.GFLOPS, pk.Flops, pk.Time, pk.Timer)
	return nil
}
