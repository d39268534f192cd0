#!/usr/bin/python3
"""Writes encoding_fixtures.npz: reference values for the encoding-model
scores, the ridge baseline and the RSA bootstrap of analysis/.

Everything is float64 NumPy, written from the definitions, not from the
Go code's formulation:

  * per-neuron correlation: Pearson over stimuli, 0 for a constant column;
    split-half reliability is that correlation between resp_train and
    resp_test; normalised correlation r/sqrt(rel) where rel > 0;
  * FEVE: neuralpredictors' measures compute_FEV, with each stimulus's two
    halves as its repeats (transcribed below, targets/outputs as lists);
  * ridge: himalaya's RidgeCV (solver "svd", fit_intercept=True,
    local_alpha=True, score_func=r2_score) transcribed from
    himalaya/ridge/_solvers.py solve_ridge_cv_svd and _select_best_alphas,
    with cv = five folds where stimulus i validates in fold i % 5;
  * RSA bootstrap: stimuli resampled with replacement, both RDMs recomputed
    from the resampled responses (tutorial 3's RDM), pairs of copies of one
    stimulus dropped (rsatoolbox sets them to NaN), numpy.percentile.

Run:  /usr/bin/python3 testdata/analysis/gen_encoding_fixtures.py
"""
import os

import numpy as np
from scipy.stats import zscore

rng = np.random.default_rng(20261202)
out = {}


def col_corr(a, b):
    a = a - a.mean(0)
    b = b - b.mean(0)
    saa, sbb = (a * a).sum(0), (b * b).sum(0)
    r = np.zeros(a.shape[1])
    ok = (saa > 0) & (sbb > 0)
    r[ok] = (a * b).sum(0)[ok] / np.sqrt(saa[ok] * sbb[ok])
    return r


def compute_FEV(targets, outputs):
    # neuralpredictors.measures.np_functions.compute_FEV, return_exp_var=True
    ImgVariance = []
    PredVariance = []
    for i, _ in enumerate(targets):
        PredVariance.append((targets[i] - outputs[i]) ** 2)
        ImgVariance.append(np.var(targets[i], axis=0, ddof=1))
    PredVariance = np.vstack(PredVariance)
    ImgVariance = np.vstack(ImgVariance)
    TotalVar = np.var(np.vstack(targets), axis=0, ddof=1)
    NoiseVar = np.mean(ImgVariance, axis=0)
    FEV = (TotalVar - NoiseVar) / TotalVar
    PredVar = np.mean(PredVariance, axis=0)
    FEVe = 1 - (PredVar - NoiseVar) / (TotalVar - NoiseVar)
    return FEV, FEVe


def feve(train, test, pred):
    S = train.shape[0]
    targets = [np.stack([train[s], test[s]]) for s in range(S)]
    outputs = [np.stack([pred[s], pred[s]]) for s in range(S)]
    with np.errstate(divide="ignore", invalid="ignore"):
        fev, fe = compute_FEV(targets, outputs)
    tot = np.var(np.vstack(targets), axis=0, ddof=1)
    noise = np.mean([np.var(t, axis=0, ddof=1) for t in targets], axis=0)
    fe[~(tot - noise > 0)] = np.nan  # FEVE undefined without explainable variance
    fev[~(tot > 0)] = np.nan
    return fe, fev


def summary(x):
    x = x[np.isfinite(x)]
    return np.array([np.median(x), x.mean(), np.percentile(x, 25), np.percentile(x, 75), len(x)])


def r2_score(y_true, y_pred):
    # himalaya.scoring.r2_score, for predictions of shape (n_alphas, n, t)
    error = ((y_true - y_pred) ** 2).sum(1)
    var = ((y_true - y_true.mean(0)) ** 2).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - error / var
    r2[:, var == 0] = 0
    return r2


