package analysis

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// linearUnits is an ActivationFunc of U linear units with weights w
// (U × px) that records every batch it is given.
type linearUnits struct {
	w       []float32
	U, px   int
	batches [][]float32
}

func (l *linearUnits) f(x []float32) ([]float32, error) {
	l.batches = append(l.batches, slices.Clone(x))
	n := len(x) / l.px
	out := make([]float32, n*l.U)
	for i := 0; i < n; i++ {
		for u := 0; u < l.U; u++ {
			var s float64
			for p := 0; p < l.px; p++ {
				s += float64(l.w[u*l.px+p]) * float64(x[i*l.px+p])
			}
			out[i*l.U+u] = float32(s)
		}
	}
	return out, nil
}

// The map recomputed from the batches the function saw: each perturbed
// image's patch is where it differs from its base image, and the unit's
// change is credited to those pixels.
func TestSensitivityMapsFromTheirDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	n, C, H, W := 2, 2, 7, 9
	px := C * H * W
	images := randMatrix(rng, n, px)
	l := &linearUnits{w: randMatrix(rng, 3, px), U: 3, px: px}
	o := SensitivityOptions{Patch: 3, Stride: 2, Noise: 0.7, Seed: 9}
	maps, units, err := SensitivityMaps(l.f, images, n, C, H, W, o)
	if err != nil {
		t.Fatal(err)
	}
	if units != 3 || len(maps) != 3*H*W {
		t.Fatalf("%d units, %d map values; want 3, %d", units, len(maps), 3*H*W)
	}
	// Positions: rows 0, 2, 4 (4 = 7−3), columns 0, 2, 4, 6: 12 per
	// image, one batch each, after the image's own call.
	if len(l.batches) != 2*n {
		t.Fatalf("%d calls, want %d", len(l.batches), 2*n)
	}
	sum := make([]float64, 3*H*W)
	cnt := make([]float64, H*W)
	var noise []float64
	for i := 0; i < n; i++ {
		base, _ := (&linearUnits{w: l.w, U: 3, px: px}).f(l.batches[2*i])
		pert := l.batches[2*i+1]
		if len(pert) != 12*px {
			t.Fatalf("image %d: %d perturbed images, want 12", i, len(pert)/px)
		}
		out, _ := (&linearUnits{w: l.w, U: 3, px: px}).f(pert)
		for b := 0; b < 12; b++ {
			im := pert[b*px : (b+1)*px]
			changed := 0
			for y := 0; y < H; y++ {
				for x := 0; x < W; x++ {
					nd := 0
					for c := 0; c < C; c++ {
						if p := (c*H+y)*W + x; im[p] != images[i*px+p] {
							nd++
							noise = append(noise, float64(im[p]))
						}
					}
					if nd == 0 {
						continue
					}
					if nd != C {
						t.Fatalf("image %d, perturbation %d: pixel (%d, %d) changed in %d of %d channels", i, b, y, x, nd, C)
					}
					changed++
					cnt[y*W+x]++
					for u := 0; u < 3; u++ {
						sum[u*H*W+y*W+x] += math.Abs(float64(out[b*3+u]) - float64(base[u]))
					}
				}
			}
			if changed != 9 {
				t.Fatalf("image %d, perturbation %d changed %d pixels, want a 3×3 patch", i, b, changed)
			}
		}
	}
	for u := 0; u < 3; u++ {
		for p := 0; p < H*W; p++ {
			if cnt[p] == 0 {
				t.Fatalf("pixel %d never perturbed", p)
			}
			want := sum[u*H*W+p] / cnt[p]
			if !close64(maps[u*H*W+p], want, 1e-9, 1e-9) {
				t.Fatalf("unit %d pixel (%d, %d): map %v, from the batches %v", u, p/W, p%W, maps[u*H*W+p], want)
			}
		}
	}
	// The noise is N(0, 0.7²): 2·12·9·2 = 432 draws.
	var m, ss float64
	for _, v := range noise {
		m += v
		ss += v * v
	}
	m /= float64(len(noise))
	sd := math.Sqrt(ss/float64(len(noise)) - m*m)
	if math.Abs(m) > 0.15 || math.Abs(sd-0.7) > 0.1 {
		t.Errorf("noise mean %.3f, sd %.3f over %d draws; want ≈ 0 and 0.7", m, sd, len(noise))
	}

	// Noise 0: noise as strong as the images' pixels (sd 4 here).
	for i := range images {
		images[i] *= 4
	}
	l.batches = nil
	if _, _, err := SensitivityMaps(l.f, images, n, C, H, W, SensitivityOptions{Patch: 3, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	var ss4 float64
	var n4 int
	for i, b := range l.batches {
		if i%2 == 0 {
			continue // the image itself
		}
		for k, v := range b {
			if p := i/2*px + k%px; v != images[p] {
				ss4 += float64(v) * float64(v)
				n4++
			}
		}
	}
	if sd4, want := math.Sqrt(ss4/float64(n4)), pixelSD(images); math.Abs(sd4-want) > 0.1*want {
		t.Errorf("default noise sd %.3f over %d draws, want the pixels' %.3f", sd4, n4, want)
	}
	for i := range images {
		images[i] /= 4
	}

	// Same seed, same maps; another seed, other noise.
	again, _, _ := SensitivityMaps(l.f, images, n, C, H, W, o)
	if !slices.Equal(again, maps) {
		t.Error("the same seed gave different maps")
	}
	o.Seed = 10
	other, _, _ := SensitivityMaps(l.f, images, n, C, H, W, o)
	if slices.Equal(other, maps) {
		t.Error("seeds 9 and 10 gave the same maps")
	}
}

// A unit that sees one pixel is sensitive exactly where a patch covering
// that pixel reaches, and in batches of any size.
func TestSensitivityMapSupport(t *testing.T) {
	H, W := 10, 12
	w := make([]float32, H*W)
	w[4*W+7] = 1
	l := &linearUnits{w: w, U: 1, px: H * W}
	img := make([]float32, H*W)
	for i := range img {
		img[i] = float32(i%3) - 1
	}
	o := SensitivityOptions{Patch: 4, Stride: 3} // noise: the image's own sd
	maps, _, err := SensitivityMaps(l.f, img, 1, 1, H, W, o)
	if err != nil {
		t.Fatal(err)
	}
	// Row starts 0, 3, 6: only the patch from 3 (rows 3–6) covers row 4.
	// Column starts 0, 3, 6, 8 (flush with the edge): only the patch
	// from 6 (columns 6–9) covers column 7.
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			in := y >= 3 && y <= 6 && x >= 6 && x <= 9
			if v := maps[y*W+x]; (v > 0) != in {
				t.Errorf("pixel (%d, %d): map %v, want %s", y, x, v, map[bool]string{true: "> 0", false: "0"}[in])
			}
		}
	}
	defer func(v int) { sensitivityBatch = v }(sensitivityBatch)
	sensitivityBatch = 5
	l.batches = nil
	small, _, err := SensitivityMaps(l.f, img, 1, 1, H, W, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.batches) != 1+3 { // 12 positions in batches of 5
		t.Errorf("%d calls, want 4", len(l.batches))
	}
	if !slices.Equal(small, maps) {
		t.Error("batches of 5 changed the map")
	}
}

