package engine

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	vk "github.com/vulkan-go/vulkan"
)

const spirvMagic = 0x07230203

// Binding is what one binding of a kernel's descriptor set 0 holds.
type Binding uint8

const (
	// StorageBuffer is a std430 buffer block, bound to a *Buffer.
	StorageBuffer Binding = iota
	// StorageImage is a `layout(rgba8) uniform image2D`, bound to an
	// *Image from NewImage.
	StorageImage
)

func (b Binding) String() string {
	if b == StorageImage {
		return "storage image"
	}
	return "storage buffer"
}

// maxBindings bounds a kernel's bindings (descriptor writes are built on
// the C stack).
const maxBindings = 32

// Kernel is a compute pipeline with its layouts, cached by the Manager per
// (name, specialization constants).
type Kernel struct {
	m         *Manager
	name      string
	spec      []uint32
	bindings  []Binding
	pushWords int
	// access is what the shader may do with each binding, which
	// decides the barriers around its dispatches (see hazards).
	access    []access
	module    vk.ShaderModule
	setLayout vk.DescriptorSetLayout
	layout    vk.PipelineLayout
	pipeline  vk.Pipeline
}

// Name is the kernel's name.
func (k *Kernel) Name() string { return k.name }

// Bindings is the number of bindings the kernel takes.
func (k *Kernel) Bindings() int { return len(k.bindings) }

// PushWords is the size of the push-constant block in 32-bit words.
func (k *Kernel) PushWords() int { return k.pushWords }

// String names the kernel with its specialization, e.g. "axpy[256]".
func (k *Kernel) String() string { return kernelKey(k.name, k.spec) }

func kernelKey(name string, spec []uint32) string {
	s := make([]string, len(spec))
	for i, v := range spec {
		s[i] = fmt.Sprint(v)
	}
	return name + "[" + strings.Join(s, ",") + "]"
}

// Kernel returns the compute pipeline of spirv (entry point "main") with
// bindings storage buffers at set 0, a push-constant block of pushWords
// 32-bit words, and specialization constants spec with constant_id 0, 1,
// 2, …. Pipelines are cached by name and spec: a second call returns the
// same *Kernel without looking at spirv again.
func (m *Manager) Kernel(name string, spirv []byte, bindings, pushWords int, spec ...uint32) (*Kernel, error) {
	if bindings < 0 || bindings > maxBindings {
		return nil, fmt.Errorf("engine: kernel %s: %d bindings, want 0..%d", kernelKey(name, spec), bindings, maxBindings)
	}
	return m.KernelWith(name, spirv, slices.Repeat([]Binding{StorageBuffer}, bindings), pushWords, spec...)
}

// KernelWith is Kernel for a kernel whose bindings 0, 1, … hold what
// bindings says, storage images among them.
func (m *Manager) KernelWith(name string, spirv []byte, bindings []Binding, pushWords int, spec ...uint32) (*Kernel, error) {
	key := kernelKey(name, spec)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if k, ok := m.kernels[key]; ok {
		if !slices.Equal(k.bindings, bindings) || k.pushWords != pushWords {
			return nil, fmt.Errorf("engine: kernel %s: cached with bindings %v and %d push words, asked for %v and %d",
				key, k.bindings, k.pushWords, bindings, pushWords)
		}
		return k, nil
	}
	if len(spirv) == 0 || len(spirv)%4 != 0 || binary.LittleEndian.Uint32(spirv) != spirvMagic {
		return nil, fmt.Errorf("engine: kernel %s: %d bytes are not SPIR-V (want a multiple of 4 starting with magic 0x07230203)", key, len(spirv))
	}
	if len(bindings) > maxBindings {
		return nil, fmt.Errorf("engine: kernel %s: %d bindings, want 0..%d", key, len(bindings), maxBindings)
	}
	for i, b := range bindings {
		if b != StorageBuffer && b != StorageImage {
			return nil, fmt.Errorf("engine: kernel %s: binding %d is of unknown kind %d", key, i, b)
		}
	}
	if pushWords < 0 || pushWords > 32 || uint32(pushWords*4) > m.info.MaxPushConstants {
		return nil, fmt.Errorf("engine: kernel %s: %d push-constant words, want 0..%d (device limit %d bytes)",
			key, pushWords, min(32, m.info.MaxPushConstants/4), m.info.MaxPushConstants)
	}
	if len(spec) >= 3 {
		x, y, z := spec[0], spec[1], spec[2]
		if x == 0 || y == 0 || z == 0 || x > m.info.MaxWorkGroupSize[0] || y > m.info.MaxWorkGroupSize[1] || z > m.info.MaxWorkGroupSize[2] ||
			uint64(x)*uint64(y)*uint64(z) > uint64(m.info.MaxWorkGroupInvocations) {
			return nil, fmt.Errorf("engine: kernel %s: work-group size %dx%dx%d exceeds the device limits (size ≤ %v, ≤ %d invocations)",
				key, x, y, z, m.info.MaxWorkGroupSize, m.info.MaxWorkGroupInvocations)
		}
	}
	acc, err := bindingAccess(spirv, bindings)
	if err != nil {
		return nil, fmt.Errorf("engine: kernel %s: %w", key, err)
	}
	k := &Kernel{m: m, name: name, spec: append([]uint32(nil), spec...), bindings: slices.Clone(bindings), pushWords: pushWords, access: acc}
	if err := k.build(spirv); err != nil {
		k.destroy(m.dev)
		return nil, fmt.Errorf("engine: kernel %s: %w", key, err)
	}
	m.kernels[key] = k
	return k, nil
}

