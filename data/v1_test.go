package data

import (
	"math"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func testdataPath(name string) string { return filepath.Join("..", "testdata", "data", name) }

func TestLoadV1Conversions(t *testing.T) {
	exp, err := ReadNPZ(testdataPath("v1_expected.npz"))
	if err != nil {
		t.Fatal(err)
	}
	resp, respInt, stim := exp["resp"].Data, exp["resp_int"].Data, exp["stimuli"].Data
	intStim := make([]float32, len(stim))
	for i := range intStim {
		intStim[i] = float32(30 * i)
	}
	// Conversions round once (float64 → float32, or integers that are
	// exact in float32), as NumPy's astype does, so the data match exactly.
	for _, tc := range []struct {
		file      string
		resp      []float32
		stim      []float32
		converted []string
	}{
		{"v1_f64.npz", resp, stim, []string{"resp (<f8)", "stimuli (<f8)"}},
		{"v1_int.npz", respInt, intStim, []string{"resp (<i8)", "stimuli (<i4)"}},
		{"v1_fortran.npz", resp, stim, nil},
		{"v1_bigendian.npz", resp, stim, []string{"resp (>f4)", "stimuli (>f4)"}},
	} {
		v, err := LoadV1(testdataPath(tc.file))
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if v.S != 12 || v.N != 7 || v.Synthetic {
			t.Errorf("%s: S=%d N=%d synthetic=%v, want 12, 7, false", tc.file, v.S, v.N, v.Synthetic)
		}
		if !reflect.DeepEqual(v.Resp, tc.resp) {
			t.Errorf("%s: resp %v, want %v", tc.file, v.Resp, tc.resp)
		}
		if !reflect.DeepEqual(v.Stimuli, tc.stim) {
			t.Errorf("%s: stimuli %v, want %v", tc.file, v.Stimuli, tc.stim)
		}
		if !reflect.DeepEqual(v.Converted, tc.converted) {
			t.Errorf("%s: converted %q, want %q", tc.file, v.Converted, tc.converted)
		}
	}

	sp, err := LoadV1Split(testdataPath("split_f64.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if sp.S != 12 || sp.N != 7 || !reflect.DeepEqual(sp.RespTrain, resp) || !reflect.DeepEqual(sp.Stimuli, stim) {
		t.Errorf("split: S=%d N=%d, train or stimuli differ from numpy", sp.S, sp.N)
	}
	for s := 0; s < 12; s++ {
		if !reflect.DeepEqual(sp.RespTest[s*7:(s+1)*7], resp[(11-s)*7:(12-s)*7]) {
			t.Fatalf("split: resp_test row %d differs from numpy", s)
		}
	}
	if want := []string{"resp_train (<f8)", "resp_test (<f8)", "stimuli (<f8)"}; !reflect.DeepEqual(sp.Converted, want) {
		t.Errorf("split: converted %q, want %q", sp.Converted, want)
	}
}

func TestV1RoundTrip(t *testing.T) {
	dir := t.TempDir()
	v := &V1{S: 2, N: 3, Resp: []float32{1, 2, 3, 4, 5, 6}, Stimuli: []float32{10, 20}, Synthetic: true}
	path := filepath.Join(dir, "v.npz")
	if err := SaveV1(path, v); err != nil {
		t.Fatal(err)
	}
	w, err := LoadV1(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w, v) {
		t.Errorf("round trip: %+v, want %+v", w, v)
	}
	sp := &V1Split{S: 2, N: 1, RespTrain: []float32{1, 2}, RespTest: []float32{3, 4}, Stimuli: []float32{0, 180}}
	if err := SaveV1Split(path, sp); err != nil {
		t.Fatal(err)
	}
	sq, err := LoadV1Split(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sq, sp) {
		t.Errorf("split round trip: %+v, want %+v", sq, sp)
	}
	if err := SaveV1(path, &V1{S: 2, N: 2, Resp: make([]float32, 3), Stimuli: make([]float32, 2)}); err == nil ||
		err.Error() != "data: "+path+": response of length 3, want S×N = 2×2" {
		t.Errorf("SaveV1 with a short Resp: error %v", err)
	}
	if err := SaveV1Split(path, &V1Split{S: 2, N: 1, RespTrain: make([]float32, 2), RespTest: make([]float32, 2), Stimuli: make([]float32, 3)}); err == nil ||
		err.Error() != "data: "+path+": S=2, N=1 with 3 stimuli, want S = len(Stimuli)" {
		t.Errorf("SaveV1Split with extra stimuli: error %v", err)
	}
}

func TestLoadV1Errors(t *testing.T) {
	dir := t.TempDir()
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	r23 := &Array{Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}
	s2 := &Array{Shape: []int{2}, Data: []float32{0, 90}}
	for _, tc := range []struct {
		name   string
		arrays map[string]*Array
		split  bool
		want   string
	}{
		{"nostim", map[string]*Array{"resp": r23, "other": s2}, false,
			`data: PATH: missing key "stimuli" (keys present: ["other" "resp"])`},
		{"noresp", map[string]*Array{"stimuli": s2}, false,
			`data: PATH: missing key "resp" (keys present: ["stimuli"])`},
		{"rank1", map[string]*Array{"resp": {Shape: []int{6}, Data: r23.Data}, "stimuli": s2}, false,
			`data: PATH: key "resp": shape [6] has rank 1, want rank 2 [stimuli, neurons]`},
		{"rank3", map[string]*Array{"resp": {Shape: []int{2, 3, 1}, Data: r23.Data}, "stimuli": s2}, false,
			`data: PATH: key "resp": shape [2 3 1] has rank 3, want rank 2 [stimuli, neurons]`},
		{"stimrank", map[string]*Array{"resp": r23, "stimuli": {Shape: []int{1, 2}, Data: s2.Data}}, false,
			`data: PATH: key "stimuli": shape [1 2], want [S] or [S 1] (one orientation per stimulus)`},
		{"mismatch", map[string]*Array{"resp": r23, "stimuli": {Shape: []int{3, 1}, Data: []float32{1, 2, 3}}}, false,
			`data: PATH: key "stimuli": shape [3 1] has 3 stimuli, but key "resp" has shape [2 3] (2 stimuli)`},
		{"nan", map[string]*Array{"resp": {Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, nan}}, "stimuli": s2}, false,
			`data: PATH: key "resp": non-finite value NaN at index [1 2] of shape [2 3]`},
		{"inf", map[string]*Array{"resp": r23, "stimuli": {Shape: []int{2}, Data: []float32{0, inf}}}, false,
			`data: PATH: key "stimuli": non-finite value -Inf at index [1] of shape [2]`},
		{"empty", map[string]*Array{"resp": {Shape: []int{0, 3}, Data: []float32{}}, "stimuli": {Shape: []int{0}, Data: []float32{}}}, false,
			`data: PATH: key "resp": empty array of shape [0 3], want at least one stimulus and one neuron`},
		{"noneurons", map[string]*Array{"resp": {Shape: []int{2, 0}, Data: []float32{}}, "stimuli": s2}, false,
			`data: PATH: key "resp": empty array of shape [2 0], want at least one stimulus and one neuron`},
		{"splitmissing", map[string]*Array{"resp": r23, "stimuli": s2}, true,
			`data: PATH: missing key "resp_train" (keys present: ["resp" "stimuli"])`},
		{"splitshape", map[string]*Array{"resp_train": r23, "resp_test": {Shape: []int{3, 2}, Data: r23.Data}, "stimuli": s2}, true,
			`data: PATH: key "resp_test": shape [3 2] differs from key "resp_train" shape [2 3]`},
		{"splitnan", map[string]*Array{"resp_train": r23, "resp_test": {Shape: []int{2, 3}, Data: []float32{nan, 0, 0, 0, 0, 0}}, "stimuli": s2}, true,
			`data: PATH: key "resp_test": non-finite value NaN at index [0 0] of shape [2 3]`},
		{"splitstim", map[string]*Array{"resp_train": r23, "resp_test": r23, "stimuli": {Shape: []int{1}, Data: []float32{0}}}, true,
			`data: PATH: key "stimuli": shape [1] has 1 stimuli, but key "resp_train" has shape [2 3] (2 stimuli)`},
	} {
		path := filepath.Join(dir, tc.name+".npz")
		if err := WriteNPZ(path, tc.arrays); err != nil {
			t.Fatal(err)
		}
		var err error
		if tc.split {
			_, err = LoadV1Split(path)
		} else {
			_, err = LoadV1(path)
		}
		want := strings.ReplaceAll(tc.want, "PATH", path)
		if err == nil || err.Error() != want {
			t.Errorf("%s: error\n  %v\nwant\n  %s", tc.name, err, want)
		}
	}

	// A float64 value beyond float32 range becomes Inf; the error says so.
	path := filepath.Join(dir, "overflow.npz")
	writeZip(t, path, []string{"resp.npy", "stimuli.npy"}, map[string][]byte{
		"resp.npy":    npyBytes("<f8", false, "(1, 1)", []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x7f}),
		"stimuli.npy": npyBytes("<f4", false, "(1,)", f32bytes(0)),
	})
	want := `data: ` + path + `: key "resp": non-finite value +Inf at index [0 0] of shape [1 1] (after conversion from <f8 to float32)`
	if _, err := LoadV1(path); err == nil || err.Error() != want {
		t.Errorf("overflow: error\n  %v\nwant\n  %s", err, want)
	}
	if _, err := LoadV1(filepath.Join(dir, "missing.npz")); err == nil || !strings.Contains(err.Error(), "missing.npz") {
		t.Errorf("missing file: error %v does not name the file", err)
	}
}

