package models

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/vkneuro/vkneuro/internal/atomicfile"
)

// MetricsFile is a metrics CSV (MetricsHeader, then one row per step)
// streamed to disk as training goes: rows are kept in memory and reach
// the file at least at every checkpoint (Trainer flushes its Metrics
// writer before writing one), whenever a megabyte of them has gathered,
// and at Close, so a crash loses at most the rows after the last
// checkpoint, which a resumed run writes again. Each of those writes is
// of whole rows (every Write must be), in one system call, so a process
// killed at any moment leaves no torn row behind.
type MetricsFile struct {
	path string
	f    *os.File
	buf  []byte
}

// metricsFlushAt is how many bytes of rows are written out without
// waiting for a checkpoint.
const metricsFlushAt = 1 << 20

// CreateMetrics starts the metrics CSV at path afresh (replacing any
// file there) with header (Trainer.MetricsHeader) for a run that starts
// at step 0.
func CreateMetrics(path, header string) (*MetricsFile, error) {
	return OpenMetrics(path, header, 0)
}

// OpenMetrics opens the metrics CSV at path, of header, for a run that
// continues after step done (0: a fresh run). With done > 0 the file must hold the
// rows of steps 1…done in order (perhaps followed by rows of steps a
// crash cut off after the checkpoint, or a torn last line): those are
// kept, the rest removed, and new rows are appended, so after any
// number of interruptions the file holds each step once, in order, as
// an uninterrupted run writes it. The kept part is rewritten atomically.
func OpenMetrics(path, header string, done int) (*MetricsFile, error) {
	keep := []byte(header)
	if done > 0 {
		old, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("metrics %s: resuming after step %d needs the file of the run so far: %w", path, done, err)
		}
		if keep, err = metricsPrefix(old, header, done); err != nil {
			return nil, fmt.Errorf("metrics %s: %w", path, err)
		}
	}
	if err := atomicfile.WriteFile(path, keep, 0o644); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return &MetricsFile{path: path, f: f}, nil
}

// metricsPrefix returns the header and the rows of steps 1…done of a
// metrics CSV.
func metricsPrefix(b []byte, header string, done int) ([]byte, error) {
	if !bytes.HasPrefix(b, []byte(header)) {
		return nil, fmt.Errorf("its first line is not %q: not this run's metrics", strings.TrimSpace(header))
	}
	off := len(header)
	for step := 1; step <= done; step++ {
		nl := bytes.IndexByte(b[off:], '\n')
		if nl < 0 {
			return nil, fmt.Errorf("holds %d complete rows, but the checkpoint is at step %d: it is not this run's metrics", step-1, done)
		}
		row := b[off : off+nl]
		first, _, _ := bytes.Cut(row, []byte{','})
		if n, err := strconv.Atoi(string(first)); err != nil || n != step {
			return nil, fmt.Errorf("row %d is %q, want step %d: it is not this run's metrics", step, row, step)
		}
		off += nl + 1
	}
	return b[:off], nil
}

// Write takes whole rows.
func (m *MetricsFile) Write(p []byte) (int, error) {
	m.buf = append(m.buf, p...)
	if len(m.buf) >= metricsFlushAt {
		if err := m.write(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (m *MetricsFile) write() error {
	if len(m.buf) == 0 {
		return nil
	}
	if _, err := m.f.Write(m.buf); err != nil {
		return fmt.Errorf("metrics %s: %w", m.path, err)
	}
	m.buf = m.buf[:0]
	return nil
}

// Flush writes the rows so far to the file and syncs it.
func (m *MetricsFile) Flush() error {
	if err := m.write(); err != nil {
		return err
	}
	if err := m.f.Sync(); err != nil {
		return fmt.Errorf("metrics %s: %w", m.path, err)
	}
	return nil
}

// Close flushes and closes the file; closing again does nothing.
func (m *MetricsFile) Close() error {
	if m.f == nil {
		return nil
	}
	err := errors.Join(m.Flush(), m.f.Close())
	m.f = nil
	return err
}
