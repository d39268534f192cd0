package kernels

import "math"

// Per-step values. What changes from one training step to the next (the
// learning rate under a schedule, Adam's bias corrections, the step
// number that seeds dropout masks) lives in a small tensor, the step
// state, that SGD, Adam and Dropout read when they run rather than when
// they are recorded. The host rewrites it before every Run through
// Program.Write, so a schedule never forces a Program to be recorded
// again and, on a discrete GPU, the values ride in the step's own
// submit. FillStepState computes them; the indices below name them.
const (
	StepLR      = iota // learning rate of this step
	StepAdamLR         // lr/(1 − β1^t): Adam's step size
	StepAdamBC2        // sqrt(1 − β2^t): Adam's second-moment bias correction
	StepDecay          // 1 − lr·weight_decay: AdamW's decoupled decay factor
	StepFirst          // 1 on the optimizer's first step, else 0
	StepCount          // the optimizer step t (1 on the first), as the bits of a uint32
	// StepStateLen is the length of a step-state tensor.
	StepStateLen = 8
)

// FillStepState writes the per-step values of optimizer step t ≥ 1 at
// learning rate lr into s (len ≥ StepStateLen), computed in float64 and
// rounded once to float32 as torch.optim does (it computes them as
// Python floats). beta1, beta2 and weightDecay are the optimizer's (any
// values where they do not apply).
func FillStepState(s []float32, t uint32, lr, beta1, beta2, weightDecay float64) {
	clear(s[:StepStateLen])
	s[StepLR] = float32(lr)
	s[StepAdamLR] = float32(lr / (1 - math.Pow(beta1, float64(t))))
	s[StepAdamBC2] = float32(math.Sqrt(1 - math.Pow(beta2, float64(t))))
	s[StepDecay] = float32(1 - lr*weightDecay)
	if t == 1 {
		s[StepFirst] = 1
	}
	s[StepCount] = math.Float32frombits(t)
}

// StepCountOf reads the step number t from a step state.
func StepCountOf(s []float32) uint32 { return math.Float32bits(s[StepCount]) }

// Dropout masks. Whether element i of a dropout layer is kept at step t
// depends on (seed, t, i) alone, through a 32-bit integer hash that every
// backend computes the same way (a shader does it in a few integer ops),
// so a run draws the same masks on every backend and a resumed run draws
// the masks an uninterrupted one would. It cannot draw torch's masks.

// hash32 is Chris Wellons' lowbias32, a bijective 32-bit integer hash.
func hash32(x uint32) uint32 {
	x ^= x >> 16
	x *= 0x7feb352d
	x ^= x >> 15
	x *= 0x846ca68b
	x ^= x >> 16
	return x
}

// DropoutHash is the 32-bit hash that decides element i's fate at step
// t: hash32(i + hash32(t + hash32(seed))), with wrapping additions.
func DropoutHash(seed, t, i uint32) uint32 {
	return DropoutElemHash(DropoutKey(seed, t), i)
}

// DropoutKey is the part of DropoutHash that all elements share,
// hash32(t + hash32(seed)): a backend computes it once per op and then
// DropoutElemHash per element.
func DropoutKey(seed, t uint32) uint32 { return hash32(t + hash32(seed)) }

// DropoutElemHash is DropoutHash(seed, t, i) given key = DropoutKey(seed, t).
func DropoutElemHash(key, i uint32) uint32 { return hash32(i + key) }

// DropoutThreshold is the hash value below which an element is dropped
// with probability p: the element is kept when DropoutHash ≥ threshold.
// p ≥ 1 drops everything (ok false: no hash value is kept).
func DropoutThreshold(p float32) (threshold uint32, ok bool) {
	if p <= 0 {
		return 0, true
	}
	if p >= 1 {
		return 0, false
	}
	return uint32(math.Min(float64(p)*(1<<32), math.MaxUint32)), true
}

// DropoutScale is the factor kept elements are multiplied by: 1/(1 − p)
// in float32, as PyTorch's noise.div_(1 − p); 0 for p ≥ 1.
func DropoutScale(p float32) float32 {
	if p >= 1 {
		return 0
	}
	return 1 / float32(1-float64(p))
}

// DropoutKeep reports whether element i is kept at step t.
func DropoutKeep(seed, t, i uint32, p float32) bool {
	th, ok := DropoutThreshold(p)
	return ok && DropoutHash(seed, t, i) >= th
}
