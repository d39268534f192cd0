// Package data provides the inputs of the vkneuro models: the tutorials'
// grating stimuli and example convolution filters, .npz reading and writing,
// the mouse V1 response files of Stringer et al. (2019) used by the
// Neuromatch deep-learning tutorials, and a synthetic generator for data in
// the same format.
//
// # Stimuli
//
// Grating and Gratings reproduce the tutorials' grating() (48×64 images at
// the default resolution 0.1, 12×16 at 0.025); Filters reproduces their
// filters() (centre-surround, its negative, and Gabors, [out,1,K,K]), and
// Demean the Bonus tutorial's per-filter mean subtraction.
//
// # File formats
//
// All files are NumPy .npz archives. ReadNPZ accepts float32, float64,
// integer and bool arrays in C or Fortran order, and returns float32 in C
// order; WriteNPZ writes uncompressed "<f4" C-order arrays, loadable by
// numpy.load, atomically.
//
// The V1 file (W3D4_stringer_oribinned1.npz; LoadV1, SaveV1):
//
//	resp       [S, N] float32   trial-averaged, z-scored responses of N neurons
//	stimuli    [S] or [S, 1]    orientation of each stimulus bin, degrees in [0,360)
//	synthetic  [1] (optional)   present and 1 in files SaveV1 writes for synthetic data
//
// The split V1 file (W3D4_stringer_oribinned6_split.npz; LoadV1Split,
// SaveV1Split):
//
//	resp_train [S, N] float32   responses averaged over one half of the trials
//	resp_test  [S, N] float32   the same neurons, averaged over the other half
//	stimuli    [S] or [S, 1]    degrees
//	synthetic  [1] (optional)
//
// The real recordings have S = 360 (1° bins) and S = 60 (6° bins) with
// N = 23589. Loaders convert float64 and integer arrays to float32 (listed
// in Converted) and reject missing keys, wrong ranks, mismatched stimulus
// counts, empty arrays and non-finite values with errors naming the file,
// key and shape.
//
// # Synthetic data
//
// SyntheticV1 and SyntheticV1Split generate SYNTHETIC data — a model
// population of orientation- and direction-tuned neurons with trial noise,
// z-scored over single trials and binned like the real files — for use when the real
// recordings are not available. Results obtained on it say nothing about
// mouse V1; files written from it carry the "synthetic" key.
package data
