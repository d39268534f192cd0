package engine

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	vk "github.com/vulkan-go/vulkan"

	"github.com/vkneuro/vkneuro/shaders"
)

// Cases whose barriers are worked out by hand from the Vulkan memory
// model; a and b are two buffers of one block, img an image.
func TestHazardsCases(t *testing.T) {
	blk := &memBlock{}
	img := &Image{}
	at := func(lo, hi uint64, acc access) use { return use{key: memKey{block: blk}, lo: lo, hi: hi, acc: acc} }
	a := func(acc access) use { return at(0, 64, acc) }
	b := func(acc access) use { return at(64, 128, acc) }
	im := func(acc access) use { return use{key: memKey{img: img}, lo: 0, hi: 1, acc: acc} }
	none := barrier{}
	cases := []struct {
		name string
		cmds [][]use
		want []barrier
	}{
		{"disjoint writes of one block", [][]use{{a(shaderWrite)}, {b(shaderWrite)}, {at(128, 130, transferWrite)}},
			[]barrier{none, none, none}},
		{"read after write", [][]use{{a(shaderWrite)}, {a(shaderRead), b(shaderWrite)}},
			[]barrier{none, {stageCompute, stageCompute, shaderWrite, shaderRead}}},
		{"reads after one barrier need no other", [][]use{{a(shaderWrite)}, {a(shaderRead)}, {a(shaderRead)}},
			[]barrier{none, {stageCompute, stageCompute, shaderWrite, shaderRead}, none}},
		{"write after read: execution only", [][]use{{a(shaderRead)}, {a(transferWrite)}},
			[]barrier{none, {stageCompute, stageTransfer, 0, 0}}},
		{"write after write", [][]use{{a(transferWrite)}, {a(shaderRead | shaderWrite)}},
			[]barrier{none, {stageTransfer, stageCompute, transferWrite, shaderRead | shaderWrite}}},
		{"one global barrier covers both writes", [][]use{{a(shaderWrite)}, {b(shaderWrite)}, {a(shaderRead)}, {b(shaderRead)}},
			[]barrier{none, none, {stageCompute, stageCompute, shaderWrite, shaderRead}, none}},
		{"visible to shader reads, not to a copy", [][]use{{a(shaderWrite)}, {a(shaderRead)}, {a(transferRead)}},
			[]barrier{none, {stageCompute, stageCompute, shaderWrite, shaderRead}, {stageCompute, stageTransfer, shaderWrite, transferRead}}},
		{"a copy's part of a buffer", [][]use{{at(0, 40, transferWrite)}, {at(40, 64, shaderRead)}, {a(shaderRead)}},
			[]barrier{none, none, {stageTransfer, stageCompute, transferWrite, shaderRead}}},
		{"a barrier chain orders a later read", [][]use{{a(shaderRead)}, {b(transferWrite)}, {b(shaderRead)}, {a(shaderWrite)}},
			// The barrier before command 2 (transfer → compute) orders
			// nothing of command 0's stage, so command 3 needs its own.
			[]barrier{none, none, {stageTransfer, stageCompute, transferWrite, shaderRead}, {stageCompute, stageCompute, 0, 0}}},
		{"atomics order against plain accesses only", [][]use{{a(transferWrite)}, {a(shaderAtomic)}, {a(shaderAtomic)}, {a(transferRead)}},
			// The fill's values the atomics left alone are read too.
			[]barrier{none, {stageTransfer, stageCompute, transferWrite, shaderAtomic}, none,
				{stageCompute | stageTransfer, stageTransfer, shaderWrite | transferWrite, transferRead}}},
		{"storage image then blit", [][]use{{im(shaderWrite)}, {im(transferRead), a(transferWrite)}},
			[]barrier{none, {stageCompute, stageTransfer, shaderWrite, transferRead}}},
	}
	for _, c := range cases {
		var h hazards
		for i, uses := range c.cmds {
			if got := h.add(uses); got != c.want[i] {
				t.Errorf("%s: command %d: barrier %+v, want %+v", c.name, i, got, c.want[i])
			}
		}
	}
}

