package shaders

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed *.spv
var spvFiles embed.FS

// SPIRV returns the compiled SPIR-V of the shader name (without
// extension, e.g. "axpy").
func SPIRV(name string) ([]byte, error) {
	b, err := spvFiles.ReadFile(name + ".spv")
	if err != nil {
		return nil, fmt.Errorf("shaders: no shader %q (have %s)", name, strings.Join(Names(), ", "))
	}
	return b, nil
}

// Names lists the embedded shaders, sorted.
func Names() []string {
	entries, err := spvFiles.ReadDir(".")
	if err != nil {
		return nil // cannot happen for an embedded directory
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".spv"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}
