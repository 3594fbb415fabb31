"""The NumPy random engine: `_NumpyEngine`, the fallback for `tapegrad._core.CPUGenerator`
(csrc/kernels/rng.cpp) with identical output: NumPy's MT19937 with PyTorch's seeding and
transformations, vectorized (docs/random.md). _random.py chooses the engine and turns its arrays
into tensors.
"""

import math
import struct

import numpy as np

from ._fma import fma as _fma_arr
from ._fma import fmaf as _fmaf
from ._fma import simd as _simd

DEFAULT_SEED = 67280421310721  # PyTorch's default_rng_seed_val, the seed of a new Generator
STATE_BYTES = 5056  # PyTorch's CPUGeneratorImplState
_U64 = 0xFFFFFFFFFFFFFFFF
_MT_N = 624


def _temper(y):
    y = y ^ (y >> np.uint32(11))
    y = y ^ ((y << np.uint32(7)) & np.uint32(0x9D2C5680))
    y = y ^ ((y << np.uint32(15)) & np.uint32(0xEFC60000))
    return y ^ (y >> np.uint32(18))


def _fma64(a, b, c):
    """Correctly rounded float64 fma of Python floats."""
    if hasattr(math, "fma"):  # Python 3.13+
        return math.fma(a, b, c)
    from fractions import Fraction

    if not all(math.isfinite(v) for v in (a, b, c)):
        return a * b + c
    return float(Fraction(a) * Fraction(b) + Fraction(c))


_F = np.float32
_LOG_P = [_F(v) for v in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
                          1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
                          3.3333331174e-1)]  # fmt: skip
_LOG_Q1, _LOG_Q2, _SQRT_HALF = _F(-2.12194440e-4), _F(0.693359375), _F(0.707106781186547524)
_DP = (_F(-0.78515625), _F(-2.4187564849853515625e-4), _F(-3.77489497744594108e-8))
_SIN = (_F(-1.9515295891e-4), _F(8.3321608736e-3), _F(-1.6666654611e-1))
_COS = (_F(2.443315711809948e-005), _F(-1.388731625493765e-003), _F(4.166664568298827e-002))
_FOUR_OVER_PI = _F(1.27323954473516)
_TWO_PI = _F(2.0 * math.pi)


def _cephes_log(x):
    """The float32 log of PyTorch's AVX2 normal fill (see cephes_logf in csrc/kernels/rng.cpp)."""
    x = np.maximum(x, _F(1.17549435e-38))
    bits = x.view(np.uint32)
    e = ((bits >> np.uint32(23)).astype(np.int32) - 0x7F).astype(np.float32) + _F(1)
    m = ((bits & np.uint32(0x807FFFFF)) | np.uint32(0x3F000000)).view(np.float32)
    small = m < _SQRT_HALF
    extra = np.where(small, m, _F(0))
    m = m - _F(1)
    e = np.where(small, e - _F(1), e)
    m = m + extra
    z = m * m
    y = np.full_like(m, _LOG_P[0])
    for p in _LOG_P[1:]:
        y = _fmaf(y, m, p)
    y = y * m
    y = _fmaf(y, z, e * _LOG_Q1)
    y = y - z * _F(0.5)
    m = m + y
    return np.where(x > 0, _fmaf(e, _LOG_Q2, m), _F(np.nan))


def _cephes_sincos(x):
    """The float32 sin and cos of PyTorch's AVX2 normal fill (see cephes_sincosf in
    csrc/kernels/rng.cpp)."""
    sin_neg = np.signbit(x)
    x = np.abs(x)
    j = (x * _FOUR_OVER_PI).astype(np.int32)
    j = (j + 1) & ~1
    y = j.astype(np.float32)
    sin_neg = sin_neg != ((j & 4) != 0)
    first_is_cos = (j & 2) == 0
    cos_neg = (~(j - 2) & 4) != 0
    for d in _DP:
        x = _fmaf(y, d, x)
    z = x * x
    pc = _fmaf(_fmaf(np.full_like(z, _COS[0]), z, _COS[1]), z, _COS[2])
    pc = pc * z
    pc = _fmaf(pc, z, -(z * _F(0.5)))
    pc = pc + _F(1)
    ps = _fmaf(_fmaf(np.full_like(z, _SIN[0]), z, _SIN[1]), z, _SIN[2])
    ps = ps * z
    ps = _fmaf(ps, x, x)
    zero = np.zeros_like(z)
    s = np.where(first_is_cos, zero + ps, pc + zero)
    c = np.where(first_is_cos, pc + zero, zero + ps)
    return np.where(sin_neg, -s, s), np.where(cos_neg, -c, c)


