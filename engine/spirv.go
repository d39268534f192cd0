package engine

import (
	"encoding/binary"
	"fmt"
)

// SPIR-V opcodes, decorations and storage classes read below (SPIR-V
// specification, section 3).
const (
	spvOpTypeImage      = 25
	spvOpTypeArray      = 28
	spvOpTypeRuntimeArr = 29
	spvOpTypeStruct     = 30
	spvOpTypePointer    = 32
	spvOpConstant       = 43
	spvOpFunction       = 54
	spvOpVariable       = 59
	spvOpImageTexelPtr  = 60
	spvOpLoad           = 61
	spvOpStore          = 62
	spvOpCopyMemory     = 63
	spvOpCopyMemorySz   = 64
	spvOpAccessChain    = 65
	spvOpInBoundsChain  = 66
	spvOpPtrAccessChain = 67
	spvOpArrayLength    = 68
	spvOpInBoundsPtrCh  = 70
	spvOpDecorate       = 71
	spvOpMemberDecorate = 72
	spvOpCopyObject     = 83
	spvOpImageFetch     = 95
	spvOpImageRead      = 98
	spvOpImageWrite     = 99
	spvOpImageQueryFmt  = 101 // through OpImageQuerySamples, 107
	spvOpImageQuerySmp  = 107
	spvOpSelect         = 169
	spvOpAtomicLoad     = 227
	spvOpAtomicStore    = 228
	spvOpAtomicExchange = 229 // through OpAtomicXor, 242: read-modify-writes
	spvOpAtomicXor      = 242
	spvOpPhi            = 245
	spvOpAtomicFlagTest = 318
	spvOpAtomicFlagClr  = 319
	spvOpImageSparseRd  = 320
	spvOpAtomicFMinEXT  = 5614
	spvOpAtomicFMaxEXT  = 5615
	spvOpAtomicFAddEXT  = 6035

	spvDecoBufferBlock   = 3
	spvDecoNonWritable   = 24
	spvDecoNonReadable   = 25
	spvDecoBinding       = 33
	spvDecoDescriptorSet = 34

	spvClassUniformConstant = 0
	spvClassUniform         = 2
	spvClassStorageBuffer   = 12

	// Scopes whose atomics are atomic with respect to those of other
	// dispatches: CrossDevice, Device, QueueFamily.
	spvScopeCrossDevice = 0
	spvScopeDevice      = 1
	spvScopeQueueFamily = 5
)

// shaderBinding is what a module does with one binding of set 0: its
// kind, and whether its code reads it, writes it with plain stores, or
// changes it only by atomic read-modify-writes of device scope (which do
// not race with those of other dispatches, so two dispatches doing only
// that need no barrier between them). The code is followed from each
// variable through access chains, copies, selects and phis to the loads,
// stores, atomics and image reads and writes; any other use of a pointer
// or image derived from a variable (passing it to a function, say) counts
// as reading and writing it. Reads and writes are also bounded by the
// variable's NonReadable and NonWritable decorations (writeonly and
// readonly in GLSL). Code that specialization constants make dead still
// counts: one module's access is the same for every specialization.
type shaderBinding struct {
	kind                Binding
	read, write, atomic bool
}

// spvResource is a resource variable of set 0, with what its
// declaration allows.
type spvResource struct {
	id, binding           uint32
	kind                  Binding
	nonReadable, nonWrite bool
}

// spvInst is one instruction: its opcode and its operands.
type spvInst struct {
	op   uint32
	args []uint32
}

