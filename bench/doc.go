// Package bench holds vkneuro's cross-backend and cross-framework
// benchmarks: the harness that trains the tutorials' three workloads in
// vkneuro (each backend) and in PyTorch on the same machine, and the
// recorded results in RESULTS.md. Kernel benchmarks live next to their
// kernels (go test -bench ./kernels/...).
//
// The harness is bench/cmd/compare. It writes the inputs with
// gen_data.py (gratings, synthetic tuned responses, one initial state_dict
// for both frameworks), trains them with vkneuro train and with
// pytorch_ref.py (the tutorials' PyTorch models and loops), and compares
// training-loop times and per-step losses. This package has the parsing,
// statistics and report helpers it uses, and BenchmarkStep, one training
// step of each workload on the CPU backend, for profiling.
package bench
