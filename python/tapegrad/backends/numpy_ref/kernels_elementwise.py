"""The element-wise reference kernels: binary ops (broadcasting), tensor-scalar ops, unary ops and
the dtype cast. The table they register in and its rounding contract: registry.py."""

import math

import numpy as np

from tapegrad import _fma
from tapegrad._dtype import BY_CODE
from tapegrad._fma import simd

from . import pmath
from .promote import convert
from .registry import _sign, broadcast_shapes, kernel, sum_to

# ---- binary elementwise ops (NumPy broadcasting; gradients summed back to each input's shape)


@kernel("add")
class Add:
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        broadcast_shapes(a.shape, b.shape)
        return ctx.round(a + b)

    def backward(ctx, g):
        sa, sb = ctx.shapes
        return ctx.round(sum_to(ctx, g, sa)), ctx.round(sum_to(ctx, g, sb))


@kernel("sub")
class Sub:
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        broadcast_shapes(a.shape, b.shape)
        return ctx.round(a - b)

    def backward(ctx, g):
        sa, sb = ctx.shapes
        return ctx.round(sum_to(ctx, g, sa)), ctx.round(sum_to(ctx, -g, sb))


# `whole`: a one-element b's value at its own precision (float16 results only; arith.binary),
# used in place of b's float16 cast wherever PyTorch's kernels see b as a scalar.


@kernel("mul")
class Mul:
    def forward(ctx, a, b, whole=None):
        broadcast_shapes(a.shape, b.shape)
        ctx.save(a, b)
        ctx.whole = whole
        return ctx.round(a * (b if whole is None else whole))

    def backward(ctx, g):
        a, b = ctx.saved
        # each product is rounded to the dtype before a broadcast input sums it, as in PyTorch
        ga, gb = ctx.round(g * (b if ctx.whole is None else ctx.whole)), ctx.round(g * a)
        return ctx.round(sum_to(ctx, ga, a.shape)), ctx.round(sum_to(ctx, gb, b.shape))


@kernel("div")
class Div:
    def forward(ctx, a, b, whole=None):
        broadcast_shapes(a.shape, b.shape)
        ctx.save(a, b)
        ctx.whole = whole
        return ctx.round(a / (b if whole is None else whole))

    def backward(ctx, g):
        a, b = ctx.saved
        r = ctx.round
        d = b if ctx.whole is None else ctx.whole
        ga = sum_to(ctx, r(g / d), a.shape)
        gb = sum_to(ctx, r(-g * r(r(a / d) / d)), b.shape)  # PyTorch's order and roundings
        return ctx.round(ga), ctx.round(gb)


# ---- tensor-scalar ops: attribute `s` (a Python number, used as a scalar of the compute dtype;
# for integer dtypes the backend functions pass it already wrapped into the dtype's range)


@kernel("add_scalar")
class AddScalar:
    def forward(ctx, a, s):
        return ctx.round(a + ctx.scalar(s))

    def backward(ctx, g):
        return (g,)


@kernel("mul_scalar")
class MulScalar:
    def forward(ctx, a, s):
        ctx.s = ctx.scalar(s)
        return ctx.round(a * ctx.s)

    def backward(ctx, g):
        return (ctx.round(g * ctx.s),)


@kernel("div_scalar")
class DivScalar:
    def forward(ctx, a, s):
        ctx.s = ctx.scalar(s)
        return ctx.round(a / ctx.s)

    def backward(ctx, g):
        return (ctx.round(g / ctx.s),)


@kernel("rsub_scalar")
class RsubScalar:
    """s - a"""

    def forward(ctx, a, s):
        return ctx.round(ctx.scalar(s) - a)

    def backward(ctx, g):
        return (-g,)


@kernel("rdiv_scalar")
class RdivScalar:
    """s / a, computed as PyTorch does: reciprocal(a) * s, each rounded."""

    def forward(ctx, a, s):
        ctx.s = ctx.scalar(s)
        ctx.save(a)
        return ctx.round(ctx.round(1 / a) * ctx.s)

    def backward(ctx, g):
        # PyTorch's chain: the product's gradient g * s, then the reciprocal's -g' * (r * r)
        (a,) = ctx.saved
        r = ctx.round(1 / a)
        return (ctx.round(-ctx.round(g * ctx.s) * ctx.round(r * r)),)


def _pow(ctx, a, e):
    """a ** e as PyTorch: 0 and 1 never reach a kernel; float32 takes its special exponents
    apart (exact products, sqrt, reciprocals); the rest is its generic pow (pmath.py)."""
    if e == 0:
        return np.ones_like(a)
    if e == 1:
        return a.copy()
    if a.dtype == np.float32 and not ctx.f16:
        if e == 2:
            return a * a
        if e == 3:
            return a * a * a
        if e == 0.5:
            return np.sqrt(a)
        if e == -0.5:
            return 1 / np.sqrt(a)
        if e == -1:
            return 1 / a
        if e == -2:
            return 1 / (a * a)
    return pmath.pow_scalar(a, e, f16=ctx.f16)


@kernel("pow_scalar")
class PowScalar:
    """a ** s"""

    def forward(ctx, a, s):
        ctx.s = s
        ctx.save(a)
        return ctx.round(_pow(ctx, a, s))

    def backward(ctx, g):
        (a,) = ctx.saved
        if ctx.s == 0:
            return (np.zeros_like(g),)
        p = ctx.round(_pow(ctx, a, ctx.s - 1))
        return (ctx.round(g * ctx.round(ctx.scalar(ctx.s) * p)),)


