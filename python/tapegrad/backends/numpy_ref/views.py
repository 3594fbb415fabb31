"""Views on the numpy backend's tape (PyTorch's semantics; docs/design.md).

- `view_op` applies a view op: the result shares its input's storage and version counter and
  records its base (`_base`: the input's base, or the input itself).
- A view whose storage changed (version) since its grad_fn was made, over a base that requires
  grad, gets a new grad_fn when its history is next needed (`refresh`): AsStridedBackward0 over
  the base's current history.
- `rebase` is the last step of an in-place op on a view (inplace.py): the base's history becomes
  CopySlices(base's previous history, the written values' history), the view's an
  AsStridedBackward0 over it.
"""

import numpy as np

from tapegrad._grad_mode import is_grad_enabled

from . import tensor as _tensor
from .kernels_shape import _check_bounds, positions, view_strides
from .registry import KERNELS, Ctx
from .tape import _run, edge, new_node
from .tensor import NTensor, _new, contiguous_strides, strided

_NEW = object.__new__


def _geom(t):
    return (t._arr.shape, t._strides, t._offset)


def view_op(op, a, attrs):
    """The view op `op` of `a` (attributes already normalised): a view sharing a's storage."""
    k = KERNELS[op]
    sizes, strides, offset = k.geometry(_geom(a), **attrs)
    if op == "as_strided":
        _check_bounds({"sizes": sizes, "strides": strides, "offset": offset}, a._st.size)
    out = _NEW(NTensor)
    out._st = a._st
    out._arr = strided(a._st, sizes, strides, offset)
    out._strides, out._offset = tuple(strides), offset
    out._ver = a._ver
    out._grad = None
    out._is_param = False
    out._base = a if a._base is None else a._base
    out._vver = a._ver[0]
    out._rg, out._fn = False, None
    e = edge(a) if is_grad_enabled() else None
    if e is not None:
        ctx = Ctx(a._arr.dtype)
        ctx.in_shape = a._arr.shape
        if op == "as_strided":  # storage-relative: where it sits in a's own geometry
            ctx.geom, ctx.in_geom = (sizes, strides, offset), _geom(a)
        else:
            logical = (a._arr.shape, contiguous_strides(a._arr.shape), 0)
            ctx.geom, ctx.in_geom = k.geometry(logical, **attrs), logical
        out._fn = new_node(k, ctx, (e,), (a,), out, attrs)
        out._rg = True
    return out


def reshape(a, shape):
    """PyTorch's reshape: a view when the strides allow (ViewBackward0), else a contiguous copy
    that is no view (UnsafeViewBackward0). The tape op is `reshape` either way."""
    k = KERNELS["reshape"]
    shape = tuple(int(s) for s in shape)
    k.geometry((a._arr.shape, contiguous_strides(a._arr.shape), 0), shape)  # size check
    if view_strides(a._arr.shape, a._strides, shape) is not None:
        return view_op("reshape", a, {"shape": shape})
    return _run("reshape", (a,), {"shape": shape}, name="UnsafeViewBackward0")


# ---------------------------------------------------------------- history of views


def refresh(t):
    """t is a view whose storage version moved since its grad_fn was made."""
    b = t._base
    if not b._rg:
        return
    ctx = Ctx(t._arr.dtype)
    ctx.in_shape = b._arr.shape
    ctx.geom, ctx.in_geom = _geom(t), _geom(b)
    attrs = {"sizes": t._arr.shape, "strides": t._strides, "offset": t._offset}
    t._fn = new_node(KERNELS["as_strided"], ctx, (edge(b),), (b,), t, attrs)
    t._rg = True
    t._vver = t._ver[0]


_tensor._REFRESH[0] = refresh


class CopySlices:
    """The kernel of a CopySlices node (not an op of the list): inputs (the base's previous
    value, the values written into the view); ctx.pos: the view's places in the base."""

    name = "copy_slices"
    grad_fn = "CopySlices"
    storage_level = True

    def backward(ctx, g):
        rest = np.array(g, order="C")
        flat = rest.reshape(-1)
        written = flat[ctx.pos]
        flat[ctx.pos] = 0
        return rest, written


def rebase(v, r):
    """After view v's values were overwritten by r's (r: a tensor with or without history, or
    None for a constant): the base's history becomes CopySlices, v's a view of it."""
    b = v._base
    ctx = Ctx(v._arr.dtype)
    ctx.pos = positions(_geom(v), _geom(b))
    r_edge = None if r is None else edge(r)
    ins = (b, (v._arr.dtype, v._arr.shape))
    b._fn = new_node(CopySlices, ctx, (edge(b), r_edge), ins, b, {})
    b._rg = True
    v._vver = -1  # stale: refresh makes v's history AsStridedBackward0 over the CopySlices
    refresh(v)


def overlap_check(a, others=()):
    """PyTorch's refusals of in-place writes that would read or write an element twice."""
    if any(n > 1 and s == 0 for n, s in zip(a._arr.shape, a._strides)):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation."
        )
    for o in others:
        if o is not None and o._st is a._st and _partial_overlap(a, o):
            raise RuntimeError(
                "unsupported operation: some elements of the input tensor and the written-to "
                "tensor refer to a single memory location. Please clone() the tensor before "
                "performing the operation."
            )


def _dense(t):
    """PyTorch's is_non_overlapping_and_dense."""
    dims = sorted(
        (d for d in range(t._arr.ndim) if t._arr.shape[d] >= 2), key=lambda d: t._strides[d]
    )
    want = 1
    for d in dims:
        if t._strides[d] != want:
            return False
        want *= t._arr.shape[d]
    return True


def _partial_overlap(a, b):
    if a._arr.size == 0 or b._arr.size == 0 or not (_dense(a) and _dense(b)):
        return False
    a0, b0 = a._offset, b._offset
    a1, b1 = a0 + a._arr.size, b0 + b._arr.size
    if a0 == b0 and a1 == b1:
        return a._strides != b._strides
    return a0 < b1 and b0 < a1


def clone_with_history(v):
    """A contiguous copy of v's values carrying v's history (the `old` of an in-place op)."""
    c = _new(np.array(v._arr, order="C"))
    e = edge(v)
    c._rg, c._fn = e is not None, (None if e is v else e)
    return c
