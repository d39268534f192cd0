package models

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/vkneuro/vkneuro/kernels"
)

// Loss is the data term of a network's objective.
type Loss int

const (
	// BCE is nn.BCELoss on the network's sigmoid output; targets are 0/1 [n,1].
	BCE Loss = iota
	// NLL is nn.NLLLoss on log-probabilities; targets are class indices [n].
	NLL
	// MSE is nn.MSELoss; targets have the output's shape.
	MSE
)

func (l Loss) String() string {
	switch l {
	case BCE:
		return "BCE"
	case NLL:
		return "NLL"
	case MSE:
		return "MSE"
	}
	return fmt.Sprintf("Loss(%d)", int(l))
}

// Hyper are the optimizer and penalty settings baked into a training
// step when it is recorded.
type Hyper struct {
	LR, Momentum float32
	L1, L2       float32 // coefficients of Σ|w| and Σw² on Model.Penalized
}

// Param is a learnable tensor with its gradient and momentum buffer.
type Param struct {
	Name  string // state_dict key, e.g. "conv.weight"
	Shape []int
	Value *kernels.Tensor
	Grad  *kernels.Tensor
	Buf   *kernels.Tensor // SGD momentum buffer; zeros until the first step
}

type layerKind int

const (
	linearLayer layerKind = iota
	convLayer
	reluLayer
	sigmoidLayer
	poolLayer
	logSoftmaxLayer
)

// layer is one module or functional op of a network. Modules carry the
// name PyTorch gives them (and forward hooks see); functional ops
// (torch.relu, torch.sigmoid) have no name.
type layer struct {
	kind layerKind
	name string
	w, b *Param
	conv kernels.Conv2DParams
	pool kernels.Pool2DParams
	out  []int // per-sample output shape
}

// Model is a network on a backend: its parameters and the Programs that
// train and evaluate it.
type Model struct {
	// Name is "normative", "decode" or "encode"; Variant is "softmax" or
	// "relu" for decode and empty otherwise.
	Name, Variant string
	// Input is the per-sample input shape, e.g. [1 48 64].
	Input []int
	// Loss is the data term; Penalized names the weight the L1/L2
	// penalties apply to ("" for none).
	Loss      Loss
	Penalized string

	be     kernels.Backend
	layers []*layer
	params []*Param
	hyper  Hyper
	steps  map[int]*graph // training-step Programs by batch size
	feeds  map[int]*graph // the same, taking their batch by Program.Write
	evals  map[int]*graph // forward-only Programs by batch size
	// resident is the step graph whose input and target hold the whole
	// training set (see stepResident).
	resident *graph
	// lastStep is the step graph that ran last (see Activation).
	lastStep *graph
	// state is the step state (kernels.FillStepState) that every step
	// Program copies from stateHost when it runs; t counts the optimizer
	// steps done.
	state     *kernels.Tensor
	stateHost []float32
	t         uint32
	closed    bool
}

// Backend is the backend the model's tensors live on.
func (m *Model) Backend() kernels.Backend { return m.be }

// Params are the learnable tensors in state_dict order.
func (m *Model) Params() []*Param { return m.params }

