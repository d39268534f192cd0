package engine

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	vk "github.com/vulkan-go/vulkan"

	"github.com/vkneuro/vkneuro/engine/internal/vkc"
)

// Heap is one device memory heap.
type Heap struct {
	Size        uint64
	DeviceLocal bool
}

// DeviceInfo describes one physical device and the limits that matter for
// compute.
type DeviceInfo struct {
	Index                                  int
	Name, Type, Vendor, Driver, APIVersion string
	CPU                                    bool // a CPU driver such as lavapipe or SwiftShader
	Heaps                                  []Heap
	MaxWorkGroupInvocations                uint32
	MaxWorkGroupSize                       [3]uint32
	MaxWorkGroupCount                      [3]uint32
	MaxSharedMemory                        uint32
	MaxPushConstants                       uint32
	MaxStorageBufferRange                  uint32
	MaxImageDimension2D                    uint32  // the width and height limit of NewImage
	TimestampPeriod                        float32 // nanoseconds per timestamp tick
	Timestamps                             bool    // the compute queue supports timestamps

	// Compute is false when the device has no queue family with compute;
	// such a device is listed but never chosen.
	Compute bool
	// SubgroupSize is the default subgroup size (0 if unknown).
	SubgroupSize uint32
	// DriverName and DriverInfo come from VkPhysicalDeviceDriverProperties
	// (Vulkan 1.2), e.g. "llvmpipe" and "Mesa 22.3.6 (LLVM 15.0.6)"; empty
	// on older devices.
	DriverName, DriverInfo string
	// MinStorageBufferOffsetAlignment is the alignment of storage-buffer
	// binding offsets.
	MinStorageBufferOffsetAlignment uint64

	queueFamily   uint32
	timestampBits uint32
	typeRank      int
	handle        vk.PhysicalDevice
}

// String is a one-line summary.
func (d DeviceInfo) String() string {
	var heaps []string
	for i, h := range d.Heaps {
		kind := "host"
		if h.DeviceLocal {
			kind = "device-local"
		}
		heaps = append(heaps, fmt.Sprintf("heap%d %s %s", i, mib(h.Size), kind))
	}
	return fmt.Sprintf("%d: %s (%s, %s, driver %s, Vulkan %s; %s; workgroup ≤%d invocations, size ≤%v, count ≤%v; shared %d B; push %d B; storage range %s; timestamps %v)",
		d.Index, d.Name, d.Type, d.Vendor, d.Driver, d.APIVersion, strings.Join(heaps, ", "),
		d.MaxWorkGroupInvocations, d.MaxWorkGroupSize, d.MaxWorkGroupCount, d.MaxSharedMemory,
		d.MaxPushConstants, mib(uint64(d.MaxStorageBufferRange)), d.Timestamps)
}

