package report

import (
	"encoding/json"
	"fmt"

	"github.com/vkneuro/vkneuro/analysis"
	"github.com/vkneuro/vkneuro/internal/atomicfile"
	"github.com/vkneuro/vkneuro/models"
)

// Summary is what DIR/summary.json holds: the report's numbers.
type Summary struct {
	RSA map[string]*float64 `json:"rsa"` // layer → RSA with V1; nil where undefined
	// RSACI are the 95% bootstrap intervals [lo, hi] of RSA.
	RSACI    map[string][2]float64 `json:"rsa_ci"`
	RSANotes map[string]string     `json:"rsa_notes,omitempty"`
	// RSANoiseCeiling is the RSA between the RDMs of the split data's two
	// halves (over its stimuli ≤ 180°), with its bootstrap interval: the
	// ceiling of Encode.RSA, which is over the same stimuli.
	RSANoiseCeiling   *float64         `json:"rsa_noise_ceiling,omitempty"`
	RSANoiseCeilingCI *[2]float64      `json:"rsa_noise_ceiling_ci,omitempty"`
	Stimuli           int              `json:"n_stimuli"`
	Neurons           int              `json:"n_neurons"`
	Backend           string           `json:"backend"`
	Device            string           `json:"device"`
	Model             ModelSummary     `json:"model"`
	V1                V1Summary        `json:"v1"`
	Layers            map[string]int   `json:"layer_units"`
	TSNE              TSNESummary      `json:"tsne"`
	Tutorial2         Tutorial2Summary `json:"tutorial2"`
	// BonusNetworks are Tutorial 3's bonus networks, by variant.
	BonusNetworks map[string]*NetworkSummary `json:"bonus_networks,omitempty"`
	// Decoder is the Bonus tutorial's regularised decoder (Section 2.3);
	// Decoders every decoder trained, by run.
	Decoder  *DecoderSummary            `json:"decoder,omitempty"`
	Decoders map[string]*DecoderSummary `json:"decoders,omitempty"`
	Encode   *EncodeSummary             `json:"encode,omitempty"`
	// Ridge are the ridge baselines by feature set (pixels and layers).
	Ridge    map[string]ridgeSummary `json:"ridge,omitempty"`
	Spectrum *SpectrumSummary        `json:"v1_spectrum,omitempty"`
	Timings  map[string]float64      `json:"timings_s"`
	Figures  []Figure                `json:"figures"`
}

// Tutorial2Summary is Tutorial 2's convolution of example gratings.
type Tutorial2Summary struct {
	Angles        []float64 `json:"angles"`
	Patch         bool      `json:"patch"`
	MaxActivation float64   `json:"max_abs_activation"`
}

// NetworkSummary is one of Tutorial 3's bonus networks.
type NetworkSummary struct {
	Class        string                `json:"class"`
	TestAccuracy float64               `json:"test_accuracy"`
	Steps        int                   `json:"steps"`
	FinalLoss    float64               `json:"final_loss"`
	Seconds      float64               `json:"seconds"`
	Layers       map[string]int        `json:"layer_units"`
	RSA          map[string]*float64   `json:"rsa"`
	RSACI        map[string][2]float64 `json:"rsa_ci"`
}

// EncodeSummary is the encoding model fitted to the split data, scored
// per neuron ({median, mean, q25, q75, n} over the neurons where a score
// is defined).
type EncodeSummary struct {
	Data             string           `json:"data"`
	Stimuli          int              `json:"n_stimuli"`
	Neurons          int              `json:"n_neurons"`
	Source           string           `json:"source"` // "trained" or the --encoder file
	Steps            int              `json:"steps,omitempty"`
	FinalLoss        float64          `json:"final_loss,omitempty"`
	Seconds          float64          `json:"train_seconds,omitempty"`
	TestCorr         analysis.Summary `json:"test_corr"`
	Reliability      analysis.Summary `json:"reliability"`
	NormCorr         analysis.Summary `json:"normalized_corr"`
	NormCorrExcluded int              `json:"normalized_corr_excluded"`
	FEVE             analysis.Summary `json:"feve"`
	// RSA of the CNN's layers with the RDM of resp_test over the split
	// data's RSAStimuli stimuli ≤ 180°, with their bootstrap intervals.
	RSAStimuli int                   `json:"rsa_stimuli"`
	RSA        map[string]*float64   `json:"rsa"`
	RSACI      map[string][2]float64 `json:"rsa_ci"`
	RFNeurons  []int                 `json:"rf_neurons"`
}

// SpectrumSummary is the cvPCA eigenspectrum of the split data.
type SpectrumSummary struct {
	Variance []float64 `json:"variance"`
	Alpha    float64   `json:"alpha"`
	FitRange [2]int    `json:"fit_range"`
}

