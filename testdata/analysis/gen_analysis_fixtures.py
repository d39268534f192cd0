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
from scipy.spatial.distance import pdist, squareform
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

# Exact t-SNE: scikit-learn is not installed here, so this is its
# method="exact" code path (sklearn/manifold/_t_sne.py and _utils.pyx,
# v1.5) transcribed to numpy: _binary_search_perplexity,
# _joint_probabilities, _kl_divergence (degrees of freedom 1) and
# _gradient_descent with its two phases. A given start embedding
# replaces the PCA/random init so that the trajectories can be compared.
MACHINE_EPSILON = np.finfo(np.double).eps


def binary_search_perplexity(d2, perplexity):
    n = d2.shape[0]
    P = np.zeros((n, n))
    desired_entropy = np.log(perplexity)
    for i in range(n):
        beta_min, beta_max, beta = -np.inf, np.inf, 1.0
        for _ in range(100):
            Pi = np.exp(-d2[i] * beta)
            Pi[i] = 0.0
            sum_Pi = Pi.sum()
            if sum_Pi == 0.0:
                sum_Pi = 1e-8
            Pi /= sum_Pi
            entropy = np.log(sum_Pi) + beta * np.sum(d2[i] * Pi)
            diff = entropy - desired_entropy
            if abs(diff) <= 1e-5:
                break
            if diff > 0.0:
                beta_min = beta
                beta = beta * 2.0 if beta_max == np.inf else (beta + beta_max) / 2.0
            else:
                beta_max = beta
                beta = beta / 2.0 if beta_min == -np.inf else (beta + beta_min) / 2.0
        P[i] = Pi
    return P


def joint_probabilities(X, perplexity):
    cond = binary_search_perplexity(squareform(pdist(X, "sqeuclidean")), perplexity)
    P = cond + cond.T
    sum_P = np.maximum(np.sum(P), MACHINE_EPSILON)
    return np.maximum(squareform(P) / sum_P, MACHINE_EPSILON)  # condensed


def kl_divergence(params, P, n):
    X_embedded = params.reshape(n, 2)
    dist = pdist(X_embedded, "sqeuclidean")
    dist += 1.0
    dist **= -1.0
    Q = np.maximum(dist / (2.0 * np.sum(dist)), MACHINE_EPSILON)
    kl = 2.0 * np.dot(P, np.log(np.maximum(P, MACHINE_EPSILON) / Q))
    grad = np.ndarray((n, 2))
    PQd = squareform((P - Q) * dist)
    for i in range(n):
        grad[i] = np.dot(np.ravel(PQd[i], order="K"), X_embedded[i] - X_embedded)
    return kl, grad.ravel() * 4.0


def gradient_descent(p, P, n, it, n_iter, momentum, learning_rate, P_true, kls):
    update = np.zeros_like(p)
    gains = np.ones_like(p)
    for i in range(it, n_iter):
        if (i + 1) % 50 == 0:  # the KL the Go code reports: unexaggerated P
            kls.append(kl_divergence(p, P_true, n)[0])
        _, grad = kl_divergence(p, P, n)
        inc = update * grad < 0.0
        dec = np.invert(inc)
        gains[inc] += 0.2
        gains[dec] *= 0.8
        np.clip(gains, 0.01, np.inf, out=gains)
        grad *= gains
        update = momentum * update - learning_rate * grad
        p += update
    return p


tsne_x = rng.standard_normal((40, 5))
tsne_x[:20] += 3.0
tsne_y0 = 1e-4 * rng.standard_normal((40, 2))
P = joint_probabilities(tsne_x, 8.0)
kls = []
# A small step and exaggeration keep the 150 steps from amplifying
# rounding differences chaotically (the defaults, 50 and 12, do on 40
# points: trajectories agree to 1e-8 for 20 steps, then part).
learning_rate = 5.0
p = tsne_y0.ravel().copy()
p = gradient_descent(p, P * 4.0, 40, 0, 50, 0.5, learning_rate, P, kls)
p = gradient_descent(p, P, 40, 50, 150, 0.8, learning_rate, P, kls)
out["tsne_x"] = tsne_x
out["tsne_y0"] = tsne_y0
out["tsne_p"] = squareform(P)
out["tsne_y"] = p.reshape(40, 2)
out["tsne_kl"] = np.array(kls)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "analysis_fixtures.npz")
np.savez_compressed(path, **out)
print("wrote", path, {k: v.shape for k, v in out.items()})
