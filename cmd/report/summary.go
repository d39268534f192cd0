package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"strings"

	"github.com/vkneuro/vkneuro/internal/atomicfile"
	"github.com/vkneuro/vkneuro/models"
)

// summary is DIR/summary.json.
type summary struct {
	RSA      map[string]*float64 `json:"rsa"`
	RSANotes map[string]string   `json:"rsa_notes,omitempty"`
	Stimuli  int                 `json:"n_stimuli"`
	Neurons  int                 `json:"n_neurons"`
	Backend  string              `json:"backend"`
	Device   string              `json:"device"`
	Model    modelSummary        `json:"model"`
	V1       v1Summary           `json:"v1"`
	Layers   map[string]int      `json:"layer_units"`
	TSNE     tsneSummary         `json:"tsne"`
	Decoder  *decoderSummary     `json:"decoder,omitempty"`
	Timings  map[string]float64  `json:"timings_s"`
	Figures  []figure            `json:"figures"`
}

type modelSummary struct {
	Source       string         `json:"source"` // "file" or "trained"
	File         string         `json:"file,omitempty"`
	Saved        string         `json:"saved,omitempty"`
	TestAccuracy float64        `json:"test_accuracy"`
	TestGratings int            `json:"test_gratings"`
	Training     *trainSummary  `json:"training,omitempty"`
	LossCurve    *lossCurveInfo `json:"loss_curve,omitempty"`
}

