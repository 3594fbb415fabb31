"""The tensor factories: tensor, zeros, ones, full, *_like, arange, linspace (re-exported by
tensor.py)."""

import builtins
import warnings

import numpy as np

from . import _backend
from ._device import check as _check_device
from ._dtype import BY_CODE, dtype_arg, get_default_dtype, int64, to_dtype
from ._dtype import bool as bool_
from ._ranges import arange_size, arange_values, linspace_values
from ._tensor_args import _check_nbytes, _is_scalar, _pyfloat, _shape_arg
from .tensor import Tensor

builtins_bool = builtins.bool


_KINDS = "float64, float32, float16, int64, int32, int16, int8, uint8 and bool"
BYTE_ORDER = (
    "given numpy array has byte order different from the native byte order. Conversion between "
    "byte orders is currently not supported."
)
NEGATIVE_STRIDES = (
    "At least one stride in the given numpy array is negative, and tensors with negative strides "
    "are not currently supported. (You can probably work around this by making a copy of your "
    "array  with array.copy().) "
)
OVERFLOW = "Overflow when unpacking long long"


def _warn_read_only(arr):
    if not arr.flags.writeable:  # PyTorch's warning: the tensor writes through anyway
        warnings.warn(
            "The given NumPy array is not writable, and PyTorch does not support non-writable "
            "tensors. This means writing to this tensor will result in undefined behavior. You "
            "may want to copy the array to protect its data or make it writable before "
            "converting it to a tensor.",
            UserWarning,
            stacklevel=3,
        )


def check_array(arr):
    """PyTorch's refusals of a NumPy array: a dtype tapegrad lacks, another byte order, negative
    strides (tensor() and from_numpy() alike)."""
    d = arr.dtype
    if d.kind == "c":
        raise TypeError(f"tapegrad has no complex dtypes (only real numbers): {d}")
    try:
        to_dtype(d)
    except TypeError:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{d.type.__name__}. The only supported types "
            f"are: {_KINDS} (tapegrad's dtypes)."
        ) from None
    if not d.isnative:
        raise ValueError(BYTE_ORDER)
    if any(s < 0 for s in arr.strides):
        raise ValueError(NEGATIVE_STRIDES)


def operand(data, be, dtype=None):
    """Data met as an operand (arithmetic, copy_, a gradient): an ndarray is read whatever its
    layout or byte order, as NumPy reads it; unsigned types tapegrad lacks become float64."""
    if isinstance(data, np.ndarray):
        a = np.asarray(data, order="C")  # (ascontiguousarray makes 0-d 1-d)
        if not a.dtype.isnative:
            a = a.astype(a.dtype.newbyteorder("="))
        if a.dtype.kind == "u" and a.itemsize > 1:
            a = a.astype(np.float64)
        data = a
    return tensor(data, dtype=dtype, backend=be)


def _infer(arr, from_python):
    """PyTorch's dtype for data: an array keeps its own; Python floats get the default dtype,
    ints int64 and bools bool."""
    kind = arr.dtype.kind
    if kind == "b":
        return bool_
    if from_python:
        return int64 if kind in "iu" else get_default_dtype()
    return to_dtype(arr.dtype)


def _leaves(data):
    if isinstance(data, (list, tuple)):
        for x in data:
            yield from _leaves(x)
    else:
        yield data


def _first_leaf(data):
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return data


def _python_array(data, dt=None):
    """Python data (numbers, nested lists) as an ndarray, with PyTorch's overflow check."""
    if isinstance(data, (str, bytes, dict, set)) or data is None:
        raise TypeError(f"tensor(): could not convert {type(data).__name__} to a tensor")
    leaves = list(_leaves(data))
    has_float = any(isinstance(x, (float, np.floating)) for x in leaves)
    big = any(
        isinstance(x, int) and not isinstance(x, builtins_bool) and not -(2**63) <= x < 2**63
        for x in leaves
    )
    if big and not has_float and not (dt is not None and dt.is_floating_point):
        raise ValueError(OVERFLOW)
    try:
        return np.asarray(data, dtype=np.float64 if big else None)
    except (ValueError, TypeError, OverflowError) as e:
        raise TypeError(f"tensor(): could not convert data to a tensor: {e}") from None


