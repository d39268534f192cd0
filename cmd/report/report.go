package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/internal/atomicfile"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/models"
)

// layerResp is one population's responses to the Tutorial 3 stimuli.
type layerResp struct {
	Name  string    // "V1", "conv", "pool", "fc", "out"
	Resp  []float32 // S×N
	N     int
	RDM   []float32 // S×S
	RSA   *float64  // vs V1; nil for V1 itself or when undefined
	RSAer string    // why RSA is undefined
}

// decodeResult is the Bonus tutorial's orientation decoder on V1.
type decodeResult struct {
	Neurons, Hidden, Classes int
	Steps                    int
	LR, L2, L1               float64
	TrainStimuli, TestStim   int
	TrainAccuracy, TestAcc   float64
	FinalLoss                float64
	Seconds                  float64
	SmoothingSigmaDeg        float64
	WIn                      []float32 // hidden×WInCols: columns sorted by preferred orientation, block-averaged
	WInCols                  int
	WInLimit                 float64 // colour limit of the figure
	Losses                   []float64
}

// report is everything the figures and the summary are made from.
type report struct {
	cfg     *config
	backend string
	device  string

	v1Source, v1File string
	v1Synthetic      bool
	v1FileStimuli    int
	v1Converted      []string

	modelSource    string // "file" or "trained"
	modelFile      string
	savedModel     string // where a trained model was saved
	testAccuracy   float64
	trainSteps     int
	trainFinalLoss float64
	trainSeconds   float64

	losses       []float64 // training loss per step (nil: none to plot)
	lossesSource string

	stim   []float32 // Tutorial 3 orientations (≤ 180° shifted by −90°), S
	S      int
	imgH   int
	imgW   int
	images []float32 // S×H×W gratings

	layers []*layerResp // V1 first, then the network's layers in forward order

	filters []float32 // conv.weight [6,1,7,7] after training

	tsne          map[string][]float64 // name → S×2
	tsneKL        map[string]float64
	tsnePerplex   float64
	tuningUnits   map[string][]int
	decode        *decodeResult
	decodeSkipped string

	timings map[string]float64
	start   time.Time
}

// Tutorial 3's grating size at res 0.1.
const gratingH, gratingW = 48, 64

func generate(ctx context.Context, c *config, be kernels.Backend, stdout, stderr io.Writer) error {
	r := &report{cfg: c, backend: be.Name(), device: be.Device(), timings: map[string]float64{}, start: time.Now()}
	logf := func(format string, a ...any) { fmt.Fprintf(stdout, format+"\n", a...) }
	logf("report: backend %s (%s)", r.backend, r.device)

	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return fmt.Errorf("--out: %w", err)
	}

	v1, err := r.loadV1()
	if err != nil {
		return err
	}
	logf("report: V1 %s: %d stimuli × %d neurons", r.v1Source, v1.S, v1.N)

	// Read a --metrics file before the long steps, so that a bad file
	// fails fast.
	if c.metricsPath != "" {
		l, err := readMetrics(c.metricsPath)
		if err != nil {
			return err
		}
		r.losses, r.lossesSource = l, c.metricsPath
	}

	net, err := r.loadOrTrain(ctx, be, logf)
	if err != nil {
		return err
	}
	defer net.Close()

	if err := r.hiddenActivity(net, v1); err != nil {
		return err
	}
	logf("report: hidden activity of %d layers for %d gratings", len(r.layers)-1, r.S)

	if err := r.rdms(be); err != nil {
		return err
	}
	for _, l := range r.layers[1:] {
		if l.RSA != nil {
			logf("report: RSA V1 vs %-4s = %.4f", l.Name, *l.RSA)
		} else {
			logf("report: RSA V1 vs %-4s undefined (%s)", l.Name, l.RSAer)
		}
	}

	if err := r.embeddings(); err != nil {
		return err
	}
	r.pickTuningUnits()

	if c.decodeSteps > 0 {
		if err := r.decoder(ctx, be, v1); err != nil {
			return err
		}
		logf("report: decoder: %d steps in %.2f s, test accuracy %.3f", r.decode.Steps, r.decode.Seconds, r.decode.TestAcc)
	} else {
		r.decodeSkipped = "--decode-steps 0"
	}

	figs, err := r.figures()
	if err != nil {
		return err
	}
	r.timings["total_s"] = time.Since(r.start).Seconds()
	if err := r.writeSummary(figs); err != nil {
		return err
	}
	if err := r.writePages(figs); err != nil {
		return err
	}
	logf("report: wrote %s (%d figures) in %.1f s", c.out, len(figs), r.timings["total_s"])
	return nil
}

