#!/usr/bin/python3
"""Generate the fixtures of package data (github.com/vkneuro/vkneuro/data).

The functions below are copied from the Neuromatch deep-learning tutorials
(/work/shared/seeds: Tutorial 3 = 003_*.txt, Tutorial 2 / Bonus =
000-002_*.txt) with only the torch conversions removed, and evaluated with
NumPy so that the Go implementation can be compared with them.

Run from the repository root:  /usr/bin/python3 testdata/data/gen_data_fixtures.py
Outputs (all in testdata/data/):
  fixtures.npz     gratings, filters, binning, Tutorial 3 selection, digitize
  v1_f64.npz       V1 file with float64 resp and [S,1] float64 stimuli
  v1_int.npz       V1 file with int64 resp and int32 stimuli
  v1_fortran.npz   V1 file with a Fortran-order resp, compressed (savez_compressed)
  v1_bigendian.npz V1 file with big-endian float32 arrays
  split_f64.npz    split file, float64 everything
"""
import os

import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))


def grating_t3(angle, sf=1 / 28, res=0.1, patch=False):
    """Tutorial 3's grating(): values 0/1 (0.5 outside a patch)."""
    angle = np.deg2rad(angle)  # transform to radians
    wpix, hpix = 640, 480  # width and height of image in pixels for res=1.0
    xx, yy = np.meshgrid(sf * np.arange(0, wpix * res) / res, sf * np.arange(0, hpix * res) / res)
    if patch:
        gratings = np.cos(xx * np.cos(angle + .1) + yy * np.sin(angle + .1))  # phase shift to make it better fit within patch
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
    return gratings.astype(np.float32)


def grating_t2(angle, sf=1 / 28, res=0.1, patch=False):
    """Tutorial 2 / Bonus grating(): the same, minus 0.5."""
    angle = np.deg2rad(angle)  # transform to radians
    wpix, hpix = 640, 480  # width and height of image in pixels for res=1.0
    xx, yy = np.meshgrid(sf * np.arange(0, wpix * res) / res, sf * np.arange(0, hpix * res) / res)
    if patch:
        gratings = np.cos(xx * np.cos(angle + .1) + yy * np.sin(angle + .1))  # phase shift to make it better fit within patch
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
    return gratings.astype(np.float32)


def filters(out_channels=6, K=7, demean=False):
    """filters() of Tutorial 3; demean=True adds the Bonus tutorial's line."""
    grid = np.linspace(-K/2, K/2, K).astype(np.float32)
    xx, yy = np.meshgrid(grid, grid, indexing='ij')
    # create center-surround filters
    sigma = 1.1
    gaussian = np.exp(-(xx**2 + yy**2)**0.5/(2*sigma**2))
    wide_gaussian = np.exp(-(xx**2 + yy**2)**0.5/(2*(sigma*2)**2))
    center_surround = gaussian - 0.5 * wide_gaussian
    # create gabor filters
    thetas = np.linspace(0, 180, out_channels-2+1)[:-1] * np.pi/180
    gabors = np.zeros((len(thetas), K, K), np.float32)
    lam = 10
    phi = np.pi/2
    gaussian = np.exp(-(xx**2 + yy**2)**0.5/(2*(sigma*0.4)**2))
    for i, theta in enumerate(thetas):
        x = xx*np.cos(theta) + yy*np.sin(theta)
        gabors[i] = gaussian * np.cos(2*np.pi*x/lam + phi)
    filters = np.concatenate((center_surround[np.newaxis, :, :],
                              -1*center_surround[np.newaxis, :, :],
                              gabors),
                             axis=0)
    filters /= np.abs(filters).max(axis=(1, 2))[:, np.newaxis, np.newaxis]
    if demean:
        filters -= filters.mean(axis=(1, 2))[:, np.newaxis, np.newaxis]
    assert filters.dtype == np.float32, filters.dtype
    # add channel axis
    return filters[:, np.newaxis]


def bin_like_load_data(resp, stimuli, bin_width):
    """The binning of the tutorials' load_data(bin_width)."""
    if bin_width > 1:
        bins = np.digitize(stimuli, np.arange(0, 360 + bin_width, bin_width))
        stimuli_binned = np.array([stimuli[bins == i].mean() for i in np.unique(bins)])
        resp_binned = np.array([resp[bins == i, :].mean(0) for i in np.unique(bins)])
    else:
        resp_binned = resp
        stimuli_binned = stimuli
    return resp_binned, stimuli_binned


def tutorial3_select(resp_binned, stimuli_binned):
    """Tutorial 3's load_data: only stimuli <= 180, shifted by -90."""
    resp_binned = resp_binned[stimuli_binned <= 180]
    stimuli_binned = stimuli_binned[stimuli_binned <= 180]
    stimuli_binned = stimuli_binned - 90
    return resp_binned, stimuli_binned


def stimulus_class(ori, n_classes):
    bins = np.linspace(0, 360, n_classes + 1)
    return np.digitize(ori.squeeze(), bins) - 1