def _np_from(data, dt):
    """Turn user data into a C-contiguous ndarray of a tapegrad dtype we may keep (a copy)."""
    if isinstance(data, Tensor):
        arr = data._be.to_numpy(data)
    elif isinstance(data, np.ndarray):
        arr = data
        check_array(arr)
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
        check_array(arr)
    else:
        arr = _python_array(data, dt)
    kind = arr.dtype.kind
    if kind not in "fiub":
        if kind == "O" and all(isinstance(x, (int, float)) for x in arr.ravel().tolist()):
            check_array(arr)  # an object array of numbers: PyTorch names the NumPy type
        raise TypeError(
            f"can't convert np.ndarray of type {arr.dtype} to a tensor: "
            "only real numbers are supported"
        )
    from_python = not isinstance(data, (np.ndarray, Tensor, np.generic)) and not isinstance(
        _first_leaf(data), np.generic
    )  # a NumPy scalar inside a list keeps its dtype, as in PyTorch
    if dt is None:
        dt = _infer(arr, from_python)
    if arr.dtype != dt.np and (kind == "f" and not dt.is_floating_point):
        # PyTorch's float -> integer conversion (truncation; NaN and overflow as its kernels)
        src = tensor(arr.astype(np.float64, copy=False), backend=_backend.current())
        return src._be.to_numpy(src._be.cast(src, dt.code)).copy(), dt
    with np.errstate(over="ignore", invalid="ignore"):  # 1e39 -> inf, silently, as in PyTorch
        out = np.array(arr, dtype=dt.np, order="C", copy=True)
    return out, dt


def tensor(data, dtype=None, requires_grad=False, backend=None, device=None):
    """A new leaf tensor holding a copy of `data` (a number, nested lists, a NumPy array). The dtype
    is inferred as PyTorch infers it unless given; `backend=` ('cpp' or 'numpy', tapegrad only)
    picks the backend."""
    _check_device(device)
    be = _pick_backend(backend)
    arr, dt = _np_from(data, None if dtype is None else dtype_arg(dtype, "tensor"))
    return be.from_numpy(arr, bool(requires_grad))


def as_tensor(data, dtype=None, device=None):
    """`data` as a tensor: an ndarray of the same dtype is shared (PyTorch's as_tensor), a tensor
    of the same dtype is returned itself, anything else is copied."""
    _check_device(device)
    if isinstance(data, Tensor) and (dtype is None or dtype_arg(dtype, "as_tensor") is data.dtype):
        return data
    if isinstance(data, np.ndarray):
        check_array(data)
        if dtype is None or dtype_arg(dtype, "as_tensor").np == data.dtype:
            _warn_read_only(data)
            return _backend.current().from_numpy_shared(data)
    return tensor(data, dtype=dtype)