// TestHazardsModel checks the tracker on random command lists against a
// direct reading of the synchronization rules: for every byte, every
// access must be ordered after the last write before it by a chain of
// barriers that makes the write available (first barrier) and visible
// to the access (a barrier of the chain whose second scope holds it),
// and a write must be ordered by an execution chain after every read
// since the last write. And every barrier placed must be needed: without
// it some access is not ordered.
func TestHazardsModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	blocks := []*memBlock{{}, {}}
	kinds := [][]access{
		{shaderRead, shaderWrite, shaderRead | shaderWrite, shaderAtomic, shaderRead | shaderAtomic},
		{transferRead, transferWrite},
	}
	const cells = 6 // byte ranges are cells [lo, hi) of this grid
	for trial := range 3000 {
		cmds := make([][]use, 1+rng.IntN(10))
		for i := range cmds {
			k := kinds[rng.IntN(2)]
			for range 1 + rng.IntN(3) {
				lo := uint64(rng.IntN(cells))
				hi := lo + 1 + uint64(rng.IntN(cells-int(lo)))
				cmds[i] = append(cmds[i], use{key: memKey{block: blocks[rng.IntN(2)]}, lo: lo, hi: hi, acc: k[rng.IntN(len(k))]})
			}
		}
		var h hazards
		pre := make([]barrier, len(cmds))
		for i, uses := range cmds {
			pre[i] = h.add(uses)
		}
		if err := unordered(cmds, pre, cells); err != nil {
			t.Fatalf("trial %d: %v\n%s", trial, err, listCommands(cmds, pre, blocks))
		}
		for i := range pre {
			if pre[i].src == 0 {
				continue
			}
			without := append([]barrier(nil), pre...)
			without[i] = barrier{}
			if unordered(cmds, without, cells) == nil {
				t.Fatalf("trial %d: the barrier before command %d is not needed\n%s", trial, i, listCommands(cmds, pre, blocks))
			}
		}
	}
}

