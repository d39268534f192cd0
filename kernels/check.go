package kernels

import (
	"errors"
	"fmt"
	"math"
)

// The checks below are shared by every backend so that a bad op gets the
// same error wherever it is recorded. Each returns the geometry the
// backend needs to launch the op.

// MatMulDims checks c = op(a)·op(b) and returns m, n, k with op(a) m×k,
// op(b) k×n and c m×n.
func MatMulDims(c, a, b *Tensor, transA, transB bool) (m, n, k int, err error) {
	if err := rank("MatMul", "a", a, 2); err != nil {
		return 0, 0, 0, err
	}
	if err := rank("MatMul", "b", b, 2); err != nil {
		return 0, 0, 0, err
	}
	if err := rank("MatMul", "c", c, 2); err != nil {
		return 0, 0, 0, err
	}
	m, k = a.Shape[0], a.Shape[1]
	if transA {
		m, k = k, m
	}
	kb, n := b.Shape[0], b.Shape[1]
	if transB {
		kb, n = n, kb
	}
	if k != kb || c.Shape[0] != m || c.Shape[1] != n {
		return 0, 0, 0, fmt.Errorf("kernels: MatMul: op(a) %s (transA=%v) · op(b) %s (transB=%v) does not give c %s", a, transA, b, transB, c)
	}
	if m == 0 || n == 0 || k == 0 {
		return 0, 0, 0, fmt.Errorf("kernels: MatMul: zero-sized dimension in a %s, b %s, c %s", a, b, c)
	}
	return m, n, k, nil
}

// ConvGeom is the geometry of a 2-D convolution.
type ConvGeom struct {
	N, C, H, W       int // input
	O, KH, KW        int // weights
	Ho, Wo           int // output
	StrideH, StrideW int
	PadH, PadW       int
}

// FLOPs is the multiply-add count ×2 of the forward pass.
func (g ConvGeom) FLOPs() float64 {
	return 2 * float64(g.N) * float64(g.O) * float64(g.Ho) * float64(g.Wo) * float64(g.C) * float64(g.KH) * float64(g.KW)
}

// ConvGeometry checks x [N,C,H,W], w [O,C,KH,KW] and bias [O] (may be nil)
// and computes the output size.
func ConvGeometry(op string, x, w, bias *Tensor, p Conv2DParams) (ConvGeom, error) {
	var g ConvGeom
	if err := rank(op, "x", x, 4); err != nil {
		return g, err
	}
	if err := rank(op, "w", w, 4); err != nil {
		return g, err
	}
	g.N, g.C, g.H, g.W = x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	g.O, g.KH, g.KW = w.Shape[0], w.Shape[2], w.Shape[3]
	if w.Shape[1] != g.C {
		return g, fmt.Errorf("kernels: %s: w %s has %d input channels, x %s has %d", op, w, w.Shape[1], x, g.C)
	}
	g.StrideH, g.StrideW, g.PadH, g.PadW = p.StrideH, p.StrideW, p.PadH, p.PadW
	if g.StrideH == 0 {
		g.StrideH = 1
	}
	if g.StrideW == 0 {
		g.StrideW = 1
	}
	if g.StrideH < 0 || g.StrideW < 0 || g.PadH < 0 || g.PadW < 0 {
		return g, fmt.Errorf("kernels: %s: negative stride or padding %+v", op, p)
	}
	if Numel(x.Shape) == 0 || Numel(w.Shape) == 0 {
		return g, fmt.Errorf("kernels: %s: zero-sized dimension in x %s or w %s", op, x, w)
	}
	if g.KH > g.H+2*g.PadH || g.KW > g.W+2*g.PadW {
		return g, fmt.Errorf("kernels: %s: kernel %dx%d is larger than the padded input %dx%d (x %s, padding %d,%d)", op, g.KH, g.KW, g.H+2*g.PadH, g.W+2*g.PadW, x, g.PadH, g.PadW)
	}
	g.Ho = (g.H+2*g.PadH-g.KH)/g.StrideH + 1
	g.Wo = (g.W+2*g.PadW-g.KW)/g.StrideW + 1
	if bias != nil && (len(bias.Shape) != 1 || bias.Shape[0] != g.O) {
		return g, fmt.Errorf("kernels: %s: bias %s, want [%d]", op, bias, g.O)
	}
	return g, nil
}

