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

def optimize(case, make_opt, buffers, lrs, n=13):
    """Steps of a torch.optim optimizer on one tensor of n values with
    given gradients, one step per learning rate in lrs, set before it;
    keys p0, lr, and per step grad<i>, p<i+1> and each state buffer
    <name><i+1>."""
    param = torch.nn.Parameter(rnd(n))
    opt = make_opt([param])
    steps = {"p0": param.detach().clone(), "lr": np.array(lrs)}
    for i, lr in enumerate(lrs):
        for group in opt.param_groups:
            group["lr"] = lr
        g = rnd(n)
        opt.zero_grad()
        param.grad = g.clone()
        opt.step()
        steps[f"grad{i}"] = g
        steps[f"p{i + 1}"] = param.detach().clone()
        for key, name in buffers.items():
            steps[f"{name}{i + 1}"] = opt.state[param][key].clone()
    put(case, **steps)


# Three SGD steps with momentum and weight decay.
optimize("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01, foreach=False),
         {"momentum_buffer": "buf"}, [0.1, 0.1, 0.1], n=11)

# The extended op set. New cases go here, after the ones above, so that
# the random stream, and with it every earlier array, stays as it was.


def unary(case, f, x, **params):
    xr = x.clone().requires_grad_()
    y = f(xr)
    dy = rnd(*x.shape)
    y.backward(dy)
    put(case, x=x, y=y, dy=dy, dx=xr.grad, **params)


x = rnd(40, lo=-5, hi=5)
x[:4] = torch.tensor([0.0, 1e-4, 9.0, -12.0])
unary("tanh", torch.tanh, x)
# ELU's kink: at x = 0 PyTorch takes the exp branch (dx = dy * alpha).
x = rnd(40, lo=-4, hi=4)
x[:3] = torch.tensor([0.0, -1e-3, 1e-3])
unary("elu", lambda v: F.elu(v, alpha=0.7), x, alpha=np.array([0.7]))
# Softplus with beta != 1: beta*x exactly at the threshold (log branch),
# past it (x itself), far below it.
x = rnd(40, lo=-6, hi=6)
x[:4] = torch.tensor([2.5, 2.75, 40.0, -30.0])
unary("softplus", lambda v: F.softplus(v, beta=2.0, threshold=5.0), x, beta=np.array([2.0]), threshold=np.array([5.0]))


def avgpool(case, x, k, stride):
    xr = x.clone().requires_grad_()
    y = F.avg_pool2d(xr, k, stride=stride)
    dy = rnd(*y.shape)
    y.backward(dy)
    put(case, x=x, y=y, dy=dy, dx=xr.grad)


avgpool("avgpool_k2", rnd(2, 3, 8, 10), (2, 2), (2, 2))
avgpool("avgpool_k3s2", rnd(2, 2, 9, 11), (3, 3), (2, 2))  # overlapping windows
avgpool("avgpool_k23s34", rnd(1, 2, 11, 13), (2, 3), (3, 4))  # gaps between windows

# BCE with logits, including logits whose naive forms overflow.
x = rnd(4, 5, lo=-6, hi=6)
x.view(-1)[:5] = torch.tensor([0.0, 30.0, -30.0, 100.0, -100.0])
t = rnd(4, 5, lo=0, hi=1)
t.view(-1)[:5] = torch.tensor([1.0, 0.0, 1.0, 1.0, 0.0])
xr = x.clone().requires_grad_()
loss = F.binary_cross_entropy_with_logits(xr, t)
loss.backward()
put("bce_logits", x=x, target=t, loss=loss.reshape(1), dx=xr.grad)

# Poisson NLL (full=False), on log rates and on rates down to 0.
for case, log_input, x in [
    ("poisson_log", True, rnd(3, 4, lo=-2, hi=2)),
    ("poisson", False, torch.cat([torch.tensor([0.0, 1e-9]), rnd(10, lo=0, hi=4)]).reshape(3, 4)),
]:
    t = torch.randint(0, 5, (3, 4)).float()
    xr = x.clone().requires_grad_()
    loss = F.poisson_nll_loss(xr, t, log_input=log_input, full=False, eps=1e-8)
    loss.backward()
    put(case, x=x, target=t, loss=loss.reshape(1), dx=xr.grad, eps=np.array([1e-8]))


optimize("sgd_nesterov", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01, foreach=False),
         {"momentum_buffer": "buf"}, [0.1, 0.05, 0.2])
optimize("sgd_dampening", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.3, foreach=False),
         {"momentum_buffer": "buf"}, [0.1, 0.05, 0.2])
adam_state = {"exp_avg": "m", "exp_avg_sq": "v"}
optimize("adam", lambda ps: torch.optim.Adam(ps, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, foreach=False),
         adam_state, [1e-2, 5e-3, 2e-2])
optimize("adamw", lambda ps: torch.optim.AdamW(ps, lr=1e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, foreach=False),
         adam_state, [1e-2, 5e-3, 2e-2])


# Dropout with vkneuro's mask: a numpy port of kernels.DropoutHash
# (kernels/step.go) draws it, and y = x * noise with noise = mask / (1 - p)
# formed as torch's _dropout_impl forms it (bernoulli noise, div_, mul).
def hash32(x):
    x = x.astype(np.uint64)
    m = np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & m
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & m
    x ^= x >> np.uint64(16)
    return x


def dropout_keep(seed, t, n, p):
    key = hash32((np.uint64(t) + hash32(np.array([seed]))) & np.uint64(0xFFFFFFFF))
    h = hash32((np.arange(n, dtype=np.uint64) + key) & np.uint64(0xFFFFFFFF))
    threshold = int(min(float(np.float32(p)) * 2.0**32, 2.0**32 - 1))
    return h >= np.uint64(threshold)


p, seed, step = float(np.float32(0.3)), 1234, 3
# The port against kernels.DropoutHash's values, computed in Go.
assert [int(v) for v in hash32(np.array([0, 1, 0xFFFFFFFF]))] == [0, 1753845952, 1734902346]
x, dy = rnd(60), rnd(60)
mask = torch.from_numpy(dropout_keep(seed, step, 60, p).astype(np.float32))
xr = x.clone().requires_grad_()
y = xr * mask.clone().div_(1 - p)
y.backward(dy)
# PyTorch's own dropout scales its kept elements by the same factor.
with torch.random.fork_rng():
    yt = F.dropout(x, p=p, training=True)
kept = yt != 0
assert torch.equal(yt[kept], (x * torch.ones(60).div_(1 - p))[kept]), "F.dropout scales differently"
put("dropout", x=x, dy=dy, mask=mask, y=y, dx=xr.grad, params=np.array([p, seed, step]))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.npz")
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".npz")
with os.fdopen(fd, "wb") as f:
    np.savez_compressed(f, **out)
    f.flush()
    os.fsync(f.fileno())
os.replace(tmp, path)
print(f"wrote {path}: {len(out)} arrays, {os.path.getsize(path)} bytes")
