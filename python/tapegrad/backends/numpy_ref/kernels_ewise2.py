"""The reference kernels of clamp with tensor bounds, round with decimals and the zero-gradient
nodes of the random functions, as the C++ core's csrc/ops/ewise2.cpp."""

import numpy as np

from .kernels_activation import _extreme
from .registry import kernel, sum_to


def _clamp_tensor_name(shapes, attrs):
    return ("ClampBackward0", "ClampMinBackward1", "ClampMaxBackward1")[attrs.get("api", 0)]


@kernel("clamp_tensor", grad_fn=_clamp_tensor_name)
class ClampTensor:
    """maximum with lo, then minimum with hi (PyTorch's vector code: NaN from any operand, a tie
    gives the bound)."""

    def forward(ctx, x, lo=None, hi=None, api=0):
        ctx.has = (lo is not None, hi is not None)
        ctx.save(*[v for v in (x, lo, hi) if v is not None])
        v = x
        if lo is not None:
            v = _extreme(True, v, lo)
        if hi is not None:
            v = _extreme(False, v, hi)
        return v

    def backward(ctx, g):
        has_lo, has_hi = ctx.has
        it = iter(ctx.saved)
        x = next(it)
        lo = next(it) if has_lo else None
        hi = next(it) if has_hi else None
        zero = g.dtype.type(0)
        keep = np.ones(g.shape, bool)
        if has_lo:
            keep = keep & (x >= lo)
        if has_hi:
            keep = keep & (x <= hi)
        grads = [ctx.round(sum_to(ctx, np.where(keep, g, zero), x.shape)), None, None]
        if has_lo:
            m = (x < lo) & (lo < hi) if has_hi else x < lo
            grads[1] = ctx.round(sum_to(ctx, np.where(m, g, zero), lo.shape))
        if has_hi:
            m = (x > hi) | (hi < lo) if has_lo else x > hi
            grads[2] = ctx.round(sum_to(ctx, np.where(m, g, zero), hi.shape))
        return tuple(grads)


@kernel("round_decimals")
class RoundDecimals:
    """ATen's round_decimals: x * 10^d rounded half to even, then / 10^d (a negative d divides
    first), in float for float16 and float32; 10^d is a double rounded to that type."""

    def forward(ctx, a, decimals=0):
        ctx.shape = a.shape
        with np.errstate(over="ignore"):
            t = ctx.dtype.type(np.float64(10.0) ** np.float64(abs(decimals)))
        if decimals < 0:
            return np.rint(a / t) * t
        return np.rint(a * t) / t

    def backward(ctx, g):
        return (np.zeros(ctx.shape, g.dtype),)


def _random_name(shapes, attrs):
    k = attrs["kind"]
    return "BernoulliBackward0" if k == 4 else f"NormalBackward{k}"


@kernel("random_grad", grad_fn=_random_name)
class RandomGrad:
    """The sample as drawn from the (up to two) parameter tensors: zero gradients to them."""

    def forward(ctx, sample, a=None, b=None, kind=1):
        ctx.shapes = (None, None if a is None else a.shape, None if b is None else b.shape)
        return sample

    def backward(ctx, g):
        return tuple(None if s is None else np.zeros(s, g.dtype) for s in ctx.shapes)


def _var_mean_name(shapes, attrs):
    return "StdMeanBackward0" if attrs["which"] & 1 else "VarMeanBackward0"


@kernel("var_mean", grad_fn=_var_mean_name)
class VarMean:
    """One output of var_mean / std_mean (which: 0 var, 1 std, 2 and 3 their mean): Welford's
    update in double along each lane for every reduction (PyTorch's WelfordOps), rounded once.
    The backward is that output's part of PyTorch's var_mean_backward / std_mean_backward."""

    def forward(ctx, a, dims=None, correction=1.0, keepdim=False, which=0):
        from .kernels_select import _keep_shape

        ctx.save(a)
        ctx.all = dims is None or a.ndim == 0
        ctx.axes = tuple(range(a.ndim)) if ctx.all else tuple(dims)
        ctx.correction, ctx.keepdim, ctx.which = correction, keepdim, which
        shape = _keep_shape(a.shape, ctx.axes, keepdim)
        # TensorIterator's order: the reduced dims by decreasing stride, one row per output
        order = sorted(ctx.axes, key=lambda d: -a.strides[d])
        kept = [d for d in range(a.ndim) if d not in order]
        outer = int(np.prod([a.shape[d] for d in kept]))
        inner = int(np.prod([a.shape[d] for d in order]))
        rows = np.transpose(a, kept + order).reshape(outer, inner).astype(np.float64)
        mu = np.zeros(rows.shape[0])
        m2 = np.zeros(rows.shape[0])
        for j in range(rows.shape[1]):
            delta = rows[:, j] - mu
            mu = mu + delta / (j + 1)
            m2 = m2 + delta * (rows[:, j] - mu)
        n = rows.shape[1]
        with np.errstate(all="ignore"):
            if which >= 2:
                v = mu if n else np.full(rows.shape[0], np.nan)
            else:
                v = m2 / (n - correction if n > correction else 0.0)
                if which == 1:
                    v = np.sqrt(v)
        v = v.astype(np.float32).astype(ctx.dtype) if ctx.f16 else v.astype(ctx.dtype)
        return ctx.round(v).reshape(shape)

    def backward(ctx, g):
        from .kernels_select import _var_back

        (x,) = ctx.saved
        g = np.asarray(g, ctx.dtype)
        if ctx.which >= 2:
            n = 1
            for d in ctx.axes:
                n *= x.shape[d]
            kept = tuple(1 if i in ctx.axes else s for i, s in enumerate(x.shape))
            return (ctx.round(np.broadcast_to(g.reshape(kept), x.shape) / ctx.scalar(n)),)
        if ctx.which == 1:
            sub = type(ctx)(ctx.dtype, np.float16 if ctx.f16 else None)
            r = VarMean.forward(sub, x, None if ctx.all else ctx.axes, ctx.correction,
                                ctx.keepdim, 1)  # fmt: skip
            with np.errstate(all="ignore"):
                gv = ctx.round(g / ctx.round(r * ctx.scalar(2)))
            g = np.where(r == 0, ctx.dtype.type(0), gv)
        return (_var_back(ctx, x, g),)
