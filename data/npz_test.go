package data

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestNPZRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.npz")
	in := map[string]*Array{
		"matrix": {Shape: []int{2, 3}, Data: []float32{1, -2, 3.5, float32(math.Inf(1)), 0, float32(math.NaN())}},
		"vec":    {Shape: []int{4}, Data: []float32{0.1, 0.2, 0.3, 0.4}},
		"scalar": {Shape: []int{}, Data: []float32{7}},
		"cube":   {Shape: []int{2, 1, 2}, Data: []float32{1, 2, 3, 4}},
		"empty":  {Shape: []int{0, 5}, Data: []float32{}},
	}
	if err := WriteNPZ(path, in); err != nil {
		t.Fatal(err)
	}
	out, err := ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("read %d arrays, want %d", len(out), len(in))
	}
	for k, a := range in {
		b := out[k]
		if b == nil {
			t.Fatalf("key %q lost", k)
		}
		if !reflect.DeepEqual(b.Shape, a.Shape) && !(len(a.Shape) == 0 && len(b.Shape) == 0) {
			t.Errorf("key %q: shape %v, want %v", k, b.Shape, a.Shape)
		}
		if b.DType != "<f4" || b.Converted() {
			t.Errorf("key %q: dtype %q, want <f4 unconverted", k, b.DType)
		}
		for i := range a.Data {
			if math.Float32bits(a.Data[i]) != math.Float32bits(b.Data[i]) {
				t.Errorf("key %q: element %d = %v, want %v", k, i, b.Data[i], a.Data[i])
			}
		}
	}

	// Entries are stored uncompressed in sorted key order, and no
	// temporary file is left behind.
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Method != zip.Store {
			t.Errorf("entry %s: method %d, want Store", f.Name, f.Method)
		}
	}
	if want := []string{"cube.npy", "empty.npy", "matrix.npy", "scalar.npy", "vec.npy"}; !reflect.DeepEqual(names, want) {
		t.Errorf("entries %v, want %v", names, want)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d files after WriteNPZ, want 1", len(ents))
	}

	// Writing the same arrays again gives the same bytes.
	first, _ := os.ReadFile(path)
	path2 := filepath.Join(dir, "b.npz")
	if err := WriteNPZ(path2, in); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(path2)
	if bytes.Equal(first, second) {
		return
	}
	// Zip headers hold a modification time of zero, so only that could
	// differ; any difference is a determinism bug.
	t.Error("two writes of the same arrays differ")
}

func TestWriteNPZErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.npz")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		arrays map[string]*Array
		want   string
	}{
		{map[string]*Array{"a": {Shape: []int{2, 2}, Data: []float32{1}}},
			`data: PATH: key "a": shape [2 2] holds 4 elements, but len(Data) = 1`},
		{map[string]*Array{"a": nil}, `data: PATH: key "a": nil array`},
		{map[string]*Array{"": {Data: []float32{1}}},
			`data: PATH: key "": want a non-empty name without '/', '\' or NUL`},
		{map[string]*Array{"a/b": {Data: []float32{1}}},
			`data: PATH: key "a/b": want a non-empty name without '/', '\' or NUL`},
		{map[string]*Array{"a": {Shape: []int{-1}, Data: []float32{}}},
			`data: PATH: key "a": shape [-1] has a negative dimension`},
	} {
		err := WriteNPZ(path, tc.arrays)
		want := strings.ReplaceAll(tc.want, "PATH", path)
		if err == nil || err.Error() != want {
			t.Errorf("WriteNPZ error %v, want %s", err, want)
		}
		if b, _ := os.ReadFile(path); string(b) != "old" {
			t.Errorf("failed WriteNPZ changed the existing file")
		}
	}
	missing := filepath.Join(dir, "no", "such", "dir", "x.npz")
	if err := WriteNPZ(missing, map[string]*Array{"a": {Shape: []int{1}, Data: []float32{1}}}); err == nil {
		t.Error("WriteNPZ into a missing directory succeeded")
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("directory holds %d files after failed writes, want 1", len(ents))
	}
}