func (r *report) loadV1() (*data.V1, error) {
	c := r.cfg
	if c.v1Path != "" {
		v, err := data.LoadV1(c.v1Path)
		if err != nil {
			return nil, fmt.Errorf("--v1: %w", err)
		}
		r.v1Source, r.v1File, r.v1Synthetic = "file", c.v1Path, v.Synthetic
		r.v1FileStimuli, r.v1Converted = v.S, v.Converted
		return v, nil
	}
	t0 := time.Now()
	v := data.SyntheticV1(data.SynthOptions{Neurons: c.synthNeurons, Stimuli: c.synthStimuli, Seed: c.seed})
	r.timings["synthetic_v1_s"] = time.Since(t0).Seconds()
	r.v1Source, r.v1Synthetic, r.v1FileStimuli = "synthetic", true, v.S
	return v, nil
}

// loadOrTrain returns the normative CNN from --model, or trains one with
// the tutorial's recipe and saves it as DIR/model.npz.
func (r *report) loadOrTrain(ctx context.Context, be kernels.Backend, logf func(string, ...any)) (*models.Model, error) {
	c := r.cfg
	net, err := models.NewNormative(be, gratingH, gratingW, uint64(c.seed))
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			net.Close()
		}
	}()
	test, _, _ := models.NormativeDataset(models.NormativeTestAngles())
	if c.modelPath != "" {
		if err := net.LoadStateDictFile(c.modelPath); err != nil {
			return nil, fmt.Errorf("--model: %w", err)
		}
		r.modelSource, r.modelFile = "file", c.modelPath
	} else {
		r.modelSource = "trained"
		train, _, _ := models.NormativeDataset(models.NormativeTrainAngles(c.trainSamples, uint64(c.seed)))
		if err := net.SetHyper(models.Hyper{LR: float32(c.lr), Momentum: float32(c.momentum)}); err != nil {
			return nil, err
		}
		var metrics bytes.Buffer
		metrics.WriteString(models.MetricsHeader)
		tr, err := models.NewTrainer(net, train, models.TrainConfig{Batch: c.batch, Seed: uint64(c.seed), Metrics: &metrics})
		if err != nil {
			return nil, err
		}
		tr.Config.Steps = c.epochs * tr.BatchesPerEpoch()
		res, err := tr.Run(ctx)
		if err != nil {
			return nil, fmt.Errorf("training the normative CNN: %w", err)
		}
		r.trainSteps, r.trainFinalLoss, r.trainSeconds = res.Steps, float64(res.FinalLoss), res.Seconds
		r.timings["train_s"] = res.Seconds
		logf("report: trained the CNN: %d steps in %.2f s, final loss %.3g", res.Steps, res.Seconds, res.FinalLoss)
		r.savedModel = "model.npz"
		if err := net.SaveStateDict(outPath(c, r.savedModel)); err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(outPath(c, "train_metrics.csv"), metrics.Bytes(), pagePerm); err != nil {
			return nil, err
		}
		if r.losses == nil {
			l, err := parseMetrics("training metrics", &metrics)
			if err != nil {
				return nil, err
			}
			r.losses, r.lossesSource = l, "training on the fly (train_metrics.csv)"
		}
	}
	ev, err := net.Evaluate(test)
	if err != nil {
		return nil, err
	}
	r.testAccuracy = ev.Accuracy
	logf("report: CNN (%s) test accuracy %.3f on %d gratings", r.modelSource, ev.Accuracy, ev.N)
	sd, err := net.StateDict()
	if err != nil {
		return nil, err
	}
	r.filters = sd["conv.weight"].Data
	ok = true
	return net, nil
}

