package engine

import (
	"runtime/debug"
	"sync"
)

// vulkan-go converts a slice of structs to C memory and sets a finalizer
// that frees it on a heap cell nothing references once the conversion
// returns, so a garbage collection during the call itself can free the
// create-info a driver is still reading. vkCreateComputePipelines runs
// LLVM on lavapipe for up to seconds, and its test runs crashed inside
// the driver (SIGSEGV, std::bad_alloc) about once in eight. withoutGC
// keeps the collector off around such long calls.
var gcPause struct {
	sync.Mutex
	depth int
	prev  int
}

// withoutGC runs call with garbage collection off; concurrent callers
// share one pause, and the last to finish restores the GC percentage.
// debug.SetGCPercent(-1) waits for a collection in progress to end, so
// none is running when call starts.
func withoutGC(call func()) {
	gcPause.Lock()
	if gcPause.depth == 0 {
		gcPause.prev = debug.SetGCPercent(-1)
	}
	gcPause.depth++
	gcPause.Unlock()
	defer func() {
		gcPause.Lock()
		gcPause.depth--
		if gcPause.depth == 0 {
			debug.SetGCPercent(gcPause.prev)
		}
		gcPause.Unlock()
	}()
	call()
}
