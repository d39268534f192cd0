package report

import (
	"encoding/json"
	"fmt"

	"github.com/vkneuro/vkneuro/internal/atomicfile"
	"github.com/vkneuro/vkneuro/models"
)

// Summary is what DIR/summary.json holds: the report's numbers.
type Summary struct {
	RSA      map[string]*float64 `json:"rsa"` // layer → RSA with V1; nil where undefined
	RSANotes map[string]string   `json:"rsa_notes,omitempty"`
	Stimuli  int                 `json:"n_stimuli"`
	Neurons  int                 `json:"n_neurons"`
	Backend  string              `json:"backend"`
	Device   string              `json:"device"`
	Model    ModelSummary        `json:"model"`
	V1       V1Summary           `json:"v1"`
	Layers   map[string]int      `json:"layer_units"`
	TSNE     TSNESummary         `json:"tsne"`
	Decoder  *DecoderSummary     `json:"decoder,omitempty"`
	Timings  map[string]float64  `json:"timings_s"`
	Figures  []Figure            `json:"figures"`
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
	Source string `json:"source"`
	Steps  int    `json:"steps"`
}

// V1Summary is the V1 data compared with.
type V1Summary struct {
	Source      string   `json:"source"` // "file" or "synthetic"
	File        string   `json:"file,omitempty"`
	Seed        *int64   `json:"seed,omitempty"`
	Synthetic   bool     `json:"synthetic"`
	FileStimuli int      `json:"stimuli_before_selection"`
	Converted   []string `json:"converted,omitempty"`
}

// TSNESummary is the embeddings' settings and final KL divergences.
type TSNESummary struct {
	Layers     []string           `json:"layers"`
	Perplexity float64            `json:"perplexity"`
	Iterations int                `json:"iterations"`
	KL         map[string]float64 `json:"kl"`
}

// DecoderSummary is the orientation decoder trained on V1.
type DecoderSummary struct {
	Neurons       int     `json:"neurons"`
	Hidden        int     `json:"hidden"`
	Classes       int     `json:"classes"`
	Steps         int     `json:"steps"`
	LR            float64 `json:"lr"`
	L2            float64 `json:"l2"`
	L1            float64 `json:"l1"`
	TrainStimuli  int     `json:"train_stimuli"`
	TestStimuli   int     `json:"test_stimuli"`
	TrainAccuracy float64 `json:"train_accuracy"`
	TestAccuracy  float64 `json:"test_accuracy"`
	FinalLoss     float64 `json:"final_loss"`
	Seconds       float64 `json:"train_seconds"`
}

func (r *report) summary(figs []Figure) *Summary {
	c := r.cfg
	s := &Summary{
		RSA: map[string]*float64{}, RSANotes: map[string]string{},
		Stimuli: r.S, Neurons: r.layers[0].N,
		Backend: r.backend, Device: r.device,
		Layers:  map[string]int{},
		TSNE:    TSNESummary{Layers: r.tsneLayers, Perplexity: r.tsnePerplex, Iterations: c.TSNEIterations, KL: r.tsneKL},
		Timings: r.timings, Figures: figs,
	}
	for _, l := range r.layers[1:] {
		s.RSA[l.Name] = l.RSA
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
		s.Model.LossCurve = &LossCurveInfo{Source: r.lossesSource, Steps: len(r.losses)}
	}
	s.V1 = V1Summary{Source: r.v1Source, File: r.v1File, Synthetic: r.v1Synthetic, FileStimuli: r.v1FileStimuli, Converted: r.v1Converted}
	if r.v1Source == "synthetic" {
		seed := c.Seed
		s.V1.Seed = &seed
	}
	if d := r.decode; d != nil {
		s.Decoder = &DecoderSummary{Neurons: d.Neurons, Hidden: d.Hidden, Classes: d.Classes, Steps: d.Steps, LR: d.LR, L2: d.L2, L1: d.L1,
			TrainStimuli: d.TrainStimuli, TestStimuli: d.TestStim, TrainAccuracy: d.TrainAccuracy, TestAccuracy: d.TestAcc,
			FinalLoss: d.FinalLoss, Seconds: d.Seconds}
	}
	return s
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
