package bench

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sbinet/npyio/npz"

	"github.com/vkneuro/vkneuro/tasks"
)

// The tests below run bench/gen_data.py and bench/pytorch_ref.py at tiny
// sizes and recompute the first step's loss (taken before any update, so
// it depends only on the data and the initial weights) in float64 Go from
// the generated files. That checks the reference implements the tutorials'
// models, losses and penalties, and that the generator writes what the
// harness expects. Tolerance: PyTorch computes in float32 with sums of up
// to a few thousand terms, so rtol 1e-5 leaves an order of magnitude of
// margin over float32 rounding; atol 1e-6 covers losses near zero.

const python = "/usr/bin/python3"

func needTorch(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs Python; skipped with -short")
	}
	if err := exec.Command(python, "-c", "import torch, numpy").Run(); err != nil {
		t.Skipf("%s with torch and numpy not available: %v", python, err)
	}
}

func runPy(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(python, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", python, strings.Join(args, " "), err, out)
	}
}

type array struct {
	shape []int
	data  []float32
}

func readNPZ(t *testing.T, path string) map[string]array {
	t.Helper()
	r, err := npz.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m := map[string]array{}
	for _, k := range r.Keys() {
		var v []float32
		if err := r.Read(k, &v); err != nil {
			t.Fatalf("%s: %s: %v", path, k, err)
		}
		name := strings.TrimSuffix(k, ".npy")
		m[name] = array{shape: r.Header(k).Descr.Shape, data: v}
	}
	return m
}

func get(t *testing.T, m map[string]array, key string, shape ...int) []float32 {
	t.Helper()
	a, ok := m[key]
	if !ok {
		t.Fatalf("key %q missing", key)
	}
	if len(a.shape) != len(shape) {
		t.Fatalf("key %q: shape %v, want %v", key, a.shape, shape)
	}
	for i := range shape {
		if a.shape[i] != shape[i] {
			t.Fatalf("key %q: shape %v, want %v", key, a.shape, shape)
		}
	}
	return a.data
}

func firstLoss(t *testing.T, metrics, summary string, steps int) float64 {
	t.Helper()
	losses, err := tasks.ReadLosses(metrics)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadSummary(summary)
	if err != nil {
		t.Fatal(err)
	}
	if s.Steps != steps || len(losses) != steps {
		t.Fatalf("ran %d steps, logged %d losses, want %d", s.Steps, len(losses), steps)
	}
	if s.FinalLoss != losses[len(losses)-1] {
		t.Errorf("summary final_loss %v, last logged loss %v", s.FinalLoss, losses[len(losses)-1])
	}
	if !(s.TrainSeconds > 0) {
		t.Errorf("train_seconds = %v, want > 0", s.TrainSeconds)
	}
	return losses[0]
}

func checkClose(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-6+1e-5*math.Abs(want) {
		t.Errorf("%s: PyTorch %.9g, Go recomputation %.9g", what, got, want)
	} else {
		t.Logf("%s: PyTorch %.9g, Go %.9g", what, got, want)
	}
}

func TestPyTorchRefDecode(t *testing.T) {
	needTorch(t)
	dir := t.TempDir()
	const S, N, H, C = 12, 50, 20, 20
	const l2, l1 = 1e-2, 5e-4
	runPy(t, "gen_data.py", "decode", "--out", dir, "--s", "12", "--n", "50")
	m, s := filepath.Join(dir, "m.csv"), filepath.Join(dir, "s.json")
	runPy(t, "pytorch_ref.py", "decode", "--data", filepath.Join(dir, "data.npz"), "--init", filepath.Join(dir, "init.npz"),
		"--iters", "3", "--lr", "0.1", "--l2", "0.01", "--l1", "0.0005", "--threads", "1", "--metrics", m, "--summary", s, "--quiet")
	got := firstLoss(t, m, s, 3)

	d := readNPZ(t, filepath.Join(dir, "data.npz"))
	w := readNPZ(t, filepath.Join(dir, "init.npz"))
	resp := get(t, d, "resp", S, N)
	stim := get(t, d, "stimuli", S)
	w1, b1 := get(t, w, "in_layer.weight", H, N), get(t, w, "in_layer.bias", H)
	w2, b2 := get(t, w, "out_layer.weight", C, H), get(t, w, "out_layer.bias", C)
	var nll float64
	for i := 0; i < S; i++ {
		if stim[i] < 0 || stim[i] >= 360 {
			t.Fatalf("stimulus %d = %v degrees, want [0,360)", i, stim[i])
		}
		class := int(float64(stim[i]) / (360.0 / C))
		h := make([]float64, H)
		for j := range h {
			a := float64(b1[j])
			for k := 0; k < N; k++ {
				a += float64(w1[j*N+k]) * float64(resp[i*N+k])
			}
			h[j] = max(a, 0)
		}
		logits := make([]float64, C)
		mx := math.Inf(-1)
		for c := range logits {
			a := float64(b2[c])
			for j := 0; j < H; j++ {
				a += float64(w2[c*H+j]) * h[j]
			}
			logits[c] = a
			mx = max(mx, a)
		}
		var z float64
		for _, a := range logits {
			z += math.Exp(a - mx)
		}
		nll -= logits[class] - mx - math.Log(z)
	}
	want := nll / S
	for _, v := range w1 {
		want += l2*float64(v)*float64(v) + l1*math.Abs(float64(v))
	}
	checkClose(t, "decode first loss (NLL + l2 + l1 on in_layer.weight)", got, want)
}

