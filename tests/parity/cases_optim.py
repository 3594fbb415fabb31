"""Parity cases for torch.optim.SGD and torch.optim.Adam: 50 steps of every option over float32,
float16 and float64 parameters whose sizes reach PyTorch's vector loops and their scalar tails.

Each step's gradient is a function of the step number and the parameter's current values,
computed in NumPy float64 from the parameter's bits and rounded to its dtype, so both libraries
get the same gradient as long as they agree on the parameter. A case returns the final parameter
and the optimizer's state tensors (momentum_buffer; step, exp_avg, exp_avg_sq)."""

import zlib

import numpy as np

DTYPES = ("float32", "float16", "float64")
SHAPES = ((1,), (7,), (16,), (33,), (100,), (1000,), (4099,), (33, 7))
STEPS = 50

SGD = {
    "plain": dict(lr=0.05),
    "momentum": dict(lr=0.05, momentum=0.9),
    "dampening": dict(lr=0.05, momentum=0.9, dampening=0.3),
    "nesterov": dict(lr=0.05, momentum=0.9, nesterov=True),
    "wd": dict(lr=0.05, weight_decay=0.01),
    "maximize": dict(lr=0.05, momentum=0.5, maximize=True),
    "all": dict(lr=0.03, momentum=0.8, dampening=0.1, weight_decay=0.05, maximize=True),
    "nesterov-wd": dict(lr=0.02, momentum=0.7, nesterov=True, weight_decay=0.1),
}
ADAM = {
    "default": dict(),
    "lr-betas": dict(lr=0.01, betas=(0.8, 0.99)),
    "eps": dict(lr=0.01, eps=1e-4),
    "wd": dict(lr=0.01, eps=1e-3, weight_decay=0.1),
    "maximize": dict(lr=0.01, eps=1e-4, maximize=True),
    # beta1 < 0.5 takes lerp's other branch (weight 1 - beta1 >= 0.5)
    "all": dict(lr=0.02, betas=(0.4, 0.9), eps=1e-6, weight_decay=0.05, maximize=True),
}


def _grad(x, k):
    """The gradient at step k for parameter values x (float64 in, float64 out)."""
    flat = x.reshape(-1)
    idx = np.arange(flat.size, dtype=np.float64)
    with np.errstate(all="ignore"):  # float16 Adam with eps=1e-8 (0 in float16) may reach NaN
        g = np.cos(0.37 * k + 1.3 * flat + 0.01 * idx) * (1.0 + (idx % 5)) + 0.1 * flat
    return g.reshape(x.shape)


def trajectory(T, opt_name, kw, dtype, shape, steps=STEPS):
    seed = zlib.crc32(f"{opt_name}{sorted(kw.items())}{dtype}{shape}".encode())
    x0 = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    p = T.tensor(x0, requires_grad=True)
    opt = getattr(T.optim, opt_name)([p], **kw)
    for k in range(steps):
        x = p.detach().numpy().astype(np.float64)
        p.grad = T.tensor(_grad(x, k).astype(dtype))
        opt.step()
    st = opt.state[p]
    names = ("momentum_buffer",) if opt_name == "SGD" else ("step", "exp_avg", "exp_avg_sq")
    return [p.detach()] + [st[n] for n in names if st.get(n) is not None]


def _case(opt_name, kw, dtype, shape):
    def fn(T):
        return trajectory(T, opt_name, kw, dtype, shape)

    return fn


def cases():
    for opt_name, table in (("SGD", SGD), ("Adam", ADAM)):
        for cfg, kw in table.items():
            for dtype in DTYPES:
                short = {"float32": "f32", "float16": "f16", "float64": "f64"}[dtype]
                for shape in SHAPES:
                    n = "x".join(map(str, shape))
                    name = f"optim/{opt_name.lower()}/{cfg}/{short}/n={n}"
                    yield name, _case(opt_name, kw, dtype, shape)
