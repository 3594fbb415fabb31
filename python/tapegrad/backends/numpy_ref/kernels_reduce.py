"""The reducing reference kernels: sum, mean and the fused losses (mse_loss, l1_loss). Sums
accumulate unrounded in ctx.dtype, in PyTorch's order (cascade.py). The table they register in
and its rounding contract: registry.py."""

import math

import numpy as np

from .cascade import cascade_sum
from .registry import _numel, _sign, kernel

# ---- reductions: attributes dims (None: all, else a tuple of distinct dims) and keepdim


def _reduced_axes(shape, dims):
    if dims is None:
        return tuple(range(len(shape)))
    dims = tuple(dims)
    if len(set(dims)) != len(dims) or any(not 0 <= d < len(shape) for d in dims):
        raise RuntimeError(f"invalid dims {dims} for a tensor of shape {tuple(shape)}")
    return dims


def _unreduce(g, in_shape, axes):
    """The gradient of a sum: g broadcast back over the reduced axes. A read-only view with
    stride 0 there, as PyTorch's expand: a broadcast reduction of it sums in that layout."""
    kept = tuple(1 if i in axes else s for i, s in enumerate(in_shape))
    return np.broadcast_to(g.reshape(kept), in_shape)


def _keep(total, in_shape, axes, keepdim):
    if not keepdim:
        return total
    return total.reshape(tuple(1 if i in axes else s for i, s in enumerate(in_shape)))


def _reduce_name(base):
    return lambda shapes, attrs: base + ("0" if attrs["dims"] is None else "1")


@kernel("sum", _reduce_name("SumBackward"))
class Sum:
    def forward(ctx, a, dims=None, keepdim=False):
        ctx.in_shape, ctx.axes = a.shape, _reduced_axes(a.shape, dims)
        # float16 is PyTorch's Half sum (as_float: its float sum, for a mean)
        total = cascade_sum(a.astype(ctx.dtype, copy=False), ctx.axes, half_vectors=ctx.f16)
        return ctx.round(_keep(total, a.shape, ctx.axes, keepdim))

    def backward(ctx, g):
        return (_unreduce(g, ctx.in_shape, ctx.axes),)


@kernel("mean", _reduce_name("MeanBackward"))
class Mean:
    """round(sum / n): the sum accumulates in ctx.dtype and is not rounded on its own"""

    def forward(ctx, a, dims=None, keepdim=False):
        ctx.in_shape, ctx.axes = a.shape, _reduced_axes(a.shape, dims)
        ctx.n = ctx.scalar(_numel(a.shape[d] for d in ctx.axes))
        total = cascade_sum(a.astype(ctx.dtype, copy=False), ctx.axes, as_float=ctx.f16)
        return ctx.round(_keep(total, a.shape, ctx.axes, keepdim) / ctx.n)

    def backward(ctx, g):
        return (ctx.round(_unreduce(g, ctx.in_shape, ctx.axes) / ctx.n),)


# ---- fused losses: attribute reduction ("mean", "sum" or "none"); shapes must match exactly


def _loss_check(name, a, b, reduction):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if a.shape != b.shape:
        raise RuntimeError(
            f"{name}: input shape {tuple(a.shape)} and target shape {tuple(b.shape)} must match"
        )


def _reduce_loss(ctx, elems, reduction):
    if reduction == "none":
        return elems
    # PyTorch sums the float16 elements as a Half sum, but takes the mean of their float copy
    total = cascade_sum(elems, half_vectors=ctx.f16 and reduction == "sum")
    if reduction == "sum":
        return ctx.round(total)
    return ctx.round(total / ctx.scalar(elems.size))


@kernel("mse_loss")
class MseLoss:
    """elements round(round(a - b) ** 2); mean = round(sum / n), sum = round(sum)"""

    def forward(ctx, a, b, reduction="mean"):
        _loss_check("mse_loss", a, b, reduction)
        ctx.save(a, b)
        ctx.reduction = reduction
        d = ctx.round(a - b)
        return _reduce_loss(ctx, ctx.round(d * d), reduction)

    def backward(ctx, g):
        # PyTorch: norm * (a - b) * grad in the storage dtype, norm = 2/n (mean) or 2.
        a, b = ctx.saved
        n = a.size
        if ctx.reduction == "mean":
            norm = ctx.round(ctx.scalar(2.0 / n if n else math.inf))
        else:
            norm = ctx.scalar(2)
        r = ctx.round
        # the target's gradient is the same formula with the operands swapped (a zero's sign)
        return r(r(norm * r(a - b)) * g), r(r(norm * r(b - a)) * g)


def _l1_name(shapes, attrs):
    """PyTorch's l1_loss is (a - b).abs() then the reduction: its node is the last of these."""
    return {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(attrs["reduction"], "AbsBackward0")


@kernel("l1_loss", grad_fn=_l1_name)
class L1Loss:
    """elements |round(a - b)|; mean = round(sum / n), sum = round(sum)"""

    def forward(ctx, a, b, reduction="mean"):
        _loss_check("l1_loss", a, b, reduction)
        ctx.save(a, b)
        ctx.reduction = reduction
        return _reduce_loss(ctx, np.abs(ctx.round(a - b)), reduction)

    def backward(ctx, g):
        a, b = ctx.saved
        if ctx.reduction == "mean":
            g = ctx.round(g / ctx.scalar(a.size))
        ga = ctx.round(g * _sign(ctx.round(a - b)))  # sign(0) = 0
        return ga, -ga