type trainSummary struct {
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

type lossCurveInfo struct {
	Source string `json:"source"`
	Steps  int    `json:"steps"`
}

type v1Summary struct {
	Source      string   `json:"source"` // "file" or "synthetic"
	File        string   `json:"file,omitempty"`
	Seed        *int64   `json:"seed,omitempty"`
	Synthetic   bool     `json:"synthetic"`
	FileStimuli int      `json:"stimuli_before_selection"`
	Converted   []string `json:"converted,omitempty"`
}

type tsneSummary struct {
	Layers     []string           `json:"layers"`
	Perplexity float64            `json:"perplexity"`
	Iterations int                `json:"iterations"`
	KL         map[string]float64 `json:"kl"`
}

type decoderSummary struct {
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

func (r *report) summary(figs []figure) *summary {
	c := r.cfg
	s := &summary{
		RSA: map[string]*float64{}, RSANotes: map[string]string{},
		Stimuli: r.S, Neurons: r.layers[0].N,
		Backend: r.backend, Device: r.device,
		Layers:  map[string]int{},
		TSNE:    tsneSummary{Layers: tsneLayers, Perplexity: r.tsnePerplex, Iterations: c.tsneIterations, KL: r.tsneKL},
		Timings: r.timings, Figures: figs,
	}
	for _, l := range r.layers[1:] {
		s.RSA[l.Name] = l.RSA
		if l.RSA == nil {
			s.RSANotes[l.Name] = "undefined: " + l.RSAer
		}
		s.Layers[l.Name] = l.N
	}
	s.Model = modelSummary{Source: r.modelSource, File: r.modelFile, Saved: r.savedModel,
		TestAccuracy: r.testAccuracy, TestGratings: len(models.NormativeTestAngles())}
	if r.modelSource == "trained" {
		s.Model.Training = &trainSummary{Samples: c.trainSamples, Epochs: c.epochs, Batch: c.batch, LR: c.lr, Momentum: c.momentum,
			Seed: c.seed, Steps: r.trainSteps, FinalLoss: r.trainFinalLoss, Seconds: r.trainSeconds}
	}
	if len(r.losses) > 0 {
		s.Model.LossCurve = &lossCurveInfo{Source: r.lossesSource, Steps: len(r.losses)}
	}
	s.V1 = v1Summary{Source: r.v1Source, File: r.v1File, Synthetic: r.v1Synthetic, FileStimuli: r.v1FileStimuli, Converted: r.v1Converted}
	if r.v1Source == "synthetic" {
		seed := c.seed
		s.V1.Seed = &seed
	}
	if d := r.decode; d != nil {
		s.Decoder = &decoderSummary{Neurons: d.Neurons, Hidden: d.Hidden, Classes: d.Classes, Steps: d.Steps, LR: d.LR, L2: d.L2, L1: d.L1,
			TrainStimuli: d.TrainStimuli, TestStimuli: d.TestStim, TrainAccuracy: d.TrainAccuracy, TestAccuracy: d.TestAcc,
			FinalLoss: d.FinalLoss, Seconds: d.Seconds}
	}
	return s
}

func (r *report) writeSummary(figs []figure) error {
	b, err := json.MarshalIndent(r.summary(figs), "", "  ")
	if err != nil {
		return fmt.Errorf("summary.json: %w", err)
	}
	return atomicfile.WriteFile(outPath(r.cfg, "summary.json"), append(b, '\n'), pagePerm)
}

// facts are the numbers shown at the top of index.html and report.md.
func (r *report) facts() [][2]string {
	c := r.cfg
	var f [][2]string
	add := func(k, format string, a ...any) { f = append(f, [2]string{k, fmt.Sprintf(format, a...)}) }
	if r.v1Source == "synthetic" {
		add("V1 data", "SYNTHETIC (data.SyntheticV1, seed %d): %d model neurons, %d orientation bins — not a recording", c.seed, r.layers[0].N, r.v1FileStimuli)
	} else {
		syn := ""
		if r.v1Synthetic {
			syn = " (marked synthetic)"
		}
		add("V1 data", "%s%s: %d neurons, %d stimuli", r.v1File, syn, r.layers[0].N, r.v1FileStimuli)
	}
	add("Stimuli compared", "%d (orientations ≤ 180°, shifted by −90°)", r.S)
	if r.modelSource == "file" {
		add("Model", "%s", r.modelFile)
	} else {
		add("Model", "trained on the fly: %d gratings, %d epochs, batch %d, lr %g, momentum %g, seed %d: %d steps in %.1f s, final loss %.3g (saved as %s)",
			c.trainSamples, c.epochs, c.batch, c.lr, c.momentum, c.seed, r.trainSteps, r.trainSeconds, r.trainFinalLoss, r.savedModel)
	}
	add("Model test accuracy", "%.3f on %d gratings (−89.5° … 89.5°)", r.testAccuracy, len(models.NormativeTestAngles()))
	for _, l := range r.layers[1:] {
		if l.RSA != nil {
			add("RSA V1 vs "+l.Name, "%.4f (%s)", *l.RSA, units(l.N))
		} else {
			add("RSA V1 vs "+l.Name, "undefined: %s (%s)", l.RSAer, units(l.N))
		}
	}
	if d := r.decode; d != nil {
		add("Decoder", "test accuracy %.3f (train %.3f), %d steps in %.2f s", d.TestAcc, d.TrainAccuracy, d.Steps, d.Seconds)
	}
	add("Backend", "%s (%s)", r.backend, r.device)
	add("Wall time", "%.1f s (V1 RDM %.2f s)", r.timings["total_s"], r.timings["rdm_V1_s"])
	return f
}

// writePages writes index.html and report.md.
func (r *report) writePages(figs []figure) error {
	facts := r.facts()
	var h bytes.Buffer
	h.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>vkneuro report: normative CNN vs V1</title>\n")
	h.WriteString("<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}table{border-collapse:collapse}td{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}figure{margin:2em 0}img{max-width:100%;border:1px solid #eee}figcaption{color:#333;margin-top:.4em}</style>\n</head>\n<body>\n")
	h.WriteString("<h1>Normative CNN vs V1: representational similarity</h1>\n")
	if r.v1Synthetic {
		h.WriteString("<p><strong>The V1 data are SYNTHETIC</strong> (a model population of tuned neurons); results say nothing about mouse V1.</p>\n")
	}
	h.WriteString("<table>\n")
	for _, kv := range facts {
		fmt.Fprintf(&h, "<tr><td>%s</td><td>%s</td></tr>\n", html.EscapeString(kv[0]), html.EscapeString(kv[1]))
	}
	h.WriteString("</table>\n<p>All numbers are also in <a href=\"summary.json\">summary.json</a>.</p>\n")
	for i, f := range figs {
		fmt.Fprintf(&h, "<figure id=\"fig%d\">\n<h2>Figure %d. %s</h2>\n<img src=\"%s\" alt=\"%s\">\n<figcaption>%s</figcaption>\n</figure>\n",
			i+1, i+1, html.EscapeString(f.Title), html.EscapeString(f.File), html.EscapeString(f.Title), html.EscapeString(f.Caption))
	}
	h.WriteString("</body>\n</html>\n")
	if err := atomicfile.WriteFile(outPath(r.cfg, "index.html"), h.Bytes(), pagePerm); err != nil {
		return err
	}

	var m strings.Builder
	m.WriteString("# Normative CNN vs V1: representational similarity\n\n")
	if r.v1Synthetic {
		m.WriteString("**The V1 data are SYNTHETIC** (a model population of tuned neurons); results say nothing about mouse V1.\n\n")
	}
	m.WriteString("| | |\n|---|---|\n")
	for _, kv := range facts {
		fmt.Fprintf(&m, "| %s | %s |\n", mdEscape(kv[0]), mdEscape(kv[1]))
	}
	m.WriteString("\nAll numbers are also in [summary.json](summary.json).\n")
	for i, f := range figs {
		fmt.Fprintf(&m, "\n## Figure %d. %s\n\n![%s](%s)\n\n%s\n", i+1, f.Title, f.Title, f.File, f.Caption)
	}
	return atomicfile.WriteFile(outPath(r.cfg, "report.md"), []byte(m.String()), pagePerm)
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

// pagePerm is the mode of the files the report writes: readable by all,
// like the PNGs, since the report is meant to be served and shared.
const pagePerm = 0o644

func units(n int) string {
	if n == 1 {
		return "1 unit"
	}
	return fmt.Sprintf("%d units", n)
}
