"""Parity cases for torch.optim's SGD, Adam, AdamW, RMSprop and Adagrad: 50 steps of every option
over float32, float16 and float64 parameters whose sizes reach PyTorch's vector loops and their
scalar tails, and optimizer state_dict round trips that must continue on the same bits.

Each step's gradient is a function of the step number and the parameter's current values,
computed in NumPy float64 from the parameter's bits and rounded to its dtype, so both libraries
get the same gradient as long as they agree on the parameter. A case returns the final parameter
and the optimizer's state tensors (those of STATE that the optimizer keeps)."""

import copy
import io
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
    "amsgrad": dict(lr=0.01, eps=1e-4, amsgrad=True),
    "amsgrad-all": dict(
        lr=0.02, betas=(0.4, 0.9), eps=1e-6, weight_decay=0.05, amsgrad=True, maximize=True
    ),  # fmt: skip
}
ADAMW = {
    "default": dict(),
    "wd": dict(lr=0.01, eps=1e-4, weight_decay=0.1),
    "amsgrad": dict(lr=0.01, eps=1e-4, weight_decay=0.05, amsgrad=True),
    "maximize": dict(lr=0.01, eps=1e-4, maximize=True),
    "all": dict(
        lr=0.02, betas=(0.4, 0.9), eps=1e-6, weight_decay=0.3, amsgrad=True, maximize=True
    ),  # fmt: skip
}
RMSPROP = {
    "default": dict(),
    "alpha-eps": dict(lr=0.005, alpha=0.9, eps=1e-4),
    "wd": dict(lr=0.005, eps=1e-4, weight_decay=0.1),
    "momentum": dict(lr=0.005, eps=1e-4, momentum=0.9),
    "centered": dict(lr=0.005, eps=1e-4, centered=True),
    "maximize": dict(lr=0.005, eps=1e-4, maximize=True),
    # alpha < 0.5: grad_avg's lerp takes its other branch (weight 1 - alpha > 0.5)
    "all": dict(
        lr=0.003, alpha=0.4, eps=1e-3, weight_decay=0.05, momentum=0.5, centered=True, maximize=True
    ),  # fmt: skip
}
ADAGRAD = {
    "default": dict(),
    "lr-decay": dict(lr=0.05, lr_decay=0.01),
    "wd": dict(lr=0.05, weight_decay=0.1),
    "init-acc": dict(lr=0.05, initial_accumulator_value=0.1, eps=1e-4),
    "maximize": dict(lr=0.05, maximize=True),
    "all": dict(
        lr=0.05,
        lr_decay=0.02,
        weight_decay=0.05,
        initial_accumulator_value=0.3,
        eps=1e-6,
        maximize=True,
    ),  # fmt: skip
}
TABLES = (("SGD", SGD), ("Adam", ADAM), ("AdamW", ADAMW), ("RMSprop", RMSPROP),
          ("Adagrad", ADAGRAD))  # fmt: skip
_ADAM_STATE = ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq")
STATE = {
    "SGD": ("momentum_buffer",),
    "Adam": _ADAM_STATE,
    "AdamW": _ADAM_STATE,
    "RMSprop": ("step", "square_avg", "momentum_buffer", "grad_avg"),
    "Adagrad": ("step", "sum"),
}
# state_dict round trips: (optimizer, options); `how` moves the state between two optimizers
RESUME = (
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("Adam", dict(lr=0.01, eps=1e-4, amsgrad=True)),
    ("AdamW", dict(lr=0.01, eps=1e-4, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.005, eps=1e-4, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1)),
)
RESUME_HOW = ("dict", "deepcopy", "save")  # save: T.save / T.load through a file in memory


def _grad(x, k):
    """The gradient at step k for parameter values x (float64 in, float64 out)."""
    flat = x.reshape(-1)
    idx = np.arange(flat.size, dtype=np.float64)
    with np.errstate(all="ignore"):  # float16 Adam with eps=1e-8 (0 in float16) may reach NaN
        g = np.cos(0.37 * k + 1.3 * flat + 0.01 * idx) * (1.0 + (idx % 5)) + 0.1 * flat
    return g.reshape(x.shape)


def _run(T, p, opt, dtype, k0, k1):
    for k in range(k0, k1):
        x = p.detach().numpy().astype(np.float64)
        p.grad = T.tensor(_grad(x, k).astype(dtype))
        opt.step()


def _x0(opt_name, kw, dtype, shape):
    seed = zlib.crc32(f"{opt_name}{sorted(kw.items())}{dtype}{shape}".encode())
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _results(opt_name, opt, p):
    st = opt.state[p]
    return [p.detach()] + [st[n] for n in STATE[opt_name] if st.get(n) is not None]


def trajectory(T, opt_name, kw, dtype, shape, steps=STEPS):
    p = T.tensor(_x0(opt_name, kw, dtype, shape), requires_grad=True)
    opt = getattr(T.optim, opt_name)([p], **kw)
    _run(T, p, opt, dtype, 0, steps)
    return _results(opt_name, opt, p)


def resumed(T, opt_name, kw, dtype, shape, how, steps=STEPS):
    """`steps` steps, the optimizer's state moved into a fresh optimizer (of a copy of the
    parameter) after the first 20: the same bits as `trajectory` when the state travels whole."""
    p = T.tensor(_x0(opt_name, kw, dtype, shape), requires_grad=True)
    opt = getattr(T.optim, opt_name)([p], **kw)
    _run(T, p, opt, dtype, 0, 20)
    sd = opt.state_dict()
    if how == "deepcopy":
        sd = copy.deepcopy(sd)
    elif how == "save":
        buf = io.BytesIO()
        T.save(sd, buf)
        buf.seek(0)
        sd = T.load(buf)
    q = T.tensor(p.detach().numpy(), requires_grad=True)
    opt2 = getattr(T.optim, opt_name)([q], lr=0.5)  # other options: load_state_dict restores
    opt2.load_state_dict(sd)
    _run(T, q, opt2, dtype, 20, steps)
    return _results(opt_name, opt2, q)


def _case(opt_name, kw, dtype, shape):
    def fn(T):
        return trajectory(T, opt_name, kw, dtype, shape)

    return fn


def _resume_case(opt_name, kw, dtype, shape, how):
    def fn(T):
        return resumed(T, opt_name, kw, dtype, shape, how)

    return fn


SHORT = {"float32": "f32", "float16": "f16", "float64": "f64"}


def mkl_sqrt(name):
    """Whether a case goes through PyTorch's float32/float64 sqrt, which on the CPU is MKL's and
    not correctly rounded (every optimizer here but SGD, in float32 and float64)."""
    opt = name.split("/")[2] if name.startswith("optim/resume/") else name.split("/")[1]
    return opt != "sgd" and "/f16/" not in name


def cases():
    for opt_name, table in TABLES:
        for cfg, kw in table.items():
            for dtype in DTYPES:
                for shape in SHAPES:
                    n = "x".join(map(str, shape))
                    name = f"optim/{opt_name.lower()}/{cfg}/{SHORT[dtype]}/n={n}"
                    yield name, _case(opt_name, kw, dtype, shape)
    for opt_name, kw in RESUME:
        for how in RESUME_HOW:
            for dtype in DTYPES:
                for shape in ((33,), (4099,)):
                    n = "x".join(map(str, shape))
                    name = f"optim/resume/{opt_name.lower()}/{how}/{SHORT[dtype]}/n={n}"
                    yield name, _resume_case(opt_name, kw, dtype, shape, how)
