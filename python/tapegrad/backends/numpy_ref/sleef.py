"""SLEEF's exp and pow (expf8_u10, powf8_u10, expd4_u10, powd4_u10), the functions PyTorch's AVX2
kernels call for sigmoid's exp, float16's exp and x ** s / s ** x: NumPy arrays in, the same bits
out. The executable spec of csrc/kernels/pmath_avx2.h (float32) and pmath_f64_avx2.cpp (float64).

Every line is one vector operation of the C++ in the same order. NumPy rounds each float32
operation to float32, so the arrays must keep their dtype throughout (constants are typed scalars;
a Python float would widen the expression to float64). `fma` is a single rounding (the C++ calls
an FMA instruction exactly there) and nothing else is fused. Integer steps work on int32 lanes
(`_I`), which wrap as the vector lanes do; the float64 code keeps its exponents in int32 lanes
too, as SLEEF's AVX2 code does.
"""

import numpy as np

from tapegrad import _fma

_F, _D, _I = np.float32, np.float64, np.int32


def _fused(dtype, core_name, generic):
    """fma(a, b, c) rounded once: the core's where it is built, called directly for operands of
    one shape or scalars (the constants of the polynomials, kept as arrays per size), else
    _fma's general (broadcasting, or emulated) one. The direct call saves most of the time."""
    core = _fma._core_fma(core_name)
    consts = {}

    def const(v, n):
        key = (float(v), n)
        if key not in consts:
            if len(consts) > 256:
                consts.clear()
            consts[key] = np.full(n, v, dtype)
        return consts[key]

    def fma(a, b, c):
        arr = a if isinstance(a, np.ndarray) and a.ndim else b
        arr = arr if isinstance(arr, np.ndarray) and arr.ndim else c
        if core is None or not isinstance(arr, np.ndarray) or not arr.ndim:
            return generic(a, b, c)
        shape, n = arr.shape, arr.size
        args = []
        for v in (a, b, c):
            if not isinstance(v, np.ndarray) or not v.ndim:
                args.append(const(v, n))
            elif v.shape == shape and v.dtype == dtype:
                args.append(v.reshape(-1))
            else:
                return generic(a, b, c)
        return core(*args).reshape(shape)

    return fma


_fma32 = _fused(_F, "fma_f32", _fma.fmaf)
_fma64 = _fused(_D, "fma_f64", _fma.fma)
_INT_MIN = np.iinfo(_I).min


def _cvt(x, trunc=False):
    """float -> int32 as _mm256_cvt(t)ps_epi32: to nearest even (or toward zero); NaN and out of
    range give INT_MIN."""
    r = np.trunc(x) if trunc else np.rint(x)
    ok = np.abs(r) < 2.0**31
    return np.where(ok, np.where(ok, r, 0).astype(_I), _I(_INT_MIN))


def _bits32(f):
    return np.asarray(f, _F).view(_I)


def _float32(i):
    return np.asarray(i, _I).view(_F)


def _sel(mask, yes, no):
    return np.where(mask, yes, no)


def _mulsign(x, y):
    """x with its sign flipped where y's sign bit is set."""
    return (_bits32(x) ^ (_bits32(y) & _I(_INT_MIN))).view(_F)


# ------------------------------------------------------------------ float32


def _pow2i(q):  # 2^q through the exponent field, q in [-126, 127]
    return _float32((q + _I(0x7F)) << _I(23))


def _ldexp2(x, q):  # x * 2^q as two exact scalings
    h = q >> _I(1)
    return (x * _pow2i(h)) * _pow2i(q - h)


def _ldexp(x, q):
    """x * 2^q for any q: four equal scalings by 2^m (m clamped to the exponent range), then the
    remainder, so every intermediate is exact until the last multiply."""
    m = q >> _I(31)
    m = (((m + q) >> _I(6)) - m) << _I(4)
    q = q - (m << _I(2))
    m = m + _I(0x7F)
    m = np.where(m > 0, m, _I(0))
    m = np.where(m > 0xFF, _I(0xFF), m)
    u = _float32(m << _I(23))
    x = (((x * u) * u) * u) * u
    return x * _pow2i(q)


_RLN2 = _F(1.442695040888963407359924681001892137426645954152985934135449406931)
_L2U = _F(0.693145751953125)  # ln 2 = _L2U + _L2L, _L2U with 12 bits
_L2L = _F(1.428606765330187045e-06)
_INF = _F(np.inf)


