package data

import (
	"fmt"
	"math"
)

// GratingOptions configures Grating. The zero value gives the tutorials'
// defaults.
type GratingOptions struct {
	// SF is the spatial frequency in radians of phase per pixel of the
	// full-resolution 640×480 image (a period of 2π/SF ≈ 176 pixels
	// there); 0 means 1/28, the tutorials' default.
	SF float64
	// Res scales the 640×480 full-resolution image; 0 means 0.1 (48×64).
	// Tutorial 3 uses 0.1, the Bonus tutorial's encoding model 0.025 (12×16).
	Res float64
	// Patch confines the grating to a disc centred at 3/4 of the width,
	// with a diameter of 1/3 of the width (the rest is 0.5), and shifts its
	// orientation by 0.1 rad, as the tutorials' code does.
	Patch bool
	// Centred subtracts 0.5 from every pixel, as the grating() of Tutorial
	// 2 and the Bonus tutorial do: values become −0.5/0.5 (0 outside a
	// patch). Tutorial 3's grating() is not centred (values 0/1).
	Centred bool
}

// Image size at res=1, as in the tutorials' grating().
const (
	gratingWPix = 640
	gratingHPix = 480
)

// degToRad is NumPy's deg2rad factor, computed at run time as
// NPY_PI/180.0 is in C, so that it rounds the same way.
var degToRad = func() float64 { pi := math.Pi; return pi / 180 }()

// Grating returns the tutorials' oriented square-wave grating for angleDeg
// (degrees from vertical) as an h×w row-major image. It reproduces
// grating(angle, sf, res, patch) of the Neuromatch tutorials: phases are
// computed in float64, cos(phase) is thresholded to 0 (negative or exactly
// 0) and 1 (positive), and the result is stored as float32.
//
// Grating returns nil, 0, 0 if Res or SF is negative, infinite or NaN, or if
// the image would exceed 1<<24 pixels.
func Grating(angleDeg float64, o GratingOptions) (pix []float32, h, w int) {
	sf, res := o.SF, o.Res
	if sf == 0 {
		sf = 1.0 / 28
	}
	if res == 0 {
		res = 0.1
	}
	if !(res > 0) || !(sf >= 0) || math.IsInf(res, 0) || math.IsInf(sf, 0) {
		return nil, 0, 0
	}
	// np.arange(0, wpix*res) has ceil(wpix*res) elements.
	fw, fh := math.Ceil(gratingWPix*res), math.Ceil(gratingHPix*res)
	if fw*fh > 1<<24 {
		return nil, 0, 0
	}
	w, h = int(fw), int(fh)
	pix = make([]float32, h*w)
	fillGrating(pix, h, w, angleDeg, sf, res, o.Patch, o.Centred)
	return pix, h, w
}

func fillGrating(pix []float32, h, w int, angleDeg, sf, res float64, patch, centred bool) {
	xs := make([]float64, w)
	for j := range xs {
		xs[j] = sf * float64(j) / res
	}
	ys := make([]float64, h)
	for i := range ys {
		ys[i] = sf * float64(i) / res
	}
	angle := angleDeg * degToRad
	if patch {
		angle += .1 // the tutorial's phase shift to fit the patch
	}
	c, s := math.Cos(angle), math.Sin(angle)
	xcent := float64(w) * .75
	ycent := float64(h) / 2
	radius := float64(gratingWPix) / 3 / 2 * res
	var shift float32
	if centred {
		shift = 0.5
	}
	for i := 0; i < h; i++ {
		for j := 0; j < w; j++ {
			// The conversions keep the products rounded separately, as
			// NumPy computes them, instead of fused into one FMA.
			g := math.Cos(float64(xs[j]*c) + float64(ys[i]*s))
			switch {
			case g < 0:
				g = 0
			case g > 0:
				g = 1
			}
			if patch {
				dx, dy := float64(j)-xcent, float64(i)-ycent
				if !(math.Sqrt(float64(dx*dx)+float64(dy*dy)) < radius) {
					g = 0.5
				}
			}
			pix[i*w+j] = float32(g) - shift
		}
	}
}

// Gratings returns one Grating per angle as a contiguous [S,H,W] float32
// array (S = len(anglesDeg)). It returns nil, 0, 0 where Grating would.
func Gratings(anglesDeg []float64, o GratingOptions) (pix []float32, h, w int) {
	_, h, w = Grating(0, o)
	if h == 0 && w == 0 {
		return nil, 0, 0
	}
	sf, res := o.SF, o.Res
	if sf == 0 {
		sf = 1.0 / 28
	}
	if res == 0 {
		res = 0.1
	}
	pix = make([]float32, len(anglesDeg)*h*w)
	for k, a := range anglesDeg {
		fillGrating(pix[k*h*w:(k+1)*h*w], h, w, a, sf, res, o.Patch, o.Centred)
	}
	return pix, h, w
}

