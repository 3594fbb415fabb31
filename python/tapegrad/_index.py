"""Basic indexing (ints, slices with step, None, ...) as PyTorch does it: a chain of view ops,
applied left to right (int: select, slice: slice, None: unsqueeze). A single slice as the whole
index always makes a slice op; inside a tuple, slices that keep the whole dim are skipped. An
index that selects everything (`...`, `()`, full slices) gives an alias of the tensor (a view)."""

import numpy as np

_HUGE_STEP = 1 << 31  # a longer step only matters for a length-1 slice: stride overflow guard


def _bad(it):
    if isinstance(it, str):
        raise TypeError("new(): invalid data type 'str'")
    if hasattr(it, "_be"):  # a float tensor
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    if isinstance(it, (bool, np.bool_)):
        raise IndexError("boolean indices are not supported by tapegrad")
    raise IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
        f"valid indices (got {type(it).__name__})"
    )


def _is_int(it):
    return isinstance(it, (int, np.integer)) and not isinstance(it, (bool, np.bool_))


def _slice(t, dim, sl, always):
    """t sliced along dim by Python slice `sl`; None when the slice keeps the whole dim and
    `always` is false (PyTorch skips such slices inside a tuple)."""
    if sl.step is not None and sl.step == 0:
        raise ValueError("slice step cannot be zero")
    if sl.step is not None and sl.step < 0:
        raise ValueError("step must be greater than zero")
    size = t.shape[dim]
    start, stop, step = sl.indices(size)
    stop = max(stop, start)
    if not always and start == 0 and stop == size and step == 1:
        return None
    n = (stop - start + step - 1) // step
    if n <= 1 and step > _HUGE_STEP:
        stop, step = start + n, 1
    return t._be.slice(t, dim, start, stop, step)


def _alias(t):
    return t._be.view(t, tuple(t.shape))


def apply_index(t, index):
    ndim = t.ndim
    if isinstance(index, slice):
        if ndim == 0:
            raise IndexError("slice() cannot be applied to a 0-dim tensor.")
        return _slice(t, 0, index, True)
    if _is_int(index) and ndim == 0:
        raise IndexError(
            "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
            "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"
        )
    items = index if isinstance(index, tuple) else (index,)
    if len(items) > 1 and all(i is Ellipsis for i in items):
        items = (Ellipsis,)  # PyTorch takes `t[..., ...]` as `t[...]`
    for it in items:
        if not (it is None or it is Ellipsis or _is_int(it) or isinstance(it, slice)):
            _bad(it)
    if sum(1 for i in items if i is Ellipsis) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    specified = sum(1 for i in items if i is not None and i is not Ellipsis)
    if specified > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    out, dim = t, 0
    for pos, it in enumerate(items):
        if it is None:
            out = out._be.unsqueeze(out, dim)
            dim += 1
        elif it is Ellipsis:
            dim += ndim - specified
        elif isinstance(it, slice):
            res = _slice(out, dim, it, False)
            out = out if res is None else res
            dim += 1
        else:
            i, size = int(it), out.shape[dim]
            if not -(2**63) <= i < 2**63:
                raise ValueError("Overflow when unpacking long long")
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {pos} with size {size}")
            out = out._be.select(out, dim, i % size)
    return _alias(t) if out is t else out
