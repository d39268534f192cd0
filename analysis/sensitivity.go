package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// ActivationFunc maps a batch of images (n×C×H×W, row-major) to the
// activations of U units for each (n×U), e.g. a network layer:
//
//	f := func(x []float32) ([]float32, error) { a, _, err := m.Hidden(x, "conv"); return a, err }
type ActivationFunc func(images []float32) ([]float32, error)

// SensitivityOptions configure SensitivityMaps.
type SensitivityOptions struct {
	// Patch is the side of the square noise patch in pixels (required).
	Patch int
	// Stride is the step between patch positions; 0 means Patch/2
	// (at least 1). The last position is flush with the image's far
	// edge, so every pixel is covered.
	Stride int
	// Noise is the standard deviation of the Gaussian noise the patch is
	// filled with; 0 means the standard deviation of the images' pixels,
	// noise of the stimuli's own contrast.
	Noise float64
	// Seed makes the noise reproducible.
	Seed uint64
}

// sensitivityBatch bounds the images of one ActivationFunc call: a
// layer's activations for a batch are units × batch values.
var sensitivityBatch = 256

// SensitivityMaps measures where in the image each unit looks, by the
// sliding noise-patch method: for each of the n images (C×H×W each) and
// each patch position, the pixels of a Patch×Patch square (all
// channels) are replaced by fresh Gaussian noise, and the unit's
// response change |f(perturbed) − f(image)| is credited to every pixel
// of the square. A unit's map (H×W) is the mean of those changes over
// the images and over the positions that cover the pixel. maps holds
// units maps, unit-major (units×H×W).
func SensitivityMaps(f ActivationFunc, images []float32, n, C, H, W int, o SensitivityOptions) (maps []float64, units int, err error) {
	if n < 1 || C < 1 || H < 1 || W < 1 {
		return nil, 0, fmt.Errorf("analysis: sensitivity maps: %d images of %d×%d×%d, want positive sizes", n, C, H, W)
	}
	px := C * H * W
	if len(images) != n*px {
		return nil, 0, fmt.Errorf("analysis: sensitivity maps: %d values for %d images of %d×%d×%d = %d", len(images), n, C, H, W, n*px)
	}
	if err := checkFinite("sensitivity maps: images", images, px); err != nil {
		return nil, 0, err
	}
	if o.Patch < 1 || o.Patch > min(H, W) {
		return nil, 0, fmt.Errorf("analysis: sensitivity maps: patch %d, want 1…%d (the image is %d×%d)", o.Patch, min(H, W), H, W)
	}
	stride := o.Stride
	if stride == 0 {
		stride = max(1, o.Patch/2)
	}
	if stride < 0 {
		return nil, 0, fmt.Errorf("analysis: sensitivity maps: stride %d, want positive (0 for patch/2)", stride)
	}
	noise := o.Noise
	if noise == 0 {
		noise = pixelSD(images)
	}
	if !(noise > 0) || math.IsInf(noise, 0) {
		return nil, 0, fmt.Errorf("analysis: sensitivity maps: noise standard deviation %v, want positive and finite (the images are constant: give Noise)", noise)
	}
	ys, xs := patchStarts(H, o.Patch, stride), patchStarts(W, o.Patch, stride)
	type pos struct{ y, x int }
	var positions []pos
	for _, y := range ys {
		for _, x := range xs {
			positions = append(positions, pos{y, x})
		}
	}
	// cover[p] counts the (image, position) pairs that perturb pixel p.
	cover := make([]float64, H*W)
	for _, q := range positions {
		for y := q.y; y < q.y+o.Patch; y++ {
			for x := q.x; x < q.x+o.Patch; x++ {
				cover[y*W+x] += float64(n)
			}
		}
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x5e45))
	call := func(batch []float32, k int) ([]float32, error) {
		out, err := f(batch)
		if err != nil {
			return nil, fmt.Errorf("analysis: sensitivity maps: activations of %d images: %w", k, err)
		}
		if len(out) == 0 || len(out)%k != 0 || (units > 0 && len(out) != k*units) {
			return nil, fmt.Errorf("analysis: sensitivity maps: activations of %d images have %d values, want %d×units (units %d so far)", k, len(out), k, units)
		}
		if err := checkFinite("sensitivity maps: activations", out, len(out)/k); err != nil {
			return nil, err
		}
		units = len(out) / k
		return out, nil
	}
	var sum []float64 // units×H×W
	for i := 0; i < n; i++ {
		img := images[i*px : (i+1)*px]
		base, err := call(img, 1)
		if err != nil {
			return nil, 0, err
		}
		if sum == nil {
			sum = make([]float64, units*H*W)
		}
		for p0 := 0; p0 < len(positions); p0 += sensitivityBatch {
			ps := positions[p0:min(p0+sensitivityBatch, len(positions))]
			batch := make([]float32, len(ps)*px)
			for b, q := range ps {
				im := batch[b*px : (b+1)*px]
				copy(im, img)
				for c := 0; c < C; c++ {
					for y := q.y; y < q.y+o.Patch; y++ {
						for x := q.x; x < q.x+o.Patch; x++ {
							im[(c*H+y)*W+x] = float32(noise * rng.NormFloat64())
						}
					}
				}
			}
			out, err := call(batch, len(ps))
			if err != nil {
				return nil, 0, err
			}
			parallelRange(units, func(lo, hi int) {
				for u := lo; u < hi; u++ {
					m := sum[u*H*W : (u+1)*H*W]
					for b, q := range ps {
						d := math.Abs(float64(out[b*units+u]) - float64(base[u]))
						for y := q.y; y < q.y+o.Patch; y++ {
							row := m[y*W+q.x : y*W+q.x+o.Patch]
							for x := range row {
								row[x] += d
							}
						}
					}
				}
			})
		}
	}
	for u := 0; u < units; u++ {
		m := sum[u*H*W : (u+1)*H*W]
		for p := range m {
			m[p] /= cover[p]
		}
	}
	return sum, units, nil
}

