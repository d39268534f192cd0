package report

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/analysis/figures"
	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/models"
	"github.com/vkneuro/vkneuro/tasks"
)

// The encoding sections: the Bonus tutorial's ConvFC encoding model fitted
// to the split V1 data (Section 3), and its evaluation as the field
// evaluates encoding models: per-neuron test correlation against the
// split-half reliability, FEVE, ridge baselines from the pixels and from
// each layer of the normative CNN, receptive fields, and the RSA with
// bootstrap intervals under the noise ceiling.

// encodeTask is the encoder's task and network, made (and an --encoder
// file loaded) before the long steps.
type encodeTask struct {
	task     *tasks.Task
	model    *models.Model
	fromFile bool
}

// featureSet is the activity one ridge baseline regresses V1 on.
type featureSet struct {
	Name string // "pixels" or a layer of the network
	X    []float32
	D    int
	*analysis.RidgeResult
	Summary ridgeSummary
}

// encoding is everything the encoding sections show.
type encoding struct {
	S, N, H, W int
	Stimuli    []float32 // the split data's orientations
	Source     string    // "trained" or the --encoder file
	Steps      int
	FinalLoss  float64
	Seconds    float64
	Losses     []float64
	TestSteps  []int
	TestLosses []float64
	Pred       []float32 // S×N
	Filters    []float32 // conv.weight after training, 6×7×7
	Scores     *analysis.EncodingScores
	Summary    analysis.EncodingSummary
	Examples   []int // neurons of the tutorial's random example panels
	Best       [3]int
	Features   []*featureSet
	// RSA on the split data's stimuli ≤ 180°: the CNN's layers against
	// the RDM of resp_test, and the noise ceiling RSA(train, test).
	RSAStimuli int
	RSALayers  []*layerResp
	Ceiling    *analysis.RSAInterval
	// RFUnits are the best-predicted neurons, RFs their gradient
	// receptive fields (len(RFUnits)×H×W).
	RFUnits []int
	RFs     []float32
	// Sensitivity maps of the CNN's SensLayer units (SensUnits×48×64)
	// over SensImages of the Tutorial 3 stimuli.
	SensLayer  string
	SensUnits  int
	SensImages int
	SensPatch  int
	Sens       []float64
}

// ridgeSummary is a feature set's summary.json entry.
type ridgeSummary struct {
	TestCorr analysis.Summary `json:"test_corr"`
	FEVE     analysis.Summary `json:"feve"`
	Alpha    analysis.Summary `json:"alpha"`
	Features int              `json:"features"`
}

// Encoding-section sizes: the neurons of the tutorial's example panels,
// the receptive fields drawn, and the sliding noise patch of the
// sensitivity maps over at most sensImages stimuli.
const (
	encodeExamples = 10
	rfNeurons      = 8
	sensPatch      = 8
	sensImages     = 36
)

// loadSplit reads (or generates) the split V1 data and, unless the
// encoding sections are off, makes the encoder and loads --encoder.
func (r *report) loadSplit(be kernels.Backend) (*encodeTask, error) {
	c := r.cfg
	o := tasks.Options{Network: tasks.Encode, Data: c.V1SplitPath, Seed: uint64(c.Seed), Neurons: c.SynthNeurons}
	v, desc, err := tasks.LoadV1Split(o)
	if err != nil {
		return nil, &InputError{InputV1Split, err}
	}
	r.split, r.splitDesc, r.splitFile = v, desc, c.V1SplitPath
	if c.EncodeSteps == 0 && c.EncoderPath == "" {
		r.encSkip = "encode-steps 0 and no --encoder"
		return nil, nil
	}
	if v.S < analysis.RidgeFolds {
		return nil, &InputError{InputV1Split, fmt.Errorf("%s: %d stimuli, want at least %d: the ridge baselines cross-validate over %d folds of stimuli",
			desc, v.S, analysis.RidgeFolds, analysis.RidgeFolds)}
	}
	task, err := tasks.NewEncode(v, desc, o)
	if err != nil {
		return nil, &InputError{InputV1Split, err}
	}
	m, err := task.Build(be)
	if err != nil {
		return nil, err
	}
	et := &encodeTask{task: task, model: m}
	if c.EncoderPath != "" {
		if err := m.LoadStateDictFile(c.EncoderPath); err != nil {
			m.Close()
			return nil, &InputError{InputEncoder, err}
		}
		et.fromFile = true
	}
	return et, nil
}

