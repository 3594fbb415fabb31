"""Tensor's comparisons, logic, masks and dtype casts, as a base class of Tensor (tensor.py).

Comparisons give bool tensors (PyTorch's); `where`, `masked_fill` and indexing with masks build
on them. Each backend computes `eq ... logical_xor` in the promoted dtype of its operands.
"""

import numpy as np

from . import _dtype
from ._dtype import to_dtype

_COMPARE = ("eq", "ne", "lt", "le", "gt", "ge")


def _other(t, o, fn):
    """A comparison's other operand: a Tensor of t's backend or a Python number."""
    from .tensor import Tensor, _check_same, tensor

    if isinstance(o, Tensor):
        _check_same(t, o)
        return o
    if isinstance(o, (bool, int, float, np.bool_, np.integer, np.floating)):
        return o
    if isinstance(o, (list, tuple, np.ndarray)):
        return tensor(o, backend=t._be)
    raise TypeError(
        f"{fn}(): argument 'other' (position 1) must be Tensor or Number, not {type(o).__name__}"
    )


def _tensor_only(t, o, fn, position=1):
    """logical_and/or/xor take a Tensor only: PyTorch refuses a number there (`&` takes one)."""
    from .tensor import Tensor, _check_same

    if not isinstance(o, Tensor):
        kind = type(o).__name__
        if isinstance(o, np.ndarray):
            kind = "numpy.ndarray"
        raise TypeError(
            f"{fn}(): argument 'other' (position {position}) must be Tensor, not {kind}"
        )
    _check_same(t, o)
    return o


def _compare(name):
    def method(self, other):
        return getattr(self._be, name)(self, _other(self, other, name))

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"Elementwise {name}, a bool tensor (PyTorch's Tensor.{name})."
    return method


def _dunder(name):
    def method(self, other):
        if other is None or isinstance(other, (list, tuple)):
            # PyTorch's operators take no None or list: Python falls back to identity
            return NotImplemented
        try:
            other = _other(self, other, name)
        except TypeError:
            return NotImplemented
        return getattr(self._be, name)(self, other)

    method.__name__ = method.__qualname__ = f"__{name}__"
    return method


def _cast(dt, name):
    def method(self, memory_format=None):
        return self.to(dt)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"This tensor as {dt} (itself when it already is)."
    return method


_TYPE_NAMES = {
    "float32": "torch.FloatTensor",
    "float16": "torch.HalfTensor",
    "float64": "torch.DoubleTensor",
    "int64": "torch.LongTensor",
    "int32": "torch.IntTensor",
    "int16": "torch.ShortTensor",
    "int8": "torch.CharTensor",
    "uint8": "torch.ByteTensor",
    "bool": "torch.BoolTensor",
}
_BY_TYPE_NAME = {v: k for k, v in _TYPE_NAMES.items()}


