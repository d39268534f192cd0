package report

import (
	"context"
	"fmt"

	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/models"
	"github.com/vkneuro/vkneuro/tasks"
)

// network is one of Tutorial 3's bonus networks (Bonus Section 1),
// trained with the CNN's recipe and compared with V1 as the CNN is.
type network struct {
	Variant string // models.NormativeFC or models.NormativeConvFC
	Title   string // the tutorial's class name
	Layers  []*layerResp
	Test    float64 // fraction correct on the tutorial's test gratings
	Steps   int
	Loss    float64 // of the last step
	Seconds float64
}

// bonusNetworks are the tutorial's FC (no convolution) and ConvFC (no
// pooling) classes, in the order its bonus section builds them.
var bonusNetworks = []struct{ variant, title string }{
	{models.NormativeFC, "FC"},
	{models.NormativeConvFC, "ConvFC"},
}

// trainBonusNetworks trains each bonus network on the CNN's training
// gratings with the CNN's settings, and compares the activity of its
// layers for the Tutorial 3 stimuli with V1.
func (r *report) trainBonusNetworks(ctx context.Context, be kernels.Backend, logf func(string, ...any)) error {
	c := r.cfg
	o := r.options()
	o.Network, o.Data, o.NTrain = tasks.Normative, "", c.TrainSamples
	task, err := tasks.Load(o)
	if err != nil {
		return err
	}
	for _, b := range bonusNetworks {
		n, err := r.trainBonusNetwork(ctx, be, task, b.variant, b.title)
		if err != nil {
			return fmt.Errorf("Tutorial 3's bonus network %s: %w", b.title, err)
		}
		r.bonusNets = append(r.bonusNets, n)
		r.timings["train_"+b.variant+"_s"] = n.Seconds
		logf("report: trained %s: %d steps in %.2f s, test accuracy %.3f", b.title, n.Steps, n.Seconds, n.Test)
	}
	return nil
}

func (r *report) trainBonusNetwork(ctx context.Context, be kernels.Backend, task *tasks.Task, variant, title string) (*network, error) {
	c := r.cfg
	m, err := models.NewNormativeVariant(be, variant, gratingH, gratingW, uint64(c.Seed))
	if err != nil {
		return nil, err
	}
	defer m.Close()
	s := tasks.Settings{Epochs: c.Epochs, Batch: c.Batch, LR: c.LR, Momentum: c.Momentum, Seed: uint64(c.Seed)}
	tr, err := task.Trainer(m, s, models.TrainConfig{})
	if err != nil {
		return nil, err
	}
	res, err := tr.Run(ctx)
	if err != nil {
		return nil, err
	}
	ev, _, err := task.Evaluate(m)
	if err != nil {
		return nil, err
	}
	n := &network{Variant: variant, Title: title, Test: ev.Value, Steps: res.Steps, Loss: float64(res.FinalLoss), Seconds: res.Seconds}
	if n.Layers, err = activity(m, r.images, m.HiddenLayers()); err != nil {
		return nil, err
	}
	if err := r.compare(be, r.layers[0].RDM, r.S, n.Layers, title+"_"); err != nil {
		return nil, err
	}
	return n, nil
}
