// Package models builds feed-forward networks on a kernels.Backend and
// trains them with PyTorch's semantics.
//
// A network is a list of Layers applied in order, as nn.Sequential
// chains modules (New, Sequential): Conv2d, Linear, MaxPool2d,
// AvgPool2d, Flatten, ReLU, ELU, Sigmoid, Tanh, Softplus, LogSoftmax,
// Softmax and Dropout, configured as their PyTorch constructors are.
// ParseArch reads the same network from the text of nn.Sequential's
// arguments, so it can be copied from PyTorch code. Modules are named by
// their index, so state_dict keys are nn.Sequential's ("0.weight",
// "3.bias") and state dicts move both ways with load_state_dict; Named
// gives a module its own name, as a PyTorch class's attributes do.
// Shapes are checked for the whole network before anything is
// allocated.
//
// The loss is one of PyTorch's (mean reduction): BCE, BCE-with-logits,
// MSE, NLL, cross-entropy and Poisson NLL. L1 and L2 penalties
// (coef·Σ|w|, coef·Σw²) apply to any named parameters. The optimizer is
// torch.optim's SGD (momentum, dampening, Nesterov, weight decay), Adam
// or AdamW, with a learning-rate Schedule (StepLR, CosineAnnealingLR)
// stepped once per epoch by the Trainer.
//
// The tutorials' networks are presets on the same API with the
// tutorials' module names:
//
//   - NewNormative (Tutorial 3's CNN): conv 6×1×7×7 pad 3 → ReLU →
//     max-pool 8 → fc 10 → ReLU → out 1 → sigmoid, BCE; and
//     NewNormativeVariant, its bonus FC and ConvFC networks.
//   - NewDecode (Bonus DeepNetSoftmax / DeepNetReLU): in_layer N→H →
//     ReLU → out_layer H→C with log-softmax and NLL, or H→1 with MSE.
//   - NewEncode (Bonus ConvFC): conv 6×1×7×7 pad 3 (no ReLU) → flatten →
//     out_layer → neurons, MSE.
//
// SetHyper is the tutorials' training (SGD with momentum, L1/L2 on the
// preset's penalised weight); SetTraining is the general form.
//
// A training step is one kernels.Program, recorded once per batch size:
// forward, loss and penalties, backward, and the optimizer update of
// every parameter. Run once per step, it is one queue submit on Vulkan,
// a discrete GPU included: a mini-batch comes in and the loss goes out
// inside it (kernels.Program.Write and Read), and so do the values that
// change from step to step (the learning rate under a schedule, Adam's
// bias corrections, the step number that draws dropout masks: a
// kernels step state), so a schedule never records the step again.
// Evaluation and hidden activity use separate forward-only Programs.
// Trainer adds minibatch order (the tutorials' per-epoch shuffle, from a
// seeded generator), the schedule, metrics, checkpoints and resumption;
// state dicts are read and written as .npz files that PyTorch's
// load_state_dict accepts.
package models
