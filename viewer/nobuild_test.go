//go:build !viewer

package viewer

import (
	"errors"
	"strings"
	"testing"

	"github.com/vkneuro/vkneuro/engine"
)

// TestNotBuilt: without the tag, asking for the viewer fails with an
// error that says how to get it, and the options pass through unchanged.
func TestNotBuilt(t *testing.T) {
	if Available {
		t.Fatal("Available without the viewer tag")
	}
	in := engine.Options{Device: "0"}
	out, err := Prepare(in)
	if !errors.Is(err, ErrNotBuilt) || !strings.Contains(err.Error(), "-tags viewer") {
		t.Errorf("Prepare: error %v, want ErrNotBuilt naming the build tag", err)
	}
	if out.Device != in.Device || len(out.InstanceExtensions) != 0 {
		t.Errorf("Prepare changed the options: %+v", out)
	}
	if v, err := Open(nil, Options{}); v != nil || !errors.Is(err, ErrNotBuilt) {
		t.Errorf("Open: %v, %v; want nil, ErrNotBuilt", v, err)
	}
}