// ModelSummary is the normative CNN the report compares.
type ModelSummary struct {
	// Arch is the network as nn.Sequential's arguments (for Tutorial 3's
	// CNN, its modules).
	Arch         string         `json:"arch"`
	Source       string         `json:"source"` // "file" or "trained"
	File         string         `json:"file,omitempty"`
	Saved        string         `json:"saved,omitempty"`
	TestAccuracy float64        `json:"test_accuracy"`
	TestGratings int            `json:"test_gratings"`
	Training     *TrainSummary  `json:"training,omitempty"`
	LossCurve    *LossCurveInfo `json:"loss_curve,omitempty"`
}

// TrainSummary is the training on the fly, when there was one.
type TrainSummary struct {
	Samples   int     `json:"samples"`
	Epochs    int     `json:"epochs"`
	Batch     int     `json:"batch"`
	LR        float64 `json:"lr"`
	Momentum  float64 `json:"momentum"`
	Seed      int64   `json:"seed"`
	Steps     int     `json:"steps"`
	FinalLoss float64 `json:"final_loss"`
	Seconds   float64 `json:"seconds"`
}

// LossCurveInfo says where the plotted losses came from.
type LossCurveInfo struct {
	Source    string `json:"source"`
	Steps     int    `json:"steps"`
	TestSteps int    `json:"test_steps,omitempty"` // steps with a test loss
}

// V1Summary is the V1 data compared with.
type V1Summary struct {
	Source      string   `json:"source"` // "file" or "synthetic"
	File        string   `json:"file,omitempty"`
	Seed        *int64   `json:"seed,omitempty"`
	Synthetic   bool     `json:"synthetic"`
	FileStimuli int      `json:"stimuli_before_selection"`
	Converted   []string `json:"converted,omitempty"`
	BinWidth    float64  `json:"bin_width,omitempty"`
	Description string   `json:"description"`
}

// TSNESummary is the embeddings' settings and final KL divergences.
type TSNESummary struct {
	Layers     []string           `json:"layers"`
	Perplexity float64            `json:"perplexity"`
	Iterations int                `json:"iterations"`
	KL         map[string]float64 `json:"kl"`
}

// DecoderSummary is one orientation decoder trained on V1.
type DecoderSummary struct {
	Class   string  `json:"class"` // DeepNetSoftmax or DeepNetReLU
	Neurons int     `json:"neurons"`
	Hidden  int     `json:"hidden"`
	Classes int     `json:"classes,omitempty"`
	Steps   int     `json:"steps"`
	LR      float64 `json:"lr"`
	L2      float64 `json:"l2"`
	L1      float64 `json:"l1"`
	// Metric is what the accuracies are: fraction_correct, or mse
	// (degrees²) for DeepNetReLU.
	Metric        string  `json:"metric"`
	TrainStimuli  int     `json:"train_stimuli"`
	TestStimuli   int     `json:"test_stimuli"`
	TrainAccuracy float64 `json:"train_accuracy"`
	TestAccuracy  float64 `json:"test_accuracy"`
	FinalLoss     float64 `json:"final_loss"`
	// LossAt10 are the losses at steps 10, 20, …, 50, the numbers the
	// Bonus tutorial prints for DeepNetReLU.
	LossAt10   []float64 `json:"loss_at_10_steps,omitempty"`
	DivergedAt int       `json:"diverged_at_step,omitempty"`
	Seconds    float64   `json:"train_seconds"`
	// SmoothingSigmaDeg and SmoothMode are how the preferred orientations
	// that sort W_in were found.
	SmoothingSigmaDeg float64 `json:"smoothing_sigma_deg"`
	SmoothMode        string  `json:"smooth_mode"`
}

