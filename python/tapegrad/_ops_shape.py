"""Joining, repeating, reordering, gathering and scattering: cat/stack, repeat/tile, flip/roll,
gather, scatter/scatter_add, index_select, masked_select, as PyTorch's functions and methods.

The front end checks the arguments with PyTorch's rules and messages and computes, in NumPy,
the coordinates of each result element in the input; the backends' ops do the rest (docs/
backends.md): `cat` (CatBackward0/StackBackward0), `repeat` (RepeatBackward0), `take` (a at the
coordinates, named after the public op: GatherBackward0, FlipBackward0, RollBackward0,
IndexSelectBackward0, MaskedSelectBackward0) and `put`/`put_` (scatter, scatter_add).
"""

import numpy as np

from ._dtype import bool as _bool
from ._dtype import int32, int64, promote_types
from ._tensor_args import _MIX, _norm_dim

# take's kinds (the C++ TakeKind, kernels_shapeops.TAKE_NAMES)
GATHER, FLIP, ROLL, INDEX_SELECT, MASKED_SELECT, INDEX_SELECT_STEPWISE = range(6)


def _tensor_cls():
    from .tensor import Tensor

    return Tensor


def _coords(be, arr):
    return be.from_numpy(np.ascontiguousarray(arr, dtype=np.int64), False)


def _grid(shape, axes=None):
    """The coordinates of every element of `shape`: int64, shape + (len(shape),). axes: per dim,
    the 1-D coordinates along it (default: arange)."""
    if not shape:
        return np.zeros((1,), np.int64)
    nd = len(shape)
    out = np.empty(tuple(shape) + (nd,), np.int64)
    for d, n in enumerate(shape):  # broadcast writes: cheaper than np.indices and a stack
        ax = np.arange(n, dtype=np.int64) if axes is None else axes[d]
        out[..., d] = ax.reshape((n,) + (1,) * (nd - d - 1))
    return out


def _as_1d(t):
    """A 0-dim tensor as shape (1,) (the coordinate ops address at least one dim)."""
    return t.reshape(1) if t.ndim == 0 else t


def _int_arg(x, fn, name):
    if not isinstance(x, (int, np.integer)) or isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{fn}(): argument '{name}' must be int, not {type(x).__name__}")
    return int(x)


def _int_list(args, fn, name):
    """PyTorch's int-list arguments: ints, or one sequence of ints."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for a in args:
        if not isinstance(a, (int, np.integer)) or isinstance(a, (bool, np.bool_)):
            raise TypeError(
                f"{fn}(): argument '{name}' must be tuple of ints, but found element of type "
                f"{type(a).__name__}"
            )
    return tuple(int(a) for a in args)


# ---------------------------------------------------------------- cat / stack


def _tensor_list(tensors, fn):
    Tensor = _tensor_cls()
    if not isinstance(tensors, (tuple, list)):
        raise TypeError(
            f"{fn}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
            f"{type(tensors).__name__}"
        )
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}"
            )
    for t in tensors[1:]:
        if t._be is not tensors[0]._be:
            raise RuntimeError(_MIX.format(tensors[0]._be.name, t._be.name))
    return list(tensors)


def _promoted(tensors):
    dt = tensors[0].dtype
    for t in tensors[1:]:
        dt = promote_types(dt, t.dtype)
    return [t if t.dtype is dt else t.to(dt) for t in tensors]


def cat(tensors, dim=0):
    """PyTorch's cat: one dtype by promotion; 1-D empty tensors are skipped (its legacy rule)."""
    tensors = _tensor_list(tensors, "cat")
    dim = _int_arg(dim, "cat", "dim")
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    tensors = _promoted(tensors)
    kept = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)]
    if not kept:
        return tensors[0]._be.cat(tensors[:1], 0, False)
    ref = kept[0]
    d = _norm_dim(dim, ref.ndim)
    for i, t in enumerate(tensors):
        if t.ndim == 1 and t.shape[0] == 0:
            continue
        if t.ndim != ref.ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}"
            )
        for j in range(ref.ndim):
            if j != d and t.shape[j] != ref.shape[j]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size "
                    f"{ref.shape[j]} but got size {t.shape[j]} for tensor number {i} in the list."
                )
    return ref._be.cat(kept, d, False)


