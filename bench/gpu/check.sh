#!/bin/sh
# One prepared device check for a GPU machine lent by the device tool
# (bare: no Go, no Vulkan loader; PyTorch with CUDA as python3). Build
# the binaries here with `make gpu-bundle`, then run from the repository
# root there, carrying .gpu (and .gl, the loader packages; see
# /work/.library/device/README.md):
#
#	sh bench/gpu/check.sh
#
# Every step has its own time limit and writes its log under $OUT (the
# device tool's folder that comes back), so a failing step loses only
# its own numbers; bench/RESULTS.md has how long a run took. Run it here too
# (lavapipe, PYTHON=/usr/bin/python3) to check the script itself.
set -u
OUT=${OUT:-/tmp/vkneuro-gpu}
PYTHON=${PYTHON:-python3}
ROOT=$(pwd)
BIN=$ROOT/.gpu
mkdir -p "$OUT"
log() { echo "== $*" | tee -a "$OUT/summary.txt"; }
# step NAME SECONDS DIR CMD...: run CMD in DIR with a limit, log to $OUT/NAME.txt.
step() {
	name=$1 secs=$2 dir=$3
	shift 3
	log "$name: $*"
	start=$(date +%s)
	(cd "$dir" && timeout "$secs" "$@") >"$OUT/$name.txt" 2>&1
	rc=$?
	log "$name: exit $rc after $(($(date +%s) - start)) s"
}

for b in vulkan.test models.test vulkanstep.test vkneuro compare; do
	[ -x "$BIN/$b" ] || { echo "check.sh: $BIN/$b missing: run make gpu-bundle and carry .gpu" >&2; exit 2; }
done
# The bare machine has the NVIDIA driver but no Vulkan loader: unpack the
# carried runtime packages (libvulkan1 gives libvulkan.so.1, which the
# engine opens).
if ! ldconfig -p | grep -q 'libvulkan\.so'; then
	for f in "$ROOT"/.gl/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
	ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
	export VK_DRIVER_FILES=$icd
fi
export VKNEURO_REQUIRE_VULKAN=1
{ uname -a; nvidia-smi -L 2>&1; "$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1; } >"$OUT/machine.txt"

step devices 60 "$ROOT" "$BIN/vkneuro" devices -peak
# Correctness on the GPU first: the op suite (tutorial shapes included),
# the GPU tiles, and the models' parity and one-submit tests.
step vulkan-tests 240 "$ROOT/kernels/vulkan" "$BIN/vulkan.test" -test.count=1 -test.timeout=230s
step models-tests 180 "$ROOT/models" "$BIN/models.test" -test.count=1 -test.timeout=170s -test.run 'Vulkan|OneSubmit|Golden'
# Speed: the peak, every kernel in device time with %peak, the share of
# a training step that is device time, then the tutorials' workloads
# against PyTorch on CUDA and on the CPU.
step gpu-bench 180 "$ROOT/kernels/vulkan" "$BIN/vulkan.test" -test.run '^$' -test.bench 'BenchmarkPeak|BenchmarkGPUTime' -test.benchtime 10x
step step-bench 120 "$ROOT/bench/vulkanstep" "$BIN/vulkanstep.test" -test.run '^$' -test.bench . -test.benchtime 20x
step compare 300 "$ROOT" "$BIN/compare" --vkneuro "$BIN/vkneuro" --python "$PYTHON" --backends vulkan --torch-cuda --repeats 2 --results "$OUT/RESULTS-gpu.md" -v
log "done; logs in $OUT"
