package bench

import (
	"testing"

	"github.com/vkneuro/vkneuro/kernels/cpu"
)

// TestStepDoesNotAllocate checks that a training step (Model.Step) of
// each workload at the harness's shapes, with the tutorials' settings,
// allocates nothing on the CPU backend once its Program is recorded.
func TestStepDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("the encoder's step at the tutorial's size takes a while")
	}
	be := cpu.New()
	defer be.Close()
	for _, c := range StepCases {
		t.Run(c.Name, func(t *testing.T) {
			m, err := c.Build(be)
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			if err := m.SetHyper(c.Hyper); err != nil {
				t.Fatal(err)
			}
			d := StepData(m, c)
			n := max(c.Batch, 1)
			if c.Batch == 0 {
				n = d.S
			}
			x, tg := d.X[:n*m.InputSize()], d.T[:n*m.TargetSize()]
			if _, err := m.Step(x, tg); err != nil { // records the step
				t.Fatal(err)
			}
			if allocs := testing.AllocsPerRun(3, func() {
				if _, err := m.Step(x, tg); err != nil {
					t.Fatal(err)
				}
			}); allocs != 0 {
				t.Errorf("a training step allocates %v times, want 0", allocs)
			}
		})
	}
}