def concat(tensors, dim=0):
    """An alias of `cat`: join tensors along an existing dim."""
    return cat(tensors, dim)


def concatenate(tensors, axis=0):
    """An alias of `cat` whose dim is named `axis`, as NumPy's."""
    return cat(tensors, axis)


def stack(tensors, dim=0):
    """Join tensors of one shape along a new dim `dim` (from -(ndim + 1) to ndim)."""
    tensors = _tensor_list(tensors, "stack")
    dim = _int_arg(dim, "stack", "dim")
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape0 = tuple(tensors[0].shape)
    d = _norm_dim(dim, len(shape0) + 1)
    for i, t in enumerate(tensors):
        if tuple(t.shape) != shape0:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape0)} at entry 0 "
                f"and {list(t.shape)} at entry {i}"
            )
    tensors = _promoted(tensors)
    return tensors[0]._be.cat(tensors, d, True)


def hstack(tensors):
    """Join tensors horizontally: along dim 1, or along dim 0 when they are 1-D (0-dim tensors count
    as 1-D)."""
    tensors = _tensor_list(tensors, "hstack")
    if not tensors:
        raise RuntimeError("hstack expects a non-empty TensorList")
    tensors = [_as_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    """Join tensors vertically: 0-dim and 1-D inputs become rows (1, n), then join along dim 0."""
    tensors = _tensor_list(tensors, "vstack")
    if not tensors:
        raise RuntimeError("vstack expects a non-empty TensorList")
    tensors = [t.reshape(1, -1) if t.ndim < 2 else t for t in tensors]
    return cat(tensors, 0)


row_stack = vstack


# ---------------------------------------------------------------- repeat / tile / flip / roll


def repeat(t, *sizes):
    reps = _int_list(sizes, "repeat", "repeats")
    if len(reps) < t.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of "
            "tensor"
        )
    shape = tuple(t.shape)
    pad = (1,) * (len(reps) - len(shape)) + shape
    out = tuple(r * s for r, s in zip(reps, pad))
    bad = [s for s in out if s < 0]
    if bad:
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad[0]}: {list(out)}")
    if t.ndim == 0:
        return t._be.repeat(t.reshape(1), _coords(t._be, np.zeros(out + (1,), np.int64)), reps)
    lead = len(reps) - t.ndim
    axes = [np.tile(np.arange(s, dtype=np.int64), r) for r, s in zip(reps[lead:], shape)]
    grid = _grid(out[lead:], axes)
    grid = np.broadcast_to(grid, out + (t.ndim,))
    return t._be.repeat(t, _coords(t._be, grid), reps)


def tile(t, dims):
    """Repeat input `dims[i]` times along each dim (a copy); with fewer entries than input has dims,
    leading 1s are assumed."""
    reps = _int_list((dims,), "tile", "dims")
    reps = (1,) * (t.ndim - len(reps)) + reps
    return repeat(t, reps)


def flip(t, dims):
    """Reverse the order of elements along the given dims (a copy, as in PyTorch, not a view)."""
    dims = _int_list((dims,), "flip", "dims")
    norm = []
    for d in dims:
        nd = _norm_dim(d, t.ndim)
        if nd in norm:
            raise RuntimeError(f"dim {nd} appears multiple times in the list of dims")
        norm.append(nd)
    shape = tuple(t.shape)
    axes = [np.arange(n, dtype=np.int64)[::-1] if d in norm else np.arange(n, dtype=np.int64)
            for d, n in enumerate(shape)]  # fmt: skip
    return t._be.take(_as_1d(t), _coords(t._be, _grid(shape, axes)), FLIP)


def fliplr(t):
    """Flip left/right: reverse dim 1 (at least 2 dims)."""
    if t.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(t, (1,))


def flipud(t):
    """Flip up/down: reverse dim 0 (at least 1 dim)."""
    if t.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(t, (0,))


