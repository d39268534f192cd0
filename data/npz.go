package data

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/sbinet/npyio/npy"
	"github.com/sbinet/npyio/npz"

	"github.com/vkneuro/vkneuro/internal/atomicfile"
)

// Array is a dense row-major (C-order) float32 array read from or written to
// an .npz file.
type Array struct {
	Shape []int
	Data  []float32
	// DType is the on-disk NumPy dtype the array was read from ("<f4",
	// "<f8", "<i8", ...). ReadNPZ fills it; WriteNPZ ignores it and always
	// writes "<f4". A value other than "<f4" means the data was converted.
	DType string
}

// Len returns the number of elements the shape describes.
func (a *Array) Len() int {
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	return n
}

// Converted reports whether the array was converted to float32 from another
// on-disk dtype when it was read.
func (a *Array) Converted() bool {
	return a.DType != "" && a.DType != "<f4" && a.DType != "=f4"
}

// maxElems bounds the element count a header may claim, so that a corrupt
// header cannot make the reader allocate without limit (2^31 float32 values
// are 8 GiB, far beyond any dataset this package handles).
const maxElems = 1 << 31

// maxHeaderLen bounds the .npy header dictionary length. NumPy writes
// headers of well under 1 KiB; version 2 headers may in principle claim up
// to 4 GiB, which npyio would allocate before parsing.
const maxHeaderLen = 1 << 20

// ReadNPZ reads every array of the .npz archive at path, converting each to
// float32: float32 is kept as is; float64, integer and bool dtypes are
// converted (Array.DType names the on-disk dtype). Fortran-order
// arrays are transposed to C order. Map keys are the entry names without
// the ".npy" suffix, as numpy.load reports them.
//
// ReadNPZ never panics: malformed archives, headers and truncated data are
// reported as errors that name the file and the key.
func ReadNPZ(path string) (arrays map[string]*Array, err error) {
	defer func() {
		if r := recover(); r != nil {
			arrays = nil
			err = fmt.Errorf("data: %s: malformed npz file: %v", path, r)
		}
	}()
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("data: %s: is a directory, want an .npz file", path)
	}
	rz, err := npz.NewReader(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("data: %s: not an npz (zip) archive: %w", path, err)
	}
	arrays = make(map[string]*Array)
	for _, name := range rz.Keys() {
		key := strings.TrimSuffix(name, ".npy")
		if _, dup := arrays[key]; dup {
			return nil, fmt.Errorf("data: %s: key %q: appears twice in the archive", path, key)
		}
		a, err := readEntry(rz, name)
		if err != nil {
			return nil, fmt.Errorf("data: %s: key %q: %w", path, key, err)
		}
		arrays[key] = a
	}
	return arrays, nil
}

