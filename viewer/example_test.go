//go:build viewer

package viewer_test

import (
	"fmt"
	"log"
	"time"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/viewer"
)

// A training loop with the live viewer: open the Manager with the
// viewer's extensions, show each step (Frame draws at most every
// MinFrameInterval), and on Escape or window close checkpoint and stop.
func Example() {
	opts, err := viewer.Prepare(engine.Options{AllowCPU: true})
	if err != nil {
		log.Fatal(err)
	}
	m, err := engine.Open(opts)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	filters, err := m.NewBuffer(6 * 1 * 7 * 7) // a model's conv weights
	if err != nil {
		log.Fatal(err)
	}
	defer filters.Free()
	v, err := viewer.Open(m, viewer.Options{Title: "training", Screenshot: "live.png"})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close() // before the Manager and the buffers; writes live.png
	var loss []float32
	start := time.Now()
	for step := 1; step <= 100; step++ {
		loss = append(loss, 1/float32(step)) // the training step's loss
		stop, err := v.Frame(viewer.Frame{
			Step: step, Loss: loss, StepsPerSec: float64(step) / time.Since(start).Seconds(),
			Filters: filters, FilterShape: [4]int{6, 1, 7, 7},
		})
		if err != nil {
			log.Fatal(err)
		}
		if stop {
			fmt.Println("window closed: checkpoint and stop")
			break
		}
	}
}