// ridgeLayers are the layers of net the ridge baselines use: the
// configured ones, which must exist, or every hidden layer of more than
// one unit.
func (r *report) ridgeLayers(net *models.Model) ([]string, error) {
	have := net.HiddenLayers()
	if r.cfg.RidgeLayers != nil {
		for _, l := range r.cfg.RidgeLayers {
			if !slices.Contains(have, l) {
				return nil, fmt.Errorf("--ridge-layers: the network has no layer %q (it has %s)", l, strings.Join(have, ", "))
			}
		}
		return r.cfg.RidgeLayers, nil
	}
	var out []string
	for _, mod := range net.Modules() {
		if mod.Name != "" && kernels.Numel(mod.Out) > 1 {
			out = append(out, mod.Name)
		}
	}
	return out, nil
}

// encoding trains (or takes) the encoder and evaluates it and the ridge
// baselines on the split data.
func (r *report) encoding(ctx context.Context, be kernels.Backend, et *encodeTask, net *models.Model, logf func(string, ...any)) error {
	c := r.cfg
	v := r.split
	S, N := v.S, v.N
	e := &encoding{S: S, N: N, H: et.task.Input[1], W: et.task.Input[2], Stimuli: v.Stimuli, Source: "trained"}
	m := et.model
	if et.fromFile {
		e.Source = c.EncoderPath
	} else {
		s := tasks.Settings{Epochs: c.EncodeSteps, LR: c.EncodeLR, Momentum: c.EncodeMomentum, L1: c.EncodeL1, L2: c.EncodeL2, Seed: uint64(c.Seed)}
		var metrics bytes.Buffer
		tr, err := et.task.Trainer(m, s, r.trainConfig(&metrics, et.task.Test))
		if err != nil {
			return fmt.Errorf("encoder: %w", err)
		}
		metrics.WriteString(tr.MetricsHeader())
		res, err := tr.Run(ctx)
		if err != nil {
			return fmt.Errorf("training the encoder: %w", err)
		}
		if l := float64(res.FinalLoss); math.IsNaN(l) || math.IsInf(l, 0) {
			return fmt.Errorf("training the encoder on %s: the loss diverged at step %d (%.4g, then %.4g); try a smaller --encode-lr than %g", r.splitDesc, res.DivergedAt, res.LossBefore, res.LossDiverged, c.EncodeLR)
		}
		e.Steps, e.FinalLoss, e.Seconds = res.Steps, float64(res.FinalLoss), res.Seconds
		mt, err := tasks.ParseMetrics("encoder metrics", &metrics)
		if err != nil {
			return err
		}
		e.Losses, e.TestSteps, e.TestLosses = mt.Loss, mt.TestSteps, mt.TestLoss
		r.timings["encode_train_s"] = res.Seconds
		logf("report: trained the encoder: %d steps in %.2f s, final loss %.4g", res.Steps, res.Seconds, res.FinalLoss)
	}
	t0 := time.Now()
	var err error
	if e.Pred, err = m.Forward(et.task.Train.X); err != nil {
		return err
	}
	if e.Scores, err = analysis.ScoreEncoding(e.Pred, v.RespTrain, v.RespTest, S, N); err != nil {
		return fmt.Errorf("encoder scores: %w", err)
	}
	if e.Summary, err = e.Scores.Summary(); err != nil {
		return fmt.Errorf("encoder scores on %s: %w", r.splitDesc, err)
	}
	if e.Best[0], e.Best[1], e.Best[2], err = analysis.BestMedianWorst(e.Scores.TestCorr); err != nil {
		return fmt.Errorf("encoder scores on %s: %w", r.splitDesc, err)
	}
	sd, err := m.StateDict()
	if err != nil {
		return err
	}
	e.Filters = sd["conv.weight"].Data
	rng := rand.New(rand.NewPCG(uint64(c.Seed), 5))
	e.Examples = rng.Perm(N)[:min(encodeExamples, N)]
	logf("report: encoder: median test correlation %.3f, FEVE %.3f (%d neurons)", e.Summary.TestCorr.Median, e.Summary.FEVE.Median, e.Summary.FEVE.N)

	if err := r.ridgeBaselines(be, e, et, net, logf); err != nil {
		return err
	}
	if err := r.splitRSA(be, e, net); err != nil {
		return err
	}
	if err := r.receptiveFields(e, et, net); err != nil {
		return err
	}
	r.timings["encode_eval_s"] = since(t0)
	r.enc = e
	return nil
}

