"""The numpy backend's functions of the backend protocol (docs/backends.md): creation and
conversion, the thread count, the in-place functions and one function per op."""

import os

import numpy as np

from tapegrad import _oplist
from tapegrad._dtype import BY_CODE
from tapegrad._grad_mode import is_grad_enabled
from tapegrad.tensor import Tensor as _Base

from .kernels_linalg import matmul_shape
from .registry import broadcast_shapes
from .tape import _run
from .tensor import _DTYPES, _F16, _F32, _check, _fresh, _new, _scalar

_LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."


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
    _check(t)
    d = _new(t._arr)
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


# ---------------------------------------------------------------- in place


def _history_carrier(a, copy_values):
    """A stand-in for `a` before an in-place op: same history, a private copy when saved."""
    c = _new(a._arr.copy() if copy_values else a._arr)
    c._rg, c._fn = a._rg, a._fn
    return c


def _take_over(a, res):
    """After a recorded in-place op, `a` continues the history of `res`."""
    a._fn, a._rg = res._fn, True
    if a._grp is not None:
        a._grp[0] += 1
        a._epoch = a._grp[0]


def _inplace_prologue(a, others_rg):
    """Common checks; returns whether the in-place op is recorded."""
    grad_on = is_grad_enabled()
    if not grad_on:
        return False
    if a._rg and a._fn is None:
        raise RuntimeError(_LEAF_INPLACE)
    _fresh(a)
    return a._rg or others_rg


def _check_into(a_shape, b_shape):
    shape = broadcast_shapes(a_shape, b_shape)
    if shape != a_shape:
        raise RuntimeError(
            f"output with shape {list(a_shape)} doesn't match the broadcast shape {list(shape)}"
        )


_SCALAR_OF = {"add": "add_scalar", "sub": "add_scalar", "mul": "mul_scalar", "div": "div_scalar"}


def iop(op, a, other):
    """a (op)= other, op in add sub mul div; other a tensor or a number; rounded to a's dtype."""
    _check(a)
    if op not in _SCALAR_OF:
        raise ValueError(f"unknown in-place op {op!r}")
    is_tensor = isinstance(other, _Base)
    if is_tensor:
        _check(other)
        _check_into(a._arr.shape, other._arr.shape)
    else:
        s = _scalar(other)
    recorded = _inplace_prologue(a, is_tensor and other._rg)
    src = _history_carrier(a, is_tensor and op in ("mul", "div")) if recorded else a
    if is_tensor:
        b = src if other is a else other
        # Computed in the promoted dtype, then rounded into a's dtype (as PyTorch does).
        res = _binary(op, src, b)
        if res._arr.dtype != a._arr.dtype:
            res = cast(res, 0 if a._arr.dtype == _F32 else 1)
    else:
        res = _run(_SCALAR_OF[op], (src,), {"s": -s if op == "sub" else s})
    a._arr[...] = res._arr
    a._ver[0] += 1
    if recorded:
        _take_over(a, res)
    return a


def fill_(a, value):
    """Every element of a := value (float32(value) rounded to a's dtype)."""
    _check(a)
    value = _scalar(value)
    recorded = _inplace_prologue(a, False)
    if recorded:  # PyTorch's FillBackward: the old history gets a zero gradient
        res = _run("mul_scalar", (_history_carrier(a, False),), {"s": 0.0})
    with np.errstate(all="ignore"):
        a._arr[...] = np.float32(value)
    a._ver[0] += 1
    if recorded:
        _take_over(a, res)
    return a


def copy_(a, src):
    """a := src broadcast to a's shape and converted to a's dtype."""
    _check(a)
    _check(src)
    _check_into(a._arr.shape, src._arr.shape)
    recorded = _inplace_prologue(a, src._rg)
    if recorded:
        # History: zero gradient to a's old value, src's gradient summed back to src's shape.
        old = _history_carrier(a, False)
        base = _run("mul_scalar", (old,), {"s": 0.0}) if a._rg else _new(np.zeros_like(a._arr))
        s = src if src._arr.dtype == a._arr.dtype else cast(src, 0 if a._arr.dtype == _F32 else 1)
        res = _run("add", (base, s), {})
    with np.errstate(all="ignore"):
        a._arr[...] = src._arr.astype(a._arr.dtype, copy=False)
    a._ver[0] += 1
    if recorded:
        _take_over(a, res)
    return a


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


def reshape(a, shape):
    """A view: shares a's storage, version counter and view group."""
    _check_rank(shape)
    out = _unary("reshape", a, shape=tuple(int(s) for s in shape))
    out._ver = a._ver
    if a._grp is None:
        a._grp, a._epoch = [0], 0
    out._grp, out._epoch = a._grp, a._grp[0]
    return out


def permute(a, dims):
    return _unary("permute", a, dims=tuple(int(d) for d in dims))


def slice(a, starts, steps, lens):  # noqa: A001
    ints = lambda xs: tuple(int(x) for x in xs)  # noqa: E731
    return _unary("slice", a, starts=ints(starts), steps=ints(steps), lens=ints(lens))


def mse_loss(a, b, reduction="mean"):
    return _binary("mse_loss", a, b, reduction=reduction)


def l1_loss(a, b, reduction="mean"):
    return _binary("l1_loss", a, b, reduction=reduction)


def cast(a, code):
    """A copy converted to dtype BY_CODE[code] (also clone, with a's own code)."""
    _check(a)
    if code not in (0, 1):
        raise ValueError(f"unknown dtype code {code!r}: 0 is float32, 1 is float16")
    return _run("cast", (a,), {"code": code}, out_dtype=BY_CODE[code].np)


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
    if _oplist.KIND[_name] != "custom":
        globals()[_name] = _generic(_name, _oplist.KIND[_name])
del _name
