# vkneuro build targets. `make shaders` needs glslc (Debian: glslc); the
# compiled SPIR-V is committed so plain `go build` does not.
GLSLC ?= glslc
GLSLCFLAGS ?= --target-env=vulkan1.1 -O
SHADERS := $(wildcard shaders/*.comp)
SPIRV := $(SHADERS:.comp=.spv)

# Packages that use no cgo, run under the race detector.
PURE_PKGS = $$(go list -f '{{if not .CgoFiles}}{{.ImportPath}}{{end}}' -deps=false ./... | grep -v -e /engine -e /kernels/vulkan)

.PHONY: all build test race vet fmt shaders bench clean-shaders

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

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The test command the README and CI run: Vulkan tests on whatever driver
# is present (lavapipe in CI) with validation on; a missing driver fails.
test: fmt vet
	VKNEURO_REQUIRE_VULKAN=1 VKNEURO_VALIDATION=1 go test -count=1 -timeout 30m ./...
	go test -count=1 -race -timeout 30m $(PURE_PKGS)

bench:
	go test -run '^$$' -bench . -benchtime 3x ./...
