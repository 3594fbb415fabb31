"""The numpy backend's functions of the backend protocol (docs/backends.md): creation and
conversion, the thread count and one function per op (the in-place functions: inplace.py)."""

import os

import numpy as np

from tapegrad import _oplist
from tapegrad._dtype import BY_CODE

from . import views
from .inplace import copy_, fill_, iop  # noqa: F401
from .kernels_linalg import matmul_shape
from .registry import broadcast_shapes
from .tape import _run
from .tensor import _DTYPES, _F16, _F32, _alias, _check, _new, _scalar
from .views import view_op

# ---------------------------------------------------------------- creation and conversion


def from_numpy(arr, requires_grad=False):
    """A new leaf holding a copy of `arr` (float32 or float16)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    if arr.dtype not in _DTYPES:
        raise TypeError(f"unsupported dtype {arr.dtype}: tapegrad stores float32 and float16")
    _check_rank(arr.shape)
    t = _new(np.array(arr, order="C"))
    t._rg = bool(requires_grad)
    return t


_MAX_DIMS = 8  # as the C++ core


def _check_rank(shape):
    if len(shape) > _MAX_DIMS:
        raise ValueError(f"tapegrad supports tensors of at most {_MAX_DIMS} dimensions")


def _refuse_huge(shape, dtype):
    """Refuse an output over 1 TiB before NumPy tries to allocate it (as the C++ core does)."""
    n = 1
    for s in shape:
        n *= int(s)
    nbytes = n * np.dtype(dtype).itemsize
    if nbytes > 1 << 40:
        shown = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise MemoryError(
            f"tapegrad: refusing to allocate {nbytes} bytes for a tensor of shape {shown} "
            "(the limit is 1 TiB)"
        )


def to_numpy(t):
    _check(t)
    return t._arr


def item(t):
    _check(t)
    if t._arr.size != 1:
        raise RuntimeError(f"a Tensor with {t._arr.size} elements cannot be converted to Scalar")
    return float(t._arr.item())


def detach(t):
    """An alias of t (same storage, geometry and version counter), not a view, no history."""
    _check(t)
    d = _alias(t, t._arr.shape, t._strides, t._offset)
    d._ver = t._ver
    return d


def _default_threads():
    try:
        n = int(os.environ.get("OMP_NUM_THREADS", ""))
    except ValueError:
        n = 0
    return n if n > 0 else (os.cpu_count() or 1)


_threads = [_default_threads()]


def set_num_threads(n):
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    _threads[0] = n


def get_num_threads():
    return _threads[0]


# ---------------------------------------------------------------- the ops


def _binary(op, a, b, **attrs):
    _check(a)
    _check(b)
    out_dtype = _F32 if a._arr.dtype != b._arr.dtype else a._arr.dtype
    if op == "matmul":
        _refuse_huge(matmul_shape(a._arr.shape, b._arr.shape), out_dtype)
    elif op in ("add", "sub", "mul", "div"):
        _refuse_huge(broadcast_shapes(a._arr.shape, b._arr.shape), out_dtype)
    if a._arr.dtype != b._arr.dtype:
        a = cast(a, 0) if a._arr.dtype == _F16 else a
        b = cast(b, 0) if b._arr.dtype == _F16 else b
    return _run(op, (a, b), attrs)


def _unary(op, a, **attrs):
    _check(a)
    return _run(op, (a,), attrs)


def matmul(a, b):
    return _binary("matmul", a, b)


def linear(x, w, b=None):
    _check(x)
    _check(w)
    if b is not None:
        _check(b)
    ts = (x, w, b)
    if len({t._arr.dtype for t in ts if t is not None}) > 1:
        ts = tuple(t if t is None or t._arr.dtype == _F32 else cast(t, 0) for t in ts)
    if w._arr.ndim == 2 and x._arr.ndim >= 1:
        _refuse_huge(x._arr.shape[:-1] + (w._arr.shape[0],), ts[0]._arr.dtype)
    return _run("linear", ts, {})


def _dims(dims):
    return None if dims is None else tuple(int(d) for d in dims)


def _ints(xs):
    return tuple(int(x) for x in xs)


def _view(op, a, **attrs):
    _check(a)
    return view_op(op, a, attrs)


def reshape(a, shape):
    """A view when PyTorch's rule allows, else a copy (views.reshape)."""
    _check(a)
    _check_rank(shape)
    return views.reshape(a, _ints(shape))


def view(a, shape):
    _check_rank(shape)
    return _view("view", a, shape=_ints(shape))


def permute(a, dims):
    return _view("permute", a, dims=_ints(dims))


def transpose(a, dim0, dim1):
    return _view("transpose", a, dim0=int(dim0), dim1=int(dim1))


def t(a):
    return _view("t", a)


def select(a, dim, index):
    return _view("select", a, dim=int(dim), index=int(index))


def slice(a, dim, start, end, step):  # noqa: A001
    return _view("slice", a, dim=int(dim), start=int(start), end=int(end), step=int(step))


def unsqueeze(a, dim):
    _check(a)
    _check_rank(a._arr.shape + (1,))
    return _view("unsqueeze", a, dim=int(dim))


def squeeze(a, dims=None):
    """dims: None (every size-1 dim), an int, or a tuple of ints (the grad_fn names differ)."""
    if dims is not None:
        dims = int(dims) if isinstance(dims, (int, np.integer)) else _ints(dims)
    return _view("squeeze", a, dims=dims)


def expand(a, sizes):
    _check_rank(sizes)
    return _view("expand", a, sizes=_ints(sizes))


def as_strided(a, sizes, strides, offset):
    _check_rank(sizes)
    return _view("as_strided", a, sizes=_ints(sizes), strides=_ints(strides), offset=int(offset))


def mse_loss(a, b, reduction="mean"):
    return _binary("mse_loss", a, b, reduction=reduction)


def l1_loss(a, b, reduction="mean"):
    return _binary("l1_loss", a, b, reduction=reduction)


def cast(a, code):
    """A contiguous copy converted to dtype BY_CODE[code]; with a's own code it is PyTorch's
    clone (grad_fn CloneBackward0), else its `to` (ToCopyBackward0)."""
    _check(a)
    if code not in (0, 1):
        raise ValueError(f"unknown dtype code {code!r}: 0 is float32, 1 is float16")
    dt = BY_CODE[code].np
    name = "CloneBackward0" if dt == a._arr.dtype else None
    return _run("cast", (a,), {"code": code}, out_dtype=dt, name=name)


# ---------------------------------------------------------------- the generic kinds of the op list


def _generic(name, kind):
    """The backend function of op `name` of kind unary, binary, scalar or reduce."""
    if kind == "unary":

        def f(a):
            return _unary(name, a)
    elif kind == "binary":

        def f(a, b):
            return _binary(name, a, b)
    elif kind == "scalar":

        def f(a, s):
            return _unary(name, a, s=_scalar(s))
    else:

        def f(a, dims=None, keepdim=False):
            return _unary(name, a, dims=_dims(dims), keepdim=bool(keepdim))

    f.__name__ = f.__qualname__ = name
    return f


for _name in _oplist.NAMES:
    if _oplist.KIND[_name] in ("unary", "binary", "scalar", "reduce"):
        globals()[_name] = _generic(_name, _oplist.KIND[_name])
del _name
