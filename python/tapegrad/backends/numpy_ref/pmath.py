"""sigmoid, float16's exp, x ** s and s ** x as PyTorch's CPU loops compute them: which elements
get the vector code and which the scalar code, and what each computes (the C++ core's
csrc/kernels/vec.cpp, csrc/ops/scalar.cpp and csrc/ops/typed.cpp).

PyTorch's elementwise loop gives its vector code whole pairs of vectors (`PAIR` elements) and its
scalar code the rest (the tail). On the SIMD path (PyTorch's AVX2 kernels) the vector code is
SLEEF's (sleef.py) and the scalar code the C library's; on the portable path (PyTorch's `default`
build, `TAPEGRAD_NO_SIMD=1`) the vector code calls the C library lane by lane too. float16 widens
to float32, computes there and is rounded by the caller. A permuted input (a transpose) is walked
in memory order, so the tail is the last elements in memory, not the last in row-major order.

The C library is reached through the core's plain loop over it (or ctypes without the core):
NumPy's own exp and pow round differently. Whole-array work is NumPy's; only the tails (and the
portable path) go element by element. The split ignores PyTorch's intra-op threads (the parity
lane and the goldens run single-threaded).
"""

import ctypes
import ctypes.util

import numpy as np

from tapegrad._fma import simd

from . import sleef

_F, _D = np.float32, np.float64
PAIR = {np.dtype(_F): 16, np.dtype(np.float16): 32, np.dtype(_D): 8}

# ------------------------------------------------------------------ the C library

_LIBM = {}


def _libm(name):
    if name not in _LIBM:
        lib = ctypes.CDLL(ctypes.util.find_library("m"))
        t = ctypes.c_float if name.endswith("f") else ctypes.c_double
        fn = getattr(lib, name)
        fn.restype = t
        fn.argtypes = [t] * (2 if name.startswith("pow") else 1)
        _LIBM[name] = fn
    return _LIBM[name]


def _each(name, dtype, *args):
    """The C library's `name` (exp, expf, pow, powf) element by element, arrays and Python scalars
    broadcast: through the core's loop where it is built (fast), else ctypes."""
    arrs = np.broadcast_arrays(*[np.asarray(a, dtype) for a in args])
    core = _core_libm(dtype)
    if core is not None:
        x = np.ascontiguousarray(arrs[0]).reshape(-1)
        y = np.ascontiguousarray(arrs[1]).reshape(-1) if len(arrs) > 1 else x[:0]
        return core(name.rstrip("f"), x, y).reshape(arrs[0].shape)
    fn = _libm(name)
    flat = [a.ravel().tolist() for a in arrs]
    return np.array([fn(*v) for v in zip(*flat)], dtype).reshape(arrs[0].shape)


def _core_libm(dtype):
    try:
        from tapegrad import _core
    except ImportError:
        return None
    return getattr(_core, "libm_f32" if np.dtype(dtype) == _F else "libm_f64", None)


# ------------------------------------------------------------------ the loop


def vector_end(n, dtype, used=True):
    """How many leading elements PyTorch's vector code takes (SIMD path, `used`)."""
    pair = PAIR[np.dtype(dtype)]
    return n // pair * pair if used and simd() else 0


def in_memory_order(a, fn):
    """fn(flat) on a's elements in memory order where a is a permutation of a dense layout, the
    result back in a's shape; fn(a) otherwise."""
    if a.ndim < 2 or a.flags.c_contiguous:
        return fn(a)
    perm = sorted(range(a.ndim), key=lambda i: -a.strides[i])
    t = a.transpose(perm)
    if not t.flags.c_contiguous:
        return fn(a)
    r = fn(t.reshape(-1)).reshape(t.shape)
    return r.transpose(np.argsort(perm))


_BLOCK = 16384  # a multiple of every PAIR


def _split(x, m, vec, tail):
    """vec(x[:m]) then tail(x[m:]) over the flattened x, in x's shape."""
    flat = x.reshape(-1)
    if flat.size == 0:
        return x.copy()
    # the vector code in blocks: the same bits (it is elementwise), but NumPy's temporaries stay
    # small enough to be reused and cached rather than mapped afresh for every operation
    parts = [vec(flat[i : min(m, i + _BLOCK)]) for i in range(0, m, _BLOCK)]
    if m < flat.size:
        parts.append(tail(flat[m:]))
    return np.concatenate(parts).reshape(x.shape)


# ------------------------------------------------------------------ sigmoid and float16's exp


