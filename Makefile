# vkneuro build targets. `make shaders` needs glslc (Debian: glslc); the
# compiled SPIR-V is committed so plain `go build` does not.
GLSLC ?= glslc
GLSLCFLAGS ?= --target-env=vulkan1.1 -O
SHADERS := $(wildcard shaders/*.comp)
SPIRV := $(SHADERS:.comp=.spv)

# Packages that neither use Vulkan nor test through it: these also run
# under the race detector (cgo and lavapipe would make that run slow and
# tell nothing new).
PURE_PKGS = $$(go list -f '{{.ImportPath}} {{join .Deps " "}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./... | grep -v -e 'vkneuro/engine' -e 'vkneuro/kernels/vulkan' | cut -d' ' -f1)

.PHONY: all build test test-slurm race vet fmt shaders bench bench-compare clean-shaders gpu-bundle stress-gc

all: build

build:
	go build ./...

shaders: $(SPIRV)

shaders/%.spv: shaders/%.comp $(wildcard shaders/*.glsl)
	$(GLSLC) $(GLSLCFLAGS) -o $@ $<

clean-shaders:
	rm -f $(SPIRV)

vet:
	go vet ./...
	go vet -tags viewer ./engine/ ./viewer/ ./cmd/vkneuro/
	GOEXPERIMENT=simd go vet ./kernels/cpu/
	go vet -tags purego ./kernels/cpu/

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The test command the README and CI run: Vulkan tests on whatever driver
# is present (lavapipe in CI) with validation on; a missing driver fails.
test: fmt vet
	VKNEURO_REQUIRE_VULKAN=1 VKNEURO_VALIDATION=1 go test -count=1 -timeout 30m ./...
	VKNEURO_REQUIRE_VULKAN=1 VKNEURO_REQUIRE_VIEWER=1 VKNEURO_VALIDATION=1 go test -count=1 -tags viewer ./viewer/ ./cmd/vkneuro/
	# The CPU kernels' other two builds: Go's experimental simd package,
	# and the plain loops that run without AVX2 or off amd64.
	GOEXPERIMENT=simd go test -count=1 ./kernels/cpu/
	go test -count=1 -tags purego ./kernels/cpu/
	go test -count=1 -race -short -timeout 30m $(PURE_PKGS)

# The sweep tests with their Slurm parts, on a single-node cluster that
# .ci/slurm starts here and stops after (needs root and the Debian
# packages slurm-wlm munge; `make test` skips those parts without a
# cluster, except in CI, where .ci/run starts one).
SLURM_DIR ?= /tmp/vkneuro-slurm
test-slurm:
	VKNEURO_SLURM_DIR=$(SLURM_DIR) .ci/slurm start
	export SLURM_CONF=$(SLURM_DIR)/slurm.conf CI=true; \
		go test -count=1 ./sweep/ && go test -count=1 -run 'Sweep' ./cmd/vkneuro/; \
		status=$$?; VKNEURO_SLURM_DIR=$(SLURM_DIR) .ci/slurm stop; exit $$status

bench:
	go test -run '^$$' -bench . -benchtime 3x ./...

# vkneuro against PyTorch CPU on the tutorials' three workloads, appended
# to bench/RESULTS.md (needs python3-torch, python3-numpy and
# libopenblas0-openmp; RESULTS.md records how long each run took;
# COMPARE_FLAGS=--quick runs fewer steps). Not part of CI.
bench-compare:
	go run ./bench/cmd/compare $(COMPARE_FLAGS)

# Binaries for a GPU machine without Go (the device tool's): build here,
# carry .gpu, run bench/gpu/check.sh there. Stripped to keep the carried
# tree small.
gpu-bundle:
	mkdir -p .gpu
	go test -c -ldflags='-s -w' -o .gpu/vulkan.test ./kernels/vulkan/
	go test -c -ldflags='-s -w' -o .gpu/models.test ./models/
	go test -c -ldflags='-s -w' -o .gpu/vulkanstep.test ./bench/vulkanstep/
	go build -ldflags='-s -w' -o .gpu/vkneuro ./cmd/vkneuro
	go build -ldflags='-s -w' -o .gpu/compare ./bench/cmd/compare
	du -sh .gpu

# GC stress, not part of CI: the Vulkan test suites with the collector
# running after every 1% of heap growth, STRESS_RUNS times, each suite in
# a fresh process. vulkan-go keeps C copies of structs that finalizers
# free and points C memory into Go memory; a collection during a Vulkan
# call is what this provokes (see engine/internal/vkc). GOGC=1 reaches
# the test binaries only (-exec), so building is not slowed. The models
# tests are those of models/vulkan_test.go that -short keeps. Results and
# durations: bench/RESULTS.md.
STRESS_RUNS ?= 5
STRESS_MODELS_RUN ?= Vulkan|OneSubmitPerStep|LastStepGPUTime
stress-gc:
	@pass=0; fail=0; \
	for i in $$(seq $(STRESS_RUNS)); do \
		for suite in "./engine/..." "-short ./kernels/vulkan/" "-short -run $(STRESS_MODELS_RUN) ./models/"; do \
			if VKNEURO_REQUIRE_VULKAN=1 VKNEURO_VALIDATION=1 go test -count=1 -exec 'env GOGC=1' $$suite; then \
				pass=$$((pass+1)); \
			else \
				fail=$$((fail+1)); echo "stress-gc: run $$i: go test $$suite failed"; \
			fi; \
		done; \
	done; \
	echo "stress-gc: GOGC=1, $(STRESS_RUNS) runs of 3 suites: $$pass passed, $$fail failed"; \
	[ $$fail -eq 0 ]