// Binning averages a few float32 values; NumPy sums them in float32, this
// package in float64, so results may differ by an ulp or two of the
// operands: responses have magnitude ≤ 4 (ulp 4.8e-7), orientations ≤ 360°
// (ulp 3.1e-5 above 256°, and Tutorial 3's −90° shift keeps that absolute
// error on smaller values).
const (
	binRespAtol = 2e-6
	binStimAtol = 4e-5
)

func TestBinAndTutorial3Fixtures(t *testing.T) {
	fx := fixtures(t)
	resp, stim := fixture(t, fx, "bin_resp"), fixture(t, fx, "bin_stimuli")
	v := &V1{S: resp.Shape[0], N: resp.Shape[1], Resp: resp.Data, Stimuli: stim.Data}
	check := func(name string, got *V1, wantR, wantS *Array) {
		t.Helper()
		if got.S != wantR.Shape[0] || got.N != v.N || len(got.Stimuli) != got.S || len(got.Resp) != got.S*got.N {
			t.Errorf("%s: S=%d N=%d, want shape %v", name, got.S, got.N, wantR.Shape)
			return
		}
		if i := closeTo(got.Stimuli, wantS.Data, binStimAtol, 0); i >= 0 {
			t.Errorf("%s: stimulus %d = %v, want %v", name, i, got.Stimuli[i], wantS.Data[i])
		}
		if i := closeTo(got.Resp, wantR.Data, binRespAtol, 0); i >= 0 {
			t.Errorf("%s: resp %d = %v, want %v", name, i, got.Resp[i], wantR.Data[i])
		}
	}
	for _, w := range []struct {
		width float64
		tag   string
	}{{6, "6"}, {10, "10"}, {7.5, "7p5"}, {45, "45"}, {400, "400"}} {
		got := v.Bin(w.width)
		check("bin "+w.tag, got, fixture(t, fx, "bin_"+w.tag+"_resp"), fixture(t, fx, "bin_"+w.tag+"_stimuli"))
	}
	check("tutorial3 bin 10", v.Bin(10).Tutorial3(), fixture(t, fx, "t3_bin10_resp"), fixture(t, fx, "t3_bin10_stimuli"))
	check("tutorial3", v.Tutorial3(), fixture(t, fx, "t3_resp"), fixture(t, fx, "t3_stimuli"))

	// Widths ≤ 1 leave the data as is, in a copy.
	c := v.Bin(1)
	if !reflect.DeepEqual(c, v) {
		t.Error("Bin(1) changed the data")
	}
	c.Resp[0]++
	if c.Resp[0] == v.Resp[0] {
		t.Error("Bin(1) returned shared storage")
	}
}

func TestStimulusClass(t *testing.T) {
	fx := fixtures(t)
	angles := fixture(t, fx, "class_angles").Data
	for _, c := range []int{1, 3, 7, 8, 20} {
		want := fixture(t, fx, "class_"+strconv.Itoa(c))
		for i, a := range angles {
			if got := StimulusClass(float64(a), c); float32(got) != want.Data[i] {
				t.Errorf("StimulusClass(%v, %d) = %d, want %v (np.digitize)", a, c, got, want.Data[i])
			}
		}
	}
	if got := StimulusClass(10, 0); got != -1 {
		t.Errorf("StimulusClass(10, 0) = %d, want -1", got)
	}
}
