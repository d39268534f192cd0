// Command vkneuro trains the Neuromatch deep-learning tutorials' networks
// on the CPU or the Vulkan backend and analyses them. One binary, with
// subcommands:
//
//	go install github.com/vkneuro/vkneuro/cmd/vkneuro@latest
//
//	vkneuro train normative|decode|encode [flags]
//	vkneuro report --out DIR [--model FILE.npz] [--v1 FILE.npz] [flags]
//	vkneuro devices [-allow-cpu=false] [-peak]
//	vkneuro v1sim -out v1.npz [-split v1split.npz] [flags]
//	vkneuro sweep --grid FLAG=V1,V2,... [--data-glob 'DIR/*.npz'] --out DIR [--runner local|slurm] [--jobs N] [flags] -- train TASK [train flags]
//	vkneuro help [COMMAND]
//
// Exit status, for every subcommand: 0 done, 1 error (a bad file names
// the file, key and what was expected), 2 bad usage (an unknown
// subcommand included), 130 interrupted.
//
// # train
//
// train trains one of the tutorials' networks (package tasks: the data,
// split, loss, test and tutorial defaults; models.NewNormative,
// NewDecode, NewEncode) from the tutorials' data files or built-in
// defaults, and writes metrics, a summary, checkpoints and a
// PyTorch-loadable state_dict. SIGINT and SIGTERM stop it after the step
// in progress, writing a checkpoint when --checkpoint or --resume is
// given, with exit status 130.
//
// --live shows training in a window (package viewer): the conv filters
// (conv.weight), the conv output (before the ReLU) of sample 0 of the
// step's batch, the loss curve and the step rate over the last 20 steps,
// redrawn at most every viewer.Options.MinFrameInterval (100 ms, 500 ms on
// a CPU Vulkan driver). decode has no conv layer: its window shows the
// loss curve and step rate only. The viewer draws the model's own device
// buffers (models.Model.Activation), so --live trains on Vulkan: auto
// then picks any Vulkan device, a CPU driver such as lavapipe included,
// and --backend cpu is refused. Closing the window or pressing Escape
// stops training through the SIGINT path: the step in progress finishes
// and a checkpoint is written (with --checkpoint); then, unlike SIGINT,
// the run ends as a finished one would: --save, --summary and the test
// metrics are written and the exit status is 0. --screenshot FILE.png
// writes the last frame (the final step's) on exit.
//
// The window needs GLFW's C build, behind the build tag "viewer":
//
//	go build -tags viewer ./cmd/vkneuro
//
// with the Debian packages libx11-dev libxcursor-dev libxrandr-dev
// libxinerama-dev libxi-dev libxxf86vm-dev libgl-dev; without the tag,
// --live exits with status 2 and says so. Headless (CI), run under a
// virtual X server: xvfb-run -a vkneuro train normative --live
// --screenshot live.png (Debian: xvfb xauth). Its tests:
//
//	go test -tags viewer ./cmd/vkneuro/
//
// # report
//
// report is package analysis/report's command line: it compares the
// hidden representations of Tutorial 3's normative CNN with V1 responses
// and writes figures, summary.json, index.html and report.md. Without
// --v1 it uses SYNTHETIC V1-like data; without --model it trains the
// network with the tutorial's recipe and saves it as DIR/model.npz.
// --backend auto runs on Vulkan when a real (non-CPU) GPU is present and
// on the CPU backend otherwise; vulkan also accepts a CPU driver such as
// lavapipe.
//
// # devices
//
// devices prints the Vulkan devices the engine sees, their memory heaps
// and compute limits, and which one the engine would choose; with -peak
// it also measures that device's FP32 peak (peak.comp, after vkpeak), the
// rate the GEMM benchmarks are compared with. It exits with status 1 when
// Vulkan is not available.
//
// # sweep
//
// sweep is package sweep's command line: it trains one network per
// point of a grid of train flags (and one per data file of
// --data-glob), each a `vkneuro train` child process of the same binary
// in DIR/runs/<index>/, on this machine (--jobs at a time, one per GPU
// by default) or as a Slurm job array whose tasks each run the hidden
// `vkneuro sweep run-one DIR INDEX`. It writes DIR/results.csv (one row
// per point, rewritten atomically as points finish), DIR/best.json (the
// best point by --select METRIC[:min|max]) and DIR/sweep.png (the main
// test metric against each grid flag). Running it again skips the
// finished points, resumes the interrupted ones and reruns the failed
// ones; SIGINT and SIGTERM interrupt the runs, which checkpoint, and
// leave results.csv valid.
//
// # v1sim
//
// v1sim writes SYNTHETIC mouse-V1-like data sets in the formats of the
// Stringer et al. files the tutorials load: the 1° binned file (resp,
// stimuli; W3D4_stringer_oribinned1.npz) and the split file (resp_train,
// resp_test, stimuli; W3D4_stringer_oribinned6_split.npz). The data come
// from data.SyntheticV1: a model population of orientation- and
// direction-tuned neurons, not a recording. Files are written atomically
// and carry a "synthetic" key; -noise 0 gives noiseless tuning curves.
package main
