package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/vkneuro/vkneuro/kernels"
)

// Sequential describes a feed-forward network the way nn.Sequential
// does: modules applied in order, each named by its index ("0", "1", …)
// unless Named gives it a name, so that the state_dict keys are
// nn.Sequential's ("0.weight", "3.bias") and a state dict moves between
// vkneuro and the same nn.Sequential in PyTorch with load_state_dict.
type Sequential struct {
	// Name labels the model in errors, summaries and checkpoints
	// (default "sequential").
	Name string
	// Input is the per-sample input shape: [C, H, W] for images, [F]
	// for feature vectors.
	Input  []int
	Layers []Layer
	// Loss is the data term; it must fit the network's output (New
	// says why when it does not).
	Loss Loss
	// Seed draws PyTorch's default initialisation of every Conv2d and
	// Linear (U(−1/√fan_in, 1/√fan_in) for weights and biases) from a Go
	// generator: the distribution is torch's, the numbers are not; load
	// a state dict for given weights.
	Seed uint64
	// DropoutSeed seeds the Dropout modules' masks.
	DropoutSeed uint64
}

// initStream separates the initialisation's random stream from the
// minibatch order's (see Trainer), both derived from one seed.
const initStream = 0x696e6974 // "init"

// New plans the network for its input shape, checks every module and the
// loss before anything is allocated, then allocates the parameters on be
// and initialises them. Errors name the module by index (or name) and
// constructor and say what it got and expected.
func New(be kernels.Backend, s Sequential) (*Model, error) {
	return newModel(be, s, func(m *Model, rng *rand.Rand) map[string][]float32 {
		init := map[string][]float32{}
		for _, nd := range m.nodes {
			for i, ps := range nd.plan.params {
				init[nd.params[i].Name] = uniformInit(rng, kernels.Numel(ps.shape), 1/math.Sqrt(float64(ps.fanIn)))
			}
		}
		return init
	})
}

// newModel is New with the initial values drawn by init from the seeded
// generator (the presets keep their tutorials' initialisations).
func newModel(be kernels.Backend, s Sequential, init func(m *Model, rng *rand.Rand) map[string][]float32) (*Model, error) {
	if s.Name == "" {
		s.Name = "sequential"
	}
	nodes, err := planNodes(s)
	if err != nil {
		return nil, err
	}
	m := &Model{Name: s.Name, Input: append([]int(nil), s.Input...), Loss: s.Loss, be: be, nodes: nodes,
		dropoutSeed: s.DropoutSeed, steps: map[int]*recording{}, feeds: map[int]*recording{}, evals: map[int]*recording{}, igrads: map[int]*recording{}}
	m.training = Training{Optimizer: SGD(0)}
	if err := m.allocate(); err != nil {
		m.Close()
		return nil, err
	}
	for _, nd := range nodes {
		if _, ok := nd.layer.(Dropout); ok {
			nd.seed = dropoutSeed(s.DropoutSeed, nd.index)
		}
	}
	if err := m.upload(init(m, rand.New(rand.NewPCG(s.Seed, initStream)))); err != nil {
		return nil, err
	}
	return m, nil
}

