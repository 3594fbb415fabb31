"""Correctly rounded fused multiply-add on NumPy arrays (float32 and float64).

PyTorch's AVX2 kernels are compiled with FMA contraction, so `a * b + c` there rounds once; the
factories and the random transforms that mirror those kernels need the same single rounding.
Both functions use the round-to-odd emulation of Boldo and Melquiond: the exact product split in
two, TwoSum with the addend, the low parts rounded to odd, then one ordinary addition.
"""

import os

import numpy as np


def _round_to_odd(t, err):
    """t nudged one ulp towards err where err != 0 and t's last bit is even."""
    bits = np.asarray(t).view(np.int64 if t.dtype == np.float64 else np.int32)
    fix = (err != 0) & ((bits & 1) == 0) & np.isfinite(t)
    if np.any(fix):
        t = np.where(fix, np.nextafter(t, np.where(err > 0, np.inf, -np.inf)), t)
    return t


def _fmaf_emulated(a, b, c):
    """float32 fma, elementwise: the float32 product is exact in float64, so one TwoSum in float64
    and a round to odd leave a single rounding to float32."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    c = np.asarray(c, np.float64)
    s = a * b
    with np.errstate(invalid="ignore", over="ignore"):
        t = s + c
        bb = t - s
        err = (s - (t - bb)) + (c - bb)
        t = _round_to_odd(np.asarray(t, np.float64), err)
    return np.asarray(t).astype(np.float32)


_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's splitting constant for 53-bit significands


def _split(x):
    y = x * _SPLIT
    hi = y - (y - x)
    return hi, x - hi


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fma_emulated(a, b, c):
    """float64 fma, elementwise (exact for finite operands without underflow or overflow in the
    partial products; other operands get the unfused a * b + c)."""
    a, b, c = np.broadcast_arrays(
        np.asarray(a, np.float64), np.asarray(b, np.float64), np.asarray(c, np.float64)
    )
    with np.errstate(invalid="ignore", over="ignore"):
        ph = a * b
        ah, al = _split(a)
        bh, bl = _split(b)
        pl = ((ah * bh - ph) + ah * bl + al * bh) + al * bl  # a * b == ph + pl exactly
        th, tl = _two_sum(c, ph)
        vh, vl = _two_sum(tl, pl)
        v = _round_to_odd(np.asarray(vh, np.float64), vl)
        out = th + v
        plain = a * b + c
    ok = np.isfinite(out) & np.isfinite(pl) & (np.abs(ph) > 2.0**-960)
    return np.where(ok | (ph == 0), np.where(ph == 0, plain, out), plain)


def _core_fma(name):
    try:
        from . import _core
    except ImportError:
        return None
    return getattr(_core, name, None)


def _dispatch(a, b, c, dt, core_name, emulated):
    """The C++ core's std::fma where it is built (fast), else the NumPy emulation (same bits)."""
    a, b, c = np.broadcast_arrays(np.asarray(a, dt), np.asarray(b, dt), np.asarray(c, dt))
    fn = _core_fma(core_name)
    if fn is None or a.size == 0:
        return emulated(a, b, c)
    return fn(a.ravel(), b.ravel(), c.ravel()).reshape(a.shape)


def fmaf(a, b, c):
    """float32 fma, elementwise (broadcasting), rounded once."""
    return _dispatch(a, b, c, np.float32, "fma_f32", _fmaf_emulated)


def fma(a, b, c):
    """float64 fma, elementwise (broadcasting), rounded once."""
    return _dispatch(a, b, c, np.float64, "fma_f64", _fma_emulated)


def fma_int(a, k, c):
    """fma(a, k, c) in float64 for a scalar `a` and integer-valued `k` below 2**26 in magnitude
    (the index of a range): `k` needs no splitting, so the exact product costs two multiplies."""
    if _core_fma("fma_f64") is not None:
        return fma(a, k, c)
    a = float(a)
    k = np.asarray(k, np.float64)
    if not np.isfinite(a) or (k.size and np.abs(k).max() >= 2.0**26) or abs(a) >= 2.0**960:
        return _fma_emulated(a, k, c)
    ah, al = _split(np.float64(a))
    with np.errstate(invalid="ignore", over="ignore"):
        ph = a * k
        pl = (ah * k - ph) + al * k  # exact: each partial product fits in 53 bits
        th, tl = _two_sum(np.asarray(c, np.float64), ph)
        vh, vl = _two_sum(tl, pl)
        out = th + _round_to_odd(np.asarray(vh, np.float64), vl)
    ok = np.isfinite(out) & ((np.abs(ph) > 2.0**-960) | (ph == 0))
    return out if ok.all() else np.where(ok, out, a * k + c)


def _env_no_simd():
    s = os.environ.get("TAPEGRAD_NO_SIMD", "")
    return bool(s) and s != "0"


def simd():
    """True when tapegrad follows PyTorch's AVX2 kernels, whose compiler fuses `a * b + c`;
    False on the portable path (TAPEGRAD_NO_SIMD=1, or no AVX2), which follows PyTorch's
    `default` kernels, where only an explicit std::fma is fused."""
    try:
        from . import _core
    except ImportError:
        return not _env_no_simd()
    probe = getattr(_core, "simd_enabled", None)
    return bool(probe()) if probe is not None else not _env_no_simd()
