//go:build !viewer

package viewer

import "github.com/vkneuro/vkneuro/engine"

// Available reports whether this binary has the viewer (it was built
// with -tags viewer).
const Available = false

// Viewer is the live viewer; without the build tag none can be opened.
type Viewer struct{}

// Prepare reports ErrNotBuilt: this binary has no window support.
func Prepare(opts engine.Options) (engine.Options, error) { return opts, ErrNotBuilt }

// Open reports ErrNotBuilt: this binary has no window support.
func Open(*engine.Manager, Options) (*Viewer, error) { return nil, ErrNotBuilt }

// Frame reports stop and ErrNotBuilt.
func (*Viewer) Frame(Frame) (stop bool, err error) { return true, ErrNotBuilt }

// Render reports ErrNotBuilt.
func (*Viewer) Render(Frame) error { return ErrNotBuilt }

// Close does nothing.
func (*Viewer) Close() error { return nil }
