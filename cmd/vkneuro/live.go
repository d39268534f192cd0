package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/vkneuro/vkneuro/engine"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/kernels/vulkan"
	"github.com/vkneuro/vkneuro/models"
	"github.com/vkneuro/vkneuro/viewer"
)

// Test hooks: onLiveManager sees the Manager --live opened (to read its
// validation messages after the run), onLiveFrame every Frame shown.
var (
	onLiveManager func(*engine.Manager)
	onLiveFrame   func(*viewer.Viewer, viewer.Frame)
)

// openLive opens the Vulkan device with the viewer's window extensions
// and a backend on it. --live always trains on Vulkan, a CPU driver
// (lavapipe) included, since the viewer draws the training tensors where
// they lie; close the backend before the Manager.
func openLive(c *trainConfig, stderr io.Writer) (kernels.Backend, *engine.Manager, error) {
	opts, err := viewer.Prepare(engine.Options{Device: c.device, AllowCPU: true})
	if err != nil {
		return nil, nil, fmt.Errorf("--live: %w", err)
	}
	m, err := engine.Open(opts)
	if err != nil {
		return nil, nil, fmt.Errorf("--live needs a Vulkan device with a window surface: %w", err)
	}
	if onLiveManager != nil {
		onLiveManager(m)
	}
	be, err := vulkan.New(m)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	if info := m.Info(); info.CPU && c.backend == "auto" {
		fmt.Fprintf(stderr, "train: --live trains on the Vulkan device %s, a CPU driver (without --live, auto would use the CPU backend)\n", info.Name)
	}
	return be, m, nil
}

// live shows training in the viewer window, from Trainer's Progress
// callback: after each step it passes the step's state to Viewer.Frame,
// which draws at most every MinFrameInterval. Closing the window or
// pressing Escape cancels the training context, the same path SIGINT
// takes, so the Trainer finishes the step and checkpoints.
type live struct {
	v       *viewer.Viewer
	model   *models.Model
	cancel  context.CancelFunc
	loss    []float32
	times   []time.Time // ends of the last rateWindow steps
	frame   viewer.Frame
	stopped bool  // the window asked to stop
	err     error // a Frame failed; training was stopped
}

// rateWindow is how many recent steps the step rate averages over: long
// enough to smooth single slow steps, short enough to follow changes.
const rateWindow = 20

// newLive opens the window on m for training model; cancel stops the
// Trainer.
func newLive(c *trainConfig, m *engine.Manager, model *models.Model, cancel context.CancelFunc) (*live, error) {
	v, err := viewer.Open(m, viewer.Options{Title: "vkneuro train " + c.model, Screenshot: c.screenshot})
	if err != nil {
		return nil, fmt.Errorf("--live: %w", err)
	}
	return &live{v: v, model: model, cancel: cancel, times: []time.Time{time.Now()}}, nil
}

// step is called after each training step.
func (l *live) step(step int, loss float32) {
	if l == nil || l.err != nil || l.stopped {
		return
	}
	now := time.Now()
	l.loss = append(l.loss, loss)
	l.times = append(l.times, now)
	if len(l.times) > rateWindow+1 {
		l.times = l.times[len(l.times)-rateWindow-1:]
	}
	rate := 0.0
	if dt := now.Sub(l.times[0]).Seconds(); dt > 0 {
		rate = float64(len(l.times)-1) / dt
	}
	l.frame = l.state(step, rate)
	stop, err := l.v.Frame(l.frame)
	if onLiveFrame != nil {
		onLiveFrame(l.v, l.frame)
	}
	switch {
	case err != nil:
		l.err = fmt.Errorf("--live: step %d: %w", step, err)
		l.cancel()
	case stop:
		l.stopped = true
		l.cancel()
	}
}

// state is the Frame of the step just done: the filters and the output
// of the network's first convolution (normative, encode, or a --arch
// network's first Conv2d) for the step's batch, as the model's own
// device buffers; a network without one (decode) shows the loss and step
// rate only.
func (l *live) state(step int, rate float64) viewer.Frame {
	f := viewer.Frame{Step: step, Loss: l.loss, StepsPerSec: rate}
	conv := ""
	for _, mod := range l.model.Modules() {
		if _, ok := mod.Layer.(models.Conv2d); ok && mod.Name != "" {
			conv = mod.Name
			break
		}
	}
	if w := l.model.Param(conv + ".weight"); w != nil && len(w.Shape) == 4 {
		if b, ok := w.Value.Storage.(*engine.Buffer); ok {
			f.Filters, f.FilterShape = b, [4]int{w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]}
		}
	}
	if a, ok := l.model.Activation(conv); ok && len(a.Shape) == 4 {
		if b, ok := a.Storage.(*engine.Buffer); ok {
			f.Maps, f.MapShape = b, [4]int{a.Shape[0], a.Shape[1], a.Shape[2], a.Shape[3]}
		}
	}
	return f
}

// finish draws the last step's frame, so the window and the screenshot
// show the final state whatever MinFrameInterval skipped, and closes the
// window (writing --screenshot).
func (l *live) finish() error {
	if l == nil {
		return nil
	}
	var err error
	if l.err == nil && l.frame.Step > 0 {
		err = l.v.Render(l.frame)
	}
	return errors.Join(err, l.v.Close())
}
