"""The reference kernels of clamp, maximum/minimum, pow with a tensor exponent and the
activations (leaky_relu, elu, gelu, silu, softplus, hardtanh): the formulas of PyTorch's scalar
CPU code, as the C++ core's csrc/ops/ewise.cpp and csrc/ops/activation.cpp. float32 and float16
compute in float32 with the C library's float functions (float16 rounds once at the end);
float64 in float64."""

import ctypes
import ctypes.util
import math

import numpy as np

from tapegrad import _fma
from tapegrad._fma import simd

from . import pmath, sleef
from .registry import kernel, sum_to

_F, _D = np.float32, np.float64
_FNS = {}


def _cfn(name, single):
    """The C library's `name` (float's `name`f when single) through ctypes."""
    key = (name, single)
    if key not in _FNS:
        lib = ctypes.CDLL(ctypes.util.find_library("m"))
        t = ctypes.c_float if single else ctypes.c_double
        fn = getattr(lib, name + ("f" if single else ""))
        fn.restype = t
        fn.argtypes = [t] * (2 if name == "pow" else 1)
        _FNS[key] = fn
    return _FNS[key]


def _libm(name, *args):
    """The C library's `name` element by element (float's for float32 arrays): NumPy's float32
    loops round differently."""
    dt = np.asarray(args[0]).dtype
    fn = _cfn(name, dt == _F)
    arrs = np.broadcast_arrays(*[np.asarray(a, dt) for a in args])
    flat = [a.ravel().tolist() for a in arrs]
    out = np.array([fn(*v) for v in zip(*flat)], dt)
    return out.reshape(arrs[0].shape)


def _bound(ctx, a, v):
    """A number bound in the dtype the kernel compares in (float16's rounded to float16)."""
    if a.dtype.kind in "iub":
        return np.array(v).astype(a.dtype)[()]
    if ctx.f16:
        return _F(np.float16(v))
    return a.dtype.type(v)


def _clamp(ctx, a, lo, hi):
    if lo is not None and hi is not None and (math.isnan(lo) or math.isnan(hi)):
        return np.full(a.shape, np.nan, a.dtype)
    v = a
    if lo is not None:
        b = _bound(ctx, a, lo)
        v = np.where(v < b, b, v)
    if hi is not None:
        b = _bound(ctx, a, hi)
        v = np.where(b < v, b, v)
    return np.asarray(v, a.dtype)


def _clamp_name(shapes, attrs):
    return ("ClampBackward1", "ClampMinBackward0", "ClampMaxBackward0")[attrs.get("api", 0)]


@kernel("clamp", grad_fn=_clamp_name)
class Clamp:
    def forward(ctx, a, lo=None, hi=None, api=0):
        ctx.lo, ctx.hi = lo, hi
        ctx.save(a)
        return _clamp(ctx, a, lo, hi)

    def backward(ctx, g):
        (a,) = ctx.saved
        ok = np.ones(a.shape, bool)
        if ctx.lo is not None:
            ok &= a >= _bound(ctx, a, ctx.lo)
        if ctx.hi is not None:
            ok &= a <= _bound(ctx, a, ctx.hi)
        return (np.where(ok, g, g.dtype.type(0)),)


@kernel("hardtanh")
class Hardtanh:
    def forward(ctx, a, lo=-1.0, hi=1.0):
        ctx.lo, ctx.hi = lo, hi
        ctx.save(a)
        return _clamp(ctx, a, lo, hi)

    def backward(ctx, g):
        (a,) = ctx.saved
        inside = (a > _bound(ctx, a, ctx.lo)) & (a < _bound(ctx, a, ctx.hi))  # NaN: 0
        return (np.where(inside, g, g.dtype.type(0)),)


def _extreme(mx, x, y):
    """PyTorch's NaN-propagating maximum/minimum; a tie gives y (its vector code's choice)."""
    better = (x > y) if mx else (x < y)
    r = np.where(better, x, y)
    if r.dtype.kind == "f":
        r = np.where(np.isnan(x), x, np.where(np.isnan(y), y, r))
    return r