def expf(d):
    """SLEEF's expf8_u10 on a float32 array."""
    q = _cvt(d * _RLN2)
    qf = q.astype(_F)
    s = _fma32(qf, -_L2U, d)
    s = _fma32(qf, -_L2L, s)
    u = _F(0.000198527617612853646278381)
    for k in (0.00139304355252534151077271, 0.00833336077630519866943359,
              0.0416664853692054748535156, 0.166666671633720397949219, 0.5):  # fmt: skip
        u = _fma32(u, s, _F(k))
    u = _F(1) + _fma32(s * s, u, s)
    u = _ldexp2(u, q)
    u = np.where(d < _F(-104), _F(0), u)
    return np.where(_F(100) < d, _INF, u)


# Double-float arithmetic: a value is the pair (hi, lo). The "add" forms assume |x| >= |y|.


def _normalize(t):
    s = t[0] + t[1]
    return s, (t[0] - s) + t[1]


def _add_f_f2(x, y):
    r = x + y[0]
    return r, ((x - r) + y[0]) + y[1]


def _add_f2_f2(x, y):
    r = x[0] + y[0]
    return r, (((x[0] - r) + y[0]) + x[1]) + y[1]


def _add2_f_f(x, y):
    r = x + y
    v = r - x
    return r, (x - (r - v)) + (y - v)


def _add2_f2_f(x, y):
    r = x[0] + y
    v = r - x[0]
    return r, ((x[0] - (r - v)) + (y - v)) + x[1]


def _add2_f2_f2(x, y):
    r = x[0] + y[0]
    v = r - x[0]
    return r, ((x[0] - (r - v)) + (y[0] - v)) + (x[1] + y[1])


def _mul_f2_f(x, y, fma):
    r = x[0] * y
    return r, fma(x[1], y, fma(x[0], y, -r))


def _mul_f2_f2(x, y, fma):
    r = x[0] * y[0]
    return r, fma(x[0], y[1], fma(x[1], y[0], fma(x[0], y[0], -r)))


def _squ(x, fma):
    r = x[0] * x[0]
    return r, fma(x[0] + x[0], x[1], fma(x[0], x[0], -r))


def _div(n, d, fma, one):
    t = one / d[0]
    q = n[0] * t
    u = fma(t, n[0], -q)
    lo = fma(-d[1], t, fma(-d[0], t, one))
    return q, fma(q, lo, fma(n[1], t, u))


def _logkf(d):
    """log(d) as a double-float, d >= 0 (zero, inf and NaN give garbage pow replaces)."""
    f = _fma32
    tiny = d < _F(1.17549435e-38)
    d = np.where(tiny, d * _F(2.0**64), d)
    e = ((_bits32(d * (_F(1) / _F(0.75))) >> _I(23)) & _I(0xFF)) - _I(0x7F)
    m = _float32(_bits32(d) + ((_I(0) - e) << _I(23)))
    e = np.where(tiny, e - _I(64), e)
    x = _div(_add2_f_f(_F(-1), m), _add2_f_f(_F(1), m), f, _F(1))
    x2 = _squ(x, f)
    t = _F(0.240320354700088500976562)
    t = f(t, x2[0], _F(0.285112679004669189453125))
    t = f(t, x2[0], _F(0.400007992982864379882812))
    cc = (_F(0.66666662693023681640625), _F(3.69183861259614332084311e-09))
    s = _mul_f2_f((_F(0.69314718246459960938), _F(-1.904654323148236017e-09)), e.astype(_F), f)
    s = _add_f2_f2(s, (x[0] * _F(2), x[1] * _F(2)))
    return _add_f2_f2(s, _mul_f2_f2(_mul_f2_f2(x2, x, f), _add2_f2_f2(_mul_f2_f(x2, t, f), cc), f))


def _expkf(d):
    """exp of a double-float."""
    f = _fma32
    u = (d[0] + d[1]) * _RLN2
    q = _cvt(u)
    qf = q.astype(_F)
    s = _add2_f2_f(d, qf * -_L2U)
    s = _add2_f2_f(s, qf * -_L2L)
    s = _normalize(s)
    u = _F(0.00136324646882712841033936)
    for k in (0.00836596917361021041870117, 0.0416710823774337768554688,
              0.166665524244308471679688, 0.499999850988388061523438):  # fmt: skip
        u = f(u, s[0], _F(k))
    t = _add_f2_f2(s, _mul_f2_f(_squ(s, f), u, f))
    t = _add_f_f2(_F(1), t)
    u = _ldexp(t[0] + t[1], q)
    return np.where(d[0] < _F(-104), _F(0), u)


