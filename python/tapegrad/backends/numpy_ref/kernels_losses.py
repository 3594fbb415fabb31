"""The reference kernels of binary_cross_entropy, binary_cross_entropy_with_logits,
smooth_l1_loss and huber_loss. BCE's kernel, the tensor ops of BCE-with-logits and smooth_l1's
forward round to the storage dtype after every step (Half arithmetic for float16); huber and
the backward of both compute float16 in float32 and round once. Weights arrive expanded to the
input's shape. Logs and exps are the C library's (BCE's scalar kernel calls them), the sigmoid
and log ops' kernels where PyTorch calls those tensor ops."""

import numpy as np

from .kernels_activation import _libm
from .kernels_reduce import _loss_check, _reduce_loss
from .registry import KERNELS, Ctx, kernel


def _step(ctx):
    """Elements in one step of PyTorch's vectorized loop (two AVX2 vectors); the rest of a
    contiguous run takes its scalar lambda."""
    return 32 if ctx.f16 else (8 if ctx.dtype == np.float64 else 16)


def _op(name, ctx, x):
    """The reference kernel of a unary op, as its tensor op computes (and rounds) it."""
    sub = Ctx(ctx.dtype, np.float16 if ctx.f16 else None)
    return KERNELS[name].forward(sub, x)


def _log_sigmoid(x):
    with np.errstate(all="ignore"):
        b = _libm("exp", -np.abs(x))
        return np.minimum(x, 0).astype(x.dtype) - _libm("log1p", b)


def _mean_div(ctx, v, n):
    return ctx.round(v / ctx.scalar(n)) if ctx.reduction == "mean" else v


@kernel("binary_cross_entropy")
class BinaryCrossEntropy:
    """attribute reduction; inputs x, y and an optional weight"""

    def forward(ctx, x, y, w=None, reduction="mean"):
        _loss_check("binary_cross_entropy", x, y, reduction)
        if not ((x >= 0) & (x <= 1)).all():
            raise RuntimeError("all elements of input should be between 0 and 1")
        if not ((y >= 0) & (y <= 1)).all():
            raise RuntimeError("all elements of target should be between 0 and 1")
        ctx.save(x, y)
        ctx.w, ctx.reduction = w, reduction
        r, lo = ctx.round, ctx.scalar(-100)
        l1 = np.maximum(r(_libm("log1p", -x)), lo)
        l0 = np.maximum(r(_libm("log", x)), lo)
        e = r(r(r(y - ctx.scalar(1)) * l1) - r(y * l0))
        if w is not None:
            e = r(e * w)
        return _reduce_loss(ctx, e, reduction)

    def backward(ctx, g):
        (x, y), w = ctx.saved, ctx.w
        r, one = ctx.round, ctx.scalar(1)
        eps = r(ctx.scalar(np.float32(1e-12)))  # PyTorch's float epsilon

        def post(v):
            if w is not None:
                v = r(v * w)
            return _mean_div(ctx, v, x.size)

        with np.errstate(all="ignore"):
            gx = post(r(r(g * r(x - y)) / np.maximum(r(r(one - x) * x), eps)))
            q = r(x / r(one - x))
            lg = _op("log", ctx, q)
            gy = post(r(-lg * g))
        return gx, gy, None


@kernel("binary_cross_entropy_with_logits")
class BinaryCrossEntropyWithLogits:
    """attribute reduction; inputs x, y, then optional weight and pos_weight"""

    def forward(ctx, x, y, w=None, pw=None, reduction="mean"):
        _loss_check("binary_cross_entropy_with_logits", x, y, reduction)
        ctx.save(x, y)
        ctx.w, ctx.pw, ctx.reduction = w, pw, reduction
        r, one = ctx.round, ctx.scalar(1)
        ls = r(_log_sigmoid(x))
        if pw is not None:
            ls = r(ls * r(r(r(pw - one) * y) + one))
        e = r(r(r(one - y) * x) - ls)
        if w is not None:
            e = r(e * w)
        return _reduce_loss(ctx, e, reduction)

    def backward(ctx, g):
        (x, y), w, pw = ctx.saved, ctx.w, ctx.pw
        r, one = ctx.round, ctx.scalar(1)

        def post(v):
            v = r(v * g)
            if w is not None:
                v = r(v * w)
            return _mean_div(ctx, v, x.size)

        with np.errstate(all="ignore"):
            s = _op("sigmoid", ctx, x)
            if pw is not None:
                t = r(pw * y)
                gx = r(r(r(r(t + one) - y) * s) - t)
                gy = r(r(_log_sigmoid(-x)) - r(r(_log_sigmoid(x)) * pw))
            else:
                gx, gy = r(s - y), -x
        return post(gx), post(gy), None, None


class _Pointwise:
    """attributes reduction and the threshold p (beta or delta). float16 rounds after every
    step (PyTorch's Half vectors); the backward follows PyTorch's vector lambda over whole
    steps of two vectors and its scalar lambda over the rest."""

    name, huber = "", False

    @classmethod
    def forward(cls, ctx, x, y, reduction="mean", p=1.0):
        _loss_check(cls.name, x, y, reduction)
        ctx.save(x, y)
        ctx.reduction, ctx.p = reduction, p
        r = ctx.round
        half = ctx.scalar(0.5)
        with np.errstate(all="ignore"):
            if cls.huber:  # float16 in float32, rounded once
                p = ctx.scalar(p)
                z = np.abs(x - y)
                e = r(np.where(z < p, half * z * z, p * (z - half * p)))
            else:  # float16 in Half arithmetic
                p = r(ctx.scalar(p))
                hp = r(half * p)
                z = np.abs(r(x - y))
                e = np.where(z < p, r(r(r(half * z) * z) / p), r(z - hp))
        return _reduce_loss(ctx, e.astype(x.dtype), reduction)

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved
        pd, one = ctx.p, ctx.scalar(1)
        # smooth_l1: float16 in float32, rounded once; huber: in Half arithmetic
        h = ctx.round if cls.huber else (lambda v: v)
        p = h(ctx.scalar(pd))
        norm = h(ctx.scalar(1.0 / x.size) if ctx.reduction == "mean" else one)
        g = np.broadcast_to(g, x.shape).reshape(-1)
        vec = np.arange(x.size) < x.size - x.size % _step(ctx)

        def grad(a, b):  # the target's: the input's formula with the two swapped
            d = h(a.reshape(-1) - b.reshape(-1))
            with np.errstate(all="ignore"):
                if cls.huber:
                    o = np.where(d >= p, p, np.where(d <= -p, -p, d))
                    lo, hi, mid = h(-norm * g) * p, h(norm * g) * p, h(norm * d) * g
                else:
                    o = np.where(np.abs(d) >= p, np.where(d > 0, one, -one), d / p)
                    lo, hi = -norm * g, norm * g
                    mid = ((norm * d * g).astype(np.float64) / pd).astype(d.dtype)
                tail = np.where(d <= -p, lo, np.where(d >= p, hi, mid))
                out = np.where(vec, h(norm * o) * g, tail)
            return ctx.round(out.astype(x.dtype)).reshape(x.shape)

        return grad(x, y), grad(y, x)


@kernel("smooth_l1_loss")
class SmoothL1Loss(_Pointwise):
    name = "smooth_l1_loss"


@kernel("huber_loss")
class HuberLoss(_Pointwise):
    name, huber = "huber_loss", True
