package engine

import (
	"errors"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// openTest opens a private Manager with test hooks; it skips without
// Vulkan unless VKNEURO_REQUIRE_VULKAN=1, and fails the test on validation
// errors at cleanup.
func openTest(t *testing.T, opts Options) *Manager {
	t.Helper()
	opts.AllowCPU = true
	m, err := Open(opts)
	if err != nil {
		if os.Getenv("VKNEURO_REQUIRE_VULKAN") != "1" && (errors.Is(err, ErrNoVulkan) || errors.Is(err, ErrNoDevice)) {
			t.Skipf("no Vulkan: %v", err)
		}
		t.Fatal(err)
	}
	if os.Getenv("VKNEURO_VALIDATION") == "1" && !m.Validation() {
		t.Fatal("VKNEURO_VALIDATION=1 but the validation layer is not active")
	}
	t.Cleanup(func() {
		// Close first: the layer reports leaked objects at vkDestroyDevice.
		if err := m.Close(); err != nil {
			t.Error(err)
		}
		if errs := m.ValidationErrors(); len(errs) > 0 {
			t.Errorf("validation errors:\n%s", strings.Join(errs, "\n"))
		}
	})
	return m
}

// openValidated opens a private Manager with the validation layer, for
// tests that provoke its errors and look at them; it is closed at
// cleanup. It skips without Vulkan, or without the layer, unless
// VKNEURO_REQUIRE_VULKAN=1 or VKNEURO_VALIDATION=1 says it must be there.
func openValidated(t *testing.T) *Manager {
	t.Helper()
	m, err := Open(Options{AllowCPU: true, Validation: true})
	if err != nil {
		if os.Getenv("VKNEURO_REQUIRE_VULKAN") != "1" && (errors.Is(err, ErrNoVulkan) || errors.Is(err, ErrNoDevice)) {
			t.Skipf("no Vulkan: %v", err)
		}
		if strings.Contains(err.Error(), validationLayer) && os.Getenv("VKNEURO_VALIDATION") != "1" {
			t.Skipf("validation layer missing: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// TestStagingPath runs the device-local + staging code of discrete GPUs on
// whatever device is present, including transfers larger than one staging
// chunk.
func TestStagingPath(t *testing.T) {
	m := openTest(t, Options{Staging: true})
	if m.Unified() {
		t.Fatal("Staging: Unified() = true")
	}
	submits := m.Submits()
	for _, n := range []int{1, 65, 1000003, stagingChunk/4 + 12345} {
		b, err := m.NewBuffer(n)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, n)
		for i := range got {
			got[i] = 7
		}
		if err := m.Download(b, got, 0); err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if v != 0 {
				t.Fatalf("n=%d: new buffer element %d = %v, want 0", n, i, v)
			}
		}
		want := make([]float32, n)
		for i := range want {
			want[i] = float32(i%1000) - 0.5
		}
		if err := m.Upload(b, want, 0); err != nil {
			t.Fatal(err)
		}
		if err := m.Download(b, got, 0); err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("n=%d: element %d = %v, want %v", n, i, got[i], want[i])
			}
		}
		k := min(3, n)
		part := make([]float32, k)
		if err := m.Download(b, part, n-k); err != nil {
			t.Fatal(err)
		}
		for i := range part {
			if part[i] != want[n-k+i] {
				t.Fatalf("n=%d: tail = %v, want %v", n, part, want[n-k:])
			}
		}
		b.Free()
	}
	if m.Submits() == submits {
		t.Error("staging transfers made no submits")
	}
	if m.Stats().StagingBytes == 0 {
		t.Error("no staging buffer was made")
	}
}

// TestHostBuffer checks the readback path of discrete GPUs: a sequence
// copies a device buffer into a host buffer inside its one submit, and
// the host reads that without another.
func TestHostBuffer(t *testing.T) {
	for _, staging := range []bool{false, true} {
		m := openTest(t, Options{Staging: staging})
		src, err := m.NewBuffer(1000)
		if err != nil {
			t.Fatal(err)
		}
		h, err := m.NewHostBuffer(1001)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, 1001)
		got[0] = 7
		before := m.Submits()
		if err := m.Download(h, got, 0); err != nil {
			t.Fatal(err)
		}
		if got[0] != 0 || got[1000] != 0 {
			t.Fatalf("staging=%v: new host buffer holds %v…%v, want zeros", staging, got[0], got[1000])
		}
		// A guard past the copied range must survive the copy.
		if err := m.Upload(h, []float32{-9}, 1000); err != nil {
			t.Fatal(err)
		}
		if n := m.Submits() - before; n != 0 {
			t.Fatalf("staging=%v: host buffer transfers made %d submits, want 0", staging, n)
		}
		want := make([]float32, 1000)
		for i := range want {
			want[i] = float32(i) + 0.25
		}
		if err := m.Upload(src, want, 0); err != nil {
			t.Fatal(err)
		}
		s, err := m.NewSequence()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Copy(h, src, 1000); err != nil {
			t.Fatal(err)
		}
		before = m.Submits()
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		if err := m.Download(h, got, 0); err != nil {
			t.Fatal(err)
		}
		if n := m.Submits() - before; n != 1 {
			t.Errorf("staging=%v: copy and read made %d submits, want 1", staging, n)
		}
		for i, v := range want {
			if got[i] != v {
				t.Fatalf("staging=%v: host element %d = %v, want %v", staging, i, got[i], v)
			}
		}
		if got[1000] != -9 {
			t.Errorf("staging=%v: guard past the copy = %v, want -9", staging, got[1000])
		}
		s.Close()
		h.Free()
		src.Free()
	}
}

