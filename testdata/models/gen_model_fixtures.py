#!/usr/bin/python3
"""Golden fixtures for vkneuro's models package.

Builds each tutorial network in PyTorch exactly as the Neuromatch
tutorials do (Tutorial 3 `CNN`, Bonus `DeepNetSoftmax`, `DeepNetReLU` and
`ConvFC`), with fixed initial weights and small but real data, trains it
full-batch with torch.optim.SGD and the tutorials' losses and penalties,
and writes one compressed .npz per model holding:

  x            network input (what forward() receives, already shaped)
  target       loss target (labels [S,1]; class indices [S]; responses [S,N])
  losses       per-step objective (penalties included) before each update
  init/<k>     state_dict entry k before training
  final/<k>    state_dict entry k after training
  hyper        [steps, lr, momentum, l2, l1]
  hidden/<l>   (normative) what a forward hook on module l sees for the
               first 3 inputs under the initial weights, viewed [3,-1]
  f32err/<k>   max |PyTorch float32 final − final/<k>|: how far PyTorch's
               own float32 training lands from the float64 reference

The training runs in float64 (parameters and data are float32 values
promoted to double) so that the reference is free of PyTorch's own
float32 rounding; the Go tests run in float32 and compare with
tolerances. Full batch, so no minibatch order is involved.

Run from the repository root:  /usr/bin/python3 testdata/models/gen_model_fixtures.py
"""
import copy
import os

import numpy as np
import torch
from torch import nn, optim

OUT = os.path.dirname(os.path.abspath(__file__))


def grating(angle, sf=1 / 28, res=0.1, patch=False, centred=False):
    """The tutorials' grating(); centred=True is the Bonus version (-0.5/0.5)."""
    angle = np.deg2rad(angle)
    wpix, hpix = 640, 480
    xx, yy = np.meshgrid(sf * np.arange(0, wpix * res) / res, sf * np.arange(0, hpix * res) / res)
    g = np.cos(xx * np.cos(angle) + yy * np.sin(angle))
    g[g < 0] = 0
    g[g > 0] = 1
    if centred:
        g -= 0.5
    return g.astype(np.float32)


def filters(out_channels=6, K=7, demean=False):
    """The tutorials' filters(); demean=True is the Bonus version."""
    grid = np.linspace(-K / 2, K / 2, K).astype(np.float32)
    xx, yy = np.meshgrid(grid, grid, indexing='ij')
    sigma = 1.1
    gaussian = np.exp(-(xx ** 2 + yy ** 2) ** 0.5 / (2 * sigma ** 2))
    wide_gaussian = np.exp(-(xx ** 2 + yy ** 2) ** 0.5 / (2 * (sigma * 2) ** 2))
    center_surround = gaussian - 0.5 * wide_gaussian
    thetas = np.linspace(0, 180, out_channels - 2 + 1)[:-1] * np.pi / 180
    gabors = np.zeros((len(thetas), K, K), np.float32)
    lam = 10
    phi = np.pi / 2
    gaussian = np.exp(-(xx ** 2 + yy ** 2) ** 0.5 / (2 * (sigma * 0.4) ** 2))
    for i, theta in enumerate(thetas):
        x = xx * np.cos(theta) + yy * np.sin(theta)
        gabors[i] = gaussian * np.cos(2 * np.pi * x / lam + phi)
    f = np.concatenate((center_surround[np.newaxis], -1 * center_surround[np.newaxis], gabors), axis=0)
    f /= np.abs(f).max(axis=(1, 2))[:, np.newaxis, np.newaxis]
    if demean:
        f -= f.mean(axis=(1, 2))[:, np.newaxis, np.newaxis]
    return f.astype(np.float32)[:, np.newaxis]