class _Logic:
    """The comparison, logic and cast methods of `tapegrad.Tensor`; never instantiated alone."""

    __slots__ = ()

    for _n in _COMPARE:
        locals()[_n] = _compare(_n)
        locals()[f"__{_n}__"] = _dunder(_n)
    del _n
    greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne  # noqa: F821
    __hash__ = object.__hash__  # by identity, as PyTorch's

    def logical_and(self, other):
        """Elementwise logical AND of the truth values (nonzero is True) of self and the tensor
        `other` (broadcast); a bool tensor."""
        return self._be.logical_and(self, _tensor_only(self, other, "logical_and"))

    def logical_or(self, other):
        """Elementwise logical OR of the truth values (nonzero is True) of self and the tensor
        `other` (broadcast); a bool tensor."""
        return self._be.logical_or(self, _tensor_only(self, other, "logical_or"))

    def logical_xor(self, other):
        """Elementwise logical XOR of the truth values (nonzero is True) of self and the tensor
        `other` (broadcast); a bool tensor."""
        return self._be.logical_xor(self, _tensor_only(self, other, "logical_xor"))

    def logical_not(self):
        """Elementwise logical NOT (zero becomes True); a bool tensor."""
        return self._be.logical_not(self)

    def _bitwise(self, other, name, logical):
        """`&`, `|`, `^` of masks: a bool tensor with a bool tensor or a Python bool."""
        # PyTorch's `mask & 1` is bitwise on integers (an int64 result): refused, not guessed
        other_ok = (
            isinstance(other, (bool, np.bool_)) or getattr(other, "dtype", None) is _dtype.bool
        )
        if self.dtype is not _dtype.bool or not other_ok:
            raise NotImplementedError(
                f"tapegrad: `{name}` is implemented for bool tensors only (bitwise integer "
                "ops are not supported yet)"
            )
        if not hasattr(other, "dtype") or isinstance(other, np.bool_):
            from .tensor import tensor

            other = tensor(bool(other), backend=self._be)
        return logical(self, other)

    def __and__(self, other):
        return self._bitwise(other, "&", _Logic.logical_and)

    def __or__(self, other):
        return self._bitwise(other, "|", _Logic.logical_or)

    def __xor__(self, other):
        return self._bitwise(other, "^", _Logic.logical_xor)

    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__

    def __invert__(self):
        if self.dtype is _dtype.bool:
            return self._be.logical_not(self)
        if not self.dtype.is_floating_point:
            return -self - 1  # two's complement: ~x == -x - 1, wrapping as PyTorch's
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
        )

    def where(self, condition, other):
        """self where `condition` holds, else `other`: `tapegrad.where(condition, self, other)`."""
        from ._functions import where

        return where(condition, self, other)

    def masked_fill(self, mask, value):
        """`value` where `mask` is True, else this tensor's values (differentiable in both)."""
        if not hasattr(mask, "_be") or mask.dtype is not _dtype.bool:
            name = _torch_name(mask.dtype) if hasattr(mask, "dtype") else type(mask).__name__
            raise RuntimeError(
                "masked_fill_ only supports boolean masks, but got mask with dtype " + name
            )
        if hasattr(value, "_be"):
            if value.ndim != 0:
                raise RuntimeError(
                    "masked_fill_ only supports a 0-dimensional value tensor, but got tensor "
                    f"with {value.ndim} dimension(s)."
                )
        elif not self.dtype.is_floating_point and isinstance(value, float):
            value = self._as_own_dtype(value)  # PyTorch converts the value to the dtype first
        out = self._be.masked_fill(self, mask, value)
        return out if out.dtype is self.dtype else out.to(self.dtype)

    def masked_fill_(self, mask, value):
        """Write `value` in place where the bool `mask` (broadcast to self's shape) is True; returns
        self."""
        self.copy_(self.masked_fill(mask, value).expand(*self.shape))
        return self

    def _as_own_dtype(self, value):
        from .tensor import tensor

        return tensor(value, dtype=self.dtype, backend=self._be).item()

    def nonzero(self, as_tuple=False):
        """The indices of the nonzero elements: an int64 tensor of shape (count, ndim), or with
        `as_tuple=True` one 1-D index tensor per dim (usable as `self[...]`)."""
        from .tensor import tensor

        idx = np.argwhere(self._be.to_numpy(self))
        if as_tuple:
            if self.ndim == 0:
                return (tensor(np.zeros(int(bool(self.item())), np.int64), backend=self._be),)
            return tuple(tensor(idx[:, d].copy(), backend=self._be) for d in range(self.ndim))
        return tensor(idx.astype(np.int64), backend=self._be)

    def any(self, dim=None, keepdim=False):
        """Whether any element is nonzero: over the whole tensor, or along `dim` (keepdim as for
        sum)."""
        return _reduce_bool(self, dim, keepdim, "any")

    def all(self, dim=None, keepdim=False):
        """Whether every element is nonzero: over the whole tensor, or along `dim` (keepdim as for
        sum)."""
        return _reduce_bool(self, dim, keepdim, "all")

    def isnan(self):
        """Elementwise: NaN (a bool tensor)."""
        return self != self

    def isinf(self):
        """Elementwise: +inf or -inf (a bool tensor)."""
        if not self.dtype.is_floating_point:
            return self._be.ne(self, self)  # all False
        return self.abs() == float("inf")

    def isfinite(self):
        """Elementwise: neither infinite nor NaN (a bool tensor; all True for integers)."""
        if not self.dtype.is_floating_point:
            return self._be.eq(self, self)  # all True
        return (self == self).logical_and(self.abs() != float("inf"))

    def equal(self, other):
        """True when both have the same size and elements (PyTorch's torch.equal)."""
        if tuple(self.shape) != tuple(other.shape):
            return False
        return bool((self == other).all())

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """Elementwise |self - other| <= atol + rtol * |other|, a bool tensor; both tensors must
        have one dtype. NaNs count as close only with `equal_nan=True`."""
        if self.dtype is not other.dtype:
            raise RuntimeError(
                f"{_torch_name(self.dtype)} did not match {_torch_name(other.dtype)}"
            )
        a = self.detach().to(_dtype.float64)
        b = other.detach().to(_dtype.float64)
        close = (a - b).abs() <= atol + rtol * b.abs()
        close = close.logical_or(a == b)
        if equal_nan:
            close = close.logical_or(a.isnan().logical_and(b.isnan()))
        return close

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        """True (a Python bool) if `isclose(other, rtol, atol, equal_nan)` holds everywhere."""
        return bool(self.isclose(other, rtol, atol, equal_nan).all())

    # ---- dtype casts
    long = _cast(_dtype.int64, "long")
    int = _cast(_dtype.int32, "int")
    short = _cast(_dtype.int16, "short")
    char = _cast(_dtype.int8, "char")
    byte = _cast(_dtype.uint8, "byte")
    bool = _cast(_dtype.bool, "bool")
    double = _cast(_dtype.float64, "double")

    def type(self, dtype=None, non_blocking=False, **kwargs):
        """Without a dtype: PyTorch's type name ('torch.FloatTensor'); else `.to(dtype)`."""
        if dtype is None:
            return _TYPE_NAMES[self.dtype.name]
        if isinstance(dtype, str) and dtype in _BY_TYPE_NAME:
            dtype = _BY_TYPE_NAME[dtype]
        elif isinstance(dtype, str) and dtype.startswith("torch.cuda."):
            raise RuntimeError(
                "Cannot initialize CUDA without ATen_cuda library (tapegrad runs on the CPU only)"
            )
        elif isinstance(dtype, str):
            raise ValueError(f"invalid type: '{dtype}'")
        elif isinstance(dtype, type) and hasattr(dtype, "_dtype"):  # FloatTensor, LongTensor, ...
            dtype = dtype._dtype
        return self.to(to_dtype(dtype))

    def is_floating_point(self):
        """True if the dtype is a floating point one."""
        return self.dtype.is_floating_point

    def element_size(self):
        """The size of one element in bytes."""
        return self.dtype.itemsize


def _torch_name(dt):
    return _dtype.TORCH_NAMES[dt.name]


def _reduce_bool(t, dim, keepdim, how):
    nz = t._be.ne(t, 0)  # bool; PyTorch's any/all give bool (uint8 for uint8 input)
    if dim is None:
        n = nz.sum()
        hit = n > 0 if how == "any" else n == t.numel()
        return hit if t.dtype is not _dtype.uint8 else hit.to(_dtype.uint8)
    from ._tensor_args import _norm_dim

    d = _norm_dim(dim, t.ndim)
    n = nz.sum(d, keepdim)
    out = n > 0 if how == "any" else n == (t.shape[d] if t.ndim else 1)
    return out if t.dtype is not _dtype.uint8 else out.to(_dtype.uint8)
