#!/usr/bin/python3
"""NumPy/SciPy reference timings for bench/cmd/analysisbench.

Reads the inputs the Go command wrote (--in), runs each computation of
analysis.RidgeCV, analysis.RDM and analysis.RSABootstrap the way a NumPy
user would, --repeats times, and writes the median seconds and the
results (--out, .npz) for the Go side to compare:

  ridge_himalaya  himalaya's RidgeCV (solver "svd", fit_intercept, local
                  alpha, r2 scores, folds i % 5) in float64, as
                  testdata/analysis/gen_encoding_fixtures.py transcribes it,
                  vectorised over all targets and alphas per fold
  ridge_stacked   the Go formulation in NumPy: the same (2·A·S)×S stack of
                  float64 operators, one float32 product with the centred
                  responses (OpenBLAS sgemm), the scores in float64
  rdm             tutorial 3's 1 − zscore(resp) @ zscore(resp).T / N, float32
  bootstrap       1000 resamples: both RDMs indexed at the resampled
                  stimuli, pairs of copies of one stimulus dropped,
                  np.corrcoef, np.percentile

Run by the Go command; by hand:
  /usr/bin/python3 bench/analysis_ref.py --in inputs.npz --out ref.npz
"""
import argparse
import os
import time

import numpy as np
from scipy.stats import zscore

FOLDS = 5


def r2_score(y_true, y_pred):
    error = ((y_true - y_pred) ** 2).sum(-2)
    var = ((y_true - y_true.mean(0)) ** 2).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r2 = 1.0 - error / var
    r2[..., var == 0] = 0
    return r2


def select(scores, alphas):
    mean = scores.mean(0) + (np.log(alphas) * 1e-10)[:, None]
    return mean.argmax(0)


def ridge_himalaya(X, Y, alphas):
    X = X.astype(np.float64)
    Y = Y.astype(np.float64)
    X_offset, Y_offset = X.mean(0), Y.mean(0)
    X_, Yc = X - X_offset, Y - Y_offset
    S = X.shape[0]
    fold = np.arange(S) % FOLDS
    scores = np.zeros((FOLDS, len(alphas), Y.shape[1]))
    for f in range(FOLDS):
        tr, te = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        m = X_[tr].mean(0)
        U, s, Vt = np.linalg.svd(X_[tr] - m, full_matrices=False)
        Q = (X_[te] - m) @ Vt.T
        K = np.stack([(Q * (s / (a + s ** 2))) @ U.T for a in alphas])
        Ytr, Yte = Yc[tr], Yc[te]
        ym = Ytr.mean(0)
        scores[f] = r2_score(Yte - ym, K @ (Ytr - ym))
    best = select(scores, alphas)
    U, s, Vt = np.linalg.svd(X_, full_matrices=False)
    UtY = U.T @ Yc
    pred = np.empty_like(Y)
    for a in np.unique(best):
        cols = best == a
        pred[:, cols] = U @ ((s ** 2 / (alphas[a] + s ** 2))[:, None] * UtY[:, cols]) + Y_offset[cols]
    return alphas[best], pred


def ridge_stacked(X, Y, alphas):
    X = X.astype(np.float64)
    S, A = X.shape[0], len(alphas)
    Xc = X - X.mean(0)
    ops = np.zeros((2 * A, S, S))
    fold = np.arange(S) % FOLDS
    for f in range(FOLDS):
        tr, te = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        m = Xc[tr].mean(0)
        U, s, Vt = np.linalg.svd(Xc[tr] - m, full_matrices=False)
        Q = (Xc[te] - m) @ Vt.T
        for a, al in enumerate(alphas):
            K = (Q * (s / (al + s ** 2))) @ U.T
            ops[a][np.ix_(te, tr)] = K - K.mean(1, keepdims=True) + 1 / len(tr)
    U, s, _ = np.linalg.svd(Xc, full_matrices=False)
    for a, al in enumerate(alphas):
        ops[A + a] = (U * (s ** 2 / (al + s ** 2))) @ U.T
    mu = Y.astype(np.float64).mean(0)
    yc = (Y - mu).astype(np.float32)
    P = (ops.reshape(2 * A * S, S).astype(np.float32) @ yc).reshape(2 * A, S, -1)
    scores = np.zeros((FOLDS, A, Y.shape[1]))
    for f in range(FOLDS):
        te = np.flatnonzero(fold == f)
        scores[f] = r2_score(yc[te].astype(np.float64), P[:A, te].astype(np.float64))
    best = select(scores, alphas)
    pred = P[A + best, :, np.arange(Y.shape[1])].T + mu
    return alphas[best], pred


def col_corr(a, b):
    a = a - a.mean(0)
    b = b - b.mean(0)
    den = np.sqrt((a * a).sum(0) * (b * b).sum(0))
    return np.where(den > 0, (a * b).sum(0) / np.where(den > 0, den, 1), 0)


def rdm(resp):
    z = zscore(resp, axis=1)
    return 1 - z @ z.T / resp.shape[1]


def bootstrap(r1, r2, resamples, rng):
    S = r1.shape[0]
    iu0, iu1 = np.triu_indices(S, k=1)
    out = np.empty(resamples)
    for b in range(resamples):
        i = rng.integers(0, S, S)
        keep = i[iu0] != i[iu1]
        a = r1[i[iu0[keep]], i[iu1[keep]]]
        c = r2[i[iu0[keep]], i[iu1[keep]]]
        out[b] = np.corrcoef(a, c)[0, 1]
    iu = np.triu_indices(S, k=1)
    return np.corrcoef(r1[iu], r2[iu])[0, 1], *np.percentile(out, [2.5, 97.5])


def timed(repeats, f, *args):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = f(*args)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)), res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--in", dest="inp", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    d = np.load(args.inp)
    # analysis.DefaultRidgeAlphas, as exact decimals (float32 in the
    # .npz would move them).
    alphas = np.array([1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6])
    out = {}
    x, train, test = d["x"], d["train"], d["test"]
    t, (a, pred) = timed(args.repeats, ridge_himalaya, x, train, alphas)
    out.update(t_ridge_himalaya=np.array([t]), ridge_himalaya_alpha=a, ridge_himalaya_r=col_corr(pred, test.astype(np.float64)))
    t, (a, pred) = timed(args.repeats, ridge_stacked, x, train, alphas)
    out.update(t_ridge_stacked=np.array([t]), ridge_stacked_alpha=a, ridge_stacked_r=col_corr(pred, test.astype(np.float64)))
    for key in ("small", "big"):
        if "resp_" + key not in d:
            continue
        resp, feat = d["resp_" + key], d["feat_" + key]
        t, r1 = timed(args.repeats, rdm, resp)
        r2 = rdm(feat)
        out["t_rdm_" + key] = np.array([t])
        out["rdm_" + key] = r1
        t, ci = timed(args.repeats, bootstrap, r1.astype(np.float64), r2.astype(np.float64), 1000, np.random.default_rng(1))
        out["t_boot_" + key] = np.array([t])
        out["boot_" + key] = np.array(ci)
    np.savez(args.out, **out)
    import scipy

    # The BLAS that numpy's products loaded (Debian's alternatives pick
    # OpenBLAS or the reference BLAS, an order of magnitude apart).
    libs = sorted({os.path.basename(l.split()[-1]) for l in open("/proc/self/maps")
                   if "/usr/lib/x86_64-linux-gnu/" in l and ("blas" in l or "mkl" in l or "blis" in l)})
    print(f"NumPy {np.__version__}, SciPy {scipy.__version__}, BLAS {' + '.join(libs) or 'none loaded'}")


if __name__ == "__main__":
    main()