@kernel("rpow_scalar")
class RpowScalar:
    """s ** a"""

    def forward(ctx, a, s):
        ctx.s = s
        if a.dtype.kind in "iu":
            return int_pow(np.full_like(a, s), a)
        y = ctx.round(pmath.pow_scalar(a, s, reversed_=True, f16=ctx.f16))
        ctx.save(a, y)
        return y

    def backward(ctx, g):
        # grad * y * log(s) from the saved output, log(s) taken in double; 0 where s == 0 and
        # a >= 0 (PyTorch's convention).
        a, y = ctx.saved
        t = ctx.round(y * ctx.scalar(np.log(np.float64(ctx.s))))
        if ctx.s == 0:
            t = np.where(a >= 0, ctx.scalar(0), t)
        return (ctx.round(g * t),)


_LIBM = {np.exp: math.exp, np.log: math.log, np.tanh: math.tanh, np.sin: math.sin, np.cos: math.cos}


def _libm64(fn, a):
    """float64 fn(a) by the C library, as the core computes it (NumPy's own float64 loops may be
    vectorized approximations that differ from it by an ulp)."""
    f = _LIBM[fn]

    def one(v):
        try:
            return f(v)
        except (OverflowError, ValueError):  # Python raises where C returns inf or NaN
            with np.errstate(all="ignore"):
                return float(fn(np.float64(v)))

    return np.asarray(np.frompyfunc(one, 1, 1)(a), dtype=np.float64)


def _math(ctx, fn, a):
    """fn(a): float32's (and float16's) through float64 (pmath.in_double), float64's the C
    library's."""
    return pmath.in_double(fn, a) if a.dtype == np.float32 else _libm64(fn, a)


def int_pow(base, e):
    """PyTorch's integer pow, element-wise on arrays of one integer dtype: exact products that
    wrap (square and multiply); a negative exponent gives 1 for base 1, +-1 for base -1, else 0."""
    n = np.where(e > 0, e, 0).astype(np.int64)
    out, b = np.ones_like(base), base.copy()
    while n.any():
        out = np.where((n & 1) == 1, out * b, out)
        b = b * b
        n >>= 1
    neg = e < 0
    if neg.any():
        odd = (e.astype(np.int64) % 2) == 1
        minus_one = base == -1 if base.dtype.kind == "i" else np.zeros_like(neg)
        sign = np.where(odd, -1, 1).astype(base.dtype)
        special = np.where(minus_one, sign, np.where(base == 1, 1, 0).astype(base.dtype))
        out = np.where(neg, special, out)
    return out


# ---- unary elementwise ops


@kernel("neg")
class Neg:
    def forward(ctx, a):
        return -a

    def backward(ctx, g):
        return (-g,)


@kernel("abs")
class Abs:
    def forward(ctx, a):
        ctx.save(a)
        return np.abs(a)

    def backward(ctx, g):
        (a,) = ctx.saved
        return (ctx.round(g * _sign(a)),)  # abs'(0) = 0


@kernel("exp")
class Exp:
    def forward(ctx, a):
        # float16's is SLEEF's on the SIMD path (pmath.py)
        y = ctx.round(
            pmath.exp16(a) if ctx.f16 and a.dtype == np.float32 else _math(ctx, np.exp, a)
        )
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved
        return (ctx.round(g * y),)


@kernel("log")
class Log:
    def forward(ctx, a):
        ctx.save(a)
        return ctx.round(_math(ctx, np.log, a))

    def backward(ctx, g):
        (a,) = ctx.saved
        return (ctx.round(g / a),)


@kernel("tanh")
class Tanh:
    def forward(ctx, a):
        y = ctx.round(_math(ctx, np.tanh, a))
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved
        if not ctx.f16 and simd():
            # PyTorch's AVX2 build contracts 1 - y * y into one fused multiply-add
            fused = _fma.fma if y.dtype == np.float64 else _fma.fmaf
            return (ctx.round(g * fused(-y, y, ctx.scalar(1))),)
        return (ctx.round(g * (ctx.scalar(1) - y * y)),)


@kernel("relu")
class Relu:
    def forward(ctx, a):
        # PyTorch's: negative values become +0; -0 and NaN stay as they are
        y = np.where(a < 0, ctx.scalar(0), a)
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved
        return (np.where(y <= 0, ctx.scalar(0), g),)  # relu'(0) = 0, as PyTorch's threshold


@kernel("sigmoid")
class Sigmoid:
    def forward(ctx, a):
        y = ctx.round(pmath.sigmoid(a, f16=ctx.f16))
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved
        r = ctx.round  # PyTorch's (g * (1 - y)) * y, float16 rounding after each operation
        return (r(r(g * r(ctx.scalar(1) - y)) * y),)


@kernel("sin")
class Sin:
    def forward(ctx, a):
        ctx.save(a)
        return ctx.round(_math(ctx, np.sin, a))

    def backward(ctx, g):
        (a,) = ctx.saved
        return (ctx.round(g * ctx.round(_math(ctx, np.cos, a))),)  # cos rounded first, as PyTorch


@kernel("cos")
class Cos:
    def forward(ctx, a):
        ctx.save(a)
        return ctx.round(_math(ctx, np.cos, a))

    def backward(ctx, g):
        (a,) = ctx.saved
        return (ctx.round(g * -ctx.round(_math(ctx, np.sin, a))),)  # -sin rounded first, as PyTorch


# ---- dtype conversion (also clone): attribute code, the output dtype's code. Only casts between
# floating dtypes have a gradient (the tape records nothing with a non-floating output).


@kernel("cast")
class Cast:
    """a copy rounded to the output dtype; the gradient is rounded to the input's dtype"""

    def forward(ctx, a, code=0):
        dt = BY_CODE[code].np
        if a.dtype.kind == "f" and dt.kind == "f":
            return ctx.round(a.copy())
        return convert(a, dt)  # PyTorch's conversions to and from integers and bool

    def backward(ctx, g):
        return (ctx.round_in(g),)
