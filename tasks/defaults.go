package tasks

import (
	"fmt"

	"github.com/vkneuro/vkneuro/models"
)

// Network names, as the train subcommand takes them.
const (
	Normative = "normative"
	Decode    = "decode"
	Encode    = "encode"
)

// Networks lists the tasks in the order the programs document them.
var Networks = []string{Normative, Decode, Encode}

// Settings are the optimiser settings of one training run.
type Settings struct {
	// Epochs are passes over the training set. With a full batch each is
	// one step, so for decode and encode it is the tutorials' n_iter.
	Epochs int
	// Iters, when > 0, is the number of optimiser steps instead.
	Iters int
	// Batch is the minibatch size; 0 trains on the full batch.
	Batch int
	// LR, Momentum: SGD's. L1, L2: coefficients of the penalties on the
	// network's penalised weight (models.Model.Penalized).
	LR, Momentum, L1, L2 float64
	// Seed drives initialisation, generated data, the split and the
	// minibatch order.
	Seed uint64
	// Optimizer, when not nil, replaces SGD at LR with Momentum: any
	// torch.optim optimizer the models package has (its LR is the one
	// used).
	Optimizer *models.Optimizer
	// Schedule changes the learning rate once per epoch.
	Schedule models.Schedule
	// Penalize names the parameters L1 and L2 apply to; nil means the
	// preset network's penalised weight (models.Model.Penalized).
	Penalize []string
}

// Hyper is s as the model's optimiser takes it.
func (s Settings) Hyper() models.Hyper {
	return models.Hyper{LR: float32(s.LR), Momentum: float32(s.Momentum), L1: float32(s.L1), L2: float32(s.L2)}
}

// Defaults are a task's tutorial settings.
type Defaults struct {
	Settings
	TestFrac float64 // decode: fraction of stimuli held out (the tutorial's 60/40 split)
	Hidden   int     // decode: hidden units
	Classes  int     // decode softmax: orientation classes
	NTrain   int     // normative: generated training gratings
}

// DefaultsFor returns the tutorial's settings of network (and, for
// decode, of variant models.DecodeSoftmax or models.DecodeReLU).
func DefaultsFor(network, variant string) (Defaults, error) {
	switch {
	case network == Normative:
		// Tutorial 3's train(): n_epochs 25, batch_size 100, lr 5e-4,
		// momentum 0.99, on 1000 gratings, np.random.seed(12).
		return Defaults{Settings: Settings{Epochs: 25, Batch: 100, LR: 5e-4, Momentum: 0.99, Seed: 12}, NTrain: 1000}, nil
	case network == Decode && variant == models.DecodeReLU:
		// Bonus Section 1: DeepNetReLU(n_neurons, 10), n_epochs 50, lr 1e-4;
		// the split after np.random.seed(4).
		return Defaults{Settings: Settings{Epochs: 50, LR: 1e-4, Seed: 4}, TestFrac: 0.4, Hidden: 10, Classes: 20}, nil
	case network == Decode && variant == models.DecodeSoftmax:
		// Bonus Section 2.3: DeepNetSoftmax(n_neurons, 20, 20),
		// decode_orientation's lr 0.1, n_iter 1000, L2 1e-2, L1 5e-4.
		return Defaults{Settings: Settings{Epochs: 1000, LR: 0.1, L1: 5e-4, L2: 1e-2, Seed: 4}, TestFrac: 0.4, Hidden: 20, Classes: 20}, nil
	case network == Encode:
		// Bonus Section 3.2: ConvFC, n_iter 200, lr 2, momentum 0.9,
		// L2 5e-4, L1 1e-6.
		return Defaults{Settings: Settings{Epochs: 200, LR: 2, Momentum: 0.9, L1: 1e-6, L2: 5e-4, Seed: 1}}, nil
	case network == Decode:
		return Defaults{}, fmt.Errorf("tasks: decode variant %q: want %q or %q", variant, models.DecodeSoftmax, models.DecodeReLU)
	}
	return Defaults{}, fmt.Errorf("tasks: unknown network %q: want normative, decode or encode", network)
}

// MustDefaultsFor is DefaultsFor for a network and variant known to be
// valid (this package's and models' constants); it panics on others.
func MustDefaultsFor(network, variant string) Defaults {
	d, err := DefaultsFor(network, variant)
	if err != nil {
		panic(err)
	}
	return d
}