def _normal_fill16(blocks, mean, std):
    """In place on a (k, 16) float32 array of uniforms: PyTorch's 16-wide Box-Muller."""
    u1 = _F(1) - blocks[:, :8]
    u2 = blocks[:, 8:]
    radius = np.sqrt(_F(-2) * _cephes_log(u1))
    s, c = _cephes_sincos(_TWO_PI * u2)
    blocks[:, :8] = _fmaf(radius * c, std, mean)
    blocks[:, 8:] = _fmaf(radius * s, std, mean)


def _libm_float(name):
    import ctypes
    import ctypes.util

    fn = getattr(ctypes.CDLL(ctypes.util.find_library("m")), name)
    fn.restype, fn.argtypes = ctypes.c_float, [ctypes.c_float]
    return fn


_LIBM = {}


def _normal_fill16_generic(blocks, mean, std):
    """PyTorch's generic float Box-Muller (its `default` build, tapegrad's portable path): the C
    library's logf, cosf and sinf, which NumPy does not expose (its float32 loops round
    differently), so they are called through ctypes; theta is formed in double."""
    if not _LIBM:
        _LIBM.update({f: _libm_float(f) for f in ("logf", "cosf", "sinf")})
    logf, cosf, sinf = _LIBM["logf"], _LIBM["cosf"], _LIBM["sinf"]
    u1 = (_F(1) - blocks[:, :8]).reshape(-1)
    theta = ((2.0 * math.pi) * blocks[:, 8:].reshape(-1).astype(np.float64)).astype(np.float32)
    radius = np.sqrt(_F(-2) * np.array([logf(x) for x in u1.tolist()], np.float32))
    c = np.array([cosf(x) for x in theta.tolist()], np.float32)
    s = np.array([sinf(x) for x in theta.tolist()], np.float32)
    k = blocks.shape[0]
    blocks[:, :8] = _fmaf(radius * c, std, mean).reshape(k, 8)
    blocks[:, 8:] = _fmaf(radius * s, std, mean).reshape(k, 8)


def _normal_fill16_double(blocks, mean, std):
    """In place on a (k, 16) float64 array of uniforms: PyTorch's scalar 16-wide Box-Muller for
    double, with the C library's log, cos and sin (Python's math module calls the same ones;
    NumPy's own float64 loops may round differently)."""
    u1 = (1.0 - blocks[:, :8]).reshape(-1)
    theta = (2.0 * math.pi) * blocks[:, 8:].reshape(-1)
    radius = np.sqrt(-2.0 * np.array([math.log(x) for x in u1.tolist()]))
    c = np.array([math.cos(x) for x in theta.tolist()])
    s = np.array([math.sin(x) for x in theta.tolist()])
    k = blocks.shape[0]
    blocks[:, :8] = _fma_arr(radius * c, float(std), float(mean)).reshape(k, 8)
    blocks[:, 8:] = _fma_arr(radius * s, float(std), float(mean)).reshape(k, 8)


