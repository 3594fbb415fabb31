"""The shape reference kernels: reshape, permute and slice move values and never round
(storage_level). The table they register in: registry.py."""

import numpy as np

from .registry import _numel, kernel

# ---- shape ops: they move values and never round (storage_level)


@kernel("reshape", storage_level=True)
class Reshape:
    """attribute shape (a tuple with the same number of elements); the output is a view"""

    def forward(ctx, a, shape):
        shape = tuple(shape)
        if any(s < 0 for s in shape) or _numel(shape) != a.size:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {a.size}")
        ctx.in_shape = a.shape
        return a.reshape(shape)

    def backward(ctx, g):
        return (g.reshape(ctx.in_shape),)


@kernel("permute", storage_level=True)
class Permute:
    """attribute dims (a permutation of range(ndim)); the output is a copy"""

    def forward(ctx, a, dims):
        dims = tuple(dims)
        if sorted(dims) != list(range(a.ndim)):
            raise RuntimeError(f"permute(): invalid dims {dims} for a {a.ndim}-d tensor")
        ctx.inverse = tuple(dims.index(i) for i in range(a.ndim))
        return np.array(np.transpose(a, dims), order="C")

    def backward(ctx, g):
        return (np.array(np.transpose(g, ctx.inverse), order="C"),)


@kernel("slice", storage_level=True)
class Slice:
    """attributes starts, steps, lens: one (start, step > 0, length) per dim; a copy"""

    def forward(ctx, a, starts, steps, lens):
        if not len(starts) == len(steps) == len(lens) == a.ndim:
            raise RuntimeError("slice: one (start, step, length) per dim is required")
        index = []
        for size, start, step, n in zip(a.shape, starts, steps, lens):
            last = start + step * (n - 1)
            if step <= 0 or n < 0 or start < 0 or (n > 0 and last >= size) or start > size:
                raise IndexError(
                    f"slice: start {start}, step {step}, length {n} out of range for size {size}"
                )
            index.append(slice(start, last + 1, step) if n else slice(0, 0))
        ctx.index, ctx.in_shape = tuple(index), a.shape
        return np.array(a[ctx.index], order="C")

    def backward(ctx, g):
        ga = np.zeros(ctx.in_shape, dtype=g.dtype)
        ga[ctx.index] = g
        return (ga,)