// reflectBindings reads the storage buffers and storage images of
// descriptor set 0 from a compute module, by binding. Two variables
// declared on one binding (views of one buffer as float and vec4) merge.
// Bindings of other kinds (uniform buffers, samplers) are left out: the
// engine binds only these two.
func reflectBindings(spirv []byte) (map[uint32]shaderBinding, error) {
	w := make([]uint32, len(spirv)/4)
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(spirv[4*i:])
	}
	if len(w) < 5 {
		return nil, fmt.Errorf("SPIR-V of %d bytes has no header", len(spirv))
	}
	types := map[uint32]spvInst{} // by result id; args after it
	consts := map[uint32]uint32{}
	deco := map[uint32]map[uint32]uint32{} // id → decoration → first literal
	// members[id][deco] counts the members of struct id decorated deco.
	members := map[uint32]map[uint32]int{}
	var vars []spvInst // global variables; args: type, id, storage class
	var code []spvInst // the functions' instructions
	for i := 5; i < len(w); {
		n := int(w[i] >> 16)
		op := w[i] & 0xffff
		if n == 0 || i+n > len(w) {
			return nil, fmt.Errorf("malformed SPIR-V instruction at word %d", i)
		}
		a := w[i+1 : i+n]
		i += n
		if op == spvOpFunction || len(code) > 0 {
			code = append(code, spvInst{op, a})
			continue
		}
		switch {
		case (op == spvOpTypeImage || op == spvOpTypeArray || op == spvOpTypeRuntimeArr || op == spvOpTypeStruct || op == spvOpTypePointer) && len(a) >= 1:
			types[a[0]] = spvInst{op, a[1:]}
		case op == spvOpConstant && len(a) >= 3:
			consts[a[1]] = a[2]
		case op == spvOpVariable && len(a) >= 3:
			vars = append(vars, spvInst{op, a})
		case op == spvOpDecorate && len(a) >= 2:
			if deco[a[0]] == nil {
				deco[a[0]] = map[uint32]uint32{}
			}
			var lit uint32
			if len(a) > 2 {
				lit = a[2]
			}
			deco[a[0]][a[1]] = lit
		case op == spvOpMemberDecorate && len(a) >= 3:
			if members[a[0]] == nil {
				members[a[0]] = map[uint32]int{}
			}
			members[a[0]][a[2]]++
		}
	}
	var res []spvResource
	for _, v := range vars {
		id, class := v.args[1], v.args[2]
		d := deco[id]
		binding, ok := d[spvDecoBinding]
		if !ok || d[spvDecoDescriptorSet] != 0 {
			continue
		}
		ptr, ok := types[v.args[0]]
		if !ok || ptr.op != spvOpTypePointer || len(ptr.args) < 2 {
			continue
		}
		// The pointee, past descriptor arrays.
		tid := ptr.args[1]
		for t := types[tid]; (t.op == spvOpTypeArray || t.op == spvOpTypeRuntimeArr) && len(t.args) >= 1; t = types[tid] {
			tid = t.args[0]
		}
		t := types[tid]
		r := spvResource{id: id, binding: binding}
		_, r.nonWrite = d[spvDecoNonWritable]
		_, r.nonReadable = d[spvDecoNonReadable]
		switch {
		case t.op == spvOpTypeStruct && (class == spvClassStorageBuffer || class == spvClassUniform && hasDeco(deco[tid], spvDecoBufferBlock)):
			// glslang puts readonly and writeonly on every member of the
			// block rather than on the variable.
			if n := len(t.args); n > 0 {
				r.nonWrite = r.nonWrite || members[tid][spvDecoNonWritable] == n
				r.nonReadable = r.nonReadable || members[tid][spvDecoNonReadable] == n
			}
			r.kind = StorageBuffer
		case t.op == spvOpTypeImage && class == spvClassUniformConstant && len(t.args) >= 6 && t.args[5] == 2: // Sampled = 2: a storage image
			r.kind = StorageImage
		default:
			continue // uniform buffers (Block), samplers, sampled images
		}
		res = append(res, r)
	}
	if len(res) > 64 {
		return nil, fmt.Errorf("%d resource variables in set 0; the analysis follows at most 64", len(res))
	}
	uses := followUses(code, res, consts)
	out := map[uint32]shaderBinding{}
	for i, r := range res {
		b := shaderBinding{kind: r.kind}
		u := uses[i]
		b.read = u.read && !r.nonReadable
		b.write = u.write && !r.nonWrite
		b.atomic = u.atomic && !r.nonWrite
		if prev, ok := out[r.binding]; ok {
			if prev.kind != b.kind {
				return nil, fmt.Errorf("binding %d is declared both as a %v and as a %v", r.binding, prev.kind, b.kind)
			}
			b.read, b.write, b.atomic = b.read || prev.read, b.write || prev.write, b.atomic || prev.atomic
		}
		out[r.binding] = b
	}
	return out, nil
}

// varUse is what code does with one resource variable.
type varUse struct{ read, write, atomic bool }

