"""The distributions beyond uniform and normal (bernoulli, exponential, random_, multinomial), as
NumPy arrays drawn from a generator's engine, in PyTorch's order and with its transformations
(ATen's DistributionsHelper.h / TransformationHelper.h and its CPU kernels; docs/random.md).

Every kernel here is serial in PyTorch: one element after another, in memory order."""

import math
import warnings

import numpy as np

from . import _dtype as D
from ._random import _gen, _num, _refuse_in_capture


def unit_doubles(g, n):
    """n 53-bit uniforms in [0, 1), two 32-bit draws each (PyTorch's uniform_real<double>)."""
    u = np.empty(n, np.float64)
    g._e.uniform_(u, 0.0, 1.0)  # fma(x, 1, 0) is x
    return u


def unit_floats(g, n):
    """n 24-bit uniforms in [0, 1), one 32-bit draw each (uniform_real<float>)."""
    u = np.empty(n, np.float32)
    g._e.uniform_(u, 0.0, 1.0)
    return u


def bernoulli_scalar(shape, p, dt, generator=None):
    """`bernoulli_(p)` for a number p: a double uniform per element, 1 where u < p."""
    _refuse_in_capture("bernoulli_()")
    p = float(p)
    if not 0.0 <= p <= 1.0:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_num(p)}")
    n = math.prod(shape)
    u = unit_doubles(_gen(generator), n)
    return (u < p).reshape(shape).astype(dt.np)


def bernoulli_tensor(probs, dt, generator=None):
    """`bernoulli(p)` for a tensor of probabilities (already broadcast, as a NumPy array): a
    double uniform against float64 p, a float uniform against float32 / float16 p."""
    _refuse_in_capture("bernoulli()")
    if probs.dtype.kind != "f":
        raise NotImplementedError(
            f"\"bernoulli_tensor_cpu_p_\" not implemented for '{scalar_name(probs.dtype)}'"
        )
    flat = np.ascontiguousarray(probs).reshape(-1)
    g = _gen(generator)
    if flat.dtype == np.float64:
        p, u = flat, unit_doubles(g, flat.size)
    else:
        p, u = flat.astype(np.float32), unit_floats(g, flat.size)
    if flat.size and not bool(np.all((p >= 0) & (p <= 1))):
        raise RuntimeError(
            "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
            "message be improved?  If so, please report an enhancement request to PyTorch.)"
        )
    return (u < p).reshape(probs.shape).astype(dt.np)


def exponential(shape, lambd, dt, generator=None):
    """`exponential_(lambd)`: -1/lambd * log1p(-u) in double from a double uniform, then
    converted to the dtype (float16 through float, as ATen's Half conversion)."""
    _refuse_in_capture("exponential_()")
    if not dt.is_floating_point:
        raise RuntimeError(
            "Exponential distribution is a continuous probability distribution. dtype must be a "
            f"floating point but you specified {scalar_name(dt)}"
        )
    lambd = float(lambd)
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_num(lambd)}")
    u = unit_doubles(_gen(generator), math.prod(shape))
    scale = -1.0 / lambd
    # the C library's log1p, as PyTorch calls it (NumPy's own loop may round differently)
    out = np.array([scale * math.log1p(-x) for x in u.tolist()], np.float64).reshape(shape)
    if dt is D.float16:
        return out.astype(np.float32).astype(np.float16)
    return out.astype(dt.np)


_DIGITS = {"float16": 11, "float32": 24, "float64": 53}
# ATen's ScalarType names (in "not implemented for 'Long'") and C++ type names (in bounds errors)
SCALAR_NAMES = dict(zip("float16 float32 float64 int64 int32 int16 int8 uint8 bool".split(),
                        "Half Float Double Long Int Short Char Byte Bool".split()))  # fmt: skip
_CPP_NAMES = dict(zip("float16 float32 float64 int64 int32 int16 int8 uint8 bool".split(),
                      ("c10::Half", "float", "double", "long", "int", "short", "signed char",
                       "unsigned char", "bool")))  # fmt: skip


def scalar_name(dt):
    return SCALAR_NAMES[D.to_dtype(dt).name]


def _upper(dt):
    """The largest value random_ may produce for dt (to - 1 without a `to`)."""
    if dt.is_floating_point:
        return 1 << _DIGITS[dt.name]
    if dt is D.bool:
        return 1
    return int(np.iinfo(dt.np).max)


