//go:build viewer

package viewer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/go-gl/glfw/v3.3/glfw"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/engine/swapchain"
	"github.com/vkneuro/vkneuro/internal/atomicfile"
	"github.com/vkneuro/vkneuro/shaders"
)

// Available reports whether this binary has the viewer (it was built
// with -tags viewer).
const Available = true

// Viewer is an open window on a Manager's device. Open, Frame, Render and
// Close must be called from one goroutine (Open locks it to its OS
// thread, as GLFW wants).
//
// A frame is drawn by compute kernels into an image of the frame's size
// (binding 0 of the viewer_*.comp shaders, the buffers at 1..6), blitted,
// scaled, into the window's swapchain image, all in one engine.Sequence
// that waits for the image's acquisition and signals its presentation.
type Viewer struct {
	m      *engine.Manager
	opts   Options
	win    *glfw.Window
	sc     *swapchain.Swapchain
	img    *engine.Image // the frame, opts.Width×opts.Height
	lay    layout
	escape bool

	stat, lossBuf, text, font, dummy *engine.Buffer
	statsK, drawK, textK             *engine.Kernel
	textData                         []float32
	last                             time.Time
	rendered                         bool // a frame was drawn into img
	closed                           bool
}

// Prepare initialises GLFW and adds the instance extensions GLFW needs
// for window surfaces, and the swapchain device extension, to opts: open
// the training Manager with the result to use a Viewer on it.
func Prepare(opts engine.Options) (engine.Options, error) {
	if err := initGLFW(); err != nil {
		return opts, err
	}
	// GetRequiredInstanceExtensions is a method in this binding but does
	// not use its window.
	exts := (*glfw.Window)(nil).GetRequiredInstanceExtensions()
	if len(exts) == 0 {
		return opts, errors.New("viewer: GLFW finds no Vulkan surface extensions for this window system")
	}
	for _, e := range exts {
		if !slices.Contains(opts.InstanceExtensions, e) {
			opts.InstanceExtensions = append(opts.InstanceExtensions, e)
		}
	}
	if !slices.Contains(opts.DeviceExtensions, swapchain.Extension) {
		opts.DeviceExtensions = append(opts.DeviceExtensions, swapchain.Extension)
	}
	return opts, nil
}

func initGLFW() error {
	if err := glfw.Init(); err != nil {
		hint := ""
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			hint = " (no DISPLAY: run under a display server, e.g. xvfb-run -a)"
		}
		return fmt.Errorf("viewer: GLFW: %w%s", err, hint)
	}
	if !glfw.VulkanSupported() {
		glfw.Terminate()
		return errors.New("viewer: GLFW finds no Vulkan loader (Debian: libvulkan1)")
	}
	return nil
}

// Open opens the window and its swapchain on m, which must have been
// opened with options from Prepare.
func Open(m *engine.Manager, opts Options) (v *Viewer, err error) {
	if opts.Width == 0 && opts.Height == 0 {
		opts.Width, opts.Height = 960, 600
	}
	if opts.Width < 320 || opts.Height < 240 || opts.Width > 8192 || opts.Height > 8192 {
		return nil, fmt.Errorf("viewer: Options: frame %d×%d, want 320..8192 × 240..8192", opts.Width, opts.Height)
	}
	if opts.Title == "" {
		opts.Title = "vkneuro training"
	}
	if opts.MinFrameInterval == 0 {
		opts.MinFrameInterval = 100 * time.Millisecond
		if m.Info().CPU {
			opts.MinFrameInterval = 500 * time.Millisecond
		}
	}
	if opts.Screenshot != "" && filepath.Ext(opts.Screenshot) != ".png" {
		return nil, fmt.Errorf("viewer: Options.Screenshot %q: want a .png file", opts.Screenshot)
	}
	runtime.LockOSThread()
	if err := initGLFW(); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	v = &Viewer{m: m, opts: opts, lay: newLayout(opts.Width, opts.Height)}
	defer func() {
		if err != nil {
			v.release()
		}
	}()
	glfw.DefaultWindowHints()
	glfw.WindowHint(glfw.ClientAPI, glfw.NoAPI) // Vulkan only, no OpenGL context
	glfw.WindowHint(glfw.Resizable, glfw.True)
	if v.win, err = glfw.CreateWindow(opts.Width, opts.Height, opts.Title, nil, nil); err != nil {
		return nil, fmt.Errorf("viewer: creating the window: %w", err)
	}
	v.win.SetKeyCallback(func(_ *glfw.Window, key glfw.Key, _ int, action glfw.Action, _ glfw.ModifierKey) {
		if key == glfw.KeyEscape && action == glfw.Press {
			v.escape = true
		}
	})
	if v.sc, err = swapchain.New(m, v.win); err != nil {
		return nil, fmt.Errorf("viewer: %w", err)
	}
	if v.img, err = m.NewImage(opts.Width, opts.Height); err != nil {
		return nil, fmt.Errorf("viewer: the frame: %w", err)
	}
	for _, b := range []struct {
		dst **engine.Buffer
		n   int
	}{{&v.stat, statsFloats}, {&v.lossBuf, maxLossPoints}, {&v.text, maxTextLines * lineFloats}, {&v.font, 64}, {&v.dummy, 1}} {
		if *b.dst, err = m.NewBuffer(b.n); err != nil {
			return nil, fmt.Errorf("viewer: %w", err)
		}
	}
	for _, k := range []struct {
		dst  **engine.Kernel
		name string
	}{{&v.statsK, "viewer_stats"}, {&v.drawK, "viewer_draw"}, {&v.textK, "viewer_text"}} {
		spv, err := shaders.SPIRV(k.name)
		if err != nil {
			return nil, fmt.Errorf("viewer: %w", err)
		}
		if *k.dst, err = m.KernelWith(k.name, spv, frameBindings, pushWords); err != nil {
			return nil, fmt.Errorf("viewer: %w", err)
		}
	}
	if err := m.Upload(v.font, fontTable(), 0); err != nil {
		return nil, fmt.Errorf("viewer: font: %w", err)
	}
	v.textData = make([]float32, maxTextLines*lineFloats)
	return v, nil
}

