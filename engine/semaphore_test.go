package engine_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/engine/enginetest"
)

func newSem(t *testing.T, m *engine.Manager) *engine.Semaphore {
	t.Helper()
	s, err := m.NewSemaphore()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Free)
	return s
}

// TestSemaphoreChain runs three sequences ordered by semaphores, several
// times over: a fills x, b adds x to y after a's signal, c copies y to z
// after b's. The validation layer tracks binary semaphores and reports a
// wait that nothing signals and a signal of a semaphore already signalled
// (enginetest fails the test on either), so the second round fails unless
// every Wait and Signal of the first reached vkQueueSubmit. The results
// show the order.
func TestSemaphoreChain(t *testing.T) {
	m := enginetest.Open(t)
	const n = 100
	x, y, z := newBuf(t, m, make([]float32, n)), newBuf(t, m, make([]float32, n)), newBuf(t, m, make([]float32, n))
	axpy := kernel(t, m, "axpy", 2, 2)
	a, b, c := newSeq(t, m), newSeq(t, m), newSeq(t, m)
	if err := a.Fill(x, 3); err != nil {
		t.Fatal(err)
	}
	if err := b.Dispatch(axpy, []*engine.Buffer{x, y}, []uint32{n, math.Float32bits(1)}, groups(n), 1, 1); err != nil {
		t.Fatal(err)
	}
	if err := c.Copy(z, y, n); err != nil {
		t.Fatal(err)
	}
	ab, bc := newSem(t, m), newSem(t, m)
	for round := 1; round <= 3; round++ {
		submits := m.Submits()
		if err := a.Run(engine.Signal(ab)); err != nil {
			t.Fatalf("round %d: a: %v", round, err)
		}
		if !ab.Pending() {
			t.Fatalf("round %d: a signalled ab, but no signal is pending", round)
		}
		if err := b.Run(engine.Wait(ab), engine.Signal(bc)); err != nil {
			t.Fatalf("round %d: b: %v", round, err)
		}
		if ab.Pending() || !bc.Pending() {
			t.Fatalf("round %d: after b, pending ab %v bc %v; want false, true", round, ab.Pending(), bc.Pending())
		}
		if err := c.Run(engine.Wait(bc)); err != nil {
			t.Fatalf("round %d: c: %v", round, err)
		}
		if bc.Pending() {
			t.Fatalf("round %d: c waited for bc, a signal is still pending", round)
		}
		if got := m.Submits() - submits; got != 3 {
			t.Errorf("round %d: %d submits, want 3", round, got)
		}
		if got, want := download(t, m, z)[n-1], float32(3*round); got != want {
			t.Errorf("round %d: z = %v, want %v", round, got, want)
		}
	}
	// One Run may wait for a semaphore and signal it again.
	if err := a.Run(engine.Signal(ab)); err != nil {
		t.Fatal(err)
	}
	if err := a.Run(engine.Wait(ab), engine.Signal(ab)); err != nil {
		t.Fatal(err)
	}
	if !ab.Pending() {
		t.Error("a Run that waited for ab and signalled it left no signal pending")
	}
	if err := b.Run(engine.Wait(ab)); err != nil {
		t.Fatal(err)
	}
}

// TestSemaphoreMisuse checks that a Run that would wait forever, signal a
// signalled semaphore or use a foreign or freed one fails before it is
// submitted, saying why, and changes nothing; and that signals and waits
// made outside the engine are counted through NoteSignal and NoteWait.
func TestSemaphoreMisuse(t *testing.T) {
	m := enginetest.Open(t)
	x := newBuf(t, m, make([]float32, 4))
	s := newSeq(t, m)
	if err := s.Fill(x, 1); err != nil {
		t.Fatal(err)
	}
	sem, other := newSem(t, m), newSem(t, m)
	gone, err := m.NewSemaphore()
	if err != nil {
		t.Fatal(err)
	}
	gone.Free()
	foreign, err := enginetest.OpenStaging(t).NewSemaphore()
	if err != nil {
		t.Fatal(err)
	}
	defer foreign.Free()
	if err := s.Run(engine.Signal(sem)); err != nil {
		t.Fatal(err)
	}
	submits := m.Submits()
	for _, c := range []struct {
		name string
		sync []engine.Sync
		want string
	}{
		{"signal again", []engine.Sync{engine.Signal(sem)}, "already signalled"},
		{"wait for nothing", []engine.Sync{engine.Wait(other)}, "nothing will signal"},
		{"wait twice", []engine.Sync{engine.Wait(sem), engine.Wait(sem)}, "waited for twice"},
		{"signal twice", []engine.Sync{engine.Signal(other), engine.Signal(other)}, "signalled twice"},
		{"freed", []engine.Sync{engine.Signal(gone)}, "freed"},
		{"another Manager's", []engine.Sync{engine.Signal(foreign)}, "another Manager"},
		{"nil", []engine.Sync{engine.Wait(nil)}, "nil semaphore"},
	} {
		if err := s.Run(c.sync...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Run error %v, want one containing %q", c.name, err, c.want)
		}
	}
	if got := m.Submits(); got != submits {
		t.Errorf("refused Runs made %d submits", got-submits)
	}
	if !sem.Pending() || other.Pending() {
		t.Errorf("refused Runs changed the semaphores: pending %v, %v; want true, false", sem.Pending(), other.Pending())
	}
	// Outside the engine: a present waits for sem, an acquire signals
	// other.
	if err := sem.NoteWait(); err != nil {
		t.Fatal(err)
	}
	if err := sem.NoteWait(); err == nil || !strings.Contains(err.Error(), "nothing will signal") {
		t.Errorf("NoteWait without a signal: error %v", err)
	}
	if err := other.NoteSignal(); err != nil {
		t.Fatal(err)
	}
	if err := other.NoteSignal(); err == nil || !strings.Contains(err.Error(), "already signalled") {
		t.Errorf("NoteSignal twice: error %v", err)
	}
	// Nothing signals other on the device, so it cannot be waited for
	// here without hanging: undo the note.
	if err := other.NoteWait(); err != nil {
		t.Fatal(err)
	}
	if err := gone.NoteSignal(); err == nil {
		t.Error("NoteSignal on a freed semaphore succeeded")
	}
	if h := sem.Handle(); h == 0 || h == other.Handle() {
		t.Errorf("handles %#x and %#x, want two distinct non-zero ones", h, other.Handle())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(engine.Signal(sem)); !errors.Is(err, engine.ErrClosed) {
		t.Errorf("Run of a closed sequence: %v, want ErrClosed", err)
	}
}
