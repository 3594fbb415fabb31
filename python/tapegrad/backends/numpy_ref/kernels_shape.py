"""The shape reference kernels: the view ops (view, permute, transpose, t, select, slice,
unsqueeze, squeeze, expand, as_strided) and reshape. They move values and never round
(storage_level). The table they register in: registry.py.

A view op is one geometry transform: `geometry((sizes, strides, offset), *args)` gives the view's
(sizes, strides, offset), in elements, with PyTorch's rules (its strides included). It is applied
twice: to a tensor's storage geometry (the view itself: the tape, views.py) and to the input's
logical, contiguous geometry (where the view's elements sit in the input: what backward needs).

On plain ndarrays (finite differences, the float64 oracle), `forward(ctx, a, *args)` returns a
NumPy view of `a` (as_strided: relative to `a`'s memory, which must then be contiguous), and
`backward(ctx, g)` is zeros of the input's shape with `g` added at the view's places (expand's
repeated places accumulate). The argument names are those of the backend functions.
"""

import numpy as np

from .cascade import cascade_sum
from .registry import _numel, kernel
from .tensor import contiguous_strides, is_contiguous, strided


def view_strides(sizes, strides, shape):
    """PyTorch's strides for viewing (sizes, strides) as `shape` without a copy (ATen's
    computeStride): each run of dims contiguous in memory is split or merged as a whole.
    None if that cannot be done."""
    if not sizes:
        return (1,) * len(shape)
    if _numel(sizes) == 0:
        return tuple(strides) if tuple(sizes) == tuple(shape) else contiguous_strides(shape)
    out = [0] * len(shape)
    view_d = len(shape) - 1
    base = strides[-1]
    chunk = view_n = 1
    for d in range(len(sizes) - 1, -1, -1):
        chunk *= sizes[d]
        if d == 0 or (sizes[d - 1] != 1 and strides[d - 1] != chunk * base):
            while view_d >= 0 and (view_n < chunk or shape[view_d] == 1):
                out[view_d] = view_n * base
                view_n *= shape[view_d]
                view_d -= 1
            if view_n != chunk:
                return None
            if d > 0:
                base, chunk, view_n = strides[d - 1], 1, 1
    return tuple(out) if view_d == -1 else None


def positions(geom, in_geom):
    """Indices into the input's logical (row-major) layout of the elements at storage geometry
    `geom`, the input being at storage geometry `in_geom`: an int64 array of geom's sizes."""
    locs = _locs(*geom)
    shape, strides, offset = in_geom
    if is_contiguous(shape, strides):
        return locs - offset
    base = _locs(*in_geom).reshape(-1)
    size = int(max(base.max(initial=0), locs.max(initial=0))) + 1
    inv = np.full(size, -1, dtype=np.int64)
    inv[base] = np.arange(base.size)
    pos = inv[locs]
    if (pos < 0).any():
        raise RuntimeError("as_strided: the view reaches storage outside its input")
    return pos


def _locs(sizes, strides, offset):
    out = np.full(tuple(sizes), int(offset), dtype=np.int64)
    for d, (n, s) in enumerate(zip(sizes, strides)):
        shape = [1] * len(sizes)
        shape[d] = n
        out = out + (np.arange(n, dtype=np.int64) * int(s)).reshape(shape)
    return out


def scatter(g, pos, in_shape, per_add=False):
    """Zeros of `in_shape` with g added at flat positions `pos`. float16 is summed in float32,
    or with `per_add` rounded after each addition in g's order (as_strided's backward is
    PyTorch's index_add in the dtype)."""
    acc = np.float32 if g.dtype == np.float16 and not per_add else g.dtype
    out = np.zeros(_numel(in_shape), dtype=acc)
    flat, gf = pos.reshape(-1), np.asarray(g, dtype=acc).reshape(-1)
    if np.unique(flat).size == flat.size:
        out[flat] = gf
    else:
        np.add.at(out, flat, gf)
    return out.astype(g.dtype, copy=False).reshape(in_shape)