def _check_bound(v, dt, what):
    if dt.is_floating_point:
        if not abs(v) <= float(np.finfo(dt.np).max):
            raise RuntimeError(f"{what} is out of bounds for {_CPP_NAMES[dt.name]}")
        digits = _DIGITS[dt.name]
        if abs(v) > 1 << digits:
            warnings.warn(
                f"{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision "
                f"limitations {_CPP_NAMES[dt.name]} can support discrete uniform distribution "
                "only within this range. This warning will become an error in version 1.7 "
                "release, please fix the code in advance",
                UserWarning,
                stacklevel=4,
            )
    elif dt is D.bool:
        if not 0 <= v <= 1:
            raise RuntimeError(f"{what} is out of bounds for bool")
    else:
        info = np.iinfo(dt.np)
        if not info.min <= v <= info.max:
            raise RuntimeError(f"{what} is out of bounds for {_CPP_NAMES[dt.name]}")


def random_(shape, dt, from_=None, to=None, generator=None):
    """`Tensor.random_()` (both None), `random_(to)` (from_ None), `random_(from, to)` and
    `random_(from, None)` (up to the dtype's largest): integers drawn as PyTorch's random kernels
    do (32-bit draws, 64-bit for wide ranges; `draw % range + from`)."""
    _refuse_in_capture("random_()")
    g = _gen(generator)
    n = math.prod(shape)
    out = np.empty(n, np.int64)
    if from_ is None and to is None:
        # uniform_int: 64-bit draws for int64 and float64, % (max + 1) or % (2**digits + 1)
        if dt is D.int32:  # 32-bit draws; randint_ would take 64 bits for this range
            out[:] = [g._e.random() & 0x7FFFFFFF for _ in range(n)]
        elif dt is D.int64:  # % 2**63, a range randint_ cannot take
            out[:] = [g._e.random64() & 0x7FFFFFFFFFFFFFFF for _ in range(n)]
        else:  # the same draws as randint_(0, max + 1): 32-bit below 2**28, 64-bit above
            g._e.randint_(out, 0, _upper(dt) + 1)
        return out.reshape(shape).astype(dt.np)
    lo = 0 if from_ is None else int(from_)
    hi = _upper(dt) + 1 if to is None else int(to)
    if from_ is not None:
        _check_bound(lo, dt, "from")
    _check_bound(hi - 1, dt, "to - 1")
    if lo >= hi:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={lo} >= to={hi}"
        )
    g._e.randint_(out, lo, hi)
    return out.reshape(shape).astype(dt.np)


def multinomial(probs, num_samples, replacement, generator=None):
    """`multinomial(input, n, replacement)` on a 1-D or 2-D NumPy array, as ATen computes it:
    without replacement (or n == 1) argmax / top-n of `p / q` with q ~ Exp(1) drawn like
    exponential_; with replacement a double uniform per sample searched in the normalized
    cumulative sums (accumulated in the input's dtype, float for float16)."""
    _refuse_in_capture("multinomial()")
    if probs.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if probs.dtype.kind != "f":
        raise RuntimeError(
            "multinomial only supports floating-point dtypes for input, got: "
            f"{scalar_name(probs.dtype)}"
        )
    n = int(num_samples)
    if n <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    k = probs.shape[-1]
    if not replacement and n > k:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    if k > 1 << 24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    rows = probs.reshape(-1, k)
    out_shape = (n,) if probs.ndim == 1 else (rows.shape[0], n)
    if rows.size == 0:
        return np.zeros(out_shape, np.int64)
    g = _gen(generator)
    if not replacement or n == 1:
        if not (np.all(rows < np.inf) and np.all(rows >= 0)):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if np.any(rows.astype(np.float64).sum(axis=1) == 0):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        q = exponential(rows.shape, 1.0, D.to_dtype(rows.dtype), g)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = rows / q
        # topk's order: largest first (ties, which need equal quotients, are not defined)
        idx = np.argsort(-q, axis=1, kind="stable")[:, :n]
        return idx.reshape(out_shape).astype(np.int64)
    acc = np.float32 if rows.dtype == np.float16 else rows.dtype.type
    out = np.empty((rows.shape[0], n), np.int64)
    for r, row in enumerate(rows.astype(acc)):
        cum = np.empty(k, acc)
        s = acc(0)
        for j, v in enumerate(row):
            if not v >= 0:
                raise RuntimeError(
                    "invalid multinomial distribution (encountering probability entry < 0)"
                )
            if not np.isfinite(v):
                raise RuntimeError(
                    "invalid multinomial distribution (encountering probability entry = "
                    "infinity or NaN)"
                )
            s = acc(s + v)
            cum[j] = s
        if not s > 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        cum = (cum / s).astype(acc)
        cum[-1] = 1
        u = unit_doubles(g, n)
        out[r] = np.searchsorted(cum.astype(np.float64), u, side="left")
    return out.reshape(out_shape)
