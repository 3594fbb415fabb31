"""The tensor factories: tensor, zeros, ones, full, *_like, arange, linspace (re-exported by
tensor.py)."""

import numpy as np

from . import _backend
from ._dtype import BY_CODE, float16, float32, to_dtype
from ._tensor_args import _check_nbytes, _is_scalar, _pyfloat, _shape_arg
from .tensor import Tensor


def _np_from(data, dt):
    """Turn user data into a C-contiguous float32/float16 ndarray we may keep (always a copy)."""
    if isinstance(data, Tensor):
        arr = data._be.to_numpy(data)
    elif isinstance(data, np.ndarray):
        arr = data
    else:
        if isinstance(data, (str, bytes, dict, set)) or data is None:
            raise TypeError(f"tensor(): could not convert {type(data).__name__} to a tensor")
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as e:
            raise TypeError(f"tensor(): could not convert data to a tensor: {e}") from None
    kind = arr.dtype.kind
    if kind not in "fiub":
        raise TypeError(
            f"can't convert np.ndarray of type {arr.dtype} to a tensor: "
            "only real numbers are supported"
        )
    if dt is None:
        dt = float16 if kind == "f" and arr.dtype.itemsize == 2 else float32  # any byte order
    with np.errstate(over="ignore"):  # 1e39 -> inf, silently, as in PyTorch
        out = np.array(arr, dtype=dt.np, order="C", copy=True)
    return out, dt


def tensor(data, dtype=None, requires_grad=False, backend=None, device=None):
    be = _pick_backend(backend)
    arr, dt = _np_from(data, None if dtype is None else to_dtype(dtype))
    return be.from_numpy(arr, bool(requires_grad))


as_tensor = tensor


def from_numpy(arr):
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    return tensor(arr)


def _pick_backend(backend):
    if backend is None:
        return _backend.current()
    return _backend.load(backend) if isinstance(backend, str) else backend


def _filled(shape, value, dtype, requires_grad, backend=None):
    if isinstance(value, (bool, np.bool_)):
        value = int(value)
    if not _is_scalar(value):
        raise TypeError(
            f"full(): argument 'fill_value' (position 2) must be Number, not {type(value).__name__}"
        )
    dt = float32 if dtype is None else to_dtype(dtype)
    shape = _shape_arg(shape)
    _check_nbytes(shape, dt)
    arr = np.full(shape, value, dtype=dt.np)
    return _pick_backend(backend).from_numpy(arr, bool(requires_grad))


def zeros(*shape, dtype=None, requires_grad=False, device=None, backend=None):
    return _filled(shape, 0.0, dtype, requires_grad, backend)


def ones(*shape, dtype=None, requires_grad=False, device=None, backend=None):
    return _filled(shape, 1.0, dtype, requires_grad, backend)


def full(size, fill_value, dtype=None, requires_grad=False, device=None, backend=None):
    shape = (size,) if isinstance(size, int) else size
    return _filled(shape, fill_value, dtype, requires_grad, backend)


def _need_like(fn, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(t).__name__}")


def zeros_like(t, dtype=None, requires_grad=False):
    _need_like("zeros_like", t)
    return _filled(t.shape, 0.0, dtype or t.dtype, requires_grad, t._be)


def ones_like(t, dtype=None, requires_grad=False):
    _need_like("ones_like", t)
    return _filled(t.shape, 1.0, dtype or t.dtype, requires_grad, t._be)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
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
    _check_nbytes((int(np.ceil((hi - lo) / st)),), float32 if dtype is None else to_dtype(dtype))
    return tensor(np.arange(start, end, step), dtype=dtype or float32, requires_grad=requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    _check_nbytes((int(steps),), float32 if dtype is None else to_dtype(dtype))
    # PyTorch computes linspace in the output dtype with a symmetric formula; float64 then round
    # gives the same float32 values for the sizes tutorials use.
    arr = np.linspace(_pyfloat(start), _pyfloat(end), int(steps))
    return tensor(arr, dtype=dtype or float32, requires_grad=requires_grad)


def _dtype_of(code):
    return BY_CODE[code]


def is_tensor(x):
    return isinstance(x, Tensor)