def ridge_cv(X, Y, alphas, n_folds=5):
    X_offset, Y_offset = X.mean(0), Y.mean(0)
    X_ = X - X_offset
    Yc = Y - Y_offset
    S = X.shape[0]
    fold = np.arange(S) % n_folds
    scores = np.zeros((n_folds, len(alphas), Y.shape[1]))
    for f in range(n_folds):
        train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        Xtrain_mean = X_[train].mean(0)
        Xtrain, Xtest = X_[train] - Xtrain_mean, X_[test] - Xtrain_mean
        U, s, Vt = np.linalg.svd(Xtrain, full_matrices=False)
        # _decompose_ridge: (XTX + alpha)^-1 Xtrain^T = V diag(s/(s²+α)) Uᵀ
        matrix = np.stack([Vt.T @ ((s / (a + s ** 2))[:, None] * U.T) for a in alphas])
        matrix = Xtest @ matrix
        Ytrain, Ytest = Yc[train], Yc[test]
        Ytrain_mean = Ytrain.mean(0)
        Ytrain, Ytest = Ytrain - Ytrain_mean, Ytest - Ytrain_mean
        scores[f] = r2_score(Ytest, matrix @ Ytrain)
    # _select_best_alphas, local_alpha=True, conservative=False
    scores_mean = scores.mean(0) + (np.log(alphas) * 1e-10)[:, None]
    best = scores_mean.argmax(0)
    srt = np.sort(scores_mean, axis=0)
    margin = srt[-1] - srt[-2]
    # refit on all samples (solve_ridge_svd per alpha)
    U, s, Vt = np.linalg.svd(X_, full_matrices=False)
    W = np.zeros((X.shape[1], Y.shape[1]))
    for a in np.unique(best):
        cols = best == a
        W[:, cols] = Vt.T @ ((s / (alphas[a] + s ** 2))[:, None] * (U.T @ Yc[:, cols]))
    intercept = Y_offset - X_offset @ W
    pred = X @ W + intercept
    cv = scores.mean(0)[best, np.arange(Y.shape[1])]
    return alphas[best], cv, pred, margin


alphas = np.array([1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6])  # exact decimals, as Go's math.Pow10
S, N = 60, 240
for name, D in (("narrow", 20), ("wide", 150)):
    X = rng.standard_normal((S, D)) * np.exp(-np.arange(D) / (D / 4)) + 2.0
    W = rng.standard_normal((D, N))
    signal = (X - X.mean(0)) @ W
    signal /= signal.std(0)
    # Signal-to-noise ratios from 0.1 to 30 spread the chosen alphas over
    # the grid; large offsets exercise the centring. Weaker neurons choose
    # the largest alphas, where scores differ by less than float32 can
    # resolve (1e5 and 1e6 predict nearly the same constant).
    snr = np.exp(rng.uniform(np.log(0.1), np.log(30), N))
    offset = rng.uniform(-5, 20, N)
    half = lambda: signal * np.sqrt(snr) + rng.standard_normal((S, N)) + offset
    train, test = half().astype(np.float32), half().astype(np.float32)
    X = X.astype(np.float32)
    a, cv, pred, margin = ridge_cv(X.astype(np.float64), train.astype(np.float64), alphas)
    # The Go code's float32 product moves mean CV scores by up to ~1e-7
    # (measured 1.1e-7): every choice must be clear of that for "the same
    # alphas" to be a fair test.
    assert margin.min() > 1e-6, (name, margin.min())
    r = col_corr(pred, test.astype(np.float64))
    fe, _ = feve(train.astype(np.float64), test.astype(np.float64), pred)
    out[f"ridge_{name}_x"] = X
    out[f"ridge_{name}_train"] = train
    out[f"ridge_{name}_test"] = test
    out[f"ridge_{name}_alpha"] = a
    out[f"ridge_{name}_cv"] = cv
    out[f"ridge_{name}_pred"] = pred
    out[f"ridge_{name}_r"] = r
    out[f"ridge_{name}_feve"] = fe
    print(name, "alphas chosen:", dict(zip(*np.unique(a, return_counts=True))), "min margin %.2g" % margin.min())
out["ridge_alphas"] = alphas

