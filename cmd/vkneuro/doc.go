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
// Run "train -h" for the flags. Exit status: 0 done (or stopped from the
// live viewer), 1 error, 2 bad usage, 130 interrupted (SIGINT/SIGTERM:
// the step in progress finishes and a checkpoint is written when
// --checkpoint or --resume is given).
//
// # Live viewer
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
//	go build -tags viewer ./cmd/train
//
// with the Debian packages libx11-dev libxcursor-dev libxrandr-dev
// libxinerama-dev libxi-dev libxxf86vm-dev libgl-dev; without the tag,
// --live exits with status 2 and says so. Headless (CI), run under a
// virtual X server: xvfb-run -a train normative --live --screenshot
// live.png (Debian: xvfb xauth). Its tests:
//
//	go test -tags viewer ./cmd/train/
package main
