"""The argument helpers of Tensor and the factories: dims, shapes, scalars, size limits."""

import builtins

import numpy as np

_pyfloat = builtins.float
_MIX = "expected all tensors to be on the same backend, but found at least two: {} and {}"
_MAX_BYTES = 1 << 40


def _check_same(a, b):
    if a._be is not b._be:
        raise RuntimeError(_MIX.format(a._be.name, b._be.name))


def _is_scalar(x):
    return isinstance(x, (int, _pyfloat, np.integer, np.floating)) and not isinstance(
        x, (np.complexfloating, complex)
    )


def _norm_dim(d, ndim):
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
        raise TypeError(f"dim must be an int, got {type(d).__name__}")
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
        )
    return int(d) % n


def _norm_dims(dim, ndim):
    if dim is None:
        return None
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    if not dims:  # PyTorch: an empty dim list reduces over everything
        return None
    out = tuple(sorted({_norm_dim(d, ndim) for d in dims}))
    if len(out) != len(dims):
        raise RuntimeError("dim appears multiple times in the list of dims")
    if ndim == 0:
        return ()
    return out


def _shape_arg(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for s in args:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"shape must be a sequence of ints, got {type(s).__name__}")
    return tuple(int(s) for s in args)


def _resolve_shape(shape, numel):
    shape = _shape_arg(shape) if not isinstance(shape, tuple) else shape
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"invalid shape dimension {min(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 and numel == 0:
            raise RuntimeError(
                f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                f"unspecified dimension size -1 can be any value and is ambiguous"
            )
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class _Size(tuple):
    """A shape (`tensor.shape`, `tensor.size()`): a tuple that prints as PyTorch's torch.Size."""

    __slots__ = ()

    def __repr__(self):
        return f"torch.Size({list(self)})"

    def numel(self):
        """The number of elements of a tensor of this shape (1 for the empty shape)."""
        n = 1
        for s in self:
            n *= s
        return n


def _check_nbytes(shape, dt):
    n = 1
    for s in shape:
        if s < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {s}: {list(shape)}"
            )
        n *= s
    nbytes = n * dt.itemsize
    if nbytes > _MAX_BYTES:
        raise MemoryError(
            f"tapegrad: refusing to allocate {nbytes} bytes for a tensor of shape {list(shape)}"
        )
