package models

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/vkneuro/vkneuro/kernels"
)

// OptimizerKind names a torch.optim optimizer.
type OptimizerKind int

const (
	OptSGD OptimizerKind = iota
	OptAdam
	OptAdamW
)

func (k OptimizerKind) String() string {
	switch k {
	case OptSGD:
		return "sgd"
	case OptAdam:
		return "adam"
	case OptAdamW:
		return "adamw"
	}
	return fmt.Sprintf("OptimizerKind(%d)", int(k))
}

// Optimizer is a torch.optim optimizer's settings, with its update rule
// exactly (single-tensor implementation, no amsgrad, no maximize). SGD,
// Adam and AdamW return torch's defaults for each; change fields after.
type Optimizer struct {
	Kind OptimizerKind
	// LR is the learning rate (the base rate under a Schedule).
	LR float64
	// SGD: Momentum, Dampening, Nesterov.
	Momentum, Dampening float64
	Nesterov            bool
	// Adam and AdamW: Beta1, Beta2, Eps.
	Beta1, Beta2, Eps float64
	// WeightDecay is added to the gradient as WeightDecay·p (SGD, Adam)
	// or decays p by 1 − lr·WeightDecay before the update (AdamW).
	WeightDecay float64
}

// SGD is torch.optim.SGD(lr=lr): momentum 0, dampening 0, no Nesterov,
// weight decay 0.
func SGD(lr float64) Optimizer { return Optimizer{Kind: OptSGD, LR: lr} }

