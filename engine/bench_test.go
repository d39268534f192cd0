package engine_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/engine/enginetest"
)

// BenchmarkSubmit measures the fixed cost of one Run: submit, fence wait,
// with an empty sequence (barriers only) and with one tiny fill.
func BenchmarkSubmit(b *testing.B) {
	m := enginetest.Open(b)
	buf := newBuf(b, m, make([]float32, 1))
	for _, cmds := range []int{0, 1} {
		b.Run(fmt.Sprintf("commands=%d", cmds), func(b *testing.B) {
			s := newSeq(b, m)
			if cmds > 0 {
				if err := s.Fill(buf, 1); err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				if err := s.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDispatch measures the cost per dispatch inside one submit: 100
// tiny axpy dispatches (one work group each) separated by barriers.
func BenchmarkDispatch(b *testing.B) {
	m := enginetest.Open(b)
	const n, dispatches = 64, 100
	x, y := newBuf(b, m, make([]float32, n)), newBuf(b, m, make([]float32, n))
	k := kernel(b, m, "axpy", 2, 2)
	s := newSeq(b, m)
	for i := 0; i < dispatches; i++ {
		if err := s.Dispatch(k, []*engine.Buffer{x, y}, []uint32{n, math.Float32bits(1)}, 1, 1, 1); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if err := s.Run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*dispatches), "µs/dispatch")
}

// BenchmarkIndependentDispatch is BenchmarkDispatch with dispatches
// that do not depend on each other (each writes its own buffer), which
// need no barriers between them: against BenchmarkDispatch it shows what
// the barriers cost per dispatch on the device at hand.
func BenchmarkIndependentDispatch(b *testing.B) {
	m := enginetest.Open(b)
	const n, dispatches = 64, 100
	x := newBuf(b, m, make([]float32, n))
	k := kernel(b, m, "axpy", 2, 2)
	s := newSeq(b, m)
	for i := 0; i < dispatches; i++ {
		y := newBuf(b, m, make([]float32, n))
		if err := s.Dispatch(k, []*engine.Buffer{x, y}, []uint32{n, math.Float32bits(1)}, 1, 1, 1); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if err := s.Run(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*dispatches), "µs/dispatch")
}

// BenchmarkRecord measures recording one dispatch (descriptor set
// allocation and write) without running it.
func BenchmarkRecord(b *testing.B) {
	m := enginetest.Open(b)
	x, y := newBuf(b, m, make([]float32, 64)), newBuf(b, m, make([]float32, 64))
	k := kernel(b, m, "axpy", 2, 2)
	s := newSeq(b, m)
	for b.Loop() {
		if s.Len() == 1000 {
			b.StopTimer()
			s.Close()
			s = newSeq(b, m)
			b.StartTimer()
		}
		if err := s.Dispatch(k, []*engine.Buffer{x, y}, []uint32{64, 0}, 1, 1, 1); err != nil {
			b.Fatal(err)
		}
	}
}

var transferSizes = []int{1 << 10, 256 << 10, 16 << 20} // floats: 4 KiB, 1 MiB, 64 MiB

// BenchmarkUpload measures host→buffer bandwidth (a memcpy into mapped
// memory when Unified, else staging copies and one submit per 32 MiB).
func BenchmarkUpload(b *testing.B) {
	m := enginetest.Open(b)
	for _, n := range transferSizes {
		b.Run(fmt.Sprintf("bytes=%d", 4*n), func(b *testing.B) {
			buf := newBuf(b, m, make([]float32, n))
			src := pattern(n, 1)
			b.SetBytes(int64(4 * n))
			for b.Loop() {
				if err := m.Upload(buf, src, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDownload measures buffer→host bandwidth.
func BenchmarkDownload(b *testing.B) {
	m := enginetest.Open(b)
	for _, n := range transferSizes {
		b.Run(fmt.Sprintf("bytes=%d", 4*n), func(b *testing.B) {
			buf := newBuf(b, m, pattern(n, 1))
			dst := make([]float32, n)
			b.SetBytes(int64(4 * n))
			for b.Loop() {
				if err := m.Download(buf, dst, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAxpy measures a bandwidth-bound kernel: 12 bytes per element.
func BenchmarkAxpy(b *testing.B) {
	m := enginetest.Open(b)
	const n = 1 << 20
	x, y := newBuf(b, m, make([]float32, n)), newBuf(b, m, make([]float32, n))
	k := kernel(b, m, "axpy", 2, 2, 256, 1, 1)
	s := newSeq(b, m)
	if err := s.Dispatch(k, []*engine.Buffer{x, y}, []uint32{n, math.Float32bits(0.5)}, n/256, 1, 1); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(12 * n)
	for b.Loop() {
		if err := s.Run(); err != nil {
			b.Fatal(err)
		}
	}
}
