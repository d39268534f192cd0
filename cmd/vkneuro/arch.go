package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/vkneuro/vkneuro/models"
)

// archFlags reads --arch SPEC or --arch-file FILE, which train and
// report take: nil layers with neither; a usage error naming the flag
// for both or for a spec that does not parse.
func archFlags(spec, file string, specGiven bool) ([]models.Layer, error) {
	from := "--arch"
	switch {
	case specGiven && file != "":
		return nil, usageError{"--arch and --arch-file exclude each other"}
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, usageError{fmt.Sprintf("--arch-file: %v", err)}
		}
		spec, from = string(b), "--arch-file "+file
	case !specGiven:
		return nil, nil
	}
	layers, err := models.ParseArch(spec)
	if err != nil {
		return nil, usageError{fmt.Sprintf("%s: %s", from, strings.TrimPrefix(err.Error(), "arch: "))}
	}
	return layers, nil
}

// archUsage is the help of --arch, which train and report share.
const archUsage = "replace the task's network with nn.Sequential(`SPEC`), the text of its arguments as in PyTorch, e.g. \"Conv2d(1, 8, 5, padding=2), ReLU(), MaxPool2d(2), Flatten(), Linear(6144, 1), Sigmoid()\"; parameters are named as nn.Sequential names them (0.weight, ...)"
