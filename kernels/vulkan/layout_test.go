package vulkan

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/shaders"
)

// TestLayouts checks the hand-kept layouts table against the embedded
// SPIR-V of every shader in it, by reflection: the storage buffers must
// be bindings 0..bindings−1 of set 0, and the push-constant block must
// have the Go struct's size and, member by member, its offsets and
// scalar types (uint, int or float), so that a field added, dropped or
// swapped on one side fails here rather than as wrong numbers.
func TestLayouts(t *testing.T) {
	names := make([]string, 0, len(layouts))
	for name := range layouts {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		l := layouts[name]
		t.Run(name, func(t *testing.T) {
			code, err := shaders.SPIRV(name)
			if err != nil {
				t.Fatal(err)
			}
			m, err := reflectSPIRV(code)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]int, l.bindings)
			for i := range want {
				want[i] = i
			}
			if !reflect.DeepEqual(m.bindings, want) {
				t.Errorf("storage buffers at set 0 bindings %v, layouts says %d (want %v)", m.bindings, l.bindings, want)
			}
			if m.otherSets {
				t.Errorf("storage buffers outside set 0")
			}
			var goMembers []pushMember
			for i := 0; i < l.push.NumField(); i++ {
				f := l.push.Field(i)
				kind := map[reflect.Kind]string{reflect.Uint32: "uint", reflect.Int32: "int", reflect.Float32: "float"}[f.Type.Kind()]
				if kind == "" {
					t.Errorf("%v field %s is %v, not a 32-bit scalar", l.push, f.Name, f.Type)
				}
				goMembers = append(goMembers, pushMember{offset: int(f.Offset), kind: kind})
			}
			if int(l.push.Size()) != m.pushSize {
				t.Errorf("push-constant block of %d bytes, %v has %d", m.pushSize, l.push, l.push.Size())
			}
			if !reflect.DeepEqual(goMembers, m.push) {
				t.Errorf("push-constant members (offset, type) %v, %v has %v", m.push, l.push, goMembers)
			}
		})
	}
}

// TestReflectSPIRV checks the reflection on a shader whose interface
// is known from its source by other means: matmul.comp declares two
// views of bindings 0 and 1 (float and vec4), which count once.
func TestReflectSPIRV(t *testing.T) {
	code, err := shaders.SPIRV("matmul")
	if err != nil {
		t.Fatal(err)
	}
	m, err := reflectSPIRV(code)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.bindings, []int{0, 1, 2}) || m.pushSize != 32 || len(m.push) != 8 ||
		m.push[3] != (pushMember{12, "float"}) || m.push[7] != (pushMember{28, "uint"}) {
		t.Errorf("matmul: bindings %v, push %d bytes %v; want bindings [0 1 2], 32 bytes of M N K alpha beta kChunk split kBase", m.bindings, m.pushSize, m.push)
	}
	if _, err := reflectSPIRV(code[:20]); err == nil {
		t.Error("a SPIR-V header without a push-constant block reflected without error")
	}
}

// pushMember is one member of a push-constant block: byte offset and
// scalar type.
type pushMember struct {
	offset int
	kind   string
}

func (m pushMember) String() string { return fmt.Sprintf("%d:%s", m.offset, m.kind) }

// spirvInterface is what TestLayouts compares: the distinct bindings of
// set 0's storage buffers, sorted, and the push-constant block.
type spirvInterface struct {
	bindings  []int
	otherSets bool
	pushSize  int
	push      []pushMember
}

// SPIR-V opcodes, decorations and storage classes used below (SPIR-V
// specification, section 3).
const (
	opTypeInt         = 21
	opTypeFloat       = 22
	opTypeVector      = 23
	opTypeArray       = 28
	opTypeRuntimeArr  = 29
	opTypeStruct      = 30
	opTypePointer     = 32
	opConstant        = 43
	opVariable        = 59
	opDecorate        = 71
	opMemberDecorate  = 72
	decoBufferBlock   = 3
	decoArrayStride   = 6
	decoBinding       = 33
	decoDescriptorSet = 34
	decoOffset        = 35
	classUniform      = 2
	classPushConstant = 9
	classStorageBuf   = 12
)

