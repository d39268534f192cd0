package kernels

import (
	"fmt"
	"strings"
)

// Tensor is a dense float32 array owned by one Backend. Shape is in
// row-major order (NCHW for images). Storage is the backend's handle to
// the data: []float32 on the CPU, a device buffer region on Vulkan.
// Tensors made by Reshape share Storage with their parent.
type Tensor struct {
	Shape   []int
	Storage any
}

// Len is the number of elements.
func (t *Tensor) Len() int { return Numel(t.Shape) }

// Reshape returns a view of t with another shape of the same length.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	if Numel(shape) != t.Len() {
		return nil, fmt.Errorf("kernels: reshape %v to %v: element counts differ (%d vs %d)", t.Shape, shape, t.Len(), Numel(shape))
	}
	return &Tensor{Shape: append([]int(nil), shape...), Storage: t.Storage}, nil
}

// String prints the shape, e.g. "[1000 1 48 64]".
func (t *Tensor) String() string {
	if t == nil {
		return "<nil>"
	}
	s := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		s[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// Numel is the product of the dimensions of shape (1 for a scalar []).
func Numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Conv2DParams are the geometry of a 2-D convolution beyond the tensor
// shapes (the kernel size comes from the weight tensor). Zero padding.
type Conv2DParams struct {
	StrideH, StrideW int // 0 means 1
	PadH, PadW       int
}

// Pool2DParams are the geometry of a 2-D max pool. Output size is
// PyTorch's floor((H-KernelH)/StrideH)+1, no padding.
type Pool2DParams struct {
	KernelH, KernelW int
	StrideH, StrideW int // 0 means the kernel size, as in nn.MaxPool2d
}

// Backend allocates tensors, moves data to and from them, and records
// ops into Programs.
type Backend interface {
	// Name is "cpu" or "vulkan".
	Name() string
	// Device describes where ops run, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)".
	Device() string
	// NewTensor allocates a zero-filled tensor.
	NewTensor(shape ...int) (*Tensor, error)
	// Upload copies src (len == t.Len()) into t. It must not be called
	// while a Program that uses t is running.
	Upload(t *Tensor, src []float32) error
	// Download copies t into dst (len == t.Len()).
	Download(t *Tensor, dst []float32) error
	// Free releases the storage of t, which t shares with every tensor
	// Reshape made from it or from its views: freeing any of them
	// releases it for all, and freeing again is a no-op. Afterwards an
	// op recorded on any of them, or their Upload or Download, or a
	// Program.Write or Read of them, is an error naming the op and the
	// freed tensor and wrapping ErrFreed (FreedError). A Program that
	// recorded one of them must not be run again.
	Free(t *Tensor)
	// NewProgram starts recording an empty Program.
	NewProgram() Program
	// Close releases everything the backend holds. It is idempotent.
	Close() error
}

// Program is a recorded list of ops. See the package doc.
type Program interface {
	Ops
	// Run executes all recorded ops in order and waits for them.
	Run() error
	// Write makes every later Run begin by copying src (len == t.Len()),
	// as it is when Run is called, into t. Writes come before the first
	// op. On a GPU whose memory the host cannot map, the copy rides in
	// the Run's own submit, where an Upload before Run would cost
	// another: it is how a training step takes its mini-batch. src must
	// stay valid while the Program is used.
	Write(t *Tensor, src []float32)
	// Read makes every later Run end by copying t, as the Run left it,
	// into dst (len == t.Len()). On a GPU whose memory the host cannot
	// map, this rides in the Run's own submit, where a Download after
	// Run would cost another: it is how a training step returns its loss.
	// dst must stay valid while the Program is used.
	Read(dst []float32, t *Tensor)
	// Err is the first recording error, or nil.
	Err() error
	// Close releases what the Program holds (command buffers, descriptor
	// sets); tensors stay alive.
	Close() error
}

// Ops is the op set. Unless a doc says "adds into", an op overwrites its
// output. Outputs must not alias inputs unless a doc allows it. Shapes
// are checked when the op is recorded.
type Ops interface {
	// Fill sets every element of t to v.
	Fill(t *Tensor, v float32)
	// Copy copies src into dst (same length).
	Copy(dst, src *Tensor)

	// MatMul computes c = alpha·op(a)·op(b) + beta·c, with op(x) = xᵀ
	// when the flag is set; a, b, c are 2-D. With beta == 0, c is not read.
	MatMul(c, a, b *Tensor, transA, transB bool, alpha, beta float32)
	// AddBias adds bias[j] to every x[i, j, ...] in place, where j is
	// axis 1 of x (columns of a 2-D x; channels of NCHW).
	AddBias(x, bias *Tensor)
	// BiasGrad sets db[j] = Σ over all other axes of dy[i, j, ...].
	BiasGrad(db, dy *Tensor)

	// Conv2D: y[N,O,Ho,Wo] = conv(x[N,C,H,W], w[O,C,KH,KW]) + bias[O];
	// bias may be nil. Ho = (H+2·PadH−KH)/StrideH + 1 (floor).
	Conv2D(y, x, w, bias *Tensor, p Conv2DParams)
	// Conv2DBackwardInput sets dx from dy and w.
	Conv2DBackwardInput(dx, dy, w *Tensor, p Conv2DParams)
	// Conv2DBackwardWeight sets dw (and db unless nil) from dy and x.
	Conv2DBackwardWeight(dw, db, dy, x *Tensor, p Conv2DParams)

	// MaxPool2D: y[N,C,Ho,Wo] = max over each window of x[N,C,H,W];
	// argmax (same shape as y) receives the index h·W+w of the maximum
	// inside its input plane (the first one on ties, as PyTorch), stored
	// as float32 (exact below 2²⁴).
	MaxPool2D(y, argmax, x *Tensor, p Pool2DParams)
	// MaxPool2DBackward sets dx (zeros, then dy routed to each argmax).
	MaxPool2DBackward(dx, dy, argmax *Tensor, p Pool2DParams)

	// Softmax sets y = softmax(x) (or log-softmax when log is set) along
	// axis dim, max-subtracted for stability.
	Softmax(y, x *Tensor, dim int, log bool)
	// SoftmaxBackward sets dx from dy and the forward output y:
	// softmax: dx = y·(dy − Σ dy·y); log-softmax: dx = dy − exp(y)·Σ dy.
	SoftmaxBackward(dx, dy, y *Tensor, dim int, log bool)

	// ReLU: y = max(x, 0). y may alias x.
	ReLU(y, x *Tensor)
	// ReLUBackward: dx = dy where y > 0, else 0. dx may alias dy.
	ReLUBackward(dx, dy, y *Tensor)
	// Sigmoid: y = 1/(1+exp(−x)). y may alias x.
	Sigmoid(y, x *Tensor)
	// SigmoidBackward: dx = dy·y·(1−y). dx may alias dy.
	SigmoidBackward(dx, dy, y *Tensor)

	// Sum sets out[0] = Σ x; Mean sets out[0] = Σ x / len(x). out has 1 element.
	Sum(out, x *Tensor)
	Mean(out, x *Tensor)

	// Losses (mean reduction, PyTorch's definitions) set loss[0].
	// BCELoss: −mean(t·log p + (1−t)·log(1−p)), logs clamped at −100 as PyTorch.
	BCELoss(loss, p, target *Tensor)
	// BCEBackward: dp = (p − t) / (p·(1−p)) / n, with PyTorch's eps clamp.
	BCEBackward(dp, p, target *Tensor)
	// MSELoss: mean((y − t)²). MSEBackward: dy = 2(y − t)/n.
	MSELoss(loss, y, target *Tensor)
	MSEBackward(dy, y, target *Tensor)
	// NLLLoss over logp[N,C] with class indices target[N] (float32
	// holding integers): −mean(logp[i, target[i]]). Targets are data, so
	// they are checked when the op runs: a target that is not an integer
	// in [0, C) (kernels.ClassIndex) makes Program.Run return an error
	// naming the op, the row and the value (ClassIndexError), as
	// PyTorch's "Target 7 is out of bounds"; a backend does not skip the
	// row silently. The Program stays usable: a later Run with valid
	// targets succeeds.
	NLLLoss(loss, logp, target *Tensor)
	// NLLBackward: dlogp[i,c] = −1/N where c == target[i], else 0, with
	// NLLLoss's check of the targets.
	NLLBackward(dlogp, target *Tensor)

	// L2Penalty adds coef·Σ w² into loss[0]; L2PenaltyGrad adds 2·coef·w into dw.
	L2Penalty(loss, w *Tensor, coef float32)
	L2PenaltyGrad(dw, w *Tensor, coef float32)
	// L1Penalty adds coef·Σ |w| into loss[0]; L1PenaltyGrad adds coef·sign(w) into dw (sign(0) = 0).
	L1Penalty(loss, w *Tensor, coef float32)
	L1PenaltyGrad(dw, w *Tensor, coef float32)

	// Tanh: y = tanh(x). y may alias x.
	Tanh(y, x *Tensor)
	// TanhBackward: dx = dy·(1 − y²). dx may alias dy.
	TanhBackward(dx, dy, y *Tensor)
	// ELU (nn.ELU): y = x if x > 0, else alpha·(exp(x) − 1). y may alias x.
	ELU(y, x *Tensor, alpha float32)
	// ELUBackward takes the forward input x: dx = dy if x > 0, else
	// dy·alpha·exp(x). dx may alias dy.
	ELUBackward(dx, dy, x *Tensor, alpha float32)
	// Softplus (nn.Softplus): y = x where beta·x > threshold, else
	// log(1 + exp(beta·x))/beta, with the product beta·x that is compared
	// rounded to float32 as PyTorch forms it. beta must be positive.
	// y may alias x.
	Softplus(y, x *Tensor, beta, threshold float32)
	// SoftplusBackward takes the forward input x: dx = dy where
	// beta·x > threshold, else dy·z/(z + 1) with z = exp(beta·x). dx may
	// alias dy.
	SoftplusBackward(dx, dy, x *Tensor, beta, threshold float32)
	// Dropout (nn.Dropout in training): y = x·scale where element i is
	// kept, else 0, with scale = 1/(1 − p) in float32 as PyTorch. Element
	// i is kept when DropoutKeep(seed, t, i, p) for the optimizer step t
	// that state[StepCount] holds when the op runs, so the mask changes
	// every step without recording the Program again and is the same on
	// every backend. p must be in [0, 1]. y may alias x.
	Dropout(y, x, state *Tensor, p float32, seed uint32)
	// DropoutBackward: dx = dy·scale where the forward kept element i,
	// else 0 (the mask is recomputed, not stored). dx may alias dy.
	DropoutBackward(dx, dy, state *Tensor, p float32, seed uint32)

	// AvgPool2D (nn.AvgPool2d, no padding): y[N,C,Ho,Wo] = the mean over
	// each KernelH×KernelW window of x[N,C,H,W].
	AvgPool2D(y, x *Tensor, p Pool2DParams)
	// AvgPool2DBackward sets dx: each element receives dy/(KernelH·KernelW)
	// from every window that covers it (zero where none does).
	AvgPool2DBackward(dx, dy *Tensor, p Pool2DParams)

	// BCEWithLogitsLoss (nn.BCEWithLogitsLoss): the mean over elements of
	// (1 − t)·x + m + log(exp(−m) + exp(−x − m)) with m = max(−x, 0),
	// PyTorch's stable form of −(t·log σ(x) + (1 − t)·log(1 − σ(x))).
	BCEWithLogitsLoss(loss, x, target *Tensor)
	// BCEWithLogitsBackward: dx = (σ(x) − t)/n.
	BCEWithLogitsBackward(dx, x, target *Tensor)
	// PoissonNLLLoss (nn.PoissonNLLLoss, full=False): the mean over
	// elements of exp(x) − t·x when logInput (x is the log rate), else of
	// x − t·log(x + eps) (x is the rate).
	PoissonNLLLoss(loss, x, target *Tensor, logInput bool, eps float32)
	// PoissonNLLBackward: dx = (exp(x) − t)/n when logInput, else
	// (1 − t/(x + eps))/n.
	PoissonNLLBackward(dx, x, target *Tensor, logInput bool, eps float32)

	// SGD updates p in place with torch.optim.SGD at the learning rate
	// lr = state[StepLR] (read when the op runs):
	// g = grad + WeightDecay·p; with Momentum ≠ 0, buf = g on the first
	// step (state[StepFirst] ≠ 0) and buf = Momentum·buf + (1 −
	// Dampening)·g after it, then g = g + Momentum·buf (Nesterov) or
	// g = buf; finally p −= lr·g. With Momentum 0, buf is neither read nor
	// written.
	SGD(p, grad, buf, state *Tensor, o SGDParams)
	// Adam updates p in place with torch.optim.Adam (o.Decoupled unset)
	// or AdamW (set), without amsgrad, reading the per-step values
	// state[StepAdamLR] = lr/(1 − β1^t), state[StepAdamBC2] =
	// sqrt(1 − β2^t) and, for AdamW, state[StepDecay] = 1 − lr·WeightDecay:
	// Adam: g = grad + WeightDecay·p; AdamW: p ·= state[StepDecay] and
	// g = grad; then m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g², and
	// p −= state[StepAdamLR]·m/(sqrt(v)/state[StepAdamBC2] + Eps).
	// m and v start as zeros.
	Adam(p, grad, m, v, state *Tensor, o AdamParams)

	// Fused ops. Each does in fewer passes over memory what the sequence
	// of ops its doc names does, with the same float32 arithmetic, so
	// that a step moves less data (and, on Vulkan, records fewer
	// dispatches).

	// Update does to p what L1PenaltyGrad(grad, p, u.L1),
	// L2PenaltyGrad(grad, p, u.L2) (each where its coefficient is not
	// zero) and then SGD(p, grad, buf, state, *u.SGD) or Adam(p, grad,
	// buf, buf2, state, *u.Adam) would do, in one pass over p and the
	// optimizer state, without changing grad: the gradient the optimizer
	// takes is grad + L1·sign(p) + 2·L2·p, summed in that order in
	// float32. buf is SGD's momentum buffer or Adam's first moment, buf2
	// Adam's second moment (nil under SGD). When loss is not nil,
	// L1·Σ|p| and then L2·Σp² of p as it was before the update are added
	// into loss[0], as L1Penalty and L2Penalty add them.
	Update(p, grad, buf, buf2, state, loss *Tensor, u UpdateParams)
	// LinearWeightUpdate is Update of the weight w [out, in] of a linear
	// layer y = x·wᵀ with its gradient dyᵀ·x, for dy [rows, out] and x
	// [rows, in], as MatMul(grad, dy, x, true, false, 1, 0) computes it.
	// The gradient is not an operand: a backend may form it block by
	// block where the update consumes it, never storing it (the CPU
	// backend does).
	LinearWeightUpdate(w, dy, x, buf, buf2, state, loss *Tensor, u UpdateParams)
	// Conv2DMaxPool is Conv2D(y, x, w, bias, p.Conv), then, with p.ReLU,
	// ReLU(r, y), then MaxPool2D(pooled, argmax, r (or y), p.Pool): argmax
	// indexes a plane of the convolution's output. y and r may be nil;
	// then they are not written.
	Conv2DMaxPool(pooled, argmax, y, r, x, w, bias *Tensor, p ConvPoolParams)
	// Conv2DMaxPoolBackward is Conv2DMaxPool's backward from dpooled, the
	// gradient of pooled: MaxPool2DBackward of dpooled through argmax
	// (gradients of windows that share a maximum summed), with p.ReLU
	// kept only where the maximum, pooled, is > 0 (ReLUBackward's y > 0
	// at that position), then Conv2DBackwardWeight into dw and db (db
	// may be nil) and, unless dx is nil, Conv2DBackwardInput into dx.
	// Only the maxima carry gradient, so a backend sums over them alone.
	Conv2DMaxPoolBackward(dw, db, dx, dpooled, pooled, argmax, x, w *Tensor, p ConvPoolParams)
}

// UpdateParams are the penalties on a parameter and its optimizer, for
// Update and LinearWeightUpdate: L1 and L2 are the coefficients of
// L1·Σ|p| + L2·Σp² (0: none); exactly one of SGD and Adam is set.
type UpdateParams struct {
	L1, L2 float32
	SGD    *SGDParams
	Adam   *AdamParams
}

// ConvPoolParams are Conv2DMaxPool's geometry: the convolution's, whether
// a ReLU sits between it and the pool, and the max pool's.
type ConvPoolParams struct {
	Conv Conv2DParams
	ReLU bool
	Pool Pool2DParams
}

// SGDParams are torch.optim.SGD's settings other than the learning rate,
// fixed when the op is recorded. Coefficients are float64 so that
// 1 − Dampening is formed in double precision, as PyTorch forms it.
// Recording rejects what torch.optim.SGD rejects (SGDOperands): negative
// momentum or weight decay, Nesterov without momentum or with dampening.
type SGDParams struct {
	Momentum, Dampening, WeightDecay float64
	Nesterov                         bool
}

// AdamParams are torch.optim.Adam's (AdamW's with Decoupled) settings
// other than the learning rate, fixed when the op is recorded. Recording
// rejects what torch.optim.Adam rejects (AdamOperands): betas outside
// [0, 1), negative eps or weight decay.
type AdamParams struct {
	Beta1, Beta2, Eps, WeightDecay float64
	Decoupled                      bool // AdamW's decoupled weight decay
}

// Run1 records the ops that rec adds into a fresh Program of b, runs it
// once and closes it: the way to call a single op outside a training step.
func Run1(b Backend, rec func(p Program)) error {
	p := b.NewProgram()
	defer p.Close()
	rec(p)
	if err := p.Err(); err != nil {
		return err
	}
	return p.Run()
}
