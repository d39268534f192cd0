package tasks

import (
	"fmt"
	"math/rand/v2"
)

// splitStream is the PCG stream of the split, apart from the other
// streams drawn from the same seed (initialisation, minibatch order).
const splitStream = 0x73706c6974 // "split"

// Split returns the training and test indices of S samples: a
// permutation drawn from seed whose first int((1−testFrac)·S) entries
// train, as the Bonus tutorial's int(0.6 * n_stimuli) split of
// torch.randperm (with a Go generator, so not torch's permutation).
// testFrac = 0 trains on all, in order, and tests on none.
func Split(S int, testFrac float64, seed uint64) (train, test []int) {
	if testFrac == 0 {
		train = make([]int, S)
		for i := range train {
			train[i] = i
		}
		return train, nil
	}
	perm := rand.New(rand.NewPCG(seed, splitStream)).Perm(S)
	n := int((1 - testFrac) * float64(S))
	return perm[:n], perm[n:]
}

// splitFor is Split with its arguments checked: testFrac in [0, 1) and
// at least one training sample of the S in source.
func splitFor(source string, S int, testFrac float64, seed uint64) (train, test []int, err error) {
	if !(testFrac >= 0 && testFrac < 1) {
		return nil, nil, fmt.Errorf("tasks: test fraction %g: want 0 ≤ f < 1", testFrac)
	}
	train, test = Split(S, testFrac, seed)
	if len(train) == 0 {
		return nil, nil, fmt.Errorf("%s: %d stimuli leave no training samples with test fraction %g", source, S, testFrac)
	}
	return train, test, nil
}

// Rows gathers rows idx of an S×width row-major matrix, as m[idx] in
// NumPy.
func Rows(m []float32, width int, idx []int) []float32 {
	out := make([]float32, 0, len(idx)*width)
	for _, i := range idx {
		out = append(out, m[i*width:(i+1)*width]...)
	}
	return out
}
