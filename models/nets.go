package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
)

// The tutorials' networks, as presets of the Sequential API with the
// tutorials' module names (their PyTorch classes name their modules as
// attributes, and apply ReLU and sigmoid as torch.relu / torch.sigmoid
// calls: Functional here).

// Tutorial geometry shared by the convolutional networks.
const (
	convChannels = 6 // C_out
	convK        = 7 // kernel size; padding K/2 keeps H×W
	poolK        = 8 // Tutorial 3's nn.MaxPool2d(8)
	fcUnits      = 10
)

// tutorialConv is the tutorials' nn.Conv2d(1, 6, kernel_size=7, padding=3).
var tutorialConv = Conv2d{In: 1, Out: convChannels, Kernel: Square(convK), Padding: Square(convK / 2)}

// NewNormative builds Tutorial 3's CNN for h×w grating images (48×64 in
// the tutorial): conv 6×1×7×7 pad 3 → ReLU → max-pool 8 → fc 10 → ReLU →
// out 1 → sigmoid, with BCE loss. The conv weights are the tutorial's
// filters() and its bias 0; fc and out get PyTorch's default
// initialisation drawn from seed (a Go generator, so not torch's numbers).
func NewNormative(be kernels.Backend, h, w int, seed uint64) (*Model, error) {
	if h < poolK || w < poolK {
		return nil, fmt.Errorf("models: normative: images must be at least %d×%d, got %d×%d", poolK, poolK, h, w)
	}
	fcIn := convChannels * (h / poolK) * (w / poolK)
	s := Sequential{Name: "normative", Input: []int{1, h, w}, Loss: BCE, Seed: seed, Layers: []Layer{
		Named("conv", tutorialConv),
		Functional(ReLU{}),
		Named("pool", MaxPool2d{Kernel: Square(poolK)}),
		Functional(Flatten{}),
		Named("fc", Linear{In: fcIn, Out: fcUnits}),
		Functional(ReLU{}),
		Named("out", Linear{In: fcUnits, Out: 1}),
		Functional(Sigmoid{}),
	}}
	return newModel(be, s, func(m *Model, rng *rand.Rand) map[string][]float32 {
		init := map[string][]float32{
			"conv.weight": data.Filters(convChannels, convK),
			"conv.bias":   make([]float32, convChannels),
		}
		for _, name := range []string{"fc", "out"} {
			defaultLinearInit(rng, m.Param(name+".weight"), m.Param(name+".bias"), init)
		}
		return init
	})
}

// Normative variants (Tutorial 3's Bonus Section 1).
const (
	NormativeFC     = "fc"     // FC: flatten → fc 10 → ReLU → out 1 → sigmoid
	NormativeConvFC = "convfc" // ConvFC: the CNN without its max-pool
)

// NewNormativeVariant builds one of Tutorial 3's bonus networks for h×w
// images, with BCE loss and PyTorch's default initialisation drawn from
// seed for every module (the bonus code does not set the tutorial's
// filters): NormativeFC, the fully connected network without
// convolution, or NormativeConvFC, the CNN without pooling.
func NewNormativeVariant(be kernels.Backend, variant string, h, w int, seed uint64) (*Model, error) {
	if h < 1 || w < 1 {
		return nil, fmt.Errorf("models: normative %s: need a positive image size, got %d×%d", variant, h, w)
	}
	var layers []Layer
	switch variant {
	case NormativeFC:
		layers = []Layer{Functional(Flatten{}), Named("fc", Linear{In: h * w, Out: fcUnits})}
	case NormativeConvFC:
		if h < convK/2 || w < convK/2 {
			return nil, fmt.Errorf("models: normative %s: images must be at least %d×%d, got %d×%d", variant, convK/2, convK/2, h, w)
		}
		layers = []Layer{Named("conv", tutorialConv), Functional(ReLU{}), Functional(Flatten{}),
			Named("fc", Linear{In: convChannels * h * w, Out: fcUnits})}
	default:
		return nil, fmt.Errorf("models: normative: unknown variant %q (want %q or %q)", variant, NormativeFC, NormativeConvFC)
	}
	layers = append(layers, Functional(ReLU{}), Named("out", Linear{In: fcUnits, Out: 1}), Functional(Sigmoid{}))
	m, err := New(be, Sequential{Name: "normative", Input: []int{1, h, w}, Loss: BCE, Seed: seed, Layers: layers})
	if m != nil {
		m.Variant = variant
	}
	return m, err
}

