// Package analysis compares representations: of mouse V1 recordings and
// of the hidden layers of trained networks. It works on plain row-major
// slices (rows are stimuli, columns are neurons or units) so that it
// depends on neither the models nor the data packages.
//
// Representational similarity (Neuromatch tutorial W1D5 T3, section 2):
//
//	z[s,i] = (r[s,i] − μ_s) / σ_s        μ_s, σ_s over the N columns (ddof 0)
//	RDM    = 1 − Z·Zᵀ / N                (S×S; one minus Pearson correlation)
//	RSA    = corr(upper(RDM₁), upper(RDM₂))   off-diagonal upper triangle
//
// The product Z·Zᵀ (2·S²·N flops, 6.1 GFLOP for 360 stimuli × 23,589
// neurons) runs on a GEMM: gonum's multi-threaded Sgemm by default, or a
// kernels.Backend through BackendGEMM. A constant row of responses is
// z-scored to zeros (scipy gives NaN), so it is dissimilarity 1 from
// every stimulus; NaN or infinite responses are rejected with their
// index.
//
// Tuning and preferred orientation (bonus tutorial, section 1): responses
// are sorted by stimulus, each column is smoothed with a Gaussian of σ
// bins (scipy.ndimage.gaussian_filter1d: radius ⌊4σ+½⌋, normalised
// weights exp(−x²/2σ²)), and the preferred stimulus of a column is the
// one at its first maximum. SortByPreference orders columns by it, as
// used to display decoder input weights. The tutorial's call uses
// scipy's default boundary, Reflect; Wrap treats the stimulus axis as
// the circle it is and is what callers should normally use.
//
// Dimensionality reduction (tutorial section 3.2): PCA to at most 20
// components, then exact t-SNE to 2 dimensions with scikit-learn's
// defaults (perplexity 30, early exaggeration 12 for 250 iterations,
// learning rate max(N/12/4, 50), 1000 iterations, momentum 0.5 then 0.8,
// adaptive gains).
//
// Encoding models of the split V1 data (bonus tutorial, section 2;
// resp_train and resp_test are two halves of the trials of the same S
// stimuli): a prediction fitted to resp_train is scored per neuron by
// its correlation with resp_test, against the split-half reliability
// rel = corr(resp_train, resp_test) (normalised: r/√rel where rel > 0),
// and by neuralpredictors' FEVE with the halves as repeats; Summarize
// gives {median, mean, q25, q75, n} over the neurons where a score is
// defined. RidgeCV is the linear baseline from a layer's activity, with
// himalaya's RidgeCV semantics, run as one product on a GEMM.
//
// RSA uncertainty: RSABootstrap resamples stimuli with replacement
// (seeded), drops pairs of copies of one stimulus as rsatoolbox does,
// and gives a percentile interval; RSANoiseCeiling is the RSA between
// the RDMs of the two halves.
//
// Receptive fields: SensitivityMaps slides a noise patch over images
// through any function from images to activations; GradientRFs turns
// one-hot output gradients of a vector-Jacobian product (a model's
// InputGradient) into images.
//
// Figures of these results are drawn by the sub-package figures.
package analysis