// conv7 is a 'same' 7×7 convolution (zero padding 3) of one [h,w] image
// with the filters w [6,1,7,7] and bias b, as nn.Conv2d computes it
// (cross-correlation), into [6,h,w].
func conv7(img []float32, h, wd int, w, b []float32) []float64 {
	out := make([]float64, 6*h*wd)
	for c := 0; c < 6; c++ {
		for y := 0; y < h; y++ {
			for x := 0; x < wd; x++ {
				a := float64(b[c])
				for ky := 0; ky < 7; ky++ {
					for kx := 0; kx < 7; kx++ {
						iy, ix := y+ky-3, x+kx-3
						if iy >= 0 && iy < h && ix >= 0 && ix < wd {
							a += float64(w[c*49+ky*7+kx]) * float64(img[iy*wd+ix])
						}
					}
				}
				out[(c*h+y)*wd+x] = a
			}
		}
	}
	return out
}

func TestPyTorchRefEncode(t *testing.T) {
	needTorch(t)
	dir := t.TempDir()
	const S, N, Hh, W = 4, 30, 12, 16
	const M = 6 * Hh * W
	const l2, l1 = 5e-4, 1e-6
	runPy(t, "gen_data.py", "encode", "--out", dir, "--s", "4", "--n", "30")
	m, s := filepath.Join(dir, "m.csv"), filepath.Join(dir, "s.json")
	runPy(t, "pytorch_ref.py", "encode", "--data", filepath.Join(dir, "data.npz"), "--stimuli", filepath.Join(dir, "stimuli.npz"),
		"--init", filepath.Join(dir, "init.npz"), "--iters", "2", "--lr", "2", "--momentum", "0.9", "--l2", "0.0005", "--l1", "1e-6",
		"--threads", "1", "--metrics", m, "--summary", s, "--quiet")
	got := firstLoss(t, m, s, 2)

	d := readNPZ(t, filepath.Join(dir, "data.npz"))
	img := get(t, readNPZ(t, filepath.Join(dir, "stimuli.npz")), "stimuli", S, 1, Hh, W)
	w := readNPZ(t, filepath.Join(dir, "init.npz"))
	y := get(t, d, "resp_train", S, N)
	get(t, d, "resp_test", S, N)
	get(t, d, "stimuli", S)
	cw, cb := get(t, w, "conv.weight", 6, 1, 7, 7), get(t, w, "conv.bias", 6)
	ow, ob := get(t, w, "out_layer.weight", N, M), get(t, w, "out_layer.bias", N)
	for _, v := range img {
		if v != -0.5 && v != 0.5 && v != 0 {
			t.Fatalf("grating pixel %v, want ±0.5 (centred) or 0", v)
		}
	}
	var sse float64
	for i := 0; i < S; i++ {
		a := conv7(img[i*Hh*W:(i+1)*Hh*W], Hh, W, cw, cb)
		for n := 0; n < N; n++ {
			p := float64(ob[n])
			for k := 0; k < M; k++ {
				p += float64(ow[n*M+k]) * a[k]
			}
			e := p - float64(y[i*N+n])
			sse += e * e
		}
	}
	want := sse / (S * N)
	for _, v := range ow {
		want += l2*float64(v)*float64(v) + l1*math.Abs(float64(v))
	}
	checkClose(t, "encode first loss (MSE + l2 + l1 on out_layer.weight)", got, want)
}

