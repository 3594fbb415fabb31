"""The numpy backend's comparison and selection functions: eq ne lt le gt ge, logical_and/or/xor
(the compare kind of the op list: `f(a, other)`, other a tensor or a Python number),
logical_not and where. Kernels: kernels_compare.py."""

import warnings

import numpy as np

from tapegrad.tensor import Tensor as _Base

from .arith import _refuse_huge, scalar_tensor, to_dtype
from .promote import convert, number, result_type, torch_name
from .registry import broadcast_shapes
from .tape import _run
from .tensor import _check, _new


def _operand(x, d):
    """x (a tensor or a Python number) as a tensor of dtype d. Comparisons have no gradient, so
    a tensor is converted off the tape."""
    if not isinstance(x, _Base):
        return scalar_tensor(x, d)
    return x if x._arr.dtype == d.np else _new(convert(x._arr, d.np))


def _checked(x):
    if isinstance(x, _Base):
        _check(x)
        return x
    return number(x)


def _compare(name, a, other):
    """Compare in the promoted dtype (uint8 == -1 compares with 255, as PyTorch); bool result."""
    _check(a)
    other = _checked(other)
    d = result_type(a, other)
    x, y = _operand(a, d), _operand(other, d)
    _refuse_huge(broadcast_shapes(x._arr.shape, y._arr.shape), np.bool_)
    return _run(name, (x, y), {}, out_dtype=np.bool_)


def _compare_fn(name):
    def f(a, other):
        return _compare(name, a, other)

    f.__name__ = f.__qualname__ = name
    return f


eq = _compare_fn("eq")
ne = _compare_fn("ne")
lt = _compare_fn("lt")
le = _compare_fn("le")
gt = _compare_fn("gt")
ge = _compare_fn("ge")
logical_and = _compare_fn("logical_and")
logical_or = _compare_fn("logical_or")
logical_xor = _compare_fn("logical_xor")


def logical_not(a):
    _check(a)
    return _run("logical_not", (a,), {}, out_dtype=np.bool_)


_UINT8_COND = (
    "where received a uint8 condition tensor. This behavior is deprecated and will be removed "
    "in a future version of PyTorch. Use a boolean condition instead."
)


def where(cond, a, b, name=None):
    """cond ? a : b; a and b tensors or Python numbers, promoted as a binary op's operands.
    Differentiable in a and b (WhereBackward0)."""
    _check(cond)
    if cond._arr.dtype == np.uint8:  # PyTorch still accepts it, with a deprecation warning
        warnings.warn(_UINT8_COND, UserWarning, stacklevel=2)
        cond = _new(cond._arr != 0)
    elif cond._arr.dtype != np.bool_:
        raise RuntimeError(
            "where expected condition to be a boolean tensor, but got a tensor with dtype "
            f"{torch_name(cond._arr)}"
        )
    a, b = _checked(a), _checked(b)
    d = result_type(a, b)
    x = to_dtype(a, d) if isinstance(a, _Base) else scalar_tensor(a, d)
    y = to_dtype(b, d) if isinstance(b, _Base) else scalar_tensor(b, d)
    shape = broadcast_shapes(broadcast_shapes(cond._arr.shape, x._arr.shape), y._arr.shape)
    _refuse_huge(shape, d.np)
    return _run("where", (cond, x, y), {}, out_dtype=d.np, name=name)


def masked_fill(a, mask, value):
    """a.masked_fill(mask, value): where(mask, value, a), named as PyTorch names it."""
    kind = "MaskedFillBackward1" if isinstance(value, _Base) else "MaskedFillBackward0"
    return where(mask, value, a, name=kind)
