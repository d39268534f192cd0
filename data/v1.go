package data

import (
	"fmt"
	"math"
	"sort"
)

// V1 holds trial-averaged V1 responses to oriented gratings, the content of
// the Stringer et al. (2019) file W3D4_stringer_oribinned1.npz.
type V1 struct {
	Resp    []float32 // S×N row-major: Resp[s*N+n] is neuron n's response to stimulus s
	S, N    int
	Stimuli []float32 // stimulus orientation in degrees, len S
	// Synthetic is true for data made by SyntheticV1, or read from a file
	// that SaveV1 marked as synthetic.
	Synthetic bool
	// Converted lists the keys that were converted to float32 from another
	// dtype when loaded, as "key (dtype)".
	Converted []string
}

// V1Split holds V1 responses averaged separately over two halves of the
// trials, the content of W3D4_stringer_oribinned6_split.npz.
type V1Split struct {
	RespTrain, RespTest []float32 // S×N row-major each
	S, N                int
	Stimuli             []float32 // degrees, len S
	Synthetic           bool
	Converted           []string
}

// File keys.
const (
	keyResp      = "resp"
	keyRespTrain = "resp_train"
	keyRespTest  = "resp_test"
	keyStimuli   = "stimuli"
	keySynthetic = "synthetic"
)

// LoadV1 reads an oribinned1.npz-style file: "resp" [S,N] and "stimuli" [S]
// or [S,1]. Other numeric dtypes are converted to float32 (see
// V1.Converted); missing keys, wrong ranks, mismatched S, empty arrays and
// non-finite values are errors naming the file, key and shape.
func LoadV1(path string) (*V1, error) {
	arrs, err := ReadNPZ(path)
	if err != nil {
		return nil, err
	}
	if err := requireKeys(path, arrs, keyResp, keyStimuli); err != nil {
		return nil, err
	}
	resp, stim := arrs[keyResp], arrs[keyStimuli]
	s, n, err := checkResp(path, keyResp, resp)
	if err != nil {
		return nil, err
	}
	if err := checkStimuli(path, stim, keyResp, resp); err != nil {
		return nil, err
	}
	return &V1{
		Resp: resp.Data, S: s, N: n, Stimuli: stim.Data,
		Synthetic: arrs[keySynthetic] != nil,
		Converted: converted(arrs, keyResp, keyStimuli),
	}, nil
}

// LoadV1Split reads an oribinned6_split.npz-style file: "resp_train" and
// "resp_test" [S,N] and "stimuli" [S] or [S,1], validated as LoadV1 does.
func LoadV1Split(path string) (*V1Split, error) {
	arrs, err := ReadNPZ(path)
	if err != nil {
		return nil, err
	}
	if err := requireKeys(path, arrs, keyRespTrain, keyRespTest, keyStimuli); err != nil {
		return nil, err
	}
	train, test, stim := arrs[keyRespTrain], arrs[keyRespTest], arrs[keyStimuli]
	s, n, err := checkResp(path, keyRespTrain, train)
	if err != nil {
		return nil, err
	}
	if _, _, err := checkResp(path, keyRespTest, test); err != nil {
		return nil, err
	}
	if test.Shape[0] != s || test.Shape[1] != n {
		return nil, fmt.Errorf("data: %s: key %q: shape %v differs from key %q shape %v", path, keyRespTest, test.Shape, keyRespTrain, train.Shape)
	}
	if err := checkStimuli(path, stim, keyRespTrain, train); err != nil {
		return nil, err
	}
	return &V1Split{
		RespTrain: train.Data, RespTest: test.Data, S: s, N: n, Stimuli: stim.Data,
		Synthetic: arrs[keySynthetic] != nil,
		Converted: converted(arrs, keyRespTrain, keyRespTest, keyStimuli),
	}, nil
}

func requireKeys(path string, arrs map[string]*Array, keys ...string) error {
	for _, k := range keys {
		if arrs[k] == nil {
			present := make([]string, 0, len(arrs))
			for p := range arrs {
				present = append(present, p)
			}
			sort.Strings(present)
			return fmt.Errorf("data: %s: missing key %q (keys present: %q)", path, k, present)
		}
	}
	return nil
}