func TestPyTorchRefNormative(t *testing.T) {
	needTorch(t)
	dir := t.TempDir()
	const S = 30
	runPy(t, "gen_data.py", "normative", "--out", dir, "--n", "30")
	m, s := filepath.Join(dir, "m.csv"), filepath.Join(dir, "s.json")
	// 30 gratings in batches of 8: 4 mini-batches (the last of 6) per epoch.
	runPy(t, "pytorch_ref.py", "normative", "--data", filepath.Join(dir, "data.npz"), "--init", filepath.Join(dir, "init.npz"),
		"--epochs", "2", "--batch", "8", "--lr", "0.0005", "--momentum", "0.99", "--threads", "1", "--metrics", m, "--summary", s, "--quiet")
	firstLoss(t, m, s, 8)
	// Full batch: the first loss is the mean BCE over all gratings,
	// whatever the shuffle.
	runPy(t, "pytorch_ref.py", "normative", "--data", filepath.Join(dir, "data.npz"), "--init", filepath.Join(dir, "init.npz"),
		"--epochs", "2", "--batch", "0", "--lr", "0.0005", "--momentum", "0.99", "--threads", "1", "--metrics", m, "--summary", s, "--quiet")
	got := firstLoss(t, m, s, 2)

	d := readNPZ(t, filepath.Join(dir, "data.npz"))
	img := get(t, d, "stimuli", S, 48, 64)
	labels := get(t, d, "labels", S)
	w := readNPZ(t, filepath.Join(dir, "init.npz"))
	cw, cb := get(t, w, "conv.weight", 6, 1, 7, 7), get(t, w, "conv.bias", 6)
	fw, fb := get(t, w, "fc.weight", 10, 288), get(t, w, "fc.bias", 10)
	ow, ob := get(t, w, "out.weight", 1, 10), get(t, w, "out.bias", 1)
	var sum float64
	for i := 0; i < S; i++ {
		a := conv7(img[i*48*64:(i+1)*48*64], 48, 64, cw, cb)
		pool := make([]float64, 288)
		for c := 0; c < 6; c++ {
			for py := 0; py < 6; py++ {
				for px := 0; px < 8; px++ {
					mx := math.Inf(-1)
					for y := py * 8; y < py*8+8; y++ {
						for x := px * 8; x < px*8+8; x++ {
							mx = max(mx, max(a[(c*48+y)*64+x], 0))
						}
					}
					pool[(c*6+py)*8+px] = mx
				}
			}
		}
		z := float64(ob[0])
		for j := 0; j < 10; j++ {
			hj := float64(fb[j])
			for k := 0; k < 288; k++ {
				hj += float64(fw[j*288+k]) * pool[k]
			}
			z += float64(ow[j]) * max(hj, 0)
		}
		p := 1 / (1 + math.Exp(-z))
		bce := -math.Log(p)
		if labels[i] == 0 {
			bce = -math.Log(1 - p)
		}
		sum += bce
	}
	checkClose(t, "normative first loss (BCE, full batch)", got, sum/S)
}

func TestMain(m *testing.M) {
	// The Python scripts live next to this file; go test runs in the
	// package directory.
	if _, err := os.Stat("pytorch_ref.py"); err != nil {
		panic("bench tests must run in bench/: " + err.Error())
	}
	os.Exit(m.Run())
}

// TestPyTorchRefCUDA checks --device cuda: where torch sees no CUDA GPU
// it must stop with a message that says so; where it does, the decode
// losses must match the CPU run's to float32 reduction-order error.
func TestPyTorchRefCUDA(t *testing.T) {
	needTorch(t)
	dir := t.TempDir()
	runPy(t, "gen_data.py", "decode", "--out", dir, "--s", "12", "--n", "50")
	args := func(dev string) []string {
		return []string{"pytorch_ref.py", "decode", "--data", filepath.Join(dir, "data.npz"), "--init", filepath.Join(dir, "init.npz"),
			"--iters", "3", "--lr", "0.1", "--l2", "0.01", "--l1", "0.0005", "--threads", "1", "--device", dev,
			"--metrics", filepath.Join(dir, dev+".csv"), "--summary", filepath.Join(dir, dev+".json"), "--quiet"}
	}
	if exec.Command(python, "-c", "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)").Run() != nil {
		out, err := exec.Command(python, args("cuda")...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "--device cuda") || !strings.Contains(string(out), "no CUDA GPU") {
			t.Fatalf("--device cuda without CUDA: err %v, output %q; want a failure that says there is no CUDA GPU", err, out)
		}
		return
	}
	runPy(t, args("cpu")...)
	runPy(t, args("cuda")...)
	cpu, err := tasks.ReadLosses(filepath.Join(dir, "cpu.csv"))
	if err != nil {
		t.Fatal(err)
	}
	gpu, err := tasks.ReadLosses(filepath.Join(dir, "cuda.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cpu) != 3 || len(gpu) != 3 {
		t.Fatalf("%d CPU and %d CUDA losses, want 3 each", len(cpu), len(gpu))
	}
	for i := range cpu {
		checkClose(t, fmt.Sprintf("step %d CUDA against CPU", i+1), gpu[i], cpu[i])
	}
}
