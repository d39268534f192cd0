#!/usr/bin/python3
"""Golden fixtures for networks users compose (models.New, --arch).

For each case of custom.json, builds nn.Sequential from the case's
architecture string exactly as a user's PyTorch code would
(nn.Sequential(<arch>)), draws its initial weights with torch's default
initialisation, makes small but real data for the case's task, and
trains it full batch with the case's loss, L1/L2 penalties, torch.optim
optimizer and lr_scheduler (stepped once per epoch; a full-batch step is
one epoch). Writes custom_<name>.npz holding:

  x, target    network input [S, *input] and loss target
  losses       per-step objective (penalties included) before each update
  lrs          the learning rate each step used
  init/<k>     nn.Sequential's state_dict before training ("0.weight", ...)
  final/<k>    the state_dict after training
  f32err/<k>   max |PyTorch float32 final - final/<k>|

The reference trains in float64 (float32 values promoted); the Go test
trains in float32 and compares with tolerances, as gen_model_fixtures.py
explains.

Run from the repository root:  /usr/bin/python3 testdata/models/gen_custom_fixtures.py
"""
import copy
import json
import os
import sys

import numpy as np
import torch
from torch import nn, optim

OUT = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, OUT)
import gen_model_fixtures as tut  # noqa: E402  (the tutorials' grating() and synthetic V1)


def build(arch):
    """nn.Sequential(<arch>), with the module names of torch.nn in scope."""
    return eval('nn.Sequential(' + arch + ')', {'nn': nn, '__builtins__': {}}, vars(nn))


def make_loss(name):
    return {
        'bce': nn.BCELoss(), 'bce-logits': nn.BCEWithLogitsLoss(), 'mse': nn.MSELoss(),
        'nll': nn.NLLLoss(), 'cross-entropy': nn.CrossEntropyLoss(),
        'poisson': nn.PoissonNLLLoss(), 'poisson-rate': nn.PoissonNLLLoss(log_input=False),
    }[name]


def make_optimizer(params, o):
    kw = {k: v for k, v in o.items() if k not in ('kind',)}
    if 'betas' in kw:
        kw['betas'] = tuple(kw['betas'])
    return {'sgd': optim.SGD, 'adam': optim.Adam, 'adamw': optim.AdamW}[o['kind']](params, **kw)


def make_schedule(opt, text):
    parts = text.split(':')
    if parts[0] == 'none':
        return None
    if parts[0] == 'step':
        return optim.lr_scheduler.StepLR(opt, step_size=int(parts[1]), gamma=float(parts[2]))
    if parts[0] == 'cosine':
        eta = float(parts[2]) if len(parts) > 2 else 0.0
        return optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(parts[1]), eta_min=eta)
    raise ValueError(text)


def data(case, rng):
    """Inputs and targets for the case's task."""
    inp = case['input']
    if case['task'] == 'normative':
        # Tutorial 3's gratings at random orientations, downsampled 2x to
        # 24x32; label: tilted right.
        ori = (rng.random(40) - 0.5) * 180
        x = np.stack([tut.grating(a)[::2, ::2] for a in ori])[:, np.newaxis]
        assert list(x.shape[1:]) == inp, x.shape
        return x.astype(np.float32), (ori > 0).astype(np.float32)[:, np.newaxis]
    if case['task'] == 'decode':
        stim, resp, _ = tut.synthetic_v1(72, inp[0], rng)
        cls = (np.digitize(stim, np.linspace(0, 360, 9)) - 1).astype(np.int64)
        return resp, cls
    # encode: centred 12x16 gratings -> 40 synthetic neurons.
    stim, resp, _ = tut.synthetic_v1(24, 40, rng)
    oris = np.linspace(0, 360, 25)[:-1] - 180
    x = np.stack([tut.grating(a, res=0.025, centred=True) for a in oris])[:, np.newaxis]
    if case['loss'].startswith('poisson'):
        # Spike counts from the tuning (rates 0.2-5).
        rate = 0.2 + 4.8 * (resp - resp.min()) / (resp.max() - resp.min())
        return x, rng.poisson(rate).astype(np.float32)
    return x, resp


def train(net, case, x, target, double=True):
    xd, td = torch.from_numpy(x), torch.from_numpy(target)
    if double:
        net.double()
        xd = xd.double()
        td = td if td.dtype == torch.int64 else td.double()
    loss_fn = make_loss(case['loss'])
    opt = make_optimizer(net.parameters(), case['optimizer'])
    sched = make_schedule(opt, case['schedule'])
    params = dict(net.named_parameters())
    losses, lrs = [], []
    net.train()
    for _ in range(case['steps']):
        lrs.append(opt.param_groups[0]['lr'])
        loss = loss_fn(net(xd), td)
        for p in case['penalties']:
            w = params[p['param']]
            loss = loss + p['l1'] * torch.abs(w).sum() + p['l2'] * torch.square(w).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(loss.item())
    return np.array(losses, np.float64), np.array(lrs, np.float64)


def state(net):
    return {k: v.detach().float().numpy().copy() for k, v in net.state_dict().items()}


def main():
    torch.set_num_threads(1)
    with open(os.path.join(OUT, 'custom.json')) as f:
        cases = json.load(f)['cases']
    for i, case in enumerate(cases):
        rng = np.random.default_rng(100 + i)
        x, target = data(case, rng)
        torch.manual_seed(100 + i)
        net = build(case['arch'])
        init = state(net)
        net32 = copy.deepcopy(net)
        losses, lrs = train(net, case, x, target)
        final = state(net)
        train(net32, case, x, target, double=False)
        f32err = {k: np.abs(v - final[k]).max() for k, v in state(net32).items()}
        arrays = {'x': x, 'target': target.astype(np.float32), 'losses': losses, 'lrs': lrs}
        arrays.update({'init/' + k: v for k, v in init.items()})
        arrays.update({'final/' + k: v for k, v in final.items()})
        arrays.update({'f32err/' + k: np.array([v], np.float64) for k, v in f32err.items()})
        path = os.path.join(OUT, 'custom_' + case['name'] + '.npz')
        np.savez_compressed(path, **arrays)
        print(f"{path}: {os.path.getsize(path)} bytes, loss {losses[0]:.6g} -> {losses[-1]:.6g}, "
              f"max f32err {max(f32err.values()):.3g}")


if __name__ == '__main__':
    main()
