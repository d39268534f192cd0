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

// page is what the templates are executed on.
type page struct {
	Synthetic bool
	Facts     []fact
	Figures   []Figure
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
			add("RSA V1 vs "+l.Name, "%.4f (%s)", *l.RSA, units(l.N))
		} else {
			add("RSA V1 vs "+l.Name, "undefined: %s (%s)", l.RSAer, units(l.N))
		}
	}
	if d := r.decode; d != nil {
		add("Decoder", "test accuracy %.3f (train %.3f), %d steps in %.2f s", d.TestAcc, d.TrainAccuracy, d.Steps, d.Seconds)
	} else if r.decodeSkipped != "" {
		add("Decoder", "not trained (%s)", r.decodeSkipped)
	}
	add("Backend", "%s (%s)", r.backend, r.device)
	add("Wall time", "%.1f s (V1 RDM %.2f s)", r.timings["total_s"], r.timings["rdm_V1_s"])
	return f
}

// writePages writes index.html and report.md.
func (r *report) writePages(figs []Figure) error {
	p := page{Synthetic: r.v1Synthetic, Facts: r.facts(), Figures: figs}
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
