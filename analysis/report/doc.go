// Package report reproduces the figures and numbers of the Neuromatch
// deep-learning tutorials (W1D5) on V1 data and writes them as PNG
// figures, summary.json, encoding.npz, index.html and report.md
// (Generate), one page section per tutorial, each figure saying which
// section of which tutorial it reproduces. The vkneuro report subcommand
// is its command line.
//
//   - V1 data: the Bonus tutorial's look at the responses
//     (plot_data_matrix, tuning curves), and the cross-validated PCA
//     eigenspectrum of the split data against Stringer et al. (2019)'s
//     power law.
//   - Tutorial 2: the example stimuli, the six de-meaned filters, and
//     plot_example_activations of ConvolutionalLayer(1, 6, 7) on five
//     gratings (patch gratings with Config.PatchGratings).
//   - Tutorial 3: the normative CNN (trained with the tutorial's recipe,
//     tasks.DefaultsFor normative, or loaded), its loss, filters, and the
//     tutorial's pipeline: stimuli ≤ 180° shifted by −90°, forward hooks
//     on conv (pre-ReLU), pool, fc (pre-ReLU) and out (pre-sigmoid), RDMs
//     (1 − Z·Zᵀ/N) and their RSA with V1 with bootstrap intervals, RDM
//     rows, tuning curves, PCA then t-SNE; the bonus networks FC and
//     ConvFC trained alike and compared in the RSA figure.
//   - Bonus tutorial, decoding: DeepNetReLU (MSE on degrees: loss, W_in
//     unsorted and sorted by preferred orientation, W_out, hidden units,
//     test predictions and errors) and DeepNetSoftmax without and with the
//     L1/L2 penalties (train and test loss, decoded class against
//     orientation with the class-bin edges, sorted W_in and W_out), on one
//     seeded 60/40 split (tasks.NewDecode, tasks.Split). Preferred
//     orientations smooth each tuning curve with σ = 5° in the
//     tutorial's boundary mode, reflect, or wrap (Config.SmoothMode).
//   - Bonus tutorial, encoding: the ConvFC encoder fitted to the split data
//     (resp_train, resp_test), its loss curves, predictions and filters.
//   - Encoding models evaluated: the encoder's per-neuron test
//     correlation, split-half reliability, normalised correlation and
//     FEVE; ridge baselines (analysis.RidgeCV) from the stimulus pixels and
//     from each layer of the CNN for the same orientations; the CNN's RSA
//     on the split data's stimuli under the noise ceiling; gradient
//     receptive fields of the best-predicted neurons and sliding
//     noise-patch sensitivity maps of the CNN's fc units.
//
// Without V1 files it uses SYNTHETIC V1-like data (data.SyntheticV1 and
// data.SyntheticV1Split). The products that grow with the population
// (RDMs, cvPCA, the ridge GEMMs) and every network run on the backend
// given.
package report