// pushWords is the size of the shaders' push block.
const pushWords = 25

// frameBindings is the shaders' descriptor layout: the frame, then the
// filters, maps, loss history, stats, text and font buffers.
var frameBindings = []engine.Binding{engine.StorageImage,
	engine.StorageBuffer, engine.StorageBuffer, engine.StorageBuffer,
	engine.StorageBuffer, engine.StorageBuffer, engine.StorageBuffer}

// Regions are where the frame shows what (in frame pixels; see
// Options.Screenshot).
func (v *Viewer) Regions(f Frame) Regions {
	r := Regions{
		Header: image.Rect(v.lay.header.X, v.lay.header.Y, v.opts.Width-pad, v.lay.header.Y+5*headerScale),
		Loss:   v.lay.loss,
	}
	if fo, fc, kh, kw := v.filterTiles(f); fo > 0 {
		r.Filters = v.filterGrid(fo*fc, kh, kw).rect(fo * fc)
	}
	if c, h, w := v.mapTiles(f); c > 0 {
		r.Maps = v.mapGrid(c, h, w).rect(c)
	}
	return r
}

// Frames is the number of frames shown so far.
func (v *Viewer) Frames() int {
	if v.sc == nil {
		return 0
	}
	return v.sc.Presented()
}

// Frame polls window events and, if MinFrameInterval has passed since the
// last frame, shows f. It reports stop when the window was closed or
// Escape pressed: the caller should then checkpoint and end training.
func (v *Viewer) Frame(f Frame) (stop bool, err error) {
	if v.closed {
		return true, errors.New("viewer: Frame after Close")
	}
	glfw.PollEvents()
	if v.stopRequested() {
		return true, nil
	}
	if v.rendered && time.Since(v.last) < v.opts.MinFrameInterval {
		return false, nil
	}
	if err := v.Render(f); err != nil {
		return false, err
	}
	return v.stopRequested(), nil
}

// X11Window is the window's X11 id, for tools that capture the window or
// type into it (tests send Escape this way); 0 when the window is not an
// X11 window or is closed.
func (v *Viewer) X11Window() (id uint64) {
	if v.closed || v.win == nil {
		return 0
	}
	defer func() {
		if recover() != nil { // GLFW reports a platform error, e.g. on Wayland
			id = 0
		}
	}()
	return uint64(v.win.GetX11Window())
}

func (v *Viewer) stopRequested() bool { return v.escape || v.win.ShouldClose() }

func (v *Viewer) filterTiles(f Frame) (o, c, kh, kw int) {
	s := f.FilterShape
	if f.Filters == nil || s[0] <= 0 || s[1] <= 0 || s[2] <= 0 || s[3] <= 0 {
		return 0, 0, 0, 0
	}
	o = min(s[0], max(1, maxFilterTiles/s[1]))
	c = min(s[1], maxFilterTiles)
	return o, c, s[2], s[3]
}

func (v *Viewer) mapTiles(f Frame) (c, h, w int) {
	s := f.MapShape
	if f.Maps == nil || s[0] <= 0 || s[1] <= 0 || s[2] <= 0 || s[3] <= 0 {
		return 0, 0, 0
	}
	return min(s[1], maxMapChannels), s[2], s[3]
}

func (v *Viewer) filterGrid(n, kh, kw int) grid {
	a := v.lay.filterArea
	return fitGrid(n, a.Min.X, a.Min.Y, a.Dx(), a.Dy(), float64(kw)/float64(kh))
}

