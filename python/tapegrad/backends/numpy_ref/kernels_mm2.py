"""The reference kernels of addmv, baddbmm and addbmm: beta * input + alpha * (the product), as
the C++ ops compute it (csrc/ops/addmm.cpp): the product rounded (matmul's kernel), scaled and
rounded, added to the scaled input and rounded; addbmm adds the batches' products one after
another. Float16 keeps the product's float sum and rounds beta * input + alpha * sum once
(addmv: beta and alpha rounded to float16, and the input scaled and rounded before the sum is
added, as gemv does; with one column, alpha * sum rounded too). The backward is matmul's (mv's,
bmm's) times alpha, and grad times beta summed to the input's shape."""

import numpy as np

from .kernels_linalg import MatMul
from .registry import kernel, sum_to


def _times(ctx, x, s):
    """PyTorch's maybe_multiply: x itself when s is 1."""
    return x if s == 1 else ctx.round(x * ctx.scalar(s))


def _product(ctx, a, b, rounded=True):
    keep = (lambda x: x) if not rounded else ctx.round
    inner = type("Ctx", (), {"f16": ctx.f16, "round": keep, "save": lambda *_: None})
    return MatMul.forward(inner, a, b)


def _combine(ctx, inp, prod, beta, alpha, scale_first=False, round_term=False):
    if ctx.f16:  # prod: the float sum
        p = np.float32(alpha) * prod
        p = ctx.round(p) if round_term else p
        if scale_first:
            y = np.zeros_like(inp) if beta == 0 else inp
            y = y if beta in (0, 1) else ctx.round(np.float32(beta) * y)
            return ctx.round(y + p)
        return ctx.round(p if beta == 0 else np.float32(beta) * inp + p)
    p = _times(ctx, prod, alpha)
    if beta == 0:  # PyTorch leaves input out (its NaNs too)
        return p
    return ctx.round(_times(ctx, inp, beta) + p)


def _grads(ctx, g, g_prod):
    ga, gb = MatMul.backward(ctx, g_prod)
    gi = ctx.round(sum_to(ctx, _times(ctx, g, ctx.beta), ctx.in_shape))
    return _times(ctx, ga, ctx.alpha), _times(ctx, gb, ctx.alpha), gi


class _AddProduct:
    def forward(ctx, a, b, inp, beta, alpha):
        ctx.save(a, b)
        ctx.beta, ctx.alpha, ctx.in_shape = beta, alpha, inp.shape
        gemv = ctx.f16 and a.ndim == 2
        if gemv:  # addmv's gemv takes beta and alpha as float16
            beta, alpha = float(np.float16(beta)), float(np.float16(alpha))
        prod = _product(ctx, a, b, not ctx.f16)
        return _combine(ctx, inp, prod, beta, alpha, gemv, gemv and a.shape[1] == 1)

    def backward(ctx, g):
        return _grads(ctx, g, g)


@kernel("addmv")
class Addmv(_AddProduct):
    pass


@kernel("baddbmm")
class Baddbmm(_AddProduct):
    pass


@kernel("addbmm")
class Addbmm:
    def forward(ctx, a, b, inp, beta, alpha):
        ctx.save(a, b)
        ctx.beta, ctx.alpha, ctx.in_shape = beta, alpha, inp.shape
        acc = None if beta == 0 else _times(ctx, inp, beta)
        for i in range(a.shape[0]):
            if ctx.f16:  # each batch an addmm, rounded once; beta scales the input only
                acc = _combine(ctx, inp if i == 0 else acc, _product(ctx, a[i], b[i], False),
                               beta if i == 0 else 1, alpha)  # fmt: skip
                continue
            p = _times(ctx, _product(ctx, a[i], b[i]), alpha)
            acc = p if acc is None else ctx.round(acc + p)
        out_shape = (a.shape[1], b.shape[2])
        if acc is None:
            return np.zeros(out_shape, ctx.dtype)
        return np.broadcast_to(acc, out_shape).copy()

    def backward(ctx, g):
        return _grads(ctx, g, np.broadcast_to(g, (ctx.saved[0].shape[0],) + g.shape))
