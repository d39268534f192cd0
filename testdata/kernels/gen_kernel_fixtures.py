#!/usr/bin/python3
"""Writes golden.npz: inputs, outputs and gradients of every vkneuro kernel
op computed by PyTorch (float32, CPU, fixed seed), read by
kernels/kerneltest (golden.go). Keys are "<case>/<array>"; the op and its
hyper-parameters for each case are fixed in both files.

Run from the repository root:  /usr/bin/python3 testdata/kernels/gen_kernel_fixtures.py
"""
import os
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(20241123)
torch.set_num_threads(1)
out = {}


def put(case, **arrays):
    for k, v in arrays.items():
        if isinstance(v, torch.Tensor):
            v = v.detach().cpu().numpy()
        out[f"{case}/{k}"] = np.ascontiguousarray(np.asarray(v, dtype=np.float32))


def rnd(*shape, lo=-1.0, hi=1.0):
    return (torch.rand(*shape) * (hi - lo) + lo).float()


def conv(case, n, c, h, w, o, kh, kw, stride, pad):
    x = rnd(n, c, h, w).requires_grad_()
    wt = rnd(o, c, kh, kw).requires_grad_()
    b = rnd(o).requires_grad_()
    y = F.conv2d(x, wt, b, stride=stride, padding=pad)
    dy = rnd(*y.shape)
    y.backward(dy)
    put(case, x=x, w=wt, b=b, y=y, dy=dy, dx=x.grad, dw=wt.grad, db=b.grad)


conv("conv_s2p1", 2, 3, 7, 9, 4, 3, 3, (2, 2), (1, 1))
conv("conv_s12p20", 1, 2, 8, 6, 3, 5, 3, (1, 2), (2, 0))
conv("conv_tutorial", 2, 1, 12, 16, 6, 7, 7, (1, 1), (3, 3))


def pool(case, x, k, stride):
    x = x.clone().requires_grad_()
    y, idx = F.max_pool2d(x, k, stride=stride, return_indices=True)
    dy = rnd(*y.shape)
    y.backward(dy)
    put(case, x=x, y=y, argmax=idx.float(), dy=dy, dx=x.grad)


pool("pool_k3s2", rnd(2, 3, 9, 11), (3, 3), (2, 2))
pool("pool_k23s12", rnd(1, 2, 7, 10), (2, 3), (1, 2))
pool("pool_ties", torch.randint(-2, 3, (2, 2, 6, 8)).float(), (2, 2), (1, 1))


def softmax(case, x, dim, log):
    x = x.clone().requires_grad_()
    y = F.log_softmax(x, dim=dim) if log else F.softmax(x, dim=dim)
    dy = rnd(*y.shape)
    y.backward(dy)
    put(case, x=x, y=y, dy=dy, dx=x.grad)


softmax("softmax_dim1", rnd(2, 5, 3, lo=-4, hi=4), 1, False)
softmax("logsoftmax_dim1", rnd(2, 5, 3, lo=-4, hi=4), 1, True)
softmax("logsoftmax_2d", rnd(4, 10, lo=-4, hi=4), 1, True)

# BCE with probabilities at and near 0 and 1 (PyTorch clamps the logs at
# -100 and p(1-p) at 1e-12 in the gradient) and soft targets.
p = rnd(4, 5, lo=0.02, hi=0.98)
p.view(-1)[:6] = torch.tensor([0.0, 1.0, 1e-7, 1 - 2**-24, 1e-30, 0.5])
t = rnd(4, 5, lo=0, hi=1)
t.view(-1)[:6] = torch.tensor([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
pr = p.clone().requires_grad_()
loss = F.binary_cross_entropy(pr, t)
loss.backward()
put("bce", p=p, target=t, loss=loss.reshape(1), dp=pr.grad)

y = rnd(3, 4, lo=-2, hi=2).requires_grad_()
t = rnd(3, 4, lo=-2, hi=2)
loss = F.mse_loss(y, t)
loss.backward()
put("mse", y=y, target=t, loss=loss.reshape(1), dy=y.grad)

logp = F.log_softmax(rnd(6, 4, lo=-3, hi=3), dim=1).requires_grad_()
t = torch.randint(0, 4, (6,))
loss = F.nll_loss(logp, t)
loss.backward()
put("nll", logp=logp, target=t.float(), loss=loss.reshape(1), dlogp=logp.grad)

# Penalties as the tutorials write them: coef * sum(w**2), coef * sum(|w|).
w = rnd(5, 7)
w.view(-1)[0] = 0.0
wr = w.clone().requires_grad_()
l2 = 0.01 * (wr ** 2).sum()
l2.backward()
put("l2", w=w, coef=np.array([0.01]), loss=l2.reshape(1), dw=wr.grad)
wr = w.clone().requires_grad_()
l1 = 0.05 * wr.abs().sum()
l1.backward()
put("l1", w=w, coef=np.array([0.05]), loss=l1.reshape(1), dw=wr.grad)

x = rnd(40)
x[0] = 0.0
xr = x.clone().requires_grad_()
y = torch.relu(xr)
dy = rnd(40)
y.backward(dy)
put("relu", x=x, y=y, dy=dy, dx=xr.grad)
xr = rnd(40, lo=-6, hi=6).requires_grad_()
y = torch.sigmoid(xr)
y.backward(dy)
put("sigmoid", x=xr, y=y, dy=dy, dx=xr.grad)

x = rnd(3, 4, 5)
put("reduce", x=x, sum=x.sum().reshape(1), mean=x.mean().reshape(1))

# A linear layer y = x W^T + b and its gradients.
lin = torch.nn.Linear(7, 3)
x = rnd(5, 7).requires_grad_()
y = lin(x)
dy = rnd(5, 3)
y.backward(dy)
put("linear", x=x, w=lin.weight, b=lin.bias, y=y, dy=dy, dx=x.grad, dw=lin.weight.grad, db=lin.bias.grad)

# Three SGD steps with momentum and weight decay.
param = torch.nn.Parameter(rnd(11))
p0 = param.detach().clone()
opt = torch.optim.SGD([param], lr=0.1, momentum=0.9, weight_decay=0.01)
steps = {"p0": p0}
for i in range(3):
    g = rnd(11)
    opt.zero_grad()
    param.grad = g.clone()
    opt.step()
    steps[f"grad{i}"] = g
    steps[f"p{i + 1}"] = param.detach().clone()
    steps[f"buf{i + 1}"] = opt.state[param]["momentum_buffer"].clone()
put("sgd", **steps)

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.npz")
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".npz")
with os.fdopen(fd, "wb") as f:
    np.savez_compressed(f, **out)
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, path)
print(f"wrote {path}: {len(out)} arrays, {os.path.getsize(path)} bytes")