func TestOutOfMemory(t *testing.T) {
	m := openTest(t, Options{blockSize: 1 << 20, heapLimit: 3 << 20})
	var err error
	for i := 0; i < 10 && err == nil; i++ {
		_, err = m.NewBuffer(1 << 18) // 1 MiB each: a dedicated allocation
	}
	if !errors.Is(err, ErrOutOfMemory) {
		t.Fatalf("allocating past the heap limit: err = %v, want ErrOutOfMemory", err)
	}
	if !strings.Contains(err.Error(), "1048576 bytes") || !strings.Contains(err.Error(), "heap 0") {
		t.Errorf("error %q does not name the bytes and heap", err)
	}
}

func TestFreeListMerges(t *testing.T) {
	b := &memBlock{size: 100, free: []span{{0, 100}}}
	var offs []uint64
	for i := 0; i < 4; i++ {
		off, ok := b.take(10, 16)
		if !ok {
			t.Fatalf("take %d failed", i)
		}
		offs = append(offs, off)
	}
	for i, off := range offs {
		if off%16 != 0 || (i > 0 && off <= offs[i-1]) {
			t.Fatalf("offsets %v not aligned to 16 and increasing", offs)
		}
	}
	if _, ok := b.take(60, 16); ok {
		t.Fatal("took 60 bytes of a block with 100-64 free at offset 64")
	}
	b.give(offs[1], 10)
	b.give(offs[0], 10)
	b.give(offs[3], 10)
	b.give(offs[2], 10)
	if len(b.free) != 1 || b.free[0] != (span{0, 100}) || b.used != 0 {
		t.Fatalf("after freeing all: free list %v, used %d; want one span {0 100}", b.free, b.used)
	}
}

