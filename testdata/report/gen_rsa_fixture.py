#!/usr/bin/python3
"""RSA fixture for analysis/report (vkneuro report), computed with Tutorial 3's own code.

Writes three files next to this script:

  model.npz     a state_dict of Tutorial 3's CNN (keys conv.weight [6,1,7,7],
                conv.bias [6], fc.weight [10,288], fc.bias [10],
                out.weight [1,10], out.bias [1]), float32: PyTorch's default
                initialisation (torch.manual_seed(12)) with the tutorial's
                filters, then 20 steps of the tutorial's train() on 200 random
                gratings so that the weights are not the initial ones.
  v1.npz        a small V1-format file: resp [360, 64] (z-scored tuning curves
                of 64 orientation/direction-tuned model neurons with noise) and
                stimuli [360] (degrees in [0,360), one jittered value per 1° bin)
  expected.npz  what the tutorial's pipeline gives on them:
                  stimuli   the orientations after load_data (≤ 180°, −90°)
                  hidden_<layer>  get_hidden_activity for conv, pool, fc, out
                  rsa_<layer>     correlate_rdms(RDM(resp_v1), RDM(hidden))
                                  (rsa_out is NaN: one unit, zscore gives NaN)

The RDM is the tutorial's solution: zscore(resp, axis=1), then
1 − Z·Zᵀ / N. Hidden activities come from forward hooks on the modules, as
the tutorial's get_hidden_activity.

Run from the repository root:  /usr/bin/python3 testdata/report/gen_rsa_fixture.py
"""
import os

import numpy as np
import torch
from scipy.stats import zscore
from torch import nn, optim

HERE = os.path.dirname(os.path.abspath(__file__))


# --- Tutorial 3 code, verbatim apart from formatting ---------------------

def grating(angle, sf=1 / 28, res=0.1, patch=False):
    angle = np.deg2rad(angle)
    wpix, hpix = 640, 480
    xx, yy = np.meshgrid(sf * np.arange(0, wpix * res) / res, sf * np.arange(0, hpix * res) / res)
    gratings = np.cos(xx * np.cos(angle) + yy * np.sin(angle))
    gratings[gratings < 0] = 0
    gratings[gratings > 0] = 1
    return torch.tensor(gratings, dtype=torch.float32)


def filters(out_channels=6, K=7):
    grid = np.linspace(-K / 2, K / 2, K).astype(np.float32)
    xx, yy = np.meshgrid(grid, grid, indexing='ij')
    sigma = 1.1
    gaussian = np.exp(-(xx**2 + yy**2)**0.5 / (2 * sigma**2))
    wide_gaussian = np.exp(-(xx**2 + yy**2)**0.5 / (2 * (sigma * 2)**2))
    center_surround = gaussian - 0.5 * wide_gaussian
    thetas = np.linspace(0, 180, out_channels - 2 + 1)[:-1] * np.pi / 180
    gabors = np.zeros((len(thetas), K, K), np.float32)
    lam = 10
    phi = np.pi / 2
    gaussian = np.exp(-(xx**2 + yy**2)**0.5 / (2 * (sigma * 0.4)**2))
    for i, theta in enumerate(thetas):
        x = xx * np.cos(theta) + yy * np.sin(theta)
        gabors[i] = gaussian * np.cos(2 * np.pi * x / lam + phi)
    filters = np.concatenate((center_surround[np.newaxis, :, :],
                              -1 * center_surround[np.newaxis, :, :],
                              gabors), axis=0)
    filters /= np.abs(filters).max(axis=(1, 2))[:, np.newaxis, np.newaxis]
    filters = torch.from_numpy(filters)
    filters = filters.unsqueeze(1)
    return filters