// listCommands lists commands and barriers for a failure message.
func listCommands(cmds [][]use, pre []barrier, blocks []*memBlock) string {
	var b strings.Builder
	for i, uses := range cmds {
		if p := pre[i]; p.src != 0 {
			fmt.Fprintf(&b, "  barrier stages %b→%b, access %04b→%04b\n", p.src, p.dst, p.srcAccess, p.dstAccess)
		}
		fmt.Fprintf(&b, "  command %d:", i)
		for _, u := range uses {
			fmt.Fprintf(&b, " block%d[%d,%d) access %04b", slices.Index(blocks, u.key.block), u.lo, u.hi, u.acc)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// unordered names the first access of cmds that the barriers pre (pre[j]
// before command j) leave unordered with an earlier one.
func unordered(cmds [][]use, pre []barrier, cells uint64) error {
	type event struct {
		cmd int
		acc access
	}
	keys := map[memKey]bool{}
	for _, uses := range cmds {
		for _, u := range uses {
			keys[u.key] = true
		}
	}
	// made and seen are the two ends of a memory dependency: b makes a
	// write of kind w available, b makes writes visible to an access of
	// kind k (all of k's access flags in its destination mask).
	made := func(w access) func(barrier) bool {
		return func(b barrier) bool {
			return b.src&w.stages() != 0 && b.srcAccess.vk()&w.vk()&(vk.AccessShaderWriteBit|vk.AccessTransferWriteBit) != 0
		}
	}
	seen := func(k access) func(barrier) bool {
		return func(b barrier) bool { return b.dst&k.stages() != 0 && b.dstAccess.vk()&k.vk() == k.vk() }
	}
	for key := range keys {
		for cell := range cells {
			// The plain write, the atomics and the reads since it.
			var write *event
			var atomics, reads []event
			for j, uses := range cmds {
				var acc access
				for _, u := range uses {
					if u.key == key && u.lo <= cell && cell < u.hi {
						acc |= u.acc
					}
				}
				if acc == 0 {
					continue
				}
				for _, k := range kindsOf(acc) {
					earlier := atomics
					if k == shaderAtomic {
						earlier = nil // atomics do not race with each other
					}
					if write != nil {
						earlier = append([]event{*write}, earlier...)
					}
					for _, w := range earlier {
						if !chained(pre, w.cmd, j, made(w.acc), seen(k)) {
							return fmt.Errorf("command %d's %v of cell %d is not ordered after command %d's %v", j, k, cell, w.cmd, w.acc)
						}
					}
				}
				if acc&(shaderWrite|transferWrite|shaderAtomic) != 0 {
					for _, r := range reads {
						after := func(b barrier) bool { return b.src&r.acc.stages() != 0 }
						before := func(b barrier) bool { return b.dst&acc.stages() != 0 }
						if !chained(pre, r.cmd, j, after, before) {
							return fmt.Errorf("command %d's write of cell %d is not ordered after command %d's read %v", j, cell, r.cmd, r.acc)
						}
					}
				}
				switch w := acc & (shaderWrite | transferWrite); {
				case w != 0:
					write, atomics, reads = &event{j, w}, nil, nil
				default:
					if acc&shaderAtomic != 0 {
						atomics = append(atomics, event{j, shaderAtomic})
					}
					if r := acc &^ shaderAtomic; r != 0 {
						reads = append(reads, event{j, r})
					}
				}
			}
		}
	}
	return nil
}

// kindsOf splits a into its kinds.
func kindsOf(a access) []access {
	var out []access
	for k := access(1); k <= transferWrite; k <<= 1 {
		if a&k != 0 {
			out = append(out, k)
		}
	}
	return out
}

// chained reports whether the barriers between commands i and j form a
// chain from one that first accepts (its first scope holds what command
// i did) to one that last accepts (its second scope holds what command j
// does), each barrier's source stages meeting the destination stages of
// the one before.
func chained(pre []barrier, i, j int, first, last func(barrier) bool) bool {
	reached := make([]bool, len(pre))
	for m := i + 1; m <= j; m++ {
		b := pre[m]
		if b.src == 0 {
			continue
		}
		reached[m] = first(b)
		for p := i + 1; p < m && !reached[m]; p++ {
			reached[m] = reached[p] && pre[p].dst&b.src != 0
		}
		if reached[m] && last(b) {
			return true
		}
	}
	return false
}

// TestDroppedBarrierReported shows both halves of the barrier placement
// on a device with the validation layer's synchronization validation:
// for each kind of hazard, the sequence gets a barrier before its last
// command and runs without a report, and the same sequence with that
// barrier left out (the dropBarrier hook) has the hazard reported.
func TestDroppedBarrierReported(t *testing.T) {
	m := openValidated(t)
	const n = 4096
	fill := testKernel(t, m, "fill", []Binding{StorageBuffer}, 2)
	axpy := testKernel(t, m, "axpy", []Binding{StorageBuffer, StorageBuffer}, 2)
	code, err := os.ReadFile("testdata/image_test.spv")
	if err != nil {
		t.Fatal(err)
	}
	draw, err := m.KernelWith("image_test", code, []Binding{StorageImage, StorageBuffer}, 3)
	if err != nil {
		t.Fatal(err)
	}
	a, b := testBuffer(t, m, n), testBuffer(t, m, n)
	img, err := m.NewImage(16, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Free()
	cases := []struct {
		name, hazard string
		record       func(s *Sequence) error
	}{
		{"a dispatch reads what a dispatch wrote", "READ-AFTER-WRITE", func(s *Sequence) error {
			return errors.Join(
				s.Dispatch(fill, []*Buffer{a}, []uint32{n, math.Float32bits(2)}, n/64, 1, 1),
				s.Dispatch(axpy, []*Buffer{a, b}, []uint32{n, math.Float32bits(1)}, n/64, 1, 1))
		}},
		{"a fill overwrites what a dispatch read", "WRITE-AFTER-READ", func(s *Sequence) error {
			return errors.Join(
				s.Dispatch(axpy, []*Buffer{a, b}, []uint32{n, math.Float32bits(1)}, n/64, 1, 1),
				s.Fill(a, 3))
		}},
		{"a copy overwrites what a fill wrote", "WRITE-AFTER-WRITE", func(s *Sequence) error {
			return errors.Join(s.Fill(a, 3), s.Copy(a, b, n))
		}},
		{"a copy reads the image a dispatch drew", "READ-AFTER-WRITE", func(s *Sequence) error {
			return errors.Join(
				s.DispatchWith(draw, []Resource{img, b}, []uint32{16, 16, 0}, 2, 2, 1),
				s.CopyImage(a, img))
		}},
	}
	for _, c := range cases {
		for _, drop := range []bool{false, true} {
			s, err := m.NewSequence()
			if err != nil {
				t.Fatal(err)
			}
			if err := c.record(s); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			last := len(s.cmds) - 1
			if s.cmds[last].pre.src == 0 {
				t.Fatalf("%s: no barrier before the last command", c.name)
			}
			if got := s.Counts(); got.Barriers != 3 {
				t.Errorf("%s: %+v, want 3 barriers (the two around the Run, one between)", c.name, got)
			}
			if drop {
				s.dropBarrier = last + 1
			}
			before := len(m.ValidationErrors())
			err = s.Run()
			s.Close()
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			errs := m.ValidationErrors()[before:]
			want := "SYNC-HAZARD-" + c.hazard
			switch {
			case !drop && len(errs) > 0:
				t.Errorf("%s: %d validation errors with the barrier:\n%s", c.name, len(errs), strings.Join(errs, "\n"))
			case drop:
				i := slices.IndexFunc(errs, func(e string) bool { return strings.Contains(e, want) })
				if i < 0 {
					t.Errorf("%s: without the barrier, no %s reported; the layer said:\n%s", c.name, want, strings.Join(errs, "\n"))
					break
				}
				t.Logf("%s, without the barrier: %s", c.name, errs[i])
			}
		}
	}
}

// TestDisjointWrites checks that commands on different buffers of one
// memory block are not ordered, and that a read of both is: with
// validation on (openTest's cleanup fails on its errors) the layer finds
// no hazard, and the values show each command saw what it should.
func TestDisjointWrites(t *testing.T) {
	m := openTest(t, Options{})
	const n = 1000
	fill := testKernel(t, m, "fill", []Binding{StorageBuffer}, 2)
	axpy := testKernel(t, m, "axpy", []Binding{StorageBuffer, StorageBuffer}, 2)
	a, b := testBuffer(t, m, n), testBuffer(t, m, n)
	if a.alloc.block != b.alloc.block {
		t.Fatal("two small buffers in different blocks: the test needs one block")
	}
	s, err := m.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g := uint32(n+63) / 64
	for i, err := range []error{
		s.Dispatch(fill, []*Buffer{a}, []uint32{n, math.Float32bits(1.5)}, g, 1, 1),
		s.Dispatch(fill, []*Buffer{b}, []uint32{n, math.Float32bits(2)}, g, 1, 1),
		s.Dispatch(axpy, []*Buffer{a, b}, []uint32{n, math.Float32bits(2)}, g, 1, 1), // b = 2 + 2·1.5
		s.Copy(a, b, n/2), // a = 5 in its first half; the read of a above comes first
	} {
		if err != nil {
			t.Fatalf("command %d: %v", i, err)
		}
	}
	for i, want := range []bool{false, false, true, true} {
		if got := s.cmds[i].pre.src != 0; got != want {
			t.Errorf("command %d: barrier before it %v, want %v", i, got, want)
		}
	}
	if got, want := s.Counts(), (Counts{Dispatches: 3, Transfers: 1, Barriers: 4}); got != want {
		t.Errorf("Counts() = %+v, want %+v", got, want)
	}
	ran := m.Ran()
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
	if got, want := m.Ran(), (Counts{ran.Dispatches + 3, ran.Transfers + 1, ran.Barriers + 4}); got != want {
		t.Errorf("Ran() went from %+v to %+v, want %+v", ran, got, want)
	}
	ga, gb := make([]float32, n), make([]float32, n)
	if err := errors.Join(m.Download(a, ga, 0), m.Download(b, gb, 0)); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		wa := float32(1.5)
		if i < n/2 {
			wa = 5
		}
		if ga[i] != wa || gb[i] != 5 {
			t.Fatalf("element %d: a = %v, b = %v; want %v and 5", i, ga[i], gb[i], wa)
		}
	}
}

func testKernel(t *testing.T, m *Manager, name string, bindings []Binding, push int) *Kernel {
	t.Helper()
	code, err := shaders.SPIRV(name)
	if err != nil {
		t.Fatal(err)
	}
	k, err := m.KernelWith(name, code, bindings, push, 64, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func testBuffer(t *testing.T, m *Manager, n int) *Buffer {
	t.Helper()
	b, err := m.NewBuffer(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Free)
	return b
}

// TestReflectBindings checks what the SPIR-V analysis says each binding
// of every shader does against the GLSL source it was compiled from,
// read independently: a binding the source assigns to must count as
// written, one it passes to an atomic function as atomic or written,
// and one it reads from as read. The analysis may say more (a use it
// does not follow counts as both); a few bindings it must not say more
// of are checked exactly, since they are what keeps barriers out of a
// training step: eltwise's inputs only read and its fault slots only
// changed by atomics, fill's output only written.
func TestReflectBindings(t *testing.T) {
	files, err := filepath.Glob("../shaders/*.comp")
	if err != nil || len(files) == 0 {
		t.Fatalf("no shader sources in ../shaders: %v", err)
	}
	files = append(files, "testdata/image_test.comp")
	got := map[string]map[uint32]shaderBinding{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".comp")
		src, err := glslSource(f)
		if err != nil {
			t.Fatal(err)
		}
		code, err := os.ReadFile(strings.TrimSuffix(f, ".comp") + ".spv")
		if err != nil {
			t.Fatal(err)
		}
		refl, err := reflectBindings(code)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = refl
		decls := glslBindings(src)
		if len(decls) != len(refl) {
			t.Errorf("%s: the source declares bindings %v, the SPIR-V analysis found %v", name, decls, refl)
		}
		for binding, names := range decls {
			want := glslUse(src, names)
			r := refl[binding]
			if want.write && !r.write || want.atomic && !r.atomic && !r.write || want.read && !r.read {
				t.Errorf("%s binding %d (%v): the source reads %v, writes %v, atomics %v; the SPIR-V analysis says %+v",
					name, binding, names, want.read, want.write, want.atomic, r)
			}
		}
	}
	exact := []struct {
		shader  string
		binding uint32
		want    shaderBinding
	}{
		{"eltwise", 0, shaderBinding{kind: StorageBuffer, read: true}},
		{"eltwise", 1, shaderBinding{kind: StorageBuffer, read: true}},
		{"eltwise", 3, shaderBinding{kind: StorageBuffer, atomic: true}},
		{"reduce_op", 3, shaderBinding{kind: StorageBuffer, atomic: true}},
		{"fill", 0, shaderBinding{kind: StorageBuffer, write: true}},
		{"viewer_draw", 0, shaderBinding{kind: StorageImage, write: true}},
		{"image_test", 0, shaderBinding{kind: StorageImage, read: true, write: true}},
	}
	for _, c := range exact {
		if r := got[c.shader][c.binding]; r != c.want {
			t.Errorf("%s binding %d: %+v, want %+v", c.shader, c.binding, r, c.want)
		}
	}
}

// glslSource reads a shader with its #includes and without comments.
func glslSource(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	src := regexp.MustCompile(`(?m)^#include "([^"]+)"`).ReplaceAllStringFunc(string(b), func(inc string) string {
		lib, err := os.ReadFile(filepath.Join(filepath.Dir(path), strings.Split(inc, `"`)[1]))
		if err != nil {
			return inc // left in, so that the declarations below miss nothing it declares
		}
		return string(lib)
	})
	return regexp.MustCompile(`(?s)//[^\n]*|/\*.*?\*/`).ReplaceAllString(src, ""), nil
}

// glslDecl matches a declaration of a buffer block or an image.
var glslDecl = regexp.MustCompile(`layout\s*\(([^)]*)\)\s*((?:\w+\s+)*)(buffer\s+\w+\s*\{([^}]*)\}|image2D\s+(\w+))`)

// glslBindings maps each binding of set 0 to the names the source
// accesses it by: the members of its buffer blocks, or its image.
func glslBindings(src string) map[uint32][]string {
	out := map[uint32][]string{}
	binding := regexp.MustCompile(`binding\s*=\s*(\d+)`)
	member := regexp.MustCompile(`(\w+)\s*\[[^\]]*\]\s*;`)
	for _, m := range glslDecl.FindAllStringSubmatch(src, -1) {
		b := binding.FindStringSubmatch(m[1])
		if b == nil {
			continue
		}
		n, _ := strconv.Atoi(b[1])
		if m[5] != "" {
			out[uint32(n)] = append(out[uint32(n)], m[5])
		}
		for _, mm := range member.FindAllStringSubmatch(m[4], -1) {
			out[uint32(n)] = append(out[uint32(n)], mm[1])
		}
	}
	return out
}

// glslUse is what the source does with the variables names: reads and
// plain writes of their elements (name[…] = is a write, name[…] += and
// ++ both), atomic functions on them, imageLoad and imageStore.
func glslUse(src string, names []string) shaderBinding {
	src = glslDecl.ReplaceAllString(src, "")
	var u shaderBinding
	for _, name := range names {
		if regexp.MustCompile(`image(Load|Size)\s*\(\s*` + name + `\b`).MatchString(src) {
			u.read = u.read || strings.Contains(src, "imageLoad")
		}
		if regexp.MustCompile(`imageStore\s*\(\s*` + name + `\b`).MatchString(src) {
			u.write = true
		}
		for _, at := range regexp.MustCompile(`\b`+name+`\s*\[`).FindAllStringIndex(src, -1) {
			// The element's closing bracket, past nested indexing.
			end, depth := at[1], 1
			for ; end < len(src) && depth > 0; end++ {
				switch src[end] {
				case '[':
					depth++
				case ']':
					depth--
				}
			}
			before := strings.TrimRight(src[:at[0]], " \t\n")
			after := strings.TrimLeft(src[end:], " \t\n")
			switch {
			case strings.HasSuffix(before, "(") && regexp.MustCompile(`atomic\w+\($`).MatchString(before):
				u.atomic = true
			case strings.HasPrefix(after, "++"), strings.HasPrefix(after, "--"), strings.HasSuffix(before, "++"), strings.HasSuffix(before, "--"),
				regexp.MustCompile(`^[-+*/%&|^]=|^<<=|^>>=`).MatchString(after):
				u.read, u.write = true, true
			case strings.HasPrefix(after, "=") && !strings.HasPrefix(after, "=="):
				u.write = true
			default:
				u.read = true
			}
		}
	}
	return u
}
