//go:build race

package models

// raceEnabled: the race detector slows the pure-Go CPU kernels ~10×.
const raceEnabled = true
