package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
)

// Tutorial geometry shared by the convolutional networks.
const (
	convChannels = 6 // C_out
	convK        = 7 // kernel size; padding K/2 keeps H×W
	poolK        = 8 // Tutorial 3's nn.MaxPool2d(8)
	fcUnits      = 10
)

// initStream separates the initialisation's random stream from the
// minibatch order's (see Trainer), both derived from one seed.
const initStream = 0x696e6974 // "init"

// NewNormative builds Tutorial 3's CNN for h×w grating images (48×64 in
// the tutorial): conv 6×1×7×7 pad 3 → ReLU → max-pool 8 → fc 10 → ReLU →
// out 1 → sigmoid, with BCE loss. The conv weights are the tutorial's
// filters() and its bias 0; fc and out get PyTorch's default
// initialisation drawn from seed (a Go generator, so not torch's numbers).
func NewNormative(be kernels.Backend, h, w int, seed uint64) (*Model, error) {
	if h < poolK || w < poolK {
		return nil, fmt.Errorf("models: normative: images must be at least %d×%d, got %d×%d", poolK, poolK, h, w)
	}
	bd := newBuilder(be, "normative", "", []int{1, h, w}, BCE, "")
	bd.conv("conv", convChannels, convK, convK/2)
	bd.act(reluLayer, "")
	bd.maxPool("pool", poolK)
	bd.linear("fc", fcUnits)
	bd.act(reluLayer, "")
	bd.linear("out", 1)
	bd.act(sigmoidLayer, "")
	m, err := bd.done()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, initStream))
	init := map[string][]float32{
		"conv.weight": data.Filters(convChannels, convK),
		"conv.bias":   make([]float32, convChannels),
	}
	for _, name := range []string{"fc", "out"} {
		defaultLinearInit(rng, m.Param(name+".weight"), m.Param(name+".bias"), init)
	}
	return m, m.upload(init)
}

// Decode variants.
const (
	Softmax = "softmax" // DeepNetSoftmax: log-softmax over classes, NLL
	ReLU    = "relu"    // DeepNetReLU: one output regressing degrees, MSE
)

// NewDecode builds the Bonus tutorial's decoder of neurons responses:
// in_layer neurons→hidden → ReLU → out_layer hidden→classes with
// log-softmax and NLL (variant Softmax), or hidden→1 with MSE (variant
// ReLU; classes is ignored). PyTorch's default initialisation is drawn
// from seed. The L1/L2 penalties apply to in_layer.weight.
func NewDecode(be kernels.Backend, variant string, neurons, hidden, classes int, seed uint64) (*Model, error) {
	if neurons < 1 || hidden < 1 {
		return nil, fmt.Errorf("models: decode: need ≥ 1 neuron and hidden unit, got %d and %d", neurons, hidden)
	}
	var bd *builder
	switch variant {
	case Softmax:
		if classes < 2 {
			return nil, fmt.Errorf("models: decode: need ≥ 2 classes, got %d", classes)
		}
		bd = newBuilder(be, "decode", variant, []int{neurons}, NLL, "in_layer.weight")
		bd.linear("in_layer", hidden)
		bd.act(reluLayer, "")
		bd.linear("out_layer", classes)
		bd.act(logSoftmaxLayer, "logprob")
	case ReLU:
		bd = newBuilder(be, "decode", variant, []int{neurons}, MSE, "in_layer.weight")
		bd.linear("in_layer", hidden)
		bd.act(reluLayer, "")
		bd.linear("out_layer", 1)
	default:
		return nil, fmt.Errorf("models: decode: unknown variant %q (want %q or %q)", variant, Softmax, ReLU)
	}
	m, err := bd.done()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, initStream))
	init := map[string][]float32{}
	for _, name := range []string{"in_layer", "out_layer"} {
		defaultLinearInit(rng, m.Param(name+".weight"), m.Param(name+".bias"), init)
	}
	return m, m.upload(init)
}

// NewEncode builds the Bonus tutorial's ConvFC encoding model for 1×h×w
// stimuli (12×16 in the tutorial): conv 6×1×7×7 pad 3 (no nonlinearity) →
// flatten → out_layer 6·h·w→neurons, with MSE. The conv weights are the
// tutorial's de-meaned filters and its bias 0; out_layer.weight is
// normal with std 0.01 and its bias PyTorch's default, drawn from seed.
// The L1/L2 penalties apply to out_layer.weight.
func NewEncode(be kernels.Backend, h, w, neurons int, seed uint64) (*Model, error) {
	if h < 1 || w < 1 || neurons < 1 {
		return nil, fmt.Errorf("models: encode: need positive stimulus size and neurons, got %d×%d and %d", h, w, neurons)
	}
	bd := newBuilder(be, "encode", "", []int{1, h, w}, MSE, "out_layer.weight")
	bd.conv("conv", convChannels, convK, convK/2)
	bd.linear("out_layer", neurons)
	m, err := bd.done()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, initStream))
	filt := data.Filters(convChannels, convK)
	data.Demean(filt, convChannels, convK)
	wt, b := m.Param("out_layer.weight"), m.Param("out_layer.bias")
	init := map[string][]float32{"conv.weight": filt, "conv.bias": make([]float32, convChannels)}
	defaultLinearInit(rng, wt, b, init)
	for i := range init[wt.Name] {
		init[wt.Name][i] = float32(0.01 * rng.NormFloat64()) // nn.init.normal_(std=0.01)
	}
	return m, m.upload(init)
}

// defaultLinearInit draws nn.Linear's default initialisation:
// kaiming_uniform_(a=√5) gives U(−1/√fan_in, 1/√fan_in) for the weight,
// and the bias is U(−1/√fan_in, 1/√fan_in) too.
func defaultLinearInit(rng *rand.Rand, w, b *Param, into map[string][]float32) {
	bound := 1 / math.Sqrt(float64(w.Shape[1]))
	for _, p := range []*Param{w, b} {
		v := make([]float32, kernels.Numel(p.Shape))
		for i := range v {
			v[i] = float32((2*rng.Float64() - 1) * bound)
		}
		into[p.Name] = v
	}
}

// upload writes initial values by parameter name.
func (m *Model) upload(vals map[string][]float32) error {
	for _, p := range m.params {
		v, ok := vals[p.Name]
		if !ok || len(v) != kernels.Numel(p.Shape) {
			m.Close()
			return fmt.Errorf("models: %s: no initial value of size %d for %s", m.Name, kernels.Numel(p.Shape), p.Name)
		}
		if err := m.be.Upload(p.Value, v); err != nil {
			m.Close()
			return fmt.Errorf("models: %s: uploading %s: %w", m.Name, p.Name, err)
		}
	}
	return nil
}
