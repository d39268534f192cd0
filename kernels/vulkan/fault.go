package vulkan

import (
	"fmt"
	"math"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
)

// Device-side checks. A shader cannot return an error, so an op whose
// inputs can be invalid in a way only the data shows (an NLL target
// that is not a class index) gets a slot in a small fault buffer of the
// Program: the shader stores the first bad row there (atomicMax of
// ^row, so 0 means none and the smallest row wins whatever order
// invocations run in), and Run reads the slots after the submit and
// returns the first fault in recording order. The buffer is zero-filled
// by a command recorded before its first check, so every Run starts
// clean. Where device buffers are not host-visible, a copy into a
// mapped twin rides at the end of the Run's submit, as Program.Read.

// faultSlots is the number of checks one fault buffer holds; a Program
// with more checks gets another buffer.
const faultSlots = 64

type faults struct {
	bufs   []hostCopy // v: Run's copy of the slots; dev; host twin or nil
	checks []faultCheck
}

// faultCheck is one checked op: the class indices it reads and their
// range [0, classes).
type faultCheck struct {
	op      string
	target  *engine.Buffer
	classes int
}

// slot assigns c the next slot: the fault buffer to bind and the slot
// index to push. ok is false when the Program's error is set.
func (f *faults) slot(p *Program, c faultCheck) (buf *engine.Buffer, slot uint32, ok bool) {
	i := len(f.checks)
	if i%faultSlots == 0 {
		dev := p.newScratch(c.op, faultSlots)
		if dev == nil || !p.ok(wrap(c.op, p.seq.Fill(dev, 0))) {
			return nil, 0, false
		}
		p.cmds++
		host := p.hostTwin(c.op, faultSlots)
		if p.err != nil {
			return nil, 0, false
		}
		f.bufs = append(f.bufs, hostCopy{v: make([]float32, faultSlots), dev: dev, host: host})
	}
	f.checks = append(f.checks, c)
	return f.bufs[i/faultSlots].dev, uint32(i % faultSlots), true
}

// recordReads records the copies of the fault buffers into their host
// twins, after every op (Run calls it when recording ends).
func (f *faults) recordReads(p *Program) {
	for _, b := range f.bufs {
		p.hostRead("fault check", b.host, b.dev, faultSlots)
	}
}

// check reads the slots after a Run and returns the first fault, with
// the bad value read back from the target tensor (one more transfer,
// on the error path only).
func (f *faults) check(m *engine.Manager) error {
	for bi, b := range f.bufs {
		if err := m.Download(b.via(), b.v, 0); err != nil {
			return fmt.Errorf("vulkan: Run: reading the fault checks: %w", err)
		}
		for s, w := range b.v {
			key := math.Float32bits(w)
			ci := bi*faultSlots + s
			if key == 0 || ci >= len(f.checks) {
				continue
			}
			c := f.checks[ci]
			row := int(^key)
			var v [1]float32
			if err := m.Download(c.target, v[:], row); err != nil {
				return fmt.Errorf("vulkan: %s: row %d: target is not a class index in [0, %d) (reading it back: %w)", c.op, row, c.classes, err)
			}
			return kernels.ClassIndexError("vulkan", c.op, row, v[0], c.classes)
		}
	}
	return nil
}
