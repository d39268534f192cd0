package engine

import (
	"fmt"
	"sync"

	vk "github.com/vulkan-go/vulkan"

	"github.com/vkneuro/vkneuro/engine/internal/vkc"
)

// The loader is process-global in the binding: open it once.
var (
	loaderOnce sync.Once
	loaderErr  error
)

// loadVulkan opens the Vulkan loader and resolves the global entry
// points.
func loadVulkan() error {
	loaderOnce.Do(func() {
		gipa := vkc.InstanceProcAddr()
		if gipa == nil {
			loaderErr = fmt.Errorf("%w: no Vulkan loader found (tried %s)", ErrNoVulkan, vkc.LoaderList())
			return
		}
		vk.SetGetInstanceProcAddr(gipa)
		if err := vk.Init(); err != nil {
			loaderErr = fmt.Errorf("%w: vk.Init: %v", ErrNoVulkan, err)
		}
	})
	return loaderErr
}

// cstr appends the NUL terminator the binding does not add.
func cstr(s string) string { return s + "\x00" }

const (
	validationLayer        = "VK_LAYER_KHRONOS_validation"
	debugReportExtName     = "VK_EXT_debug_report"
	validationFeaturesName = "VK_EXT_validation_features"
)

// instanceLayers lists the instance layers the loader knows.
func instanceLayers() (map[string]bool, error) {
	names, r := vkc.InstanceLayers()
	if err := vkErr("vkEnumerateInstanceLayerProperties", r); err != nil {
		return nil, err
	}
	return set(names), nil
}

// instanceExtensions lists the instance extensions available (also those
// provided by layer, if layer is not "").
func instanceExtensions(layer string) (map[string]bool, error) {
	names, r := vkc.InstanceExtensions(layer)
	if err := vkErr("vkEnumerateInstanceExtensionProperties", r); err != nil {
		return nil, err
	}
	return set(names), nil
}

// set makes a set of names.
func set(names []string) map[string]bool {
	have := make(map[string]bool, len(names))
	for _, n := range names {
		have[n] = true
	}
	return have
}

// newInstance creates a Vulkan 1.1 instance with the instance extensions
// extra (window-system extensions for presenting; none for compute), and
// the validation layer and debug_report when validation is set, with the
// layer's synchronization validation on: the sequences place barriers
// only where they find a hazard (see hazards), and it is the check that
// they find them all.
func newInstance(validation bool, extra []string) (vk.Instance, error) {
	if err := loadVulkan(); err != nil {
		return nil, err
	}
	var layers, exts []string
	if len(extra) > 0 {
		have, err := instanceExtensions("")
		if err != nil {
			return nil, err
		}
		for _, e := range extra {
			if !have[e] {
				return nil, fmt.Errorf("engine: Options.InstanceExtensions: instance extension %s is not available", e)
			}
			exts = append(exts, cstr(e))
		}
	}
	if validation {
		have, err := instanceLayers()
		if err != nil {
			return nil, err
		}
		if !have[validationLayer] {
			return nil, fmt.Errorf("engine: validation requested (VKNEURO_VALIDATION=1 or Options.Validation) but layer %s is not installed (Debian: vulkan-validationlayers)", validationLayer)
		}
		haveExt, err := instanceExtensions("")
		if err != nil {
			return nil, err
		}
		layerExt, err := instanceExtensions(validationLayer)
		if err != nil {
			return nil, err
		}
		if !haveExt[debugReportExtName] && !layerExt[debugReportExtName] {
			return nil, fmt.Errorf("engine: validation requested but instance extension %s is missing", debugReportExtName)
		}
		if !layerExt[validationFeaturesName] {
			return nil, fmt.Errorf("engine: validation requested but layer %s lacks instance extension %s, which turns on its synchronization validation", validationLayer, validationFeaturesName)
		}
		layers = []string{cstr(validationLayer)}
		exts = append(exts, cstr(debugReportExtName), cstr(validationFeaturesName))
	}
	app := &vk.ApplicationInfo{
		SType:            vk.StructureTypeApplicationInfo,
		PApplicationName: cstr("vkneuro"),
		PEngineName:      cstr("vkneuro"),
		// 1.2 lets vkGetPhysicalDeviceProperties2 report driver properties
		// on 1.2 devices; any 1.1+ loader accepts it, and 1.1 devices
		// still work (the shaders need only 1.1).
		ApiVersion: vk.MakeVersion(1, 2, 0),
	}
	info := &vk.InstanceCreateInfo{
		SType:                   vk.StructureTypeInstanceCreateInfo,
		PApplicationInfo:        app,
		EnabledLayerCount:       uint32(len(layers)),
		PpEnabledLayerNames:     layers,
		EnabledExtensionCount:   uint32(len(exts)),
		PpEnabledExtensionNames: exts,
	}
	if validation {
		features := vkc.SyncValidation()
		if features == nil {
			return nil, fmt.Errorf("engine: out of C memory for VkValidationFeaturesEXT")
		}
		defer vkc.FreeC(features)
		info.PNext = features
	}
	var inst vk.Instance
	r := vk.CreateInstance(info, nil, &inst)
	// Free releases the binding's C copy of info and keeps info, whose
	// strings the copy points into, alive until the call has returned.
	info.Free()
	if r == vk.ErrorIncompatibleDriver || r == vk.ErrorInitializationFailed {
		return nil, fmt.Errorf("%w: %v", ErrNoVulkan, vkErr("vkCreateInstance", r))
	}
	if err := vkErr("vkCreateInstance", r); err != nil {
		return nil, err
	}
	if err := vk.InitInstance(inst); err != nil {
		vk.DestroyInstance(inst, nil)
		return nil, fmt.Errorf("vk: vkInitInstance: %w", err)
	}
	return inst, nil
}

// deviceExtensions lists the device extensions of pd.
func deviceExtensions(fns *vkc.Funcs, pd vk.PhysicalDevice) (map[string]bool, error) {
	names, r := fns.DeviceExtensions(pd)
	if err := vkErr("vkEnumerateDeviceExtensionProperties", r); err != nil {
		return nil, err
	}
	return set(names), nil
}
