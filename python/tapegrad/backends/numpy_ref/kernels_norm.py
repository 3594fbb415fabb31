"""The reference kernel of vector_norm, in PyTorch's CPU order (see csrc/ops/reduce_norm.cpp, the
C++ op): the 2-norm of float32/float64 lanes that lie contiguously in memory by the vectorized
row loop (32-byte vectors of lanes, lanes summed left to right, then the tail, fused on the SIMD
path as PyTorch's AVX2 build); every other case one running accumulator per output in memory
order (float32 for float16). The backward is PyTorch's norm_backward, each op rounded."""

import numpy as np

from tapegrad._fma import fma, fmaf, simd

from .kernels_activation import _libm
from .kernels_elementwise import _pow
from .kernels_prodnorm import _numel, _reduced_order
from .registry import Ctx, _sign, kernel


def _lanes(a, axes):
    """(lanes, contiguous): a's elements as one row per output, each in visiting order."""
    kept = [d for d in range(a.ndim) if d not in axes]
    red, run = _reduced_order(a, axes)
    n = _numel(a.shape, red)
    lanes = np.transpose(a, kept + red).reshape(_numel(a.shape, kept), n)
    return lanes, run == n


def _two_norm_rows(x, fused):
    """PyTorch's vectorized 2-norm of each row of x (float32 or float64)."""
    dt = x.dtype.type
    v = 32 // x.dtype.itemsize
    m, n = x.shape
    full = n - n % v
    acc = np.zeros((m, v), x.dtype)
    for d in range(0, full, v):
        blk = x[:, d : d + v]
        acc = acc + blk * blk
    s = acc[:, 0].copy()
    for j in range(1, v):
        s = s + acc[:, j]
    unfused = n if not fused else full + 4 if dt is np.float32 and n - full >= 4 else full
    madd = fmaf if dt is np.float32 else fma
    for d in range(full, n):
        col = x[:, d]
        s = s + col * col if d < unfused else madd(col, col, s)
    return np.sqrt(s)


def _slow_rows(x, p):
    """binary_kernel_reduce with order p's step, one accumulator per row."""
    m, n = x.shape
    dt = x.dtype.type
    if p == 0:
        return np.count_nonzero(x != 0, axis=1).astype(x.dtype)
    ax = np.abs(x)
    if p == np.inf or p == -np.inf:
        acc = np.full(m, 0 if p > 0 else np.inf, x.dtype)
        pick = np.maximum if p > 0 else np.minimum  # both propagate NaN, as PyTorch's
        for k in range(n):
            acc = pick(acc, ax[:, k])
        return acc
    acc = np.zeros(m, x.dtype)
    if p == 1:
        for k in range(n):
            acc = acc + ax[:, k]
        return acc
    if p == 2:
        for k in range(n):
            acc = acc + ax[:, k] * ax[:, k]
        return np.sqrt(acc)
    e = dt(p)  # the order in the accumulator's dtype, its reciprocal too
    for k in range(n):
        acc = acc + _libm("pow", ax[:, k], np.full(m, e, x.dtype))
    return _libm("pow", acc, np.full(m, dt(1) / e, x.dtype))


def norm(ctx, x, axes, keepdim):
    """The p-norm over `axes` (a tuple), in PyTorch's order; x in ctx.dtype."""
    p = ctx.p
    out_shape = tuple(
        1 if d in axes else s for d, s in enumerate(x.shape) if keepdim or d not in axes
    )
    if _numel(x.shape, axes) == 1:  # linalg_vector_norm's shortcut: |x|, or x != 0
        y = (x != 0).astype(x.dtype) if p == 0 else np.abs(x)
        return ctx.round(y).reshape(out_shape)
    if _numel(out_shape, range(len(out_shape))) == 0:
        return np.zeros(out_shape, x.dtype)
    lanes, contiguous = _lanes(x, axes)
    if p == 2 and contiguous and not ctx.f16:
        y = _two_norm_rows(lanes, simd())
    else:
        y = _slow_rows(lanes, p)
    return ctx.round(y).reshape(out_shape)


def _backward(ctx, cin, g, x, nk, axes, zero_dim):
    """norm_backward for g and the norm nk in keepdim shape (ctx: the result's dtype; cin: the
    input's). The ops on x alone run in x's dtype; the others in the result's, except with a
    0-dim gradient and norm, which join x's ops as numbers in its math type (as the C++ op)."""
    p, r, ri = ctx.p, ctx.round, cin.round
    zero = ctx.scalar(0)

    def mix(fn, t, s):
        if not zero_dim:
            return r(fn(np.asarray(t, ctx.dtype), s))
        return ri(fn(t, np.asarray(s, cin.dtype)))

    def masked(t, norm):
        return np.where(norm == 0, zero, t)

    if p == 1:
        return mix(np.multiply, _sign(x), g)
    if p == 2:
        return mix(np.multiply, masked(mix(np.divide, x, nk), nk), g)
    if np.isinf(p):
        c, rr = (cin, ri) if zero_dim else (ctx, r)
        xc, gc, nc = (np.asarray(v, c.dtype) for v in (x, g, nk))
        nc = rr(nc)
        ax = np.abs(xc)
        hit = ((ax == nc) | np.isnan(ax)).astype(c.dtype)
        count = np.sum(hit, axis=axes, keepdims=True)
        return rr(_sign(xc) * rr(rr(rr(gc) / count) * hit))
    ax = np.abs(x)
    if p < 1:
        scaled = ri(_sign(x) * np.where(x == 0, cin.scalar(0), ri(_pow(cin, ax, p - 1))))
        return mix(np.multiply, mix(np.multiply, scaled, g), r(_pow(ctx, nk, 1 - p)))
    if p < 2:
        scaled = ri(_sign(x) * ri(_pow(cin, ax, p - 1)))
    else:
        scaled = ri(x * ri(_pow(cin, ax, p - 2)))
    scale = masked(r(g / r(_pow(ctx, nk, p - 1))), nk)
    return mix(np.multiply, scaled, scale)


@kernel("vector_norm")
class VectorNorm:
    """Attributes ord (a float), dims (a tuple of a's axes; empty: all), keepdim and src (the
    input's storage dtype); the result's dtype is the tape's (dtype=). Backward: PyTorch's
    norm_backward; none for order 0 (PyTorch's undefined gradient)."""

    def forward(ctx, a, ord=2.0, dims=(), keepdim=False, src="float32"):
        x = np.asarray(a, ctx.dtype)
        ctx.p = float(ord)
        ctx.axes = tuple(dims) if dims and x.ndim else tuple(range(x.ndim))
        ctx.keepdim = keepdim
        ctx.src = src
        ctx.save(a)
        return norm(ctx, x, ctx.axes, keepdim)

    def backward(ctx, g):
        (a,) = ctx.saved
        if ctx.p == 0:
            return (None,)
        x = np.asarray(a, ctx.dtype)
        kept = tuple(1 if d in ctx.axes else s for d, s in enumerate(x.shape))
        g = np.asarray(g, ctx.dtype).reshape(kept)
        nk = norm(ctx, x, ctx.axes, True)
        cin = Ctx(np.float32 if ctx.src == "float16" else ctx.src, ctx.src)
        zero_dim = a.ndim == 0 or (not ctx.keepdim and len(ctx.axes) == a.ndim)
        with np.errstate(all="ignore"):
            return (_backward(ctx, cin, g, np.asarray(a, cin.dtype), nk, ctx.axes, zero_dim),)
