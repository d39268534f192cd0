package report

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/data"
	"github.com/vkneuro/vkneuro/internal/atomicfile"
	"github.com/vkneuro/vkneuro/kernels"
	"github.com/vkneuro/vkneuro/models"
	"github.com/vkneuro/vkneuro/tasks"
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
	cfg     *Config
	backend string
	device  string

	v1Source, v1File string
	v1Desc           string // the V1 data in errors: the file, or which synthetic set
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

	// filters are the weights of the network's first convolution after
	// training ([6,1,7,7] conv.weight for the tutorial's CNN), of shape
	// filterShape, from module filterModule; nil without one.
	filters      []float32
	filterShape  []int
	filterModule string
	tsneLayers   []string // the populations embedded by t-SNE
	arch         string   // the network, as nn.Sequential's arguments

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

// Generate computes the report c describes on be and writes it to c.Out:
// the figures (PNG), summary.json, index.html and report.md, and, when it
// trains the network, model.npz and train_metrics.csv. It returns what
// summary.json holds. Unusable input files give an *InputError.
func Generate(ctx context.Context, c Config, be kernels.Backend) (*Summary, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	r := &report{cfg: &c, backend: be.Name(), device: be.Device(), timings: map[string]float64{}, start: time.Now()}
	logf := c.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	logf("report: backend %s (%s)", r.backend, r.device)

	if err := os.MkdirAll(c.Out, 0o755); err != nil {
		return nil, err
	}
	v1, err := r.loadV1()
	if err != nil {
		return nil, err
	}
	logf("report: V1 %s: %d stimuli × %d neurons", r.v1Source, v1.S, v1.N)

	// Check every input before the long steps, so that a bad file fails
	// fast: the metrics file, and the decoder's targets.
	if c.MetricsPath != "" {
		l, err := readMetrics(c.MetricsPath)
		if err != nil {
			return nil, &InputError{InputMetrics, err}
		}
		r.losses, r.lossesSource = l, c.MetricsPath
	}
	var dec *tasks.Task
	if c.DecodeSteps > 0 {
		if dec, err = r.decodeTask(v1); err != nil {
			return nil, err
		}
	} else {
		r.decodeSkipped = "decode-steps 0"
	}

	net, err := r.loadOrTrain(ctx, be, logf)
	if err != nil {
		return nil, err
	}
	defer net.Close()

	if err := r.hiddenActivity(net, v1); err != nil {
		return nil, err
	}
	logf("report: hidden activity of %d layers for %d gratings", len(r.layers)-1, r.S)

	if err := r.rdms(be); err != nil {
		return nil, err
	}
	for _, l := range r.layers[1:] {
		if l.RSA != nil {
			logf("report: RSA V1 vs %-4s = %.4f", l.Name, *l.RSA)
		} else {
			logf("report: RSA V1 vs %-4s undefined (%s)", l.Name, l.RSAer)
		}
	}

	if err := r.embeddings(); err != nil {
		return nil, err
	}
	r.pickTuningUnits()

	if dec != nil {
		if err := r.decoder(ctx, be, dec, v1); err != nil {
			return nil, err
		}
		logf("report: decoder: %d steps in %.2f s, test accuracy %.3f", r.decode.Steps, r.decode.Seconds, r.decode.TestAcc)
	}

	figs, err := r.figures()
	if err != nil {
		return nil, err
	}
	r.timings["total_s"] = time.Since(r.start).Seconds()
	s := r.summary(figs)
	if err := r.writeSummary(s); err != nil {
		return nil, err
	}
	if err := r.writePages(figs); err != nil {
		return nil, err
	}
	logf("report: wrote %s (%d figures) in %.1f s", c.Out, len(figs), r.timings["total_s"])
	return s, nil
}

// options are the tasks' options of this report: its seed and V1 data.
func (r *report) options() tasks.Options {
	c := r.cfg
	return tasks.Options{Data: c.V1Path, Seed: uint64(c.Seed), Neurons: c.SynthNeurons, SynthStimuli: c.SynthStimuli}
}