// readEntry reads one .npy entry of an npz archive.
func readEntry(rz *npz.Reader, name string) (a *Array, err error) {
	defer func() {
		// npyio indexes into the header without checks; a malformed
		// header becomes an error naming the entry.
		if r := recover(); r != nil {
			a, err = nil, fmt.Errorf("bad .npy entry: %v", r)
		}
	}()
	rc, err := rz.Open(name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()

	// Check the fixed preamble before handing the stream to npyio, so that
	// a corrupt header length cannot trigger a huge allocation there.
	pre := make([]byte, 12)
	n, err := io.ReadFull(rc, pre[:10])
	if err != nil {
		return nil, fmt.Errorf("not a .npy entry: %d-byte preamble, want at least 10 bytes: %w", n, err)
	}
	if !bytes.Equal(pre[:6], npy.Magic[:]) {
		return nil, fmt.Errorf("not a .npy entry: bad magic %q", pre[:6])
	}
	var hdrLen int
	switch pre[6] {
	case 1:
		hdrLen = int(binary.LittleEndian.Uint16(pre[8:10]))
		pre = pre[:10]
	case 2, 3:
		if _, err := io.ReadFull(rc, pre[10:12]); err != nil {
			return nil, fmt.Errorf("truncated .npy preamble: %w", err)
		}
		hdrLen = int(binary.LittleEndian.Uint32(pre[8:12]))
		if pre[6] == 3 {
			// Version 3 only allows UTF-8 in the header; npyio reads
			// version 2 layout, which is identical otherwise.
			pre[6] = 2
		}
	default:
		return nil, fmt.Errorf("unsupported .npy format version %d.%d", pre[6], pre[7])
	}
	if hdrLen > maxHeaderLen {
		return nil, fmt.Errorf(".npy header claims %d bytes, want at most %d", hdrLen, maxHeaderLen)
	}
	hdr := make([]byte, hdrLen)
	if n, err := io.ReadFull(rc, hdr); err != nil {
		return nil, fmt.Errorf("truncated .npy header: %d of %d bytes: %w", n, hdrLen, err)
	}
	if hdrLen == 0 || hdr[hdrLen-1] != '\n' {
		return nil, fmt.Errorf("bad .npy header: it does not end with a newline")
	}
	// npyio consumes exactly the header bytes; the rest of stream is data.
	stream := io.MultiReader(bytes.NewReader(pre), bytes.NewReader(hdr), rc)
	rp, err := npy.NewReader(stream)
	if err != nil {
		return nil, fmt.Errorf("bad .npy header: %w", err)
	}
	h := rp.Header.Descr

	dt, err := parseDType(h.Type)
	if err != nil {
		return nil, err
	}
	shape := append([]int(nil), h.Shape...)
	count := 1
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		if d > 0 && count > maxElems/d {
			return nil, fmt.Errorf("shape %v has more than %d elements", shape, maxElems)
		}
		count *= d
	}
	nbytes := int64(count) * int64(dt.size)

	// Read at most nbytes+1 bytes, growing the buffer as data actually
	// arrives: memory stays bounded by the real entry size even when the
	// header claims a large shape.
	var buf bytes.Buffer
	buf.Grow(int(min(nbytes, 64<<20)) + 1)
	if _, err := buf.ReadFrom(io.LimitReader(stream, nbytes+1)); err != nil {
		return nil, fmt.Errorf("reading %s data of shape %v: %w", h.Type, shape, err)
	}
	if int64(buf.Len()) != nbytes {
		if int64(buf.Len()) > nbytes {
			return nil, fmt.Errorf("shape %v of dtype %s needs %d data bytes, but the entry holds more", shape, h.Type, nbytes)
		}
		return nil, fmt.Errorf("shape %v of dtype %s needs %d data bytes, but the entry holds %d", shape, h.Type, nbytes, buf.Len())
	}
	data := dt.decode(buf.Bytes(), count)
	if h.Fortran && len(shape) > 1 {
		data = fortranToC(data, shape)
	}
	return &Array{Shape: shape, Data: data, DType: h.Type}, nil
}

// dtype is a supported NumPy scalar type.
type dtype struct {
	kind  byte // 'f', 'i', 'u' or 'b'
	size  int
	order binary.ByteOrder
}

// parseDType parses a NumPy dtype string such as "<f4", ">i8" or "|b1".
func parseDType(s string) (dtype, error) {
	bad := fmt.Errorf("unsupported dtype %q, want float32, float64, an integer type or bool", s)
	if len(s) < 3 {
		return dtype{}, bad
	}
	var dt dtype
	switch s[0] {
	case '<', '|', '=':
		dt.order = binary.LittleEndian
	case '>':
		dt.order = binary.BigEndian
	default:
		return dtype{}, bad
	}
	size, err := strconv.Atoi(s[2:])
	if err != nil {
		return dtype{}, bad
	}
	dt.kind, dt.size = s[1], size
	switch {
	case dt.kind == 'f' && (size == 4 || size == 8):
	case (dt.kind == 'i' || dt.kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8):
	case dt.kind == 'b' && size == 1:
	default:
		return dtype{}, bad
	}
	return dt, nil
}

// decode converts n raw elements to float32.
func (dt dtype) decode(raw []byte, n int) []float32 {
	out := make([]float32, n)
	o := dt.order
	switch {
	case dt.kind == 'f' && dt.size == 4:
		for i := range out {
			out[i] = math.Float32frombits(o.Uint32(raw[4*i:]))
		}
	case dt.kind == 'f' && dt.size == 8:
		for i := range out {
			out[i] = float32(math.Float64frombits(o.Uint64(raw[8*i:])))
		}
	case dt.kind == 'b':
		for i := range out {
			if raw[i] != 0 {
				out[i] = 1
			}
		}
	case dt.kind == 'i':
		for i := range out {
			switch dt.size {
			case 1:
				out[i] = float32(int8(raw[i]))
			case 2:
				out[i] = float32(int16(o.Uint16(raw[2*i:])))
			case 4:
				out[i] = float32(int32(o.Uint32(raw[4*i:])))
			case 8:
				out[i] = float32(int64(o.Uint64(raw[8*i:])))
			}
		}
	case dt.kind == 'u':
		for i := range out {
			switch dt.size {
			case 1:
				out[i] = float32(raw[i])
			case 2:
				out[i] = float32(o.Uint16(raw[2*i:]))
			case 4:
				out[i] = float32(o.Uint32(raw[4*i:]))
			case 8:
				out[i] = float32(o.Uint64(raw[8*i:]))
			}
		}
	}
	return out
}