def roll(t, shifts, dims=None):
    """Shift elements circularly by `shifts` along `dims`; with no dims, roll the flattened tensor
    and restore its shape."""
    shifts = _int_list((shifts,), "roll", "shifts")
    dims = () if dims is None else _int_list((dims,), "roll", "dims")
    if not shifts:
        raise RuntimeError("`shifts` required")
    flat = not dims and len(shifts) == 1  # PyTorch rolls the flattened tensor and views it back
    if not flat and len(shifts) != len(dims):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}"
        )
    src = t.flatten() if flat else _as_1d(t)
    dims = (0,) if flat else tuple(_norm_dim(d, t.ndim) for d in dims)
    shape = tuple(src.shape)
    axes = [np.arange(n, dtype=np.int64) for n in shape]
    for s, d in zip(shifts, dims):
        if shape[d]:
            axes[d] = (axes[d] - s) % shape[d]
    grid = _grid(shape, axes)
    out = t._be.take(src, _coords(t._be, grid), ROLL)
    return out.view(tuple(t.shape)) if flat else out


# ---------------------------------------------------------------- gather / scatter


def _index_values(index, fn, dtypes=(int64,), expect="int64"):
    Tensor = _tensor_cls()
    if not isinstance(index, Tensor):
        raise TypeError(
            f"{fn}(): argument 'index' (position 3) must be Tensor, not {type(index).__name__}"
        )
    if index.dtype not in dtypes:
        raise RuntimeError(f"{fn}(): Expected dtype {expect} for index")
    return index._be.to_numpy(index).astype(np.int64, copy=False)


def _gather_coords(t, dim, index, fn, what, src=None):
    """The full coordinates in t of scatter/gather along dim at `index` (PyTorch's checks)."""
    idx = _index_values(index, fn, (int32, int64), "int32/int64")
    d = _norm_dim(dim, t.ndim)
    nd = max(t.ndim, 1)
    if max(index.ndim, 1) != nd:
        raise RuntimeError(f"Index tensor must have the same number of dimensions as {what} tensor")
    if src is not None and max(src.ndim, 1) != nd:
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    ishape = tuple(index.shape) or (1,)
    tshape = tuple(t.shape) or (1,)
    if index.numel() and fn == "gather":
        for j in range(nd):
            if j != d and ishape[j] > tshape[j]:
                raise RuntimeError(
                    f"Size does not match at dimension {j} expected index {list(index.shape)} to "
                    f"be no larger than self {list(t.shape)} apart from dimension {d}"
                )
    elif index.numel():
        sshape = (tuple(src.shape) or (1,)) if src is not None else None
        bad = any(j != d and ishape[j] > tshape[j] for j in range(nd))
        bad = bad or (sshape is not None and any(i > s for i, s in zip(ishape, sshape)))
        if bad:
            raise RuntimeError(
                f"Expected index {list(index.shape)} to be no larger than self {list(t.shape)} "
                f"apart from dimension {d}"
                + (
                    f" and to be no larger size than src {list(src.shape)}"
                    if src is not None
                    else ""
                )
            )
    flat = idx.reshape(ishape)
    size = tshape[d]
    bad = (flat < 0) | (flat >= size)
    if bad.any():
        raise RuntimeError(
            f"index {int(flat[bad].ravel()[0])} is out of bounds for dimension {d} with size {size}"
        )
    grid = _grid(ishape)
    grid[..., d] = flat
    return _coords(t._be, grid), ishape


def gather(t, dim, index, sparse_grad=False):
    """Pick values along `dim` by `index`, an integer tensor with as many dims as input: for dim 0,
    out[i][j] = input[index[i][j]][j]. The result has index's shape; `sparse_grad` is ignored."""
    coords, _ = _gather_coords(t, dim, index, "gather", "input")
    out = t._be.take(_as_1d(t), coords, GATHER)
    return out.reshape(tuple(index.shape)) if index.ndim == 0 else out


