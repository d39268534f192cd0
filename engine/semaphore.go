package engine

import (
	"errors"
	"fmt"

	vk "github.com/vulkan-go/vulkan"

	"github.com/vkneuro/vkneuro/engine/internal/vkc"
)

// Semaphore is a binary semaphore: it orders a Sequence's Run after, or
// before, other work on the device's queue, such as a swapchain's image
// acquisition and presentation. Run(Signal(s)) signals it when the
// sequence has finished; Run(Wait(s)) starts the sequence's commands once
// it is signalled, and unsignals it.
//
// The engine tracks whether a signal is pending, since Vulkan forbids
// waiting for a binary semaphore that nothing will signal (the device
// would wait forever) and signalling one already signalled: such a Run
// fails with an error instead. Vulkan calls made outside the engine
// report theirs with NoteSignal and NoteWait.
type Semaphore struct {
	m       *Manager
	sem     vk.Semaphore
	pending bool // a signal is submitted and not yet waited for; guarded by m.mu
	freed   bool
}

// NewSemaphore makes an unsignalled binary semaphore.
func (m *Manager) NewSemaphore() (*Semaphore, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	info := &vk.SemaphoreCreateInfo{SType: vk.StructureTypeSemaphoreCreateInfo}
	var sem vk.Semaphore
	r := vk.CreateSemaphore(m.dev, info, nil, &sem)
	info.Free()
	if err := vkErr("vkCreateSemaphore", r); err != nil {
		return nil, fmt.Errorf("engine: NewSemaphore: %w", err)
	}
	s := &Semaphore{m: m, sem: sem}
	m.sems[s] = struct{}{}
	return s, nil
}

// Handle is the VkSemaphore, for the Vulkan calls of packages under
// engine/ (vkAcquireNextImageKHR, vkQueuePresentKHR).
func (s *Semaphore) Handle() uint64 { return vkc.Uint64(s.sem) }

// Pending reports whether a signal has been submitted that nothing has
// waited for yet.
func (s *Semaphore) Pending() bool {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.pending
}

// NoteSignal records that a Vulkan call made outside the engine (such as
// vkAcquireNextImageKHR) will signal the semaphore, so that a Run may
// wait for it. It fails if a signal is already pending.
func (s *Semaphore) NoteSignal() error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if err := s.usable("NoteSignal"); err != nil {
		return err
	}
	if s.pending {
		return fmt.Errorf("engine: Semaphore.NoteSignal: %w", errSignalled)
	}
	s.pending = true
	return nil
}

// NoteWait records that a Vulkan call made outside the engine (such as
// vkQueuePresentKHR) waits for the pending signal. It fails if none is
// pending.
func (s *Semaphore) NoteWait() error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if err := s.usable("NoteWait"); err != nil {
		return err
	}
	if !s.pending {
		return fmt.Errorf("engine: Semaphore.NoteWait: %w", errNotSignalled)
	}
	s.pending = false
	return nil
}

var (
	errSignalled    = errors.New("the semaphore is already signalled and nothing has waited for it")
	errNotSignalled = errors.New("nothing will signal the semaphore")
)

// usable reports why the semaphore cannot be used. Caller holds m.mu.
func (s *Semaphore) usable(op string) error {
	switch {
	case s.m.closed:
		return fmt.Errorf("engine: Semaphore.%s: %w", op, ErrClosed)
	case s.freed:
		return fmt.Errorf("engine: Semaphore.%s: the semaphore was freed", op)
	}
	return nil
}

// Free destroys the semaphore. Later calls do nothing. No submitted work
// may still wait for or signal it.
func (s *Semaphore) Free() {
	if s == nil {
		return
	}
	m := s.m
	m.freeOnce(&s.freed, func() {
		delete(m.sems, s)
		vk.DestroySemaphore(m.dev, s.sem, nil)
	})
}

// Sync is a semaphore a Run waits for or signals: see Wait and Signal.
type Sync struct {
	sem    *Semaphore
	signal bool
}

// Wait makes a Run start its commands once sem is signalled.
func Wait(sem *Semaphore) Sync { return Sync{sem: sem} }

// Signal makes a Run signal sem when its commands have finished.
func Signal(sem *Semaphore) Sync { return Sync{sem: sem, signal: true} }

// syncs splits sync into the semaphores a submit waits for and signals,
// checking them against the pending signals. Caller holds m.mu.
func (m *Manager) syncs(sync []Sync) (wait, signal []vk.Semaphore, err error) {
	waited := map[*Semaphore]bool{}
	signalled := map[*Semaphore]bool{}
	for i, x := range sync {
		s := x.sem
		switch {
		case s == nil:
			return nil, nil, fmt.Errorf("sync %d: nil semaphore", i)
		case s.m != m:
			return nil, nil, fmt.Errorf("sync %d: the semaphore belongs to another Manager", i)
		case s.freed:
			return nil, nil, fmt.Errorf("sync %d: the semaphore was freed", i)
		}
		if x.signal {
			if signalled[s] {
				return nil, nil, fmt.Errorf("sync %d: the semaphore is signalled twice", i)
			}
			signalled[s] = true
			signal = append(signal, s.sem)
			continue
		}
		if waited[s] {
			return nil, nil, fmt.Errorf("sync %d: the semaphore is waited for twice", i)
		}
		if !s.pending {
			return nil, nil, fmt.Errorf("sync %d: waiting: %w", i, errNotSignalled)
		}
		waited[s] = true
		wait = append(wait, s.sem)
	}
	// A submit waits before it signals, so it may signal what it waits for.
	for s := range signalled {
		if s.pending && !waited[s] {
			return nil, nil, fmt.Errorf("signalling: %w", errSignalled)
		}
	}
	return wait, signal, nil
}

// settle records a successful submit of sync. Caller holds m.mu.
func settle(sync []Sync) {
	for _, x := range sync {
		if !x.signal {
			x.sem.pending = false
		}
	}
	for _, x := range sync {
		if x.signal {
			x.sem.pending = true
		}
	}
}
