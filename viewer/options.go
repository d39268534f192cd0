package viewer

import (
	"errors"
	"time"

	"github.com/vkneuro/vkneuro/engine"
)

// ErrNotBuilt is the error of Prepare and Open in a binary built without
// the viewer.
var ErrNotBuilt = errors.New("viewer: this binary was built without the live viewer; rebuild with -tags viewer " +
	"(Debian: libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev libgl-dev)")

// Options configure the window.
type Options struct {
	// Width and Height are the size of the drawn frame and the initial
	// window; a resized window shows the frame scaled. Default 960×600.
	Width, Height int
	// Title of the window; default "vkneuro training".
	Title string
	// MinFrameInterval is the least time between two frames: Frame calls
	// in between only poll window events. Default 100 ms, and 500 ms on
	// a CPU driver (lavapipe), where a 960×600 frame costs training tens
	// of milliseconds of the same cores (Render waits for the frame to be
	// drawn).
	MinFrameInterval time.Duration
	// Screenshot, if not "", is a PNG file Close writes the last frame to.
	Screenshot string
}

// Frame is the training state to show.
type Frame struct {
	Step        int
	Loss        []float32 // loss history, one value per step so far
	StepsPerSec float64
	// Filters holds conv weights of shape FilterShape = [O, C, KH, KW];
	// each (o, c) is one tile. Nil shows none.
	Filters     *engine.Buffer
	FilterShape [4]int
	// Maps holds the current batch's feature maps, MapShape = [N, C, H,
	// W]; sample 0 is shown, one tile per channel. Nil shows none.
	Maps     *engine.Buffer
	MapShape [4]int
}