// CheckConvOut checks that y has the convolution's output shape.
func CheckConvOut(op, name string, y *Tensor, g ConvGeom) error {
	return shapeIs(op, name, y, g.N, g.O, g.Ho, g.Wo)
}

// PoolGeom is the geometry of a 2-D max pool.
type PoolGeom struct {
	N, C, H, W       int
	KH, KW           int
	StrideH, StrideW int
	Ho, Wo           int
}

// PoolGeometry checks x [N,C,H,W] against p and computes the output size.
func PoolGeometry(op string, x *Tensor, p Pool2DParams) (PoolGeom, error) {
	var g PoolGeom
	if err := rank(op, "x", x, 4); err != nil {
		return g, err
	}
	g.N, g.C, g.H, g.W = x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	g.KH, g.KW, g.StrideH, g.StrideW = p.KernelH, p.KernelW, p.StrideH, p.StrideW
	if g.StrideH == 0 {
		g.StrideH = g.KH
	}
	if g.StrideW == 0 {
		g.StrideW = g.KW
	}
	if g.KH <= 0 || g.KW <= 0 || g.StrideH <= 0 || g.StrideW <= 0 {
		return g, fmt.Errorf("kernels: %s: kernel and stride must be positive, got %+v", op, p)
	}
	if Numel(x.Shape) == 0 {
		return g, fmt.Errorf("kernels: %s: zero-sized dimension in x %s", op, x)
	}
	if g.KH > g.H || g.KW > g.W {
		return g, fmt.Errorf("kernels: %s: kernel %dx%d is larger than the input %dx%d (x %s)", op, g.KH, g.KW, g.H, g.W, x)
	}
	g.Ho = (g.H-g.KH)/g.StrideH + 1
	g.Wo = (g.W-g.KW)/g.StrideW + 1
	return g, nil
}

// CheckPoolOut checks that t has the pool's output shape.
func CheckPoolOut(op, name string, t *Tensor, g PoolGeom) error {
	return shapeIs(op, name, t, g.N, g.C, g.Ho, g.Wo)
}

// AxisDims splits shape around axis dim into outer·n·inner, the loop
// structure of softmax along dim.
func AxisDims(op string, x *Tensor, dim int) (outer, n, inner int, err error) {
	if x == nil {
		return 0, 0, 0, fmt.Errorf("kernels: %s: nil tensor", op)
	}
	if dim < 0 {
		dim += len(x.Shape)
	}
	if dim < 0 || dim >= len(x.Shape) {
		return 0, 0, 0, fmt.Errorf("kernels: %s: dim %d out of range for %s", op, dim, x)
	}
	if x.Len() == 0 {
		return 0, 0, 0, fmt.Errorf("kernels: %s: zero-sized dimension in %s", op, x)
	}
	outer, inner = 1, 1
	for i, d := range x.Shape {
		switch {
		case i < dim:
			outer *= d
		case i > dim:
			inner *= d
		}
	}
	return outer, x.Shape[dim], inner, nil
}

// SameShape checks that every tensor has the shape of the first.
func SameShape(op string, ts ...*Tensor) error {
	for i, t := range ts {
		if t == nil {
			return fmt.Errorf("kernels: %s: operand %d is nil", op, i)
		}
		if t.Len() == 0 {
			return fmt.Errorf("kernels: %s: zero-sized operand %s", op, t)
		}
		if i > 0 && !equalShape(t.Shape, ts[0].Shape) {
			return fmt.Errorf("kernels: %s: operand %d has shape %s, want %s like operand 0", op, i, t, ts[0])
		}
	}
	return nil
}

// SameLen checks that every tensor has the length of the first (Copy,
// elementwise ops on views).
func SameLen(op string, ts ...*Tensor) error {
	for i, t := range ts {
		if t == nil {
			return fmt.Errorf("kernels: %s: operand %d is nil", op, i)
		}
		if t.Len() == 0 {
			return fmt.Errorf("kernels: %s: zero-sized operand %s", op, t)
		}
		if i > 0 && t.Len() != ts[0].Len() {
			return fmt.Errorf("kernels: %s: operand %d %s has %d elements, want %d like operand 0 %s", op, i, t, t.Len(), ts[0].Len(), ts[0])
		}
	}
	return nil
}

