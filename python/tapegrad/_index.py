"""Basic indexing (ints, slices with step, None, ...) as one `slice` op plus one `reshape`."""

import numpy as np


def _expand(index, ndim):
    if not isinstance(index, tuple):
        index = (index,)
    n_ell = sum(1 for i in index if i is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    used = sum(1 for i in index if i is not None and i is not Ellipsis)
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    out = []
    for i in index:
        if i is Ellipsis:
            out.extend([slice(None)] * (ndim - used))
        else:
            out.append(i)
    return out  # apply_index pads missing trailing dims with full slices


def apply_index(t, index):
    shape = t.shape
    ndim = len(shape)
    items = _expand(index, ndim)
    starts, steps, lens, out_shape = [], [], [], []
    d = 0
    for it in items:
        if it is None:
            out_shape.append(1)
            continue
        size = shape[d]
        if isinstance(it, (bool, np.bool_)):
            raise IndexError("boolean indices are not supported by tapegrad")
        if isinstance(it, (int, np.integer)):
            i = int(it)
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {d} with size {size}")
            starts.append(i % size)
            steps.append(1)
            lens.append(1)
        elif isinstance(it, slice):
            if it.step is not None and it.step <= 0:
                raise ValueError("step must be greater than zero")
            start, stop, step = it.indices(size)
            n = max(0, (stop - start + step - 1) // step)
            starts.append(start if n else 0)
            steps.append(step if n > 1 else 1)  # a huge step must not reach the backend
            lens.append(n)
            out_shape.append(n)
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`) and None are valid indices "
                f"in tapegrad (got {type(it).__name__})"
            )
        d += 1
    while d < ndim:
        starts.append(0)
        steps.append(1)
        lens.append(shape[d])
        out_shape.append(shape[d])
        d += 1
    out = t
    if tuple(lens) != tuple(shape) or any(s != 1 for s in steps):
        out = t._be.slice(t, tuple(starts), tuple(steps), tuple(lens))
    out_shape = tuple(out_shape)
    if out_shape != tuple(out.shape) or out is t:
        out = out._be.reshape(out, out_shape)
    return out