// Filters returns the tutorials' example convolution filters as an
// [outChannels,1,K,K] float32 array: a centre-surround filter, its
// negative, and outChannels−2 Gabor filters at orientations evenly spaced
// in [0°,180°), each normalised by its maximum absolute value. It follows
// filters(out_channels, K) of Tutorial 3 operation by operation, in float32
// wherever NumPy 1.x computes in float32 (NumPy 2 would compute the Gabor
// phase in float64; its Gabors differ by up to 2e-6). The Bonus tutorial's filters() also
// subtracts each filter's mean; apply Demean for that.
//
// Filters returns nil if outChannels < 2 or K < 1.
func Filters(outChannels, K int) []float32 {
	if outChannels < 2 || K < 1 {
		return nil
	}
	kk := K * K
	grid := linspace32(-float64(K)/2, float64(K)/2, K)

	// Radius from the filter centre: (xx**2 + yy**2)**0.5 in float32.
	rad := make([]float32, kk)
	for i := 0; i < K; i++ {
		for j := 0; j < K; j++ {
			x, y := grid[i], grid[j]
			r2 := float32(x*x) + float32(y*y)
			rad[i*K+j] = float32(math.Sqrt(float64(r2)))
		}
	}
	sigma := 1.1
	gauss := func(den float64) []float32 {
		d := float32(den)
		g := make([]float32, kk)
		for i, r := range rad {
			g[i] = exp32(-r / d)
		}
		return g
	}
	narrow := gauss(2 * (sigma * sigma))
	wide := gauss(2 * ((sigma * 2) * (sigma * 2)))
	out := make([]float32, outChannels*kk)
	cs := out[:kk]
	for i := range cs {
		cs[i] = narrow[i] - 0.5*wide[i]
	}
	for i := range cs {
		out[kk+i] = -cs[i]
	}

	// Gabors: thetas = linspace(0, 180, out-1)[:-1] * pi / 180 (float64).
	nTheta := outChannels - 2
	thetas := linspace64(0, 180, outChannels-1)
	const lam = 10
	phi := float32(math.Pi / 2)
	twoPi := float32(2 * math.Pi)
	g := gauss(2 * ((sigma * 0.4) * (sigma * 0.4)))
	for t := 0; t < nTheta; t++ {
		theta := thetas[t] * math.Pi / 180
		c, s := float32(math.Cos(theta)), float32(math.Sin(theta))
		dst := out[(2+t)*kk : (3+t)*kk]
		for i := 0; i < K; i++ {
			for j := 0; j < K; j++ {
				x := float32(grid[i]*c) + float32(grid[j]*s)
				arg := float32(twoPi*x)/lam + phi
				dst[i*K+j] = g[i*K+j] * cos32(arg)
			}
		}
	}
	for f := 0; f < outChannels; f++ {
		filt := out[f*kk : (f+1)*kk]
		var m float32
		for _, v := range filt {
			m = max(m, float32(math.Abs(float64(v))))
		}
		for i := range filt {
			filt[i] /= m
		}
	}
	return out
}

// Demean subtracts from each of the out filters of f (laid out [out,…,K,K])
// its mean over the K×K taps, in place, as the Bonus tutorial's filters()
// does (filters -= filters.mean(axis=(1,2))). It panics if len(f) is not
// out*K*K, a programming error like an out-of-range index.
func Demean(f []float32, out, K int) {
	kk := K * K
	if out < 0 || K < 0 || len(f) != out*kk {
		panic(fmt.Sprintf("data: Demean: len(f) = %d, want out*K*K = %d*%d*%d", len(f), out, K, K))
	}
	for o := 0; o < out; o++ {
		filt := f[o*kk : (o+1)*kk]
		// NumPy accumulates float32 pairwise; a float64 sum rounded once
		// is within an ulp of it.
		var s float64
		for _, v := range filt {
			s += float64(v)
		}
		m := float32(s) / float32(kk)
		for i := range filt {
			filt[i] -= m
		}
	}
}

// linspace64 reproduces np.linspace(start, stop, n) in float64.
func linspace64(start, stop float64, n int) []float64 {
	y := make([]float64, n)
	div := n - 1
	delta := stop - start
	if div <= 0 {
		for i := range y {
			y[i] = float64(i)*delta + start
		}
		return y
	}
	step := delta / float64(div)
	for i := range y {
		y[i] = float64(float64(i)*step) + start
	}
	y[n-1] = stop
	return y
}

// linspace32 reproduces np.linspace(start, stop, n).astype(np.float32).
func linspace32(start, stop float64, n int) []float32 {
	y64 := linspace64(start, stop, n)
	y := make([]float32, n)
	for i, v := range y64 {
		y[i] = float32(v)
	}
	return y
}

// exp32 and cos32 evaluate in float64 and round once, which is within an
// ulp of NumPy's float32 SIMD implementations.
func exp32(x float32) float32 { return float32(math.Exp(float64(x))) }
func cos32(x float32) float32 { return float32(math.Cos(float64(x))) }
