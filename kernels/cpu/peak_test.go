package cpu_test

import (
	"fmt"
	"testing"

	"github.com/vkneuro/vkneuro/kernels/cpu"
)

// TestMeasurePeak checks that every vector width's loop does its work
// (MeasurePeak checks where its chains end) and reports a rate.
func TestMeasurePeak(t *testing.T) {
	b := cpu.New()
	defer b.Close()
	peaks, err := b.MeasurePeak(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(peaks) == 0 {
		t.Fatal("no peak loops")
	}
	for _, p := range peaks {
		if !(p.GFLOPS > 0) || p.Time <= 0 || p.Vector == "" {
			t.Errorf("peak %+v: want a named loop with a positive time and rate", p)
		}
	}
	if _, err := b.MeasurePeak(0); err == nil {
		t.Error("MeasurePeak(0) returned no error")
	}
}

// BenchmarkPeak reports the FP32 FMA rate of each vector width on all
// threads, the compute ceiling of the roofline (bench/RESULTS.md).
func BenchmarkPeak(b *testing.B) {
	be := cpu.New()
	defer be.Close()
	for b.Loop() {
		peaks, err := be.MeasurePeak(3)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range peaks {
			b.ReportMetric(p.GFLOPS, "GFLOP/s-"+p.Vector)
		}
	}
}

// BenchmarkBandwidth reports streaming read, write, copy and
// optimizer-update rates over working sets from L2-sized to far past the
// last-level cache: the memory ceilings of the roofline.
func BenchmarkBandwidth(b *testing.B) {
	be := cpu.New()
	defer be.Close()
	for _, mb := range []float64{0.25, 1, 4, 16, 24, 32, 64, 256} {
		b.Run(fmt.Sprintf("set=%gMB", mb), func(b *testing.B) {
			for b.Loop() {
				bw, err := be.MeasureBandwidth(int(mb*(1<<20)), 5)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(bw.Read, "read-GB/s")
				b.ReportMetric(bw.Write, "write-GB/s")
				b.ReportMetric(bw.Copy, "copy-GB/s")
				b.ReportMetric(bw.Update, "update-GB/s")
			}
		})
	}
}
