package models

import (
	"fmt"
	"strings"

	"github.com/vkneuro/vkneuro/kernels"
)

// A Layer is one module of a feed-forward network, as the PyTorch
// constructor of the same name configures it: settings, not tensors.
// New turns a list of Layers into a Model on a backend, the way
// nn.Sequential chains modules. Shapes are per sample (no batch axis):
// [C, H, W] for images, [F] for feature vectors.
//
// Each layer kind is one type below holding its shape rule, its forward
// ops and its backward ops side by side.
type Layer interface {
	// String is the PyTorch constructor call that builds the same
	// module, e.g. "Conv2d(1, 6, kernel_size=(7, 7), padding=(3, 3))";
	// ParseArch reads it back.
	String() string

	// plan checks the per-sample input shape and returns the output
	// shape, the parameters the module owns and the per-sample shapes of
	// tensors its forward keeps for its backward.
	plan(in []int) (p plan, err error)
	// forward records y from x (and c.saved).
	forward(c *opCtx)
	// backward records the parameter gradients (c.params[i].Grad) and,
	// when c.dx is not nil, the input gradient, from c.dy.
	backward(c *opCtx)
}

// plan is what a layer needs for one input shape.
type plan struct {
	out    []int
	params []paramSpec
	saved  [][]int
	// view means the output is the input's storage seen with another
	// shape (Flatten; Dropout outside training): no forward op, and the
	// backward passes the gradient through the same storage.
	view bool
}

// paramSpec is a parameter a module owns: "weight" or "bias" and its shape.
type paramSpec struct {
	suffix string
	shape  []int
	fanIn  int // for PyTorch's default initialisation
}

// opCtx is what a layer's forward or backward records with.
type opCtx struct {
	p      kernels.Program
	n      int // batch size
	x, y   *kernels.Tensor
	dx, dy *kernels.Tensor // dx nil when nothing upstream needs it
	params []*Param
	saved  []*kernels.Tensor
	train  bool
	state  *kernels.Tensor // step state (kernels.FillStepState)
	seed   uint32          // this module's dropout stream
	// upd, in a training step's backward, records parameter updates
	// fused with the gradient they take (nil elsewhere: the gradient
	// goes to Param.Grad).
	upd *updates
}

// viewAs reshapes t; the shapes come from the layers' plans, so a
// failure is a bug in a plan, not bad input.
func viewAs(t *kernels.Tensor, shape ...int) *kernels.Tensor {
	v, err := t.Reshape(shape...)
	if err != nil {
		panic(allocError{err})
	}
	return v
}

// rows views t [n, ..., last] as a matrix [n·..., last].
func rows(t *kernels.Tensor, last int) *kernels.Tensor {
	return viewAs(t, t.Len()/last, last)
}

// pair is a (height, width) size, like PyTorch's _pair.
type pair = [2]int

// Square is the pair (k, k), for square kernels, strides and paddings.
func Square(k int) [2]int { return [2]int{k, k} }

func (p2 pair2) String() string { return fmt.Sprintf("(%d, %d)", p2[0], p2[1]) }

type pair2 [2]int

