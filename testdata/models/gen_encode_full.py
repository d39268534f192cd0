#!/usr/bin/python3
"""Full-scale golden fixture for the Bonus encoding model (ConvFC).

The tutorial's size and hyper-parameters: 60 centred 12x16 gratings
(res 0.025, orientations linspace(0,360,61)[:-1] - 180), N = 23,589
neurons, lr 2, momentum 0.9, L2 5e-4 and L1 1e-6 on out_layer.weight,
200 full-batch SGD steps. out_layer.weight alone is 23589x1152 floats
(109 MB), so the large inputs are not stored: this script and the Go
test (models/golden_full_test.go) both GENERATE out_layer.weight,
out_layer.bias and the responses from a counter-based hash
(SplitMix64 of the element index). Only integer arithmetic, exact
integer-to-double conversions and single IEEE double operations are
involved, so both sides get bit-identical float32 values; the fixture
records checksums of the generated arrays and the Go test compares them.

The fixture (encode_full.npz) holds:

  x                    the gratings [60,1,12,16] (tiny; Go also regenerates them)
  hyper                [steps, lr, momentum, l2, l1]
  init/conv.weight     the tutorial's de-meaned filters; init/conv.bias = 0
  check/<k>            checksum of generated array k: sum_i bits_i*(2i+1)
                       mod 2^64 over its float32 bit patterns, as four
                       16-bit limbs (low first) so that float32 holds them exactly
  losses               per-step objective (penalties included) before each
                       update, PyTorch float64 run from the float32 inputs
  losses32             the same from PyTorch's float32 run
  final/<k>            conv.weight, conv.bias, out_layer.bias after training
  sub/stride           [SUB_STRIDE]: the subsample is flat indices j*SUB_STRIDE
  sub/out_layer.weight final out_layer.weight at those indices
  stats/out_layer.weight  [sum, sum of squares, sum of |.|] of the whole
                       final out_layer.weight (float64 reference)
  f32err/<k>           max |PyTorch float32 final - float64 final| (for
                       out_layer.weight: over the subsample)

Run from the repository root (about 10 minutes on two cores):
  /usr/bin/python3 testdata/models/gen_encode_full.py
"""
import os
import sys
import time

import numpy as np
import torch
from torch import nn, optim

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_model_fixtures import ConvFC, filters, grating, train  # noqa: E402

OUT = os.path.dirname(os.path.abspath(__file__))

S, N, K = 60, 23589, 6 * 12 * 16
STEPS, LR, MOMENTUM, L2, L1 = 200, 2.0, 0.9, 5e-4, 1e-6
SUB_STRIDE = 389  # prime, so the subsample walks across all columns

# Hash streams, one per generated quantity (the Go test uses the same).
STREAM_WEIGHT, STREAM_BIAS, STREAM_PREF, STREAM_AMP, STREAM_DIR, STREAM_NOISE = range(1, 7)

U64 = np.uint64


def splitmix(stream, idx):
    """SplitMix64 output for counter idx (uint64 array) in a stream."""
    with np.errstate(over='ignore'):
        z = idx.astype(U64) + U64(stream) * U64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> U64(30))) * U64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> U64(27))) * U64(0x94D049BB133111EB)
        return z ^ (z >> U64(31))


def uniform(stream, idx):
    """Doubles in [0,1) with 53 random bits: exact in both languages."""
    return (splitmix(stream, idx) >> U64(11)).astype(np.float64) * 2.0 ** -53


def gen_weight():
    """Uniform with std 0.01 (the tutorial's normal_(std=0.01) scale)."""
    u = uniform(STREAM_WEIGHT, np.arange(N * K, dtype=U64))
    return (0.034641016151377546 * (u - 0.5)).astype(np.float32).reshape(N, K)


def gen_bias():
    """nn.Linear's default bias range U(-1/sqrt(K), 1/sqrt(K))."""
    u = uniform(STREAM_BIAS, np.arange(N, dtype=U64))
    return (0.029462782549439483 * (2.0 * u - 1.0)).astype(np.float32)


