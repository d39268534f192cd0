// Package figures draws the analysis results as PNG files with
// gonum/plot: heat maps (RDMs, weight matrices) with a colour bar, bar
// charts (RSA per layer), line plots (tuning curves, loss curves),
// scatter plots coloured by a value (PCA / t-SNE embeddings coloured by
// orientation) and grids of small greyscale images (filters, example
// stimuli); for encoding models, histograms of per-neuron scores,
// scores against their reliability ceiling, predicted and measured
// tuning curves, grouped per-layer bars with intervals and a shaded
// band (RSA and its noise ceiling), and receptive-field grids. Every figure has a title, labelled axes and a legend or
// colour bar where one means something, and is written atomically
// (temporary file in the same directory, fsync, rename).
package figures