class _NumpyEngine:
    """The NumPy implementation of tapegrad._core.CPUGenerator (same methods, same numbers)."""

    def __init__(self, seed=DEFAULT_SEED):
        self._bitgen = None  # np.random.MT19937, made on the first twist
        self.manual_seed(seed)

    def manual_seed(self, seed):
        seed = int(seed) & _U64
        self._seed = seed
        # RandomState's legacy seeding is MT19937's init_genrand, as in PyTorch.
        self._mt = np.random.RandomState(seed & 0xFFFFFFFF).get_state()[1].astype(np.uint32)
        self._left, self._next = 1, 0
        self._has_double, self._double = False, 0.0
        self._has_float, self._float = False, 0.0

    def initial_seed(self):
        return self._seed

    def _raw(self, n):
        out = np.empty(n, np.uint32)
        m = min(n, self._left - 1)
        if m > 0:
            out[:m] = _temper(self._mt[self._next : self._next + m])
            self._next += m
            self._left -= m
        if n > m:
            if self._bitgen is None:
                self._bitgen = np.random.MT19937(0)
            bg = self._bitgen
            bg.state = {"bit_generator": "MT19937", "state": {"key": self._mt, "pos": _MT_N}}
            out[m:] = bg.random_raw(n - m)
            st = bg.state["state"]
            self._mt = np.asarray(st["key"]).astype(np.uint32)
            self._next = int(st["pos"])
            self._left = _MT_N + 1 - self._next
        return out

    def random(self):
        return int(self._raw(1)[0])

    def random64(self):
        r = self._raw(2)
        return (int(r[0]) << 32) | int(r[1])

    def _unit_floats(self, n):
        return (self._raw(n) & np.uint32(0xFFFFFF)).astype(np.float32) * _F(2.0**-24)

    def _unit_doubles(self, n):
        r = self._raw(2 * n).astype(np.uint64)
        v = ((r[0::2] << np.uint64(32)) | r[1::2]) & np.uint64((1 << 53) - 1)
        return v.astype(np.float64) * 2.0**-53

    def uniform_(self, out, from_, to):
        fused = _simd()  # PyTorch's default build rounds x * range before adding from
        if out.dtype == np.float64:
            x = self._unit_doubles(out.size)
            lo, rng = float(from_), float(to) - float(from_)
            out.reshape(-1)[:] = _fma_arr(x, rng, lo) if fused else x * rng + lo
            return
        f = _F(from_)
        x = self._unit_floats(out.size)
        out.reshape(-1)[:] = _fmaf(x, _F(to) - f, f) if fused else x * (_F(to) - f) + f

    def _normal_double(self):
        if self._has_double:
            self._has_double = False
            return self._double
        r = self._raw(4).astype(np.uint64)
        mask = np.uint64((1 << 53) - 1)
        u1 = float((r[0] << np.uint64(32) | r[1]) & mask) * 2.0**-53
        u2 = float((r[2] << np.uint64(32) | r[3]) & mask) * 2.0**-53
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self._double = radius * math.sin(theta)
        self._has_double = True
        return radius * math.cos(theta)

    def normal_(self, out, mean, std, half_blocks=False):
        flat = out.reshape(-1)
        n = flat.size
        if n < 16:
            fused = _simd()  # normal_distribution's z * std + mean, as in uniform_
            for i in range(n):
                z = self._normal_double()
                flat[i] = _fma64(z, float(std), float(mean)) if fused else z * std + mean
            return
        if out.dtype == np.float64:
            flat[:] = self._unit_doubles(n)
            _normal_fill16_double(flat[: n - n % 16].reshape(-1, 16), mean, std)
            if n % 16:
                tail = self._unit_doubles(16).reshape(1, 16)
                _normal_fill16_double(tail, mean, std)
                flat[n - 16 :] = tail.reshape(-1)
            return
        m, s = _F(mean), _F(std)
        full = n - n % 16
        fill = _normal_fill16 if _simd() else _normal_fill16_generic
        if not half_blocks:
            flat[:] = self._unit_floats(n)
            blocks = flat[:full].reshape(-1, 16)
            fill(blocks, m, s)
        else:
            blocks = self._unit_floats(full).reshape(-1, 16)
            fill(blocks, m, s)
            flat[:full] = blocks.reshape(-1)
        if n % 16:
            tail = self._unit_floats(16).reshape(1, 16)
            fill(tail, m, s)
            flat[n - 16 :] = tail.reshape(-1)

    def randint_(self, out, low, high):
        if low >= high:
            raise ValueError("randint_: low must be < high")
        rng = (high - low) & _U64
        n = out.size
        if rng >= 1 << 28:
            r = self._raw(2 * n).astype(np.uint64)
            v = (r[0::2] << np.uint64(32)) | r[1::2]
        else:
            v = self._raw(n).astype(np.uint64)
        out.reshape(-1)[:] = ((v % np.uint64(rng)) + np.uint64(low & _U64)).view(np.int64)

    def randperm_(self, out):
        n = out.size
        perm = list(range(n))
        if n > 1:
            draws = self._raw(n - 1).astype(np.int64) % np.arange(n, 1, -1, dtype=np.int64)
            for i, z in enumerate(draws.tolist()):
                perm[i], perm[i + z] = perm[i + z], perm[i]
        out.reshape(-1)[:] = perm

    def get_state(self):
        b = bytearray(STATE_BYTES)
        struct.pack_into("<QiiQ", b, 0, self._seed, self._left, 1, self._next)
        b[24 : 24 + 8 * _MT_N] = self._mt.astype("<u8").tobytes()
        if self._has_double:  # PyTorch keeps the cached double sample in normal_y
            struct.pack_into("<dddi", b, 5016, 0.0, self._double, 0.0, 1)
        struct.pack_into("<f?", b, 5048, self._float, self._has_float)
        return np.frombuffer(bytes(b), np.uint8).copy()

    def set_state(self, state):
        b = np.ascontiguousarray(state, dtype=np.uint8).tobytes()
        if len(b) != STATE_BYTES:
            raise ValueError(
                f"Expected a CPUGeneratorImplState of size {STATE_BYTES} but found the input "
                f"RNG state size to be {len(b)}"
            )
        seed, left, seeded, nxt = struct.unpack_from("<QiiQ", b, 0)
        if seeded != 1 or not (0 < left <= _MT_N) or nxt > _MT_N:
            raise ValueError("Invalid mt19937 state")
        self._seed, self._left, self._next = seed, left, nxt
        self._mt = np.frombuffer(b, "<u8", _MT_N, 24).astype(np.uint32)
        _, y, _, valid = struct.unpack_from("<dddi", b, 5016)
        self._has_double, self._double = bool(valid), (y if valid else 0.0)
        f, fvalid = struct.unpack_from("<f?", b, 5048)
        self._has_float, self._float = bool(fvalid), (f if fvalid else 0.0)
