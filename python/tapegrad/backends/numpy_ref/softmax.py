"""softmax and log_softmax in the order of PyTorch's CPU kernels (ATen's SoftMaxKernel.cpp): the
executable spec of csrc/kernels/softmax.cpp, whose header explains the lanes, the vector code and
the scalar tail. Rows (the last dim) or columns (another dim) are processed all at once with
whole-array NumPy operations, one vector operation per line of the C++.

Arrays are float32 (float16 widened: `f16`) or float64; the caller rounds a float16 result.
"""

import numpy as np

from tapegrad._fma import simd

from . import sleef
from .pmath import _each, _libm

_F, _D = np.float32, np.float64


def _r16(x):
    return x.astype(np.float16).astype(_F)


def _exp(x, vector):
    """SLEEF's exp (PyTorch's vector code on the SIMD path) or the C library's."""
    if x.size == 0:
        return x.copy()
    if vector and simd():
        return sleef.expf(x) if x.dtype == _F else sleef.exp(x)
    return _each("expf" if x.dtype == _F else "exp", x.dtype, x)


def _log(x):
    if simd():
        return logf(x) if x.dtype == _F else logd(x)
    fn = _libm("logf" if x.dtype == _F else "log")  # one per row or column: ctypes will do
    return np.array([fn(v) for v in x.reshape(-1).tolist()], x.dtype).reshape(x.shape)


_LOG_D = (0.1532076988502701353, 0.1525629051003428716, 0.1818605932937785996,
          0.2222214519839380009, 0.2857142932794299317, 0.3999999999635251990,
          0.6666666666667333541)  # fmt: skip


def logd(d):
    """SLEEF's logd4_u10 on a float64 array."""
    f, i32 = sleef._fma64, np.int32
    tiny = d < 2.2250738585072014e-308
    dd = np.where(tiny, d * 18446744073709551616.0, d)  # 2^64
    top = (dd * (1.0 / 0.75)).view(np.uint64) >> np.uint64(52)
    e = (top.astype(np.uint32).view(i32) & i32(0x7FF)) - i32(0x3FF)
    shift = (i32(0) - e).view(np.uint32).astype(np.uint64) << np.uint64(52)
    m = (dd.view(np.uint64) + shift).view(_D)
    e = np.where(tiny, e - i32(64), e)
    x = sleef._div(sleef._add2_f_f(-1.0, m), sleef._add2_f_f(1.0, m), f, 1.0)
    x2 = x[0] * x[0]
    x4 = x2 * x2
    x8 = x4 * x4
    c = _LOG_D
    p3 = f(x4, c[0], f(x2, c[1], c[2]))
    p4 = f(x4, f(x2, c[3], c[4]), f(x2, c[5], c[6]))
    t = f(x8, p3, p4)
    s = sleef._mul_f2_f(
        (0.693147180559945286226764, 2.319046813846299558417771e-17), e.astype(_D), f
    )
    s = sleef._add_f2_f2(s, (x[0] * 2.0, x[1] * 2.0))
    y = (x2 * x[0]) * t
    r0 = s[0] + y
    r = r0 + (((s[0] - r0) + y) + s[1])
    r = np.where(np.isposinf(d), np.inf, r)
    r = np.where((d < 0) | np.isnan(d), np.nan, r)
    return np.where(d == 0, -np.inf, r)


def logf(d):
    """SLEEF's logf8_u10 on a float32 array."""
    f, i32 = sleef._fma32, np.int32
    tiny = d < _F(1.17549435e-38)
    dd = np.where(tiny, d * _F(2.0**64), d)
    e = ((sleef._bits32(dd * (_F(1) / _F(0.75))) >> i32(23)) & i32(0xFF)) - i32(0x7F)
    m = sleef._float32(sleef._bits32(dd) + ((i32(0) - e) << i32(23)))
    e = np.where(tiny, e - i32(64), e)
    s = sleef._mul_f2_f(
        (_F(0.69314718246459960938), _F(-1.904654323148236017e-09)), e.astype(_F), f
    )
    x = sleef._div(sleef._add2_f_f(_F(-1), m), sleef._add2_f_f(_F(1), m), f, _F(1))
    x2 = x[0] * x[0]
    t = f(f(_F(0.3027294874), x2, _F(0.3996108174)), x2, _F(0.6666694880))
    s = sleef._add_f2_f2(s, (x[0] * _F(2), x[1] * _F(2)))
    y = (x2 * x[0]) * t
    r0 = s[0] + y
    r = r0 + (((s[0] - r0) + y) + s[1])
    r = np.where(np.isposinf(d), _F(np.inf), r)
    r = np.where((d < 0) | np.isnan(d), _F(np.nan), r)
    return np.where(d == 0, _F(-np.inf), r)