func (r *report) summary(figs []Figure) *Summary {
	c := r.cfg
	s := &Summary{
		RSA: map[string]*float64{}, RSACI: map[string][2]float64{}, RSANotes: map[string]string{},
		Stimuli: r.S, Neurons: r.layers[0].N,
		Backend: r.backend, Device: r.device,
		Layers:    map[string]int{},
		TSNE:      TSNESummary{Layers: r.tsneLayers, Perplexity: r.tsnePerplex, Iterations: c.TSNEIterations, KL: r.tsneKL},
		Tutorial2: Tutorial2Summary{Angles: tutorial2Angles, Patch: r.t2.patch, MaxActivation: r.t2.maxAbs},
		Timings:   r.timings, Figures: figs,
	}
	s.RSA, s.RSACI = rsaMaps(r.layers[1:])
	for _, l := range r.layers[1:] {
		if l.RSA == nil {
			s.RSANotes[l.Name] = "undefined: " + l.RSAer
		}
		s.Layers[l.Name] = l.N
	}
	s.Model = ModelSummary{Arch: r.arch, Source: r.modelSource, File: r.modelFile, Saved: r.savedModel,
		TestAccuracy: r.testAccuracy, TestGratings: len(models.NormativeTestAngles())}
	if r.modelSource == "trained" {
		s.Model.Training = &TrainSummary{Samples: c.TrainSamples, Epochs: c.Epochs, Batch: c.Batch, LR: c.LR, Momentum: c.Momentum,
			Seed: c.Seed, Steps: r.trainSteps, FinalLoss: r.trainFinalLoss, Seconds: r.trainSeconds}
	}
	if len(r.losses) > 0 {
		s.Model.LossCurve = &LossCurveInfo{Source: r.lossesSource, Steps: len(r.losses), TestSteps: len(r.testSteps)}
	}
	s.V1 = V1Summary{Source: r.v1Source, File: r.v1File, Synthetic: r.v1Synthetic, FileStimuli: r.v1FileStimuli, Converted: r.v1Converted, BinWidth: c.BinWidth, Description: r.v1Desc}
	if r.v1Source == "synthetic" {
		seed := c.Seed
		s.V1.Seed = &seed
	}
	for _, n := range r.bonusNets {
		if s.BonusNetworks == nil {
			s.BonusNetworks = map[string]*NetworkSummary{}
		}
		ns := &NetworkSummary{Class: n.Title, TestAccuracy: n.Test, Steps: n.Steps, FinalLoss: n.Loss, Seconds: n.Seconds, Layers: map[string]int{}}
		ns.RSA, ns.RSACI = rsaMaps(n.Layers)
		for _, l := range n.Layers {
			ns.Layers[l.Name] = l.N
		}
		s.BonusNetworks[n.Variant] = ns
	}
	if d := r.decode; d != nil {
		s.Decoders = map[string]*DecoderSummary{}
		for _, dr := range []*decodeRun{d.ReLU, d.Softmax, d.Penalized} {
			if dr != nil {
				s.Decoders[dr.Key] = r.decoderSummary(dr)
			}
		}
		s.Decoder = s.Decoders["softmax_penalized"]
		if s.Decoder == nil {
			s.Decoder = s.Decoders["softmax"]
		}
	}
	if e := r.enc; e != nil {
		es := &EncodeSummary{Data: r.splitDesc, Stimuli: e.S, Neurons: e.N, Source: e.Source, Steps: e.Steps, FinalLoss: e.FinalLoss, Seconds: e.Seconds,
			TestCorr: e.Summary.TestCorr, Reliability: e.Summary.Reliability, NormCorr: e.Summary.NormCorr, NormCorrExcluded: e.Summary.NormCorrExcluded,
			FEVE: e.Summary.FEVE, RSAStimuli: e.RSAStimuli, RFNeurons: e.RFUnits}
		es.RSA, es.RSACI = rsaMaps(e.RSALayers)
		s.Encode = es
		s.Ridge = map[string]ridgeSummary{}
		for _, fs := range e.Features {
			s.Ridge[fs.Name] = fs.Summary
		}
		ceil := e.Ceiling.RSA
		s.RSANoiseCeiling, s.RSANoiseCeilingCI = &ceil, &[2]float64{e.Ceiling.Lo, e.Ceiling.Hi}
	}
	if sp := r.spectrum; sp != nil {
		s.Spectrum = &SpectrumSummary{Variance: sp.Variance, Alpha: sp.Alpha, FitRange: [2]int{sp.FitLo, sp.FitHi}}
	}
	return s
}

// rsaMaps are the layers' RSA values (nil where undefined) and the
// intervals of the defined ones.
func rsaMaps(layers []*layerResp) (map[string]*float64, map[string][2]float64) {
	rsa, ci := map[string]*float64{}, map[string][2]float64{}
	for _, l := range layers {
		rsa[l.Name] = l.RSA
		if l.RSACI != nil {
			ci[l.Name] = [2]float64{l.RSACI.Lo, l.RSACI.Hi}
		}
	}
	return rsa, ci
}

func (r *report) decoderSummary(dr *decodeRun) *DecoderSummary {
	d := r.decode
	ds := &DecoderSummary{Class: "DeepNetSoftmax", Neurons: d.Neurons, Hidden: dr.Hidden, Steps: dr.Steps, LR: dr.LR, L2: dr.L2, L1: dr.L1,
		Metric: "fraction_correct", TrainStimuli: d.TrainStimuli, TestStimuli: d.TestStimuli, TrainAccuracy: dr.Train, TestAccuracy: dr.Test,
		FinalLoss: dr.FinalLoss, DivergedAt: dr.DivergedAt, Seconds: dr.Seconds, SmoothingSigmaDeg: d.SigmaDeg, SmoothMode: d.Mode.String()}
	if dr.Variant == models.DecodeReLU {
		ds.Class, ds.Metric = "DeepNetReLU", "mse"
		for s := 10; s <= min(50, len(dr.Losses)); s += 10 {
			ds.LossAt10 = append(ds.LossAt10, dr.Losses[s-1])
		}
	} else {
		ds.Classes = dr.Outputs
	}
	return ds
}

func (r *report) writeSummary(s *Summary) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("summary.json: %w", err)
	}
	return atomicfile.WriteFile(r.outPath("summary.json"), append(b, '\n'), pagePerm)
}

// pagePerm is the mode of the files the report writes: readable by all,
// like the PNGs, since the report is meant to be served and shared.
const pagePerm = 0o644