// hiddenActivity renders grating(ori) for each Tutorial 3 stimulus and
// records each layer's hidden activity.
func (r *report) hiddenActivity(net *models.Model, v1 *data.V1) error {
	t3 := v1.Tutorial3()
	if t3.S < 3 {
		return fmt.Errorf("V1 data has %d stimuli ≤ 180°, want at least 3 for an RSA", t3.S)
	}
	r.stim, r.S = t3.Stimuli, t3.S
	angles := make([]float64, t3.S)
	for i, s := range t3.Stimuli {
		angles[i] = float64(s)
	}
	pix, h, w := data.Gratings(angles, data.GratingOptions{})
	if h != gratingH || w != gratingW {
		return fmt.Errorf("gratings are %d×%d, want %d×%d", h, w, gratingH, gratingW)
	}
	r.images, r.imgH, r.imgW = pix, h, w
	r.layers = []*layerResp{{Name: "V1", Resp: t3.Resp, N: t3.N}}
	t0 := time.Now()
	for _, name := range net.HiddenLayers() {
		act, f, err := net.Hidden(pix, name)
		if err != nil {
			return err
		}
		r.layers = append(r.layers, &layerResp{Name: name, Resp: act, N: f})
	}
	r.timings["hidden_s"] = time.Since(t0).Seconds()
	return nil
}

// rdms computes the RDM of every population on the backend's GEMM and the
// RSA of each layer with V1.
func (r *report) rdms(be kernels.Backend) error {
	gemm := analysis.BackendGEMM(be)
	for _, l := range r.layers {
		t0 := time.Now()
		rdm, err := analysis.RDM(l.Resp, r.S, l.N, gemm)
		if err != nil {
			return fmt.Errorf("RDM of %s: %w", l.Name, err)
		}
		r.timings["rdm_"+l.Name+"_s"] = time.Since(t0).Seconds()
		l.RDM = rdm
	}
	v1 := r.layers[0]
	for _, l := range r.layers[1:] {
		rho, err := analysis.RSA(v1.RDM, l.RDM, r.S)
		switch {
		case err != nil && l.N == 1:
			// The tutorial's RDM z-scores each stimulus across units: a
			// single unit has no pattern, every dissimilarity is 1.
			l.RSAer = "a layer of one unit has no response pattern across units, so its RDM is constant"
		case err != nil:
			l.RSAer = err.Error()
		default:
			l.RSA = &rho
		}
	}
	return nil
}

// tsneLayers are the populations Tutorial 3 embeds (its resp_dict).
var tsneLayers = []string{"V1", "pool", "fc"}

func (r *report) layer(name string) *layerResp {
	for _, l := range r.layers {
		if l.Name == name {
			return l
		}
	}
	return nil
}

// embeddings runs the tutorial's PCA to ≤ 20 components then t-SNE.
func (r *report) embeddings() error {
	r.tsne, r.tsneKL = map[string][]float64{}, map[string]float64{}
	// scikit-learn's default perplexity 30 needs more than 30 points;
	// smaller stimulus sets (tests, coarse bins) use a third of them.
	r.tsnePerplex = min(30, float64(r.S-1)/3)
	t0 := time.Now()
	for _, name := range tsneLayers {
		l := r.layer(name)
		if l == nil {
			return fmt.Errorf("the network has no %q layer to embed", name)
		}
		pc, err := analysis.PCA(l.Resp, r.S, l.N, min(20, l.N, r.S))
		if err != nil {
			return fmt.Errorf("PCA of %s: %w", name, err)
		}
		y, kl, err := analysis.TSNE(pc.Scores, r.S, pc.K, analysis.TSNEOptions{Perplexity: r.tsnePerplex, Iterations: r.cfg.tsneIterations})
		if err != nil {
			return fmt.Errorf("t-SNE of %s: %w", name, err)
		}
		r.tsne[name] = y
		if len(kl) > 0 {
			r.tsneKL[name] = kl[len(kl)-1]
		}
	}
	r.timings["pca_tsne_s"] = time.Since(t0).Seconds()
	return nil
}

