package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/models"
	"github.com/vkneuro/vkneuro/tasks"
)

// StepCase is one benchmark workload's training step at the harness's
// shapes.
type StepCase struct {
	Name  string
	Build func(kernels.Backend) (*models.Model, error)
	Hyper models.Hyper
	S     int // samples in the data set
	// Batch is the minibatch size; 0 trains on the full batch, which
	// stays on the backend between steps, as vkneuro train keeps it.
	Batch int
}

// The harness's shapes, those of the tutorials' data: the recordings'
// neurons (data.DefaultNeurons, 23,589), decode's training stimuli (the
// tasks' 60% of the 360 one-degree bins: 216), encode's stimuli (the
// split file's 60) and normative's training gratings (1000).
var (
	Neurons           = data.DefaultNeurons
	DecodeStimuli     = decodeStimuli()
	EncodeStimuli     = data.DefaultSplitStimuli
	NormativeGratings = normative.NTrain
)

// The tutorials' settings of the three workloads.
var (
	normative = tasks.MustDefaultsFor(tasks.Normative, "")
	softmax   = tasks.MustDefaultsFor(tasks.Decode, models.DecodeSoftmax)
	encode    = tasks.MustDefaultsFor(tasks.Encode, "")
)

func decodeStimuli() int {
	train, _ := tasks.Split(data.DefaultStimuli, softmax.TestFrac, 0)
	return len(train)
}

// StepCases are the three workloads of the harness, with the tutorials'
// hyper-parameters and data sizes.
var StepCases = []StepCase{
	{fmt.Sprintf("normative/batch%d", normative.Batch), func(be kernels.Backend) (*models.Model, error) { return models.NewNormative(be, 48, 64, 1) },
		normative.Hyper(), NormativeGratings, normative.Batch},
	{fmt.Sprintf("decode/%dx%d", DecodeStimuli, Neurons), func(be kernels.Backend) (*models.Model, error) {
		return models.NewDecode(be, models.DecodeSoftmax, Neurons, softmax.Hidden, softmax.Classes, 1)
	}, softmax.Hyper(), DecodeStimuli, 0},
	{fmt.Sprintf("encode/%dx%d", EncodeStimuli, Neurons), func(be kernels.Backend) (*models.Model, error) {
		return models.NewEncode(be, 12, 16, Neurons, 1)
	}, encode.Hyper(), EncodeStimuli, 0},
}

// StepData returns random inputs and targets of c's data set for m
// (step time does not depend on the values, apart from ReLU and
// max-pool selections).
func StepData(m *models.Model, c StepCase) models.Dataset {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, c.S*m.InputSize())
	for i := range x {
		x[i] = float32(rng.NormFloat64()) * 0.3
	}
	t := make([]float32, c.S*m.TargetSize())
	for i := range t {
		switch m.Loss {
		case models.BCE:
			t[i] = float32(rng.IntN(2))
		case models.NLL:
			t[i] = float32(rng.IntN(m.OutputSize()))
		default:
			t[i] = float32(rng.NormFloat64())
		}
	}
	return models.Dataset{X: x, T: t, S: c.S}
}

// BenchStep times b.N training steps of c on be through models.Trainer,
// as vkneuro train runs them, and reports ms/step; with gpu set also
// gpu-ms/step, the device time of the step's commands
// (Model.LastStepGPUTime, so be must time its Programs), and
// gpu-share%, that time's part of the wall time. The first step, which
// records the step Program, is not timed. It returns the model, open,
// for a caller that inspects it after the steps (the caller closes it).
func BenchStep(b *testing.B, be kernels.Backend, c StepCase, gpu bool) *models.Model {
	m, err := c.Build(be)
	if err != nil {
		b.Fatal(err)
	}
	if err := m.SetHyper(c.Hyper); err != nil {
		m.Close()
		b.Fatal(err)
	}
	var dev time.Duration
	tr, err := models.NewTrainer(m, StepData(m, c), models.TrainConfig{Steps: b.N + 1, Batch: c.Batch, Seed: 1,
		Progress: func(step int, _ float32) {
			if step == 1 {
				b.ResetTimer()
				return
			}
			if gpu {
				d, ok := m.LastStepGPUTime()
				if !ok {
					b.Fatal("bench: no device time for the step: the backend does not time its Programs")
				}
				dev += d
			}
		}})
	if err != nil {
		m.Close()
		b.Fatal(err)
	}
	b.ReportAllocs()
	if _, err := tr.Run(context.Background()); err != nil {
		m.Close()
		b.Fatal(err)
	}
	b.StopTimer()
	wall := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(wall*1e3, "ms/step")
	if gpu {
		g := dev.Seconds() / float64(b.N)
		b.ReportMetric(g*1e3, "gpu-ms/step")
		b.ReportMetric(100*g/wall, "gpu-share%")
	}
	return m
}