// patchStarts returns the patch offsets 0, stride, 2·stride, … along an
// axis of length n, ending with n − patch so that the far edge is covered.
func patchStarts(n, patch, stride int) []int {
	var s []int
	for p := 0; p+patch <= n; p += stride {
		s = append(s, p)
	}
	if s[len(s)-1] != n-patch {
		s = append(s, n-patch)
	}
	return s
}

func pixelSD(x []float32) float64 {
	var m float64
	for _, v := range x {
		m += float64(v)
	}
	m /= float64(len(x))
	var ss float64
	for _, v := range x {
		ss += (float64(v) - m) * (float64(v) - m)
	}
	return math.Sqrt(ss / float64(len(x)))
}

// VJPFunc returns, for each sample of the batch x, the gradient with
// respect to the input of Σ_j dy[j]·y[j] (dy: one row of outputs values
// per sample), as (*models.Model).InputGradient does.
type VJPFunc func(x, dy []float32) ([]float32, error)

// gradientBatch bounds the one-hot rows of one VJPFunc call (batch ×
// outputs values), for a layer of 23,589 neurons among others.
var gradientBatch = 1 << 22

// GradientRFs returns the gradient receptive field of each output unit
// in units at the input image (one sample, len(image) values): the
// gradient of that unit's output with respect to the image, from the
// VJP with dy one-hot at the unit, len(units)×len(image) values. For a
// linear model it is the unit's weights; for a network, its linear
// receptive field around image.
func GradientRFs(vjp VJPFunc, image []float32, outputs int, units []int) ([]float32, error) {
	if len(image) == 0 || outputs < 1 || len(units) == 0 {
		return nil, fmt.Errorf("analysis: gradient receptive fields: %d input values, %d outputs, %d units, want all positive", len(image), outputs, len(units))
	}
	for i, u := range units {
		if u < 0 || u >= outputs {
			return nil, fmt.Errorf("analysis: gradient receptive fields: units[%d] = %d, want in [0, %d)", i, u, outputs)
		}
	}
	in := len(image)
	rf := make([]float32, len(units)*in)
	step := max(1, gradientBatch/outputs)
	for u0 := 0; u0 < len(units); u0 += step {
		us := units[u0:min(u0+step, len(units))]
		x := make([]float32, len(us)*in)
		dy := make([]float32, len(us)*outputs)
		for b, u := range us {
			copy(x[b*in:], image)
			dy[b*outputs+u] = 1
		}
		g, err := vjp(x, dy)
		if err != nil {
			return nil, fmt.Errorf("analysis: gradient receptive fields of units %d…%d: %w", us[0], us[len(us)-1], err)
		}
		if len(g) != len(x) {
			return nil, fmt.Errorf("analysis: gradient receptive fields: the VJP returned %d values for %d samples of %d, want %d", len(g), len(us), in, len(x))
		}
		copy(rf[u0*in:], g)
	}
	return rf, nil
}
