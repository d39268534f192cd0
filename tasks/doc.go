// Package tasks is the one home of the Neuromatch tutorials' three
// training tasks, which the vkneuro command (train, report) and the
// benchmark harness share:
//
//   - normative: Tutorial 3's orientation-discrimination CNN on gratings,
//     tested on the tutorial's 180 test gratings;
//   - decode: the Bonus tutorial's decoder of V1 responses, orientation
//     classes (DeepNetSoftmax, NLL) or degrees (DeepNetReLU, MSE), on a
//     seeded train/test split of the stimuli;
//   - encode: the Bonus tutorial's ConvFC encoding model from grating
//     images to V1 responses, tested on the second half of the trials.
//
// A task assembles its data and targets from the tutorials' file formats
// or the built-in defaults (generated gratings, data.SyntheticV1), splits
// them, builds its network with its loss (models.NewNormative, NewDecode,
// NewEncode) and scores the trained network on the test set. Defaults
// holds every tutorial hyper-parameter, so the programs cannot drift
// apart: Split is the only train/test split, with one random stream, and
// NewDecode the only place decoder targets are made (out-of-range
// orientations are an error naming the file, index and value).
package tasks
