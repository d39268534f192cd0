package report

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io"
	"strings"
	texttemplate "text/template"

	"github.com/vkneuro/vkneuro/internal/atomicfile"
	"github.com/vkneuro/vkneuro/models"
)

// The page templates: html/template escapes every value for its context
// (text, attribute, URL), which hand-built HTML had to do call by call.
//
//go:embed templates/index.html templates/report.md
var templateFS embed.FS

var (
	pageFuncs = map[string]any{"inc": func(i int) int { return i + 1 }}
	indexTmpl = htmltemplate.Must(htmltemplate.New("index.html").Funcs(pageFuncs).ParseFS(templateFS, "templates/index.html"))
	// Markdown has no escaping of its own; cell keeps a | inside a table
	// cell from ending it.
	mdTmpl = texttemplate.Must(texttemplate.New("report.md").
		Funcs(pageFuncs).Funcs(map[string]any{"cell": func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }}).
		ParseFS(templateFS, "templates/report.md"))
)

// fact is one row of the table at the top of the pages.
type fact struct{ Name, Value string }

// page is what the templates are executed on: the facts, then the
// figures section by section, numbered through.
type page struct {
	Synthetic bool
	Facts     []fact
	Sections  []pageSection
}

type pageSection struct {
	Name, About string
	Figures     []numbered
}

type numbered struct {
	N int
	Figure
}

// pageSections groups figs by section, in the sections' order, leaving
// out sections without figures.
func pageSections(figs []Figure) []pageSection {
	var out []pageSection
	n := 0
	for _, sec := range sections {
		ps := pageSection{Name: sec.Name, About: sec.About}
		for _, f := range figs {
			if f.Section == sec.Name {
				n++
				ps.Figures = append(ps.Figures, numbered{n, f})
			}
		}
		if len(ps.Figures) > 0 {
			out = append(out, ps)
		}
	}
	return out
}

// facts are the numbers shown at the top of index.html and report.md.
func (r *report) facts() []fact {
	c := r.cfg
	var f []fact
	add := func(k, format string, a ...any) { f = append(f, fact{k, fmt.Sprintf(format, a...)}) }
	if r.v1Source == "synthetic" {
		add("V1 data", "SYNTHETIC (data.SyntheticV1, seed %d): %d model neurons, %d orientation bins — not a recording", c.Seed, r.layers[0].N, r.v1FileStimuli)
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
			c.TrainSamples, c.Epochs, c.Batch, c.LR, c.Momentum, c.Seed, r.trainSteps, r.trainSeconds, r.trainFinalLoss, r.savedModel)
	}
	add("Model test accuracy", "%.3f on %d gratings (−89.5° … 89.5°)", r.testAccuracy, len(models.NormativeTestAngles()))
	for _, l := range r.layers[1:] {
		if l.RSA != nil {
			add("RSA V1 vs "+l.Name, "%.4f, 95%% interval [%.4f, %.4f] (%s)", *l.RSA, l.RSACI.Lo, l.RSACI.Hi, units(l.N))
		} else {
			add("RSA V1 vs "+l.Name, "undefined: %s (%s)", l.RSAer, units(l.N))
		}
	}
	for _, n := range r.bonusNets {
		var parts []string
		for _, l := range n.Layers {
			if l.RSA != nil {
				parts = append(parts, fmt.Sprintf("%s %.4f [%.4f, %.4f]", l.Name, *l.RSA, l.RSACI.Lo, l.RSACI.Hi))
			}
		}
		add("Bonus network "+n.Title, "test accuracy %.3f; RSA with V1: %s", n.Test, strings.Join(parts, ", "))
	}
	if d := r.decode; d != nil {
		for _, dr := range []*decodeRun{d.ReLU, d.Softmax, d.Penalized} {
			if dr == nil {
				continue
			}
			metric := fmt.Sprintf("test fraction correct %.3f (train %.3f)", dr.Test, dr.Train)
			if dr.Variant == models.DecodeReLU {
				metric = fmt.Sprintf("test MSE %.2f (train %.2f), loss at steps 10…50: %s", dr.Test, dr.Train, every10(dr.Losses))
			}
			add("Decoder "+dr.Title, "%s; %d steps in %.2f s", metric, dr.Steps, dr.Seconds)
		}
	} else if r.decodeSkipped != "" {
		add("Decoder", "not trained (%s)", r.decodeSkipped)
	}
	if e := r.enc; e != nil {
		add("Split V1 data", "%s", r.splitDesc)
		add("Encoder", "%s: median test correlation %.3f, normalised %.3f, FEVE %.3f (%d neurons)", e.source(), e.Summary.TestCorr.Median, e.Summary.NormCorr.Median, e.Summary.FEVE.Median, e.N)
		var parts []string
		for _, fs := range e.Features {
			parts = append(parts, fmt.Sprintf("%s %.3f", fs.Name, fs.Summary.TestCorr.Median))
		}
		add("Ridge baselines (median test correlation)", "%s", strings.Join(parts, ", "))
		add("RSA noise ceiling", "%.4f [%.4f, %.4f] over the split data's %d stimuli ≤ 180°", e.Ceiling.RSA, e.Ceiling.Lo, e.Ceiling.Hi, e.RSAStimuli)
	} else if r.encSkip != "" {
		add("Encoder", "not fitted (%s)", r.encSkip)
	}
	if sp := r.spectrum; sp != nil && sp.Alpha > 0 {
		add("V1 eigenspectrum", "power law α = %.2f over dimensions %d–%d (cvPCA of the split data)", sp.Alpha, sp.FitLo, sp.FitHi)
	}
	add("Backend", "%s (%s)", r.backend, r.device)
	add("Wall time", "%.1f s (V1 RDM %.2f s)", r.timings["total_s"], r.timings["rdm_V1_s"])
	return f
}

// writePages writes index.html and report.md.
func (r *report) writePages(figs []Figure) error {
	p := page{Synthetic: r.v1Synthetic, Facts: r.facts(), Sections: pageSections(figs)}
	if err := atomicfile.Write(r.outPath("index.html"), pagePerm, func(w io.Writer) error { return indexTmpl.Execute(w, p) }); err != nil {
		return err
	}
	return atomicfile.Write(r.outPath("report.md"), pagePerm, func(w io.Writer) error { return mdTmpl.Execute(w, p) })
}

func units(n int) string {
	if n == 1 {
		return "1 unit"
	}
	return fmt.Sprintf("%d units", n)
}