// BiasDims checks x [N, F, ...] against bias [F] and returns outer (N),
// F and inner (product of the axes after 1).
func BiasDims(op string, x, bias *Tensor) (outer, f, inner int, err error) {
	if x == nil || bias == nil {
		return 0, 0, 0, fmt.Errorf("kernels: %s: nil tensor", op)
	}
	if len(x.Shape) < 2 {
		return 0, 0, 0, fmt.Errorf("kernels: %s: x %s must have at least 2 axes [N, F, ...]", op, x)
	}
	if len(bias.Shape) != 1 || bias.Shape[0] != x.Shape[1] {
		return 0, 0, 0, fmt.Errorf("kernels: %s: bias %s, want [%d] to match axis 1 of %s", op, bias, x.Shape[1], x)
	}
	if x.Len() == 0 {
		return 0, 0, 0, fmt.Errorf("kernels: %s: zero-sized x %s", op, x)
	}
	return x.Shape[0], x.Shape[1], x.Len() / (x.Shape[0] * x.Shape[1]), nil
}

// NLLDims checks logp [N, C], target [N] (or [N,1]) and returns N, C.
func NLLDims(op string, logp, target *Tensor) (n, c int, err error) {
	if err := rank(op, "logp", logp, 2); err != nil {
		return 0, 0, err
	}
	n, c = logp.Shape[0], logp.Shape[1]
	if target == nil || target.Len() != n || (len(target.Shape) != 1 && !(len(target.Shape) == 2 && target.Shape[1] == 1)) {
		return 0, 0, fmt.Errorf("kernels: %s: target %s, want [%d] class indices for logp %s", op, target, n, logp)
	}
	if n == 0 || c == 0 {
		return 0, 0, fmt.Errorf("kernels: %s: zero-sized logp %s", op, logp)
	}
	return n, c, nil
}

// Scalar checks that t has exactly one element (losses, sums).
func Scalar(op, name string, t *Tensor) error {
	if t == nil || t.Len() != 1 {
		return fmt.Errorf("kernels: %s: %s %s must have exactly 1 element", op, name, t)
	}
	return nil
}

func rank(op, name string, t *Tensor, r int) error {
	if t == nil {
		return fmt.Errorf("kernels: %s: %s is nil", op, name)
	}
	if len(t.Shape) != r {
		return fmt.Errorf("kernels: %s: %s %s has rank %d, want %d", op, name, t, len(t.Shape), r)
	}
	return nil
}

