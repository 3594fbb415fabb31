"""The reference kernels of the ewise ops: sqrt, rsqrt, tan, expm1, log2, log10, log1p,
reciprocal and the steps (floor, ceil, round, trunc, sign). Their rounding contract: registry.py;
their formulas: the C++ core's csrc/kernels/unary_math.h and csrc/ops/unary.cpp."""

import numpy as np

from . import pmath
from .kernels_elementwise import _pow
from .registry import kernel

_F, _D = np.float32, np.float64


def _libm_each(name, a):
    """The C library's `name` (float64) or `name + 'f'` (float32) element by element: PyTorch's
    scalar code calls expm1f and log1pf, which NumPy's float32 loops do not reproduce."""
    fn = pmath._libm(name + ("f" if a.dtype == _F else ""))
    flat = [fn(v) for v in a.ravel().tolist()]
    return np.array(flat, a.dtype).reshape(a.shape)


def _double(fn, a):
    """fn in float64, rounded once to float32 (float64 inputs: the C library's through math)."""
    if a.dtype == _F:
        return pmath.in_double(fn, a)
    return _libm_each(fn.__name__, a) if fn.__name__ in ("tan", "log2", "log10") else fn(a)


@kernel("sqrt")
class Sqrt:
    def forward(ctx, a):
        y = ctx.round(np.sqrt(a))
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved  # grad / (2 * y)
        return (ctx.round(g / ctx.round(y * ctx.scalar(2))),)


def _rsqrt16(flat):
    """float16 rsqrt (float32 math) as PyTorch's loop: its vector code rounds 1 / sqrt(x) once,
    its scalar tail rounds sqrt(x) to float16 first."""
    m = pmath.vector_end(flat.size, np.float16)
    s = np.sqrt(flat)
    s[m:] = s[m:].astype(np.float16).astype(_F)
    return _F(1) / s


@kernel("rsqrt")
class Rsqrt:
    def forward(ctx, a):
        if ctx.f16:
            y = ctx.round(
                pmath.in_memory_order(a, lambda v: _rsqrt16(v.reshape(-1)).reshape(v.shape))
            )
        else:
            y = ctx.round(ctx.scalar(1) / np.sqrt(a))
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved  # (-0.5 * grad) * y.pow(3)
        cube = ctx.round(_pow(ctx, y, 3))
        return (ctx.round(ctx.round(g * ctx.scalar(-0.5)) * cube),)


@kernel("tan")
class Tan:
    def forward(ctx, a):
        y = ctx.round(_double(np.tan, a))
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved  # grad * (1 + y.pow(2))
        sq = ctx.round(_pow(ctx, y, 2))
        return (ctx.round(g * ctx.round(ctx.scalar(1) + sq)),)


@kernel("expm1")
class Expm1:
    def forward(ctx, a):
        y = ctx.round(_libm_each("expm1", a))
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved  # grad * (y + 1)
        return (ctx.round(g * ctx.round(y + ctx.scalar(1))),)


def _log_base(name, fn, ln_base):
    @kernel(name)
    class LogBase:
        def forward(ctx, a):
            ctx.save(a)
            return ctx.round(_double(fn, a))

        def backward(ctx, g):
            (a,) = ctx.saved  # grad / (x * ln(base))
            return (ctx.round(g / ctx.round(a * ctx.scalar(ln_base))),)

    return LogBase


Log2 = _log_base("log2", np.log2, 0.6931471805599453)
Log10 = _log_base("log10", np.log10, 2.3025850929940456)


@kernel("log1p")
class Log1p:
    def forward(ctx, a):
        ctx.save(a)
        return ctx.round(_libm_each("log1p", a))

    def backward(ctx, g):
        (a,) = ctx.saved  # grad / (x + 1)
        return (ctx.round(g / ctx.round(a + ctx.scalar(1))),)


@kernel("reciprocal")
class Reciprocal:
    def forward(ctx, a):
        y = ctx.round(ctx.scalar(1) / a)
        ctx.save(y)
        return y

    def backward(ctx, g):
        (y,) = ctx.saved  # -grad * (y * y)
        return (ctx.round(-g * ctx.round(y * y)),)


def _sign(a):
    """PyTorch's sign: +0 for either zero and for NaN (NumPy's keeps NaN)."""
    one = np.ones((), a.dtype)
    return ((a > 0) * one - (a < 0) * one).astype(a.dtype)


def _step(name, fn):
    @kernel(name)
    class Step:
        def forward(ctx, a):
            return fn(a)

        def backward(ctx, g):
            return (np.zeros_like(g),)  # zero almost everywhere, as PyTorch's zeros_like(grad)

    return Step


Floor = _step("floor", np.floor)
Ceil = _step("ceil", np.ceil)
Round = _step("round", np.rint)  # halves to even
Trunc = _step("trunc", np.trunc)
Sign = _step("sign", _sign)