def powf(x, y):
    """SLEEF's powf8_u10: x ** y within 1 ulp with C99's special cases (float32 arrays or
    scalars, broadcast)."""
    x, y = np.broadcast_arrays(np.asarray(x, _F), np.asarray(y, _F))
    one, zero = _F(1), _F(0)
    ay = np.abs(y)
    yint = (np.trunc(y) == y) | (ay > _F(16777216))
    yodd = ((_cvt(y, trunc=True) & _I(1)) == 1) & yint & (ay < _F(16777216))
    r = _expkf(_mul_f2_f(_logkf(np.abs(x)), y, _fma32))
    r = np.where(np.isnan(r), _INF, r)
    r = r * _sel(x > zero, one, _sel(yint, _sel(yodd, _F(-1), one), _F(np.nan)))
    efx = _mulsign(np.abs(x) - one, y)
    yinf = np.where(efx < zero, zero, _sel(efx == zero, one, _INF))
    r = np.where(np.isinf(y), yinf, r)
    xzero = x == zero
    ysign = np.signbit(y)
    edge = _mulsign(_sel(ysign ^ xzero, zero, _INF), _sel(yodd, x, one))
    r = np.where(np.isinf(x) | xzero, edge, r)
    r = np.where(np.isnan(x) | np.isnan(y), _F(np.nan), r)
    return np.where((y == zero) | (x == one), one, r)


# ------------------------------------------------------------------ float64
# The same algorithms with longer polynomials (Estrin's scheme) and int32 exponent lanes.


def _pow2i_d(q):
    """2^q through the exponent field: q + 0x3ff as an unsigned 32-bit lane shifted into the top
    of the 64-bit lane (the bits past 64 drop, as in the vector code)."""
    u = (q + _I(0x3FF)).view(np.uint32).astype(np.uint64) << np.uint64(52)
    return u.view(_D)


def _ldexp2_d(x, q):
    h = q >> _I(1)
    return (x * _pow2i_d(h)) * _pow2i_d(q - h)


def _xorsign(x, y):
    """x with its sign flipped where y's sign bit is set (float64)."""
    sign = np.asarray(y, _D).view(np.int64) & np.int64(np.iinfo(np.int64).min)
    return (np.asarray(x, _D).view(np.int64) ^ sign).view(_D)


def _cvt_d(x):
    """float64 -> int32 as _mm256_cvtpd_epi32 on an already rounded x."""
    ok = np.abs(x) < 2.0**31
    return np.where(ok, np.where(ok, x, 0).astype(_I), _I(_INT_MIN))


_RLN2_D = 1.442695040888963407359924681001892137426645954152985934135449406931
_L2U_D = 0.69314718055966295651160180568695068359375
_L2L_D = 0.28235290563031577122588448175013436025525412068e-12
_EXP_MAX = 709.78271114955742909217217426


def _poly8(x, x2, x4, k):  # k[0] is the highest coefficient
    f = _fma64
    hi = f(x2, f(x, k[0], k[1]), f(x, k[2], k[3]))
    lo = f(x2, f(x, k[4], k[5]), f(x, k[6], k[7]))
    return f(x4, hi, lo)


def _poly10(x, x2, x4, x8, k):
    return _fma64(x8, _fma64(x, k[0], k[1]), _poly8(x, x2, x4, k[2:]))


def _poly9(x, x2, x4, x8, k):
    return _fma64(x8, k[0], _poly8(x, x2, x4, k[1:]))


_EXP_C = (
    0.2081276378237164457e-8,
    0.2511210703042288022e-7,
    0.2755762628169491192e-6,
    0.2755723402025388239e-5,
    0.2480158687479686264e-4,
    0.1984126989855865850e-3,
    0.1388888888914497797e-2,
    0.8333333333314938210e-2,
    0.4166666666666602598e-1,
    0.1666666666666669072e0,
)
_LOGK_C = (
    0.116255524079935043668677,
    0.103239680901072952701192,
    0.117754809412463995466069,
    0.13332981086846273921509,
    0.153846227114512262845736,
    0.181818180850050775676507,
    0.222222222230083560345903,
    0.285714285714249172087875,
    0.400000000000000077715612,
)
_EXPK_C = (
    2.51069683420950419527139e-08,
    2.76286166770270649116855e-07,
    2.75572496725023574143864e-06,
    2.48014973989819794114153e-05,
    0.000198412698809069797676111,
    0.0013888888939977128960529,
    0.00833333333332371417601081,
    0.0416666666665409524128449,
    0.166666666666666740681535,
    0.500000000000000999200722,
)


