#!/usr/bin/env python3
"""Write the benchmark inputs for one workload into a directory.

The harness (bench/cmd/compare) calls this once per workload and size, then
trains vkneuro train and bench/pytorch_ref.py on exactly these files,
so both frameworks see the same data and start from the same weights.

    gen_data.py normative --out DIR [--n 1000]
    gen_data.py decode    --out DIR [--s 216] [--n 23589]
    gen_data.py encode    --out DIR [--s 60]  [--n 23589]

Files written (numpy .npz, float32):

    normative: data.npz  stimuli [S,48,64] (Tutorial 3 grating(), res 0.1),
                         labels [S] (1. tilted right, 0. left)
               init.npz  conv.weight conv.bias fc.weight fc.bias out.weight out.bias
    decode:    data.npz  resp [S,N], stimuli [S] (degrees in [0,360))
               init.npz  in_layer.weight in_layer.bias out_layer.weight out_layer.bias
    encode:    data.npz  resp_train [S,N], resp_test [S,N], stimuli [S] (degrees)
               stimuli.npz  stimuli [S,1,12,16] (Bonus grating(res=0.025), centred −0.5/0.5)
               init.npz  conv.weight conv.bias out_layer.weight out_layer.bias

Responses are synthetic (von Mises tuning plus noise): speed does not depend
on their values, but tuned data make the losses fall the way real data do, so
the loss-trajectory parity check compares something meaningful.
"""

import argparse
import os
import sys
import tempfile

import numpy as np
import torch
from torch import nn

N_NEURONS = 23589  # neurons in the tutorials' Stringer recordings


def grating(angle, sf=1 / 28, res=0.1, centred=False):
    """The tutorials' grating() without the patch option.

    Tutorial 3 returns 0/1 pixels; the Bonus tutorial subtracts 0.5
    (centred=True).
    """
    angle = np.deg2rad(angle)
    wpix, hpix = 640, 480
    xx, yy = np.meshgrid(sf * np.arange(0, wpix * res) / res,
                         sf * np.arange(0, hpix * res) / res)
    g = np.cos(xx * np.cos(angle) + yy * np.sin(angle))
    g[g < 0] = 0
    g[g > 0] = 1
    if centred:
        g -= 0.5
    return g.astype(np.float32)


def filters(out_channels=6, K=7, demean=False):
    """The tutorials' filters(): centre-surround pair plus Gabors, [out,1,K,K].

    The Bonus tutorial's version also subtracts each filter's mean (demean).
    """
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
    return f[:, np.newaxis].astype(np.float32)


def tuned_responses(rng, stimuli_deg, n_neurons, noise=0.3, scale=1.0):
    """[S,N] responses: von Mises tuning on the doubled angle (orientation,
    period 180°) with random preferred orientation, gain and noise, z-scored
    per neuron and multiplied by scale."""
    pref = rng.uniform(0, 180, n_neurons).astype(np.float32)
    gain = rng.gamma(2.0, 0.5, n_neurons).astype(np.float32)
    kappa = 2.0
    d = np.deg2rad(2 * (stimuli_deg[:, None] - pref[None, :]))
    r = gain[None, :] * np.exp(kappa * (np.cos(d) - 1))
    r += noise * rng.standard_normal(r.shape)
    # z-score each neuron, as the tutorials' responses are normalised
    r = (r - r.mean(0)) / (r.std(0) + 1e-6)
    return (scale * r).astype(np.float32)


def state_dict_arrays(module):
    return {k: v.detach().numpy().astype(np.float32) for k, v in module.state_dict().items()}


