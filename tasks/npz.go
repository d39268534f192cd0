package tasks

import (
	"fmt"
	"math"

	"github.com/vkneuro/vkneuro/data"
)

// key returns the non-empty array k of the file path, or an error that
// lists the keys the file has.
func key(path string, arr map[string]*data.Array, k string) (*data.Array, error) {
	a, ok := arr[k]
	if !ok {
		have := make([]string, 0, len(arr))
		for name := range arr {
			have = append(have, fmt.Sprintf("%q", name))
		}
		return nil, fmt.Errorf("%s: missing key %q (file has %v)", path, k, have)
	}
	if a.Len() == 0 {
		return nil, fmt.Errorf("%s: key %q is empty (shape %v)", path, k, a.Shape)
	}
	return a, nil
}

// finite rejects NaN and ±Inf, which would silently poison training.
func finite(path, k string, v []float32) error {
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%s: key %q has a non-finite value %g at flat index %d", path, k, x, i)
		}
	}
	return nil
}