// followUses finds what code does with each of the variables res, by
// index (at most 64).
func followUses(code []spvInst, res []spvResource, consts map[uint32]uint32) []varUse {
	// ptrs maps pointers to the variables they point into, imgs image
	// objects to the image variables they were loaded from; images is
	// the image variables.
	ptrs, imgs := map[uint32]uint64{}, map[uint32]uint64{}
	var images uint64
	for i, r := range res {
		ptrs[r.id] |= 1 << i
		if r.kind == StorageImage {
			images |= 1 << i
		}
	}
	// Derived pointers and images, to a fixed point: a phi may name a
	// value defined further on.
	for changed := true; changed; {
		changed = false
		derive := func(into map[uint32]uint64, id uint32, from uint64) {
			if into[id]|from != into[id] {
				into[id] |= from
				changed = true
			}
		}
		both := func(id, from uint32) {
			derive(ptrs, id, ptrs[from])
			derive(imgs, id, imgs[from])
		}
		for _, in := range code {
			a := in.args
			switch {
			case isAccessChain(in.op) && len(a) >= 3:
				derive(ptrs, a[1], ptrs[a[2]])
			case in.op == spvOpLoad && len(a) >= 3:
				derive(imgs, a[1], ptrs[a[2]]&images)
			case in.op == spvOpCopyObject && len(a) >= 3:
				both(a[1], a[2])
			case in.op == spvOpSelect && len(a) >= 5:
				both(a[1], a[3])
				both(a[1], a[4])
			case in.op == spvOpPhi:
				for k := 2; k < len(a); k += 2 {
					both(a[1], a[k])
				}
			}
		}
	}
	uses := make([]varUse, len(res))
	mark := func(vars uint64, f func(*varUse)) {
		for i := range uses {
			if vars&(1<<i) != 0 {
				f(&uses[i])
			}
		}
	}
	read := func(u *varUse) { u.read = true }
	write := func(u *varUse) { u.write = true }
	atomic := func(u *varUse) { u.atomic = true }
	readWrite := func(u *varUse) { u.read, u.write = true, true }
	for _, in := range code {
		a := in.args
		// done marks the operands whose use is accounted for below; any
		// other operand naming a tracked pointer or image is a use not
		// understood here, which may read and write.
		var done uint64
		use := func(k int, vars uint64, f func(*varUse)) {
			if k < len(a) {
				mark(vars&(ptrs[a[k]]|imgs[a[k]]), f)
				done |= 1 << k
			}
		}
		const all = ^uint64(0)
		switch op := in.op; {
		case isAccessChain(op), op == spvOpCopyObject, op == spvOpArrayLength,
			op >= spvOpImageQueryFmt && op <= spvOpImageQuerySmp:
			done = 1<<1 | 1<<2 // followed through the result, or no access
		case op == spvOpSelect:
			done = 1<<1 | 1<<3 | 1<<4
		case op == spvOpPhi:
			done = all
		case op == spvOpLoad:
			use(2, ^images, read) // loading an image variable reads no texels
			done |= 1 << 1
		case op == spvOpStore, op == spvOpAtomicStore, op == spvOpAtomicFlagClr:
			use(0, all, write)
		case op == spvOpCopyMemory, op == spvOpCopyMemorySz:
			use(0, all, write)
			use(1, all, read)
		case op == spvOpImageRead, op == spvOpImageFetch, op == spvOpImageSparseRd, op == spvOpAtomicLoad:
			use(2, all, read)
		case op == spvOpImageWrite:
			use(0, all, write)
		case isAtomicRMW(op) && len(a) >= 4:
			scope, constant := consts[a[3]]
			if constant && (scope == spvScopeCrossDevice || scope == spvScopeDevice || scope == spvScopeQueueFamily) {
				use(2, all, atomic)
			} else {
				use(2, all, readWrite) // a narrower scope is not atomic across dispatches
			}
		}
		for k, x := range a {
			if done != all && (k >= 64 || done&(1<<k) == 0) {
				mark(ptrs[x]|imgs[x], readWrite)
			}
		}
	}
	return uses
}

func isAccessChain(op uint32) bool {
	switch op {
	case spvOpAccessChain, spvOpInBoundsChain, spvOpPtrAccessChain, spvOpInBoundsPtrCh, spvOpImageTexelPtr:
		return true
	}
	return false
}

// isAtomicRMW reports whether op is an atomic read-modify-write: its
// operands are result type, result, pointer, scope, semantics, ….
func isAtomicRMW(op uint32) bool {
	return op >= spvOpAtomicExchange && op <= spvOpAtomicXor ||
		op == spvOpAtomicFlagTest || op == spvOpAtomicFMinEXT || op == spvOpAtomicFMaxEXT || op == spvOpAtomicFAddEXT
}

func hasDeco(d map[uint32]uint32, deco uint32) bool {
	_, ok := d[deco]
	return ok
}
