package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The vector primitives are cross-checked against their plain-loop specs
// in vec.go at lengths on both sides of every unroll edge (8, 16, 32, 64)
// and at primes; every output buffer is padded with guard values that must
// survive, which catches writes past the end. Run in the default build
// (AVX2 assembly), with -tags purego (gonum/plain loops) and with
// GOEXPERIMENT=simd (archsimd), the same test covers all three.

var vecLens = []int{0, 1, 2, 3, 7, 8, 9, 13, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 71, 127, 128, 129, 257, 1031}

const guard = float32(-7777)

func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// guarded returns a buffer of n values inside 16 guard values on each side.
func guarded(vals []float32) (all, inner []float32) {
	all = make([]float32, len(vals)+32)
	for i := range all {
		all[i] = guard
	}
	copy(all[16:], vals)
	return all, all[16 : 16+len(vals) : 16+len(vals)]
}

func checkGuards(t *testing.T, what string, all []float32, n int) {
	t.Helper()
	for i, v := range all {
		if (i < 16 || i >= 16+n) && v != guard {
			t.Fatalf("%s: guard at %d overwritten with %v", what, i-16, v)
		}
	}
}

// close reports whether got is within 1e-5 + 1e-5·scale of want, where
// scale bounds the magnitude of the terms summed: the vector code sums in
// a different order and fuses multiply-adds.
func closeTo(got, want, scale float32) bool {
	return math.Abs(float64(got-want)) <= 1e-5+1e-5*float64(scale)
}

func TestVecPrimitives(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range vecLens {
		x := [4][]float32{randVec(r, n+3), randVec(r, n+3), randVec(r, n+3), randVec(r, n+3)}
		y0 := randVec(r, n)
		a := [4]float32{0.5, -1.25, 2, 0.75}

		all, y := guarded(y0)
		axpy(y, a[0], x[0])
		want := append([]float32(nil), y0...)
		axpyGeneric(want, a[0], x[0])
		checkGuards(t, "axpy", all, n)
		for i := range want {
			if !closeTo(y[i], want[i], 4) {
				t.Fatalf("axpy n=%d: y[%d] = %v, want %v", n, i, y[i], want[i])
			}
		}

		scale := float32(4 * (n + 1))
		if got, w := dot(y0, x[1]), dotGeneric(y0, x[1]); !closeTo(got, w, scale) {
			t.Fatalf("dot n=%d = %v, want %v", n, got, w)
		}
	}
}

func TestMaxWindow8(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const w = 13
	for _, kh := range []int{1, 2, 5, 8} {
		for trial := 0; trial < 200; trial++ {
			x := randVec(r, kh*w+8)
			switch trial % 4 {
			case 1: // ties: the first in row-major order wins
				for i := range x {
					x[i] = float32(r.IntN(3))
				}
			case 2:
				x[r.IntN(kh)*w+r.IntN(8)+1] = float32(math.NaN())
			case 3:
				x[1], x[2] = float32(math.Copysign(0, -1)), 0
				for i := 3; i < len(x); i++ {
					x[i] = -1
				}
			}
			start := 1
			idx, ok := maxWindow8(x, start, w, kh)
			best, want, nan := float32(math.Inf(-1)), -1, false
			for rr := 0; rr < kh; rr++ {
				for c := 0; c < 8; c++ {
					v := x[start+rr*w+c]
					if v != v {
						nan = true
					}
					if want < 0 || v > best {
						best, want = v, rr*w+c
					}
				}
			}
			if !ok {
				if hasVectorMax && !nan {
					t.Fatalf("kh=%d trial %d: maxWindow8 declined a window without NaN", kh, trial)
				}
				continue
			}
			if nan {
				t.Fatalf("kh=%d trial %d: maxWindow8 took a window with a NaN", kh, trial)
			}
			if idx != want {
				t.Fatalf("kh=%d trial %d: maxWindow8 = %d, want %d (value %v)", kh, trial, idx, want, best)
			}
		}
	}
}

// hasVectorMax: maxWindow8 is gated by the AVX2+FMA check.
var hasVectorMax = hasAVX2FMA

// TestMaxBand8 checks the band pooling of eight adjacent 8-wide windows
// against the plain first-maximum loop, on values with many ties, and
// that a NaN anywhere in the band leaves it to the plain loop.
func TestMaxBand8(t *testing.T) {
	r := rand.New(rand.NewPCG(29, 30))
	for kh := 1; kh <= 9; kh++ {
		for _, pitch := range []int{64, 67, 80} {
			for trial := 0; trial < 20; trial++ {
				x := make([]float32, kh*pitch+70)
				levels := 1 + trial%6
				for i := range x {
					x[i] = float32(r.IntN(levels)) - 2
				}
				start := trial % 3
				var keys [8]int32
				var vals [8]float32
				if !maxBand8(x, start, pitch, kh, &keys, &vals) {
					if hasBand8 {
						t.Fatalf("kh %d pitch %d: band refused without a NaN", kh, pitch)
					}
					return
				}
				for q := 0; q < 8; q++ {
					best, bi := x[start+8*q], 0
					for h := 0; h < kh; h++ {
						for c := 0; c < 8; c++ {
							if v := x[start+h*pitch+8*q+c]; v > best {
								best, bi = v, 8*h+c
							}
						}
					}
					if vals[q] != best || int(keys[q]) != bi {
						t.Fatalf("kh %d pitch %d trial %d window %d: got %v at key %d, want %v at %d", kh, pitch, trial, q, vals[q], keys[q], best, bi)
					}
				}
				// A NaN in any row and lane hands the band back.
				x[start+r.IntN(kh)*pitch+r.IntN(64)] = float32(math.NaN())
				if maxBand8(x, start, pitch, kh, &keys, &vals) {
					t.Fatalf("kh %d pitch %d: band with a NaN accepted", kh, pitch)
				}
			}
		}
	}
}
