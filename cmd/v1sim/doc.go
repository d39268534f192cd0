// Command v1sim writes SYNTHETIC mouse-V1-like data sets in the formats of
// the Stringer et al. files the Neuromatch tutorials load: the 1° binned
// file (resp, stimuli; W3D4_stringer_oribinned1.npz) and the split file
// (resp_train, resp_test, stimuli; W3D4_stringer_oribinned6_split.npz).
// The data come from data.SyntheticV1: a model population of orientation-
// and direction-tuned neurons, not a recording. Files are written
// atomically and carry a "synthetic" key.
//
// Usage:
//
//	v1sim -out v1.npz [-split v1split.npz] [-neurons 23589] [-seed 1]
//	      [-noise 1] [-stimuli 360] [-split-stimuli 60]
//
// At least one of -out and -split is required. -noise 0 gives noiseless
// tuning curves.
package main