func shapeIs(op, name string, t *Tensor, want ...int) error {
	if t == nil || !equalShape(t.Shape, want) {
		return fmt.Errorf("kernels: %s: %s %s, want %s", op, name, t, (&Tensor{Shape: want}).String())
	}
	return nil
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ShapeIs checks that t has exactly the shape want.
func ShapeIs(op, name string, t *Tensor, want ...int) error { return shapeIs(op, name, t, want...) }

// HostLen checks that the host slice of Program.Read (dst) or
// Program.Write (src) has exactly t's length.
func HostLen(op, name string, v []float32, t *Tensor) error {
	if t == nil {
		return fmt.Errorf("kernels: %s: t is nil", op)
	}
	if len(v) != t.Len() {
		return fmt.Errorf("kernels: %s: %s has %d elements, t %s has %d", op, name, len(v), t, t.Len())
	}
	return nil
}

// WriteFirst is the error of a Program.Write recorded after an op.
func WriteFirst(backend string) error {
	return fmt.Errorf("%s: Write: record Writes before the first op", backend)
}

// StepStateShape checks a step-state tensor: StepStateLen elements.
func StepStateShape(op string, state *Tensor) error {
	if state == nil || state.Len() != StepStateLen {
		return fmt.Errorf("kernels: %s: step state %s must have %d elements (kernels.StepStateLen)", op, state, StepStateLen)
	}
	return nil
}

// LossShapes checks a loss op: loss has one element and x and target
// have the same shape.
func LossShapes(op string, loss, x, target *Tensor) error {
	if err := Scalar(op, "loss", loss); err != nil {
		return err
	}
	return SameShape(op, x, target)
}

// ClassIndex converts an NLL target value to a class index: ok is false
// unless v is an integer in [0, c).
func ClassIndex(v float32, c int) (k int, ok bool) {
	if !(v >= 0 && v < float32(c)) { // also NaN
		return 0, false
	}
	k = int(v)
	return k, float32(k) == v && k < c
}

// ClassIndexError is the error Program.Run returns when row of an NLL
// target holds v, which is not a class index in [0, c) (ClassIndex).
func ClassIndexError(backend, op string, row int, v float32, c int) error {
	return fmt.Errorf("%s: %s: row %d: target %v is not a class index in [0, %d)", backend, op, row, v, c)
}

// ErrFreed is wrapped by the error of any use of a tensor whose storage
// Backend.Free released (FreedError).
var ErrFreed = errors.New("tensor was freed")

// FreedError is the error of op when its operand name, t, was freed
// (through t or through any tensor that shares its storage).
func FreedError(backend, op, name string, t *Tensor) error {
	return fmt.Errorf("%s: %s: %s %s: %w", backend, op, name, t, ErrFreed)
}

// SGDOperands checks SGD: p, grad and buf of one shape, a step state,
// and torch.optim.SGD's own checks of the settings.
func SGDOperands(op string, p, grad, buf, state *Tensor, o SGDParams) error {
	if err := SameShape(op, p, grad, buf); err != nil {
		return err
	}
	if err := StepStateShape(op, state); err != nil {
		return err
	}
	if !(o.Momentum >= 0) || !(o.WeightDecay >= 0) || math.IsNaN(o.Dampening) {
		return fmt.Errorf("kernels: %s: momentum %v and weight decay %v must be ≥ 0, dampening %v a number", op, o.Momentum, o.WeightDecay, o.Dampening)
	}
	if o.Nesterov && (o.Momentum <= 0 || o.Dampening != 0) {
		return fmt.Errorf("kernels: %s: Nesterov momentum needs momentum > 0 and dampening 0, got momentum %v, dampening %v", op, o.Momentum, o.Dampening)
	}
	return nil
}

// AdamOperands checks Adam: p, grad, m and v of one shape, a step
// state, and torch.optim.Adam's own checks of the settings.
func AdamOperands(op string, p, grad, m, v, state *Tensor, o AdamParams) error {
	if err := SameShape(op, p, grad, m, v); err != nil {
		return err
	}
	if err := StepStateShape(op, state); err != nil {
		return err
	}
	if !(o.Beta1 >= 0 && o.Beta1 < 1) || !(o.Beta2 >= 0 && o.Beta2 < 1) {
		return fmt.Errorf("kernels: %s: betas (%v, %v) must be in [0, 1)", op, o.Beta1, o.Beta2)
	}
	if !(o.Eps >= 0) || !(o.WeightDecay >= 0) {
		return fmt.Errorf("kernels: %s: eps %v and weight decay %v must be ≥ 0", op, o.Eps, o.WeightDecay)
	}
	return nil
}

// DropoutCheck checks Dropout's probability and step state.
func DropoutCheck(op string, p float32, state *Tensor) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("kernels: %s: dropout probability %v is not in [0, 1]", op, p)
	}
	return StepStateShape(op, state)
}

// SoftplusCheck checks Softplus's beta, which divides.
func SoftplusCheck(op string, beta, threshold float32) error {
	if !(beta > 0) || math.IsInf(float64(beta), 0) || math.IsNaN(float64(threshold)) {
		return fmt.Errorf("kernels: %s: beta %v must be positive and finite, threshold %v a number", op, beta, threshold)
	}
	return nil
}

// UpdateOperands checks Update: p, grad and buf of one shape (buf2 too
// under Adam, nil under SGD), a step state, loss nil or one element,
// non-negative penalties, exactly one optimizer and its own checks.
func UpdateOperands(op string, p, grad, buf, buf2, state, loss *Tensor, u UpdateParams) error {
	if err := updateSettings(op, buf2, state, loss, u); err != nil {
		return err
	}
	if u.SGD != nil {
		return SGDOperands(op, p, grad, buf, state, *u.SGD)
	}
	return AdamOperands(op, p, grad, buf, buf2, state, *u.Adam)
}