class CNN(nn.Module):
    def __init__(self, h_in, w_in):
        super().__init__()
        C_in = 1
        C_out = 6
        K = 7
        Kpool = 8
        self.conv = nn.Conv2d(C_in, C_out, kernel_size=K, padding=K // 2)
        self.pool = nn.MaxPool2d(Kpool)
        self.dims = (C_out, h_in // Kpool, w_in // Kpool)
        self.fc = nn.Linear(np.prod(self.dims), 10)
        self.out = nn.Linear(10, 1)
        self.conv.weight = nn.Parameter(filters(C_out, K))
        self.conv.bias = nn.Parameter(torch.zeros((C_out,), dtype=torch.float32))

    def forward(self, x):
        x = x.unsqueeze(1)
        x = torch.relu(self.conv(x))
        x = self.pool(x)
        x = x.view(-1, np.prod(self.dims))
        x = torch.relu(self.fc(x))
        x = torch.sigmoid(self.out(x))
        return x


def get_hidden_activity(net, stimuli, layer_labels):
    hidden_activity = {}

    def hook(module, input, output):
        module_label = list(net._modules.keys())[np.argwhere([module == m for m in net._modules.values()])[0, 0]]
        if module_label in layer_labels:
            hidden_activity[module_label] = output.view(stimuli.shape[0], -1).detach().numpy()
    hooks = [layer.register_forward_hook(hook) for layer in net.children()]
    net(stimuli)
    [h.remove() for h in hooks]
    return hidden_activity


def RDM(resp):
    zresp = zscore(resp, axis=1)
    return 1 - (zresp @ zresp.T) / zresp.shape[1]


def correlate_rdms(rdm1, rdm2):
    ioffdiag = np.triu_indices(rdm1.shape[0], k=1)
    return np.corrcoef(rdm1[ioffdiag], rdm2[ioffdiag])[0, 1]


# --- fixture ---------------------------------------------------------------

def main():
    np.random.seed(12)
    torch.manual_seed(12)
    h, w = grating(0).shape
    net = CNN(h, w)

    # A short run of the tutorial's training (lr 5e-4, momentum 0.99,
    # batches of 100) so that the weights differ from the initial ones.
    ori_train = (np.random.rand(200) - 0.5) * 180
    x_train = torch.stack([grating(a) for a in ori_train])
    y_train = torch.tensor(ori_train > 0).type(torch.float).unsqueeze(-1)
    opt = optim.SGD(net.parameters(), lr=5e-4, momentum=0.99)
    loss_fn = nn.BCELoss()
    for _ in range(10):
        perm = torch.randperm(200)
        for xb, yb in zip(torch.split(x_train[perm], 100), torch.split(y_train[perm], 100)):
            loss = loss_fn(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    np.savez(os.path.join(HERE, 'model.npz'), **sd)

    # Small V1-format data: 64 neurons tuned to orientation and direction.
    rng = np.random.default_rng(12)
    S, N = 360, 64
    stimuli = (np.arange(S) + rng.uniform(0.05, 0.95, S)).astype(np.float32)
    th = np.deg2rad(stimuli.astype(np.float64))[:, None]
    pref = rng.uniform(0, np.pi, N)[None, :]
    dirn = pref + np.pi * rng.integers(0, 2, N)[None, :]
    kappa = rng.uniform(0.5, 4, N)[None, :]
    d = rng.uniform(0, 0.5, N)[None, :]
    tune = (1 - d) * np.exp(kappa * (np.cos(2 * (th - pref)) - 1)) + d * np.exp(2 * (np.cos(th - dirn) - 1))
    resp = tune + 0.3 * rng.standard_normal((S, N))
    resp = zscore(resp, axis=0).astype(np.float32)
    np.savez(os.path.join(HERE, 'v1.npz'), resp=resp, stimuli=stimuli)

    # Tutorial 3's load_data(bin_width=1) and section 1.3.
    resp_v1 = resp[stimuli <= 180]
    ori = stimuli[stimuli <= 180].copy()
    ori -= 90
    ori_t = torch.tensor(ori, dtype=torch.float32).unsqueeze(1)
    stim_imgs = torch.stack([grating(a.item()) for a in ori_t])
    layers = ['conv', 'pool', 'fc', 'out']
    hidden = get_hidden_activity(net, stim_imgs, layers)

    expected = {'stimuli': ori}
    rdm_v1 = RDM(resp_v1)
    with np.errstate(invalid='ignore', divide='ignore'):
        for k in layers:
            expected['hidden_' + k] = hidden[k]
            r = correlate_rdms(rdm_v1, RDM(hidden[k]))
            expected['rsa_' + k] = np.array([r], np.float64)
            print(f'rsa {k}: {r}')
    # conv has 181×18432 values: keep its RSA only, the fixture stays small.
    del expected['hidden_conv']
    np.savez_compressed(os.path.join(HERE, 'expected.npz'), **expected)
    print('stimuli', len(ori), 'neurons', N)


if __name__ == '__main__':
    main()