def exp(d):
    """SLEEF's expd4_u10 on a float64 array."""
    d = np.asarray(d, _D)
    u = np.rint(d * _RLN2_D)
    q = _cvt_d(u)
    s = _fma64(u, -_L2U_D, d)
    s = _fma64(u, -_L2L_D, s)
    s2 = s * s
    s4 = s2 * s2
    s8 = s4 * s4
    p = _poly10(s, s2, s4, s8, _EXP_C)
    p = _fma64(p, s, 0.5)
    p = _fma64(p, s, 1.0)
    p = _fma64(p, s, 1.0)
    p = _ldexp2_d(p, q)
    p = np.where(d > _EXP_MAX, np.inf, p)
    return np.where(d < -1000.0, 0.0, p)


def _logk(d):
    """log(d) as a double-double, d >= 0 finite (pow replaces the other cases)."""
    f = _fma64
    tiny = d < 2.2250738585072014e-308
    d = np.where(tiny, d * 18446744073709551616.0, d)  # 2^64
    top = (d * (1.0 / 0.75)).view(np.uint64) >> np.uint64(52)
    e = (top.astype(np.uint32).view(_I) & _I(0x7FF)) - _I(0x3FF)
    shift = (_I(0) - e).view(np.uint32).astype(np.uint64) << np.uint64(52)
    m = (d.view(np.uint64) + shift).view(_D)
    e = np.where(tiny, e - _I(64), e)
    x = _div(_add2_f_f(-1.0, m), _add2_f_f(1.0, m), f, 1.0)
    x2 = _squ(x, f)
    x4 = x2[0] * x2[0]
    x8 = x4 * x4
    x16 = x8 * x8
    t = _poly9(x2[0], x4, x8, x16, _LOGK_C)
    cc = (0.666666666666666629659233, 3.80554962542412056336616e-17)
    s = _mul_f2_f((0.693147180559945286226764, 2.319046813846299558417771e-17), e.astype(_D), f)
    s = _add_f2_f2(s, (x[0] * 2.0, x[1] * 2.0))
    xx = _mul_f2_f2(x2, x, f)
    s = _add_f2_f2(s, _mul_f2_f2(xx, cc, f))
    xx = _mul_f2_f2(x2, xx, f)
    return _add_f2_f2(s, _mul_f2_f(xx, t, f))


def _expk(d):
    """exp of a double-double."""
    dq = np.rint((d[0] + d[1]) * _RLN2_D)
    q = _cvt_d(dq)
    s = _add2_f2_f(d, dq * -_L2U_D)
    s = _add2_f2_f(s, dq * -_L2L_D)
    s = _normalize(s)
    s2 = s[0] * s[0]
    s4 = s2 * s2
    s8 = s4 * s4
    u = _poly10(s[0], s2, s4, s8, _EXPK_C)
    t = _add_f_f2(1.0, s)
    t = _add_f2_f2(t, _mul_f2_f(_squ(s, _fma64), u, _fma64))
    r = _ldexp2_d(t[0] + t[1], q)
    return np.where(d[0] < -1000.0, 0.0, r)


def pow(x, y):
    """SLEEF's powd4_u10: x ** y within 1 ulp with C99's special cases (float64, broadcast)."""
    x, y = np.broadcast_arrays(np.asarray(x, _D), np.asarray(y, _D))
    yint = np.trunc(y) == y  # also +-inf
    half = y * 0.5
    yodd = (np.abs(y) < 9007199254740992.0) & yint & ~(np.trunc(half) == half)
    d = _mul_f2_f(_logk(np.abs(x)), y, _fma64)
    r = _expk(d)
    r = np.where(d[0] > _EXP_MAX, np.inf, r)
    r = r * _sel(x > 0, 1.0, _sel(yint, _sel(yodd, -1.0, 1.0), np.nan))
    efx = _xorsign(np.abs(x) - 1.0, y)
    yinf = np.where(efx < 0, 0.0, _sel(efx == 0, 1.0, np.inf))
    r = np.where(np.isinf(y), yinf, r)
    xzero = x == 0
    mag = _sel(np.signbit(y) ^ xzero, 0.0, np.inf)
    edge = _xorsign(mag, _sel(yodd, x, 1.0))
    r = np.where(np.isinf(x) | xzero, edge, r)
    r = np.where(np.isnan(x) | np.isnan(y), np.nan, r)
    return np.where((y == 0) | (x == 1), 1.0, r)
