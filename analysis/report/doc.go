// Package report compares the hidden representations of Tutorial 3's
// normative CNN with mouse V1 responses, and writes the comparison as
// PNG figures, summary.json, index.html and report.md (Generate). The
// vkneuro report subcommand is its command line.
//
// The pipeline follows Tutorial 3 (W1D5): keep the stimuli ≤ 180° and
// shift them by −90°, render grating(ori) for each, record what forward
// hooks on the layers conv (pre-ReLU), pool, fc (pre-ReLU) and out
// (pre-sigmoid) see, compute the RDM (1 − Z·Zᵀ/N) of V1 and of each
// layer and their RSA correlations, tuning curves of sample neurons and
// units, and PCA (20 components) then t-SNE embeddings of V1, pool and
// fc. As in the Bonus tutorial, a decoder (tasks.NewDecode with the
// tutorial's settings: in_layer N→20 → ReLU → 20 orientation classes,
// 1000 steps of lr 0.1, L2 1e-2 and L1 5e-4 on in_layer) is trained on
// 60% of the V1 stimuli and its input weights are drawn sorted by each
// neuron's preferred orientation.
//
// Without a V1 file it uses SYNTHETIC V1-like data (data.SyntheticV1:
// 23,589 model neurons, 360 one-degree bins); without a model file it
// trains the network with the tutorial's recipe (tasks.DefaultsFor
// normative: 1000 random gratings, batches of 100, 25 epochs, SGD lr
// 5e-4, momentum 0.99) and saves it as DIR/model.npz. The RDM products
// (2·S²·N flops for V1) run on the backend given.
package report
