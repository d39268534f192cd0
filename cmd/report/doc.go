// Command report compares the hidden representations of Tutorial 3's
// normative CNN with mouse V1 responses and writes the comparison as
// figures, a summary.json, an index.html and a report.md.
//
// Usage:
//
//	report --out DIR [--model FILE.npz] [--v1 FILE.npz] [--backend auto|cpu|vulkan]
//	       [--metrics FILE.csv] [--seed N]
//
// Without --v1 it uses SYNTHETIC V1-like data (data.SyntheticV1: 23,589 model
// neurons, 360 one-degree bins); without --model it trains the network with
// the tutorial's recipe (1000 random gratings, batches of 100, 25 epochs,
// SGD lr 5e-4, momentum 0.99) and saves it as DIR/model.npz.
//
// The pipeline follows Tutorial 3 (W1D5): keep the stimuli ≤ 180° and shift
// them by −90°, render grating(ori) for each, record what forward hooks on
// the layers conv (pre-ReLU), pool, fc (pre-ReLU) and out (pre-sigmoid) see,
// compute the RDM (1 − Z·Zᵀ/N) of V1 and of each layer and their RSA
// correlations, tuning curves of sample neurons and units, and PCA (20
// components) then t-SNE embeddings of V1, pool and fc. As in the Bonus
// tutorial, a decoder (in_layer N→20 → ReLU → 20 orientation classes, lr 0.1,
// L2 1e-2 and L1 5e-4 on in_layer) is trained on 60% of the V1 stimuli and its
// input weights are drawn sorted by each neuron's preferred orientation.
//
// --backend auto runs on Vulkan when a real (non-CPU) GPU is present and on
// the CPU backend otherwise; vulkan also accepts a CPU driver such as
// lavapipe. The V1 RDM product (2·S²·N flops) runs on the chosen backend.
package main