def save_npz(path, arrays):
    """np.savez to a temp file in the same directory, fsync, rename."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, suffix='.npz.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def gen_normative(out, n, seed):
    rng = np.random.default_rng(seed)
    ori = (rng.random(n) - 0.5) * 180  # Tutorial 3: uniform in (-90, 90)
    stimuli = np.stack([grating(a) for a in ori]).astype(np.float32)
    labels = (ori > 0).astype(np.float32)
    torch.manual_seed(seed)
    h, w = stimuli.shape[1:]
    fc = nn.Linear(6 * (h // 8) * (w // 8), 10)
    outl = nn.Linear(10, 1)
    init = {
        'conv.weight': filters(6, 7),
        'conv.bias': np.zeros(6, np.float32),
        'fc.weight': fc.weight.detach().numpy(),
        'fc.bias': fc.bias.detach().numpy(),
        'out.weight': outl.weight.detach().numpy(),
        'out.bias': outl.bias.detach().numpy(),
    }
    save_npz(os.path.join(out, 'data.npz'), {'stimuli': stimuli, 'labels': labels})
    save_npz(os.path.join(out, 'init.npz'), {k: np.ascontiguousarray(v, np.float32) for k, v in init.items()})


def gen_decode(out, s, n, seed):
    rng = np.random.default_rng(seed)
    stimuli = rng.uniform(0, 360, s).astype(np.float32)
    # keep strictly below 360 after the float32 cast so every label is a class in [0,20)
    stimuli = np.minimum(stimuli, np.nextafter(np.float32(360), np.float32(0)))
    # Scale 0.3: with unit-variance responses of 23,589 neurons, lr 0.1
    # diverges within 20 steps (the tutorial's binned averages are smaller);
    # at 0.3 the loss falls smoothly over the 300 steps, so the parity check
    # compares a meaningful trajectory.
    resp = tuned_responses(rng, stimuli, n, scale=0.3)
    torch.manual_seed(seed)
    in_layer = nn.Linear(n, 20)
    out_layer = nn.Linear(20, 20)
    init = {
        'in_layer.weight': in_layer.weight.detach().numpy(),
        'in_layer.bias': in_layer.bias.detach().numpy(),
        'out_layer.weight': out_layer.weight.detach().numpy(),
        'out_layer.bias': out_layer.bias.detach().numpy(),
    }
    save_npz(os.path.join(out, 'data.npz'), {'resp': resp, 'stimuli': stimuli})
    save_npz(os.path.join(out, 'init.npz'), {k: np.ascontiguousarray(v, np.float32) for k, v in init.items()})


def gen_encode(out, s, n, seed):
    rng = np.random.default_rng(seed)
    # Bonus tutorial: 60 orientations from linspace(0, 360, 61)[:-1] - 180
    ori = (np.linspace(0, 360, s + 1)[:-1] - 180).astype(np.float32)
    images = np.stack([grating(a, res=0.025, centred=True) for a in ori])[:, np.newaxis]
    resp_train = tuned_responses(rng, ori, n)
    resp_test = tuned_responses(np.random.default_rng(seed + 1), ori, n)
    torch.manual_seed(seed)
    h, w = images.shape[2:]
    out_layer = nn.Linear(6 * h * w, n)
    nn.init.normal_(out_layer.weight, std=0.01)  # as ConvFC.__init__
    init = {
        'conv.weight': filters(6, 7, demean=True),
        'conv.bias': np.zeros(6, np.float32),
        'out_layer.weight': out_layer.weight.detach().numpy(),
        'out_layer.bias': out_layer.bias.detach().numpy(),
    }
    save_npz(os.path.join(out, 'data.npz'), {'resp_train': resp_train, 'resp_test': resp_test, 'stimuli': ori})
    save_npz(os.path.join(out, 'stimuli.npz'), {'stimuli': images.astype(np.float32)})
    save_npz(os.path.join(out, 'init.npz'), {k: np.ascontiguousarray(v, np.float32) for k, v in init.items()})


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('workload', choices=['normative', 'decode', 'encode'])
    p.add_argument('--out', required=True, help='directory to write into (created)')
    p.add_argument('--n', type=int, default=0,
                   help='normative: gratings (default 1000); decode/encode: neurons (default 23589)')
    p.add_argument('--s', type=int, default=0, help='decode: stimuli (default 216); encode: stimuli (default 60)')
    p.add_argument('--seed', type=int, default=1)
    a = p.parse_args(argv)
    if a.n < 0 or a.s < 0:
        p.error('--n and --s must be positive')
    os.makedirs(a.out, exist_ok=True)
    if a.workload == 'normative':
        gen_normative(a.out, a.n or 1000, a.seed)
    elif a.workload == 'decode':
        gen_decode(a.out, a.s or 216, a.n or N_NEURONS, a.seed)
    else:
        gen_encode(a.out, a.s or 60, a.n or N_NEURONS, a.seed)


if __name__ == '__main__':
    main(sys.argv[1:])
