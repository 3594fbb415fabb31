"""The reference kernels of `//` and `%` (floor_divide, remainder, remainder_scalar): Python's
rounding toward minus infinity, the remainder with the divisor's sign, as PyTorch's CPU kernels
compute them (floats in the compute dtype: float32 for float16 and float32). Both operands arrive
in the result dtype (the front end promotes them); integer division by zero is refused first."""

import numpy as np

from tapegrad._fma import simd

from .registry import broadcast_shapes, kernel, sum_to

_F16 = np.float16


def _vector_positions(a_shape, b_shape, out_shape, width):
    """Which elements PyTorch's loop computes in vector code: whole pairs of vectors (`width`
    elements) of each row; a row is the whole tensor when both operands have the output's shape,
    else the last dim. The rest of each row runs its scalar code."""
    n = int(np.prod(out_shape, dtype=np.int64))
    same = tuple(a_shape) == tuple(out_shape) == tuple(b_shape)
    row = max(n if same else (out_shape[-1] if out_shape else 1), 1)
    pos = np.arange(n, dtype=np.int64) % row
    return (pos < row - row % width).reshape(out_shape)


def _r16(x):
    return x.astype(_F16).astype(np.float32)


def _floor_div_half(a, b, vector):
    """float16 floor division by a tensor (a, b float32 holding float16 values): in vector code
    every step rounds to float16 (Half arithmetic); in scalar code the steps are float and only
    the Half assignments round."""
    with np.errstate(all="ignore"):
        one = np.float32(1)
        mod = np.fmod(a, b)
        basic16 = _r16(a / b)
        num = np.where(np.isinf(basic16) & ~np.isinf(a), a, _r16(a - mod))
        div_v = _r16(num / b)
        div_s = (a - mod) / b
        step = (mod != 0) & ((b < 0) != (mod < 0))
        div_v = np.where(step, _r16(div_v - one), div_v)
        div_s = np.where(step, div_s - one, div_s)
        fl_v = np.floor(div_v)
        fl_v = np.where(div_v - fl_v > np.float32(0.5), _r16(fl_v + one), fl_v)
        fl_s = _r16(np.floor(div_s))
        fl_s = np.where(div_s - fl_s > np.float32(0.5), _r16(fl_s + one), fl_s)
        zero_v = np.copysign(np.zeros_like(a), basic16)
        zero_s = np.copysign(np.zeros_like(a), a / b)
        fl_v = np.where(div_v == 0, zero_v, fl_v)
        fl_s = np.where(div_s == 0, zero_s, fl_s)
        return np.where(b == 0, basic16, np.where(vector, fl_v, fl_s))


def _floor_div_float(a, b):
    with np.errstate(all="ignore"):
        mod = np.fmod(a, b)
        basic = a / b
        # Where a / b overflows but a is finite, fmod loses a: PyTorch's kernel divides a itself.
        num = np.where(np.isinf(basic) & ~np.isinf(a), a, a - mod)
        div = num / b
        div = np.where((mod != 0) & ((b < 0) != (mod < 0)), div - div.dtype.type(1), div)
        fl = np.floor(div)
        fl = np.where(div - fl > div.dtype.type(0.5), fl + div.dtype.type(1), fl)
        fl = np.where(div == 0, np.copysign(np.zeros_like(div), basic), fl)
        return np.where(b == 0, basic, fl)


def _rem_float(a, b):
    with np.errstate(all="ignore"):
        mod = np.fmod(a, b)
        return np.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)


def _check_int(a, b, name):
    if a.dtype == np.bool_:
        raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")
    if a.dtype.kind in "iu" and np.any(b == 0):
        raise RuntimeError("ZeroDivisionError")


def floor_divide_array(a, b, f16=False, whole=False):
    """a // b, broadcast, one dtype (the compute dtype for floats; f16: float16 storage)."""
    _check_int(a, b, "div_floor_cpu")
    if f16 and not whole:
        shape = broadcast_shapes(a.shape, b.shape)
        vector = _vector_positions(a.shape, b.shape, shape, 32)
        a, b = np.broadcast_arrays(a, b)
        return _floor_div_half(a, b, vector)
    if a.dtype.kind == "f":
        return _floor_div_float(a, b)
    a, b = np.broadcast_arrays(a, b)
    with np.errstate(all="ignore"):
        # C's division would trap on the lowest value // -1; it wraps, as negation does.
        return np.where(b == -1, np.negative(a), np.floor_divide(a, np.where(b == -1, 1, b)))


def remainder_array(a, b, f16=False):
    _check_int(a, b, "remainder_cpu")
    if a.dtype.kind == "f":
        out = _rem_float(a, b)
        if f16 or not simd():
            return out
        # PyTorch's AVX2 fmod (SLEEF's) gives NaN in vector code where |a / b| overflows.
        shape = broadcast_shapes(a.shape, b.shape)
        width = 8 if a.dtype == np.float64 else 16
        vector = _vector_positions(a.shape, b.shape, shape, width)
        with np.errstate(all="ignore"):
            over = (b != 0) & np.isfinite(a) & np.isinf(a / b)
        return np.where(vector & over, np.array(np.nan, a.dtype), out)
    a, b = np.broadcast_arrays(a, b)
    return np.where(b == -1, 0, np.remainder(a, np.where(b == -1, 1, b))).astype(a.dtype)


@kernel("floor_divide")
class FloorDivide:
    """`whole`: float16 floor division's scalar divisor, read unrounded (PyTorch's kernel)."""

    def forward(ctx, a, b, whole=None):
        broadcast_shapes(a.shape, b.shape)
        if whole is not None:
            b = np.asarray(whole, dtype=a.dtype)
        return floor_divide_array(a, b, ctx.f16, whole is not None)

    def backward(ctx, g):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


@kernel("remainder")
class Remainder:
    def forward(ctx, a, b):
        broadcast_shapes(a.shape, b.shape)
        ctx.save(a, b)
        ctx.shapes = a.shape, b.shape
        return remainder_array(a, b, ctx.f16)

    def backward(ctx, g):
        a, b = ctx.saved
        sa, sb = ctx.shapes
        # PyTorch: -grad * floor_divide(a, b), the quotient rounded to the dtype first.
        q = ctx.round(floor_divide_array(a, b, ctx.f16))
        return sum_to(ctx, g, sa), sum_to(ctx, ctx.round(-g * q), sb)


@kernel("remainder_scalar")
class RemainderScalar:
    """a % s for a Python number s (a 0-dim b of a's dtype): RemainderBackward0."""

    def forward(ctx, a, b):
        return remainder_array(a, b, ctx.f16)

    def backward(ctx, g):
        return g, None
