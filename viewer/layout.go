package viewer

import (
	"image"
	"math"
	"strings"
)

// Limits of what one frame shows.
const (
	maxFilterTiles = 1024 // O×C filter tiles
	maxMapChannels = 64   // feature-map channels of sample 0
	maxLossPoints  = 1024 // loss history points (longer histories are binned)
	maxTextLines   = 8
	lineChars      = 64
	lineFloats     = 4 + lineChars // x, y, scale, n, characters
	statsFloats    = 4 + 2*maxMapChannels
)

// Regions are the parts of a frame, in image pixels.
type Regions struct {
	Header  image.Rectangle // step, loss and step-rate text
	Filters image.Rectangle // the filter tiles
	Maps    image.Rectangle // the feature-map tiles
	Loss    image.Rectangle // the loss plot, frame included
}

// grid is a grid of equal cells; cells include a 1-pixel gap at their
// right and bottom.
type grid struct {
	cols, cellW, cellH int
	x, y               int
}

func (g grid) rect(n int) image.Rectangle {
	if n == 0 || g.cols == 0 {
		return image.Rectangle{}
	}
	cols := min(n, g.cols)
	rows := (n + g.cols - 1) / g.cols
	return image.Rect(g.x, g.y, g.x+cols*g.cellW, g.y+rows*g.cellH)
}

// fitGrid places n cells of aspect ratio aspect (width/height) in a
// w×h area at (x, y), choosing the column count that makes cells largest.
func fitGrid(n, x, y, w, h int, aspect float64) grid {
	best := grid{x: x, y: y}
	bestArea := 0
	for cols := 1; cols <= n; cols++ {
		rows := (n + cols - 1) / cols
		cw := w/cols - 1
		ch := h/rows - 1
		if cw < 1 || ch < 1 {
			continue
		}
		// Largest content of the right aspect inside cw×ch.
		contentW := min(float64(cw), float64(ch)*aspect)
		iw := int(contentW)
		ih := int(contentW / aspect)
		if iw < 1 || ih < 1 {
			continue
		}
		if iw*ih > bestArea {
			bestArea = iw * ih
			best.cols, best.cellW, best.cellH = cols, iw+1, ih+1
		}
	}
	return best
}

// layout is the placement of everything in a W×H frame.
type layout struct {
	w, h                int
	header              image.Point
	filterLabel         image.Point
	mapLabel            image.Point
	lossLabel           image.Point
	filterArea, mapArea image.Rectangle
	loss                image.Rectangle
}

const (
	pad         = 10
	headerScale = 3
	labelScale  = 2
)

func newLayout(w, h int) layout {
	l := layout{w: w, h: h}
	l.header = image.Pt(pad, pad)
	top := pad + 5*headerScale + pad
	labelH := 5*labelScale + 4
	colW := (w - 3*pad) / 2
	avail := h - top - pad
	topH := avail*55/100 - labelH
	l.filterLabel = image.Pt(pad, top)
	l.mapLabel = image.Pt(2*pad+colW, top)
	l.filterArea = image.Rect(pad, top+labelH, pad+colW, top+labelH+topH)
	l.mapArea = image.Rect(2*pad+colW, top+labelH, 2*pad+2*colW, top+labelH+topH)
	y := l.filterArea.Max.Y + pad
	l.lossLabel = image.Pt(pad, y)
	l.loss = image.Rect(pad, y+labelH, w-pad, h-pad)
	return l
}

// textLine encodes s (upper-cased; characters outside ASCII 32..95 shown
// as '?') at (x, y) with pixel scale into one line record of the text
// buffer.
func textLine(dst []float32, p image.Point, scale int, s string) {
	s = strings.ToUpper(s)
	if len(s) > lineChars {
		s = s[:lineChars]
	}
	dst[0], dst[1], dst[2], dst[3] = float32(p.X), float32(p.Y), float32(scale), float32(len(s))
	for i := range lineChars {
		dst[4+i] = ' '
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 32 || c >= 96 {
			c = '?'
		}
		dst[4+i] = float32(c)
	}
}

// binLoss shrinks a loss history to at most max points by averaging
// equal bins of consecutive steps (so a long run keeps its shape); NaN
// and Inf losses are kept as such so the plot shows them.
func binLoss(loss []float32, max int) []float32 {
	if len(loss) <= max {
		return loss
	}
	out := make([]float32, max)
	for i := range out {
		lo := i * len(loss) / max
		hi := (i + 1) * len(loss) / max
		var s float64
		for _, v := range loss[lo:hi] {
			s += float64(v)
		}
		out[i] = float32(s / float64(hi-lo))
		if math.IsNaN(s) {
			out[i] = float32(math.NaN())
		}
	}
	return out
}