// shapeText writes a per-sample shape as PyTorch prints one, e.g. [16, 6, 8].
func shapeText(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// product writes a feature count with its factors, e.g. 768 = 16×6×8.
func product(s []int) string {
	n := kernels.Numel(s)
	if len(s) < 2 {
		return fmt.Sprint(n)
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return fmt.Sprintf("%d = %s", n, strings.Join(parts, "×"))
}

func needImage(in []int) error {
	if len(in) != 3 {
		return fmt.Errorf("needs an image input [C, H, W], got %s", shapeText(in))
	}
	return nil
}

// Conv2d is nn.Conv2d(In, Out, Kernel, stride=Stride, padding=Padding,
// bias=!NoBias) with zero padding. A zero Stride means 1.
type Conv2d struct {
	In, Out int
	Kernel  [2]int // (height, width); Square(k) for k×k
	Stride  [2]int
	Padding [2]int
	NoBias  bool
}

func (l Conv2d) stride() [2]int {
	s := l.Stride
	for i := range s {
		if s[i] == 0 {
			s[i] = 1
		}
	}
	return s
}

func (l Conv2d) params() kernels.Conv2DParams {
	s := l.stride()
	return kernels.Conv2DParams{StrideH: s[0], StrideW: s[1], PadH: l.Padding[0], PadW: l.Padding[1]}
}

func (l Conv2d) String() string {
	s := fmt.Sprintf("Conv2d(%d, %d, kernel_size=%s", l.In, l.Out, pair2(l.Kernel))
	if st := l.stride(); st != [2]int{1, 1} {
		s += ", stride=" + pair2(st).String()
	}
	if l.Padding != [2]int{} {
		s += ", padding=" + pair2(l.Padding).String()
	}
	if l.NoBias {
		s += ", bias=False"
	}
	return s + ")"
}

func (l Conv2d) plan(in []int) (plan, error) {
	if l.In < 1 || l.Out < 1 || l.Kernel[0] < 1 || l.Kernel[1] < 1 {
		return plan{}, fmt.Errorf("channels and kernel size must be positive")
	}
	st := l.stride()
	if st[0] < 1 || st[1] < 1 || l.Padding[0] < 0 || l.Padding[1] < 0 {
		return plan{}, fmt.Errorf("stride must be positive and padding non-negative")
	}
	if err := needImage(in); err != nil {
		return plan{}, err
	}
	if in[0] != l.In {
		return plan{}, fmt.Errorf("gets %d input channels (input %s), but in_channels is %d", in[0], shapeText(in), l.In)
	}
	h, w := in[1]+2*l.Padding[0], in[2]+2*l.Padding[1]
	if l.Kernel[0] > h || l.Kernel[1] > w {
		return plan{}, fmt.Errorf("kernel %d×%d is larger than the padded input %d×%d (input %s)", l.Kernel[0], l.Kernel[1], h, w, shapeText(in))
	}
	fan := l.In * l.Kernel[0] * l.Kernel[1]
	p := plan{out: []int{l.Out, (h-l.Kernel[0])/st[0] + 1, (w-l.Kernel[1])/st[1] + 1},
		params: []paramSpec{{"weight", []int{l.Out, l.In, l.Kernel[0], l.Kernel[1]}, fan}}}
	if !l.NoBias {
		p.params = append(p.params, paramSpec{"bias", []int{l.Out}, fan})
	}
	return p, nil
}

func (l Conv2d) bias(ps []*Param) *Param {
	if l.NoBias {
		return nil
	}
	return ps[1]
}

func (l Conv2d) forward(c *opCtx) {
	var b *kernels.Tensor
	if bp := l.bias(c.params); bp != nil {
		b = bp.Value
	}
	c.p.Conv2D(c.y, c.x, c.params[0].Value, b, l.params())
}

func (l Conv2d) backward(c *opCtx) {
	var db *kernels.Tensor
	if bp := l.bias(c.params); bp != nil {
		db = bp.Grad
	}
	c.p.Conv2DBackwardWeight(c.params[0].Grad, db, c.dy, c.x, l.params())
	if c.dx != nil {
		c.p.Conv2DBackwardInput(c.dx, c.dy, c.params[0].Value, l.params())
	}
}

// Linear is nn.Linear(In, Out, bias=!NoBias): y = x·Wᵀ + b over the last
// axis of its input, as PyTorch applies it.
type Linear struct {
	In, Out int
	NoBias  bool
}

func (l Linear) String() string {
	if l.NoBias {
		return fmt.Sprintf("Linear(%d, %d, bias=False)", l.In, l.Out)
	}
	return fmt.Sprintf("Linear(%d, %d)", l.In, l.Out)
}

func (l Linear) plan(in []int) (plan, error) {
	if l.In < 1 || l.Out < 1 {
		return plan{}, fmt.Errorf("in_features and out_features must be positive")
	}
	if len(in) == 0 || in[len(in)-1] != l.In {
		last := 0
		if len(in) > 0 {
			last = in[len(in)-1]
		}
		if len(in) > 1 && kernels.Numel(in) == l.In {
			return plan{}, fmt.Errorf("gets input %s, whose last axis has %d features; flattened it has %s, which in_features %d matches: add Flatten() before it", shapeText(in), last, product(in), l.In)
		}
		if len(in) > 1 {
			return plan{}, fmt.Errorf("gets input %s, whose last axis has %d features (%s in all), but in_features is %d", shapeText(in), last, product(in), l.In)
		}
		return plan{}, fmt.Errorf("gets %d input features, but in_features is %d", last, l.In)
	}
	out := append(append([]int(nil), in[:len(in)-1]...), l.Out)
	p := plan{out: out, params: []paramSpec{{"weight", []int{l.Out, l.In}, l.In}}}
	if !l.NoBias {
		p.params = append(p.params, paramSpec{"bias", []int{l.Out}, l.In})
	}
	return p, nil
}

func (l Linear) forward(c *opCtx) {
	y := rows(c.y, l.Out)
	c.p.MatMul(y, rows(c.x, l.In), c.params[0].Value, false, true, 1, 0)
	if !l.NoBias {
		c.p.AddBias(y, c.params[1].Value)
	}
}

func (l Linear) backward(c *opCtx) {
	dy, w := rows(c.dy, l.Out), c.params[0]
	// dx first: it needs the weight before a fused update changes it.
	if c.dx != nil {
		c.p.MatMul(rows(c.dx, l.In), dy, w.Value, false, false, 1, 0)
	}
	if c.upd != nil {
		c.upd.linearWeight(w, dy, rows(c.x, l.In))
	} else {
		c.p.MatMul(w.Grad, dy, rows(c.x, l.In), true, false, 1, 0)
	}
	if !l.NoBias {
		c.p.BiasGrad(c.params[1].Grad, dy)
	}
}

// poolPlan is the shape rule of MaxPool2d and AvgPool2d (no padding,
// floor mode).
func poolPlan(kernel, stride [2]int, in []int) (plan, kernels.Pool2DParams, error) {
	pp := kernels.Pool2DParams{KernelH: kernel[0], KernelW: kernel[1], StrideH: stride[0], StrideW: stride[1]}
	if kernel[0] < 1 || kernel[1] < 1 || stride[0] < 0 || stride[1] < 0 {
		return plan{}, pp, fmt.Errorf("kernel size must be positive and stride non-negative")
	}
	if err := needImage(in); err != nil {
		return plan{}, pp, err
	}
	if in[1] < kernel[0] || in[2] < kernel[1] {
		return plan{}, pp, fmt.Errorf("window %d×%d is larger than the input %s", kernel[0], kernel[1], shapeText(in))
	}
	sh, sw := stride[0], stride[1]
	if sh == 0 {
		sh = kernel[0]
	}
	if sw == 0 {
		sw = kernel[1]
	}
	return plan{out: []int{in[0], (in[1]-kernel[0])/sh + 1, (in[2]-kernel[1])/sw + 1}}, pp, nil
}

func poolString(name string, kernel, stride [2]int) string {
	k := fmt.Sprint(kernel[0])
	if kernel[0] != kernel[1] {
		k = pair2(kernel).String()
	}
	if stride == [2]int{} || stride == kernel {
		return fmt.Sprintf("%s(%s)", name, k)
	}
	return fmt.Sprintf("%s(%s, stride=%s)", name, k, pair2(stride))
}

// MaxPool2d is nn.MaxPool2d(Kernel, stride=Stride): no padding, floor
// mode. A zero Stride means the kernel size, as stride=None does.
type MaxPool2d struct {
	Kernel, Stride [2]int
}

func (l MaxPool2d) String() string { return poolString("MaxPool2d", l.Kernel, l.Stride) }

func (l MaxPool2d) pool() kernels.Pool2DParams {
	return kernels.Pool2DParams{KernelH: l.Kernel[0], KernelW: l.Kernel[1], StrideH: l.Stride[0], StrideW: l.Stride[1]}
}

func (l MaxPool2d) plan(in []int) (plan, error) {
	p, _, err := poolPlan(l.Kernel, l.Stride, in)
	p.saved = [][]int{p.out} // the arg-max indices
	return p, err
}

func (l MaxPool2d) forward(c *opCtx) { c.p.MaxPool2D(c.y, c.saved[0], c.x, l.pool()) }

func (l MaxPool2d) backward(c *opCtx) { c.p.MaxPool2DBackward(c.dx, c.dy, c.saved[0], l.pool()) }

// AvgPool2d is nn.AvgPool2d(Kernel, stride=Stride): no padding, floor
// mode, the mean over each window. A zero Stride means the kernel size.
type AvgPool2d struct {
	Kernel, Stride [2]int
}

func (l AvgPool2d) String() string { return poolString("AvgPool2d", l.Kernel, l.Stride) }

func (l AvgPool2d) pool() kernels.Pool2DParams {
	return kernels.Pool2DParams{KernelH: l.Kernel[0], KernelW: l.Kernel[1], StrideH: l.Stride[0], StrideW: l.Stride[1]}
}

func (l AvgPool2d) plan(in []int) (plan, error) {
	p, _, err := poolPlan(l.Kernel, l.Stride, in)
	return p, err
}

func (l AvgPool2d) forward(c *opCtx) { c.p.AvgPool2D(c.y, c.x, l.pool()) }

func (l AvgPool2d) backward(c *opCtx) { c.p.AvgPool2DBackward(c.dx, c.dy, l.pool()) }

// Flatten is nn.Flatten(): every per-sample axis into one, [C, H, W] →
// [C·H·W]. It moves no data.
type Flatten struct{}

func (Flatten) String() string { return "Flatten()" }

func (Flatten) plan(in []int) (plan, error) {
	return plan{out: []int{kernels.Numel(in)}, view: true}, nil
}

func (Flatten) forward(*opCtx)  {}
func (Flatten) backward(*opCtx) {}

// ReLU is nn.ReLU().
type ReLU struct{}

func (ReLU) String() string                 { return "ReLU()" }
func (ReLU) plan(in []int) (plan, error)    { return same(in), nil }
func (ReLU) forward(c *opCtx)               { c.p.ReLU(c.y, c.x) }
func (ReLU) backward(c *opCtx)              { c.p.ReLUBackward(c.dx, c.dy, c.y) }
func same(in []int) plan                    { return plan{out: append([]int(nil), in...)} }
func (Sigmoid) plan(in []int) (plan, error) { return same(in), nil }
func (Tanh) plan(in []int) (plan, error)    { return same(in), nil }

// Sigmoid is nn.Sigmoid().
type Sigmoid struct{}

func (Sigmoid) String() string    { return "Sigmoid()" }
func (Sigmoid) forward(c *opCtx)  { c.p.Sigmoid(c.y, c.x) }
func (Sigmoid) backward(c *opCtx) { c.p.SigmoidBackward(c.dx, c.dy, c.y) }

// Tanh is nn.Tanh().
type Tanh struct{}

func (Tanh) String() string    { return "Tanh()" }
func (Tanh) forward(c *opCtx)  { c.p.Tanh(c.y, c.x) }
func (Tanh) backward(c *opCtx) { c.p.TanhBackward(c.dx, c.dy, c.y) }

// ELU is nn.ELU(alpha=Alpha): x for x > 0, Alpha·(exp(x) − 1) otherwise.
// PyTorch's default is Alpha 1.
type ELU struct{ Alpha float64 }

func (l ELU) String() string            { return fmt.Sprintf("ELU(alpha=%s)", pyFloat(l.Alpha)) }
func (ELU) plan(in []int) (plan, error) { return same(in), nil }
func (l ELU) forward(c *opCtx)          { c.p.ELU(c.y, c.x, float32(l.Alpha)) }
func (l ELU) backward(c *opCtx)         { c.p.ELUBackward(c.dx, c.dy, c.x, float32(l.Alpha)) }

// Softplus is nn.Softplus(beta=Beta, threshold=Threshold):
// log(1 + exp(Beta·x))/Beta, and x itself where Beta·x > Threshold.
// PyTorch's defaults are Beta 1, Threshold 20.
type Softplus struct{ Beta, Threshold float64 }

func (l Softplus) String() string {
	return fmt.Sprintf("Softplus(beta=%s, threshold=%s)", pyFloat(l.Beta), pyFloat(l.Threshold))
}

func (l Softplus) plan(in []int) (plan, error) {
	if !(l.Beta > 0) {
		return plan{}, fmt.Errorf("beta must be positive, got %v", l.Beta)
	}
	return same(in), nil
}

func (l Softplus) forward(c *opCtx) {
	c.p.Softplus(c.y, c.x, float32(l.Beta), float32(l.Threshold))
}

func (l Softplus) backward(c *opCtx) {
	c.p.SoftplusBackward(c.dx, c.dy, c.x, float32(l.Beta), float32(l.Threshold))
}

// softmaxDim resolves a module's dim over the batched tensor (rank
// len(in)+1), negative dims counting from the end.
func softmaxDim(dim int, in []int) (int, error) {
	r := len(in) + 1
	d := dim
	if d < 0 {
		d += r
	}
	if d < 0 || d >= r {
		return 0, fmt.Errorf("dim %d is out of range for the batched input [N, %s] of rank %d", dim, strings.Trim(shapeText(in), "[]"), r)
	}
	return d, nil
}

// LogSoftmax is nn.LogSoftmax(dim=Dim), Dim counted over the batched
// tensor (dim=1 is the features of [N, F]).
type LogSoftmax struct{ Dim int }

func (l LogSoftmax) String() string { return fmt.Sprintf("LogSoftmax(dim=%d)", l.Dim) }

func (l LogSoftmax) plan(in []int) (plan, error) {
	_, err := softmaxDim(l.Dim, in)
	return same(in), err
}

func (l LogSoftmax) forward(c *opCtx) { c.p.Softmax(c.y, c.x, l.Dim, true) }
func (l LogSoftmax) backward(c *opCtx) {
	c.p.SoftmaxBackward(c.dx, c.dy, c.y, l.Dim, true)
}

// Softmax is nn.Softmax(dim=Dim), Dim counted over the batched tensor.
type Softmax struct{ Dim int }

func (l Softmax) String() string { return fmt.Sprintf("Softmax(dim=%d)", l.Dim) }

func (l Softmax) plan(in []int) (plan, error) {
	_, err := softmaxDim(l.Dim, in)
	return same(in), err
}

func (l Softmax) forward(c *opCtx)  { c.p.Softmax(c.y, c.x, l.Dim, false) }
func (l Softmax) backward(c *opCtx) { c.p.SoftmaxBackward(c.dx, c.dy, c.y, l.Dim, false) }

// Dropout is nn.Dropout(p=P): in training, each element is zeroed with
// probability P and the others scaled by 1/(1 − P); in evaluation it is
// the identity. The masks come from the model's dropout seed, the
// module's index and the optimizer step (kernels.DropoutKeep), so they
// are the same on every backend and in a resumed run, but not torch's.
// PyTorch's default is P 0.5.
type Dropout struct{ P float64 }

func (l Dropout) String() string { return fmt.Sprintf("Dropout(p=%s)", pyFloat(l.P)) }

func (l Dropout) plan(in []int) (plan, error) {
	if l.P < 0 || l.P > 1 {
		return plan{}, fmt.Errorf("dropout probability has to be between 0 and 1, but got %v", l.P)
	}
	return same(in), nil
}

// viewIn reports whether the module is the identity in this mode.
func (l Dropout) viewIn(train bool) bool { return !train || l.P == 0 }

func (l Dropout) forward(c *opCtx) { c.p.Dropout(c.y, c.x, c.state, float32(l.P), c.seed) }
func (l Dropout) backward(c *opCtx) {
	c.p.DropoutBackward(c.dx, c.dy, c.state, float32(l.P), c.seed)
}

// pyFloat writes v as Python writes a float literal (1.0, 0.5, 1e-08).
func pyFloat(v float64) string {
	s := fmt.Sprint(v)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0"
	}
	return s
}

// Named gives a module a name of its own instead of its index, as the
// attributes of a PyTorch module do (self.conv = nn.Conv2d(...)): its
// parameters are saved as "<name>.weight" and Hidden and Activation
// take that name.
func Named(name string, l Layer) Layer { return named{name: name, Layer: l} }

// Functional marks an op that is not a module, as torch.relu(x) inside a
// forward(): it has no name, owns no parameters and is not a hook point
// for Hidden, and it does not take an index, so the modules after it
// keep PyTorch's numbering.
func Functional(l Layer) Layer { return named{functional: true, Layer: l} }

type named struct {
	name       string
	functional bool
	Layer
}