# Encoding scores: 40 stimuli × 30 neurons, some unreliable (negative
# split-half correlation, hence excluded from the normalised correlation),
# one constant in resp_test (correlation 0) and one with no explainable
# variance.
S, N = 40, 30
tuning = rng.standard_normal((S, N))
gain = np.linspace(0, 2, N)
train = tuning * gain + rng.standard_normal((S, N))
test = tuning * gain + rng.standard_normal((S, N))
pred = tuning * gain * 0.8 + 0.3 * rng.standard_normal((S, N)) + 0.5
test[:, 3] = 2.5
train[:, 4] = test[:, 4] = rng.standard_normal(S) * 0  # silent neuron
train, test, pred = (v.astype(np.float32) for v in (train, test, pred))
t64, e64, p64 = (v.astype(np.float64) for v in (train, test, pred))
r = col_corr(p64, e64)
rel = col_corr(t64, e64)
with np.errstate(invalid="ignore"):
    norm = np.where(rel > 0, r / np.sqrt(np.where(rel > 0, rel, 1)), np.nan)
fe, fev = feve(t64, e64, p64)
out.update(enc_train=train, enc_test=test, enc_pred=pred, enc_r=r, enc_rel=rel, enc_norm=norm,
           enc_feve=fe, enc_fev=fev, enc_excluded=np.array([np.isnan(norm).sum()], float),
           enc_sum_r=summary(r), enc_sum_rel=summary(rel), enc_sum_norm=summary(norm), enc_sum_feve=summary(fe))
print("encoding: excluded", int(np.isnan(norm).sum()), "FEVE NaN", int(np.isnan(fe).sum()))


def rdm(resp):
    z = zscore(resp, axis=1)
    return 1 - z @ z.T / resp.shape[1]


def rsa_pairs(a, b, keep):
    iu = np.triu_indices(a.shape[0], k=1)
    k = keep[iu]
    return np.corrcoef(a[iu][k], b[iu][k])[0, 1]


# RSA bootstrap: 30 stimuli seen by two populations with shared structure.
S, B = 30, 1000
latent = rng.standard_normal((S, 3))
resp1 = (latent @ rng.standard_normal((3, 50)) + 0.7 * rng.standard_normal((S, 50))).astype(np.float32)
resp2 = (np.tanh(latent @ rng.standard_normal((3, 40))) + 0.5 * rng.standard_normal((S, 40))).astype(np.float32)
idx = rng.integers(0, S, size=(B, S))
samples = np.empty(B)
for b in range(B):
    i = idx[b]
    keep = i[:, None] != i[None, :]  # rsatoolbox: NaN between copies of one stimulus
    samples[b] = rsa_pairs(rdm(resp1[i].astype(np.float64)), rdm(resp2[i].astype(np.float64)), keep)
point = rsa_pairs(rdm(resp1.astype(np.float64)), rdm(resp2.astype(np.float64)), np.ones((S, S), bool))
out.update(boot_resp1=resp1, boot_resp2=resp2, boot_idx=idx.astype(np.float64), boot_samples=samples,
           boot_ci=np.array([point, *np.percentile(samples, [2.5, 97.5])]))
print("bootstrap: RSA %.4f, 95%% interval [%.4f, %.4f]" % tuple(out["boot_ci"]))

# Noise ceiling: the two halves of one population.
half1 = (latent @ rng.standard_normal((3, 50))).astype(np.float64)
nc_train = (half1 + rng.standard_normal((S, 50))).astype(np.float32)
nc_test = (half1 + rng.standard_normal((S, 50))).astype(np.float32)
out.update(nc_train=nc_train, nc_test=nc_test,
           nc_rsa=np.array([rsa_pairs(rdm(nc_train.astype(np.float64)), rdm(nc_test.astype(np.float64)), np.ones((S, S), bool))]))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "encoding_fixtures.npz")
np.savez_compressed(path, **out)
print("wrote", path, {k: v.shape for k, v in out.items()})
