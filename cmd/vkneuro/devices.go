package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
)

// devicesMain is the devices subcommand.
func devicesMain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("devices", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: vkneuro devices [-allow-cpu=false] [-peak]\n\nLists the Vulkan devices, their memory heaps and compute limits, and the one\nvkneuro would choose; exits with status 1 when Vulkan is not available.\n\nflags:\n")
		fs.PrintDefaults()
	}
	allowCPU := fs.Bool("allow-cpu", true, "let automatic selection choose a CPU driver (lavapipe)")
	peak := fs.Bool("peak", false, "also measure the chosen device's FP32 peak (the rate GEMM benchmarks are compared with)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "devices: unexpected arguments %q (flags only)\n", fs.Args())
		return exitUsage
	}
	if err := listDevices(stdout, *allowCPU, *peak); err != nil {
		fmt.Fprintln(stderr, "devices:", err)
		return exitError
	}
	return exitOK
}

func listDevices(w io.Writer, allowCPU, peak bool) error {
	devs, err := engine.Devices()
	if err != nil {
		if errors.Is(err, engine.ErrNoVulkan) {
			return fmt.Errorf("%w\n(the CPU backend still works without Vulkan)", err)
		}
		return err
	}
	for _, d := range devs {
		fmt.Fprintf(w, "device %d: %s\n", d.Index, d.Name)
		fmt.Fprintf(w, "  type %s, vendor %s, driver %s, Vulkan %s\n", d.Type, d.Vendor, d.Driver, d.APIVersion)
		for i, h := range d.Heaps {
			kind := "host"
			if h.DeviceLocal {
				kind = "device-local"
			}
			fmt.Fprintf(w, "  heap %d: %.1f MiB %s\n", i, float64(h.Size)/(1<<20), kind)
		}
		fmt.Fprintf(w, "  compute queue %v; work group ≤ %d invocations, size ≤ %v, count ≤ %v\n",
			d.Compute, d.MaxWorkGroupInvocations, d.MaxWorkGroupSize, d.MaxWorkGroupCount)
		fmt.Fprintf(w, "  shared memory %d B, push constants %d B, storage buffer range %d B, offset alignment %d B\n",
			d.MaxSharedMemory, d.MaxPushConstants, d.MaxStorageBufferRange, d.MinStorageBufferOffsetAlignment)
		fmt.Fprintf(w, "  subgroup size %d; timestamps %v (period %g ns)\n", d.SubgroupSize, d.Timestamps, d.TimestampPeriod)
	}
	opts := engine.Options{AllowCPU: allowCPU}
	chosen, err := engine.Choose(devs, opts)
	if err != nil {
		fmt.Fprintf(w, "chosen: none: %v\n", err)
		return nil
	}
	src := "best by type"
	if v := os.Getenv("VKNEURO_DEVICE"); v != "" {
		src = "VKNEURO_DEVICE=" + v
	}
	fmt.Fprintf(w, "chosen: device %d (%s), %s\n", chosen.Index, chosen.Name, src)
	if peak {
		return measurePeak(w, opts)
	}
	return nil
}

// measurePeak opens the chosen device and prints its FP32 peak.
func measurePeak(w io.Writer, opts engine.Options) error {
	m, err := openEngine(opts)
	if err != nil {
		return err
	}
	defer closeEngine(m)
	kb, err := vulkan.New(m)
	if err != nil {
		return err
	}
	be := kb
	defer be.Close()
	pk, err := be.MeasurePeak(5)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "FP32 peak: %.1f GFLOP/s (best of 5 runs of %.3g flops: %v by %s)\n", pk.GFLOPS, pk.Flops, pk.Time, pk.Timer)
	return nil
}
