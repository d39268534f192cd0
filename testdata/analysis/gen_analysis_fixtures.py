#!/usr/bin/python3
"""Writes analysis_fixtures.npz: reference values for analysis/ tests.

The formulas are the tutorials' own (W1D5 tutorial 3 RDM / correlate_rdms,
bonus tutorial preferred orientation) evaluated with numpy/scipy:

    zresp = scipy.stats.zscore(resp, axis=1)
    RDM   = 1 - zresp @ zresp.T / N
    rsa   = np.corrcoef(rdm1[triu], rdm2[triu])[0, 1], triu = np.triu_indices(S, k=1)
    smoothed = scipy.ndimage.gaussian_filter1d(x, sigma, axis=0, mode=...)
    preferred = stimuli_sorted[smoothed.argmax(axis=0)]

Run:  /usr/bin/python3 testdata/analysis/gen_analysis_fixtures.py
"""
import os

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.stats import zscore

rng = np.random.default_rng(20261123)
out = {}

# RDM / RSA: two "layers" seeing the same 12 stimuli, with shared
# structure so that the RSA value is far from 0.
S, N1, N2 = 12, 50, 30
latent = rng.standard_normal((S, 4))
resp1 = (latent @ rng.standard_normal((4, N1)) + 0.5 * rng.standard_normal((S, N1)) + 3.0).astype(np.float32)
resp2 = (np.tanh(latent @ rng.standard_normal((4, N2))) + 0.3 * rng.standard_normal((S, N2))).astype(np.float32)


def rdm(resp):
    z = zscore(resp.astype(np.float64), axis=1)
    return 1 - z @ z.T / resp.shape[1]


def correlate_rdms(a, b):
    ioffdiag = np.triu_indices(a.shape[0], k=1)
    return np.corrcoef(a[ioffdiag], b[ioffdiag])[0, 1]


rdm1, rdm2 = rdm(resp1), rdm(resp2)
out["resp1"] = resp1
out["resp2"] = resp2
out["zscore1"] = zscore(resp1.astype(np.float64), axis=1)
out["rdm1"] = rdm1
out["rdm2"] = rdm2
out["rsa12"] = np.array([correlate_rdms(rdm1, rdm2)])

# Gaussian smoothing: a long signal and one shorter than the kernel
# radius (sigma 3 → radius 12 > 5 samples), in both boundary modes.
long_x = rng.standard_normal(37)
short_x = rng.standard_normal(5)
out["filter_long_x"] = long_x
out["filter_short_x"] = short_x
for mode in ("wrap", "reflect"):
    out[f"filter_long_{mode}"] = gaussian_filter1d(long_x, 5, mode=mode)
    out[f"filter_short_{mode}"] = gaussian_filter1d(short_x, 3, mode=mode)
    out[f"filter_sigma1.7_{mode}"] = gaussian_filter1d(long_x, 1.7, mode=mode)

# Preferred stimulus: 60 stimuli every 6 degrees, 20 noisy von Mises
# tuned units; rows handed to Go shuffled to exercise the sort.
nstim, nunits = 60, 20
stim_sorted = np.arange(nstim, dtype=np.float32) * 6
centres = rng.uniform(0, 360, nunits)
ang = np.deg2rad(stim_sorted[:, None] - centres[None, :])
resp_sorted = (np.exp(2 * np.cos(ang)) + 0.8 * rng.standard_normal((nstim, nunits))).astype(np.float32)
perm = rng.permutation(nstim)
out["pref_resp"] = resp_sorted[perm]
out["pref_stimuli"] = stim_sorted[perm]
for mode in ("wrap", "reflect"):
    sm = gaussian_filter1d(resp_sorted.astype(np.float64), 5, axis=0, mode=mode)
    out[f"pref_{mode}"] = stim_sorted[sm.argmax(axis=0)].astype(np.float64)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "analysis_fixtures.npz")
np.savez_compressed(path, **out)
print("wrote", path, {k: v.shape for k, v in out.items()})