// bindingAccess is the access of the shader spirv to each of bindings,
// checked against the kinds the shader declares: a binding the engine
// would not bind, or binds as another kind, is an error rather than
// memory the barriers do not know about. A binding the shader does not
// declare is not accessed.
func bindingAccess(spirv []byte, bindings []Binding) ([]access, error) {
	decl, err := reflectBindings(spirv)
	if err != nil {
		return nil, err
	}
	acc := make([]access, len(bindings))
	for i, d := range decl {
		switch {
		case int(i) >= len(bindings):
			return nil, fmt.Errorf("the shader declares binding %d, beyond the %d bindings given", i, len(bindings))
		case d.kind != bindings[i]:
			return nil, fmt.Errorf("binding %d is a %v in the shader, given as a %v", i, d.kind, bindings[i])
		}
		if d.read {
			acc[i] |= shaderRead
		}
		if d.write {
			acc[i] |= shaderWrite
		}
		if d.atomic && !d.write {
			acc[i] |= shaderAtomic // a plain write orders more than atomics need
		}
	}
	return acc, nil
}

// build creates the module, layouts and pipeline; on error, destroy frees
// what was made.
func (k *Kernel) build(spirv []byte) error {
	dev := k.m.dev
	code := make([]uint32, len(spirv)/4)
	for i := range code {
		code[i] = binary.LittleEndian.Uint32(spirv[4*i:])
	}
	minfo := &vk.ShaderModuleCreateInfo{
		SType:    vk.StructureTypeShaderModuleCreateInfo,
		CodeSize: uint(len(spirv)),
		PCode:    code,
	}
	var module vk.ShaderModule
	r := vk.CreateShaderModule(dev, minfo, nil, &module)
	minfo.Free() // after the call: the binding's C copy points into code
	if err := vkErr("vkCreateShaderModule", r); err != nil {
		return err
	}
	k.module = module

	binds := make([]vk.DescriptorSetLayoutBinding, len(k.bindings))
	for i, b := range k.bindings {
		t := vk.DescriptorTypeStorageBuffer
		if b == StorageImage {
			t = vk.DescriptorTypeStorageImage
		}
		binds[i] = vk.DescriptorSetLayoutBinding{
			Binding:         uint32(i),
			DescriptorType:  t,
			DescriptorCount: 1,
			StageFlags:      vk.ShaderStageFlags(vk.ShaderStageComputeBit),
		}
	}
	linfo := &vk.DescriptorSetLayoutCreateInfo{
		SType:        vk.StructureTypeDescriptorSetLayoutCreateInfo,
		BindingCount: uint32(len(binds)),
		PBindings:    binds,
	}
	var setLayout vk.DescriptorSetLayout
	r = vk.CreateDescriptorSetLayout(dev, linfo, nil, &setLayout)
	linfo.Free()
	if err := vkErr("vkCreateDescriptorSetLayout", r); err != nil {
		return err
	}
	k.setLayout = setLayout

	pinfo := &vk.PipelineLayoutCreateInfo{
		SType:          vk.StructureTypePipelineLayoutCreateInfo,
		SetLayoutCount: 1,
		PSetLayouts:    []vk.DescriptorSetLayout{setLayout},
	}
	if k.pushWords > 0 {
		pinfo.PushConstantRangeCount = 1
		pinfo.PPushConstantRanges = []vk.PushConstantRange{{
			StageFlags: vk.ShaderStageFlags(vk.ShaderStageComputeBit),
			Size:       uint32(4 * k.pushWords),
		}}
	}
	var layout vk.PipelineLayout
	r = vk.CreatePipelineLayout(dev, pinfo, nil, &layout)
	pinfo.Free() // after the call: the C copy points into the Go set layouts
	if err := vkErr("vkCreatePipelineLayout", r); err != nil {
		return err
	}
	k.layout = layout

	pipe, r := k.m.fns.CreateComputePipeline(dev, module, layout, k.spec)
	if err := vkErr("vkCreateComputePipelines", r); err != nil {
		return err
	}
	k.pipeline = pipe
	return nil
}

// destroy frees whatever parts of the kernel exist.
func (k *Kernel) destroy(dev vk.Device) {
	if k.pipeline != nil {
		vk.DestroyPipeline(dev, k.pipeline, nil)
		k.pipeline = nil
	}
	if k.layout != nil {
		vk.DestroyPipelineLayout(dev, k.layout, nil)
		k.layout = nil
	}
	if k.setLayout != nil {
		vk.DestroyDescriptorSetLayout(dev, k.setLayout, nil)
		k.setLayout = nil
	}
	if k.module != nil {
		vk.DestroyShaderModule(dev, k.module, nil)
		k.module = nil
	}
}