// fortranToC reorders column-major data of the given shape into row-major.
func fortranToC(src []float32, shape []int) []float32 {
	nd := len(shape)
	dst := make([]float32, len(src))
	if len(src) == 0 {
		return dst
	}
	// Column-major strides of the source.
	fs := make([]int, nd)
	s := 1
	for i := 0; i < nd; i++ {
		fs[i] = s
		s *= shape[i]
	}
	idx := make([]int, nd)
	for i := range dst {
		off := 0
		for d := 0; d < nd; d++ {
			off += idx[d] * fs[d]
		}
		dst[i] = src[off]
		// Advance the row-major multi-index.
		for d := nd - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return dst
}

// WriteNPZ writes arrays to path as an uncompressed .npz archive (the
// layout of numpy.savez) of "<f4" C-order arrays, one entry "<key>.npy"
// per key in sorted order. The file is written atomically: to a temporary
// file in the same directory, synced, then renamed over path.
func WriteNPZ(path string, arrays map[string]*Array) error {
	keys := make([]string, 0, len(arrays))
	for k, a := range arrays {
		if k == "" || strings.ContainsAny(k, "\x00/\\") {
			return fmt.Errorf("data: %s: key %q: want a non-empty name without '/', '\\' or NUL", path, k)
		}
		if a == nil {
			return fmt.Errorf("data: %s: key %q: nil array", path, k)
		}
		n := 1
		for _, d := range a.Shape {
			if d < 0 {
				return fmt.Errorf("data: %s: key %q: shape %v has a negative dimension", path, k, a.Shape)
			}
			n *= d
		}
		if n != len(a.Data) {
			return fmt.Errorf("data: %s: key %q: shape %v holds %d elements, but len(Data) = %d", path, k, a.Shape, n, len(a.Data))
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	err := atomicfile.Write(path, 0o644, func(w io.Writer) error {
		zw := zip.NewWriter(w)
		for _, k := range keys {
			ew, err := zw.CreateHeader(&zip.FileHeader{Name: k + ".npy", Method: zip.Store})
			if err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
			if err := writeNPY(ew, arrays[k]); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
		}
		return zw.Close()
	})
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	return nil
}

// writeNPY writes a version 1.0 .npy stream holding a as "<f4".
func writeNPY(w io.Writer, a *Array) error {
	var shape string
	switch len(a.Shape) {
	case 0:
		shape = "()"
	case 1:
		shape = fmt.Sprintf("(%d,)", a.Shape[0])
	default:
		parts := make([]string, len(a.Shape))
		for i, d := range a.Shape {
			parts[i] = strconv.Itoa(d)
		}
		shape = "(" + strings.Join(parts, ", ") + ")"
	}
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shape)
	// NumPy pads the header with spaces and a final newline so that the
	// data starts on a 64-byte boundary.
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	if len(hdr) > math.MaxUint16 {
		return fmt.Errorf("shape %v: .npy header too long", a.Shape)
	}
	pre := make([]byte, 10, 10+len(hdr))
	copy(pre, npy.Magic[:])
	pre[6], pre[7] = 1, 0
	binary.LittleEndian.PutUint16(pre[8:], uint16(len(hdr)))
	pre = append(pre, hdr...)
	if _, err := w.Write(pre); err != nil {
		return err
	}
	const chunk = 1 << 14
	buf := make([]byte, 4*min(chunk, len(a.Data)))
	for i := 0; i < len(a.Data); i += chunk {
		part := a.Data[i:min(i+chunk, len(a.Data))]
		b := buf[:4*len(part)]
		for j, v := range part {
			binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(v))
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}