// checkResp validates a [S,N] response array.
func checkResp(path, key string, a *Array) (s, n int, err error) {
	if len(a.Shape) != 2 {
		return 0, 0, fmt.Errorf("data: %s: key %q: shape %v has rank %d, want rank 2 [stimuli, neurons]", path, key, a.Shape, len(a.Shape))
	}
	if len(a.Data) == 0 {
		return 0, 0, fmt.Errorf("data: %s: key %q: empty array of shape %v, want at least one stimulus and one neuron", path, key, a.Shape)
	}
	if err := checkFinite(path, key, a); err != nil {
		return 0, 0, err
	}
	return a.Shape[0], a.Shape[1], nil
}

// checkStimuli validates a [S] or [S,1] stimulus array against resp.
func checkStimuli(path string, stim *Array, respKey string, resp *Array) error {
	sh := stim.Shape
	if !(len(sh) == 1 || len(sh) == 2 && sh[1] == 1) {
		return fmt.Errorf("data: %s: key %q: shape %v, want [S] or [S 1] (one orientation per stimulus)", path, keyStimuli, sh)
	}
	if sh[0] != resp.Shape[0] {
		return fmt.Errorf("data: %s: key %q: shape %v has %d stimuli, but key %q has shape %v (%d stimuli)", path, keyStimuli, sh, sh[0], respKey, resp.Shape, resp.Shape[0])
	}
	return checkFinite(path, keyStimuli, stim)
}

func checkFinite(path, key string, a *Array) error {
	for i, v := range a.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			what := ""
			if a.Converted() {
				what = fmt.Sprintf(" (after conversion from %s to float32)", a.DType)
			}
			return fmt.Errorf("data: %s: key %q: non-finite value %v at index %v of shape %v%s", path, key, v, unravel(i, a.Shape), a.Shape, what)
		}
	}
	return nil
}

// unravel converts a flat row-major index to a multi-index.
func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			idx[d] = i % shape[d]
			i /= shape[d]
		}
	}
	return idx
}

func converted(arrs map[string]*Array, keys ...string) []string {
	var c []string
	for _, k := range keys {
		if a := arrs[k]; a.Converted() {
			c = append(c, fmt.Sprintf("%s (%s)", k, a.DType))
		}
	}
	return c
}

// SaveV1 writes v atomically in the LoadV1 format: "resp" [S,N] and
// "stimuli" [S], float32, plus "synthetic" [1] = 1 if v.Synthetic.
func SaveV1(path string, v *V1) error {
	if err := checkSizes(path, v.S, v.N, v.Stimuli, v.Resp); err != nil {
		return err
	}
	arrs := map[string]*Array{
		keyResp:    {Shape: []int{v.S, v.N}, Data: v.Resp},
		keyStimuli: {Shape: []int{v.S}, Data: v.Stimuli},
	}
	if v.Synthetic {
		arrs[keySynthetic] = &Array{Shape: []int{1}, Data: []float32{1}}
	}
	return WriteNPZ(path, arrs)
}

// SaveV1Split writes v atomically in the LoadV1Split format.
func SaveV1Split(path string, v *V1Split) error {
	if err := checkSizes(path, v.S, v.N, v.Stimuli, v.RespTrain, v.RespTest); err != nil {
		return err
	}
	arrs := map[string]*Array{
		keyRespTrain: {Shape: []int{v.S, v.N}, Data: v.RespTrain},
		keyRespTest:  {Shape: []int{v.S, v.N}, Data: v.RespTest},
		keyStimuli:   {Shape: []int{v.S}, Data: v.Stimuli},
	}
	if v.Synthetic {
		arrs[keySynthetic] = &Array{Shape: []int{1}, Data: []float32{1}}
	}
	return WriteNPZ(path, arrs)
}

func checkSizes(path string, s, n int, stim []float32, resps ...[]float32) error {
	if s < 0 || n < 0 || len(stim) != s {
		return fmt.Errorf("data: %s: S=%d, N=%d with %d stimuli, want S = len(Stimuli)", path, s, n, len(stim))
	}
	for _, r := range resps {
		if len(r) != s*n {
			return fmt.Errorf("data: %s: response of length %d, want S×N = %d×%d", path, len(r), s, n)
		}
	}
	return nil
}

