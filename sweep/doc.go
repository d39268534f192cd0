// Package sweep runs a grid of `vkneuro train` runs and gathers their
// results: the computation behind `vkneuro sweep`.
//
// A Plan is a network, the train flags every run shares and the grid
// axes (a train flag with a list of values); its points are the
// Cartesian product of the axes, numbered with the last axis changing
// fastest. A sweep lives in one directory (Dir):
//
//	DIR/sweep.json        the plan (a rerun must match it, and resumes it)
//	DIR/runs/<i>/         point i: log.txt, summary.json, metrics.csv,
//	                      model.npz, checkpoint/, exit.json
//	DIR/results.csv       one row per point (Table)
//	DIR/best.json         the best point by a metric
//	DIR/sweep.png         the metric against the first numeric axis
//	DIR/slurm/            the batch script, the job id and task outputs
//
// Each point is one child process, `vkneuro train` of the same binary,
// whose own files (summary, metrics, checkpoint) are the record: a
// point's state is read back from its directory (Collect), so a table
// written after a local run, a Slurm job or an interrupted run of
// either is built the same way, and a rerun starts only the points
// without a summary, resuming those with a checkpoint.
//
// RunPoint runs one point; Local runs many at once on this machine;
// Slurm submits them as one job array whose tasks each run RunPoint
// (`vkneuro sweep --point`).
package sweep
