package models

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/vkneuro/vkneuro/kernels"
)

// Param is a learnable tensor with its gradient and optimizer state.
type Param struct {
	Name  string // state_dict key, e.g. "conv.weight" or "0.weight"
	Shape []int
	Value *kernels.Tensor
	Grad  *kernels.Tensor
	// Buf is SGD's momentum buffer or Adam's first moment (exp_avg);
	// Buf2 is Adam's second moment (exp_avg_sq), nil under SGD. Both
	// start as zeros.
	Buf, Buf2 *kernels.Tensor
}

// node is one module of a Model with the shapes it was planned for.
type node struct {
	layer   Layer  // the module itself, unwrapped from Named or Functional
	name    string // module name: its index, its Named name, or "" (functional)
	index   int    // position in the network
	in, out []int  // per-sample shapes
	plan    plan
	params  []*Param
	seed    uint32 // dropout stream (Dropout modules)
	// needGrad: some module up to and including this one has parameters,
	// so the gradient of the objective w.r.t. this module's output is
	// needed.
	needGrad bool
}

// view reports whether the module's output is its input's storage in
// this mode (no op recorded).
func (nd *node) view(train bool) bool {
	if d, ok := nd.layer.(Dropout); ok {
		return d.viewIn(train)
	}
	return nd.plan.view
}

// Model is a network on a backend: its parameters and the Programs that
// train and evaluate it.
type Model struct {
	// Name labels the network in errors, summaries and checkpoints: the
	// task of a preset ("normative", "decode", "encode") or "sequential".
	// Variant is "softmax" or "relu" for the decode presets and empty
	// otherwise.
	Name, Variant string
	// Input is the per-sample input shape, e.g. [1 48 64].
	Input []int
	// Loss is the data term.
	Loss Loss
	// Penalized names the weight a preset's tutorial penalises, which
	// SetHyper's L1/L2 apply to ("" for none).
	Penalized string

	be       kernels.Backend
	nodes    []*node
	params   []*Param
	training Training
	lr       float64            // learning rate of the next step (Training's, or a schedule's)
	steps    map[int]*recording // training-step Programs by batch size
	feeds    map[int]*recording // the same, taking their batch by Program.Write
	evals    map[int]*recording // forward-only Programs by batch size
	igrads   map[int]*recording // input-gradient Programs by batch size
	// resident is the full-batch step whose input and target hold a
	// data set already (see stepResident).
	resident residency
	// lastStep is the step recording that ran last (see Activation).
	lastStep *recording
	// state is the step state (kernels.FillStepState) that every step
	// Program copies from stateHost when it runs; t counts the optimizer
	// steps done.
	state     *kernels.Tensor
	stateHost []float32
	t         uint32
	// dropoutSeed seeded the Dropout modules' masks (Sequential.DropoutSeed).
	dropoutSeed uint64
	closed      bool
}

// residency identifies the data a step recording's input and target hold:
// the host slices it was uploaded from, by address and length.
type residency struct {
	g      *recording
	x0, t0 *float32
	xn, tn int
}

