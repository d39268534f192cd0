#!/usr/bin/python3
"""Checks that a state dict vkneuro saved loads into PyTorch.

usage: check_state_dict.py ARCH STATE.npz [INPUT.npz OUTPUT.npz]

Builds nn.Sequential(ARCH) as the user's PyTorch code would, loads
STATE.npz (written by vkneuro's Model.SaveStateDict) with
load_state_dict(strict=True), and, given INPUT.npz and OUTPUT.npz (x and
y, vkneuro's forward pass in evaluation mode), checks that PyTorch's
forward pass gives the same output. Prints "ok" on success.
"""
import sys

import numpy as np
import torch
from torch import nn


def main():
    arch, state = sys.argv[1], sys.argv[2]
    net = eval('nn.Sequential(' + arch + ')', {'nn': nn, '__builtins__': {}}, vars(nn))
    sd = {k: torch.from_numpy(v) for k, v in np.load(state).items()}
    net.load_state_dict(sd, strict=True)
    if len(sys.argv) > 3:
        x = torch.from_numpy(np.load(sys.argv[3])['x'])
        want = np.load(sys.argv[4])['y']
        net.eval()
        with torch.no_grad():
            got = net(x).numpy()
        if got.shape != want.shape:
            sys.exit(f'output shape {got.shape}, vkneuro {want.shape}')
        err = np.abs(got - want).max() / max(np.abs(want).max(), 1e-30)
        if not err <= 1e-5:
            sys.exit(f'outputs differ: max relative error {err:.3g}')
    print('ok')


if __name__ == '__main__':
    main()