func (v *Viewer) mapGrid(n, h, w int) grid {
	a := v.lay.mapArea
	return fitGrid(n, a.Min.X, a.Min.Y, a.Dx(), a.Dy(), float64(w)/float64(h))
}

func (f Frame) check() error {
	if f.Filters != nil {
		s := f.FilterShape
		if s[0] <= 0 || s[1] <= 0 || s[2] <= 0 || s[3] <= 0 {
			return fmt.Errorf("viewer: Frame.FilterShape %v: want four positive sizes [O C KH KW]", s)
		}
		if n := s[0] * s[1] * s[2] * s[3]; f.Filters.Len() < n {
			return fmt.Errorf("viewer: Frame.Filters has %d values, FilterShape %v needs %d", f.Filters.Len(), s, n)
		}
	}
	if f.Maps != nil {
		s := f.MapShape
		if s[0] <= 0 || s[1] <= 0 || s[2] <= 0 || s[3] <= 0 {
			return fmt.Errorf("viewer: Frame.MapShape %v: want four positive sizes [N C H W]", s)
		}
		if n := s[1] * s[2] * s[3]; f.Maps.Len() < n {
			return fmt.Errorf("viewer: Frame.Maps has %d values, sample 0 of MapShape %v needs %d", f.Maps.Len(), s, n)
		}
	}
	return nil
}

// Render shows f now, whatever the time since the last frame. A frame
// the window cannot take (minimised, no free swapchain image) is skipped.
func (v *Viewer) Render(f Frame) error {
	if v.closed {
		return errors.New("viewer: Render after Close")
	}
	if err := f.check(); err != nil {
		return err
	}
	v.last = time.Now()
	loss := binLoss(f.Loss, maxLossPoints)
	if len(loss) > 0 {
		if err := v.m.Upload(v.lossBuf, loss, 0); err != nil {
			return fmt.Errorf("viewer: loss history: %w", err)
		}
	}
	fo, fc, kh, kw := v.filterTiles(f)
	mc, mh, mw := v.mapTiles(f)
	fg := v.filterGrid(fo*fc, kh, kw)
	mg := v.mapGrid(mc, mh, mw)
	filters, maps := f.Filters, f.Maps
	if fo == 0 {
		filters = v.dummy
	}
	if mc == 0 {
		maps = v.dummy
	}

	lines := v.textLines(f, fo, mc, loss)
	if err := v.m.Upload(v.text, v.textData, 0); err != nil {
		return fmt.Errorf("viewer: text: %w", err)
	}
	lr := v.lay.loss
	u := func(x int) uint32 { return uint32(x) }
	push := []uint32{
		u(v.opts.Width), u(v.opts.Height),
		u(fo), u(fc), u(kh), u(kw),
		u(fg.cols), u(fg.cellW), u(fg.cellH), u(fg.x), u(fg.y),
		u(mc), u(mh), u(mw),
		u(mg.cols), u(mg.cellW), u(mg.cellH), u(mg.x), u(mg.y),
		u(len(loss)), u(lr.Min.X), u(lr.Min.Y), u(lr.Dx()), u(lr.Dy()),
		u(lines),
	}
	res := []engine.Resource{v.img, filters, maps, v.lossBuf, v.stat, v.text, v.font}
	draws := []draw{
		{v.statsK, res, push, [3]uint32{uint32(1 + mc), 1, 1}},
		{v.drawK, res, push, [3]uint32{uint32(v.opts.Width+15) / 16, uint32(v.opts.Height+15) / 16, 1}},
		// One row of work groups per line of text, as wide as the widest.
		{v.textK, res, push, [3]uint32{uint32(4*headerScale*lineChars+15) / 16, uint32(5*headerScale+15) / 16, uint32(lines)}},
	}
	fbW, fbH := v.win.GetFramebufferSize()
	if err := v.present(draws, fbW, fbH); err != nil {
		return fmt.Errorf("viewer: %w", err)
	}
	return nil
}

// draw is one dispatch of a frame.
type draw struct {
	k      *engine.Kernel
	res    []engine.Resource
	push   []uint32
	groups [3]uint32
}

// present draws a frame into v.img and shows it, scaled, in the next
// swapchain image of a window whose framebuffer is fbW×fbH, in one
// sequence: it waits for the image to be acquired, and presentation waits
// for it. A frame the swapchain cannot take now (no window area, no free
// image, out of date) is neither drawn nor shown. The sequence is made
// anew each frame, as the push constants and buffers change.
func (v *Viewer) present(draws []draw, fbW, fbH int) error {
	f, ok, err := v.sc.Acquire(fbW, fbH)
	if err != nil || !ok {
		return err
	}
	seq, err := v.m.NewSequence()
	if err != nil {
		return err
	}
	defer seq.Close()
	for _, d := range draws {
		if err := seq.DispatchWith(d.k, d.res, d.push, d.groups[0], d.groups[1], d.groups[2]); err != nil {
			return err
		}
	}
	if err := seq.Blit(f.Image, v.img, v.img.LinearBlit()); err != nil {
		return err
	}
	if err := seq.Run(engine.Wait(f.Acquired), engine.Signal(f.Rendered)); err != nil {
		return err
	}
	v.rendered = true
	return v.sc.Present(f)
}