func residentKey(g *recording, x, t []float32) residency {
	return residency{g: g, x0: &x[0], t0: &t[0], xn: len(x), tn: len(t)}
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

func (m *Model) paramNames() []string {
	names := make([]string, len(m.params))
	for i, p := range m.params {
		names[i] = p.Name
	}
	return names
}

// OutputSize is the number of outputs per sample.
func (m *Model) OutputSize() int { return kernels.Numel(m.outShape()) }

func (m *Model) outShape() []int {
	if len(m.nodes) == 0 {
		return m.Input
	}
	return m.nodes[len(m.nodes)-1].out
}

// InputSize is the number of input values per sample.
func (m *Model) InputSize() int { return kernels.Numel(m.Input) }

// TargetSize is the number of target values per sample (1 for class indices).
func (m *Model) TargetSize() int {
	if m.Loss.classes() {
		return 1
	}
	return m.OutputSize()
}

// HiddenLayers names the modules whose outputs Hidden can capture, in
// forward order.
func (m *Model) HiddenLayers() []string {
	var names []string
	for _, nd := range m.nodes {
		if nd.name != "" {
			names = append(names, nd.name)
		}
	}
	return names
}

// Arch is the network as the argument list of PyTorch's nn.Sequential
// (ParseArch reads it back), e.g. "Linear(500, 20), ReLU(), Linear(20, 20)".
// Modules with names of their own and functional ops appear as the
// modules they are.
func (m *Model) Arch() string {
	ls := make([]Layer, len(m.nodes))
	for i, nd := range m.nodes {
		ls[i] = nd.layer
	}
	return FormatArch(ls)
}

// recording is one recorded Program (a training step, a forward pass or
// an input gradient) of one batch size, with the tensors it runs on.
type recording struct {
	n     int
	x, t  *kernels.Tensor
	acts  []*kernels.Tensor   // output of each module
	grads []*kernels.Tensor   // gradient of the objective w.r.t. each output
	saved [][]*kernels.Tensor // what each module's forward keeps for its backward
	loss  *kernels.Tensor
	// lossScratch holds what a loss keeps between its forward and
	// backward (cross-entropy's log-probabilities and their gradient).
	lossScratch []*kernels.Tensor
	lossv       [1]float32 // loss after each Run (Program.Read)
	// xin and tin, in a feed recording, are the host batch that every Run
	// starts by copying into x and t (Program.Write); in an
	// input-gradient recording tin is the output gradient, and gxout the
	// input gradient each Run reads back.
	xin, tin, gxout []float32
	prog            kernels.Program
	owned           []*kernels.Tensor
	be              kernels.Backend
}

func (g *recording) alloc(shape ...int) *kernels.Tensor {
	t, err := g.be.NewTensor(shape...)
	if err != nil {
		panic(allocError{fmt.Errorf("models: allocating %v: %w", shape, err)})
	}
	g.owned = append(g.owned, t)
	return t
}

// allocError carries an allocation failure out of the recording code
// (which would otherwise need an error check per tensor) to newRecording.
type allocError struct{ err error }

func (g *recording) close() error {
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

func closeRecordings(gs map[int]*recording) error {
	var errs []error
	for _, g := range gs {
		errs = append(errs, g.close())
	}
	return errors.Join(errs...)
}

func withBatch(n int, shape []int) []int {
	return append([]int{n}, shape...)
}

// newRecording records the forward pass for batch size n and, with train
// set, the loss, penalties, backward pass and optimizer update. With
// feed set, the Program begins by copying the host slices g.xin (and
// g.tin) into its input (and target).
func (m *Model) newRecording(n int, train, feed bool) (g *recording, err error) {
	g = &recording{n: n, be: m.be}
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
	if train && len(m.params) == 0 {
		return nil, fmt.Errorf("models: %s has no parameters to train", m.describe())
	}
	g.x = g.alloc(withBatch(n, m.Input)...)
	L := len(m.nodes)
	g.acts = make([]*kernels.Tensor, L)
	g.saved = make([][]*kernels.Tensor, L)
	for i, nd := range m.nodes {
		if nd.view(train) {
			g.acts[i] = viewAs(m.input(g, i), withBatch(n, nd.out)...)
			continue
		}
		g.acts[i] = g.alloc(withBatch(n, nd.out)...)
		for _, s := range nd.plan.saved {
			g.saved[i] = append(g.saved[i], g.alloc(withBatch(n, s)...))
		}
	}
	if train {
		if m.Loss.classes() {
			g.t = g.alloc(n)
		} else {
			g.t = g.alloc(withBatch(n, m.outShape())...)
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
	m.recordForward(p, g, train)
	if train {
		g.loss = g.alloc(1)
		g.grads = make([]*kernels.Tensor, L)
		for i, nd := range m.nodes {
			switch {
			case !nd.needGrad:
			case nd.view(true):
				g.grads[i] = viewAs(g.grads[i-1], withBatch(n, nd.out)...)
			default:
				g.grads[i] = g.alloc(withBatch(n, nd.out)...)
			}
		}
		m.recordLoss(p, g)
		u := m.newUpdates(p, g.loss)
		m.recordBackward(p, g, u)
		u.recordRest()
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

func (m *Model) input(g *recording, i int) *kernels.Tensor {
	if i == 0 {
		return g.x
	}
	return g.acts[i-1]
}

func (m *Model) ctx(p kernels.Program, g *recording, i int, train bool) *opCtx {
	nd := m.nodes[i]
	return &opCtx{p: p, n: g.n, x: m.input(g, i), y: g.acts[i], params: nd.params,
		saved: g.saved[i], train: train, state: m.state, seed: nd.seed}
}

// recordForward records the forward pass; in training, the blocks of
// modules with a fused op (fused.go) as that op.
func (m *Model) recordForward(p kernels.Program, g *recording, train bool) {
	blocks := m.fusedBlocks(train)
	for i := 0; i < len(m.nodes); i++ {
		if b, ok := blocks.starting(i); ok {
			b.forward(m, p, g)
			i = b.last
			continue
		}
		if nd := m.nodes[i]; !nd.view(train) {
			nd.layer.forward(m.ctx(p, g, i, train))
		}
	}
}

// recordBackward records a training step's backward pass, with the
// blocks recordForward fused and the updates u records as it goes
// (a linear layer's weight is updated where its gradient is formed).
func (m *Model) recordBackward(p kernels.Program, g *recording, u *updates) {
	blocks := m.fusedBlocks(true)
	for i := len(m.nodes) - 1; i >= 0; i-- {
		nd := m.nodes[i]
		if !nd.needGrad || nd.view(true) {
			continue // nothing upstream needs it, or the gradient passes through the same storage
		}
		if b, ok := blocks.ending(i); ok {
			b.backward(m, p, g)
			i = b.first
			continue
		}
		c := m.ctx(p, g, i, true)
		c.dy, c.upd = g.grads[i], u
		if i > 0 {
			c.dx = g.grads[i-1]
		}
		nd.layer.backward(c)
	}
}

// newInputGradRecording records, for batch size n, the forward pass in
// evaluation mode and the backward pass from a gradient g.tin of the
// output (taken by Program.Write, as the input g.xin) down to the
// gradient of the input, g.gx, read back into g.gxout.
func (m *Model) newInputGradRecording(n int) (g *recording, err error) {
	g = &recording{n: n, be: m.be}
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
	gx := g.alloc(withBatch(n, m.Input)...)
	L := len(m.nodes)
	g.acts, g.grads, g.saved = make([]*kernels.Tensor, L), make([]*kernels.Tensor, L), make([][]*kernels.Tensor, L)
	for i, nd := range m.nodes {
		below := gx
		if i > 0 {
			below = g.grads[i-1]
		}
		if nd.view(false) {
			g.acts[i] = viewAs(m.input(g, i), withBatch(n, nd.out)...)
			g.grads[i] = viewAs(below, withBatch(n, nd.out)...)
			continue
		}
		g.acts[i] = g.alloc(withBatch(n, nd.out)...)
		g.grads[i] = g.alloc(withBatch(n, nd.out)...)
		for _, sh := range nd.plan.saved {
			g.saved[i] = append(g.saved[i], g.alloc(withBatch(n, sh)...))
		}
	}
	p := m.be.NewProgram()
	g.prog = p
	g.xin, g.tin, g.gxout = make([]float32, g.x.Len()), make([]float32, g.grads[L-1].Len()), make([]float32, gx.Len())
	p.Write(g.x, g.xin)
	p.Write(g.grads[L-1], g.tin)
	m.recordForward(p, g, false)
	for i := L - 1; i >= 0; i-- {
		nd := m.nodes[i]
		if nd.view(false) {
			continue
		}
		c := m.ctx(p, g, i, false)
		c.dy, c.dx = g.grads[i], gx
		if i > 0 {
			c.dx = g.grads[i-1]
		}
		nd.layer.backward(c)
	}
	p.Read(g.gxout, gx)
	if err := p.Err(); err != nil {
		g.close()
		return nil, fmt.Errorf("models: recording %s input gradient for batch %d: %w", m.Name, n, err)
	}
	return g, nil
}

// InputGradient returns, for each sample of x, the gradient with respect
// to the input of Σ_j dy[j]·y[j], where y is the network's output for
// that sample in evaluation mode and dy the sample's row of dy
// (OutputSize values each): a vector-Jacobian product, e.g. the
// effective linear receptive field of output unit j when dy is one-hot
// at j. It leaves the parameters and the optimizer state alone (the
// parameters' gradient tensors are overwritten, as every training step
// does).
func (m *Model) InputGradient(x, dy []float32) ([]float32, error) {
	S, err := m.checkBatch("input", x, m.InputSize())
	if err != nil {
		return nil, err
	}
	if len(dy) != S*m.OutputSize() {
		return nil, fmt.Errorf("models: %s: output gradient has %d values for %d samples, want %d", m.Name, len(dy), S, S*m.OutputSize())
	}
	if len(m.nodes) == 0 {
		return append([]float32(nil), dy...), nil
	}
	in, out := m.InputSize(), m.OutputSize()
	gx := make([]float32, len(x))
	for off := 0; off < S; off += evalChunk {
		n := min(evalChunk, S-off)
		g, ok := m.igrads[n]
		if !ok {
			if g, err = m.newInputGradRecording(n); err != nil {
				return nil, err
			}
			m.igrads[n] = g
		}
		copy(g.xin, x[off*in:(off+n)*in])
		copy(g.tin, dy[off*out:(off+n)*out])
		if err := g.prog.Run(); err != nil {
			return nil, fmt.Errorf("models: %s input gradient: %w", m.Name, err)
		}
		copy(gx[off*in:], g.gxout)
	}
	return gx, nil
}

func (m *Model) stepRecording(n int) (*recording, error) { return m.cached(m.steps, n, true, false) }

// feedRecording is stepRecording for batches that change every step: its
// Program takes the batch from g.xin and g.tin.
func (m *Model) feedRecording(n int) (*recording, error) { return m.cached(m.feeds, n, true, true) }

func (m *Model) evalRecording(n int) (*recording, error) { return m.cached(m.evals, n, false, false) }

// cached returns the recording for batch size n from cache, recording it on
// first use.
func (m *Model) cached(cache map[int]*recording, n int, train, feed bool) (*recording, error) {
	if g, ok := cache[n]; ok {
		return g, nil
	}
	g, err := m.newRecording(n, train, feed)
	if err != nil {
		return nil, err
	}
	cache[n] = g
	return g, nil
}

// discardSteps closes the training-step Programs, which the next step
// records again (after a change of loss terms or optimizer).
func (m *Model) discardSteps() error {
	m.resident, m.lastStep = residency{}, nil
	err := errors.Join(closeRecordings(m.steps), closeRecordings(m.feeds))
	m.steps, m.feeds = map[int]*recording{}, map[int]*recording{}
	return err
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
// float32 for NLL and cross-entropy). It returns the objective
// (penalties included) on the batch before the update.
func (m *Model) Step(x, t []float32) (float32, error) {
	n, err := m.checkBatch("input", x, m.InputSize())
	if err != nil {
		return 0, err
	}
	if len(t) != n*m.TargetSize() {
		return 0, fmt.Errorf("models: %s: %d targets for %d samples, want %d", m.Name, len(t), n, n*m.TargetSize())
	}
	g, err := m.feedRecording(n)
	if err != nil {
		return 0, err
	}
	copy(g.xin, x)
	copy(g.tin, t)
	return m.runStep(g)
}

func (m *Model) runStep(g *recording) (float32, error) {
	m.lastStep = nil
	o := m.training.Optimizer
	kernels.FillStepState(m.stateHost, m.t+1, m.lr, o.Beta1, o.Beta2, o.WeightDecay)
	if err := g.prog.Run(); err != nil {
		return 0, fmt.Errorf("models: %s training step: %w", m.Name, err)
	}
	m.t++
	m.lastStep = g
	return g.lossv[0], nil
}

// OptimizerSteps is the number of optimizer steps taken (torch.optim's
// per-parameter "step"): Adam's bias corrections and dropout masks
// depend on it.
func (m *Model) OptimizerSteps() int { return int(m.t) }

// evalChunk bounds the batch of a forward-only Program, so that
// evaluating many samples does not allocate activations for all at once.
const evalChunk = 512

// forward runs x through the network in chunks and calls keep with each
// chunk's recording and its sample offset.
func (m *Model) forward(x []float32, keep func(g *recording, off int) error) error {
	S, err := m.checkBatch("input", x, m.InputSize())
	if err != nil {
		return err
	}
	in := m.InputSize()
	for off := 0; off < S; off += evalChunk {
		n := min(evalChunk, S-off)
		g, err := m.evalRecording(n)
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

// Forward returns the network output for the samples in x (evaluation
// mode: dropout off): probabilities, log-probabilities, logits or
// predictions, whatever the last module gives.
func (m *Model) Forward(x []float32) ([]float32, error) {
	if len(m.nodes) == 0 {
		_, err := m.checkBatch("input", x, m.InputSize())
		return append([]float32(nil), x...), err
	}
	return m.capture(x, len(m.nodes)-1)
}

// Hidden returns what a PyTorch forward hook on module layer sees for
// the samples in x, flattened per sample as output.view(S, -1), in
// evaluation mode. Modules are named by their index in the network
// ("0", "1", …) or by the name Named gave them: for the normative preset
// "conv" (before the ReLU), "pool", "fc" (before the ReLU) and "out"
// (before the sigmoid); for decode "in_layer" (before the ReLU),
// "out_layer" and, for softmax, "logprob"; for encode "conv" and
// "out_layer". features is the number of values per sample.
func (m *Model) Hidden(x []float32, layer string) (act []float32, features int, err error) {
	for i, nd := range m.nodes {
		if nd.name == layer && layer != "" {
			act, err = m.capture(x, i)
			return act, kernels.Numel(nd.out), err
		}
	}
	names := m.HiddenLayers()
	sort.Strings(names)
	return nil, 0, fmt.Errorf("models: %s has no layer %q (have %v)", m.describe(), layer, names)
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
// false before the first step, after a failed one, and for a module the
// model does not have. The tensor stays valid until the model is closed
// or a change of training settings discards its step Programs; a later
// step with the same batch size overwrites it.
func (m *Model) Activation(layer string) (t *kernels.Tensor, ok bool) {
	if m.closed || m.lastStep == nil || layer == "" {
		return nil, false
	}
	for i, nd := range m.nodes {
		if nd.name == layer {
			return m.lastStep.acts[i], true
		}
	}
	return nil, false
}

func (m *Model) capture(x []float32, i int) ([]float32, error) {
	per := kernels.Numel(m.nodes[i].out)
	var out []float32
	err := m.forward(x, func(g *recording, off int) error {
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
	err := errors.Join(closeRecordings(m.steps), closeRecordings(m.feeds), closeRecordings(m.evals), closeRecordings(m.igrads))
	for _, p := range m.params {
		for _, t := range []*kernels.Tensor{p.Value, p.Grad, p.Buf, p.Buf2} {
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

func (m *Model) describe() string {
	if m.Variant != "" {
		return m.Name + " (" + m.Variant + ")"
	}
	return m.Name
}

// Module is one module of a model as planned for its input.
type Module struct {
	Name    string // as Hidden takes it; "" for a functional op
	Layer   Layer
	In, Out []int // per-sample shapes
}

// Modules lists the network's modules in forward order.
func (m *Model) Modules() []Module {
	out := make([]Module, len(m.nodes))
	for i, nd := range m.nodes {
		out[i] = Module{Name: nd.name, Layer: nd.layer, In: append([]int(nil), nd.in...), Out: append([]int(nil), nd.out...)}
	}
	return out
}