// TestValidationCatches provokes a validation error safely: a pipeline
// layout without the push-constant range the shader declares is invalid to
// create, but nothing is dispatched with it.
func TestValidationCatches(t *testing.T) {
	m := openValidated(t)
	code, err := os.ReadFile("../shaders/axpy.spv")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.ValidationErrors()) != 0 {
		t.Fatalf("validation errors before the provocation: %v", m.ValidationErrors())
	}
	if _, err := m.Kernel("axpy", code, 2, 0, 64, 1, 1); err != nil {
		t.Logf("Kernel without push constants failed outright: %v", err)
	}
	errs := m.ValidationErrors()
	if len(errs) == 0 {
		t.Fatal("no validation error for a pipeline layout missing the shader's push constants")
	}
	t.Logf("caught: %s", errs[0])
	// Messages are routed to the Manager whose instance produced them.
	other, err := Open(Options{AllowCPU: true, Validation: true})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if len(other.ValidationErrors()) != 0 {
		t.Errorf("a second Manager got the first one's errors: %v", other.ValidationErrors())
	}
}

func TestCollector(t *testing.T) {
	c := &collector{}
	c.add(0x8, "an error") // VK_DEBUG_REPORT_ERROR_BIT_EXT
	c.add(0x2, "a warning")
	errs, warns := c.snapshot()
	if len(errs) != 1 || errs[0] != "an error" || len(warns) != 1 || warns[0] != "a warning" {
		t.Fatalf("errors %q, warnings %q", errs, warns)
	}
	errs[0] = "changed"
	if again, _ := c.snapshot(); again[0] != "an error" {
		t.Error("snapshot shares memory with the collector")
	}
}

func TestCloseTwice(t *testing.T) {
	m := openTest(t, Options{})
	b, err := m.NewBuffer(10)
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Fill(b, 1); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	b.Free() // after Close: must not touch the destroyed device
	if err := s.Close(); err != nil {
		t.Errorf("Sequence.Close after Manager.Close: %v", err)
	}
	if _, err := m.NewBuffer(1); !errors.Is(err, ErrClosed) {
		t.Errorf("NewBuffer after Close = %v, want ErrClosed", err)
	}
	if !m.Closed() {
		t.Error("Closed() = false after Close")
	}
}

func TestBadDeviceChoice(t *testing.T) {
	for _, dev := range []string{"99", "no-such-gpu-name"} {
		_, err := Open(Options{Device: dev})
		if errors.Is(err, ErrNoVulkan) && os.Getenv("VKNEURO_REQUIRE_VULKAN") != "1" {
			t.Skipf("no Vulkan: %v", err)
		}
		if !errors.Is(err, ErrNoDevice) {
			t.Errorf("Device %q: err = %v, want ErrNoDevice", dev, err)
			continue
		}
		if !strings.Contains(err.Error(), "available") || !strings.Contains(err.Error(), "0: ") {
			t.Errorf("Device %q: error %q does not list the devices", dev, err)
		}
	}
}

func TestChoose(t *testing.T) {
	devs := []DeviceInfo{
		{Index: 0, Name: "llvmpipe", Type: "CPU", CPU: true, Compute: true, typeRank: 0},
		{Index: 1, Name: "Intel UHD", Type: "integrated GPU", Compute: true, typeRank: 3},
		{Index: 2, Name: "NVIDIA H100", Type: "discrete GPU", Compute: true, typeRank: 4},
		{Index: 3, Name: "Display only", Type: "discrete GPU", Compute: false, typeRank: 4},
	}
	t.Setenv("VKNEURO_DEVICE", "")
	cases := []struct {
		opts Options
		env  string
		want int
		err  bool
	}{
		{Options{}, "", 2, false},
		{Options{Device: "intel"}, "", 1, false},
		{Options{Device: "0"}, "", 0, false},
		{Options{}, "llvm", 0, false},
		{Options{Device: "h100"}, "llvm", 2, false}, // Options beat the env
		{Options{Device: "3"}, "", 0, true},         // no compute queue
		{Options{Device: "amd"}, "", 0, true},
	}
	for _, c := range cases {
		t.Setenv("VKNEURO_DEVICE", c.env)
		got, err := choose(devs, c.opts)
		if (err != nil) != c.err || (!c.err && got != c.want) {
			t.Errorf("choose(%+v, env %q) = %d, %v; want %d, error %v", c.opts, c.env, got, err, c.want, c.err)
		}
	}
	t.Setenv("VKNEURO_DEVICE", "")
	cpuOnly := devs[:1]
	if _, err := choose(cpuOnly, Options{}); !errors.Is(err, ErrNoDevice) || !strings.Contains(err.Error(), "only a CPU Vulkan driver") {
		t.Errorf("CPU-only without AllowCPU: %v", err)
	}
	if i, err := choose(cpuOnly, Options{AllowCPU: true}); err != nil || i != 0 {
		t.Errorf("CPU-only with AllowCPU: %d, %v", i, err)
	}
}

