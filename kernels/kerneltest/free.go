package kerneltest

import (
	"errors"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/kernels"
)

// testFree checks Backend.Free on a tensor with Reshape views: freeing
// the parent or a view releases the storage they share, so every later
// Upload, Download, recorded op, Program.Write or Program.Read on any of
// them fails with an error that names the op and the tensor used and
// wraps kernels.ErrFreed; freeing again, through any of them, is a no-op;
// other tensors are not affected.
func testFree(t *testing.T, b kernels.Backend) {
	for _, via := range []string{"parent", "view"} {
		t.Run("free the "+via, func(t *testing.T) {
			h := newHarness(t, b, 14000)
			other := h.mut([]float32{1, 2, 3, 4, 5, 6}, 6)
			parent, err := b.NewTensor(2, 3)
			if err != nil {
				t.Fatal(err)
			}
			view, err := parent.Reshape(6)
			if err != nil {
				t.Fatal(err)
			}
			view2, err := view.Reshape(3, 2) // a view of a view
			if err != nil {
				t.Fatal(err)
			}
			h.upload(parent, []float32{1, 2, 3, 4, 5, 6})
			if via == "parent" {
				b.Free(parent)
			} else {
				b.Free(view)
			}
			for _, x := range []*kernels.Tensor{parent, view, view2} {
				want := []string{x.String()}
				freed(t, "Upload", b.Upload(x, make([]float32, 6)), want...)
				freed(t, "Download", b.Download(x, make([]float32, 6)), want...)
				p := b.NewProgram()
				p.Copy(other, x) // Copy needs equal lengths only: all are 6 long
				freed(t, "Copy from "+x.String(), p.Err(), append(want, "Copy")...)
				p.Close()
				p = b.NewProgram()
				p.Copy(x, other)
				freed(t, "Copy into "+x.String(), p.Err(), append(want, "Copy")...)
				p.Close()
				p = b.NewProgram()
				p.Fill(x, 1)
				freed(t, "Fill on "+x.String(), p.Err(), append(want, "Fill")...)
				p.Close()
				p = b.NewProgram()
				p.Write(x, make([]float32, 6))
				freed(t, "Write of "+x.String(), p.Err(), append(want, "Write")...)
				p.Close()
				p = b.NewProgram()
				p.Read(make([]float32, 6), x)
				freed(t, "Read of "+x.String(), p.Err(), append(want, "Read")...)
				p.Close()
			}
			// Freeing again through any of them does nothing.
			b.Free(parent)
			b.Free(view)
			b.Free(view2)
			b.Free(parent)
			// Other tensors, and new ones, still work.
			fresh := h.newTensor(2, 3)
			h.run(func(p kernels.Program) {
				p.Copy(fresh, other)
				p.Fill(other, 2)
			})
			check(t, "a tensor allocated after the Free", h.get(fresh), []float64{1, 2, 3, 4, 5, 6}, 0, 0)
			check(t, "a tensor that was not freed", h.get(other), []float64{2, 2, 2, 2, 2, 2}, 0, 0)
		})
	}
}

// freed checks that err is a use-after-Free error mentioning want.
func freed(t *testing.T, what string, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s after Free: no error", what)
		return
	}
	if !errors.Is(err, kernels.ErrFreed) {
		t.Errorf("%s after Free: error %q does not wrap kernels.ErrFreed", what, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s after Free: error %q does not mention %q", what, err, w)
		}
	}
}
