package tasks

import (
	"fmt"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/models"
)

// loadNormative is Tutorial 3's task: gratings labelled by the sign of
// their tilt, generated (o.NTrain at random orientations) or read from
// o.Data, tested on the tutorial's 180 gratings when the images have
// their 48×64 size.
func loadNormative(o Options) (*Task, error) {
	t := &Task{Network: Normative, Metric: "accuracy"}
	var h, w int
	if o.Data == "" {
		if o.NTrain < 1 {
			return nil, fmt.Errorf("tasks: normative: %d training gratings, want ≥ 1", o.NTrain)
		}
		t.Train, h, w = models.NormativeDataset(models.NormativeTrainAngles(o.NTrain, o.Seed))
		t.Source = fmt.Sprintf("%d generated gratings", o.NTrain)
	} else {
		var err error
		if t.Train, h, w, err = readNormative(o.Data); err != nil {
			return nil, err
		}
		t.Source = o.Data
	}
	if test, th, tw := models.NormativeDataset(models.NormativeTestAngles()); th == h && tw == w {
		t.Test = test
	}
	seed := o.Seed
	t.preset = func(be kernels.Backend) (*models.Model, error) { return models.NewNormative(be, h, w, seed) }
	t.Input, t.Output, t.Loss, t.targets = []int{1, h, w}, []int{1}, models.BCE, binaryTargets
	return withNetwork(t, o)
}

// readNormative reads grating images and their 0/1 tilt labels.
func readNormative(path string) (d models.Dataset, h, w int, err error) {
	arr, err := data.ReadNPZ(path)
	if err != nil {
		return d, 0, 0, err
	}
	stim, err := key(path, arr, "stimuli")
	if err != nil {
		return d, 0, 0, err
	}
	var S int
	switch {
	case len(stim.Shape) == 3:
		S, h, w = stim.Shape[0], stim.Shape[1], stim.Shape[2]
	case len(stim.Shape) == 4 && stim.Shape[1] == 1:
		S, h, w = stim.Shape[0], stim.Shape[2], stim.Shape[3]
	default:
		return d, 0, 0, fmt.Errorf("%s: key \"stimuli\" has shape %v, want [S,H,W] grating images", path, stim.Shape)
	}
	lab, err := key(path, arr, "labels")
	if err != nil {
		return d, 0, 0, err
	}
	if !(len(lab.Shape) == 1 && lab.Shape[0] == S) && !(len(lab.Shape) == 2 && lab.Shape[0] == S && lab.Shape[1] == 1) {
		return d, 0, 0, fmt.Errorf("%s: key \"labels\" has shape %v, want [%d] or [%d,1] to match stimuli %v", path, lab.Shape, S, S, stim.Shape)
	}
	for i, v := range lab.Data {
		if v != 0 && v != 1 {
			return d, 0, 0, fmt.Errorf("%s: key \"labels\"[%d] = %g, want 0 (tilted left) or 1 (tilted right)", path, i, v)
		}
	}
	if err := finite(path, "stimuli", stim.Data); err != nil {
		return d, 0, 0, err
	}
	if h < 8 || w < 8 {
		return d, 0, 0, fmt.Errorf("%s: key \"stimuli\" images are %d×%d, want at least 8×8 for the 8×8 max-pool", path, h, w)
	}
	return models.Dataset{X: stim.Data, T: lab.Data, S: S}, h, w, nil
}