// BenchmarkStagedTransfer measures the staging path of discrete GPUs on
// whatever device is present (on lavapipe: two memcpys and a submit).
func BenchmarkStagedTransfer(b *testing.B) {
	m, err := Open(Options{AllowCPU: true, Staging: true})
	if err != nil {
		b.Skip(err)
	}
	defer m.Close()
	const n = 16 << 20
	buf, err := m.NewBuffer(n)
	if err != nil {
		b.Fatal(err)
	}
	host := make([]float32, n)
	b.Run("upload", func(b *testing.B) {
		b.SetBytes(4 * n)
		for b.Loop() {
			if err := m.Upload(buf, host, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("download", func(b *testing.B) {
		b.SetBytes(4 * n)
		for b.Loop() {
			if err := m.Download(buf, host, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestTeardownClean leaves buffers, an image, a signalled semaphore,
// kernels and sequences open and lets Close destroy them: the validation
// layer reports any object left behind at vkDestroyDevice, which
// openTest's cleanup turns into a failure.
func TestTeardownClean(t *testing.T) {
	m := openTest(t, Options{Validation: true, Staging: true})
	code, err := os.ReadFile("../shaders/axpy.spv")
	if err != nil {
		t.Fatal(err)
	}
	k, err := m.Kernel("axpy", code, 2, 2, 64, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	x, err := m.NewBuffer(100)
	if err != nil {
		t.Fatal(err)
	}
	y, err := m.NewBuffer(100)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Upload(x, make([]float32, 100), 0); err != nil {
		t.Fatal(err)
	}
	s, err := m.NewSequence()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EnableTimestamps(); err != nil && m.Info().Timestamps {
		t.Fatal(err)
	}
	if err := s.Dispatch(k, []*Buffer{x, y}, []uint32{100, 0}, 2, 1, 1); err != nil {
		t.Fatal(err)
	}
	img, err := m.NewImage(8, 8)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CopyImage(x, img); err != nil {
		t.Fatal(err)
	}
	sem, err := m.NewSemaphore()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(Signal(sem)); err != nil {
		t.Fatal(err)
	}
	if st := m.Stats(); st.Images != 1 || st.Semaphores != 1 {
		t.Errorf("Stats: %d images, %d semaphores; want 1 and 1", st.Images, st.Semaphores)
	}
}

// TestHandles checks what the packages under engine/ get for their own
// Vulkan calls: the Manager's objects, and its queue only while open.
func TestHandles(t *testing.T) {
	m := openTest(t, Options{})
	h := m.Handles()
	if h.Instance == nil || h.PhysicalDevice == nil || h.Device == nil {
		t.Fatalf("Handles() = %+v, want non-nil handles", h)
	}
	if h.QueueFamily != m.info.queueFamily {
		t.Errorf("QueueFamily %d, the Manager uses %d", h.QueueFamily, m.info.queueFamily)
	}
	var q unsafe.Pointer
	if err := m.UseQueue(func(queue unsafe.Pointer) { q = queue }); err != nil || q == nil {
		t.Fatalf("UseQueue: queue %v, error %v", q, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	called := false
	if err := m.UseQueue(func(unsafe.Pointer) { called = true }); !errors.Is(err, ErrClosed) || called {
		t.Errorf("UseQueue after Close: error %v, f called %v; want ErrClosed, not called", err, called)
	}
}