def _expand_back(g, in_shape):
    """PyTorch's sum_to: the expanded dims of a contiguous g summed in its reduction order
    (float16 as its Half sum, in float32)."""
    lead = g.ndim - len(in_shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(in_shape) if n == 1 and g.shape[lead + i] != 1
    )
    f16 = g.dtype == np.float16
    g = np.ascontiguousarray(g, dtype=np.float32 if f16 else g.dtype)
    return (
        cascade_sum(g, axes, half_vectors=f16)
        .astype(np.float16 if f16 else g.dtype)
        .reshape(in_shape)
    )


def _view_kernel(name, geometry, params):
    """Register view op `name`: `geometry(geom, **attrs)`; `params` names its arguments."""

    def forward(ctx, a, *args, **attrs):
        attrs.update(zip(params, args))
        item = a.itemsize
        own = (a.shape, tuple(s // item for s in a.strides), 0)
        if name == "as_strided" and not a.flags.c_contiguous:
            raise RuntimeError("as_strided (reference kernel): the input must be contiguous")
        if name == "as_strided":
            _check_bounds(attrs, a.size)
        sizes, strides, offset = geometry(own, **attrs)
        ctx.in_shape = a.shape
        ctx.geom = geometry((a.shape, contiguous_strides(a.shape), 0), **attrs)
        ctx.in_geom = (a.shape, contiguous_strides(a.shape), 0)
        return strided(a, sizes, strides, offset)

    def backward(ctx, g):
        if name == "expand":
            return (_expand_back(g, ctx.in_shape),)
        places = positions(ctx.geom, ctx.in_geom)
        return (scatter(g, places, ctx.in_shape, per_add=name == "as_strided"),)

    cls = type(name.capitalize(), (), {"forward": forward, "backward": backward})
    cls.geometry = staticmethod(geometry)
    cls.params = params
    return kernel(name, grad_fn=_GRAD_FN.get(name), storage_level=True)(cls)


def _check_bounds(attrs, capacity):
    sizes, strides, offset = attrs["sizes"], attrs["strides"], attrs["offset"]
    if len(sizes) != len(strides):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"as_strided: negative size in {list(sizes)}")
    if any(s < 0 for s in strides):
        raise RuntimeError("as_strided: Negative strides are not supported at the moment, got "
                           f"strides: {list(strides)}")  # fmt: skip
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    if _numel(sizes) == 0:
        return
    last = offset + sum((n - 1) * s for n, s in zip(sizes, strides))
    if last >= capacity:
        raise RuntimeError(
            f"setStorage: sizes {list(sizes)}, strides {list(strides)}, storage offset {offset}, "
            f"and itemsize 4 requiring a storage size of {4 * (last + 1)} are out of bounds for "
            f"storage of size {4 * capacity}"
        )


def _squeeze_name(in_shapes, attrs):
    dims = attrs.get("dims")
    if dims is None:
        return "SqueezeBackward0"
    return "SqueezeBackward1" if isinstance(dims, int) else "SqueezeBackward2"


_GRAD_FN = {"squeeze": _squeeze_name}


# ---- the geometry transforms (PyTorch's rules)


def _view(geom, shape):
    sizes, strides, offset = geom
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape) or _numel(shape) != _numel(sizes):
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {_numel(sizes)}")
    st = view_strides(sizes, strides, shape)
    if st is None:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    return shape, st, offset


def _permute(geom, dims):
    sizes, strides, offset = geom
    dims = tuple(int(d) for d in dims)
    if sorted(dims) != list(range(len(sizes))):
        raise RuntimeError(f"permute(): invalid dims {dims} for a {len(sizes)}-d tensor")
    return tuple(sizes[d] for d in dims), tuple(strides[d] for d in dims), offset


def _dim(d, n):
    if not 0 <= d < max(n, 1):
        raise IndexError(f"Dimension out of range (got {d} for a {n}-d tensor)")


def _transpose(geom, dim0, dim1):
    sizes, strides, offset = geom
    _dim(dim0, len(sizes))
    _dim(dim1, len(sizes))
    if not sizes:
        return geom
    order = list(range(len(sizes)))
    order[dim0], order[dim1] = order[dim1], order[dim0]
    return _permute(geom, order)


def _t(geom):
    if len(geom[0]) > 2:
        n = len(geom[0])
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {n}D")
    return _transpose(geom, 0, 1) if len(geom[0]) == 2 else geom


