// Command train trains one of the Neuromatch deep-learning tutorials'
// networks (models.NewNormative, NewDecode, NewEncode) on the CPU or the
// Vulkan backend, from the tutorials' data files or built-in defaults,
// and writes metrics, a summary, checkpoints and a PyTorch-loadable
// state_dict.
//
// Usage:
//
//	train normative|decode|encode [flags]
//
// Run "train -h" for the flags. Exit status: 0 done, 1 error, 2 bad
// usage, 130 interrupted (SIGINT/SIGTERM: the step in progress finishes
// and a checkpoint is written when --checkpoint or --resume is given).
package main
