package models

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Dataset is training data in host memory.
type Dataset struct {
	X []float32 // S samples × Model.InputSize(), row-major
	T []float32 // S samples × Model.TargetSize() (class indices for NLL)
	S int
}

// Check verifies the sizes against the model.
func (d Dataset) Check(m *Model) error {
	if d.S < 1 {
		return fmt.Errorf("models: %s: empty training set", m.Name)
	}
	if len(d.X) != d.S*m.InputSize() {
		return fmt.Errorf("models: %s: training inputs have %d values, want %d samples × %d", m.Name, len(d.X), d.S, m.InputSize())
	}
	if len(d.T) != d.S*m.TargetSize() {
		return fmt.Errorf("models: %s: training targets have %d values, want %d samples × %d", m.Name, len(d.T), d.S, m.TargetSize())
	}
	return nil
}

// TrainConfig says how long and in which order to train.
type TrainConfig struct {
	// Steps is the total number of optimizer steps (a resumed run counts
	// the steps before the checkpoint).
	Steps int
	// Batch is the minibatch size; 0 or ≥ S means full batch.
	Batch int
	// Seed determines the minibatch order (see Trainer).
	Seed uint64
	// Metrics, if set, receives one CSV row "step,loss,epoch" per step
	// (step counts from 1; loss as the shortest decimal that reads back as
	// the same float32), with a fourth column test_loss when EvalEvery is
	// set (empty on the other steps). The caller writes the header
	// (Trainer.MetricsHeader).
	Metrics io.Writer
	// EvalEvery, if > 0, evaluates the model on Test after every
	// EvalEvery-th step, as the Bonus tutorial's train() computes its
	// test loss: after the update, in evaluation mode, the loss plus the
	// penalties on the updated weights.
	EvalEvery int
	Test      Dataset
	// OnDiverge, if set, is called once, at the first step whose loss is
	// not finite, or more than DivergeFactor times the lowest loss so far
	// and above the first step's (the untrained network's) loss,
	// with the loss of the step before and of that step.
	OnDiverge func(step int, before, after float32)
	// CheckpointDir, if set, receives a checkpoint every CheckpointEvery
	// steps (0: none periodic), at the end, and when the context is
	// cancelled.
	CheckpointDir   string
	CheckpointEvery int
	// Progress, if set, is called after every step.
	Progress func(step int, loss float32)
	// Schedule changes the learning rate once per epoch (epoch e of
	// BatchesPerEpoch steps runs at the schedule's rate for e, from the
	// optimizer's LR), as a torch.optim.lr_scheduler stepped after each
	// epoch. The zero value keeps the rate constant.
	Schedule Schedule
}

// MetricsHeader is the header line of the Metrics CSV;
// MetricsHeaderTest its header with the test_loss column (EvalEvery).
const (
	MetricsHeader     = "step,loss,epoch\n"
	MetricsHeaderTest = "step,loss,epoch,test_loss\n"
)

// MetricsHeader is the header of the Metrics CSV this Trainer writes.
func (tr *Trainer) MetricsHeader() string {
	if tr.Config.EvalEvery > 0 {
		return MetricsHeaderTest
	}
	return MetricsHeader
}

// DivergeFactor is how far above its lowest value so far a loss must
// rise for the Trainer to call training diverged (Result.DivergedAt):
// far beyond minibatch noise, as a learning rate too large gives. The
// loss must also be worse than the first step's: a minibatch loss of
// 1e-6 that rises to 1e-3 is noise of a trained network, not divergence.
const DivergeFactor = 100

// ErrInterrupted is returned by Trainer.Run when its context is
// cancelled; the step in progress completes (and a checkpoint is written
// when configured) first.
var ErrInterrupted = errors.New("models: training interrupted")

// Result summarises a Trainer.Run.
type Result struct {
	Steps     int     // steps done in total, including those before a resume
	Ran       int     // steps done by this Run
	FinalLoss float32 // loss of the last step
	Seconds   float64 // wall time of the training loop alone (no evaluations)
	// DivergedAt is the first step of this Run whose loss was not finite
	// or rose past DivergeFactor times the lowest so far and above the
	// first step's (0: none), with
	// the losses of the step before and of that step.
	DivergedAt               int
	LossBefore, LossDiverged float32
	// TestLoss is the last EvalEvery evaluation's test loss (NaN without one).
	TestLoss float64
}

