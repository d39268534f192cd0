package enginetest

import "testing"

func TestOpenShared(t *testing.T) {
	m := Open(t)
	if m2 := Open(t); m2 != m {
		t.Error("a second Open in one process gave another Manager")
	}
	b, err := m.NewBuffer(3)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Free()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	// A test that closes the shared Manager must not break the next one.
	m3 := Open(t)
	if m3 == m || m3.Closed() {
		t.Fatal("Open after Close returned the closed Manager")
	}
	if _, err := m3.NewBuffer(1); err != nil {
		t.Fatal(err)
	}
}

func TestOpenStaging(t *testing.T) {
	m := Open(t)
	s := OpenStaging(t)
	if s == m {
		t.Fatal("OpenStaging returned the unified-memory Manager")
	}
	if s.Unified() {
		t.Fatal("OpenStaging: Unified() = true")
	}
	if s2 := OpenStaging(t); s2 != s {
		t.Error("a second OpenStaging in one process gave another Manager")
	}
}
