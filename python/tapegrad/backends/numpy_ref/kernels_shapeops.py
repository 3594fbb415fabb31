"""The reference kernels of cat/stack, repeat, take and put (the ops the front end reduces cat,
stack, repeat, gather, index_select, masked_select, flip, roll, scatter and scatter_add to).

take and put address `a` by full coordinates: `idx` is int64 of shape B + (a.ndim,), in range
(kernels_index.py's index and index_put with k = a.ndim). The table they register in:
registry.py."""

import numpy as np

from .cascade import cascade_sum
from .kernels_index import Index, IndexPut
from .registry import kernel

TAKE_NAMES = ("GatherBackward0", "FlipBackward0", "RollBackward0", "IndexSelectBackward0",
              "MaskedSelectBackward0")  # fmt: skip
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


@kernel("take", lambda shapes, attrs: TAKE_NAMES[attrs.get("kind", 0)])
class Take:
    """a at the coordinates idx; attribute kind (which public op, 0..4 as TAKE_NAMES). Backward:
    the gradient copied back where each place is taken once, else added into zeros in order."""

    def forward(ctx, a, idx, kind=0):
        ctx.kind = kind
        return Index.forward(ctx, a, idx)

    def backward(ctx, g):
        if ctx.kind not in _UNIQUE:
            return Index.backward(ctx, g)
        (idx,) = ctx.saved
        out = np.zeros(ctx.in_shape, g.dtype)
        out[tuple(idx[..., j] for j in range(idx.shape[-1]))] = g
        return out, None


def _put_name(shapes, attrs):
    if attrs.get("accumulate"):
        return "ScatterAddBackward0"
    return "ScatterBackward1" if attrs.get("value") else "ScatterBackward0"


@kernel("put", _put_name)
class Put:
    """a copy of a with v (shape B, or a 0-dim value) written (accumulate: added, in order) at
    the coordinates idx."""

    def forward(ctx, a, idx, v, accumulate=False, value=False):
        return IndexPut.forward(ctx, a, idx, v, accumulate)

    def backward(ctx, g):
        return IndexPut.backward(ctx, g)
