package analysis

import (
	"fmt"

	"github.com/vkneuro/vkneuro/kernels"
)

// BackendGEMM returns a GEMM that runs on be (for example the Vulkan
// backend): it uploads the operands, records one MatMul, runs it and
// downloads c. When a and b are the same slice, as in the RDM's Z·Zᵀ,
// it is uploaded once.
func BackendGEMM(be kernels.Backend) GEMM {
	return func(c, a, b []float32, m, n, k int, transB bool) (err error) {
		if err := checkGEMM(c, a, b, m, n, k); err != nil {
			return err
		}
		if m == 0 || n == 0 {
			return nil
		}
		if k == 0 {
			clear(c)
			return nil
		}
		var tensors []*kernels.Tensor
		defer func() {
			for _, t := range tensors {
				be.Free(t)
			}
		}()
		upload := func(x []float32, shape ...int) (*kernels.Tensor, error) {
			t, err := be.NewTensor(shape...)
			if err != nil {
				return nil, err
			}
			tensors = append(tensors, t)
			return t, be.Upload(t, x)
		}
		ta, err := upload(a, m, k)
		if err != nil {
			return fmt.Errorf("analysis: gemm on %s: a: %w", be.Name(), err)
		}
		bShape := []int{k, n}
		if transB {
			bShape = []int{n, k}
		}
		tb := ta
		if len(a) != len(b) || &a[0] != &b[0] || !transB {
			if tb, err = upload(b, bShape...); err != nil {
				return fmt.Errorf("analysis: gemm on %s: b: %w", be.Name(), err)
			}
		}
		tc, err := be.NewTensor(m, n)
		if err != nil {
			return fmt.Errorf("analysis: gemm on %s: c: %w", be.Name(), err)
		}
		tensors = append(tensors, tc)
		if err := kernels.Run1(be, func(p kernels.Program) { p.MatMul(tc, ta, tb, false, transB, 1, 0) }); err != nil {
			return fmt.Errorf("analysis: gemm on %s: %w", be.Name(), err)
		}
		if err := be.Download(tc, c); err != nil {
			return fmt.Errorf("analysis: gemm on %s: download c: %w", be.Name(), err)
		}
		return nil
	}
}