// planNodes plans every module for the shape it receives.
func planNodes(s Sequential) ([]*node, error) {
	for _, d := range s.Input {
		if d < 1 {
			return nil, fmt.Errorf("models: %s: input shape %s must have positive sizes", s.Name, shapeText(s.Input))
		}
	}
	if len(s.Input) == 0 {
		return nil, fmt.Errorf("models: %s: no input shape", s.Name)
	}
	if len(s.Layers) == 0 {
		return nil, fmt.Errorf("models: %s: no modules", s.Name)
	}
	var nodes []*node
	cur := s.Input
	names := map[string]bool{}
	index, needGrad := 0, false
	for i, l := range s.Layers {
		if l == nil {
			return nil, fmt.Errorf("models: %s: module %d is nil", s.Name, i)
		}
		nd := &node{layer: l, in: cur, index: i}
		functional := false
		if w, ok := l.(named); ok {
			nd.layer, nd.name, functional = w.Layer, w.name, w.functional
			if _, ok := nd.layer.(named); ok || nd.layer == nil {
				return nil, fmt.Errorf("models: %s: module %d: Named and Functional take a module, not another wrapper or nil", s.Name, i)
			}
		}
		where := fmt.Sprintf("module %d %s", i, nd.layer)
		switch {
		case functional:
		case nd.name != "":
			if strings.ContainsAny(nd.name, ". ") || names[nd.name] {
				return nil, fmt.Errorf("models: %s: %s: name %q must be unique and contain no '.' or space", s.Name, where, nd.name)
			}
			where = fmt.Sprintf("module %q (%d) %s", nd.name, i, nd.layer)
		default:
			nd.name = fmt.Sprint(index)
		}
		if !functional {
			names[nd.name] = true
			index++
		}
		p, err := nd.layer.plan(cur)
		if lin, ok := nd.layer.(Linear); ok && err != nil && len(nodes) > 0 && len(cur) == 1 {
			if prev := nodes[len(nodes)-1]; prev.plan.view && len(prev.in) > 1 {
				// Say where a flattened size comes from.
				err = fmt.Errorf("gets %s input features from flattening %s, but in_features is %d", product(prev.in), shapeText(prev.in), lin.In)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("models: %s: %s: %w", s.Name, where, err)
		}
		if functional && len(p.params) > 0 {
			return nil, fmt.Errorf("models: %s: %s owns parameters, so it must be a module, not Functional", s.Name, where)
		}
		nd.plan, nd.out = p, p.out
		needGrad = needGrad || len(p.params) > 0
		nd.needGrad = needGrad
		nodes = append(nodes, nd)
		cur = p.out
	}
	if err := s.Loss.check(cur, nodes[len(nodes)-1].layer); err != nil {
		return nil, fmt.Errorf("models: %s: %w", s.Name, err)
	}
	return nodes, nil
}

// allocate makes the step state and every parameter with its gradient
// and momentum buffer.
func (m *Model) allocate() error {
	var err error
	m.stateHost = make([]float32, kernels.StepStateLen)
	if m.state, err = m.be.NewTensor(kernels.StepStateLen); err != nil {
		return fmt.Errorf("models: allocating the step state: %w", err)
	}
	for _, nd := range m.nodes {
		for _, ps := range nd.plan.params {
			p := &Param{Name: nd.name + "." + ps.suffix, Shape: ps.shape}
			for _, t := range []**kernels.Tensor{&p.Value, &p.Grad, &p.Buf} {
				if *t, err = m.be.NewTensor(ps.shape...); err != nil {
					return fmt.Errorf("models: allocating %s %v: %w", p.Name, ps.shape, err)
				}
			}
			nd.params = append(nd.params, p)
			m.params = append(m.params, p)
		}
	}
	return nil
}

func uniformInit(rng *rand.Rand, n int, bound float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32((2*rng.Float64() - 1) * bound)
	}
	return v
}

// dropoutSeed gives each Dropout module its own mask stream: SplitMix64
// of the model's dropout seed and the module's index.
func dropoutSeed(seed uint64, index int) uint32 {
	z := seed + uint64(index+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return uint32(z ^ (z >> 31))
}

// upload writes values by parameter name; parameters without one keep
// what they have.
func (m *Model) upload(vals map[string][]float32) error {
	for _, p := range m.params {
		v, ok := vals[p.Name]
		if !ok {
			continue
		}
		if len(v) != kernels.Numel(p.Shape) {
			m.Close()
			return fmt.Errorf("models: %s: initial value of %s has %d values, want %d", m.Name, p.Name, len(v), kernels.Numel(p.Shape))
		}
		if err := m.be.Upload(p.Value, v); err != nil {
			m.Close()
			return fmt.Errorf("models: %s: uploading %s: %w", m.Name, p.Name, err)
		}
	}
	return nil
}

// OutputShape plans the network without allocating anything and returns
// its per-sample output shape, or New's error.
func (s Sequential) OutputShape() ([]int, error) {
	if s.Name == "" {
		s.Name = "sequential"
	}
	nodes, err := planNodes(s)
	if err != nil {
		return nil, err
	}
	return append([]int(nil), nodes[len(nodes)-1].out...), nil
}

// ParamCount is the number of learnable values.
func (m *Model) ParamCount() int {
	n := 0
	for _, p := range m.params {
		n += kernels.Numel(p.Shape)
	}
	return n
}

// SetLoss changes the data term, checked against the network's output as
// New checks it; training steps recorded with the old one are discarded.
func (m *Model) SetLoss(l Loss) error {
	if len(m.nodes) == 0 {
		return fmt.Errorf("models: %s has no modules", m.describe())
	}
	if err := l.check(m.outShape(), m.nodes[len(m.nodes)-1].layer); err != nil {
		return fmt.Errorf("models: %s: %w", m.describe(), err)
	}
	if l == m.Loss {
		return nil
	}
	m.Loss = l
	return m.discardSteps()
}