// npyBytes builds a .npy stream with the given header dictionary fields.
func npyBytes(descr string, fortran bool, shape string, data []byte) []byte {
	ord := "False"
	if fortran {
		ord = "True"
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, ord, shape)
	hdr := dict + strings.Repeat(" ", (64-(10+len(dict)+1)%64)%64) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), 0, 0)
	binary.LittleEndian.PutUint16(b[8:], uint16(len(hdr)))
	b = append(b, hdr...)
	return append(b, data...)
}

// writeZip writes entries (name → bytes) in the given order as a zip.
func writeZip(t testing.TB, path string, names []string, entries map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(entries[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func f32bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func TestReadNPZDTypes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.npz")
	i16 := make([]byte, 6)
	for i, v := range []int16{-3, 0, 300} {
		binary.LittleEndian.PutUint16(i16[2*i:], uint16(v))
	}
	be := make([]byte, 8)
	binary.BigEndian.PutUint64(be, math.Float64bits(-2.5))
	entries := map[string][]byte{
		"i16.npy":  npyBytes("<i2", false, "(3,)", i16),
		"u8.npy":   npyBytes("|u1", false, "(2,)", []byte{0, 255}),
		"i8.npy":   npyBytes("|i1", false, "(2,)", []byte{0x80, 5}),
		"b.npy":    npyBytes("|b1", false, "(3,)", []byte{0, 1, 2}),
		"be.npy":   npyBytes(">f8", false, "(1,)", be),
		"fort.npy": npyBytes("<f4", true, "(2, 3)", f32bytes(1, 4, 2, 5, 3, 6)),
		"plain":    npyBytes("<f4", false, "(1,)", f32bytes(9)),
	}
	names := []string{"i16.npy", "u8.npy", "i8.npy", "b.npy", "be.npy", "fort.npy", "plain"}
	writeZip(t, path, names, entries)
	got, err := ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[string][]float32{
		"i16":   {-3, 0, 300},
		"u8":    {0, 255},
		"i8":    {-128, 5},
		"b":     {0, 1, 1},
		"be":    {-2.5},
		"fort":  {1, 2, 3, 4, 5, 6},
		"plain": {9},
	} {
		a := got[key]
		if a == nil {
			t.Errorf("key %q missing", key)
			continue
		}
		if !reflect.DeepEqual(a.Data, want) {
			t.Errorf("key %q (%s): %v, want %v", key, a.DType, a.Data, want)
		}
	}
	if !reflect.DeepEqual(got["fort"].Shape, []int{2, 3}) {
		t.Errorf("fortran array shape %v, want [2 3]", got["fort"].Shape)
	}
}

func TestReadNPZErrors(t *testing.T) {
	dir := t.TempDir()
	good := npyBytes("<f4", false, "(2,)", f32bytes(1, 2))
	for _, tc := range []struct {
		name    string
		entries map[string][]byte // key "": the whole file, not a zip entry
		want    string
	}{
		{"notzip", map[string][]byte{"": []byte("this is not a zip file")},
			`data: PATH: not an npz (zip) archive: npz: could not create zip reader: zip: not a valid zip file`},
		{"empty", map[string][]byte{"": {}},
			`data: PATH: not an npz (zip) archive: npz: could not create zip reader: zip: not a valid zip file`},
		{"badmagic", map[string][]byte{"a.npy": []byte("\x93NUMPX\x01\x00\x10\x00")},
			`data: PATH: key "a": not a .npy entry: bad magic "\x93NUMPX"`},
		{"short", map[string][]byte{"a.npy": []byte("\x93NU")},
			`data: PATH: key "a": not a .npy entry: 3-byte preamble, want at least 10 bytes: unexpected EOF`},
		{"version", map[string][]byte{"a.npy": []byte("\x93NUMPY\x07\x00\x10\x00")},
			`data: PATH: key "a": unsupported .npy format version 7.0`},
		{"hugeheader", map[string][]byte{"a.npy": []byte("\x93NUMPY\x02\x00\xff\xff\xff\xff")},
			`data: PATH: key "a": .npy header claims 4294967295 bytes, want at most 1048576`},
		{"dtype", map[string][]byte{"a.npy": npyBytes("<c8", false, "(1,)", make([]byte, 8))},
			`data: PATH: key "a": unsupported dtype "<c8", want float32, float64, an integer type or bool`},
		{"object", map[string][]byte{"a.npy": npyBytes("|O", false, "(1,)", make([]byte, 8))},
			`data: PATH: key "a": unsupported dtype "|O", want float32, float64, an integer type or bool`},
		{"negative", map[string][]byte{"a.npy": npyBytes("<f4", false, "(-2,)", nil)},
			`data: PATH: key "a": shape [-2] has a negative dimension`},
		{"huge", map[string][]byte{"a.npy": npyBytes("<f4", false, "(100000, 100000)", nil)},
			`data: PATH: key "a": shape [100000 100000] has more than 2147483648 elements`},
		{"truncated", map[string][]byte{"a.npy": npyBytes("<f4", false, "(3, 2)", f32bytes(1, 2, 3))},
			`data: PATH: key "a": shape [3 2] of dtype <f4 needs 24 data bytes, but the entry holds 12`},
		{"long", map[string][]byte{"a.npy": npyBytes("<f4", false, "(1,)", f32bytes(1, 2))},
			`data: PATH: key "a": shape [1] of dtype <f4 needs 4 data bytes, but the entry holds more`},
		{"badshape", map[string][]byte{"a.npy": npyBytes("<f4", false, "(x,)", nil)},
			`data: PATH: key "a": bad .npy header: strconv.Atoi: parsing "x": invalid syntax`},
		{"nodict", map[string][]byte{"a.npy": append([]byte("\x93NUMPY\x01\x00\x04\x00"), "abc\n"...)},
			`data: PATH: key "a": bad .npy header: npy: invalid dictionary format`},
		{"nonewline", map[string][]byte{"a.npy": append([]byte("\x93NUMPY\x01\x00\x04\x00"), "abcd"...)},
			`data: PATH: key "a": bad .npy header: it does not end with a newline`},
		{"shorthdr", map[string][]byte{"a.npy": append([]byte("\x93NUMPY\x01\x00\x40\x00"), "abcd"...)},
			`data: PATH: key "a": truncated .npy header: 4 of 64 bytes: unexpected EOF`},
		{"nobrace", map[string][]byte{"a.npy": append([]byte("\x93NUMPY\x01\x00\x32\x00"), "'descr': '<f4', 'fortran_order': False, 'shape': \n"...)},
			`data: PATH: key "a": bad .npy entry: runtime error: slice bounds out of range [:-3]`},
		{"dup", map[string][]byte{"a.npy": good, "a": good},
			`data: PATH: key "a": appears twice in the archive`},
	} {
		path := filepath.Join(dir, tc.name+".npz")
		if raw, ok := tc.entries[""]; ok {
			os.WriteFile(path, raw, 0o644)
		} else {
			var names []string
			for n := range tc.entries {
				names = append(names, n)
			}
			if len(names) == 2 {
				names = []string{"a.npy", "a"}
			}
			writeZip(t, path, names, tc.entries)
		}
		_, err := ReadNPZ(path)
		want := strings.ReplaceAll(tc.want, "PATH", path)
		if err == nil || err.Error() != want {
			t.Errorf("%s: error\n  %v\nwant\n  %s", tc.name, err, want)
		}
	}
	missing := filepath.Join(dir, "missing.npz")
	if _, err := ReadNPZ(missing); err == nil || err.Error() != "data: open "+missing+": no such file or directory" {
		t.Errorf("missing file: error %v", err)
	}
	if _, err := ReadNPZ(dir); err == nil || err.Error() != "data: "+dir+": is a directory, want an .npz file" {
		t.Errorf("directory: error %v", err)
	}
}