// Trainer runs minibatch SGD on a Model.
//
// The minibatch order follows the Tutorial 3 train(): every epoch draws a
// random permutation of the samples and splits it into consecutive
// batches (the last may be smaller, as torch.split). The permutation of
// epoch e comes from a PCG generator seeded with (Seed, e), so a run is
// reproducible and can resume at any step from the seed and the step
// alone; it cannot equal torch.randperm's order. With a full batch there
// is no shuffling (the mean over the batch does not depend on order, up
// to rounding), and the batch is uploaded once.
type Trainer struct {
	Model  *Model
	Data   Dataset
	Config TrainConfig

	step  int         // steps done so far
	sched *lrSchedule // the learning rate by epoch
}

// lrAt is the learning rate of step s (0-based) under the schedule.
func (tr *Trainer) lrAt(s int) float64 {
	base := tr.Model.training.Optimizer.LR
	if tr.sched == nil || tr.sched.base != base || tr.sched.s != tr.Config.Schedule {
		tr.sched = newLRSchedule(tr.Config.Schedule, base)
	}
	return tr.sched.at(s / tr.BatchesPerEpoch())
}

// NewTrainer checks the data against the model.
func NewTrainer(m *Model, d Dataset, c TrainConfig) (*Trainer, error) {
	if err := d.Check(m); err != nil {
		return nil, err
	}
	if c.Steps < 0 || c.Batch < 0 || c.CheckpointEvery < 0 || c.EvalEvery < 0 {
		return nil, fmt.Errorf("models: negative steps, batch, checkpoint or evaluation interval in %+v", c)
	}
	if c.EvalEvery > 0 {
		if err := c.Test.Check(m); err != nil {
			return nil, fmt.Errorf("models: EvalEvery needs a test set: %w", err)
		}
	}
	if err := c.Schedule.Validate(); err != nil {
		return nil, err
	}
	return &Trainer{Model: m, Data: d, Config: c}, nil
}

// Step is the number of optimizer steps done (restored by Resume).
func (tr *Trainer) Step() int { return tr.step }

func (tr *Trainer) batch() int {
	if tr.Config.Batch == 0 || tr.Config.Batch >= tr.Data.S {
		return tr.Data.S
	}
	return tr.Config.Batch
}

// BatchesPerEpoch is ceil(S / batch).
func (tr *Trainer) BatchesPerEpoch() int {
	b := tr.batch()
	return (tr.Data.S + b - 1) / b
}

// orderStream separates the minibatch order's random stream from the
// initialisation's.
const orderStream = 0x6f72646572 // "order"

// rows returns the sample indices of step s (0-based).
func (tr *Trainer) rows(s int, perm []int, permEpoch *int) []int {
	b, S := tr.batch(), tr.Data.S
	bpe := tr.BatchesPerEpoch()
	e, j := s/bpe, s%bpe
	if *permEpoch != e {
		if b == S {
			for i := range perm {
				perm[i] = i
			}
		} else {
			r := rand.New(rand.NewPCG(tr.Config.Seed, orderStream+uint64(e)))
			copy(perm, r.Perm(S))
		}
		*permEpoch = e
	}
	return perm[j*b : min((j+1)*b, S)]
}

