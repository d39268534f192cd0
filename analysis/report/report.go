package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
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
	// RSACI is RSA's bootstrap interval over resamples of the stimuli.
	RSACI *analysis.RSAInterval
}

// report is everything the figures and the summary are made from.
type report struct {
	cfg     *Config
	backend string
	device  string

	v1               *data.V1 // as loaded (and binned)
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
	// testSteps and testLosses are the test-loss evaluations of the
	// metrics (train --eval-every, or EvalEvery when trained here).
	testSteps  []int
	testLosses []float64

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
	decode        *decoding
	decodeSkipped string

	t2        *tutorial2
	bonusNets []*network // Tutorial 3's bonus networks, when trained

	split     *data.V1Split // the split V1 data of the encoding sections
	splitDesc string
	splitFile string
	enc       *encoding
	encSkip   string
	spectrum  *spectrum

	timings map[string]float64
	start   time.Time
}

// Tutorial 3's grating size at res 0.1.
const gratingH, gratingW = 48, 64

// Generate computes the report c describes on be and writes it to c.Out:
// the figures (PNG), summary.json, encoding.npz (with an encoding
// section), index.html and report.md, and, when it trains the network,
// model.npz and train_metrics.csv. It returns what summary.json holds.
// Unusable input files give an *InputError.
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
	r.v1 = v1
	logf("report: V1 %s: %d stimuli × %d neurons", r.v1Desc, v1.S, v1.N)

	// Check every input before the long steps, so that a bad file fails
	// fast: the metrics file, the decoder's targets, the split data and
	// the encoder.
	if c.MetricsPath != "" {
		m, err := readMetrics(c.MetricsPath)
		if err != nil {
			return nil, &InputError{InputMetrics, err}
		}
		r.setLosses(m, c.MetricsPath)
	}
	var dec *decodeTasks
	if c.DecodeSteps > 0 || c.ReLUSteps > 0 {
		if dec, err = r.decodeTasks(v1); err != nil {
			return nil, err
		}
	} else {
		r.decodeSkipped = "decode-steps and relu-steps 0"
	}
	encTask, err := r.loadSplit(be)
	if err != nil {
		return nil, err
	}
	if encTask != nil {
		defer encTask.model.Close()
	}

	if err := r.tutorial2(be); err != nil {
		return nil, err
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
			logf("report: RSA V1 vs %-4s = %.4f [%.4f, %.4f]", l.Name, *l.RSA, l.RSACI.Lo, l.RSACI.Hi)
		} else {
			logf("report: RSA V1 vs %-4s undefined (%s)", l.Name, l.RSAer)
		}
	}
	if c.BonusNetworks && c.Arch == nil {
		if err := r.trainBonusNetworks(ctx, be, logf); err != nil {
			return nil, err
		}
	}

	if err := r.embeddings(); err != nil {
		return nil, err
	}
	r.pickTuningUnits()

	if dec != nil {
		if err := r.decoders(ctx, be, dec, v1, logf); err != nil {
			return nil, err
		}
	}
	if encTask != nil {
		if err := r.encoding(ctx, be, encTask, net, logf); err != nil {
			return nil, err
		}
	}
	if err := r.v1Spectrum(be); err != nil {
		return nil, err
	}

	figs, err := r.figures()
	if err != nil {
		return nil, err
	}
	if r.enc != nil {
		if err := r.writeEncodingNPZ(); err != nil {
			return nil, err
		}
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

// setLosses keeps the loss curve (and test losses) m of source to plot.
func (r *report) setLosses(m tasks.Metrics, source string) {
	r.losses, r.lossesSource = m.Loss, source
	r.testSteps, r.testLosses = m.TestSteps, m.TestLoss
}

// options are the tasks' options of this report: its seed and V1 data.
func (r *report) options() tasks.Options {
	c := r.cfg
	return tasks.Options{Data: c.V1Path, Seed: uint64(c.Seed), Neurons: c.SynthNeurons, SynthStimuli: c.SynthStimuli, BinWidth: c.BinWidth}
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
	// The layers the ridge baselines use must exist: say so before
	// training.
	if _, err := r.ridgeLayers(net); err != nil {
		return nil, err
	}
	if c.ModelPath != "" {
		if err := net.LoadStateDictFile(c.ModelPath); err != nil {
			return nil, &InputError{InputModel, err}
		}
		r.modelSource, r.modelFile = "file", c.ModelPath
	} else {
		r.modelSource = "trained"
		var metrics bytes.Buffer
		s := tasks.Settings{Epochs: c.Epochs, Batch: c.Batch, LR: c.LR, Momentum: c.Momentum, Seed: uint64(c.Seed)}
		tr, err := task.Trainer(net, s, r.trainConfig(&metrics, task.Test))
		if err != nil {
			return nil, err
		}
		metrics.WriteString(tr.MetricsHeader())
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
			m, err := tasks.ParseMetrics("training metrics", &metrics)
			if err != nil {
				return nil, err
			}
			r.setLosses(m, "training on the fly (train_metrics.csv)")
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
	t0 := time.Now()
	layers, err := activity(net, pix, net.HiddenLayers())
	if err != nil {
		return err
	}
	r.layers = append([]*layerResp{{Name: "V1", Resp: t3.Resp, N: t3.N}}, layers...)
	r.timings["hidden_s"] = time.Since(t0).Seconds()
	return nil
}

// activity is what forward hooks on the layers of net see for the
// images pix.
func activity(net *models.Model, pix []float32, layers []string) ([]*layerResp, error) {
	var out []*layerResp
	for _, name := range layers {
		act, f, err := net.Hidden(pix, name)
		if err != nil {
			return nil, err
		}
		out = append(out, &layerResp{Name: name, Resp: act, N: f})
	}
	return out, nil
}

// rdms computes the RDM of every population on the backend's GEMM and the
// RSA of each layer with V1, with its bootstrap interval.
func (r *report) rdms(be kernels.Backend) error {
	v1 := r.layers[0]
	t0 := time.Now()
	rdm, err := analysis.RDM(v1.Resp, r.S, v1.N, analysis.BackendGEMM(be))
	if err != nil {
		return fmt.Errorf("RDM of V1: %w", err)
	}
	r.timings["rdm_V1_s"] = time.Since(t0).Seconds()
	v1.RDM = rdm
	return r.compare(be, v1.RDM, r.S, r.layers[1:], "")
}

// compare computes the RDM of each layer (S stimuli) on the backend's
// GEMM and its RSA with the RDM ref, with a percentile interval over
// Config.Bootstrap resamples of the stimuli; prefix names the network
// in the timings.
func (r *report) compare(be kernels.Backend, ref []float32, S int, layers []*layerResp, prefix string) error {
	gemm := analysis.BackendGEMM(be)
	for _, l := range layers {
		t0 := time.Now()
		rdm, err := analysis.RDM(l.Resp, S, l.N, gemm)
		if err != nil {
			return fmt.Errorf("RDM of %s%s: %w", prefix, l.Name, err)
		}
		r.timings["rdm_"+prefix+l.Name+"_s"] = time.Since(t0).Seconds()
		l.RDM = rdm
		iv, err := analysis.RSABootstrap(ref, l.RDM, S, analysis.BootstrapOptions{Resamples: r.cfg.Bootstrap, Seed: uint64(r.cfg.Seed)})
		switch {
		case err != nil && l.N == 1:
			// The tutorial's RDM z-scores each stimulus across units: a
			// single unit has no pattern, every dissimilarity is 1.
			l.RSAer = "a layer of one unit has no response pattern across units, so its RDM is constant"
		case err != nil:
			l.RSAer = err.Error()
		default:
			rho := iv.RSA
			l.RSA, l.RSACI = &rho, iv
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

// readMetrics reads the loss curve to plot (and its test losses, when
// it has a test_loss column): every loss finite, at least one.
func readMetrics(path string) (tasks.Metrics, error) {
	m, err := tasks.ReadMetrics(path)
	if err != nil {
		return m, err
	}
	if len(m.Loss) == 0 {
		return m, fmt.Errorf("%s: no loss rows after the header", path)
	}
	for i, v := range m.Loss {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return m, fmt.Errorf("%s: line %d: loss %v is not finite (the run diverged), nothing to plot", path, i+2, v)
		}
	}
	for i, v := range m.TestLoss {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return m, fmt.Errorf("%s: step %d: test_loss %v is not finite (the run diverged), nothing to plot", path, m.TestSteps[i], v)
		}
	}
	return m, nil
}

// trainConfig is the training configuration of the report's networks:
// metrics rows into w, and the test loss every Config.EvalEvery steps
// when there is a test set.
func (r *report) trainConfig(w io.Writer, test models.Dataset) models.TrainConfig {
	c := models.TrainConfig{Metrics: w}
	if r.cfg.EvalEvery > 0 && test.S > 0 {
		c.EvalEvery, c.Test = r.cfg.EvalEvery, test
	}
	return c
}

func (r *report) outPath(name string) string { return filepath.Join(r.cfg.Out, name) }