func TestSensitivityMapsBadInput(t *testing.T) {
	img := make([]float32, 2*6*6)
	for i := range img {
		img[i] = float32(i % 4)
	}
	ok := func(x []float32) ([]float32, error) { return x[:len(x)/36], nil }
	boom := errors.New("device lost")
	calls := 0
	for _, c := range []struct {
		name string
		f    ActivationFunc
		img  []float32
		o    SensitivityOptions
		want string
	}{
		{"no patch", ok, img, SensitivityOptions{}, "patch 0, want 1…6"},
		{"patch too big", ok, img, SensitivityOptions{Patch: 7}, "patch 7, want 1…6"},
		{"negative stride", ok, img, SensitivityOptions{Patch: 2, Stride: -1}, "stride -1"},
		{"short images", ok, img[:71], SensitivityOptions{Patch: 2}, "71 values for 2 images"},
		{"constant images", ok, make([]float32, 72), SensitivityOptions{Patch: 2}, "give Noise"},
		{"error", func([]float32) ([]float32, error) { return nil, boom }, img, SensitivityOptions{Patch: 2}, "device lost"},
		{"ragged activations", func(x []float32) ([]float32, error) { return make([]float32, len(x)/36+1), nil }, img, SensitivityOptions{Patch: 2}, "activations of 25 images have 26 values, want 25×units (units 2 so far)"},
		{"changing units", func(x []float32) ([]float32, error) {
			calls++
			return make([]float32, calls*len(x)/36), nil
		}, img, SensitivityOptions{Patch: 2}, "want 25×units (units 1 so far)"},
		{"NaN activations", func(x []float32) ([]float32, error) { return []float32{float32(math.NaN())}, nil }, img, SensitivityOptions{Patch: 2}, "activations: value [0, 0] is NaN"},
	} {
		_, _, err := SensitivityMaps(c.f, c.img, 2, 1, 6, 6, c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestGradientRFsOfALinearModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	outputs, in := 7, 12
	w := randMatrix(rng, outputs, in)
	image := randMatrix(rng, 1, in)
	calls := 0
	// y = W·x: the VJP of dy is dyᵀ·W for every sample, checked to get
	// copies of the image.
	vjp := func(x, dy []float32) ([]float32, error) {
		calls++
		n := len(x) / in
		if len(dy) != n*outputs {
			t.Fatalf("dy has %d values for %d samples", len(dy), n)
		}
		g := make([]float32, len(x))
		for s := 0; s < n; s++ {
			if !slices.Equal(x[s*in:(s+1)*in], image) {
				t.Fatalf("sample %d is not the image", s)
			}
			for j := 0; j < outputs; j++ {
				for p := 0; p < in; p++ {
					g[s*in+p] += dy[s*outputs+j] * w[j*in+p]
				}
			}
		}
		return g, nil
	}
	units := []int{6, 0, 3, 3, 5}
	defer func(v int) { gradientBatch = v }(gradientBatch)
	gradientBatch = 2 * outputs // two units per call
	rf, err := GradientRFs(vjp, image, outputs, units)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3 {
		t.Errorf("%d VJP calls for 5 units in pairs, want 3", calls)
	}
	for k, u := range units {
		if !slices.Equal(rf[k*in:(k+1)*in], w[u*in:(u+1)*in]) {
			t.Errorf("RF %d (unit %d) = %v, want its weights %v", k, u, rf[k*in:(k+1)*in], w[u*in:(u+1)*in])
		}
	}
	if _, err := GradientRFs(vjp, image, outputs, []int{7}); err == nil || !strings.Contains(err.Error(), "units[0] = 7, want in [0, 7)") {
		t.Errorf("unit 7 of 7: %v", err)
	}
	short := func(x, dy []float32) ([]float32, error) { return x[1:], nil }
	if _, err := GradientRFs(short, image, outputs, []int{1}); err == nil || !strings.Contains(err.Error(), "returned 11 values") {
		t.Errorf("short VJP result: %v", err)
	}
}