// Bin averages responses and stimulus orientations over orientation bins of
// the given width in degrees, as the tutorials' load_data(bin_width) does:
// bins are np.digitize(stimuli, np.arange(0, 360+width, width)), and each
// occupied bin, in increasing bin order, gives one stimulus whose
// orientation and responses are the means over its members. As in the
// tutorial, a width ≤ 1 (or NaN or +Inf) leaves the data unbinned; Bin then
// returns a copy.
func (v *V1) Bin(width float64) *V1 {
	if !(width > 1) || math.IsInf(width, 1) {
		return v.clone()
	}
	edges := arange(0, 360+width, width)
	idx := make([]int, v.S)
	for s, st := range v.Stimuli {
		idx[s] = digitize(float64(st), edges)
	}
	uniq := append([]int(nil), idx...)
	sort.Ints(uniq)
	uniq = compactInts(uniq)
	pos := make(map[int]int, len(uniq))
	for i, b := range uniq {
		pos[b] = i
	}
	nb := len(uniq)
	sumR := make([]float64, nb*v.N)
	sumS := make([]float64, nb)
	cnt := make([]int, nb)
	for s := 0; s < v.S; s++ {
		b := pos[idx[s]]
		cnt[b]++
		sumS[b] += float64(v.Stimuli[s])
		row := v.Resp[s*v.N : (s+1)*v.N]
		acc := sumR[b*v.N : (b+1)*v.N]
		for n, r := range row {
			acc[n] += float64(r)
		}
	}
	out := &V1{S: nb, N: v.N, Resp: make([]float32, nb*v.N), Stimuli: make([]float32, nb),
		Synthetic: v.Synthetic, Converted: v.Converted}
	for b := 0; b < nb; b++ {
		c := float64(cnt[b])
		out.Stimuli[b] = float32(sumS[b] / c)
		for n := 0; n < v.N; n++ {
			out.Resp[b*v.N+n] = float32(sumR[b*v.N+n] / c)
		}
	}
	return out
}

// Tutorial3 keeps the stimuli with orientation ≤ 180° and shifts their
// orientations by −90°, so that 0 means vertical and the sign is the tilt
// direction, as Tutorial 3's load_data does.
func (v *V1) Tutorial3() *V1 {
	out := &V1{N: v.N, Synthetic: v.Synthetic, Converted: v.Converted}
	for s, st := range v.Stimuli {
		if st <= 180 {
			out.Stimuli = append(out.Stimuli, st-90)
			out.Resp = append(out.Resp, v.Resp[s*v.N:(s+1)*v.N]...)
			out.S++
		}
	}
	return out
}

func (v *V1) clone() *V1 {
	c := *v
	c.Resp = append([]float32(nil), v.Resp...)
	c.Stimuli = append([]float32(nil), v.Stimuli...)
	c.Converted = append([]string(nil), v.Converted...)
	return &c
}

// StimulusClass returns the orientation class of an angle in degrees, as
// the Bonus tutorial's stimulus_class: np.digitize(deg, np.linspace(0, 360,
// nClasses+1)) − 1. Angles in [0,360) give 0…nClasses−1; like NumPy, angles
// below 0 give −1 and angles ≥ 360 or NaN give nClasses. It returns −1 if
// nClasses < 1.
func StimulusClass(deg float64, nClasses int) int {
	if nClasses < 1 {
		return -1
	}
	return digitize(deg, linspace64(0, 360, nClasses+1)) - 1
}

// digitize is np.digitize(x, edges) for increasing edges (right=False):
// the number of edges ≤ x, with NaN sorting after every edge.
func digitize(x float64, edges []float64) int {
	if math.IsNaN(x) {
		return len(edges)
	}
	return sort.Search(len(edges), func(i int) bool { return edges[i] > x })
}

// arange reproduces np.arange(start, stop, step) for float64 arguments:
// ceil((stop-start)/step) elements start + i*step.
func arange(start, stop, step float64) []float64 {
	n := int(math.Ceil((stop - start) / step))
	if n < 0 {
		n = 0
	}
	y := make([]float64, n)
	for i := range y {
		y[i] = start + float64(i)*step
	}
	return y
}

func compactInts(s []int) []int {
	if len(s) == 0 {
		return s
	}
	out := s[:1]
	for _, x := range s[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}