def _vmax(a, b):
    """vec::maximum: NaN wins; an equal pair gives the second operand."""
    return np.where(a != a, a, np.where(b != b, b, np.where(a > b, a, b)))


def _fold(acc, op):
    """vec_reduce_all over the lanes (last axis): the AVX2 shuffle tree for 8 float lanes on the
    SIMD path, else lane by lane."""
    if simd() and acc.shape[-1] == 8 and acc.dtype == _F:
        v = op(acc[..., :4], acc[..., 4:])
        v = op(v[..., :2], v[..., 2:])
        return op(v[..., 0], v[..., 1])
    r = acc[..., 0]
    for k in range(1, acc.shape[-1]):
        r = op(r, acc[..., k])
    return r


def _reduce_all(x, op):
    """vec::reduce_all over the last axis."""
    n = x.shape[-1]
    lanes = 8 if x.dtype == _F else 4
    if n < lanes:
        r = x[..., 0]
        for k in range(1, n):
            r = op(r, x[..., k])
        return r
    acc = x[..., :lanes].copy()
    d = lanes
    while d < n - n % lanes:
        acc = op(acc, x[..., d : d + lanes])
        d += lanes
    acc[..., : n - d] = op(acc[..., : n - d], x[..., d:])
    return _fold(acc, op)


def _reduce_all16(x, op):
    """The float16 reduce_all: 16 elements per step as two float vectors."""
    n = x.shape[-1]
    if n < 16:
        if n <= 8:
            r = x[..., 0]
            for k in range(1, n):
                r = op(r, x[..., k])
            return r
        a = x[..., :8].copy()
        a[..., : n - 8] = op(a[..., : n - 8], x[..., 8:])
        return _fold(a, op)
    a0, a1 = x[..., :8].copy(), x[..., 8:16].copy()
    d = 16
    while d < n - n % 16:
        a0, a1 = op(a0, x[..., d : d + 8]), op(a1, x[..., d + 8 : d + 16])
        d += 16
    t = n - d
    a0[..., : min(t, 8)] = op(a0[..., : min(t, 8)], x[..., d : d + min(t, 8)])
    if t > 8:
        a1[..., : t - 8] = op(a1[..., : t - 8], x[..., d + 8 :])
    return _fold(op(a0, a1), op)


def _reduce(x, op, f16):
    return _reduce_all16(x, op) if f16 else _reduce_all(x, op)


def _fma(a, b, c):
    from tapegrad import _fma as fm

    a, b, c = np.broadcast_arrays(a, b, c)
    return (fm.fmaf if a.dtype == _F else fm.fma)(a, b, c)


# ---------------------------------------------------------------- the last dim: rows (..., n)


def _rows_forward(x, log, f16):
    n = x.shape[-1]
    if log:
        mx = _reduce(x, _vmax, f16)[..., None]
        s = _reduce(_exp(x - mx, True), np.add, f16)[..., None]
        if f16:
            return (x - mx) - _r16(_log(_r16(s)))
        return (x - mx) - _log(s)
    if f16:
        v16, v8 = n - n % 16, n - n % 8
        acc = np.full(x.shape[:-1] + (8,), -np.inf, _F)
        for d in range(0, v16, 16):
            acc = _vmax(_vmax(acc, x[..., d : d + 8]), x[..., d + 8 : d + 16])
        mx = _fold(acc, _vmax)
        for d in range(v16, n):
            mx = np.where(mx < x[..., d], x[..., d], mx)
        e = x - mx[..., None]
        e = np.concatenate([_exp(e[..., :v8], True), _exp(e[..., v8:], False)], axis=-1)
        acc = np.zeros(x.shape[:-1] + (8,), _F)
        for d in range(0, v8, 8):
            acc = acc + e[..., d : d + 8]
        s = _fold(acc, np.add)
        for d in range(v8, n):
            s = s + e[..., d]
    else:
        mx = _reduce(x, _vmax, False)
        e = _exp(x - mx[..., None], True)
        s = _reduce(e, np.add, False)
    inv = x.dtype.type(1) / s
    return e * inv[..., None]