def _minmax(name, mx):
    @kernel(name)
    class MinMax:
        def forward(ctx, a, b):
            ctx.save(a, b)
            return np.asarray(_extreme(mx, a, b), np.result_type(a, b))

        def backward(ctx, g):
            x, y = ctx.saved
            half = ctx.round(g / ctx.scalar(2))
            tie = x == y
            x_loses, y_loses = ((x < y), (x > y)) if mx else ((x > y), (x < y))
            zero = g.dtype.type(0)
            gx = np.where(tie, half, np.where(x_loses, zero, g))
            gy = np.where(tie, half, np.where(y_loses, zero, g))
            return ctx.round(sum_to(ctx, gx, x.shape)), ctx.round(sum_to(ctx, gy, y.shape))

    return MinMax


Maximum = _minmax("maximum", True)
Minimum = _minmax("minimum", False)


def int_pow_broadcast(b, e):
    from .kernels_elementwise import int_pow

    b, e = np.broadcast_arrays(b, e)
    return int_pow(b.copy(), e.copy())


def _pow_values(ctx, x, e):
    """x ** e as PyTorch's loop: float32 math of one shape (or a one-element operand) through
    its vector code (SLEEF's powf) and scalar tail (powf); a real broadcast, float64 and the
    integers element by element."""
    if x.dtype.kind in "iu":
        return int_pow_broadcast(x, e)
    if x.dtype.kind == "b":
        return np.logical_or(x, np.logical_not(e))
    if x.dtype == _F and (x.shape == e.shape or x.size == 1 or e.size == 1):
        x, e = np.broadcast_arrays(x, e)
        return _split2(ctx, x, e, sleef.powf, lambda u, v: _libm("pow", u, v))
    return _libm("pow", x, e)


@kernel("pow")
class Pow:
    def forward(ctx, x, e):
        ctx.save(x, e)
        return ctx.round(_pow_values(ctx, x, e))

    def backward(ctx, g):
        x, e = ctx.saved
        r = ctx.round
        zero = g.dtype.type(0)
        p = r(_pow_values(ctx, x, r(e - ctx.scalar(1))))
        gx = np.where(e == 0, zero, r(g * r(e * p)))
        from .kernels_elementwise import _math

        t = r(r(_pow_values(ctx, x, e)) * r(_math(ctx, np.log, x)))
        t = np.where((x == 0) & (e >= 0), zero, t)
        ge = r(g * t)
        return r(sum_to(ctx, gx, x.shape)), r(sum_to(ctx, ge, e.shape))


@kernel("leaky_relu")
class LeakyRelu:
    def forward(ctx, a, slope=0.01):
        ctx.slope = ctx.scalar(slope)
        ctx.save(a)
        return ctx.round(np.where(a > 0, a, a * ctx.slope))

    def backward(ctx, g):
        (a,) = ctx.saved
        return (ctx.round(np.where(a > 0, g, g * ctx.slope)),)


@kernel("elu")
class Elu:
    def forward(ctx, a, alpha=1.0):
        ctx.alpha = ctx.scalar(alpha)
        ctx.save(a)
        return ctx.round(np.where(a < 0, _libm("expm1", a) * ctx.alpha, a))

    def backward(ctx, g):
        (a,) = ctx.saved
        one = ctx.scalar(1)
        neg = g * one * ctx.alpha * _libm("exp", a)
        return (ctx.round(np.where(a > 0, g, neg)),)  # a NaN input: the negative branch


_SQRT_HALF = 0.70710678118654752440
_PDF_SCALE = 1.12837916709551257390 * 0.70710678118654752440 * 0.5
_TANH_BETA = 1.41421356237309504880 * 1.12837916709551257390 * 0.5
_KAPPA = 0.044715


