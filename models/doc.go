// Package models builds the Neuromatch deep-learning tutorials' networks
// on a kernels.Backend and trains them with PyTorch's semantics.
//
// Three networks, with PyTorch state_dict names:
//
//   - Normative (Tutorial 3's CNN): conv 6×1×7×7 pad 3 → ReLU → max-pool 8
//     → fc 10 → ReLU → out 1 → sigmoid, binary cross-entropy.
//   - Decode (Bonus DeepNetSoftmax / DeepNetReLU): in_layer N→H → ReLU →
//     out_layer H→C with log-softmax and NLL, or H→1 with MSE.
//   - Encode (Bonus ConvFC): conv 6×1×7×7 pad 3 (no ReLU) → flatten →
//     out_layer → neurons, MSE.
//
// L1 and L2 penalties (coef·Σ|w|, coef·Σw²) are added to the objective
// on the weight the tutorial penalises (Model.Penalized).
//
// A training step is one kernels.Program, recorded once per batch size:
// forward, loss and penalties, backward, and torch.optim.SGD (momentum,
// no dampening) for every parameter. Run once per step, it is one queue
// submit on Vulkan, a discrete GPU included: a mini-batch comes in and
// the loss goes out inside it (kernels.Program.Write and Read). Evaluation and hidden activity use separate
// forward-only Programs. Trainer adds minibatch order (the tutorials'
// per-epoch shuffle, from a seeded generator), metrics, checkpoints and
// resumption; state dicts are read and written as .npz files that
// PyTorch's load_state_dict accepts.
package models
