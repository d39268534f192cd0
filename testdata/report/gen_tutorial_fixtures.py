#!/usr/bin/python3
"""Fixtures for the report's Tutorial 2 and Bonus tutorial sections, computed
with the tutorials' own code.

Writes tutorial_fixtures.npz next to this script:

  t2_act_full, t2_act_patch  [5, 6, 48, 64]: Tutorial 2 Coding Exercise 1.3,
      ConvolutionalLayer(1, 6, K=7, filters=filters(6, 7)) applied to
      grating(ori) (and grating(ori, patch=True)) for ori in [-90, -45, 0,
      45, 90]; filters() and grating() as Tutorial 2 defines them (the
      filters de-meaned, the gratings centred by − 0.5).
  pref_resp [S, N], pref_stimuli [S]: a small V1-format population in 5°
      bins, rows shuffled (the report sorts them by orientation), with
      neurons peaking near 0°/360° where the boundary modes differ.
  pref_reflect, pref_wrap [N]: the Bonus tutorial's preferred orientation
      of each neuron: gaussian_filter1d(resp_sorted, sigma, axis=0, mode)
      then the orientation at the argmax, with sigma = 5° in bins
      (5 · S / 360), for mode "reflect" (SciPy's default, the tutorial's
      call) and "wrap".

Run from the repository root:  /usr/bin/python3 testdata/report/gen_tutorial_fixtures.py
"""
import os

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


# --- Tutorial 2 code, verbatim apart from formatting ---------------------

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
                              gabors),
                             axis=0)
    filters /= np.abs(filters).max(axis=(1, 2))[:, np.newaxis, np.newaxis]
    filters -= filters.mean(axis=(1, 2))[:, np.newaxis, np.newaxis]
    filters = torch.from_numpy(filters)
    filters = filters.unsqueeze(1)
    return filters


def grating(angle, sf=1 / 28, res=0.1, patch=False):
    angle = np.deg2rad(angle)
    wpix, hpix = 640, 480
    xx, yy = np.meshgrid(sf * np.arange(0, wpix * res) / res, sf * np.arange(0, hpix * res) / res)
    if patch:
        gratings = np.cos(xx * np.cos(angle + .1) + yy * np.sin(angle + .1))
        gratings[gratings < 0] = 0
        gratings[gratings > 0] = 1
        xcent = gratings.shape[1] * .75
        ycent = gratings.shape[0] / 2
        xxc, yyc = np.meshgrid(np.arange(0, gratings.shape[1]), np.arange(0, gratings.shape[0]))
        icirc = ((xxc - xcent) ** 2 + (yyc - ycent) ** 2) ** 0.5 < wpix / 3 / 2 * res
        gratings[~icirc] = 0.5
    else:
        gratings = np.cos(xx * np.cos(angle) + yy * np.sin(angle))
        gratings[gratings < 0] = 0
        gratings[gratings > 0] = 1
    gratings -= 0.5
    return torch.tensor(gratings, dtype=torch.float32)


class ConvolutionalLayer(nn.Module):
    def __init__(self, c_in=1, c_out=6, K=7, filters=None):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size=K, padding=K // 2, stride=1)
        if filters is not None:
            self.conv.weight = nn.Parameter(filters)
            self.conv.bias = nn.Parameter(torch.zeros((c_out,), dtype=torch.float32))

    def forward(self, s):
        a = self.conv(s)
        return a


# --- the exercise ---------------------------------------------------------

out = {}
in_channels, h, w, K, out_channels = 1, 48, 64, 7, 6
convLayer = ConvolutionalLayer(in_channels, out_channels, K, filters=filters(out_channels, K))
orientations = [-90, -45, 0, 45, 90]
for name, patch in (("full", False), ("patch", True)):
    stimuli = torch.zeros((len(orientations), in_channels, h, w), dtype=torch.float32)
    for i, ori in enumerate(orientations):
        stimuli[i, 0] = grating(ori, patch=patch)
    out[f"t2_act_{name}"] = convLayer(stimuli).detach().numpy()

# --- preferred orientation -------------------------------------------------

rng = np.random.default_rng(3)
S, N = 72, 40
stim = (np.arange(S) + rng.random(S)) * 360 / S
pref = rng.random(N) * 360
pref[:16] = [0.5, 1, 2, 3, 5, 8, 10, 12, 348, 350, 352, 355, 357, 358, 359, 359.5]  # near the ends, where the modes differ
kappa = rng.uniform(0.5, 4, N)
resp = np.exp(kappa * (np.cos(np.deg2rad(stim[:, None] - pref[None, :])) - 1))
resp += 0.1 * rng.standard_normal((S, N))
resp = ((resp - resp.mean(0)) / resp.std(0)).astype(np.float32)
perm = rng.permutation(S)
out["pref_resp"] = resp[perm]
out["pref_stimuli"] = stim[perm].astype(np.float32)
order = np.argsort(stim[perm].astype(np.float32), kind="stable")
sorted_resp = resp[perm][order].astype(np.float64)
sorted_stim = stim[perm].astype(np.float32)[order].astype(np.float64)
sigma = 5 * S / 360
for mode in ("reflect", "wrap"):
    sm = gaussian_filter1d(sorted_resp, sigma, axis=0, mode=mode)
    out[f"pref_{mode}"] = sorted_stim[sm.argmax(axis=0)]

np.savez(os.path.join(HERE, "tutorial_fixtures.npz"), **{k: np.asarray(v, np.float32) for k, v in out.items()})
print("differ between modes:", int((out["pref_reflect"] != out["pref_wrap"]).sum()), "of", N)
