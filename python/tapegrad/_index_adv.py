"""Advanced indexing (integer tensors, lists, arrays and bool masks, mixed with basic indices) as
PyTorch does it. The basic parts are applied first as views (_index.py); the advanced dims are
then permuted to the front and gathered by the backends' `index` op (written by `index_put_`).
As in PyTorch (and unlike NumPy) an int mixed with advanced indices is a plain select, and the
advanced result dims stay in place when the advanced indices are adjacent."""

import numpy as np


def as_tuple(index):
    """PyTorch's legacy reading of a short list holding sequences, slices, None or `...` as a
    tuple of indices (`t[[[0, 1]]]` is `t[[0, 1]]`)."""
    if isinstance(index, list) and len(index) < 32:
        if any(isinstance(i, (list, tuple, slice)) or i is None or i is Ellipsis for i in index):
            return tuple(index)
    return index


def is_advanced(it):
    from .tensor import Tensor

    if isinstance(it, Tensor):
        return it.ndim > 0 or it.dtype.name == "bool"
    return isinstance(it, (list, range, np.ndarray, bool, np.bool_))  # a range: a sequence


def _as_int_if_scalar(it):
    from .tensor import Tensor

    if isinstance(it, Tensor) and it.ndim == 0 and not it.dtype.is_floating_point:
        if it.dtype.name != "bool":
            return int(it.item())
    return it


def _byte_mask(arr):
    """PyTorch still reads a uint8 index as a mask (with its deprecation warning)."""
    if arr.dtype != np.uint8:
        return arr
    import warnings

    warnings.warn(
        "indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool instead.",
        UserWarning,
        stacklevel=4,
    )
    return arr != 0


def _array(it):
    from .tensor import Tensor

    if isinstance(it, Tensor):
        if it.dtype.is_floating_point:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        arr = it._be.to_numpy(it)
        return _byte_mask(arr)
    if isinstance(it, np.ndarray) and it.dtype == np.uint8:
        return _byte_mask(it)
    arr = np.asarray(it)
    if arr.dtype.kind == "f" and isinstance(it, np.ndarray):
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return arr.astype(np.int64) if arr.dtype.kind != "b" else arr  # a list of floats: truncated


def plan(t, index):
    """(view, idx): `view` is t after the basic indices (its advanced dims first, unless they are
    adjacent), idx the int64 coordinates (B + (k,)) such that index(view, idx) is the result."""
    from ._index import _slice
    from .tensor import tensor

    items = index if isinstance(index, tuple) else (index,)
    items = tuple(_as_int_if_scalar(i) for i in items)
    arrays = [_array(i) if is_advanced(i) else i for i in items]
    specified = sum(
        (a.ndim if isinstance(a, np.ndarray) and a.dtype.kind == "b" else 1)
        for a in arrays
        if a is not None and a is not Ellipsis
    )
    if specified > t.ndim:
        raise IndexError(f"too many indices for tensor of dimension {t.ndim}")
    out, dim, adv = t, 0, []  # adv: (dim of out, int64 array)
    for it in arrays:
        if it is None:
            out = out._be.unsqueeze(out, dim)
            dim += 1
        elif it is Ellipsis:
            dim += t.ndim - specified
        elif isinstance(it, slice):
            res = _slice(out, dim, it, False)
            out = out if res is None else res
            dim += 1
        elif isinstance(it, np.ndarray) and it.dtype.kind == "b" and it.ndim == 0:
            out = out._be.unsqueeze(out, dim)  # x[True]: a new dim of size 1 (0 for False)
            adv.append((dim, np.zeros(1 if it else 0, np.int64)))
            dim += 1
        elif isinstance(it, np.ndarray) and it.dtype.kind == "b":
            want = tuple(out.shape[dim : dim + it.ndim])
            for j, (m, s) in enumerate(zip(it.shape, want)):
                if m != s:
                    raise IndexError(
                        f"The shape of the mask {list(it.shape)} at index {j} does not match the "
                        f"shape of the indexed tensor {list(out.shape)} at index {dim + j}"
                    )
            for j, coords in enumerate(np.nonzero(it)):
                adv.append((dim + j, coords.astype(np.int64)))
            dim += it.ndim
        elif isinstance(it, np.ndarray):
            size = out.shape[dim]
            bad = (it >= size) | (it < -size)
            if bad.any():
                raise IndexError(
                    f"index {int(it[bad].ravel()[0])} is out of bounds for dimension {len(adv)} "
                    f"with size {size}"
                )
            adv.append((dim, np.where(it < 0, it + size, it)))
            dim += 1
        elif isinstance(it, (int, np.integer)) and not isinstance(it, (bool, np.bool_)):
            size = out.shape[dim]
            i = int(it)
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {dim} with size {size}")
            out = out._be.select(out, dim, i % size)
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                f"are valid indices (got {type(it).__name__})"
            )
    try:
        coords = np.broadcast_arrays(*(a for _, a in adv))
    except ValueError:
        shapes = ", ".join(str(list(a.shape)) for _, a in adv)
        raise IndexError(
            f"shape mismatch: indexing tensors could not be broadcast together with shapes {shapes}"
        ) from None
    dims = [d for d, _ in adv]
    first = dims[0]
    if dims == list(range(first, first + len(dims))):
        # Adjacent advanced dims: the result keeps them in place (PyTorch's rule). The dims before
        # them become coordinates too, so one index op makes the result in its final layout.
        lead = tuple(out.shape[:first])
        nb = coords[0].ndim
        grids = [g.reshape(lead + (1,) * nb) for g in np.indices(lead, dtype=np.int64)]
        coords = np.broadcast_arrays(*grids, *(c.reshape((1,) * first + c.shape) for c in coords))
        view = out
    else:  # PyTorch puts the result dims first: so do the advanced dims of the view
        rest = [d for d in range(out.ndim) if d not in dims]
        view = out._be.permute(out, tuple(dims + rest))
    idx = np.stack(coords, axis=-1)
    return view, tensor(np.ascontiguousarray(idx, dtype=np.int64), backend=t._be)


def getitem(t, index):
    view, idx = plan(t, index)
    return view._be.index(view, idx)


def setitem(t, index, value):
    from .tensor import Tensor, tensor

    view, idx = plan(t, index)
    if not isinstance(value, Tensor):
        value = tensor(value, dtype=t.dtype, backend=t._be)
    elif value.dtype is not t.dtype:
        # PyTorch converts only a one-element value under a lone bool mask (its masked_fill_)
        mask = isinstance(index, Tensor) and index.dtype.name == "bool"
        if not (mask and value.numel() == 1):
            from ._ops_shape_mm import _SCALAR

            raise RuntimeError(
                "Index put requires the source and destination dtypes match, got "
                f"{_SCALAR[t.dtype.name]} for the destination and {_SCALAR[value.dtype.name]} "
                "for the source."
            )
        value = value.to(t.dtype)
    k = idx.shape[-1]
    b_first = tuple(idx.shape[:-1]) + tuple(view.shape[k:])
    layout = b_first
    try:
        np.broadcast_shapes(tuple(value.shape), layout)
        ok = np.broadcast_shapes(tuple(value.shape), layout) == layout
    except ValueError:
        ok = False
    if not ok:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast to "
            f"indexing result of shape {list(layout)}"
        )
    view._be.index_put_(view, idx, value, False)