// ridgeBaselines fits RidgeCV from the encode stimuli's pixels and from
// each ridge layer of the CNN for the same orientations, rendered as the
// CNN's 48×64 gratings.
func (r *report) ridgeBaselines(be kernels.Backend, e *encoding, et *encodeTask, net *models.Model, logf func(string, ...any)) error {
	v := r.split
	layers, err := r.ridgeLayers(net)
	if err != nil {
		return err
	}
	sets := []*featureSet{{Name: "pixels", X: et.task.Train.X, D: e.H * e.W}}
	pix, _, _ := data.Gratings(tasks.EncodeAngles(v.S), data.GratingOptions{})
	acts, err := activity(net, pix, layers)
	if err != nil {
		return err
	}
	for _, a := range acts {
		sets = append(sets, &featureSet{Name: a.Name, X: a.Resp, D: a.N})
	}
	gemm := analysis.BackendGEMM(be)
	for _, fs := range sets {
		t0 := time.Now()
		res, err := analysis.RidgeCV(fs.X, v.S, fs.D, v.RespTrain, v.RespTest, v.N, analysis.RidgeOptions{Alphas: r.cfg.RidgeAlphas, GEMM: gemm})
		if err != nil {
			return fmt.Errorf("ridge from %s on %s: %w", fs.Name, r.splitDesc, err)
		}
		fs.RidgeResult = res
		fs.Summary.Features = fs.D
		for _, s := range []struct {
			x   []float64
			dst *analysis.Summary
		}{{res.TestCorr, &fs.Summary.TestCorr}, {res.FEVE, &fs.Summary.FEVE}, {res.Alpha, &fs.Summary.Alpha}} {
			if *s.dst, err = analysis.Summarize(s.x); err != nil {
				return fmt.Errorf("ridge from %s on %s: %w", fs.Name, r.splitDesc, err)
			}
		}
		r.timings["ridge_"+fs.Name+"_s"] = since(t0)
		logf("report: ridge from %-6s (%d features): median test correlation %.3f, FEVE %.3f", fs.Name, fs.D, fs.Summary.TestCorr.Median, fs.Summary.FEVE.Median)
	}
	e.Features = sets
	return nil
}

// splitRSA compares the CNN's layers with the split data's resp_test RDM
// over its stimuli ≤ 180° (shifted by −90°, as Tutorial 3 does), with
// bootstrap intervals, and computes the noise ceiling RSA(resp_train,
// resp_test) with its own interval.
func (r *report) splitRSA(be kernels.Backend, e *encoding, net *models.Model) error {
	v := r.split
	var keep []int
	var angles []float64
	for s, st := range v.Stimuli {
		if st <= 180 {
			keep, angles = append(keep, s), append(angles, float64(st)-90)
		}
	}
	S := len(keep)
	if S < 3 {
		return &InputError{InputV1Split, fmt.Errorf("%s: %d stimuli ≤ 180°, want at least 3 for an RSA", r.splitDesc, S)}
	}
	train, test := tasks.Rows(v.RespTrain, v.N, keep), tasks.Rows(v.RespTest, v.N, keep)
	ceil, rdmTrain, rdmTest, err := analysis.RSANoiseCeiling(train, test, S, v.N, analysis.BackendGEMM(be))
	if err != nil {
		return fmt.Errorf("RSA noise ceiling of %s: %w", r.splitDesc, err)
	}
	if e.Ceiling, err = analysis.RSABootstrap(rdmTrain, rdmTest, S, analysis.BootstrapOptions{Resamples: r.cfg.Bootstrap, Seed: uint64(r.cfg.Seed)}); err != nil {
		return fmt.Errorf("RSA noise ceiling of %s: %w", r.splitDesc, err)
	}
	e.Ceiling.RSA = ceil
	pix, _, _ := data.Gratings(angles, data.GratingOptions{})
	if e.RSALayers, err = activity(net, pix, net.HiddenLayers()); err != nil {
		return err
	}
	e.RSAStimuli = S
	return r.compare(be, rdmTest, S, e.RSALayers, "split_")
}

