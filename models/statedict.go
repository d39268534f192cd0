package models

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
)

// StateDict downloads the parameters by state_dict name.
func (m *Model) StateDict() (map[string]*data.Array, error) {
	return m.download(func(p *Param) *kernels.Tensor { return p.Value })
}

func (m *Model) download(which func(*Param) *kernels.Tensor) (map[string]*data.Array, error) {
	out := make(map[string]*data.Array, len(m.params))
	for _, p := range m.params {
		a := &data.Array{Shape: append([]int(nil), p.Shape...), Data: make([]float32, kernels.Numel(p.Shape))}
		if err := m.be.Download(which(p), a.Data); err != nil {
			return nil, fmt.Errorf("models: %s: downloading %s: %w", m.Name, p.Name, err)
		}
		out[p.Name] = a
	}
	return out, nil
}

// LoadStateDict uploads parameters by state_dict name. Every parameter
// must be present with its exact shape and no other key may be: the
// error lists what is missing, unexpected or mis-shaped. Nothing is
// uploaded unless all keys check out.
func (m *Model) LoadStateDict(sd map[string]*data.Array) error {
	if err := m.checkDict(sd); err != nil {
		return err
	}
	return m.uploadDict(sd, func(p *Param) *kernels.Tensor { return p.Value })
}

func (m *Model) uploadDict(sd map[string]*data.Array, which func(*Param) *kernels.Tensor) error {
	for _, p := range m.params {
		if err := m.be.Upload(which(p), sd[p.Name].Data); err != nil {
			return fmt.Errorf("models: %s: uploading %s: %w", m.Name, p.Name, err)
		}
	}
	return nil
}

func (m *Model) checkDict(sd map[string]*data.Array) error {
	var problems []string
	for _, p := range m.params {
		a, ok := sd[p.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("missing key %q (want shape %v)", p.Name, p.Shape))
		case !slices.Equal(a.Shape, p.Shape) || len(a.Data) != kernels.Numel(p.Shape):
			problems = append(problems, fmt.Sprintf("key %q has shape %v, want %v", p.Name, a.Shape, p.Shape))
		}
	}
	var extra []string
	for k := range sd {
		if m.Param(k) == nil {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		problems = append(problems, fmt.Sprintf("unexpected key %q", k))
	}
	if len(problems) > 0 {
		return fmt.Errorf("models: %s state_dict: %s", m.describe(), strings.Join(problems, "; "))
	}
	return nil
}

// SaveStateDict writes the parameters to an .npz file, atomically, with
// exactly the keys of the PyTorch model's state_dict, so that
// net.load_state_dict({k: torch.from_numpy(v) for k, v in np.load(path).items()})
// accepts it.
func (m *Model) SaveStateDict(path string) error {
	sd, err := m.StateDict()
	if err != nil {
		return err
	}
	if err := data.WriteNPZ(path, sd); err != nil {
		return fmt.Errorf("models: saving state_dict: %w", err)
	}
	return nil
}

// LoadStateDictFile reads parameters from an .npz file written by
// SaveStateDict or by NumPy from a PyTorch state_dict.
func (m *Model) LoadStateDictFile(path string) error {
	sd, err := data.ReadNPZ(path)
	if err != nil {
		return fmt.Errorf("models: loading state_dict: %w", err)
	}
	if err := m.LoadStateDict(sd); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
