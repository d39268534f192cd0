#!/usr/bin/env python3
"""PyTorch reference for the benchmark: the tutorials' three training loops.

Same command line as vkneuro train (the subset the harness uses), same
input files (written by bench/gen_data.py), same outputs:

    pytorch_ref.py normative|decode|encode --data F.npz [--stimuli F.npz]
        --init F.npz [--epochs N] [--batch N] [--iters N] [--lr X]
        [--momentum X] [--l1 X] [--l2 X] [--seed N] [--threads T]
        [--device cpu|cuda] [--metrics F.csv] [--summary F.json] [--quiet]

Models, losses and optimiser follow the tutorials exactly:

  normative (Tutorial 3): Conv2d(1,6,7,pad 3) → ReLU → MaxPool2d(8) → Linear(288,10)
      → ReLU → Linear(10,1) → sigmoid; BCELoss; SGD with momentum over shuffled
      mini-batches (torch.randperm each epoch).
  decode (Bonus 2.3): DeepNetSoftmax: Linear(N,20) → ReLU → Linear(20,20) → LogSoftmax;
      NLLLoss on 20 orientation classes + l2·Σw² + l1·Σ|w| on in_layer.weight;
      full-batch SGD.
  encode (Bonus 3.2): ConvFC: Conv2d(1,6,7,pad 3) → flatten → Linear(6·12·16, N);
      MSELoss + l2·Σw² + l1·Σ|w| on out_layer.weight; full-batch SGD with momentum.

Only the training loop is timed (time.perf_counter around it, loss.item()
each step included, as the per-step losses are recorded). The summary JSON
has train_seconds, steps, final_loss, step_seconds, threads, backend.

With --device cuda, model and data live on the GPU before the clock
starts (the mini-batch order still comes from torch.randperm on the CPU,
as in a CPU run); loss.item() each step waits for the GPU, and the clock
stops after torch.cuda.synchronize().
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time

import numpy as np
import torch
from torch import nn, optim


class CNN(nn.Module):
    """Tutorial 3's normative model; input [P,48,64]."""

    def __init__(self, h_in, w_in):
        super().__init__()
        self.conv = nn.Conv2d(1, 6, kernel_size=7, padding=3)
        self.pool = nn.MaxPool2d(8)
        self.dims = (6, h_in // 8, w_in // 8)
        self.fc = nn.Linear(int(np.prod(self.dims)), 10)
        self.out = nn.Linear(10, 1)

    def forward(self, x):
        x = x.unsqueeze(1)
        x = torch.relu(self.conv(x))
        x = self.pool(x)
        x = x.view(-1, int(np.prod(self.dims)))
        x = torch.relu(self.fc(x))
        return torch.sigmoid(self.out(x))


class DeepNetSoftmax(nn.Module):
    """Bonus tutorial's decoder."""

    def __init__(self, n_inputs, n_hidden, n_classes):
        super().__init__()
        self.in_layer = nn.Linear(n_inputs, n_hidden)
        self.out_layer = nn.Linear(n_hidden, n_classes)
        self.logprob = nn.LogSoftmax(dim=1)

    def forward(self, r):
        h = torch.relu(self.in_layer(r))
        return self.logprob(self.out_layer(h))


class ConvFC(nn.Module):
    """Bonus tutorial's encoding model; input [S,1,h,w]."""

    def __init__(self, n_neurons, h, w, c_out=6, K=7):
        super().__init__()
        self.conv = nn.Conv2d(1, c_out, kernel_size=K, padding=K // 2, stride=1)
        self.dims = (c_out, h * w)
        self.out_layer = nn.Linear(int(np.prod(self.dims)), n_neurons)

    def forward(self, s):
        a = self.conv(s)
        a = a.view(-1, int(np.prod(self.dims)))
        return self.out_layer(a)


def regularized(loss, weights, l2, l1):
    """The tutorials' penalties: l2·Σw² + l1·Σ|w| added to the data loss."""
    if l2 > 0 or l1 > 0:
        loss = loss + l2 * torch.square(weights).sum() + l1 * torch.abs(weights).sum()
    return loss


def stimulus_class(ori, n_classes):
    """Bonus tutorial's stimulus_class: bin degrees in [0,360) into classes."""
    bins = np.linspace(0, 360, n_classes + 1)
    return torch.tensor(np.digitize(ori, bins) - 1, dtype=torch.long)


def load(path, keys, what):
    try:
        z = np.load(path)
    except Exception as e:
        raise SystemExit(f'pytorch_ref: {what} {path}: {e}')
    out = {}
    with z:
        for k in keys:
            if k not in z.files:
                raise SystemExit(f'pytorch_ref: {what} {path}: key {k!r} missing (have {sorted(z.files)})')
            out[k] = torch.from_numpy(np.ascontiguousarray(z[k], dtype=np.float32))
    return out


def load_init(net, path):
    names = list(net.state_dict().keys())
    arrays = load(path, names, '--init')
    want = net.state_dict()
    for k in names:
        if tuple(arrays[k].shape) != tuple(want[k].shape):
            raise SystemExit(f'pytorch_ref: --init {path}: key {k!r}: shape {tuple(arrays[k].shape)}, '
                             f'model needs {tuple(want[k].shape)}')
    net.load_state_dict(arrays)


def write_atomic(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, suffix='.tmp')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def device(name):
    """The torch.device for --device, or a clear exit when CUDA is missing."""
    if name == 'cuda' and not torch.cuda.is_available():
        raise SystemExit(f'pytorch_ref: --device cuda: torch {torch.__version__} sees no CUDA GPU '
                         f'(torch.cuda.is_available() is False; built with CUDA {torch.version.cuda})')
    return torch.device(name)


def sync(dev):
    if dev.type == 'cuda':
        torch.cuda.synchronize(dev)


def run(a):
    torch.manual_seed(a.seed)
    dev = device(a.device)
    losses = []
    if a.workload == 'normative':
        d = load(a.data, ['stimuli', 'labels'], '--data')
        x, y = d['stimuli'], d['labels']
        if x.dim() != 3 or y.shape != (x.shape[0],):
            raise SystemExit(f'pytorch_ref: --data {a.data}: need stimuli [S,H,W] and labels [S], '
                             f'got {tuple(x.shape)} and {tuple(y.shape)}')
        y = y.unsqueeze(-1)
        net = CNN(x.shape[1], x.shape[2])
        load_init(net, a.init)
        net.to(dev)
        x, y = x.to(dev), y.to(dev)
        loss_fn = nn.BCELoss()
        opt = optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum)
        batch = a.batch if a.batch > 0 else x.shape[0]
        sync(dev)
        t0 = time.perf_counter()
        for _ in range(a.epochs):
            perm = torch.randperm(x.shape[0]).to(dev)
            for xb, yb in zip(torch.split(x[perm], batch), torch.split(y[perm], batch)):
                loss = loss_fn(net(xb), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
        sync(dev)
        secs = time.perf_counter() - t0
    elif a.workload == 'decode':
        d = load(a.data, ['resp', 'stimuli'], '--data')
        r, ori = d['resp'], d['stimuli']
        if r.dim() != 2 or ori.shape != (r.shape[0],):
            raise SystemExit(f'pytorch_ref: --data {a.data}: need resp [S,N] and stimuli [S], '
                             f'got {tuple(r.shape)} and {tuple(ori.shape)}')
        labels = stimulus_class(ori.numpy(), 20)
        net = DeepNetSoftmax(r.shape[1], 20, 20)
        load_init(net, a.init)
        net.to(dev)
        r, labels = r.to(dev), labels.to(dev)
        loss_fn = nn.NLLLoss()
        opt = optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum)
        if a.batch != 0:
            raise SystemExit('pytorch_ref: decode trains full batch (--batch 0)')
        sync(dev)
        t0 = time.perf_counter()
        for _ in range(a.iters):
            loss = regularized(loss_fn(net(r), labels), net.in_layer.weight, a.l2, a.l1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        sync(dev)
        secs = time.perf_counter() - t0
    else:
        if not a.stimuli:
            raise SystemExit('pytorch_ref: encode needs --stimuli FILE.npz')
        d = load(a.data, ['resp_train'], '--data')
        s = load(a.stimuli, ['stimuli'], '--stimuli')['stimuli']
        y = d['resp_train']
        if s.dim() != 4 or s.shape[1] != 1 or y.dim() != 2 or y.shape[0] != s.shape[0]:
            raise SystemExit(f'pytorch_ref: encode: need stimuli [S,1,H,W] and resp_train [S,N], '
                             f'got {tuple(s.shape)} and {tuple(y.shape)}')
        net = ConvFC(y.shape[1], s.shape[2], s.shape[3])
        load_init(net, a.init)
        net.to(dev)
        s, y = s.to(dev), y.to(dev)
        loss_fn = nn.MSELoss()
        opt = optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum)
        if a.batch != 0:
            raise SystemExit('pytorch_ref: encode trains full batch (--batch 0)')
        sync(dev)
        t0 = time.perf_counter()
        for _ in range(a.iters):
            loss = regularized(loss_fn(net(s), y), net.out_layer.weight, a.l2, a.l1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        sync(dev)
        secs = time.perf_counter() - t0
    return losses, secs


def main(argv):
    p = argparse.ArgumentParser(description='PyTorch reference training loops for the vkneuro benchmark')
    p.add_argument('workload', choices=['normative', 'decode', 'encode'])
    p.add_argument('--data', required=True)
    p.add_argument('--stimuli', default='')
    p.add_argument('--init', required=True)
    p.add_argument('--epochs', type=int, default=25)
    p.add_argument('--batch', type=int, default=0, help='mini-batch size, 0 = full batch')
    p.add_argument('--iters', type=int, default=300)
    p.add_argument('--lr', type=float, required=True)
    p.add_argument('--momentum', type=float, default=0.0)
    p.add_argument('--l1', type=float, default=0.0)
    p.add_argument('--l2', type=float, default=0.0)
    p.add_argument('--test-frac', type=float, default=0.0, help='accepted for parity with vkneuro train; must be 0')
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--threads', type=int, default=0, help='torch.set_num_threads (0: leave as is)')
    p.add_argument('--device', choices=['cpu', 'cuda'], default='cpu', help='where the model trains')
    p.add_argument('--metrics', default='')
    p.add_argument('--summary', default='')
    p.add_argument('--quiet', action='store_true')
    a = p.parse_args(argv)
    if a.test_frac != 0:
        p.error('--test-frac must be 0: the benchmark trains on all the data')
    if a.epochs < 0 or a.iters < 0 or a.batch < 0:
        p.error('--epochs, --iters and --batch must not be negative')
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    losses, secs = run(a)
    final = losses[-1] if losses else float('nan')
    if a.metrics:
        write_atomic(a.metrics, 'step,loss\n' + ''.join(f'{i + 1},{v!r}\n' for i, v in enumerate(losses)))
    summary = {
        'framework': 'pytorch',
        'torch_version': torch.__version__,
        'workload': a.workload,
        'backend': a.device,
        'threads': torch.get_num_threads(),
        'steps': len(losses),
        'train_seconds': secs,
        'step_seconds': secs / len(losses) if losses else float('nan'),
        'final_loss': final if math.isfinite(final) else None,
    }
    if a.device == 'cuda':
        summary['device_name'] = torch.cuda.get_device_name()
    if a.summary:
        write_atomic(a.summary, json.dumps(summary, indent=1) + '\n')
    if not a.quiet:
        print(json.dumps(summary))


if __name__ == '__main__':
    main(sys.argv[1:])