// Decode variants.
const (
	DecodeSoftmax = "softmax" // DeepNetSoftmax: log-softmax over classes, NLL
	DecodeReLU    = "relu"    // DeepNetReLU: one output regressing degrees, MSE
)

// NewDecode builds the Bonus tutorial's decoder of neurons responses:
// in_layer neurons→hidden → ReLU → out_layer hidden→classes with
// log-softmax and NLL (variant DecodeSoftmax), or hidden→1 with MSE
// (variant DecodeReLU; classes is ignored). PyTorch's default
// initialisation is drawn from seed. The L1/L2 penalties of SetHyper
// apply to in_layer.weight.
func NewDecode(be kernels.Backend, variant string, neurons, hidden, classes int, seed uint64) (*Model, error) {
	if neurons < 1 || hidden < 1 {
		return nil, fmt.Errorf("models: decode: need ≥ 1 neuron and hidden unit, got %d and %d", neurons, hidden)
	}
	s := Sequential{Name: "decode", Input: []int{neurons}, Seed: seed, Layers: []Layer{
		Named("in_layer", Linear{In: neurons, Out: hidden}),
		Functional(ReLU{}),
	}}
	switch variant {
	case DecodeSoftmax:
		if classes < 2 {
			return nil, fmt.Errorf("models: decode: need ≥ 2 classes, got %d", classes)
		}
		s.Loss = NLL
		s.Layers = append(s.Layers, Named("out_layer", Linear{In: hidden, Out: classes}), Named("logprob", LogSoftmax{Dim: 1}))
	case DecodeReLU:
		s.Loss = MSE
		s.Layers = append(s.Layers, Named("out_layer", Linear{In: hidden, Out: 1}))
	default:
		return nil, fmt.Errorf("models: decode: unknown variant %q (want %q or %q)", variant, DecodeSoftmax, DecodeReLU)
	}
	m, err := newModel(be, s, func(m *Model, rng *rand.Rand) map[string][]float32 {
		init := map[string][]float32{}
		for _, name := range []string{"in_layer", "out_layer"} {
			defaultLinearInit(rng, m.Param(name+".weight"), m.Param(name+".bias"), init)
		}
		return init
	})
	if m != nil {
		m.Variant, m.Penalized = variant, "in_layer.weight"
	}
	return m, err
}

// NewEncode builds the Bonus tutorial's ConvFC encoding model for 1×h×w
// stimuli (12×16 in the tutorial): conv 6×1×7×7 pad 3 (no nonlinearity) →
// flatten → out_layer 6·h·w→neurons, with MSE. The conv weights are the
// tutorial's de-meaned filters and its bias 0; out_layer.weight is
// normal with std 0.01 and its bias PyTorch's default, drawn from seed.
// The L1/L2 penalties of SetHyper apply to out_layer.weight.
func NewEncode(be kernels.Backend, h, w, neurons int, seed uint64) (*Model, error) {
	if h < 1 || w < 1 || neurons < 1 {
		return nil, fmt.Errorf("models: encode: need positive stimulus size and neurons, got %d×%d and %d", h, w, neurons)
	}
	s := Sequential{Name: "encode", Input: []int{1, h, w}, Loss: MSE, Seed: seed, Layers: []Layer{
		Named("conv", tutorialConv),
		Functional(Flatten{}),
		Named("out_layer", Linear{In: convChannels * h * w, Out: neurons}),
	}}
	m, err := newModel(be, s, func(m *Model, rng *rand.Rand) map[string][]float32 {
		filt := data.Filters(convChannels, convK)
		data.Demean(filt, convChannels, convK)
		wt, b := m.Param("out_layer.weight"), m.Param("out_layer.bias")
		init := map[string][]float32{"conv.weight": filt, "conv.bias": make([]float32, convChannels)}
		defaultLinearInit(rng, wt, b, init)
		for i := range init[wt.Name] {
			init[wt.Name][i] = float32(0.01 * rng.NormFloat64()) // nn.init.normal_(std=0.01)
		}
		return init
	})
	if m != nil {
		m.Penalized = "out_layer.weight"
	}
	return m, err
}

// defaultLinearInit draws nn.Linear's default initialisation:
// kaiming_uniform_(a=√5) gives U(−1/√fan_in, 1/√fan_in) for the weight,
// and the bias is U(−1/√fan_in, 1/√fan_in) too.
func defaultLinearInit(rng *rand.Rand, w, b *Param, into map[string][]float32) {
	bound := 1 / math.Sqrt(float64(w.Shape[1]))
	for _, p := range []*Param{w, b} {
		into[p.Name] = uniformInit(rng, kernels.Numel(p.Shape), bound)
	}
}
