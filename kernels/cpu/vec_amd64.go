//go:build amd64 && !purego && !goexperiment.simd

package cpu

import "golang.org/x/sys/cpu"

// The default amd64 build runs the AVX2+FMA loops of vec_amd64.s, the same
// loops vec_simd_amd64.go writes with GOEXPERIMENT=simd, so a plain
// `go build` gets 8-wide fused multiply-adds. The Go wrappers check every
// bound the assembly relies on; the assembly itself trusts its arguments.
// Without AVX2+FMA (or with -tags purego) gonum's SSE Saxpy and Sdot and
// the plain loops run instead.

// hasAVX2FMA selects the assembly; x/sys/cpu also checks that the OS saves
// the YMM registers.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// simdKind names the vector code in use, for Device.
var simdKind = func() string {
	switch {
	case hasAVX512:
		return "AVX-512 and AVX2+FMA asm"
	case hasAVX2FMA:
		return "AVX2+FMA asm"
	}
	return "gonum asm"
}()

//go:noescape
func axpyAVX(y []float32, a float32, x []float32)

//go:noescape
func dotAVX(x, y []float32) float32

//go:noescape
func maxWindow8AVX(x []float32, w, kh int) (idx int, ok bool)

// axpy sets y[i] += a·x[i] for i < len(y); len(x) ≥ len(y).
func axpy(y []float32, a float32, x []float32) {
	if !hasAVX2FMA {
		axpyGonum(y, a, x)
		return
	}
	if len(y) == 0 {
		return
	}
	axpyAVX(y, a, x[:len(y)])
}

// dot returns Σ x[i]·y[i] for i < len(x) in float32; len(y) ≥ len(x).
func dot(x, y []float32) float32 {
	if !hasAVX2FMA {
		return dotGonum(x, y)
	}
	if len(x) == 0 {
		return 0
	}
	return dotAVX(x, y[:len(x)])
}

// maxWindow8 returns the offset r·w+c of the first maximum of the window
// of kh rows of 8 starting at xp[start] (rows w apart), or ok = false when
// the window holds a NaN (the plain loop handles NaNs as PyTorch) or AVX2
// is missing.
func maxWindow8(xp []float32, start, w, kh int) (idx int, ok bool) {
	if !hasAVX2FMA || kh < 1 {
		return 0, false
	}
	_ = xp[start+(kh-1)*w+7]
	return maxWindow8AVX(xp[start:], w, kh)
}

// hasAVX512 selects the 16-wide loops where the CPU (and OS) has
// AVX-512 F, VL, BW and DQ.
var hasAVX512 = hasAVX2FMA && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ

//go:noescape
func peakFMA8(iters int, a, b float32) float32

//go:noescape
func peakFMA16(iters int, a, b float32) float32

// peakLoops are the FMA loops of MeasurePeak for the vector code in use.
func peakLoops() []peakLoop {
	if !hasAVX2FMA {
		return []peakLoop{{"scalar", 1, peakGeneric}}
	}
	l := []peakLoop{{"AVX2+FMA", 8, peakFMA8}}
	if hasAVX512 {
		l = append(l, peakLoop{"AVX-512", 16, peakFMA16})
	}
	return l
}

//go:noescape
func maxBand8AVX512(x []float32, pitch, kh int, keys *[8]int32, vals *[8]float32) (ok bool)

// maxBand8 pools the eight adjacent windows of kh rows of 8 starting at
// xp[start] (rows pitch apart): each window's maximum in vals and the key
// 8·r + c of its first maximum in row-major order (row r, column c) in
// keys. It returns false, leaving the plain loop to handle it, when the
// band holds a NaN or the CPU lacks AVX-512.
func maxBand8(xp []float32, start, pitch, kh int, keys *[8]int32, vals *[8]float32) bool {
	if !hasBand8 || kh < 1 {
		return false
	}
	_ = xp[start+(kh-1)*pitch+63]
	return maxBand8AVX512(xp[start:], pitch, kh, keys, vals)
}

// hasBand8 says maxBand8 takes NaN-free bands.
var hasBand8 = hasAVX512