def _sigmoid_vector(v):  # PyTorch's vector code: SLEEF's exp, 1 / (exp(0 - x) + 1)
    if v.dtype == _D:
        return 1.0 / (sleef.exp(0.0 - v) + 1.0)
    return _F(1) / (sleef.expf(_F(0) - v) + _F(1))


def _sigmoid_scalar(v):  # its scalar code: the C library's exp, 1 / (1 + exp(-x))
    if v.dtype == _D:
        return 1.0 / (1.0 + _each("exp", _D, -v))
    return _F(1) / (_F(1) + _each("expf", _F, -v))


def sigmoid(x, f16=False):
    """PyTorch's sigmoid on a float32 (float16 widened: f16) or float64 array."""

    def run(flat):
        m = vector_end(flat.size, np.float16 if f16 else flat.dtype)
        return _split(flat, m, _sigmoid_vector, _sigmoid_scalar)

    return in_memory_order(x, run)


def exp16(x):
    """float16's exp, computed in float32 (the caller rounds): SLEEF's everywhere on the SIMD path
    (the core's float16 kernel pads the last partial vector), else as `in_double`."""
    return sleef.expf(x) if simd() else in_double(np.exp, x)


def in_double(fn, x):
    """float32 (and widened float16) exp, log, tanh, sin and cos: float64's, rounded once to
    float32, the core's portable formula (float16's on every path: its float16 rounding then
    sees the float32 value nearest the exact one; NumPy's float32 loops are up to an ulp off,
    which shows in float16 where the exact value lies near a half-way point). float32's SIMD
    kernels are MKL's in PyTorch, out of reach (docs/numerics.md)."""
    return fn(x.astype(_D)).astype(_F)


# ------------------------------------------------------------------ x ** s and s ** x

# The exponents PyTorch's float32 and float64 pow kernels take apart (float16 only 0 and 1, which
# never reach a kernel).
SPECIAL = (0.0, 1.0, 2.0, 3.0, 0.5, -0.5, -1.0, -2.0)


def _dpow(x, e):
    """float64's x ** e in PyTorch's scalar code: its special exponents, else the C library."""
    if e == 2.0:
        return x * x
    if e == 1.0:
        return x.copy()
    if e == 0.0:
        return np.ones_like(x)
    if e == 0.5:
        return np.sqrt(x)
    if e == -1.0:
        return 1.0 / x
    if e == 3.0:
        return x * x * x
    if e == -0.5:
        return 1.0 / np.sqrt(x)
    if e == -2.0:
        return 1.0 / (x * x)
    return _each("pow", _D, x, e)


def _pow_flat(x, s, reversed_, vector_loop, f16):
    if x.dtype == _D:
        used = vector_loop and (reversed_ or s not in SPECIAL)
        m = vector_end(x.size, _D, used)

        def vec(v):
            return sleef.pow(s, v) if reversed_ else sleef.pow(v, s)

        def tail(v):
            return _each("pow", _D, s, v) if reversed_ else _dpow(v, s)

        return _split(x, m, vec, tail)

    sv = _F(s)  # what the vector code gets; float16 rounds it to float16 first
    if f16:
        sv = _F(np.float16(sv))
    pair = PAIR[np.dtype(np.float16 if f16 else _F)]
    m = x.size // pair * pair if vector_loop else 0  # the portable build has the same split

    def vec(v):
        if simd():
            return sleef.powf(sv, v) if reversed_ else sleef.powf(v, sv)
        return _each("powf", _F, sv, v) if reversed_ else _each("powf", _F, v, sv)

    def tail(v):
        # float32's x ** s hands s to the double pow; the rest is powf
        if reversed_:
            return _each("powf", _F, sv, v)
        if not f16:
            return _each("pow", _D, v, s).astype(_F)
        return _each("powf", _F, v, sv)

    return _split(x, m, vec, tail)


def pow_scalar(x, s, reversed_=False, f16=False):
    """x ** s (s ** x when reversed_) through PyTorch's generic pow kernel, s a Python number,
    x float32 (float16 widened: f16) or float64. x ** s walks a permuted x in memory order; s ** x
    is a binary op whose loop runs its scalar code on every element of a non-contiguous x."""
    s = float(s)
    if reversed_ and not x.flags.c_contiguous:
        return _pow_flat(np.ascontiguousarray(x), s, True, False, f16)
    return in_memory_order(x, lambda flat: _pow_flat(flat, s, reversed_, True, f16))