// pickTuningUnits draws the sample neurons and units of the tuning-curve
// figure (the tutorial's np.random.choice(N, 3, replace=False)), from the
// units whose response varies over stimuli where there are enough: a
// ReLU layer often has units that are silent for every grating.
func (r *report) pickTuningUnits() {
	rng := rand.New(rand.NewPCG(uint64(r.cfg.seed), 3))
	r.tuningUnits = map[string][]int{}
	for _, l := range r.layers {
		var varying []int
		for n := 0; n < l.N; n++ {
			v0 := l.Resp[n]
			for s := 1; s < r.S; s++ {
				if l.Resp[s*l.N+n] != v0 {
					varying = append(varying, n)
					break
				}
			}
		}
		pool := varying
		if len(pool) < min(r.cfg.tuningUnits, l.N) {
			pool = make([]int, l.N)
			for i := range pool {
				pool[i] = i
			}
		}
		k := min(r.cfg.tuningUnits, len(pool))
		perm := rng.Perm(len(pool))[:k]
		units := make([]int, k)
		for i, p := range perm {
			units[i] = pool[p]
		}
		slices.Sort(units)
		r.tuningUnits[l.Name] = units
	}
}

// decoder trains the Bonus tutorial's DeepNetSoftmax on 60% of the full
// V1 data (all orientations over 360°, classes of 360/C degrees) and sorts
// its input weights by each neuron's preferred orientation.
func (r *report) decoder(ctx context.Context, be kernels.Backend, v1 *data.V1) error {
	c := r.cfg
	S, N := v1.S, v1.N
	nTrain := int(0.6 * float64(S))
	if nTrain < 1 || nTrain >= S {
		return fmt.Errorf("decoder: %d V1 stimuli cannot be split 60/40", S)
	}
	rng := rand.New(rand.NewPCG(uint64(c.seed), 4))
	perm := rng.Perm(S)
	subset := func(idx []int) models.Dataset {
		d := models.Dataset{X: make([]float32, len(idx)*N), T: make([]float32, len(idx)), S: len(idx)}
		for i, s := range idx {
			copy(d.X[i*N:(i+1)*N], v1.Resp[s*N:(s+1)*N])
			cl := data.StimulusClass(float64(v1.Stimuli[s]), c.decodeClasses)
			d.T[i] = float32(min(max(cl, 0), c.decodeClasses-1))
		}
		return d
	}
	train, test := subset(perm[:nTrain]), subset(perm[nTrain:])

	dec, err := models.NewDecode(be, models.Softmax, N, c.decodeHidden, c.decodeClasses, uint64(c.seed))
	if err != nil {
		return fmt.Errorf("decoder: %w", err)
	}
	defer dec.Close()
	if err := dec.SetHyper(models.Hyper{LR: float32(c.decodeLR), L2: float32(c.decodeL2), L1: float32(c.decodeL1)}); err != nil {
		return fmt.Errorf("decoder: %w", err)
	}
	d := &decodeResult{Neurons: N, Hidden: c.decodeHidden, Classes: c.decodeClasses, Steps: c.decodeSteps,
		LR: c.decodeLR, L2: c.decodeL2, L1: c.decodeL1, TrainStimuli: train.S, TestStim: test.S}
	tr, err := models.NewTrainer(dec, train, models.TrainConfig{Steps: c.decodeSteps, Seed: uint64(c.seed),
		Progress: func(_ int, loss float32) { d.Losses = append(d.Losses, float64(loss)) }})
	if err != nil {
		return fmt.Errorf("decoder: %w", err)
	}
	res, err := tr.Run(ctx)
	if err != nil {
		return fmt.Errorf("training the decoder: %w", err)
	}
	d.FinalLoss, d.Seconds = float64(res.FinalLoss), res.Seconds
	r.timings["decode_train_s"] = res.Seconds
	evTest, err := dec.Evaluate(test)
	if err != nil {
		return err
	}
	evTrain, err := dec.Evaluate(train)
	if err != nil {
		return err
	}
	d.TestAcc, d.TrainAccuracy = evTest.Accuracy, evTrain.Accuracy

	// Preferred orientation: the bonus tutorial smooths 1° bins with
	// σ = 5 bins; keep σ = 5° for other bin widths. The orientation axis
	// is a circle, so the smoothing wraps around.
	d.SmoothingSigmaDeg = 5
	sigma := 5 * float64(S) / 360
	pref, err := analysis.PreferredStimulus(v1.Resp, S, N, v1.Stimuli, sigma, analysis.Wrap)
	if err != nil {
		return fmt.Errorf("decoder: preferred orientation: %w", err)
	}
	sd, err := dec.StateDict()
	if err != nil {
		return err
	}
	w := sd["in_layer.weight"]
	sorted, err := analysis.PermuteColumns(w.Data, c.decodeHidden, N, analysis.SortByPreference(pref))
	if err != nil {
		return err
	}
	// A figure shows at most maxWeightCols columns: average neighbours in
	// preferred-orientation order here, so that the colour limits can be
	// taken from what is drawn.
	d.WIn, d.WInCols = blockColumns(sorted, c.decodeHidden, N, maxWeightCols)
	d.WInLimit = absQuantile(d.WIn, 0.99)
	r.decode = d
	return nil
}