def _rows_backward(g, y, log, f16):
    if log:
        s = _reduce(g, np.add, f16)[..., None]
        e = _exp(y, True)
        return _fma(-e, s, g) if simd() else g - e * s
    n = g.shape[-1]
    lanes = 8 if g.dtype == _F else 4
    if f16 or n < lanes or not simd() or g.dtype != _F:  # (its float64 code does not fuse)
        s = _reduce(g * y, np.add, f16)
    else:  # PyTorch's AVX2 build fuses the partial last vector's products into the sums
        acc = g[..., :lanes] * y[..., :lanes]
        d = lanes
        while d < n - n % lanes:
            acc = acc + g[..., d : d + lanes] * y[..., d : d + lanes]
            d += lanes
        acc[..., : n - d] = _fma(g[..., d:], y[..., d:], acc[..., : n - d])
        s = _fold(acc, np.add)
    return (g - s[..., None]) * y


# ---------------------------------------------------------------- another dim: (outer, D, w)


def _cols_forward(x, log, f16, vec):
    D = x.shape[1]
    if log:
        mx = np.full(x[:, :1].shape, -np.inf, x.dtype)
        for d in range(D):
            mx = np.where(x[:, d : d + 1] > mx, x[:, d : d + 1], mx)
        s = np.zeros_like(mx)
        for d in range(D):
            s = s + _exp(x[:, d : d + 1] - mx, vec)
        return (x - mx) - _log(s)
    mx = x[:, :1]
    for d in range(1, D):
        xd = x[:, d : d + 1]
        mx = _vmax(mx, xd) if vec else np.where(mx < xd, xd, mx)
    e = _exp(x - mx, vec)
    s = np.zeros_like(mx)
    for d in range(D):
        s = s + e[:, d : d + 1]
    if f16 and not vec:
        e = _r16(e)  # the scalar tail stores exp in float16 first
    return e / s


def _cols_backward(g, y, log, vec):
    D = g.shape[1]
    s = np.zeros_like(g[:, :1])
    for d in range(D):
        gd, yd = g[:, d : d + 1], y[:, d : d + 1]
        s = s + gd if log else (_fma(gd, yd, s) if simd() else s + gd * yd)
    if log:
        e = _exp(y, vec)
        return _fma(-e, s, g) if simd() else g - e * s
    return y * (g - s)


def _split_cols(fn, arrays, f16):
    """fn over the whole vectors of inner positions (vec=True) and the tail (vec=False)."""
    inner = arrays[0].shape[2]
    lanes = 16 if f16 else (8 if arrays[0].dtype == _F else 4)
    v = inner - inner % lanes
    parts = []
    if v:
        parts.append(fn(*[a[:, :, :v] for a in arrays], vec=True))
    if v < inner:
        parts.append(fn(*[a[:, :, v:] for a in arrays], vec=False))
    return np.concatenate(parts, axis=2)


def _geom(shape, dim):
    if not shape:
        return 1, 1, 1
    outer = int(np.prod(shape[:dim], dtype=np.int64))
    inner = int(np.prod(shape[dim + 1 :], dtype=np.int64))
    return outer, shape[dim], inner


def forward(x, dim, log, f16=False):
    """softmax (log: log_softmax) of x over dim."""
    if x.size == 0:
        return x.copy()
    o, d, i = _geom(x.shape, dim)
    x3 = x.reshape(o, d, i)
    with np.errstate(all="ignore"):
        if i == 1:
            return _rows_forward(x3[:, :, 0], log, f16).reshape(x.shape)
        fn = lambda a, vec: _cols_forward(a, log, f16, vec)  # noqa: E731
        return _split_cols(fn, [x3], f16).reshape(x.shape)


def backward(g, y, dim, log, f16=False):
    """The input gradient from the upstream g and the forward's output y."""
    if y.size == 0:
        return g.copy()
    o, d, i = _geom(y.shape, dim)
    g3, y3 = g.reshape(o, d, i), y.reshape(o, d, i)
    with np.errstate(all="ignore"):
        if i == 1:
            return _rows_backward(g3[:, :, 0], y3[:, :, 0], log, f16).reshape(y.shape)
        fn = lambda a, b, vec: _cols_backward(a, b, log, vec)  # noqa: E731
        return _split_cols(fn, [g3, y3], f16).reshape(y.shape)