def _scatter_args(t, dim, index, src, value, reduce, fn):
    Tensor = _tensor_cls()
    if reduce is not None:
        raise NotImplementedError(f"{fn}: reduce= is not supported by tapegrad")
    if src is None and value is None:
        raise TypeError(f"{fn}() missing 1 required positional argument: 'src'")
    is_value = not isinstance(src, Tensor)
    if is_value:
        v = value if src is None else src
        if not isinstance(v, (int, float, bool, np.number)):
            raise TypeError(f"{fn}(): argument 'value' must be Number, not {type(v).__name__}")
        src_t = t._be.from_numpy(np.asarray(v, dtype=t.dtype.np), False)
        coords, _ = _gather_coords(t, dim, index, "scatter", "self")
        return coords, src_t, True
    if src._be is not t._be:
        raise RuntimeError(_MIX.format(t._be.name, src._be.name))
    if src.dtype is not t.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    coords, ishape = _gather_coords(t, dim, index, "scatter", "self", src)
    v = _as_1d(src)
    if tuple(v.shape) != ishape:
        v = v[tuple(slice(0, n) for n in ishape)]
    return coords, v, False


def scatter(t, dim, index, src=None, value=None, reduce=None):
    """A copy of input with values written at `index` along `dim`: for dim 0, out[index[i][j]][j] =
    src[i][j]. The values come from the tensor `src` or the number `value`; with `reduce` ('add' or
    'multiply', deprecated in PyTorch) they combine with what is there."""
    if reduce is not None:
        from ._ops_mm2 import scatter_reduced

        return scatter_reduced(t, dim, index, src, value, reduce, False)
    coords, v, is_value = _scatter_args(t, dim, index, src, value, reduce, "scatter")
    out = t._be.put(_as_1d(t), coords, v, False, is_value)
    return out.reshape(()) if t.ndim == 0 else out


def scatter_add(t, dim, index, src):
    """A copy of input with `src`'s values added at `index` along `dim` (for dim 0,
    out[index[i][j]][j] += src[i][j]); repeated indices accumulate."""
    Tensor = _tensor_cls()
    if not isinstance(src, Tensor):
        raise TypeError(
            f"scatter_add(): argument 'src' (position 3) must be Tensor, not {type(src).__name__}"
        )
    coords, v, _ = _scatter_args(t, dim, index, src, None, None, "scatter")
    out = t._be.put(_as_1d(t), coords, v, True, False)
    return out.reshape(()) if t.ndim == 0 else out


def _scatter_inplace(t, coords, v, accumulate, is_value):
    if t.ndim == 0:
        raise RuntimeError("tapegrad: in-place scatter into a 0-dim tensor is not supported")
    return t._be.put_(t, coords, v, accumulate, is_value)


# ---------------------------------------------------------------- index_select / masked_select


def index_select(t, dim, index):
    """The entries of input at the positions `index` (a 1-D int64 or int32 tensor) along `dim`, as a
    copy."""
    idx = _index_values(index, "index_select", (int32, int64), "int32 or int64")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = _norm_dim(dim, t.ndim)
    shape = tuple(t.shape) or (1,)
    idx = idx.reshape(-1)
    if ((idx < 0) | (idx >= shape[d])).any():
        raise IndexError("index out of range in self")
    out_shape = shape[:d] + (idx.size,) + shape[d + 1 :]
    grid = _grid(out_shape)
    grid[..., d] = idx.reshape((-1,) + (1,) * (len(shape) - d - 1))
    # PyTorch's index_add (the gradient) adds float16 in float along the first or last dim of a
    # tensor of two dims or more, else rounding each addition
    kind = INDEX_SELECT if t.ndim > 1 and d in (0, t.ndim - 1) else INDEX_SELECT_STEPWISE
    out = t._be.take(_as_1d(t), _coords(t._be, grid), kind)
    return out.reshape(()) if t.ndim == 0 and index.ndim == 0 else out


def _broadcast(sa, sb):
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    for i, (x, y) in enumerate(zip(sa, sb)):
        if x != y and x != 1 and y != 1:
            raise RuntimeError(
                f"The size of tensor a ({x}) must match the size of tensor b ({y}) at "
                f"non-singleton dimension {i}"
            )
    return tuple(y if x == 1 else x for x, y in zip(sa, sb))