func mib(n uint64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func versionString(v uint32) string {
	return fmt.Sprintf("%d.%d.%d", v>>22, (v>>12)&0x3ff, v&0xfff)
}

var vendors = map[uint32]string{
	0x1002: "AMD", 0x1010: "ImgTec", 0x10de: "NVIDIA", 0x13b5: "ARM",
	0x5143: "Qualcomm", 0x8086: "Intel", 0x106b: "Apple", 0x10005: "Mesa",
	0x1ae0: "Google",
}

func driverString(vendor, v uint32) string {
	switch vendor {
	case 0x10de: // NVIDIA packs 10.8.8.6 bits
		return fmt.Sprintf("%d.%d.%d.%d", v>>22, (v>>14)&0xff, (v>>6)&0xff, v&0x3f)
	case 0x8086: // Intel on Windows uses 18.14; Mesa's anv uses the standard packing
		return versionString(v)
	}
	return versionString(v)
}

// describe reads the properties of one physical device.
func describe(inst vk.Instance, fns *vkc.Funcs, i int, pd vk.PhysicalDevice) DeviceInfo {
	var props vk.PhysicalDeviceProperties
	vk.GetPhysicalDeviceProperties(pd, &props)
	props.Deref()
	props.Limits.Deref()
	lim := props.Limits

	var mem vk.PhysicalDeviceMemoryProperties
	vk.GetPhysicalDeviceMemoryProperties(pd, &mem)
	mem.Deref()

	d := DeviceInfo{
		Index:                           i,
		Name:                            vk.ToString(props.DeviceName[:]),
		Vendor:                          vendors[props.VendorID],
		Driver:                          driverString(props.VendorID, props.DriverVersion),
		APIVersion:                      versionString(props.ApiVersion),
		MaxWorkGroupInvocations:         lim.MaxComputeWorkGroupInvocations,
		MaxWorkGroupSize:                lim.MaxComputeWorkGroupSize,
		MaxWorkGroupCount:               lim.MaxComputeWorkGroupCount,
		MaxSharedMemory:                 lim.MaxComputeSharedMemorySize,
		MaxPushConstants:                lim.MaxPushConstantsSize,
		MaxStorageBufferRange:           lim.MaxStorageBufferRange,
		MaxImageDimension2D:             lim.MaxImageDimension2D,
		TimestampPeriod:                 lim.TimestampPeriod,
		MinStorageBufferOffsetAlignment: uint64(lim.MinStorageBufferOffsetAlignment),
		handle:                          pd,
	}
	if d.Vendor == "" {
		d.Vendor = fmt.Sprintf("0x%04x", props.VendorID)
	}
	switch props.DeviceType {
	case vk.PhysicalDeviceTypeDiscreteGpu:
		d.Type, d.typeRank = "discrete GPU", 4
	case vk.PhysicalDeviceTypeIntegratedGpu:
		d.Type, d.typeRank = "integrated GPU", 3
	case vk.PhysicalDeviceTypeVirtualGpu:
		d.Type, d.typeRank = "virtual GPU", 2
	case vk.PhysicalDeviceTypeCpu:
		d.Type, d.typeRank, d.CPU = "CPU", 0, true
	default:
		d.Type, d.typeRank = "other", 1
	}
	for h := uint32(0); h < mem.MemoryHeapCount; h++ {
		mem.MemoryHeaps[h].Deref()
		d.Heaps = append(d.Heaps, Heap{
			Size:        uint64(mem.MemoryHeaps[h].Size),
			DeviceLocal: mem.MemoryHeaps[h].Flags&vk.MemoryHeapFlags(vk.MemoryHeapDeviceLocalBit) != 0,
		})
	}

	qs := fns.QueueFamilies(pd)
	// Prefer a compute queue family without graphics (an async compute
	// queue) when there is one; otherwise any compute family.
	best := -1
	for q := range qs {
		f := qs[q].Flags
		if f&vk.QueueFlags(vk.QueueComputeBit) == 0 || qs[q].Count == 0 {
			continue
		}
		if best < 0 || (f&vk.QueueFlags(vk.QueueGraphicsBit) == 0 && qs[best].Flags&vk.QueueFlags(vk.QueueGraphicsBit) != 0) {
			best = q
		}
	}
	if best >= 0 {
		d.Compute = true
		d.queueFamily = uint32(best)
		d.timestampBits = qs[best].TimestampBits
		d.Timestamps = d.timestampBits > 0 && d.TimestampPeriod > 0
	}
	describe2(inst, &d, props.ApiVersion)
	if d.DriverInfo != "" {
		d.Driver = d.DriverName + " " + d.DriverInfo
	}
	return d
}

// enumerate lists the physical devices of inst.
func enumerate(inst vk.Instance, fns *vkc.Funcs) ([]DeviceInfo, error) {
	pds, err := vkList("vkEnumeratePhysicalDevices", func(n *uint32, out []vk.PhysicalDevice) vk.Result {
		return vk.EnumeratePhysicalDevices(inst, n, out)
	})
	if err != nil {
		return nil, err
	}
	if len(pds) == 0 {
		return nil, fmt.Errorf("%w: the loader found no Vulkan driver (no physical devices)", ErrNoVulkan)
	}
	infos := make([]DeviceInfo, 0, len(pds))
	for i, pd := range pds {
		infos = append(infos, describe(inst, fns, i, pd))
	}
	return infos, nil
}

// Devices lists the Vulkan devices without opening any.
func Devices() ([]DeviceInfo, error) {
	inst, err := newInstance(false, nil)
	if err != nil {
		return nil, err
	}
	defer vk.DestroyInstance(inst, nil)
	fns, err := vkc.Load(inst)
	if err != nil {
		return nil, err
	}
	infos, err := enumerate(inst, fns)
	for i := range infos {
		infos[i].handle = nil // belongs to the destroyed instance
	}
	return infos, err
}

// Choose returns the device Open would pick among devs for opts (Device,
// then VKNEURO_DEVICE, then the best type), without opening it.
func Choose(devs []DeviceInfo, opts Options) (DeviceInfo, error) {
	i, err := choose(devs, opts)
	if err != nil {
		return DeviceInfo{}, err
	}
	return devs[i], nil
}

func listDevices(devs []DeviceInfo) string {
	var b strings.Builder
	for _, d := range devs {
		fmt.Fprintf(&b, "\n  %d: %s (%s)", d.Index, d.Name, d.Type)
		if !d.Compute {
			b.WriteString(" [no compute queue]")
		}
	}
	return b.String()
}

func choose(devs []DeviceInfo, opts Options) (int, error) {
	want, source := opts.Device, "Options.Device"
	if want == "" {
		want, source = os.Getenv("VKNEURO_DEVICE"), "VKNEURO_DEVICE"
	}
	if want != "" {
		if idx, err := strconv.Atoi(want); err == nil {
			if idx < 0 || idx >= len(devs) {
				return 0, fmt.Errorf("%w: %s=%q: no device with index %d; available:%s", ErrNoDevice, source, want, idx, listDevices(devs))
			}
			if !devs[idx].Compute {
				return 0, fmt.Errorf("%w: %s=%q: device %q has no compute queue; available:%s", ErrNoDevice, source, want, devs[idx].Name, listDevices(devs))
			}
			return idx, nil
		}
		for i, d := range devs {
			if d.Compute && strings.Contains(strings.ToLower(d.Name), strings.ToLower(want)) {
				return i, nil
			}
		}
		return 0, fmt.Errorf("%w: %s=%q matches no device name; available:%s", ErrNoDevice, source, want, listDevices(devs))
	}
	best := -1
	for i, d := range devs {
		if d.Compute && (best < 0 || d.typeRank > devs[best].typeRank) {
			best = i
		}
	}
	if best < 0 {
		return 0, fmt.Errorf("%w: no device has a compute queue; available:%s", ErrNoDevice, listDevices(devs))
	}
	if devs[best].CPU && !opts.AllowCPU {
		return 0, fmt.Errorf("%w: only a CPU Vulkan driver (%s) found; set VKNEURO_DEVICE or use the CPU backend", ErrNoDevice, devs[best].Name)
	}
	return best, nil
}