def main():
    # filters() relies on NumPy 1.x value-based casting (float32 array times
    # float64 scalar stays float32); NumPy 2 computes the Gabor phase in
    # float64 and changes the filters by up to 2e-6.
    if int(np.__version__.split('.')[0]) >= 2:
        raise SystemExit('gen_data_fixtures.py: needs NumPy 1.x casting rules, found ' + np.__version__)
    fx = {}
    angles = np.array([0, 15, 30, 45, 60, 90, -45, 137.5, 180, 275, -90, 33.3, 1e-7, 89.99], np.float64)
    fx['angles'] = angles
    fx['grating_t3'] = np.stack([grating_t3(a) for a in angles])
    fx['grating_t3_patch'] = np.stack([grating_t3(a, patch=True) for a in angles[:4]])
    fx['grating_t2'] = np.stack([grating_t2(a) for a in angles[:4]])
    fx['grating_t2_patch'] = np.stack([grating_t2(a, patch=True) for a in angles[:4]])
    fx['grating_t2_sf14_res005'] = np.stack([grating_t2(a, sf=1/14, res=0.05) for a in angles[:4]])
    # The Bonus tutorial's encoding-model stimuli: 60 orientations at res 0.025.
    enc = np.linspace(0, 360, 61)[:-1] - 180
    fx['enc_angles'] = enc
    fx['grating_enc'] = np.stack([grating_t2(a, res=0.025) for a in enc])
    # An odd resolution whose arange length needs the ceil.
    fx['grating_t3_res0033'] = grating_t3(20, res=0.033)[np.newaxis]

    for out, K in [(6, 7), (4, 5), (8, 7), (3, 4), (2, 3), (5, 1)]:
        fx['filters_%d_%d' % (out, K)] = filters(out, K)
    for out, K in [(6, 7), (8, 7), (4, 5)]:
        fx['filters_demean_%d_%d' % (out, K)] = filters(out, K, demean=True)

    rng = np.random.default_rng(7)
    S, N = 200, 5
    stim = rng.uniform(0, 360, S).astype(np.float32)
    stim[:6] = [0, 6, 180, 359.99, 360, 179.5]  # edges and the 180 cut
    resp = rng.normal(size=(S, N)).astype(np.float32)
    fx['bin_resp'] = resp
    fx['bin_stimuli'] = stim
    for w in [6, 10, 7.5, 45, 400]:
        rb, sb = bin_like_load_data(resp, stim, w)
        tag = str(w).replace('.', 'p')
        fx['bin_%s_resp' % tag] = rb.astype(np.float32)
        fx['bin_%s_stimuli' % tag] = sb.astype(np.float32)
    rb, sb = tutorial3_select(*bin_like_load_data(resp, stim, 10))
    fx['t3_bin10_resp'] = rb.astype(np.float32)
    fx['t3_bin10_stimuli'] = sb.astype(np.float32)
    rb, sb = tutorial3_select(resp, stim)
    fx['t3_resp'] = rb.astype(np.float32)
    fx['t3_stimuli'] = sb.astype(np.float32)

    cls_angles = np.array([-1, -1e-9, 0, 1e-9, 17.9999, 18, 18.0001, 45, 179.99, 180,
                           359.999, 360, 361, 720, np.nan], np.float64)
    fx['class_angles'] = cls_angles
    for c in [1, 3, 7, 8, 20]:
        fx['class_%d' % c] = stimulus_class(cls_angles, c).astype(np.int64)

    np.savez_compressed(os.path.join(OUT, 'fixtures.npz'), **fx)

    # Loader fixtures: the dtypes and layouts numpy may write.
    S, N = 12, 7
    resp = rng.normal(size=(S, N))
    stim = np.arange(S, dtype=np.float64) * 30 + 0.25
    np.savez(os.path.join(OUT, 'v1_f64.npz'), resp=resp, stimuli=stim[:, np.newaxis])
    np.savez(os.path.join(OUT, 'v1_int.npz'), resp=np.round(resp * 100).astype(np.int64),
             stimuli=(np.arange(S) * 30).astype(np.int32))
    np.savez_compressed(os.path.join(OUT, 'v1_fortran.npz'),
                        resp=np.asfortranarray(resp.astype(np.float32)), stimuli=stim.astype(np.float32))
    np.savez(os.path.join(OUT, 'v1_bigendian.npz'), resp=resp.astype('>f4'), stimuli=stim.astype('>f4'))
    np.savez(os.path.join(OUT, 'split_f64.npz'), resp_train=resp, resp_test=resp[::-1].copy(), stimuli=stim)
    # What the loaders should produce, rounded to float32 by numpy.
    np.savez(os.path.join(OUT, 'v1_expected.npz'), resp=resp.astype(np.float32),
             resp_int=np.round(resp * 100).astype(np.float32), stimuli=stim.astype(np.float32))


if __name__ == '__main__':
    main()
