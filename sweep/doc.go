// Package sweep runs a grid of `vkneuro train` runs and gathers their
// results: the computation behind `vkneuro sweep`.
//
// A Plan is a task, the train flags every run shares and the grid axes
// (a train flag with a list of values; --data-glob's files are the axis
// of --data); its points are the Cartesian product of the axes,
// numbered with the last axis changing fastest. A sweep lives in one
// directory (Dir):
//
//	DIR/sweep.json        the plan (a rerun must match it, and resumes it)
//	DIR/runs/<i>/         point i: log.txt, summary.json, metrics.csv,
//	                      model.npz, checkpoint/, exit.json
//	DIR/results.csv       one row per point (Table)
//	DIR/best.json         the best point by a metric
//	DIR/sweep.png         the main test metric against each grid flag
//	DIR/sweep.sbatch      the Slurm runner's job array
//	DIR/slurm/            its job id and the tasks' outputs
//
// Each point is one child process, `vkneuro train` of the same binary,
// whose own files (summary, metrics, checkpoint, exit record) are the
// record: a point's state is read back from its directory (Collect), so
// a table written after a local run, a Slurm job or an interrupted run
// of either is built the same way, and a rerun starts only the points
// without a summary, resuming those with a checkpoint. Collect's six
// states map onto results.csv's three statuses: done and diverged are
// ok (train finished; a diverged one has no final loss), failed is
// failed, and pending, interrupted and started are skipped, except that
// a started point without a result is failed once no sweep runs it (it
// was killed, or its Slurm task could not start train).
//
// RunPoint runs one point; Local runs many at once on this machine;
// Slurm submits them as one job array whose tasks each run RunPoint
// (`vkneuro sweep run-one DIR INDEX`).
package sweep