func (r *report) loadV1() (*data.V1, error) {
	c := r.cfg
	t0 := time.Now()
	v, desc, err := tasks.LoadV1(r.options())
	if err != nil {
		return nil, &InputError{InputV1, err}
	}
	r.v1Desc = desc
	if c.V1Path != "" {
		r.v1Source, r.v1File, r.v1Synthetic = "file", c.V1Path, v.Synthetic
		r.v1FileStimuli, r.v1Converted = v.S, v.Converted
		return v, nil
	}
	r.timings["synthetic_v1_s"] = time.Since(t0).Seconds()
	r.v1Source, r.v1Synthetic, r.v1FileStimuli = "synthetic", true, v.S
	return v, nil
}

// loadOrTrain returns the normative CNN from ModelPath, or trains one
// with the tutorial's recipe and saves it as DIR/model.npz.
func (r *report) loadOrTrain(ctx context.Context, be kernels.Backend, logf func(string, ...any)) (*models.Model, error) {
	c := r.cfg
	o := r.options()
	o.Network, o.Data, o.NTrain, o.Arch = tasks.Normative, "", c.TrainSamples, c.Arch
	task, err := tasks.Load(o)
	if err != nil {
		return nil, err
	}
	net, err := task.Build(be)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			net.Close()
		}
	}()
	if c.ModelPath != "" {
		if err := net.LoadStateDictFile(c.ModelPath); err != nil {
			return nil, &InputError{InputModel, err}
		}
		r.modelSource, r.modelFile = "file", c.ModelPath
	} else {
		r.modelSource = "trained"
		var metrics bytes.Buffer
		metrics.WriteString(models.MetricsHeader)
		s := tasks.Settings{Epochs: c.Epochs, Batch: c.Batch, LR: c.LR, Momentum: c.Momentum, Seed: uint64(c.Seed)}
		tr, err := task.Trainer(net, s, models.TrainConfig{Metrics: &metrics})
		if err != nil {
			return nil, err
		}
		res, err := tr.Run(ctx)
		if err != nil {
			return nil, fmt.Errorf("training the normative CNN: %w", err)
		}
		r.trainSteps, r.trainFinalLoss, r.trainSeconds = res.Steps, float64(res.FinalLoss), res.Seconds
		r.timings["train_s"] = res.Seconds
		logf("report: trained the CNN: %d steps in %.2f s, final loss %.3g", res.Steps, res.Seconds, res.FinalLoss)
		r.savedModel = "model.npz"
		if err := net.SaveStateDict(r.outPath(r.savedModel)); err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(r.outPath("train_metrics.csv"), metrics.Bytes(), pagePerm); err != nil {
			return nil, err
		}
		if r.losses == nil {
			l, err := tasks.ParseLosses("training metrics", &metrics)
			if err != nil {
				return nil, err
			}
			r.losses, r.lossesSource = l, "training on the fly (train_metrics.csv)"
		}
	}
	ev, _, err := task.Evaluate(net)
	if err != nil {
		return nil, err
	}
	r.testAccuracy = ev.Value
	logf("report: CNN (%s) test accuracy %.3f on %d gratings", r.modelSource, ev.Value, ev.Samples)
	sd, err := net.StateDict()
	if err != nil {
		return nil, err
	}
	// The filters of the network's first convolution (the tutorial's
	// conv layer, or a --arch network's first Conv2d), if it has one.
	for _, mod := range net.Modules() {
		if _, isConv := mod.Layer.(models.Conv2d); isConv && mod.Name != "" {
			w := sd[mod.Name+".weight"]
			r.filters, r.filterShape, r.filterModule = w.Data, w.Shape, mod.Name
			break
		}
	}
	r.tsneLayers = tsneLayersOf(net)
	r.arch = net.Arch()
	ok = true
	return net, nil
}