def from_numpy(arr):
    """A tensor sharing the array's memory (writes through either are seen by the other)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    check_array(arr)
    _warn_read_only(arr)
    return _backend.current().from_numpy_shared(arr)


def _pick_backend(backend):
    if backend is None:
        return _backend.current()
    return _backend.load(backend) if isinstance(backend, str) else backend


def _filled(shape, value, dtype, requires_grad, backend=None, infer=False):
    if not _is_scalar(value) and not isinstance(value, (builtins_bool, np.bool_)):
        raise TypeError(
            f"full(): argument 'fill_value' (position 2) must be Number, not {type(value).__name__}"
        )
    if dtype is not None:
        dt = dtype_arg(dtype, "full" if infer else "zeros")
    elif infer and isinstance(value, (builtins_bool, np.bool_)):
        dt = bool_
    elif infer and isinstance(value, (int, np.integer)):
        dt = int64
    else:
        dt = get_default_dtype()
    shape = _shape_arg(shape)
    _check_nbytes(shape, dt)
    if not dt.is_floating_point and isinstance(value, (float, np.floating)):
        value = tensor(value, dtype=dt).item()  # PyTorch's conversion
    with np.errstate(over="ignore"):
        arr = np.full(shape, value, dtype=dt.np)
    return _pick_backend(backend).from_numpy(arr, bool(requires_grad))


def zeros(*shape, dtype=None, requires_grad=False, device=None, backend=None):
    """A tensor of zeros of the given shape (ints or one sequence), in the default float dtype
    unless `dtype` is given. `backend=` ('cpp' or 'numpy', tapegrad only) picks the backend."""
    _check_device(device)
    return _filled(shape, 0.0, dtype, requires_grad, backend)


def ones(*shape, dtype=None, requires_grad=False, device=None, backend=None):
    """A tensor of ones of the given shape (ints or one sequence), in the default float dtype unless
    `dtype` is given. `backend=` ('cpp' or 'numpy', tapegrad only) picks the backend."""
    _check_device(device)
    return _filled(shape, 1.0, dtype, requires_grad, backend)


def full(size, fill_value, dtype=None, requires_grad=False, device=None, backend=None):
    """A tensor of shape `size` filled with `fill_value`. The dtype follows the value (bool, int64
    or the default float dtype) unless `dtype` is given."""
    _check_device(device)
    shape = (size,) if isinstance(size, int) else size
    return _filled(shape, fill_value, dtype, requires_grad, backend, infer=True)


def _need_like(fn, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(t).__name__}")


def zeros_like(t, dtype=None, requires_grad=False, device=None, memory_format=None):
    """A tensor with `t`'s shape filled with zeros, in t's dtype unless `dtype` is given, on t's
    backend."""
    _check_device(device)
    _need_like("zeros_like", t)
    return _filled(t.shape, 0.0, dtype or t.dtype, requires_grad, t._be)


def ones_like(t, dtype=None, requires_grad=False, device=None, memory_format=None):
    """A tensor with `t`'s shape filled with ones, in t's dtype unless `dtype` is given, on t's
    backend."""
    _check_device(device)
    _need_like("ones_like", t)
    return _filled(t.shape, 1.0, dtype or t.dtype, requires_grad, t._be)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    """Values from `start` up to, not including, `end`, `step` apart (`arange(n)`: 0 to n - 1).
    int64 when all three are ints, else the default float dtype, unless `dtype` is given."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    for v in (start, end, step):
        if not _is_scalar(v) and not isinstance(v, (bool, np.bool_)):
            raise TypeError(f"arange(): expected numbers, got {type(v).__name__}")
    lo, hi, st = _pyfloat(start), _pyfloat(end), _pyfloat(step)
    if st == 0:
        raise RuntimeError("step must be nonzero")
    if not (np.isfinite(lo) and np.isfinite(hi) and np.isfinite(st)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (hi - lo) / st < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    all_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
    dt = (
        dtype_arg(dtype, "arange")
        if dtype is not None
        else (int64 if all_int else get_default_dtype())
    )
    n = max(arange_size(start, end, step, dt), 0)
    _check_nbytes((n,), dt)
    arr = arange_values(start, step, n, dt)
    return tensor(arr, dtype=dt, requires_grad=requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    """`steps` evenly spaced values from `start` to `end`, both included, in the default float dtype
    unless `dtype` is given."""
    _check_device(device)
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = get_default_dtype() if dtype is None else dtype_arg(dtype, "linspace")
    _check_nbytes((int(steps),), dt)
    arr = linspace_values(start, end, int(steps), dt)
    return tensor(arr, dtype=dt, requires_grad=requires_grad)


def _dtype_of(code):
    return BY_CODE[code]


def is_tensor(x):
    """True if `x` is a tapegrad tensor."""
    return isinstance(x, Tensor)