def masked_select(t, mask):
    """The elements of input where the bool `mask` (broadcast with it) is True, as a 1-D copy."""
    Tensor = _tensor_cls()
    if not isinstance(mask, Tensor):
        raise TypeError(
            f"masked_select(): argument 'mask' (position 2) must be Tensor, not "
            f"{type(mask).__name__}"
        )
    if mask.dtype is not _bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = _broadcast(tuple(t.shape), tuple(mask.shape))
    src = t if tuple(t.shape) == shape else t.expand(shape)
    m = np.broadcast_to(mask._be.to_numpy(mask), shape)
    grid = np.argwhere(m).astype(np.int64) if shape else np.zeros((int(m), 1), np.int64)
    if not shape:
        src = src.reshape(1)
    return t._be.take(src, _coords(t._be, grid.reshape(-1, max(len(shape), 1))), MASKED_SELECT)


# ---------------------------------------------------------------- Tensor methods


class _ShapeOps:
    """The Tensor methods of this module (a base class of tapegrad.Tensor)."""

    __slots__ = ()

    def repeat(self, *sizes):
        """Repeat this tensor `sizes[i]` times along each dim (a copy, like numpy.tile); extra
        leading sizes add new dims."""
        if not sizes:
            raise TypeError('repeat() missing 1 required positional arguments: "repeats"')
        return repeat(self, *sizes)

    def tile(self, *dims):
        """Repeat self `dims[i]` times along each dim (a copy); with fewer entries than self has
        dims, leading 1s are assumed."""
        return tile(self, _int_list(dims, "tile", "dims"))

    def flip(self, *dims):
        """Reverse the order of elements along the given dims (a copy, as in PyTorch)."""
        if not dims:
            raise TypeError('flip() missing 1 required positional arguments: "dims"')
        return flip(self, _int_list(dims, "flip", "dims"))

    def fliplr(self):
        """Flip left/right: reverse dim 1 (at least 2 dims)."""
        return fliplr(self)

    def flipud(self):
        """Flip up/down: reverse dim 0 (at least 1 dim)."""
        return flipud(self)

    def roll(self, shifts, dims=None):
        """Shift elements circularly by `shifts` along `dims`; with no dims, roll the flattened
        tensor and restore its shape."""
        return roll(self, shifts, dims)

    def gather(self, dim, index, sparse_grad=False):
        """Pick values along `dim` by `index`, an integer tensor with as many dims as self: for dim
        0, out[i][j] = self[index[i][j]][j]. The result has index's shape; `sparse_grad` is ignored.
        """
        return gather(self, dim, index)

    def scatter(self, dim, index, src=None, value=None, reduce=None):
        """A copy of self with values written at `index` along `dim`: for dim 0, out[index[i][j]][j]
        = src[i][j]. The values come from the tensor `src` or the number `value`; with `reduce`
        ('add' or 'multiply', deprecated in PyTorch) they combine with what is there."""
        return scatter(self, dim, index, src, value, reduce)

    def scatter_(self, dim, index, src=None, value=None, reduce=None):
        """In-place `scatter`: write values at `index` along `dim` into self; returns self."""
        if reduce is not None:
            from ._ops_mm2 import scatter_reduced

            return scatter_reduced(self, dim, index, src, value, reduce, True)
        coords, v, is_value = _scatter_args(self, dim, index, src, value, reduce, "scatter")
        return _scatter_inplace(self, coords, v, False, is_value)

    def scatter_add(self, dim, index, src):
        """A copy of self with `src`'s values added at `index` along `dim` (for dim 0,
        out[index[i][j]][j] += src[i][j]); repeated indices accumulate."""
        return scatter_add(self, dim, index, src)

    def scatter_add_(self, dim, index, src):
        """In-place `scatter_add`: add `src`'s values at `index` along `dim` into self; returns
        self."""
        if not isinstance(src, _tensor_cls()):
            raise TypeError(
                "scatter_add_(): argument 'src' (position 3) must be Tensor, not "
                f"{type(src).__name__}"
            )
        coords, v, _ = _scatter_args(self, dim, index, src, None, None, "scatter")
        return _scatter_inplace(self, coords, v, True, False)

    def index_select(self, dim, index):
        """The entries of self at the positions `index` (a 1-D int64 or int32 tensor) along `dim`,
        as a copy."""
        return index_select(self, dim, index)

    def masked_select(self, mask):
        """The elements of self where the bool `mask` (broadcast with it) is True, as a 1-D copy."""
        return masked_select(self, mask)