@kernel("gelu")
class Gelu:
    """approximate: 0 'none' (erf), 1 'tanh'."""

    def forward(ctx, a, approximate=0):
        ctx.approximate = approximate
        ctx.save(a)
        c = ctx.scalar
        if approximate:
            inner = c(_TANH_BETA) * (a + c(_KAPPA) * (a * a * a))
            return ctx.round(c(0.5) * a * (c(1) + _libm("tanh", inner)))
        return ctx.round(a * c(0.5) * (c(1) + _libm("erf", a * c(_SQRT_HALF))))

    def backward(ctx, g):
        (x,) = ctx.saved
        c = ctx.scalar
        if ctx.approximate:
            sq = x * x
            inner = c(_TANH_BETA) * (x + c(_KAPPA) * (sq * x))
            th = _libm("tanh", inner)
            left, right = c(0.5) * x, c(1) + th
            inner_d = c(_TANH_BETA) * (c(1) + c(3) * c(_KAPPA) * sq)
            return (ctx.round(g * (c(0.5) * right + left * (c(1) - th * th) * inner_d)),)
        cdf = c(0.5) * (c(1) + _libm("erf", x * c(_SQRT_HALF)))
        pdf = c(_PDF_SCALE) * _libm("exp", x * x * c(-0.5))
        return (ctx.round(g * (cdf + x * pdf)),)


def _vector_end(ctx, n):
    """Where PyTorch's vector code stops in float32 (float16: ctx.f16) math on the SIMD path."""
    return pmath.vector_end(n, np.float16 if ctx.f16 else _F)


def _split2(ctx, a, b, vec, tail):
    """vec on the leading elements PyTorch's vector code takes (a and b flattened in C order,
    one shape; float32 math only), tail on the rest."""
    fa, fb = np.ascontiguousarray(a).reshape(-1), np.ascontiguousarray(b).reshape(-1)
    m = _vector_end(ctx, fa.size) if fa.dtype == _F else 0
    out = np.empty_like(fa)
    out[:m] = vec(fa[:m], fb[:m])
    out[m:] = tail(fa[m:], fb[m:])
    return out.reshape(a.shape)


def _silu(exp, x):
    return x / (x.dtype.type(1) + exp(-x))


def _silu_grad(exp, g, x):
    """PyTorch's AVX2 build contracts 1 + x * (1 - s) into a fused multiply-add (float32 math;
    its vector and scalar code alike), its portable build does not."""
    one = x.dtype.type(1)
    s = one / (one + exp(-x))
    if x.dtype == _F and simd():
        return g * s * _fma.fmaf(x, one - s, one)
    return g * s * (one + x * (one - s))


def _libm_exp(x):
    return _libm("exp", x)


@kernel("silu")
class Silu:
    """float32 math: SLEEF's exp where PyTorch's vector code runs (a permuted input walked in
    memory order), the C library's on the tail."""

    def forward(ctx, a):
        ctx.save(a)

        def flat(v):
            return _split2(
                ctx, v, v, lambda u, _: _silu(sleef.expf, u), lambda u, _: _silu(_libm_exp, u)
            )

        return ctx.round(pmath.in_memory_order(a, flat) if a.dtype == _F else _silu(_libm_exp, a))

    def backward(ctx, g):
        (x,) = ctx.saved
        vec = lambda gv, xv: _silu_grad(sleef.expf, gv, xv)  # noqa: E731
        tail = lambda gv, xv: _silu_grad(_libm_exp, gv, xv)  # noqa: E731
        return (ctx.round(_split2(ctx, g, x, vec, tail)),)


@kernel("softplus")
class Softplus:
    def forward(ctx, a, beta=1.0, threshold=20.0):
        ctx.beta, ctx.threshold = ctx.scalar(beta), ctx.scalar(threshold)
        ctx.save(a)
        ab = a * ctx.beta
        soft = _libm("log1p", _libm("exp", ab)) / ctx.beta
        return ctx.round(np.where(ab > ctx.threshold, a, soft))

    def backward(ctx, g):
        (x,) = ctx.saved
        xb = x * ctx.beta
        z = _libm("exp", xb)
        return (ctx.round(np.where(xb > ctx.threshold, g, g * z / (z + ctx.scalar(1)))),)