// textLines writes the text of f into v.textData and returns the number
// of lines.
func (v *Viewer) textLines(f Frame, fo, mc int, loss []float32) int {
	var lines []string
	var at []image.Point
	var scale []int
	add := func(p image.Point, s int, text string) {
		lines, at, scale = append(lines, text), append(at, p), append(scale, s)
	}
	last := "-"
	if n := len(f.Loss); n > 0 {
		last = fmt.Sprintf("%.4g", f.Loss[n-1])
	}
	add(v.lay.header, headerScale, fmt.Sprintf("STEP %d   LOSS %s   %.1f STEPS/S", f.Step, last, f.StepsPerSec))
	if fo > 0 {
		s := f.FilterShape
		add(v.lay.filterLabel, labelScale, fmt.Sprintf("CONV FILTERS %dX%dX%dX%d", s[0], s[1], s[2], s[3]))
	} else {
		add(v.lay.filterLabel, labelScale, "CONV FILTERS: NONE")
	}
	if mc > 0 {
		s := f.MapShape
		add(v.lay.mapLabel, labelScale, fmt.Sprintf("FEATURE MAPS %dX%dX%d (SAMPLE 0 OF %d)", s[1], s[2], s[3], s[0]))
	} else {
		add(v.lay.mapLabel, labelScale, "FEATURE MAPS: NONE")
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range loss {
		if x := float64(x); !math.IsNaN(x) && !math.IsInf(x, 0) {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	if lo <= hi {
		add(v.lay.lossLabel, labelScale, fmt.Sprintf("LOSS OVER %d STEPS   MIN %.4g   MAX %.4g", len(f.Loss), lo, hi))
	} else {
		add(v.lay.lossLabel, labelScale, "LOSS: NO STEPS YET")
	}
	for i, s := range lines {
		textLine(v.textData[i*lineFloats:(i+1)*lineFloats], at[i], scale[i], s)
	}
	return len(lines)
}

// Close writes the screenshot if asked, then closes the swapchain and the
// window. Call it before closing the Manager or freeing the buffers of
// the last Frame. Later calls do nothing.
func (v *Viewer) Close() error {
	if v.closed {
		return nil
	}
	var errs []error
	if v.opts.Screenshot != "" {
		if err := v.screenshot(); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, v.release())
	return errors.Join(errs...)
}

func (v *Viewer) screenshot() error {
	if !v.rendered {
		return fmt.Errorf("viewer: screenshot %s: no frame was shown", v.opts.Screenshot)
	}
	img, err := v.snapshot()
	if err != nil {
		return fmt.Errorf("viewer: screenshot: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("viewer: screenshot %s: %w", v.opts.Screenshot, err)
	}
	// 0644: the screenshot is a picture for people to look at and share.
	if err := atomicfile.WriteFile(v.opts.Screenshot, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("viewer: screenshot: %w", err)
	}
	return nil
}

// snapshot downloads the last frame drawn, for the screenshot and tests;
// it is the only path that copies a frame to the host.
func (v *Viewer) snapshot() (*image.RGBA, error) {
	if !v.rendered {
		return nil, errors.New("no frame has been drawn yet")
	}
	w, h := v.img.Size()
	buf, err := v.m.NewHostBuffer(w * h) // one float32 slot per RGBA8 pixel
	if err != nil {
		return nil, err
	}
	defer buf.Free()
	seq, err := v.m.NewSequence()
	if err != nil {
		return nil, err
	}
	defer seq.Close()
	if err := seq.CopyImage(buf, v.img); err != nil {
		return nil, err
	}
	if err := seq.Run(); err != nil {
		return nil, err
	}
	words := make([]float32, w*h)
	if err := v.m.Download(buf, words, 0); err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i, x := range words {
		binary.LittleEndian.PutUint32(img.Pix[4*i:], math.Float32bits(x))
	}
	return img, nil
}

// release frees everything Open made.
func (v *Viewer) release() error {
	v.closed = true
	var err error
	if v.sc != nil {
		err = v.sc.Close()
	}
	v.img.Free()
	for _, b := range []*engine.Buffer{v.stat, v.lossBuf, v.text, v.font, v.dummy} {
		if b != nil {
			b.Free()
		}
	}
	if v.win != nil {
		v.win.Destroy()
	}
	glfw.Terminate()
	runtime.UnlockOSThread()
	return err
}