// LinearUpdateOperands checks LinearWeightUpdate: w [out, in], dy
// [rows, out], x [rows, in], the optimizer state shaped as w, and the
// rest as UpdateOperands. It returns rows, out and in.
func LinearUpdateOperands(op string, w, dy, x, buf, buf2, state, loss *Tensor, u UpdateParams) (rows, out, in int, err error) {
	for _, c := range []struct {
		name string
		t    *Tensor
	}{{"w", w}, {"dy", dy}, {"x", x}} {
		if err := rank(op, c.name, c.t, 2); err != nil {
			return 0, 0, 0, err
		}
	}
	rows, out, in = dy.Shape[0], w.Shape[0], w.Shape[1]
	if dy.Shape[1] != out || x.Shape[0] != rows || x.Shape[1] != in {
		return 0, 0, 0, fmt.Errorf("kernels: %s: dy %s and x %s do not give the gradient dyᵀ·x of w %s", op, dy, x, w)
	}
	if rows == 0 || out == 0 || in == 0 {
		return 0, 0, 0, fmt.Errorf("kernels: %s: zero-sized dimension in w %s, dy %s, x %s", op, w, dy, x)
	}
	if err := UpdateOperands(op, w, w, buf, buf2, state, loss, u); err != nil {
		return 0, 0, 0, err
	}
	return rows, out, in, nil
}

func updateSettings(op string, buf2, state, loss *Tensor, u UpdateParams) error {
	if (u.SGD == nil) == (u.Adam == nil) {
		return fmt.Errorf("kernels: %s: exactly one of SGD and Adam must be set", op)
	}
	if !(u.L1 >= 0) || !(u.L2 >= 0) || math.IsInf(float64(u.L1), 0) || math.IsInf(float64(u.L2), 0) {
		return fmt.Errorf("kernels: %s: penalties L1 %v and L2 %v must be finite and ≥ 0", op, u.L1, u.L2)
	}
	if u.SGD != nil && buf2 != nil {
		return fmt.Errorf("kernels: %s: SGD takes no second moment, got buf2 %s", op, buf2)
	}
	if loss != nil {
		if err := Scalar(op, "loss", loss); err != nil {
			return err
		}
	}
	return StepStateShape(op, state)
}

// ConvPoolGeometry checks Conv2DMaxPool's operands: x, w and bias as
// ConvGeometry, the pool over the convolution's output, pooled and
// argmax of the pool's output shape and y and r, unless nil, of the
// convolution's (r only with p.ReLU).
func ConvPoolGeometry(op string, pooled, argmax, y, r, x, w, bias *Tensor, p ConvPoolParams) (ConvGeom, PoolGeom, error) {
	g, err := ConvGeometry(op, x, w, bias, p.Conv)
	if err != nil {
		return g, PoolGeom{}, err
	}
	pg, err := PoolGeometry(op, &Tensor{Shape: []int{g.N, g.O, g.Ho, g.Wo}}, p.Pool)
	if err != nil {
		return g, pg, err
	}
	if r != nil && !p.ReLU {
		return g, pg, fmt.Errorf("kernels: %s: r %s given without ReLU", op, r)
	}
	for _, c := range []struct {
		name string
		t    *Tensor
	}{{"y", y}, {"r", r}} {
		if c.t != nil {
			if err := CheckConvOut(op, c.name, c.t, g); err != nil {
				return g, pg, err
			}
		}
	}
	if err := CheckPoolOut(op, "pooled", pooled, pg); err != nil {
		return g, pg, err
	}
	return g, pg, CheckPoolOut(op, "argmax", argmax, pg)
}

// ConvPoolBackwardGeometry checks Conv2DMaxPoolBackward's operands: dw
// shaped as w, db (unless nil) [O], dx (unless nil) shaped as x, and
// dpooled, pooled and argmax of the pool's output shape.
func ConvPoolBackwardGeometry(op string, dw, db, dx, dpooled, pooled, argmax, x, w *Tensor, p ConvPoolParams) (ConvGeom, PoolGeom, error) {
	g, pg, err := ConvPoolGeometry(op, pooled, argmax, nil, nil, x, w, db, p)
	if err != nil {
		return g, pg, err
	}
	if err := SameShape(op, dw, w); err != nil {
		return g, pg, err
	}
	if dx != nil {
		if err := SameShape(op, dx, x); err != nil {
			return g, pg, err
		}
	}
	return g, pg, CheckPoolOut(op, "dpooled", dpooled, pg)
}
