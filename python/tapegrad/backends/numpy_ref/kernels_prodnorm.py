"""The reference kernels of prod (all elements: prod_all; along a dim: prod_dim), in PyTorch's CPU
order (binary_kernel_reduce_vec): where the innermost reduced dims lie contiguously, each such row
is folded by 4 * V accumulators (V lanes of 32 bytes) over whole blocks, the four vectors
multiplied pairwise, the lanes of the one left in order, then the tail one by one; other lanes
are running products in memory order. float16 rounds every product. The backward is PyTorch's
prod_backward (see csrc/ops/reduce_prod.cpp, the C++ op)."""

import numpy as np

from .registry import kernel


def _mul(ctx, a, b):
    with np.errstate(all="ignore"):
        return ctx.round((a * b).astype(ctx.dtype))


def _fold_row(ctx, row, acc):
    """acc times the product of the 1-D array `row`, in PyTorch's vectorized order."""
    lanes = 16 if ctx.f16 else 32 // ctx.dtype.itemsize
    w = 4 * lanes
    count = row.size // w
    if count:
        a = row[:w].copy()
        for i in range(1, count):
            a = _mul(ctx, a, row[i * w : (i + 1) * w])
        a = a.reshape(4, lanes)
        b = _mul(ctx, _mul(ctx, a[0], a[1]), _mul(ctx, a[2], a[3]))
        s = b[0]
        for v in b[1:]:
            s = _mul(ctx, s, v)
        acc = _mul(ctx, acc, s)
    for v in row[count * w :]:
        acc = _mul(ctx, acc, v)
    return acc


def _reduced_order(a, axes):
    """The reduced axes as the reduction visits them (outermost first, by decreasing stride),
    and how many elements of each lane lie one after another in memory."""
    red = sorted(axes, key=lambda d: -a.strides[d])
    run, expect = 1, a.itemsize
    for d in reversed(red):
        if a.shape[d] == 1:
            continue
        if a.strides[d] != expect:
            break
        run *= a.shape[d]
        expect *= a.shape[d]
    return red, run


def prod(ctx, a, axes, keepdim):
    """The product over `axes` (a tuple of a's axes), in PyTorch's order."""
    kept = [d for d in range(a.ndim) if d not in axes]
    red, run = _reduced_order(a, axes)
    lanes = np.transpose(a, kept + red).reshape(_numel(a.shape, kept), _numel(a.shape, red))
    out_shape = tuple(1 if d in axes else n for d, n in enumerate(a.shape) if keepdim or d in kept)
    if a.dtype.kind != "f":  # integers wrap in int64; the order does not matter
        with np.errstate(all="ignore"):
            return np.prod(lanes.astype(np.int64), axis=1).reshape(out_shape)
    out = np.empty(lanes.shape[0], ctx.dtype)
    for r, lane in enumerate(lanes):
        acc = ctx.dtype.type(1)
        if run > 1:
            for k in range(0, lane.size, run):
                acc = _fold_row(ctx, lane[k : k + run], acc)
        else:
            for v in lane:
                acc = _mul(ctx, acc, v)
        out[r] = acc
    return out.reshape(out_shape)


def _numel(shape, axes):
    n = 1
    for d in axes:
        n *= shape[d]
    return n


def _safe_zeros(ctx, g, x, dim):
    """g * (the product of the other elements along dim): PyTorch's exclusive cumulative products
    from both ends, accumulated as its CPU cumprod (float for float16, double otherwise)."""
    acc = np.float32 if ctx.f16 else np.float64
    xm = np.moveaxis(x, dim, -1).astype(acc)
    n = xm.shape[-1]
    front = np.empty(xm.shape, acc)
    back = np.empty(xm.shape, acc)
    with np.errstate(all="ignore"):
        p = np.ones(xm.shape[:-1], acc)
        for k in range(n):
            front[..., k] = p
            p = p * xm[..., k]
        p = np.ones(xm.shape[:-1], acc)
        for k in range(n - 1, -1, -1):
            back[..., k] = p
            p = p * xm[..., k]
        f = ctx.round(front.astype(ctx.dtype))
        b = ctx.round(back.astype(ctx.dtype))
        w = np.moveaxis(ctx.round(f * b), -1, dim)
        return ctx.round(g * w)


def _plain(ctx, g, x, r):
    with np.errstate(all="ignore"):
        return ctx.round(g * ctx.round(r / x))


@kernel("prod_all")
class ProdAll:
    """No attributes. Backward: grad * (result / input); with zeros, the safe formula on the
    flattened input, or zeros for several zeros (PyTorch's backward outside create_graph)."""

    def forward(ctx, a):
        ctx.save(a)
        return prod(ctx, a, tuple(range(a.ndim)), False)

    def backward(ctx, g):
        (x,) = ctx.saved
        g = np.asarray(g, ctx.dtype)
        if x.ndim == 0:
            return (g,)
        nz = int(np.count_nonzero(x == 0))
        if nz == 0:
            return (_plain(ctx, g, x, prod(ctx, x, tuple(range(x.ndim)), False)),)
        if nz > 1:
            return (np.zeros(x.shape, ctx.dtype),)
        return (_safe_zeros(ctx, g, np.ascontiguousarray(x).reshape(-1), 0).reshape(x.shape),)


@kernel("prod_dim")
class ProdDim:
    """Attributes dim (in range; 0 for a 0-dim input) and keepdim. Backward: grad * (result /
    input), or the safe formula along dim for every lane when the input has a zero."""

    def forward(ctx, a, dim=0, keepdim=False):
        ctx.save(a)
        ctx.dim = dim
        return prod(ctx, a, (dim,) if a.ndim else (), keepdim)

    def backward(ctx, g):
        (x,) = ctx.saved
        g = np.asarray(g, ctx.dtype)
        if x.ndim == 0:
            return (g,)
        kept = [1 if d == ctx.dim else n for d, n in enumerate(x.shape)]
        g = g.reshape(kept)
        if not np.any(x == 0):
            return (_plain(ctx, g, x, prod(ctx, x, (ctx.dim,), True)),)
        return (_safe_zeros(ctx, g, x, ctx.dim),)