// tsneLayersOf are the populations the report embeds: Tutorial 3's (its
// resp_dict: V1, pool and fc) for its CNN; for a user's network, V1 and
// its last two modules of more than one unit before the output, which
// for the tutorial's CNN are pool and fc.
func tsneLayersOf(net *models.Model) []string {
	mods := net.Modules()
	var picked []string
	for i := len(mods) - 2; i >= 0 && len(picked) < 2; i-- {
		if m := mods[i]; m.Name != "" && kernels.Numel(m.Out) > 1 {
			picked = append([]string{m.Name}, picked...)
		}
	}
	return append([]string{"V1"}, picked...)
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
	for _, name := range r.tsneLayers {
		l := r.layer(name)
		if l == nil {
			return fmt.Errorf("the network has no %q layer to embed", name)
		}
		pc, err := analysis.PCA(l.Resp, r.S, l.N, min(20, l.N, r.S))
		if err != nil {
			return fmt.Errorf("PCA of %s: %w", name, err)
		}
		y, kl, err := analysis.TSNE(pc.Scores, r.S, pc.K, analysis.TSNEOptions{Perplexity: r.tsnePerplex, Iterations: r.cfg.TSNEIterations})
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
	rng := rand.New(rand.NewPCG(uint64(r.cfg.Seed), 3))
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
		if len(pool) < min(r.cfg.TuningUnits, l.N) {
			pool = make([]int, l.N)
			for i := range pool {
				pool[i] = i
			}
		}
		k := min(r.cfg.TuningUnits, len(pool))
		perm := rng.Perm(len(pool))[:k]
		units := make([]int, k)
		for i, p := range perm {
			units[i] = pool[p]
		}
		slices.Sort(units)
		r.tuningUnits[l.Name] = units
	}
}

// decodeTask is the decoder's task on the full V1 data (all orientations
// over 360°, classes of 360/C degrees): the one the train subcommand's
// decode trains, split by the tutorial's fraction from the report's
// seed, so the same seed and data give the same split and classes.
func (r *report) decodeTask(v1 *data.V1) (*tasks.Task, error) {
	c := r.cfg
	o := r.options()
	o.Network, o.Variant, o.Hidden, o.Classes = tasks.Decode, models.DecodeSoftmax, c.DecodeHidden, c.DecodeClasses
	o.TestFrac = tasks.MustDefaultsFor(tasks.Decode, models.DecodeSoftmax).TestFrac
	t, err := tasks.NewDecode(v1, r.v1Desc, o)
	if err != nil {
		return nil, &InputError{InputV1, err}
	}
	return t, nil
}

// decoder trains the Bonus tutorial's DeepNetSoftmax on task and sorts its
// input weights by each neuron's preferred orientation in v1.
func (r *report) decoder(ctx context.Context, be kernels.Backend, task *tasks.Task, v1 *data.V1) error {
	c := r.cfg
	S, N := v1.S, v1.N
	dec, err := task.Build(be)
	if err != nil {
		return fmt.Errorf("decoder: %w", err)
	}
	defer dec.Close()
	d := &decodeResult{Neurons: N, Hidden: c.DecodeHidden, Classes: c.DecodeClasses, Steps: c.DecodeSteps,
		LR: c.DecodeLR, L2: c.DecodeL2, L1: c.DecodeL1, TrainStimuli: task.Train.S, TestStim: task.Test.S}
	s := tasks.Settings{Epochs: c.DecodeSteps, LR: c.DecodeLR, L2: c.DecodeL2, L1: c.DecodeL1, Seed: uint64(c.Seed)}
	tr, err := task.Trainer(dec, s, models.TrainConfig{
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
	evTest, _, err := task.Evaluate(dec)
	if err != nil {
		return err
	}
	evTrain, err := dec.Evaluate(task.Train)
	if err != nil {
		return err
	}
	d.TestAcc, d.TrainAccuracy = evTest.Value, evTrain.Accuracy

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
	sorted, err := analysis.PermuteColumns(w.Data, c.DecodeHidden, N, analysis.SortByPreference(pref))
	if err != nil {
		return err
	}
	// A figure shows at most maxWeightCols columns: average neighbours in
	// preferred-orientation order here, so that the colour limits can be
	// taken from what is drawn.
	d.WIn, d.WInCols = blockColumns(sorted, c.DecodeHidden, N, maxWeightCols)
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

// readMetrics reads the loss curve to plot: every loss finite, at least
// one.
func readMetrics(path string) ([]float64, error) {
	l, err := tasks.ReadLosses(path)
	if err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, fmt.Errorf("%s: no loss rows after the header", path)
	}
	for i, v := range l {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: line %d: loss %v is not finite (the run diverged), nothing to plot", path, i+2, v)
		}
	}
	return l, nil
}

func (r *report) outPath(name string) string { return filepath.Join(r.cfg.Out, name) }