def gen_resp():
    """Orientation-tuned responses [S,N]: triangle-wave tuning in 2θ
    (period 180°) with gain 1..2, a direction term in θ with gain 0..0.5,
    and uniform noise of std 0.17; std about 0.9 overall. Stimulus s is
    at 6s degrees and neuron n prefers 6·pref_n degrees, so the tuning
    is computed on integers and one division."""
    n = np.arange(N, dtype=U64)
    pref = (splitmix(STREAM_PREF, n) % U64(60)).astype(np.int64)
    amp = 1.0 + uniform(STREAM_AMP, n)
    dirg = 0.5 * uniform(STREAM_DIR, n)
    s = np.arange(S, dtype=np.int64)[:, None]
    e = (s - pref[None, :]) % 60            # θ − φ in 6° units, [0,60)
    d = (2 * e) % 60                        # 2(θ − φ)
    t2 = 1.0 - np.minimum(d, 60 - d).astype(np.float64) / 15.0
    t1 = 1.0 - np.minimum(e, 60 - e).astype(np.float64) / 15.0
    noise = uniform(STREAM_NOISE, np.arange(S * N, dtype=U64)).reshape(S, N)
    r = (amp[None, :] * t2 + dirg[None, :] * t1) + 0.6 * (noise - 0.5)
    return r.astype(np.float32)


def checksum(a):
    """sum_i bits_i·(2i+1) mod 2^64 over the float32 bit patterns, as
    four 16-bit limbs."""
    bits = np.ascontiguousarray(a, np.float32).reshape(-1).view(np.uint32).astype(U64)
    with np.errstate(over='ignore'):
        h = int(np.sum(bits * (U64(2) * np.arange(bits.size, dtype=U64) + U64(1)), dtype=U64))
    return np.array([(h >> (16 * i)) & 0xFFFF for i in range(4)], np.float64)


def main():
    torch.set_num_threads(2)
    oris = np.linspace(0, 360, S + 1)[:-1] - 180
    x = np.stack([grating(a, res=0.025, centred=True) for a in oris])[:, np.newaxis]  # [60,1,12,16]
    w, b, resp = gen_weight(), gen_bias(), gen_resp()
    print(f'resp mean {resp.mean():.3f} std {resp.std():.3f}; weight std {w.std():.4f}', flush=True)
    arrays = {'x': x, 'hyper': np.array([STEPS, LR, MOMENTUM, L2, L1], np.float64),
              'init/conv.weight': filters(demean=True),
              'init/conv.bias': np.zeros(6, np.float32),
              'check/out_layer.weight': checksum(w), 'check/out_layer.bias': checksum(b),
              'check/resp': checksum(resp)}

    def build():
        net = ConvFC(N)
        with torch.no_grad():
            net.out_layer.weight.copy_(torch.from_numpy(w))
            net.out_layer.bias.copy_(torch.from_numpy(b))
        return net

    idx = np.arange(0, N * K, SUB_STRIDE)
    final = {}
    for double in (True, False):
        net = build()
        t0 = time.time()
        losses = train(net, x, resp, nn.MSELoss(), 'out_layer.weight', STEPS, LR, MOMENTUM, L2, L1, double=double)
        print(f'double={double}: {time.time() - t0:.0f} s, loss {losses[0]:.6g} -> {losses[-1]:.6g}', flush=True)
        st = {k: v.detach().numpy() for k, v in net.state_dict().items()}
        if double:
            arrays['losses'] = losses
            wf = st['out_layer.weight']
            arrays['stats/out_layer.weight'] = np.array([wf.sum(), np.square(wf).sum(), np.abs(wf).sum()])
            for k in ('conv.weight', 'conv.bias', 'out_layer.bias'):
                final[k] = st[k].astype(np.float32)
                arrays['final/' + k] = final[k]
            final['out_layer.weight'] = wf.reshape(-1)[idx].astype(np.float32)
            # The indices reach 27e6 > 2^24, past float32's exact integers
            # (the Go reader converts to float32), so store the stride.
            arrays['sub/stride'] = np.array([SUB_STRIDE], np.float64)
            arrays['sub/out_layer.weight'] = final['out_layer.weight']
        else:
            arrays['losses32'] = losses
            st['out_layer.weight'] = st['out_layer.weight'].reshape(-1)[idx]
            for k, v in final.items():
                arrays['f32err/' + k] = np.array([np.abs(st[k].astype(np.float64) - v).max()])
        del net
    rel = np.abs(arrays['losses32'] - arrays['losses']) / np.abs(arrays['losses'])
    print('PyTorch float32 max relative loss error', rel.max(), {k: float(arrays[k][0]) for k in arrays if k.startswith('f32err/')})
    path = os.path.join(OUT, 'encode_full.npz')
    tmp = path + '.tmp.npz'
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)
    print(f'{path}: {os.path.getsize(path)} bytes')


if __name__ == '__main__':
    main()