// Run trains until Config.Steps steps are done or ctx is cancelled.
func (tr *Trainer) Run(ctx context.Context) (Result, error) {
	// The fields are exported: check again what NewTrainer checked.
	if _, err := NewTrainer(tr.Model, tr.Data, tr.Config); err != nil {
		return Result{Steps: tr.step}, err
	}
	m, d := tr.Model, tr.Data
	perm := make([]int, d.S)
	permEpoch := -1
	res := Result{Steps: tr.step}
	start := time.Now()
	full := tr.batch() == d.S
	var row []byte
	res.TestLoss = math.NaN()
	var evalTime time.Duration
	best, prev, first := float32(math.Inf(1)), float32(math.NaN()), float32(math.NaN())
	for tr.step < tr.Config.Steps {
		if ctx.Err() != nil {
			break
		}
		var loss float32
		m.lr = tr.lrAt(tr.step)
		var err error
		if full {
			loss, err = m.stepResident(d.X, d.T, d.S)
		} else {
			loss, err = m.stepRows(d, tr.rows(tr.step, perm, &permEpoch))
		}
		if err != nil {
			res.Seconds = time.Since(start).Seconds()
			return res, fmt.Errorf("models: step %d: %w", tr.step+1, err)
		}
		tr.step++
		res.Steps, res.FinalLoss = tr.step, loss
		res.Ran++
		if res.Ran == 1 {
			first = loss
		}
		if res.DivergedAt == 0 && (math.IsNaN(float64(loss)) || math.IsInf(float64(loss), 0) || best > 0 && loss > DivergeFactor*best && loss > first) {
			res.DivergedAt, res.LossBefore, res.LossDiverged = tr.step, prev, loss
			if tr.Config.OnDiverge != nil {
				tr.Config.OnDiverge(tr.step, prev, loss)
			}
		}
		best, prev = min(best, loss), loss
		testLoss := math.NaN()
		if k := tr.Config.EvalEvery; k > 0 && tr.step%k == 0 {
			t0 := time.Now()
			if testLoss, err = m.TestLoss(tr.Config.Test); err != nil {
				return res, fmt.Errorf("models: evaluating after step %d: %w", tr.step, err)
			}
			res.TestLoss = testLoss
			evalTime += time.Since(t0)
		}
		if w := tr.Config.Metrics; w != nil {
			row = strconv.AppendInt(row[:0], int64(tr.step), 10)
			row = append(row, ',')
			row = strconv.AppendFloat(row, float64(loss), 'g', -1, 32)
			row = append(row, ',')
			row = strconv.AppendInt(row, int64((tr.step-1)/tr.BatchesPerEpoch()), 10)
			if tr.Config.EvalEvery > 0 {
				row = append(row, ',')
				if !math.IsNaN(testLoss) {
					row = strconv.AppendFloat(row, testLoss, 'g', -1, 64)
				}
			}
			row = append(row, '\n')
			if _, err := w.Write(row); err != nil {
				return res, fmt.Errorf("models: writing metrics: %w", err)
			}
		}
		if tr.Config.Progress != nil {
			tr.Config.Progress(tr.step, loss)
		}
		if k := tr.Config.CheckpointEvery; k > 0 && tr.Config.CheckpointDir != "" && tr.step%k == 0 && tr.step < tr.Config.Steps {
			if err := tr.flushAndCheckpoint(); err != nil {
				return res, err
			}
		}
	}
	res.Seconds = (time.Since(start) - evalTime).Seconds()
	if tr.Config.CheckpointDir != "" {
		if err := tr.flushAndCheckpoint(); err != nil {
			return res, err
		}
	}
	if ctx.Err() != nil && tr.step < tr.Config.Steps {
		return res, ErrInterrupted
	}
	return res, nil
}

// stepRows runs a training step on the samples idx of d, gathered
// straight into the host batch of the step Program.
func (m *Model) stepRows(d Dataset, idx []int) (float32, error) {
	g, err := m.feedRecording(len(idx))
	if err != nil {
		return 0, err
	}
	in, tn := m.InputSize(), m.TargetSize()
	for k, i := range idx {
		copy(g.xin[k*in:(k+1)*in], d.X[i*in:(i+1)*in])
		copy(g.tin[k*tn:(k+1)*tn], d.T[i*tn:(i+1)*tn])
	}
	return m.runStep(g)
}

// stepResident runs a training step on the whole data set, uploading it
// only when the step Program's input does not already hold these slices
// (the same backing arrays and lengths: Dataset's contents must not
// change while a Trainer uses them).
func (m *Model) stepResident(x, t []float32, n int) (float32, error) {
	g, err := m.stepRecording(n)
	if err != nil {
		return 0, err
	}
	key := residentKey(g, x, t)
	if m.resident != key {
		m.resident = residency{}
		if err := m.be.Upload(g.x, x); err != nil {
			return 0, err
		}
		if err := m.be.Upload(g.t, t); err != nil {
			return 0, err
		}
		m.resident = key
	}
	return m.runStep(g)
}

// flushAndCheckpoint writes the metrics rows so far to disk (when the
// Metrics writer buffers: it has Flush), then a checkpoint: the metrics
// file then holds at least every step the checkpoint has done, which a
// resumed run needs (OpenMetrics).
func (tr *Trainer) flushAndCheckpoint() error {
	if f, ok := tr.Config.Metrics.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			return fmt.Errorf("models: writing metrics: %w", err)
		}
	}
	return tr.Checkpoint(tr.Config.CheckpointDir)
}