// reflectSPIRV reads the storage-buffer bindings and the push-constant
// block of a compute module.
func reflectSPIRV(code []byte) (spirvInterface, error) {
	var r spirvInterface
	if len(code)%4 != 0 || len(code) < 20 || binary.LittleEndian.Uint32(code) != 0x07230203 {
		return r, fmt.Errorf("not SPIR-V (%d bytes)", len(code))
	}
	w := make([]uint32, len(code)/4)
	for i := range w {
		w[i] = binary.LittleEndian.Uint32(code[4*i:])
	}
	type typ struct {
		op   uint32
		args []uint32
	}
	types := map[uint32]typ{}
	consts := map[uint32]uint32{}
	deco := map[uint32]map[uint32]uint32{} // id → decoration → first literal
	offsets := map[uint32]map[uint32]int{} // struct → member → offset
	type variable struct{ ptr, class uint32 }
	var vars []struct {
		id uint32
		variable
	}
	for i := 5; i < len(w); {
		n := int(w[i] >> 16)
		op := w[i] & 0xffff
		if n == 0 || i+n > len(w) {
			return r, fmt.Errorf("malformed instruction at word %d", i)
		}
		a := w[i+1 : i+n]
		switch op {
		case opTypeInt, opTypeFloat, opTypeVector, opTypeArray, opTypeRuntimeArr, opTypeStruct, opTypePointer:
			types[a[0]] = typ{op, a[1:]}
		case opConstant:
			if len(a) >= 3 {
				consts[a[1]] = a[2]
			}
		case opDecorate:
			if deco[a[0]] == nil {
				deco[a[0]] = map[uint32]uint32{}
			}
			var lit uint32
			if len(a) > 2 {
				lit = a[2]
			}
			deco[a[0]][a[1]] = lit
		case opMemberDecorate:
			if a[2] == decoOffset {
				if offsets[a[0]] == nil {
					offsets[a[0]] = map[uint32]int{}
				}
				offsets[a[0]][a[1]] = int(a[3])
			}
		case opVariable:
			vars = append(vars, struct {
				id uint32
				variable
			}{a[1], variable{a[0], a[2]}})
		}
		i += n
	}
	// size is the byte size of a type inside a block.
	var size func(id uint32) (int, error)
	size = func(id uint32) (int, error) {
		t := types[id]
		switch t.op {
		case opTypeInt, opTypeFloat:
			return int(t.args[0]) / 8, nil
		case opTypeVector:
			s, err := size(t.args[0])
			return s * int(t.args[1]), err
		case opTypeArray:
			return int(deco[id][decoArrayStride]) * int(consts[t.args[1]]), nil
		}
		return 0, fmt.Errorf("type %d (opcode %d) in a push-constant block", id, t.op)
	}
	bindings := map[int]bool{}
	pushBlocks := 0
	for _, v := range vars {
		ptr := types[v.ptr]
		if ptr.op != opTypePointer {
			continue
		}
		pointee := ptr.args[1]
		_, bufferBlock := deco[pointee][decoBufferBlock]
		switch {
		case v.class == classStorageBuf || (v.class == classUniform && bufferBlock):
			if deco[v.id][decoDescriptorSet] != 0 {
				r.otherSets = true
				continue
			}
			bindings[int(deco[v.id][decoBinding])] = true
		case v.class == classPushConstant:
			pushBlocks++
			st := types[pointee]
			if st.op != opTypeStruct {
				return r, fmt.Errorf("push-constant variable %d is not a struct", v.id)
			}
			for mi, mt := range st.args {
				off, ok := offsets[pointee][uint32(mi)]
				if !ok {
					return r, fmt.Errorf("push-constant member %d has no Offset", mi)
				}
				s, err := size(mt)
				if err != nil {
					return r, err
				}
				r.pushSize = max(r.pushSize, off+s)
				kind := fmt.Sprintf("type%d", types[mt].op)
				switch tt := types[mt]; {
				case tt.op == opTypeFloat && tt.args[0] == 32:
					kind = "float"
				case tt.op == opTypeInt && tt.args[0] == 32 && tt.args[1] == 0:
					kind = "uint"
				case tt.op == opTypeInt && tt.args[0] == 32:
					kind = "int"
				}
				r.push = append(r.push, pushMember{offset: off, kind: kind})
			}
		}
	}
	if pushBlocks != 1 {
		return r, fmt.Errorf("%d push-constant blocks, want 1", pushBlocks)
	}
	for b := range bindings {
		r.bindings = append(r.bindings, b)
	}
	sort.Ints(r.bindings)
	return r, nil
}

// TestStepStateIndices pins the step-state indices that sgd.comp,
// adam.comp and eltwise.comp (DROPOUT) read as literals.
func TestStepStateIndices(t *testing.T) {
	got := []int{kernels.StepLR, kernels.StepAdamLR, kernels.StepAdamBC2, kernels.StepDecay, kernels.StepFirst, kernels.StepCount}
	if want := []int{0, 1, 2, 3, 4, 5}; !reflect.DeepEqual(got, want) {
		t.Fatalf("kernels.Step{LR, AdamLR, AdamBC2, Decay, First, Count} = %v; the shaders read %v: update them", got, want)
	}
}

// TestOpCodes checks the op codes that Go passes as specialization
// constants against the `const uint NAME = N;` table of each shader's
// source, so that an op added to one list and not the other, or in
// another place, fails here.
func TestOpCodes(t *testing.T) {
	for _, c := range []struct {
		shader string
		codes  map[string]int
	}{
		{"eltwise", map[string]int{"RELU": opReLU, "RELU_BWD": opReLUBwd, "SIGMOID": opSigmoid, "SIGMOID_BWD": opSigmoidBwd,
			"BCE_BWD": opBCEBwd, "MSE_BWD": opMSEBwd, "ADD_SCALED": opAddScaled, "ADD_SIGN": opAddSign, "NLL_BWD": opNLLBwd,
			"ADD_BIAS": opAddBias, "TANH": opTanh, "TANH_BWD": opTanhBwd, "ELU": opELU, "ELU_BWD": opELUBwd,
			"SOFTPLUS": opSoftplus, "SOFTPLUS_BWD": opSoftplusBwd, "DROPOUT": opDropout, "BCE_LOGITS_BWD": opBCELogitsBwd,
			"POISSON_LOG_BWD": opPoissonLogBwd, "POISSON_BWD": opPoissonBwd}},
		{"reduce_op", map[string]int{"SUM": redSum, "SQ": redSq, "ABS": redAbs, "BCE": redBCE, "MSE": redMSE, "NLL": redNLL,
			"BCE_LOGITS": redBCELogits, "POISSON_LOG": redPoissonLog, "POISSON": redPoisson}},
	} {
		src, err := os.ReadFile(filepath.Join("..", "..", "shaders", c.shader+".comp"))
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, m := range regexp.MustCompile(`(?m)^const uint ([A-Z0-9_]+) = (\d+);`).FindAllSubmatch(src, -1) {
			v, _ := strconv.Atoi(string(m[2]))
			got[string(m[1])] = v
		}
		// Constants that are not op codes.
		delete(got, "STEP_COUNT")
		if !reflect.DeepEqual(got, c.codes) {
			t.Errorf("%s.comp op codes %v, Go passes %v", c.shader, got, c.codes)
		}
	}
}