// Adam is torch.optim.Adam(lr=lr): betas (0.9, 0.999), eps 1e-8, weight
// decay 0. torch's default lr is 1e-3.
func Adam(lr float64) Optimizer {
	return Optimizer{Kind: OptAdam, LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
}

// AdamW is torch.optim.AdamW(lr=lr): betas (0.9, 0.999), eps 1e-8,
// weight decay 1e-2. torch's default lr is 1e-3.
func AdamW(lr float64) Optimizer {
	o := Adam(lr)
	o.Kind, o.WeightDecay = OptAdamW, 1e-2
	return o
}

// ParseOptimizer returns the defaults of the optimizer named sgd, adam
// or adamw at learning rate lr.
func ParseOptimizer(name string, lr float64) (Optimizer, error) {
	switch name {
	case "sgd":
		return SGD(lr), nil
	case "adam":
		return Adam(lr), nil
	case "adamw":
		return AdamW(lr), nil
	}
	return Optimizer{}, fmt.Errorf("unknown optimizer %q (want sgd, adam or adamw)", name)
}

// String writes the optimizer as its torch.optim constructor.
func (o Optimizer) String() string {
	switch o.Kind {
	case OptSGD:
		s := fmt.Sprintf("SGD(lr=%s", pyFloat(o.LR))
		if o.Momentum != 0 {
			s += ", momentum=" + pyFloat(o.Momentum)
		}
		if o.Dampening != 0 {
			s += ", dampening=" + pyFloat(o.Dampening)
		}
		if o.WeightDecay != 0 {
			s += ", weight_decay=" + pyFloat(o.WeightDecay)
		}
		if o.Nesterov {
			s += ", nesterov=True"
		}
		return s + ")"
	case OptAdam, OptAdamW:
		name := "Adam"
		if o.Kind == OptAdamW {
			name = "AdamW"
		}
		return fmt.Sprintf("%s(lr=%s, betas=(%s, %s), eps=%s, weight_decay=%s)", name, pyFloat(o.LR),
			pyFloat(o.Beta1), pyFloat(o.Beta2), pyFloat(o.Eps), pyFloat(o.WeightDecay))
	}
	return o.Kind.String()
}

// Validate applies torch.optim's checks.
func (o Optimizer) Validate() error {
	bad := func(what string, v float64) error {
		return fmt.Errorf("models: %s: invalid %s: %v", o.Kind, what, v)
	}
	switch {
	case !(o.LR >= 0) || math.IsInf(o.LR, 0):
		return bad("learning rate", o.LR)
	case !(o.WeightDecay >= 0):
		return bad("weight_decay value", o.WeightDecay)
	}
	switch o.Kind {
	case OptSGD:
		if !(o.Momentum >= 0) {
			return bad("momentum value", o.Momentum)
		}
		if o.Nesterov && (o.Momentum <= 0 || o.Dampening != 0) {
			return fmt.Errorf("models: sgd: Nesterov momentum requires a momentum and zero dampening (momentum %v, dampening %v)", o.Momentum, o.Dampening)
		}
	case OptAdam, OptAdamW:
		if !(o.Eps >= 0) {
			return bad("epsilon value", o.Eps)
		}
		if !(o.Beta1 >= 0 && o.Beta1 < 1) {
			return bad("beta parameter at index 0", o.Beta1)
		}
		if !(o.Beta2 >= 0 && o.Beta2 < 1) {
			return bad("beta parameter at index 1", o.Beta2)
		}
	default:
		return fmt.Errorf("models: unknown optimizer %v", o.Kind)
	}
	return nil
}

// Penalty adds L1·Σ|w| + L2·Σw² over the parameter named Param (a
// state_dict key) to the objective.
type Penalty struct {
	Param string  `json:"param"`
	L1    float64 `json:"l1"`
	L2    float64 `json:"l2"`
}

// Training is how a Model learns: the optimizer and the penalties added
// to the loss.
type Training struct {
	Optimizer Optimizer
	Penalties []Penalty
}

// Training returns the current training settings.
func (m *Model) Training() Training {
	t := m.training
	t.Penalties = append([]Penalty(nil), t.Penalties...)
	return t
}

// SetTraining changes the optimizer and penalties. Training steps
// recorded with other settings are discarded (the next step records
// them again); changing the optimizer's kind also resets its state (the
// momentum buffers or moments and the step count), as a new torch.optim
// optimizer would start, while other changes keep it, as editing a
// param_group does.
func (m *Model) SetTraining(t Training) error {
	if err := t.Optimizer.Validate(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, pen := range t.Penalties {
		if m.Param(pen.Param) == nil {
			return fmt.Errorf("models: %s: penalty on %q: no such parameter (have %s)", m.describe(), pen.Param, strings.Join(m.paramNames(), ", "))
		}
		if !(pen.L1 >= 0) || !(pen.L2 >= 0) {
			return fmt.Errorf("models: penalty on %s: L1 and L2 must be ≥ 0, got %v and %v", pen.Param, pen.L1, pen.L2)
		}
		if seen[pen.Param] {
			return fmt.Errorf("models: two penalties on %s: give one with both coefficients", pen.Param)
		}
		seen[pen.Param] = true
	}
	if m.closed {
		return fmt.Errorf("models: model is closed")
	}
	old := m.training
	t.Penalties = append([]Penalty(nil), t.Penalties...)
	m.training, m.lr = t, t.Optimizer.LR
	if old.Optimizer.Kind != t.Optimizer.Kind {
		if err := m.ResetOptimizer(); err != nil {
			return err
		}
	}
	if sameTraining(old, t) {
		return nil
	}
	return m.discardSteps()
}

// sameTraining reports whether two settings record the same step
// Programs (the learning rate is read at run time).
func sameTraining(a, b Training) bool {
	a.Optimizer.LR, b.Optimizer.LR = 0, 0
	if a.Optimizer != b.Optimizer || len(a.Penalties) != len(b.Penalties) {
		return false
	}
	for i := range a.Penalties {
		if a.Penalties[i] != b.Penalties[i] {
			return false
		}
	}
	return true
}

// Hyper are the tutorials' training settings: torch.optim.SGD with
// momentum, and L1/L2 penalties on the preset's penalised weight.
type Hyper struct {
	LR, Momentum float32
	L1, L2       float32 // coefficients of Σ|w| and Σw² on Model.Penalized
}

// Hyper returns the training settings as the tutorials' Hyper: SGD's
// learning rate and momentum and the penalties on Model.Penalized, the
// zero Hyper when the settings are not of that form (another optimizer,
// dampening, penalties on other parameters).
func (m *Model) Hyper() Hyper {
	o := m.training.Optimizer
	if o.Kind != OptSGD || o.Dampening != 0 || o.Nesterov || o.WeightDecay != 0 {
		return Hyper{}
	}
	h := Hyper{LR: float32(o.LR), Momentum: float32(o.Momentum)}
	for _, p := range m.training.Penalties {
		if p.Param != m.Penalized || len(m.training.Penalties) > 1 {
			return Hyper{}
		}
		h.L1, h.L2 = float32(p.L1), float32(p.L2)
	}
	return h
}

// SetHyper sets the tutorials' training: SetTraining with SGD at h.LR
// and h.Momentum, and h.L1, h.L2 on Model.Penalized.
func (m *Model) SetHyper(h Hyper) error {
	if h.L1 < 0 || h.L2 < 0 || h.LR < 0 || h.Momentum < 0 {
		return fmt.Errorf("models: negative hyper-parameter in %+v", h)
	}
	if (h.L1 != 0 || h.L2 != 0) && m.Penalized == "" {
		return fmt.Errorf("models: %s has no penalised weight; L1/L2 must be 0", m.Name)
	}
	o := SGD(float64(h.LR))
	o.Momentum = float64(h.Momentum)
	t := Training{Optimizer: o}
	if h.L1 != 0 || h.L2 != 0 {
		t.Penalties = []Penalty{{Param: m.Penalized, L1: float64(h.L1), L2: float64(h.L2)}}
	}
	return m.SetTraining(t)
}

// SetLR sets the learning rate of the following steps without recording
// them again: how a Schedule is applied.
func (m *Model) SetLR(lr float64) error {
	if !(lr >= 0) || math.IsInf(lr, 0) {
		return fmt.Errorf("models: invalid learning rate %v", lr)
	}
	m.lr = lr
	return nil
}

// LR is the learning rate of the next step.
func (m *Model) LR() float64 { return m.lr }

// updates records a training step's parameter updates, one fused op per
// parameter that applies its penalties' gradients and the optimizer and
// adds the penalties of the weights before the update into the loss
// (kernels.Ops.Update): a linear layer's weight where its backward forms
// the gradient (LinearWeightUpdate), every other parameter after the
// backward pass.
type updates struct {
	m    *Model
	p    kernels.Program
	loss *kernels.Tensor
	done map[*Param]bool
}

func (m *Model) newUpdates(p kernels.Program, loss *kernels.Tensor) *updates {
	return &updates{m: m, p: p, loss: loss, done: map[*Param]bool{}}
}

// of is q's update: the optimizer, its penalties, and the loss they go
// into (nil for none).
func (u *updates) of(q *Param) (kernels.UpdateParams, *kernels.Tensor, *kernels.Tensor) {
	o := u.m.training.Optimizer
	var up kernels.UpdateParams
	buf2 := q.Buf2
	switch o.Kind {
	case OptSGD:
		up.SGD = &kernels.SGDParams{Momentum: o.Momentum, Dampening: o.Dampening, WeightDecay: o.WeightDecay, Nesterov: o.Nesterov}
		buf2 = nil // left from an earlier Adam
	case OptAdam, OptAdamW:
		up.Adam = &kernels.AdamParams{Beta1: o.Beta1, Beta2: o.Beta2, Eps: o.Eps, WeightDecay: o.WeightDecay, Decoupled: o.Kind == OptAdamW}
	}
	var loss *kernels.Tensor
	for _, pen := range u.m.training.Penalties {
		if pen.Param == q.Name {
			up.L1, up.L2, loss = float32(pen.L1), float32(pen.L2), u.loss
		}
	}
	return up, buf2, loss
}

// linearWeight records the update of a linear layer's weight w with the
// gradient dyᵀ·x, never stored.
func (u *updates) linearWeight(w *Param, dy, x *kernels.Tensor) {
	up, buf2, loss := u.of(w)
	u.p.LinearWeightUpdate(w.Value, dy, x, w.Buf, buf2, u.m.state, loss, up)
	u.done[w] = true
}

// recordRest records the update of every parameter not updated yet, from
// its Grad, in state_dict order.
func (u *updates) recordRest() {
	for _, q := range u.m.params {
		if !u.done[q] {
			up, buf2, loss := u.of(q)
			u.p.Update(q.Value, q.Grad, q.Buf, buf2, u.m.state, loss, up)
		}
	}
}

// ResetOptimizer zeroes the optimizer state (momentum buffers, Adam's
// moments) and the step count, as a fresh torch.optim optimizer starts.
func (m *Model) ResetOptimizer() error {
	m.t = 0
	adam := m.training.Optimizer.Kind != OptSGD
	for _, p := range m.params {
		if adam && p.Buf2 == nil {
			b, err := m.be.NewTensor(p.Shape...)
			if err != nil {
				return fmt.Errorf("models: allocating the second moment of %s: %w", p.Name, err)
			}
			p.Buf2 = b
		}
		for _, b := range []*kernels.Tensor{p.Buf, p.Buf2} {
			if b != nil {
				if err := m.be.Upload(b, make([]float32, b.Len())); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// ScheduleKind names a learning-rate schedule.
type ScheduleKind int

const (
	ConstantSchedule ScheduleKind = iota
	StepSchedule                  // torch.optim.lr_scheduler.StepLR
	CosineSchedule                // torch.optim.lr_scheduler.CosineAnnealingLR
)

// Schedule is a torch.optim.lr_scheduler schedule, stepped once per
// epoch as PyTorch code usually does (a full-batch step is one epoch).
// The zero value is a constant learning rate.
type Schedule struct {
	Kind ScheduleKind
	// StepLR: the rate is multiplied by Gamma every StepSize epochs.
	StepSize int
	Gamma    float64
	// CosineAnnealingLR: the rate follows a cosine from the base rate to
	// EtaMin over TMax epochs (and back, beyond, as PyTorch's does).
	TMax   int
	EtaMin float64
}

// StepLR is torch's StepLR(step_size, gamma) (PyTorch's default gamma is 0.1).
func StepLR(stepSize int, gamma float64) Schedule {
	return Schedule{Kind: StepSchedule, StepSize: stepSize, Gamma: gamma}
}

// CosineAnnealingLR is torch's CosineAnnealingLR(T_max, eta_min).
func CosineAnnealingLR(tMax int, etaMin float64) Schedule {
	return Schedule{Kind: CosineSchedule, TMax: tMax, EtaMin: etaMin}
}

// String writes the schedule as the command line takes it (ParseSchedule).
func (s Schedule) String() string {
	switch s.Kind {
	case StepSchedule:
		return fmt.Sprintf("step:%d:%s", s.StepSize, pyFloat(s.Gamma))
	case CosineSchedule:
		return fmt.Sprintf("cosine:%d:%s", s.TMax, pyFloat(s.EtaMin))
	}
	return "none"
}

// Validate checks the schedule's settings.
func (s Schedule) Validate() error {
	switch s.Kind {
	case ConstantSchedule:
		return nil
	case StepSchedule:
		if s.StepSize < 1 || !(s.Gamma >= 0) {
			return fmt.Errorf("models: StepLR needs step_size ≥ 1 and gamma ≥ 0, got %d and %v", s.StepSize, s.Gamma)
		}
		return nil
	case CosineSchedule:
		if s.TMax < 1 || !(s.EtaMin >= 0) {
			return fmt.Errorf("models: CosineAnnealingLR needs T_max ≥ 1 and eta_min ≥ 0, got %d and %v", s.TMax, s.EtaMin)
		}
		return nil
	}
	return fmt.Errorf("models: unknown schedule %d", int(s.Kind))
}

// lrSchedule follows a Schedule epoch by epoch with PyTorch's recursive
// (chainable) get_lr in float64, so each epoch's rate equals torch's
// group['lr'] bit for bit, not just its closed form.
type lrSchedule struct {
	s     Schedule
	base  float64
	epoch int
	lr    float64
}

func newLRSchedule(s Schedule, base float64) *lrSchedule {
	return &lrSchedule{s: s, base: base, lr: base}
}

// at returns the rate of epoch e (0-based), stepping from the last epoch
// asked for (or from the start, for an earlier one).
func (l *lrSchedule) at(e int) float64 {
	if e < l.epoch {
		l.epoch, l.lr = 0, l.base
	}
	for l.epoch < e {
		l.epoch++
		l.lr = l.next(l.epoch, l.lr)
	}
	return l.lr
}

// next is get_lr for last_epoch = e given the previous rate.
func (l *lrSchedule) next(e int, lr float64) float64 {
	s := l.s
	switch s.Kind {
	case StepSchedule:
		if e%s.StepSize != 0 {
			return lr
		}
		return lr * s.Gamma
	case CosineSchedule:
		T := float64(s.TMax)
		if pyMod(e-1-s.TMax, 2*s.TMax) == 0 {
			return lr + (l.base-s.EtaMin)*(1-math.Cos(math.Pi/T))/2
		}
		return (1+math.Cos(math.Pi*float64(e)/T))/(1+math.Cos(math.Pi*float64(e-1)/T))*(lr-s.EtaMin) + s.EtaMin
	}
	return lr
}

// pyMod is Python's a % b for b > 0 (never negative).
func pyMod(a, b int) int {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}

// ParseSchedule reads a schedule as the command line gives it: none,
// step:STEP_SIZE:GAMMA or cosine:T_MAX[:ETA_MIN].
func ParseSchedule(text string) (Schedule, error) {
	parts := strings.Split(text, ":")
	bad := func() (Schedule, error) {
		return Schedule{}, fmt.Errorf("schedule %q: want none, step:STEP_SIZE:GAMMA or cosine:T_MAX[:ETA_MIN]", text)
	}
	var s Schedule
	var err1, err2 error
	switch {
	case text == "none" || text == "":
		return Schedule{}, nil
	case parts[0] == "step" && len(parts) == 3:
		s.Kind = StepSchedule
		s.StepSize, err1 = strconv.Atoi(parts[1])
		s.Gamma, err2 = strconv.ParseFloat(parts[2], 64)
	case parts[0] == "cosine" && (len(parts) == 2 || len(parts) == 3):
		s.Kind = CosineSchedule
		s.TMax, err1 = strconv.Atoi(parts[1])
		if len(parts) == 3 {
			s.EtaMin, err2 = strconv.ParseFloat(parts[2], 64)
		}
	default:
		return bad()
	}
	if err1 != nil || err2 != nil {
		return bad()
	}
	if err := s.Validate(); err != nil {
		return Schedule{}, fmt.Errorf("schedule %q: %w", text, err)
	}
	return s, nil
}
