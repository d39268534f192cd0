package cpu

// Ops of the extended op set not implemented on this backend yet. Each
// records an error, so a Program that uses one fails clearly. TEMPORARY:
// every method here is being replaced by a real implementation.

import (
	"errors"

	"github.com/vkneuro/vkneuro/kernels"
)

func (p *Program) pending(op string) { p.ok(errors.New("cpu: " + op + ": not implemented yet")) }

func (p *Program) Tanh(y, x *kernels.Tensor)                              { p.pending("Tanh") }
func (p *Program) TanhBackward(dx, dy, y *kernels.Tensor)                 { p.pending("TanhBackward") }
func (p *Program) ELU(y, x *kernels.Tensor, alpha float32)                { p.pending("ELU") }
func (p *Program) ELUBackward(dx, dy, x *kernels.Tensor, alpha float32)   { p.pending("ELUBackward") }
func (p *Program) Softplus(y, x *kernels.Tensor, beta, threshold float32) { p.pending("Softplus") }
func (p *Program) SoftplusBackward(dx, dy, x *kernels.Tensor, beta, threshold float32) {
	p.pending("SoftplusBackward")
}
func (p *Program) Dropout(y, x, state *kernels.Tensor, pr float32, seed uint32) { p.pending("Dropout") }
func (p *Program) DropoutBackward(dx, dy, state *kernels.Tensor, pr float32, seed uint32) {
	p.pending("DropoutBackward")
}
func (p *Program) AvgPool2D(y, x *kernels.Tensor, pp kernels.Pool2DParams) { p.pending("AvgPool2D") }
func (p *Program) AvgPool2DBackward(dx, dy *kernels.Tensor, pp kernels.Pool2DParams) {
	p.pending("AvgPool2DBackward")
}
func (p *Program) BCEWithLogitsLoss(loss, x, target *kernels.Tensor) { p.pending("BCEWithLogitsLoss") }
func (p *Program) BCEWithLogitsBackward(dx, x, target *kernels.Tensor) {
	p.pending("BCEWithLogitsBackward")
}
func (p *Program) PoissonNLLLoss(loss, x, target *kernels.Tensor, logInput bool, eps float32) {
	p.pending("PoissonNLLLoss")
}
func (p *Program) PoissonNLLBackward(dx, x, target *kernels.Tensor, logInput bool, eps float32) {
	p.pending("PoissonNLLBackward")
}
func (p *Program) Adam(param, grad, m, v, state *kernels.Tensor, o kernels.AdamParams) {
	p.pending("Adam")
}
