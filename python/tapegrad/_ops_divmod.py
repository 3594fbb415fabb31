"""`//` and `%`: floor_divide and remainder, with PyTorch's promotion, errors and gradients.

The operands are promoted here (a Python number as PyTorch's wrapped scalar) and reach the
backend in one dtype. float16 floor division by a scalar (a number or a 0-dim tensor) reads the
divisor unrounded, as PyTorch's kernel does; its remainder rounds it to float16 first.
"""

import numpy as np

from . import _dtype

_NUMBER = (bool, int, float, np.bool_, np.integer, np.floating)


def _operands(name, a, b, reversed_):
    """(x, y, whole, b_is_number): x (op) y in one dtype; whole: float16's unrounded divisor."""
    from ._functions import result_type
    from .tensor import Tensor, _check_same, tensor

    if isinstance(b, _NUMBER):
        rt = result_type(a, b)
        value = b.item() if isinstance(b, np.generic) else b
        bt = tensor(_wrap(value, rt), dtype=rt, backend=a._be)
        is_number = True
    elif isinstance(b, Tensor):
        _check_same(a, b)
        rt = result_type(a, b)
        bt, value, is_number = b, None, False
    else:
        return None
    if rt is _dtype.bool:
        kernel = "div_floor_cpu" if name == "floor_divide" else "remainder_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    x, y = (bt, a) if reversed_ else (a, bt)
    x, y = x.to(rt), y.to(rt)
    if not rt.is_floating_point and bool((y == 0).any()):
        raise RuntimeError("ZeroDivisionError")
    whole = None
    if name == "floor_divide" and rt is _dtype.float16 and not reversed_ and y.ndim == 0:
        whole = float(value) if is_number else float(b.item())
    return x, y, whole, is_number and not reversed_


def _wrap(value, rt):
    """A Python int as the integer dtype keeps it: wrapped to its width (-1 is 255 for uint8)."""
    if isinstance(value, int) and not isinstance(value, bool) and not rt.is_floating_point:
        bits = rt.itemsize * 8
        value &= (1 << bits) - 1
        if rt.is_signed and value >= 1 << (bits - 1):
            value -= 1 << bits
    return value


def floor_divide(input, other):
    """Elementwise floor(input / other), rounded toward negative infinity: PyTorch's `floor_divide`,
    the `//` operator. `other` is a tensor or a number, with type promotion. It has no gradient:
    backward through it raises, as in PyTorch."""
    from .tensor import Tensor

    if not isinstance(input, Tensor):
        raise TypeError(
            f"floor_divide(): argument 'input' must be Tensor, not {type(input).__name__}"
        )
    ops = _operands("floor_divide", input, other, False)
    if ops is None:
        raise TypeError(
            f"floor_divide(): argument 'other' must be Tensor or Number, not {type(other).__name__}"
        )
    x, y, whole, _ = ops
    return x._be.floor_divide(x, y, whole)


def remainder(input, other):
    """Elementwise Python-style modulus, input - floor(input / other) * other, which takes the sign
    of the divisor: PyTorch's `remainder`, the `%` operator. `other` is a tensor or a number, with
    type promotion. `input` may be a number when `other` is a tensor."""
    from .tensor import Tensor

    if not isinstance(input, Tensor):
        if isinstance(input, _NUMBER) and isinstance(other, Tensor):
            return _remainder(other, input, True)
        raise TypeError(f"remainder(): argument 'input' must be Tensor, not {type(input).__name__}")
    out = _remainder(input, other, False)
    if out is NotImplemented:
        raise TypeError(
            f"remainder(): argument 'other' must be Tensor or Number, not {type(other).__name__}"
        )
    return out


def _floor_divide(a, b, reversed_):
    ops = _operands("floor_divide", a, b, reversed_)
    if ops is None:
        return NotImplemented
    x, y, whole, _ = ops
    return x._be.floor_divide(x, y, whole)


def _remainder(a, b, reversed_):
    ops = _operands("remainder", a, b, reversed_)
    if ops is None:
        return NotImplemented
    x, y, _, by_number = ops
    return x._be.remainder_scalar(x, y) if by_number else x._be.remainder(x, y)


def _in_place(self, result, op):
    if result is NotImplemented:
        return result
    if result.dtype._cat > self.dtype._cat:  # PyTorch's can_cast: never to a lower category
        from .backends.numpy_ref.promote import TORCH_NAME

        raise RuntimeError(
            f"result type {TORCH_NAME[result.dtype.name]} can't be cast to the desired output "
            f"type {TORCH_NAME[self.dtype.name]}"
        )
    return self.copy_(result)


class _DivMod:
    """The Tensor methods and operators of `//` and `%`."""

    __slots__ = ()

    def __floordiv__(self, other):
        return _floor_divide(self, other, False)

    def __rfloordiv__(self, other):
        return _floor_divide(self, other, True)

    def __mod__(self, other):
        return _remainder(self, other, False)

    def __rmod__(self, other):
        return _remainder(self, other, True)

    def __ifloordiv__(self, other):
        return _in_place(self, _floor_divide(self, other, False), "floor_divide_")

    def __imod__(self, other):
        return _in_place(self, _remainder(self, other, False), "remainder_")

    def floor_divide(self, other):
        """Elementwise floor(self / other), rounded toward negative infinity: PyTorch's
        `floor_divide`, the `//` operator. `other` is a tensor or a number, with type promotion. It
        has no gradient: backward through it raises, as in PyTorch."""
        return floor_divide(self, other)

    def remainder(self, other):
        """Elementwise Python-style modulus, self - floor(self / other) * other, which takes the
        sign of the divisor: PyTorch's `remainder`, the `%` operator. `other` is a tensor or a
        number, with type promotion."""
        return remainder(self, other)

    def floor_divide_(self, other):
        """In-place `floor_divide(other)`; returns self."""
        return _in_place(self, floor_divide(self, other), "floor_divide_")

    def remainder_(self, other):
        """In-place `remainder(other)`; returns self."""
        return _in_place(self, remainder(self, other), "remainder_")
