"""The reference kernels of cat/stack, repeat, take and put (the ops the front end reduces cat,
stack, repeat, gather, index_select, masked_select, flip, roll, scatter and scatter_add to).

take and put address `a` by full coordinates: `idx` is int64 of shape B + (a.ndim,), in range
(kernels_index.py's index and index_put with k = a.ndim). The table they register in:
registry.py."""

import numpy as np

from .cascade import cascade_sum
from .kernels_index import Index, IndexPut
from .registry import kernel

# kind 5: index_select whose float16 gradient rounds after each addition (PyTorch's index_add
# along a middle dim, or of a 1-D tensor); kind 3 adds in float32 and rounds once
TAKE_NAMES = ("GatherBackward0", "FlipBackward0", "RollBackward0", "IndexSelectBackward0",
              "MaskedSelectBackward0", "IndexSelectBackward0")  # fmt: skip
_UNIQUE = (1, 2, 4)  # flip, roll, masked_select: every place of `a` is taken at most once


@kernel("cat", lambda shapes, attrs: "StackBackward0" if attrs.get("stack") else "CatBackward0")
class Cat:
    """The arrays (one dtype) joined along `dim`; stack: each gets a new dim there first."""

    def forward(ctx, *arrays, dim=0, stack=False):
        parts = [np.expand_dims(a, dim) for a in arrays] if stack else arrays
        ctx.dim, ctx.stack = dim, stack
        ctx.lens = [p.shape[dim] for p in parts]
        return np.concatenate(parts, axis=dim)

    def backward(ctx, g):
        grads, off = [], 0
        for n in ctx.lens:
            part = np.take(g, np.arange(off, off + n), axis=ctx.dim)
            grads.append(np.squeeze(part, ctx.dim) if ctx.stack else part)
            off += n
        return tuple(grads)


@kernel("repeat")
class Repeat:
    """a at the coordinates idx (those of a.repeat(*repeats)); backward sums as PyTorch's
    repeat_backward: the leading new dims one at a time, then the (repeat, size) pairs at once."""

    def forward(ctx, a, idx, repeats=()):
        ctx.in_shape, ctx.repeats = a.shape, tuple(repeats)
        return Index.forward(ctx, a, idx)

    def backward(ctx, g):
        shape, reps = ctx.in_shape, ctx.repeats
        if 0 in reps:
            return np.zeros(shape, g.dtype), None
        g = g.astype(ctx.dtype, copy=False)  # its layout (stride 0 included) kept: the order
        for _ in range(len(reps) - len(shape)):
            g = ctx.round(cascade_sum(g, (0,), half_vectors=ctx.f16))
        split, axes = [], []
        for r, s in zip(reps[len(reps) - len(shape) :], shape):
            if r != 1:
                split.append(r)
                axes.append(len(split) - 1)
            split.append(s)
        if axes:
            g = ctx.round(cascade_sum(g.reshape(split), tuple(axes), half_vectors=ctx.f16))
        return g.reshape(shape), None


def _put(ctx, a, idx, vals, accumulate, in_float):
    """a copy of a with vals written or added (in order) at the coordinates idx. float16 adds
    one rounding at a time, or with `in_float` in float32 rounding once (PyTorch's scatter_add
    and index_add of 2-D or more)."""
    out = a.astype(np.float32 if ctx.f16 and in_float else a.dtype, copy=True)
    pos = tuple(idx[..., j] for j in range(idx.shape[-1]))
    vals = np.broadcast_to(vals, idx.shape[:-1])
    if not accumulate:
        out[pos] = vals  # a repeated place: the last write wins, as np's fancy assignment
    elif ctx.f16 and not in_float:
        work = out.astype(np.float16)
        np.add.at(work, pos, vals.astype(np.float16))
        out = work
    else:
        np.add.at(out, pos, vals.astype(out.dtype, copy=False))
    return ctx.round(out.astype(a.dtype, copy=False))


@kernel("take", lambda shapes, attrs: TAKE_NAMES[attrs.get("kind", 0)])
class Take:
    """a at the coordinates idx; attribute kind (which public op, 0..4 as TAKE_NAMES). Backward:
    the gradient copied back where each place is taken once, else added into zeros in order
    (gather: as scatter_add; index_select: as index_add)."""

    def forward(ctx, a, idx, kind=0):
        ctx.kind = kind
        return Index.forward(ctx, a, idx)

    def backward(ctx, g):
        (idx,) = ctx.saved
        unique = ctx.kind in _UNIQUE
        in_float = ctx.kind != 5
        zeros = np.zeros(ctx.in_shape, g.dtype)
        return _put(ctx, zeros, idx, g, not unique, in_float), None


def _put_name(shapes, attrs):
    if attrs.get("accumulate"):
        return "ScatterAddBackward0"
    return "ScatterBackward1" if attrs.get("value") else "ScatterBackward0"


@kernel("put", _put_name)
class Put:
    """a copy of a with v (shape B, or a 0-dim value) written (accumulate: added, in order) at
    the coordinates idx."""

    def forward(ctx, a, idx, v, accumulate=False, value=False):
        IndexPut.forward(ctx, a, idx, v, accumulate)  # what its backward needs
        return _put(ctx, a, idx, v, accumulate, True)

    def backward(ctx, g):
        return IndexPut.backward(ctx, g)
