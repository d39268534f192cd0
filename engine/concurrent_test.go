package engine_test

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/engine/enginetest"
)

// TestConcurrentUse drives one Manager from several goroutines: kernel
// cache, allocation, transfers and runs must not interfere.
func TestConcurrentUse(t *testing.T) {
	m := enginetest.Open(t)
	const workers, n = 4, 5000
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			errs <- func() error {
				k, err := m.Kernel("axpy", mustSPIRV("axpy"), 2, 2, localSize, 1, 1)
				if err != nil {
					return err
				}
				x, err := m.NewBuffer(n)
				if err != nil {
					return err
				}
				defer x.Free()
				y, err := m.NewBuffer(n)
				if err != nil {
					return err
				}
				defer y.Free()
				ones := make([]float32, n)
				for i := range ones {
					ones[i] = 1
				}
				if err := m.Upload(x, ones, 0); err != nil {
					return err
				}
				s, err := m.NewSequence()
				if err != nil {
					return err
				}
				defer s.Close()
				a := float32(w + 1)
				for i := 0; i < 10; i++ {
					if err := s.Dispatch(k, []*engine.Buffer{x, y}, []uint32{n, math.Float32bits(a)}, groups(n), 1, 1); err != nil {
						return err
					}
				}
				for r := 0; r < 3; r++ {
					if err := s.Run(); err != nil {
						return err
					}
				}
				got := make([]float32, n)
				if err := m.Download(y, got, 0); err != nil {
					return err
				}
				for i, v := range got {
					if v != 30*a {
						return fmt.Errorf("worker %d: y[%d] = %v, want %v", w, i, v, 30*a)
					}
				}
				return nil
			}()
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
