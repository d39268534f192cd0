package shaders

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// glslcFlags must match GLSLCFLAGS in the Makefile.
var glslcFlags = []string{"--target-env=vulkan1.1", "-O"}

// TestSPIRVUpToDate recompiles every shader and fails when a committed .spv
// is missing or differs, i.e. someone edited a .comp (or a shared .glsl)
// without running `make shaders`.
func TestSPIRVUpToDate(t *testing.T) {
	glslc, err := exec.LookPath("glslc")
	if err != nil {
		t.Skip("glslc not installed (Debian: glslc); cannot check that the committed .spv files are up to date")
	}
	sources, err := filepath.Glob("*.comp")
	if err != nil {
		t.Fatal(err)
	}
	if len(sources) == 0 {
		t.Fatal("no *.comp shaders found")
	}
	dir := t.TempDir()
	for _, src := range sources {
		name := strings.TrimSuffix(src, ".comp")
		out := filepath.Join(dir, name+".spv")
		args := append(append([]string(nil), glslcFlags...), "-o", out, src)
		if msg, err := exec.Command(glslc, args...).CombinedOutput(); err != nil {
			t.Errorf("glslc %s: %v\n%s", src, err, msg)
			continue
		}
		want, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(name + ".spv")
		if err != nil {
			t.Errorf("%s.spv is missing: run `make shaders` and commit it", name)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s.spv is stale (differs from glslc %s %s): run `make shaders` and commit it", name, strings.Join(glslcFlags, " "), src)
		}
	}
}

// TestEmbedded checks that every .spv on disk is embedded, is SPIR-V, and
// has a source.
func TestEmbedded(t *testing.T) {
	spvs, err := filepath.Glob("*.spv")
	if err != nil {
		t.Fatal(err)
	}
	names := Names()
	if len(names) != len(spvs) {
		t.Errorf("Names() has %d shaders, directory has %d .spv files", len(names), len(spvs))
	}
	for _, name := range names {
		code, err := SPIRV(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(code) < 20 || len(code)%4 != 0 || binary.LittleEndian.Uint32(code) != 0x07230203 {
			t.Errorf("%s.spv: %d bytes, not SPIR-V", name, len(code))
		}
		if _, err := os.Stat(name + ".comp"); err != nil {
			t.Errorf("%s.spv has no source %s.comp", name, name)
		}
	}
	_, err = SPIRV("no_such_shader")
	if err == nil || !strings.Contains(err.Error(), "axpy") {
		t.Errorf("SPIRV of a missing name: error %v, want one listing the shaders", err)
	}
}
