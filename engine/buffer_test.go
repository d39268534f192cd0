package engine_test

import (
	"errors"
	"testing"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/engine/enginetest"
)

// pattern fills a slice with values that differ per index and per seed, so
// a misplaced or stale element is caught.
func pattern(n int, seed float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = seed + float32(i%9973)*0.25 - float32(i/9973)
	}
	return x
}

func TestBufferRoundTrip(t *testing.T) {
	m := enginetest.Open(t)
	sizes := []int{1, 2, 3, 63, 64, 65, 1000, 4096, 65537, 1000003, 16 << 20}
	if testing.Short() {
		sizes = sizes[:len(sizes)-1]
	}
	for _, n := range sizes {
		b, err := m.NewBuffer(n)
		if err != nil {
			t.Fatalf("NewBuffer(%d): %v", n, err)
		}
		got := make([]float32, n)
		for i := range got {
			got[i] = -1
		}
		if err := m.Download(b, got, 0); err != nil {
			t.Fatalf("Download(%d): %v", n, err)
		}
		for i, v := range got {
			if v != 0 {
				t.Fatalf("n=%d: new buffer element %d = %v, want 0", n, i, v)
			}
		}
		want := pattern(n, float32(n))
		if err := m.Upload(b, want, 0); err != nil {
			t.Fatalf("Upload(%d): %v", n, err)
		}
		if err := m.Download(b, got, 0); err != nil {
			t.Fatalf("Download(%d): %v", n, err)
		}
		// A copy must be exact: compare bit for bit.
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("n=%d: element %d = %v, want %v", n, i, got[i], want[i])
			}
		}
		b.Free()
		b.Free() // idempotent
	}
}

func TestBufferPartialTransfer(t *testing.T) {
	m := enginetest.Open(t)
	b, err := m.NewBuffer(100)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Free()
	if err := m.Upload(b, []float32{1, 2, 3}, 97); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 5)
	if err := m.Download(b, got, 95); err != nil {
		t.Fatal(err)
	}
	want := []float32{0, 0, 1, 2, 3}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Download [95,100) = %v, want %v", got, want)
		}
	}
	if err := m.Upload(b, []float32{1, 2}, 99); err == nil {
		t.Error("Upload past the end: no error")
	}
	if err := m.Download(b, got, -1); err == nil {
		t.Error("Download at -1: no error")
	}
}

func TestSubAllocationSharesBlocks(t *testing.T) {
	m := enginetest.Open(t)
	before := m.Stats()
	var bufs []*engine.Buffer
	for i := 0; i < 20; i++ {
		b, err := m.NewBuffer(1000 + i)
		if err != nil {
			t.Fatal(err)
		}
		bufs = append(bufs, b)
	}
	after := m.Stats()
	if got := after.Blocks + after.Dedicated - before.Blocks - before.Dedicated; got > 1 {
		t.Errorf("20 small buffers made %d new memory allocations, want at most 1", got)
	}
	if after.Buffers-before.Buffers != 20 {
		t.Errorf("Stats.Buffers grew by %d, want 20", after.Buffers-before.Buffers)
	}
	// Distinct buffers must not alias: write each, read all back.
	for i, b := range bufs {
		if err := m.Upload(b, pattern(b.Len(), float32(i)), 0); err != nil {
			t.Fatal(err)
		}
	}
	for i, b := range bufs {
		got := make([]float32, b.Len())
		if err := m.Download(b, got, 0); err != nil {
			t.Fatal(err)
		}
		want := pattern(b.Len(), float32(i))
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("buffer %d element %d = %v, want %v (aliasing?)", i, j, got[j], want[j])
			}
		}
	}
	inUse := m.Stats().BytesInUse
	for _, b := range bufs {
		b.Free()
	}
	if s := m.Stats(); s.BytesInUse >= inUse || s.Buffers != before.Buffers {
		t.Errorf("after Free: %d bytes in use (was %d), %d buffers (want %d)", s.BytesInUse, inUse, s.Buffers, before.Buffers)
	}
	// Freed ranges are reused: the same sizes again need no new block.
	blocks := m.Stats().Blocks
	for i := 0; i < 20; i++ {
		b, err := m.NewBuffer(1000 + i)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Free()
	}
	if s := m.Stats(); s.Blocks != blocks {
		t.Errorf("reallocating freed sizes grew blocks from %d to %d", blocks, s.Blocks)
	}
}

func TestBufferErrors(t *testing.T) {
	m := enginetest.Open(t)
	limit := int(m.Info().MaxStorageBufferRange / 4)
	if _, err := m.NewBuffer(limit + 1); !errors.Is(err, engine.ErrTooLarge) {
		t.Errorf("NewBuffer(maxStorageBufferRange/4+1) = %v, want ErrTooLarge", err)
	}
	if _, err := m.NewBuffer(0); err == nil {
		t.Error("NewBuffer(0): no error")
	}
	b, err := m.NewBuffer(4)
	if err != nil {
		t.Fatal(err)
	}
	b.Free()
	if err := m.Upload(b, []float32{1}, 0); err == nil {
		t.Error("Upload to a freed buffer: no error")
	}
}
