"""PyTorch's elementwise surface beyond the op list's generated methods: clamp/clip and their
one-sided and in-place forms (tensor bounds: _ops_ewise2.py), maximum/minimum, square, and the
in-place `_` forms of the unary math ops. Functions here, and `_EwiseMethods`, a base class of
Tensor for the methods.

In-place forms compute out of place and write the result back (`copy_`): on a tensor that autograd
records, the result's grad_fn is then CopyBackwards rather than PyTorch's in-place node (the
gradients agree; ops whose backward reads their input then refuse, as PyTorch does for a saved
tensor changed in place).
"""

import numpy as np

from ._dtype import TORCH_NAMES

# the unary ops of the op list that PyTorch also has in place
_INPLACE_UNARY = (
    "sqrt rsqrt tan expm1 log2 log10 log1p reciprocal floor ceil round trunc sign "
    "abs sin cos exp log tanh sigmoid neg relu"
)


def _is_number(x):
    return isinstance(x, (bool, int, float, np.bool_, np.integer, np.floating))


def _number(x):
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    return float(x)


def _need_tensor(fn, x, arg="input", pos=1):
    from .tensor import Tensor

    if not isinstance(x, Tensor):
        raise TypeError(
            f"{fn}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}"
        )


def _bound(fn, v, arg):
    """A clamp bound: None or a Python number (tensor bounds: _ops_ewise2.clamp_tensor)."""
    if v is None or _is_number(v):
        return None if v is None else _number(v)
    raise TypeError(f"{fn}(): argument '{arg}' must be Number, not {type(v).__name__}")


def _clamp(t, lo, hi, api, fn):
    from .tensor import Tensor

    if isinstance(lo, Tensor) or isinstance(hi, Tensor):
        from ._ops_ewise2 import clamp_tensor

        return clamp_tensor(t, lo, hi, api, fn)
    lo, hi = _bound(fn, lo, "min"), _bound(fn, hi, "max")
    return t._be.clamp(t, lo, hi, api)


def _source(t):
    """What an in-place method computes from: t itself, or a copy when the tape records it
    (writing t back changes it, and the op may have saved it for its backward, as PyTorch's
    in-place ops keep the original)."""
    from ._grad_mode import is_grad_enabled

    return t.clone() if t.requires_grad and is_grad_enabled() else t


def _write_back(t, out):
    """t.copy_(out) for the in-place forms, with PyTorch's error when out's dtype is of a higher
    category (its can_cast: float to integer, integer to bool; a tensor bound can widen a float
    result, which is then cast back)."""
    if out.dtype._cat > t.dtype._cat:
        raise RuntimeError(
            f"result type {TORCH_NAMES[out.dtype.name]} can't be cast to the desired output "
            f"type {TORCH_NAMES[t.dtype.name]}"
        )
    return t.copy_(out)


def _other_tensor(fn, t, other, pos):
    from .tensor import _check_same

    _need_tensor(fn, other, "other", pos)
    _check_same(t, other)
    return other


class _EwiseMethods:
    __slots__ = ()

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's names
        """Clamp every element into [min, max]. `min` and `max` are numbers or tensors (broadcast);
        one of them may be None. Where min > max the result is max, as in PyTorch. The gradient
        flows where the input lies within the bounds."""
        return _clamp(self, min, max, 0, "clamp")

    def clip(self, min=None, max=None):  # noqa: A002
        """An alias of `clamp`."""
        return _clamp(self, min, max, 0, "clip")

    def clamp_min(self, min):  # noqa: A002
        """Clamp from below: elementwise max(self, min); `min` a number or a tensor."""
        return _clamp(self, min, None, 1, "clamp_min")

    def clamp_max(self, max):  # noqa: A002
        """Clamp from above: elementwise min(self, max); `max` a number or a tensor."""
        return _clamp(self, None, max, 2, "clamp_max")

    def clamp_(self, min=None, max=None):  # noqa: A002
        """In-place `clamp(min, max)`; returns self."""
        return _write_back(self, _source(self).clamp(min, max))

    def clip_(self, min=None, max=None):  # noqa: A002
        """An alias of `clamp_`."""
        return _write_back(self, _source(self).clip(min, max))

    def clamp_min_(self, min):  # noqa: A002
        """In-place `clamp_min(min)`; returns self."""
        return _write_back(self, _source(self).clamp_min(min))

    def clamp_max_(self, max):  # noqa: A002
        """In-place `clamp_max(max)`; returns self."""
        return _write_back(self, _source(self).clamp_max(max))

    def maximum(self, other):
        """Elementwise maximum of self and the tensor `other` (broadcast, type-promoted); a NaN in
        either gives NaN."""
        return self._be.maximum(self, _other_tensor("maximum", self, other, 1))

    def minimum(self, other):
        """Elementwise minimum of self and the tensor `other` (broadcast, type-promoted); a NaN in
        either gives NaN."""
        return self._be.minimum(self, _other_tensor("minimum", self, other, 1))

    def pow_(self, exponent):
        """In-place `pow(exponent)`; returns self."""
        return _write_back(self, _source(self).pow(exponent))

    def square_(self):
        """In-place `square()`; returns self."""
        return _write_back(self, _source(self).square())


def _inplace_unary(name):
    def method(self):
        return _write_back(self, getattr(_source(self), name)())

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place {name} (PyTorch's Tensor.{name}_); see the module's note."
    return method


for _name in _INPLACE_UNARY.split():
    setattr(_EwiseMethods, _name + "_", _inplace_unary(_name))
del _name


# ---------------------------------------------------------------- functions


def clamp(input, min=None, max=None):  # noqa: A002
    """Clamp every element into [min, max]. `min` and `max` are numbers or tensors (broadcast); one
    of them may be None. Where min > max the result is max, as in PyTorch. The gradient flows where
    the input lies within the bounds."""
    _need_tensor("clamp", input)
    return input.clamp(min, max)


def clip(input, min=None, max=None):  # noqa: A002
    """An alias of `clamp`."""
    _need_tensor("clip", input)
    return input.clip(min, max)


def clamp_min(input, min):  # noqa: A002
    """Clamp from below: elementwise max(input, min); `min` a number or a tensor."""
    _need_tensor("clamp_min", input)
    return input.clamp_min(min)


def clamp_max(input, max):  # noqa: A002
    """Clamp from above: elementwise min(input, max); `max` a number or a tensor."""
    _need_tensor("clamp_max", input)
    return input.clamp_max(max)


def maximum(input, other):
    """Elementwise maximum of two tensors (broadcast, type-promoted); a NaN in either gives NaN."""
    _need_tensor("maximum", input)
    return input._be.maximum(input, _other_tensor("maximum", input, other, 2))


def minimum(input, other):
    """Elementwise minimum of two tensors (broadcast, type-promoted); a NaN in either gives NaN."""
    _need_tensor("minimum", input)
    return input._be.minimum(input, _other_tensor("minimum", input, other, 2))


def square(input):
    """Elementwise input ** 2; integer tensors stay integers."""
    _need_tensor("square", input)
    return input.square()
