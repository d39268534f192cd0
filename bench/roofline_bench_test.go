package bench

import (
	"fmt"
	"testing"

	"github.com/vkneuro/vkneuro/kernels/cpu"
)

// BenchmarkRoofline profiles the training steps of BenchmarkStep op by
// op on the CPU backend and logs each workload's roofline table
// (Roofline) against this machine's measured FP32 peak and streaming
// bandwidth; the tables in bench/RESULTS.md come from
//
//	go test -run '^$' -bench Roofline -benchtime 20x ./bench/
func BenchmarkRoofline(b *testing.B) {
	be := cpu.New()
	defer be.Close()
	peaks, err := be.MeasurePeak(5)
	if err != nil {
		b.Fatal(err)
	}
	var bws []cpu.Bandwidth
	for _, mb := range []float64{0.25, 1, 4, 16, 32, 64, 256} {
		bw, err := be.MeasureBandwidth(int(mb*(1<<20)), 5)
		if err != nil {
			b.Fatal(err)
		}
		bws = append(bws, bw)
	}
	top := peaks[len(peaks)-1]
	c := Ceilings{GFLOPS: top.GFLOPS, Bandwidth: BandwidthCurve(bws)}
	var head string
	for _, p := range peaks {
		head += fmt.Sprintf("peak %s %.0f GFLOP/s; ", p.Vector, p.GFLOPS)
	}
	for _, bw := range bws {
		head += fmt.Sprintf("%g MB: read %.0f, write %.0f, copy %.0f, update %.0f GB/s; ", float64(bw.Bytes)/(1<<20), bw.Read, bw.Write, bw.Copy, bw.Update)
	}
	// Printed rather than logged: the testing package cuts long logs.
	fmt.Printf("%s on %s: %s\n", be.Name(), be.Device(), head)
	for _, sc := range StepCases {
		b.Run(sc.Name, func(b *testing.B) {
			be.ProfileOps(true)
			m := BenchStep(b, be, sc, false)
			be.ProfileOps(false)
			defer m.Close()
			var step *cpu.Program
			for _, p := range be.Profiled() {
				if st := p.OpStats(); len(st) > 0 && (step == nil || st[0].Runs > step.OpStats()[0].Runs) {
					step = p
				}
			}
			if step == nil {
				b.Fatal("no profiled step Program")
			}
			fmt.Printf("\n%s, %d steps profiled:\n\n%s\n", sc.Name, step.OpStats()[0].Runs, RooflineTable(Roofline(step.OpStats(), c)))
		})
	}
}
