"""The comparison, logical and selection reference kernels: eq ne lt le gt ge, logical_and/or/xor
and logical_not (bool results, no gradient), and where. The backend functions (logic.py) promote
the operands first, so both arrays of a comparison have one dtype. The table they register in:
registry.py."""

import numpy as np

from .registry import broadcast_shapes, kernel, sum_to

# NumPy's comparisons treat NaN as PyTorch's do (only `ne` is true); the logical ops test != 0,
# so NaN counts as true.
_COMPARE = {
    "eq": np.equal,
    "ne": np.not_equal,
    "lt": np.less,
    "le": np.less_equal,
    "gt": np.greater,
    "ge": np.greater_equal,
    "logical_and": np.logical_and,
    "logical_or": np.logical_or,
    "logical_xor": np.logical_xor,
}


def _compare_kernel(name, fn):
    def forward(ctx, a, b):
        broadcast_shapes(a.shape, b.shape)
        return fn(a, b)

    def backward(ctx, g):
        return (None, None)

    cls = type(name.capitalize(), (), {"forward": forward, "backward": backward})
    return kernel(name)(cls)


for _name, _fn in _COMPARE.items():
    _compare_kernel(_name, _fn)
del _name, _fn


@kernel("logical_not")
class LogicalNot:
    def forward(ctx, a):
        return np.logical_not(a)

    def backward(ctx, g):
        return (None,)


@kernel("where")
class Where:
    """cond ? a : b, broadcast three ways; a and b have one dtype (the function promotes)."""

    def forward(ctx, cond, a, b):
        broadcast_shapes(broadcast_shapes(cond.shape, a.shape), b.shape)
        ctx.save(cond)
        ctx.shapes = a.shape, b.shape
        return np.where(cond, a, b)

    def backward(ctx, g):
        (cond,) = ctx.saved
        sa, sb = ctx.shapes
        zero = np.zeros((), dtype=g.dtype)
        ga = sum_to(ctx, np.where(cond, g, zero), sa)
        gb = sum_to(ctx, np.where(cond, zero, g), sb)
        return None, ctx.round(ga), ctx.round(gb)