// maxWeightCols bounds the columns of the decoder-weight figure.
const maxWeightCols = 1000

// blockColumns averages the columns of w (rows×cols) over consecutive
// blocks of ⌈cols/maxCols⌉ (the last block may be smaller).
func blockColumns(w []float32, rows, cols, maxCols int) ([]float32, int) {
	b := (cols + maxCols - 1) / maxCols
	if b <= 1 {
		return w, cols
	}
	oc := (cols + b - 1) / b
	out := make([]float32, rows*oc)
	for r := 0; r < rows; r++ {
		for j := 0; j < oc; j++ {
			lo, hi := j*b, min((j+1)*b, cols)
			var sum float64
			for c := lo; c < hi; c++ {
				sum += float64(w[r*cols+c])
			}
			out[r*oc+j] = float32(sum / float64(hi-lo))
		}
	}
	return out, oc
}

// absQuantile returns the q-quantile of |x|, the colour limit that keeps a
// few outliers from washing out a weight map; never 0.
func absQuantile(x []float32, q float64) float64 {
	a := make([]float64, len(x))
	for i, v := range x {
		a[i] = math.Abs(float64(v))
	}
	slices.Sort(a)
	v := a[min(len(a)-1, int(q*float64(len(a))))]
	if v == 0 {
		v = a[len(a)-1]
	}
	if v == 0 {
		v = 1
	}
	return v
}

// readMetrics reads a step,loss,epoch CSV (models.MetricsHeader).
func readMetrics(path string) ([]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--metrics: %w", err)
	}
	defer f.Close()
	l, err := parseMetrics(path, bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("--metrics: %w", err)
	}
	return l, nil
}

func parseMetrics(name string, rd io.Reader) ([]float64, error) {
	cr := csv.NewReader(rd)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: reading the header: %w", name, err)
	}
	col := slices.Index(head, "loss")
	if col < 0 {
		return nil, fmt.Errorf("%s: header %q has no \"loss\" column (want %q)", name, head, models.MetricsHeader[:len(models.MetricsHeader)-1])
	}
	var losses []float64
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if col >= len(rec) {
			return nil, fmt.Errorf("%s: line %d has %d fields, no loss column %d", name, line, len(rec), col+1)
		}
		v, err := strconv.ParseFloat(rec[col], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: line %d: loss %q is not a finite number", name, line, rec[col])
		}
		losses = append(losses, v)
	}
	if len(losses) == 0 {
		return nil, fmt.Errorf("%s: no loss rows after the header", name)
	}
	return losses, nil
}

func outPath(c *config, name string) string { return c.out + string(os.PathSeparator) + name }
