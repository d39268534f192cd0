package data

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds returns valid files and corrupted variants of them.
func fuzzSeeds(f *testing.F) [][]byte {
	f.Helper()
	dir := f.TempDir()
	var seeds [][]byte
	add := func(path string) {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	v := SyntheticV1(SynthOptions{Neurons: 3, Stimuli: 4, Seed: 1})
	if err := SaveV1(filepath.Join(dir, "v.npz"), v); err != nil {
		f.Fatal(err)
	}
	add(filepath.Join(dir, "v.npz"))
	sp := SyntheticV1Split(SynthOptions{Neurons: 2, Stimuli: 3, Seed: 1})
	if err := SaveV1Split(filepath.Join(dir, "s.npz"), sp); err != nil {
		f.Fatal(err)
	}
	add(filepath.Join(dir, "s.npz"))
	for _, name := range []string{"v1_f64.npz", "v1_int.npz", "v1_fortran.npz", "v1_bigendian.npz", "split_f64.npz"} {
		add(testdataPath(name))
	}
	valid := len(seeds)
	for _, b := range seeds[:valid] {
		seeds = append(seeds, b[:len(b)/2])                                    // truncated
		seeds = append(seeds, bytes.Replace(b, []byte("<f"), []byte("<c"), 1)) // bad dtype
		seeds = append(seeds, bytes.Replace(b, []byte("'shape': ("), []byte("'shape': (9"), 1))
		flipped := append([]byte(nil), b...)
		flipped[len(flipped)/3] ^= 0xff
		seeds = append(seeds, flipped)
	}
	return append(seeds, nil, []byte("PK\x03\x04"))
}

// FuzzLoadV1 checks that LoadV1 and LoadV1Split return an error or valid
// data, and never panic, on arbitrary bytes. Run it with a short
// -fuzzminimizetime (e.g. 2s): the default 60 s minimization of each new
// interesting input otherwise stalls the exec counter.
func FuzzLoadV1(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	// Each fuzz worker is its own process calling the target serially, so
	// one file per worker suffices (t.TempDir per input would dominate).
	path := filepath.Join(f.TempDir(), "f.npz")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if v, err := LoadV1(path); err == nil {
			if v.S <= 0 || v.N <= 0 || len(v.Resp) != v.S*v.N || len(v.Stimuli) != v.S {
				t.Fatalf("LoadV1 accepted inconsistent data: S=%d N=%d len(Resp)=%d len(Stimuli)=%d", v.S, v.N, len(v.Resp), len(v.Stimuli))
			}
		}
		if v, err := LoadV1Split(path); err == nil {
			if v.S <= 0 || v.N <= 0 || len(v.RespTrain) != v.S*v.N || len(v.RespTest) != v.S*v.N || len(v.Stimuli) != v.S {
				t.Fatalf("LoadV1Split accepted inconsistent data: S=%d N=%d", v.S, v.N)
			}
		}
	})
}

// FuzzReadNPZ checks that every array ReadNPZ returns matches its shape.
func FuzzReadNPZ(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	path := filepath.Join(f.TempDir(), "f.npz")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		arrs, err := ReadNPZ(path)
		if err != nil {
			return
		}
		for k, a := range arrs {
			if a.Len() != len(a.Data) {
				t.Fatalf("key %q: shape %v but %d elements", k, a.Shape, len(a.Data))
			}
		}
	})
}