def _select(geom, dim, index):
    sizes, strides, offset = geom
    _dim(dim, len(sizes))
    if not sizes:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    if not 0 <= index < sizes[dim]:
        raise IndexError(
            f"index {index} is out of bounds for dimension {dim} with size {sizes[dim]}"
        )
    return (
        sizes[:dim] + sizes[dim + 1 :],
        strides[:dim] + strides[dim + 1 :],
        offset + index * strides[dim],
    )


def _slice(geom, dim, start, end, step):
    sizes, strides, offset = geom
    _dim(dim, len(sizes))
    if not sizes:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    if step <= 0:
        raise ValueError("slice step must be positive")
    if not 0 <= start <= sizes[dim] or not 0 <= end <= sizes[dim]:
        raise IndexError(
            f"slice [{start}:{end}] out of range for dimension {dim} of size {sizes[dim]}"
        )
    n = (end - start + step - 1) // step if end > start else 0
    s, st = list(sizes), list(strides)
    s[dim], st[dim] = n, strides[dim] * step
    return tuple(s), tuple(st), offset + start * strides[dim]


def _unsqueeze(geom, dim):
    sizes, strides, offset = geom
    if not 0 <= dim <= len(sizes):
        raise IndexError(f"Dimension out of range (got {dim} for unsqueeze of a {len(sizes)}-d)")
    new = sizes[dim] * strides[dim] if dim < len(sizes) else 1
    return sizes[:dim] + (1,) + sizes[dim:], strides[:dim] + (new,) + strides[dim:], offset


def _squeeze(geom, dims=None):
    sizes, strides, offset = geom
    if dims is None:
        drop = {d for d, s in enumerate(sizes) if s == 1}
    else:
        ds = (dims,) if isinstance(dims, int) else tuple(dims)
        for d in ds:
            if not (not sizes and d == 0):
                _dim(d, len(sizes))
        drop = {d for d in ds if sizes and sizes[d] == 1}
    keep = [d for d in range(len(sizes)) if d not in drop]
    return tuple(sizes[d] for d in keep), tuple(strides[d] for d in keep), offset


def _expand(geom, sizes):
    have, strides, offset = geom
    sizes = tuple(int(s) for s in sizes)
    lead = len(sizes) - len(have)
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({len(have)})"
        )
    out = [0] * len(sizes)
    for i in range(len(sizes) - 1, -1, -1):
        k = i - lead
        size = have[k] if k >= 0 else 1
        stride = strides[k] if k >= 0 else (out[i + 1] * sizes[i + 1] if i + 1 < len(sizes) else 0)
        if size != sizes[i]:
            if size != 1 or sizes[i] < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({sizes[i]}) must match the existing size "
                    f"({size}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                    f"Tensor sizes: {list(have)}"
                )
            stride = 0
        out[i] = stride
    return sizes, tuple(out), offset


def _as_strided(geom, sizes, strides, offset):
    return tuple(int(s) for s in sizes), tuple(int(s) for s in strides), int(offset)


VIEW_OPS = {
    "view": (_view, ("shape",)),
    "permute": (_permute, ("dims",)),
    "transpose": (_transpose, ("dim0", "dim1")),
    "t": (_t, ()),
    "select": (_select, ("dim", "index")),
    "slice": (_slice, ("dim", "start", "end", "step")),
    "unsqueeze": (_unsqueeze, ("dim",)),
    "squeeze": (_squeeze, ("dims",)),
    "expand": (_expand, ("sizes",)),
    "as_strided": (_as_strided, ("sizes", "strides", "offset")),
}
for _name, (_geometry, _params) in VIEW_OPS.items():
    _view_kernel(_name, _geometry, _params)
del _name, _geometry, _params


@kernel("reshape", storage_level=True)
class Reshape:
    """attribute shape (a tuple with the same number of elements). On the tape: a view when
    PyTorch's rule allows (ViewBackward0), else a copy (UnsafeViewBackward0)."""

    geometry = staticmethod(_view)
    params = ("shape",)

    def forward(ctx, a, shape):
        shape = tuple(shape)
        if any(s < 0 for s in shape) or _numel(shape) != a.size:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {a.size}")
        ctx.in_shape = a.shape
        return a.reshape(shape)

    def backward(ctx, g):
        return (np.reshape(g, ctx.in_shape),)
