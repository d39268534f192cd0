// Package bench holds vkneuro's cross-backend and cross-framework
// benchmarks: the harness that trains the tutorials' three workloads in
// vkneuro (each backend) and in PyTorch on the same machine, and the
// recorded results in RESULTS.md. Kernel benchmarks live next to their
// kernels (go test -bench ./kernels/...).
package bench
