package models

import (
	"fmt"
	"strings"

	"github.com/vkneuro/vkneuro/kernels"
)

// Loss is the data term of a network's objective: one of PyTorch's loss
// modules with mean reduction.
type Loss int

const (
	// BCE is nn.BCELoss on probabilities (a network ending in Sigmoid);
	// targets are 0/1 with the output's shape.
	BCE Loss = iota
	// NLL is nn.NLLLoss on log-probabilities [N, C] (a network ending in
	// LogSoftmax(dim=1)); targets are class indices [N].
	NLL
	// MSE is nn.MSELoss; targets have the output's shape.
	MSE
	// BCEWithLogits is nn.BCEWithLogitsLoss on logits (no Sigmoid at the
	// end); targets are 0/1 with the output's shape.
	BCEWithLogits
	// CrossEntropy is nn.CrossEntropyLoss on logits [N, C]: log-softmax
	// and NLL in one; targets are class indices [N].
	CrossEntropy
	// PoissonNLL is nn.PoissonNLLLoss() (log_input=True, full=False,
	// eps=1e-8): the output is the log of the rate; targets are counts
	// with the output's shape.
	PoissonNLL
	// PoissonNLLRate is nn.PoissonNLLLoss(log_input=False): the output
	// is the rate itself (e.g. after Softplus).
	PoissonNLLRate
)

// poissonEps is nn.PoissonNLLLoss's default eps.
const poissonEps = 1e-8

var lossNames = map[Loss]string{
	BCE: "bce", NLL: "nll", MSE: "mse", BCEWithLogits: "bce-logits",
	CrossEntropy: "cross-entropy", PoissonNLL: "poisson", PoissonNLLRate: "poisson-rate",
}

// String is the loss's command-line name (ParseLoss reads it back).
func (l Loss) String() string {
	if s, ok := lossNames[l]; ok {
		return s
	}
	return fmt.Sprintf("Loss(%d)", int(l))
}

// ParseLoss reads a loss by its command-line name: bce, bce-logits, mse,
// nll, cross-entropy, poisson (log_input=True) or poisson-rate
// (log_input=False).
func ParseLoss(s string) (Loss, error) {
	for l, name := range lossNames {
		if name == s {
			return l, nil
		}
	}
	return 0, fmt.Errorf("unknown loss %q (want %s)", s, strings.Join(LossNames(), ", "))
}

// LossNames lists the command-line names of the losses.
func LossNames() []string {
	names := make([]string, 0, len(lossNames))
	for l := BCE; l <= PoissonNLLRate; l++ {
		names = append(names, lossNames[l])
	}
	return names
}

// classes reports whether targets are class indices.
func (l Loss) classes() bool { return l == NLL || l == CrossEntropy }

// check says whether the loss fits a network whose last module is last
// (nil for an empty network) and whose per-sample output shape is out.
func (l Loss) check(out []int, last Layer) error {
	if _, ok := lossNames[l]; !ok {
		return fmt.Errorf("unknown loss %d", int(l))
	}
	if l.classes() && (len(out) != 1 || out[0] < 2) {
		return fmt.Errorf("loss %s needs one score per class, an output of [C] per sample with C ≥ 2, but the network gives %s", l, shapeText(out))
	}
	switch l {
	case BCE:
		if _, ok := last.(Sigmoid); !ok {
			return fmt.Errorf("loss bce needs probabilities: end the network with Sigmoid(), or use the loss bce-logits on its logits")
		}
	case NLL:
		if ls, ok := last.(LogSoftmax); !ok || (ls.Dim != 1 && ls.Dim != -1) {
			return fmt.Errorf("loss nll needs log-probabilities: end the network with LogSoftmax(dim=1), or use the loss cross-entropy on its logits")
		}
	case BCEWithLogits, CrossEntropy:
		switch last.(type) {
		case Sigmoid, Softmax, LogSoftmax:
			return fmt.Errorf("loss %s takes logits, but the network ends in %s: remove it (or use bce/nll)", l, last)
		}
	}
	return nil
}

// scratch are the per-batch tensors the loss keeps between its forward
// and its backward, for batch size n and output shape out.
func (l Loss) scratch(n int, out []int) [][]int {
	if l == CrossEntropy {
		return [][]int{withBatch(n, out), withBatch(n, out)} // log-probabilities, their gradient
	}
	return nil
}

// record adds the loss of output y against target t into loss[0] and
// its gradient into dy; scratch holds the tensors of l.scratch.
func (l Loss) record(p kernels.Program, loss, dy, y, t *kernels.Tensor, scratch []*kernels.Tensor) {
	switch l {
	case BCE:
		p.BCELoss(loss, y, t)
		p.BCEBackward(dy, y, t)
	case BCEWithLogits:
		p.BCEWithLogitsLoss(loss, y, t)
		p.BCEWithLogitsBackward(dy, y, t)
	case NLL:
		p.NLLLoss(loss, y, t)
		p.NLLBackward(dy, t)
	case CrossEntropy:
		logp, dlogp := scratch[0], scratch[1]
		p.Softmax(logp, y, 1, true)
		p.NLLLoss(loss, logp, t)
		p.NLLBackward(dlogp, t)
		p.SoftmaxBackward(dy, dlogp, logp, 1, true)
	case MSE:
		p.MSELoss(loss, y, t)
		p.MSEBackward(dy, y, t)
	case PoissonNLL, PoissonNLLRate:
		p.PoissonNLLLoss(loss, y, t, l == PoissonNLL, poissonEps)
		p.PoissonNLLBackward(dy, y, t, l == PoissonNLL, poissonEps)
	}
}

func (m *Model) recordLoss(p kernels.Program, g *recording) {
	L := len(m.nodes)
	for _, s := range m.Loss.scratch(g.n, m.outShape()) {
		g.lossScratch = append(g.lossScratch, g.alloc(s...))
	}
	// The penalties are added by the parameters' updates (updates).
	m.Loss.record(p, g.loss, g.grads[L-1], g.acts[L-1], g.t, g.lossScratch)
}