// Param returns the parameter with the state_dict key name, or nil.
func (m *Model) Param(name string) *Param {
	for _, p := range m.params {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Hyper returns the current optimizer and penalty settings.
func (m *Model) Hyper() Hyper { return m.hyper }

// SetHyper changes the optimizer and penalty settings; training steps
// recorded with the old ones are discarded.
func (m *Model) SetHyper(h Hyper) error {
	if h.L1 < 0 || h.L2 < 0 || h.LR < 0 || h.Momentum < 0 {
		return fmt.Errorf("models: negative hyper-parameter in %+v", h)
	}
	if (h.L1 != 0 || h.L2 != 0) && m.Penalized == "" {
		return fmt.Errorf("models: %s has no penalised weight; L1/L2 must be 0", m.Name)
	}
	if h == m.hyper {
		return nil
	}
	m.hyper = h
	m.resident, m.lastStep = nil, nil
	err := errors.Join(closeGraphs(m.steps), closeGraphs(m.feeds))
	m.steps, m.feeds = map[int]*graph{}, map[int]*graph{}
	return err
}

// OutputSize is the number of outputs per sample.
func (m *Model) OutputSize() int {
	return kernels.Numel(m.layers[len(m.layers)-1].out)
}

// InputSize is the number of input values per sample.
func (m *Model) InputSize() int { return kernels.Numel(m.Input) }

// TargetSize is the number of target values per sample (1 for class indices).
func (m *Model) TargetSize() int {
	if m.Loss == NLL {
		return 1
	}
	return m.OutputSize()
}

// HiddenLayers names the modules whose outputs Hidden can capture, in
// forward order.
func (m *Model) HiddenLayers() []string {
	var names []string
	for _, l := range m.layers {
		if l.name != "" {
			names = append(names, l.name)
		}
	}
	return names
}

// builder assembles a Model layer by layer.
type builder struct {
	m   *Model
	cur []int // per-sample shape after the last layer
	err error
}

func newBuilder(be kernels.Backend, name, variant string, input []int, loss Loss, penalized string) *builder {
	return &builder{
		m: &Model{Name: name, Variant: variant, Input: append([]int(nil), input...), Loss: loss,
			Penalized: penalized, be: be, steps: map[int]*graph{}, feeds: map[int]*graph{}, evals: map[int]*graph{}},
		cur: append([]int(nil), input...),
	}
}

func (bd *builder) param(name string, shape ...int) *Param {
	if bd.err != nil {
		return nil
	}
	p := &Param{Name: name, Shape: shape}
	for _, t := range []**kernels.Tensor{&p.Value, &p.Grad, &p.Buf} {
		*t, bd.err = bd.m.be.NewTensor(shape...)
		if bd.err != nil {
			bd.err = fmt.Errorf("models: allocating %s %v: %w", name, shape, bd.err)
			return nil
		}
	}
	bd.m.params = append(bd.m.params, p)
	return p
}

func (bd *builder) linear(name string, out int) {
	in := kernels.Numel(bd.cur)
	l := &layer{kind: linearLayer, name: name, out: []int{out}}
	l.w = bd.param(name+".weight", out, in)
	l.b = bd.param(name+".bias", out)
	bd.add(l)
}

func (bd *builder) conv(name string, out, k, pad int) {
	if len(bd.cur) != 3 {
		bd.fail(fmt.Errorf("models: conv %s needs a [C,H,W] input, got %v", name, bd.cur))
		return
	}
	c, h, w := bd.cur[0], bd.cur[1], bd.cur[2]
	l := &layer{kind: convLayer, name: name, conv: kernels.Conv2DParams{PadH: pad, PadW: pad},
		out: []int{out, h + 2*pad - k + 1, w + 2*pad - k + 1}}
	l.w = bd.param(name+".weight", out, c, k, k)
	l.b = bd.param(name+".bias", out)
	bd.add(l)
}

func (bd *builder) maxPool(name string, k int) {
	if len(bd.cur) != 3 || bd.cur[1] < k || bd.cur[2] < k {
		bd.fail(fmt.Errorf("models: max-pool %s of %d needs a [C,H,W] input of at least %d×%d, got %v", name, k, k, k, bd.cur))
		return
	}
	bd.add(&layer{kind: poolLayer, name: name, pool: kernels.Pool2DParams{KernelH: k, KernelW: k},
		out: []int{bd.cur[0], bd.cur[1] / k, bd.cur[2] / k}})
}

// act adds an elementwise op or softmax; name is "" for functional ops
// (torch.relu) and the module name for modules (nn.LogSoftmax).
func (bd *builder) act(kind layerKind, name string) {
	bd.add(&layer{kind: kind, name: name, out: append([]int(nil), bd.cur...)})
}

func (bd *builder) add(l *layer) {
	if bd.err != nil {
		return
	}
	if bd.m.state == nil {
		bd.m.stateHost = make([]float32, kernels.StepStateLen)
		if bd.m.state, bd.err = bd.m.be.NewTensor(kernels.StepStateLen); bd.err != nil {
			return
		}
	}
	bd.m.layers = append(bd.m.layers, l)
	bd.cur = l.out
}

func (bd *builder) fail(err error) {
	if bd.err == nil {
		bd.err = err
	}
}

func (bd *builder) done() (*Model, error) {
	if bd.err != nil {
		bd.m.Close()
		return nil, bd.err
	}
	return bd.m, nil
}

// graph holds the tensors and Program of one batch size.
type graph struct {
	n      int
	x, t   *kernels.Tensor
	acts   []*kernels.Tensor // output of each layer
	grads  []*kernels.Tensor // gradient of the objective w.r.t. each output
	argmax []*kernels.Tensor // max-pool indices
	loss   *kernels.Tensor
	lossv  [1]float32 // loss after each Run (Program.Read)
	// xin and tin, in a feed graph, are the host batch that every Run
	// starts by copying into x and t (Program.Write).
	xin, tin []float32
	prog     kernels.Program
	owned    []*kernels.Tensor
	be       kernels.Backend
}

func (g *graph) alloc(shape ...int) *kernels.Tensor {
	t, err := g.be.NewTensor(shape...)
	if err != nil {
		panic(allocError{fmt.Errorf("models: allocating %v: %w", shape, err)})
	}
	g.owned = append(g.owned, t)
	return t
}

// allocError carries an allocation failure out of the recording code
// (which would otherwise need an error check per tensor) to newGraph.
type allocError struct{ err error }

func (g *graph) close() error {
	var err error
	if g.prog != nil {
		err = g.prog.Close()
	}
	for _, t := range g.owned {
		g.be.Free(t)
	}
	g.owned = nil
	return err
}

func closeGraphs(gs map[int]*graph) error {
	var errs []error
	for _, g := range gs {
		errs = append(errs, g.close())
	}
	return errors.Join(errs...)
}

func withBatch(n int, shape []int) []int {
	return append([]int{n}, shape...)
}

func view(t *kernels.Tensor, shape ...int) *kernels.Tensor {
	v, err := t.Reshape(shape...)
	if err != nil {
		panic(allocError{err}) // shapes are computed by the builder; unreachable unless it is wrong
	}
	return v
}

// newGraph records the forward pass for batch size n and, with train
// set, the loss, penalties, backward pass and SGD update. With feed set,
// the Program begins by copying the host slices g.xin (and g.tin) into
// its input (and target).
func (m *Model) newGraph(n int, train, feed bool) (g *graph, err error) {
	g = &graph{n: n, be: m.be}
	defer func() {
		if r := recover(); r != nil {
			ae, ok := r.(allocError)
			if !ok {
				panic(r)
			}
			g.close()
			g, err = nil, ae.err
		}
	}()
	g.x = g.alloc(withBatch(n, m.Input)...)
	L := len(m.layers)
	g.acts = make([]*kernels.Tensor, L)
	g.argmax = make([]*kernels.Tensor, L)
	for i, l := range m.layers {
		g.acts[i] = g.alloc(withBatch(n, l.out)...)
		if l.kind == poolLayer {
			g.argmax[i] = g.alloc(withBatch(n, l.out)...)
		}
	}
	if train {
		if m.Loss == NLL {
			g.t = g.alloc(n)
		} else {
			g.t = g.alloc(withBatch(n, m.layers[L-1].out)...)
		}
	}
	p := m.be.NewProgram()
	g.prog = p
	if train {
		p.Write(m.state, m.stateHost)
	}
	if feed {
		// In the Run's own submit: an Upload before Run would be another
		// on a discrete GPU.
		g.xin = make([]float32, g.x.Len())
		p.Write(g.x, g.xin)
		if train {
			g.tin = make([]float32, g.t.Len())
			p.Write(g.t, g.tin)
		}
	}
	m.recordForward(p, g)
	if train {
		g.loss = g.alloc(1)
		g.grads = make([]*kernels.Tensor, L)
		for i, l := range m.layers {
			if i > 0 || l.w != nil {
				g.grads[i] = g.alloc(withBatch(n, l.out)...)
			}
		}
		m.recordLoss(p, g)
		m.recordBackward(p, g)
		m.recordSGD(p)
		// Read in the step's own submit: a Download after Run would be a
		// second submit on a discrete GPU.
		p.Read(g.lossv[:], g.loss)
	}
	if err := p.Err(); err != nil {
		g.close()
		return nil, fmt.Errorf("models: recording %s step for batch %d: %w", m.Name, n, err)
	}
	return g, nil
}

func (m *Model) input(g *graph, i int) *kernels.Tensor {
	if i == 0 {
		return g.x
	}
	return g.acts[i-1]
}

func (m *Model) recordForward(p kernels.Program, g *graph) {
	for i, l := range m.layers {
		x, y := m.input(g, i), g.acts[i]
		switch l.kind {
		case linearLayer:
			p.MatMul(y, view(x, g.n, x.Len()/g.n), l.w.Value, false, true, 1, 0)
			p.AddBias(y, l.b.Value)
		case convLayer:
			p.Conv2D(y, x, l.w.Value, l.b.Value, l.conv)
		case reluLayer:
			p.ReLU(y, x)
		case sigmoidLayer:
			p.Sigmoid(y, x)
		case poolLayer:
			p.MaxPool2D(y, g.argmax[i], x, l.pool)
		case logSoftmaxLayer:
			p.Softmax(y, x, 1, true)
		}
	}
}

func (m *Model) recordLoss(p kernels.Program, g *graph) {
	L := len(m.layers)
	y, dy := g.acts[L-1], g.grads[L-1]
	switch m.Loss {
	case BCE:
		p.BCELoss(g.loss, y, g.t)
		p.BCEBackward(dy, y, g.t)
	case NLL:
		p.NLLLoss(g.loss, y, g.t)
		p.NLLBackward(dy, g.t)
	case MSE:
		p.MSELoss(g.loss, y, g.t)
		p.MSEBackward(dy, y, g.t)
	}
	if w := m.Param(m.Penalized); w != nil {
		if m.hyper.L1 != 0 {
			p.L1Penalty(g.loss, w.Value, m.hyper.L1)
		}
		if m.hyper.L2 != 0 {
			p.L2Penalty(g.loss, w.Value, m.hyper.L2)
		}
	}
}

func (m *Model) recordBackward(p kernels.Program, g *graph) {
	for i := len(m.layers) - 1; i >= 0; i-- {
		l := m.layers[i]
		x, y, dy := m.input(g, i), g.acts[i], g.grads[i]
		var dx *kernels.Tensor
		if i > 0 {
			dx = g.grads[i-1]
		}
		if dx == nil && l.w == nil {
			continue // nothing upstream needs this gradient
		}
		switch l.kind {
		case linearLayer:
			p.MatMul(l.w.Grad, dy, view(x, g.n, x.Len()/g.n), true, false, 1, 0)
			p.BiasGrad(l.b.Grad, dy)
			if dx != nil {
				p.MatMul(view(dx, g.n, dx.Len()/g.n), dy, l.w.Value, false, false, 1, 0)
			}
		case convLayer:
			p.Conv2DBackwardWeight(l.w.Grad, l.b.Grad, dy, x, l.conv)
			if dx != nil {
				p.Conv2DBackwardInput(dx, dy, l.w.Value, l.conv)
			}
		case reluLayer:
			p.ReLUBackward(dx, dy, y)
		case sigmoidLayer:
			p.SigmoidBackward(dx, dy, y)
		case poolLayer:
			p.MaxPool2DBackward(dx, dy, g.argmax[i], l.pool)
		case logSoftmaxLayer:
			p.SoftmaxBackward(dx, dy, y, 1, true)
		}
	}
	if w := m.Param(m.Penalized); w != nil {
		if m.hyper.L1 != 0 {
			p.L1PenaltyGrad(w.Grad, w.Value, m.hyper.L1)
		}
		if m.hyper.L2 != 0 {
			p.L2PenaltyGrad(w.Grad, w.Value, m.hyper.L2)
		}
	}
}

func (m *Model) recordSGD(p kernels.Program) {
	for _, q := range m.params {
		p.SGD(q.Value, q.Grad, q.Buf, m.state, kernels.SGDParams{Momentum: float64(m.hyper.Momentum)})
	}
}

func (m *Model) stepGraph(n int) (*graph, error) { return m.cached(m.steps, n, true, false) }

// feedGraph is stepGraph for batches that change every step: its
// Program takes the batch from g.xin and g.tin.
func (m *Model) feedGraph(n int) (*graph, error) { return m.cached(m.feeds, n, true, true) }

func (m *Model) evalGraph(n int) (*graph, error) { return m.cached(m.evals, n, false, false) }

// cached returns the graph for batch size n from cache, recording it on
// first use.
func (m *Model) cached(cache map[int]*graph, n int, train, feed bool) (*graph, error) {
	if g, ok := cache[n]; ok {
		return g, nil
	}
	g, err := m.newGraph(n, train, feed)
	if err != nil {
		return nil, err
	}
	cache[n] = g
	return g, nil
}

func (m *Model) checkBatch(what string, v []float32, per int) (int, error) {
	if m.closed {
		return 0, errors.New("models: model is closed")
	}
	if per == 0 || len(v)%per != 0 || len(v) == 0 {
		return 0, fmt.Errorf("models: %s: %s has %d values, want a positive multiple of %d", m.Name, what, len(v), per)
	}
	return len(v) / per, nil
}

// Step runs one training step on a batch: x holds n samples of
// InputSize values, t their targets (TargetSize each; class indices as
// float32 for NLL). It returns the objective (penalties included) on
// the batch before the update.
func (m *Model) Step(x, t []float32) (float32, error) {
	n, err := m.checkBatch("input", x, m.InputSize())
	if err != nil {
		return 0, err
	}
	if len(t) != n*m.TargetSize() {
		return 0, fmt.Errorf("models: %s: %d targets for %d samples, want %d", m.Name, len(t), n, n*m.TargetSize())
	}
	g, err := m.feedGraph(n)
	if err != nil {
		return 0, err
	}
	copy(g.xin, x)
	copy(g.tin, t)
	return m.runStep(g)
}

func (m *Model) runStep(g *graph) (float32, error) {
	m.lastStep = nil
	kernels.FillStepState(m.stateHost, m.t+1, float64(m.hyper.LR), 0, 0, 0)
	if err := g.prog.Run(); err != nil {
		return 0, fmt.Errorf("models: %s training step: %w", m.Name, err)
	}
	m.t++
	m.lastStep = g
	return g.lossv[0], nil
}

// evalChunk bounds the batch of a forward-only Program, so that
// evaluating many samples does not allocate activations for all at once.
const evalChunk = 512

// forward runs x through the network in chunks and calls keep with each
// chunk's graph and its sample offset.
func (m *Model) forward(x []float32, keep func(g *graph, off int) error) error {
	S, err := m.checkBatch("input", x, m.InputSize())
	if err != nil {
		return err
	}
	in := m.InputSize()
	for off := 0; off < S; off += evalChunk {
		n := min(evalChunk, S-off)
		g, err := m.evalGraph(n)
		if err != nil {
			return err
		}
		if err := m.be.Upload(g.x, x[off*in:(off+n)*in]); err != nil {
			return err
		}
		if err := g.prog.Run(); err != nil {
			return fmt.Errorf("models: %s forward: %w", m.Name, err)
		}
		if err := keep(g, off); err != nil {
			return err
		}
	}
	return nil
}

// Forward returns the network output for the samples in x: probabilities
// (normative), log-probabilities (decode softmax) or predictions.
func (m *Model) Forward(x []float32) ([]float32, error) {
	return m.capture(x, len(m.layers)-1)
}

// Hidden returns what a PyTorch forward hook on module layer sees for
// the samples in x, flattened per sample as output.view(S, -1): for the
// normative network "conv" (before the ReLU), "pool", "fc" (before the
// ReLU) and "out" (before the sigmoid); for decode "in_layer" (before
// the ReLU), "out_layer" and, for softmax, "logprob"; for encode "conv"
// and "out_layer". features is the number of values per sample.
func (m *Model) Hidden(x []float32, layer string) (act []float32, features int, err error) {
	for i, l := range m.layers {
		if l.name == layer && layer != "" {
			act, err = m.capture(x, i)
			return act, kernels.Numel(l.out), err
		}
	}
	names := m.HiddenLayers()
	sort.Strings(names)
	return nil, 0, fmt.Errorf("models: %s has no layer %q (have %v)", m.Name, layer, names)
}

// LastStepGPUTime is the device time of the last training step, where
// the backend's Programs measure it (vulkan.Backend.TimePrograms); ok is
// false otherwise and before the first step.
func (m *Model) LastStepGPUTime() (d time.Duration, ok bool) {
	if m.lastStep == nil {
		return 0, false
	}
	t, ok := m.lastStep.prog.(interface{ GPUTime() time.Duration })
	if !ok {
		return 0, false
	}
	d = t.GPUTime()
	return d, d > 0
}

// Activation returns the output of module layer (named as for Hidden)
// that the last training step wrote, as the step Program's own tensor on
// the backend, of shape [n, per-sample shape...] for that step's batch
// size n: no copy is made, so a viewer can draw it where it lies. ok is
// false before the first step, after a failed one, and for a layer the
// model does not have. The tensor stays valid until the model is closed
// or SetHyper discards its step Programs; a later step with the same
// batch size overwrites it.
func (m *Model) Activation(layer string) (t *kernels.Tensor, ok bool) {
	if m.closed || m.lastStep == nil || layer == "" {
		return nil, false
	}
	for i, l := range m.layers {
		if l.name == layer {
			return m.lastStep.acts[i], true
		}
	}
	return nil, false
}

func (m *Model) capture(x []float32, i int) ([]float32, error) {
	per := kernels.Numel(m.layers[i].out)
	var out []float32
	err := m.forward(x, func(g *graph, off int) error {
		if out == nil {
			out = make([]float32, len(x)/m.InputSize()*per)
		}
		return m.be.Download(g.acts[i], out[off*per:(off+g.n)*per])
	})
	return out, err
}

// Close frees the model's tensors and Programs; the backend stays open.
func (m *Model) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	err := errors.Join(closeGraphs(m.steps), closeGraphs(m.feeds), closeGraphs(m.evals))
	for _, p := range m.params {
		for _, t := range []*kernels.Tensor{p.Value, p.Grad, p.Buf} {
			if t != nil {
				m.be.Free(t)
			}
		}
	}
	if m.state != nil {
		m.be.Free(m.state)
	}
	return err
}