class CNN(nn.Module):
    """Tutorial 3's CNN (input already [p,1,48,64])."""

    def __init__(self, h_in, w_in):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, kernel_size=7, padding=3)
        self.pool = nn.MaxPool2d(8)
        self.dims = (6, h_in // 8, w_in // 8)
        self.fc = nn.Linear(int(np.prod(self.dims)), 10)
        self.out = nn.Linear(10, 1)
        self.conv.weight = nn.Parameter(torch.from_numpy(filters()))
        self.conv.bias = nn.Parameter(torch.zeros((6,), dtype=torch.float32))

    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = self.pool(x)
        x = x.view(-1, int(np.prod(self.dims)))
        x = torch.relu(self.fc(x))
        return torch.sigmoid(self.out(x))


class DeepNetSoftmax(nn.Module):
    def __init__(self, n_inputs, n_hidden, n_classes):
        super().__init__()
        self.in_layer = nn.Linear(n_inputs, n_hidden)
        self.out_layer = nn.Linear(n_hidden, n_classes)
        self.logprob = nn.LogSoftmax(dim=1)

    def forward(self, r):
        return self.logprob(self.out_layer(torch.relu(self.in_layer(r))))


class DeepNetReLU(nn.Module):
    def __init__(self, n_inputs, n_hidden):
        super().__init__()
        self.in_layer = nn.Linear(n_inputs, n_hidden)
        self.out_layer = nn.Linear(n_hidden, 1)

    def forward(self, r):
        return self.out_layer(torch.relu(self.in_layer(r)))


class ConvFC(nn.Module):
    def __init__(self, n_neurons, c_out=6, K=7, b=12 * 16):
        super().__init__()
        self.conv = nn.Conv2d(1, c_out, kernel_size=K, padding=K // 2, stride=1)
        self.dims = (c_out, b)
        self.out_layer = nn.Linear(int(np.prod(self.dims)), n_neurons)
        self.conv.weight = nn.Parameter(torch.from_numpy(filters(demean=True)))
        self.conv.bias = nn.Parameter(torch.zeros((c_out,), dtype=torch.float32))
        nn.init.normal_(self.out_layer.weight, std=0.01)

    def forward(self, s):
        a = self.conv(s)
        a = a.view(-1, int(np.prod(self.dims)))
        return self.out_layer(a)


def synthetic_v1(n_stim, n_neurons, rng, noise=0.3):
    """Orientation-tuned responses (von Mises in 2θ plus a direction
    term), z-scored per neuron: stands in for the Stringer recordings."""
    stim = np.linspace(0, 360, n_stim + 1)[:-1]
    pref = rng.uniform(0, 360, n_neurons)
    kappa = rng.uniform(0.5, 3, n_neurons)
    amp_dir = rng.uniform(0, 0.5, n_neurons)
    d = np.deg2rad(stim[:, None] - pref[None, :])
    tc = np.exp(kappa * (np.cos(2 * d) - 1)) + amp_dir * np.exp(np.cos(d) - 1)

    def draw():
        r = tc + noise * rng.standard_normal(tc.shape)
        return ((r - r.mean(0)) / r.std(0)).astype(np.float32)

    return stim.astype(np.float32), draw(), draw()


def regularized(loss, w, l2, l1):
    return loss + l1 * torch.abs(w).sum() + l2 * torch.square(w).sum()


def train(net, x, target, loss_fn, penalized, steps, lr, momentum, l2, l1, double=True):
    """The tutorials' full-batch loop: forward, loss (+ penalties),
    zero_grad, backward, step; the loss is recorded before the update."""
    xd = torch.from_numpy(x)
    td = torch.from_numpy(target)
    if double:
        net.double()
        xd = xd.double()
        td = td if td.dtype == torch.int64 else td.double()
    opt = optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    losses = []
    for _ in range(steps):
        out = net(xd)
        loss = loss_fn(out, td)
        if penalized is not None and (l2 > 0 or l1 > 0):
            loss = regularized(loss, dict(net.named_parameters())[penalized], l2, l1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return np.array(losses, np.float64)


def state(net):
    return {k: v.detach().float().numpy().copy() for k, v in net.state_dict().items()}


def hidden_activity(net, x, layers):
    """Tutorial 3's get_hidden_activity(): forward hooks on modules."""
    net = copy.deepcopy(net).double()
    act = {}
    mods = dict(net.named_children())
    hooks = [mods[l].register_forward_hook(
        lambda m, i, o, l=l: act.__setitem__(l, o.view(x.shape[0], -1).detach().numpy().copy()))
        for l in layers]
    net(torch.from_numpy(x).double())
    for h in hooks:
        h.remove()
    return act


def save(name, net, x, target, loss_fn, penalized, steps, lr, momentum, l2, l1, hidden=()):
    init = state(net)
    act = hidden_activity(net, x[:3], hidden) if hidden else {}
    net32 = copy.deepcopy(net)
    losses = train(net, x, target, loss_fn, penalized, steps, lr, momentum, l2, l1)
    final = state(net)
    train(net32, x, target, loss_fn, penalized, steps, lr, momentum, l2, l1, double=False)
    f32err = {k: np.abs(v - final[k]).max() for k, v in state(net32).items()}
    arrays = {'x': x, 'target': target, 'losses': losses,
              'hyper': np.array([steps, lr, momentum, l2, l1], np.float64)}
    arrays.update({'init/' + k: v for k, v in init.items()})
    arrays.update({'final/' + k: v for k, v in final.items()})
    arrays.update({'hidden/' + k: v for k, v in act.items()})
    arrays.update({'f32err/' + k: np.array([v], np.float64) for k, v in f32err.items()})
    path = os.path.join(OUT, name + '.npz')
    np.savez_compressed(path, **arrays)
    print(f'{path}: {os.path.getsize(path)} bytes, loss {losses[0]:.6g} -> {losses[-1]:.6g}')


def main():
    torch.set_num_threads(1)

    # Tutorial 3: 100 gratings at random orientations, label = tilted right.
    rng = np.random.default_rng(12)
    ori = (rng.random(100) - 0.5) * 180
    x = np.stack([grating(a) for a in ori])[:, np.newaxis]  # [100,1,48,64]
    y = (ori > 0).astype(np.float32)[:, np.newaxis]
    torch.manual_seed(12)
    net = CNN(48, 64)
    save('normative', net, x, y, nn.BCELoss(), None, 60, 5e-4, 0.99, 0, 0,
         hidden=('conv', 'pool', 'fc', 'out'))

    # Bonus decoding: 72 stimuli x 500 synthetic neurons, 20 classes.
    rng = np.random.default_rng(4)
    stim, resp, _ = synthetic_v1(72, 500, rng)
    bins = np.linspace(0, 360, 21)
    cls = (np.digitize(stim, bins) - 1).astype(np.int64)
    torch.manual_seed(1)
    net = DeepNetSoftmax(500, 20, 20)
    save('decode_softmax', net, resp, cls, nn.NLLLoss(), 'in_layer.weight', 300, 0.1, 0.0, 1e-2, 5e-4)

    # Bonus DeepNetReLU: regress the orientation in degrees with MSE.
    torch.manual_seed(1)
    net = DeepNetReLU(500, 10)
    save('decode_relu', net, resp, stim[:, np.newaxis].copy(), nn.MSELoss(), None, 50, 1e-4, 0.0, 0, 0)

    # Bonus encoding: 24 centred 12x16 gratings -> 64 synthetic neurons.
    # The tutorial's lr 2 diverges here: the MSE gradient of each output
    # weight scales as 1/N and the tutorial has N = 23589 neurons, we 64.
    # lr 0.5 still oscillates early (exercising momentum) and converges.
    rng = np.random.default_rng(6)
    stim, resp_train, _ = synthetic_v1(24, 64, rng)
    oris = np.linspace(0, 360, 25)[:-1] - 180
    x = np.stack([grating(a, res=0.025, centred=True) for a in oris])[:, np.newaxis]  # [24,1,12,16]
    torch.manual_seed(6)
    net = ConvFC(64)
    save('encode', net, x, resp_train, nn.MSELoss(), 'out_layer.weight', 200, 0.5, 0.9, 5e-4, 1e-6)


if __name__ == '__main__':
    main()
