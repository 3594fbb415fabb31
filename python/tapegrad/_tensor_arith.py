"""Tensor's arithmetic with Python numbers, arrays and other tensors: the helpers behind the
`+ - * / **` operators, their in-place forms and add/sub's alpha= (the cpp class replaces the
operators themselves with C slots)."""

import numpy as np

from ._dtype import to_dtype
from ._factories import check_array, operand, tensor
from ._tensor_args import _check_same, _is_scalar, _pyfloat
from .tensor import Tensor


def _arith(op, t, other, reflected):
    """`t op other` (or `other op t` when reflected); `t` is a Tensor."""
    be = t._be
    if isinstance(other, Tensor):
        _check_same(t, other)
        a, b = (other, t) if reflected else (t, other)
        return getattr(be, op)(a, b)
    if _is_number(other):
        s = _number(other)
        if not reflected:
            if op == "sub":
                _check_bool_sub(t, s)
                return be.sub_scalar(t, s)
            return getattr(be, op + "_scalar")(t, s)
        if op in ("add", "mul"):
            return getattr(be, op + "_scalar")(t, s)
        if op == "sub":
            _check_bool_sub(t, s)
        return getattr(be, "r" + op + "_scalar")(t, s)
    if isinstance(other, np.ndarray):
        t, other = _numpy_promoted(op, t, other)
        return _arith(op, t, other, reflected)
    if isinstance(other, (list, tuple)):
        return _arith(op, t, tensor(other, backend=be), reflected)
    return NotImplemented


def _check_bool_sub(t, s):
    """PyTorch refuses `-` with a bool operand (a tensor or a Python bool)."""
    if isinstance(s, bool) and t.dtype.name == "bool":
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if isinstance(s, bool) or t.dtype.name == "bool":
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )


def _is_number(x):
    return _is_scalar(x) or isinstance(x, (bool, np.bool_))


def _number(x):
    """A Python bool, int or float for a number (NumPy scalars included)."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    return _pyfloat(x)


_UFUNC = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
          "pow": np.power}  # fmt: skip


def _numpy_promoted(op, t, arr):
    """`t op array`: PyTorch hands this to NumPy, so the result dtype is NumPy's promotion of
    the two (float32 tensor + int32 array is float64) and NumPy's errors for other arrays."""
    probe = np.zeros((), t.dtype.np)
    with np.errstate(all="ignore"):
        sample = arr if arr.dtype.kind == "O" or not arr.size else arr.reshape(-1)[:1]
        res = _UFUNC[op](probe, sample)  # NumPy's own errors
    try:
        dt = to_dtype(np.asarray(res).dtype)
    except TypeError:
        check_array(np.asarray(res))  # PyTorch's error naming the NumPy type
        raise
    other = operand(arr, t._be, dtype=dt)
    return (t if t.dtype is dt else t.to(dt)), other


def _inplace(op, t, other):
    if isinstance(other, Tensor):
        _check_same(t, other)
        return t._be.iop(op, t, other)
    if _is_number(other):
        return t._be.iop(op, t, _number(other))
    if isinstance(other, (np.ndarray, list, tuple)):
        return t._be.iop(op, t, operand(other, t._be, dtype=t.dtype))
    return NotImplemented


def _scaled(fn, t, other, alpha):
    """`other * alpha` for add/sub(other, alpha=), computed as tapegrad does (never as NumPy or
    Python would: a str times a huge int is a huge str, uint8 arrays overflow)."""
    if isinstance(alpha, (bool, np.bool_)):
        alpha = int(alpha)
    if not _is_scalar(alpha):
        raise TypeError(f"{fn}(): argument 'alpha' must be Number, not {type(alpha).__name__}")
    if alpha == 1:
        return other
    if not isinstance(alpha, (int, np.integer)):
        try:
            alpha = _pyfloat(alpha)
        except OverflowError:
            raise RuntimeError(f"{fn}(): alpha={alpha} does not fit a float") from None
    else:
        alpha = int(alpha)
    if _is_number(other):
        if t.dtype.is_floating_point:  # PyTorch scales in double for a float tensor
            return _pyfloat(_number(other)) * _pyfloat(alpha)
        return _number(other) * alpha
    if isinstance(other, (np.ndarray, list, tuple)):
        other = operand(other, t._be)
    if not isinstance(other, Tensor):
        raise TypeError(
            f"{fn}(): argument 'other' (position 1) must be Tensor or a number, "
            f"not {type(other).__name__}"
        )
    return other * alpha


def _inplace_method(op, t, other):
    """The `add_`/`sub_`/`mul_`/`div_` methods: like `t op= other`, but never NotImplemented."""
    out = _inplace(op, t, other)
    if out is NotImplemented:
        raise TypeError(
            f"{op}_(): argument 'other' (position 1) must be Tensor or a number, "
            f"not {type(other).__name__}"
        )
    return out