// receptiveFields computes the gradient receptive fields of the best
// predicted neurons (the encoder is linear in its input, so the
// gradient is its effective filter at any image) and the sensitivity
// maps of the CNN's last hidden layer of more than one unit (fc).
func (r *report) receptiveFields(e *encoding, et *encodeTask, net *models.Model) error {
	e.RFUnits = bestNeurons(e.Scores.TestCorr, rfNeurons)
	img := et.task.Train.X[:e.H*e.W]
	var err error
	if e.RFs, err = analysis.GradientRFs(et.model.InputGradient, img, e.N, e.RFUnits); err != nil {
		return fmt.Errorf("encoder receptive fields: %w", err)
	}
	e.SensLayer = sensitivityLayer(net)
	if e.SensLayer == "" {
		return nil
	}
	step := max(1, (r.S+sensImages-1)/sensImages)
	var imgs []float32
	for s := 0; s < r.S; s += step {
		imgs = append(imgs, r.images[s*r.imgH*r.imgW:(s+1)*r.imgH*r.imgW]...)
		e.SensImages++
	}
	f := func(x []float32) ([]float32, error) { a, _, err := net.Hidden(x, e.SensLayer); return a, err }
	e.SensPatch = sensPatch
	e.Sens, e.SensUnits, err = analysis.SensitivityMaps(f, imgs, e.SensImages, 1, r.imgH, r.imgW, analysis.SensitivityOptions{Patch: sensPatch, Seed: uint64(r.cfg.Seed)})
	if err != nil {
		return fmt.Errorf("sensitivity maps of %s: %w", e.SensLayer, err)
	}
	return nil
}

// bestNeurons are the indices of the k largest finite scores, largest
// first (the first index on ties).
func bestNeurons(score []float64, k int) []int {
	var idx []int
	for i, v := range score {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(score[b], score[a]) })
	return idx[:min(k, len(idx))]
}

// sensitivityLayer is the layer whose units' sensitivity maps the report
// draws: fc for Tutorial 3's CNN; for a user's network, its last named
// module of more than one unit before the output.
func sensitivityLayer(net *models.Model) string {
	mods := net.Modules()
	for i := len(mods) - 2; i >= 0; i-- {
		if m := mods[i]; m.Name != "" && kernels.Numel(m.Out) > 1 {
			return m.Name
		}
	}
	return ""
}

// writeEncodingNPZ writes the per-neuron scores and the feature matrices
// of the ridge baselines to DIR/encoding.npz (float32, as data.WriteNPZ
// writes every array).
func (r *report) writeEncodingNPZ() error {
	e := r.enc
	arrs := map[string]*data.Array{}
	vec := func(name string, x []float64) {
		arrs[name] = &data.Array{Shape: []int{len(x)}, Data: float32s(x)}
	}
	vec("test_corr", e.Scores.TestCorr)
	vec("reliability", e.Scores.Reliability)
	vec("normalized_corr", e.Scores.NormCorr)
	vec("feve", e.Scores.FEVE)
	vec("stimuli", figures.Float64s(e.Stimuli))
	arrs["prediction"] = &data.Array{Shape: []int{e.S, e.N}, Data: e.Pred}
	for _, fs := range e.Features {
		vec("ridge_"+fs.Name+"_alpha", fs.Alpha)
		vec("ridge_"+fs.Name+"_test_corr", fs.TestCorr)
		vec("ridge_"+fs.Name+"_feve", fs.FEVE)
		arrs["features_"+fs.Name] = &data.Array{Shape: []int{e.S, fs.D}, Data: fs.X}
	}
	if err := data.WriteNPZ(r.outPath("encoding.npz"), arrs); err != nil {
		return fmt.Errorf("encoding.npz: %w", err)
	}
	return nil
}

func float32s(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}
