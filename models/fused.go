package models

import "github.com/vkneuro/vkneuro/kernels"

// Fused blocks: runs of modules that a training step records as one
// fused op each way (kernels.Ops), for any network, not only the
// presets. Each block kind keeps its forward and backward together.
// Evaluation and input-gradient Programs record the modules one by one.
//
// The parameter updates fuse too (updates, optim.go): a Linear's weight
// is updated where its backward forms the gradient, every parameter's
// penalties and optimizer are one op.

// convPool is Conv2d → [ReLU] → MaxPool2d: Conv2DMaxPool forward, whose
// backward takes the gradient from the pool's maxima alone. The
// convolution's output is written (Activation and Hidden can name it),
// the ReLU's only when the ReLU is a named module; nothing reads either
// in the step.
type convPool struct {
	conv        Conv2d
	relu        bool
	pool        MaxPool2d
	first, last int // node indices of the convolution and the pool
	reluAt      int // node index of the ReLU, when relu
}

// blocks are a recording's fused blocks by first and last node.
type blocks struct{ byFirst, byLast map[int]convPool }

func (bs blocks) starting(i int) (convPool, bool) { b, ok := bs.byFirst[i]; return b, ok }
func (bs blocks) ending(i int) (convPool, bool)   { b, ok := bs.byLast[i]; return b, ok }

// fusedBlocks finds the blocks of a training step (none otherwise).
func (m *Model) fusedBlocks(train bool) blocks {
	bs := blocks{map[int]convPool{}, map[int]convPool{}}
	if !train {
		return bs
	}
	for i := 0; i < len(m.nodes); i++ {
		conv, ok := m.nodes[i].layer.(Conv2d)
		if !ok {
			continue
		}
		b := convPool{conv: conv, first: i}
		j := i + 1
		if j < len(m.nodes) {
			if _, ok := m.nodes[j].layer.(ReLU); ok {
				b.relu, b.reluAt = true, j
				j++
			}
		}
		if j >= len(m.nodes) {
			continue
		}
		if b.pool, ok = m.nodes[j].layer.(MaxPool2d); !ok {
			continue
		}
		b.last = j
		bs.byFirst[i], bs.byLast[j] = b, b
		i = j
	}
	return bs
}

func (b convPool) params() kernels.ConvPoolParams {
	return kernels.ConvPoolParams{Conv: b.conv.params(), ReLU: b.relu, Pool: b.pool.pool()}
}

func (b convPool) forward(m *Model, p kernels.Program, g *recording) {
	conv := m.nodes[b.first]
	var bias, r *kernels.Tensor
	if bp := b.conv.bias(conv.params); bp != nil {
		bias = bp.Value
	}
	if b.relu && m.nodes[b.reluAt].name != "" {
		r = g.acts[b.reluAt]
	}
	p.Conv2DMaxPool(g.acts[b.last], g.saved[b.last][0], g.acts[b.first], r, m.input(g, b.first), conv.params[0].Value, bias, b.params())
}

func (b convPool) backward(m *Model, p kernels.Program, g *recording) {
	conv := m.nodes[b.first]
	var db, dx *kernels.Tensor
	if bp := b.conv.bias(conv.params); bp != nil {
		db = bp.Grad
	}
	if b.first > 0 {
		dx = g.grads[b.first-1]
	}
	p.Conv2DMaxPoolBackward(conv.params[0].Grad, db, dx, g.grads[b.last], g.acts[b.last], g.saved[b.last][0],
		m.input(g, b.first), conv.params[0].Value, b.params())
}
