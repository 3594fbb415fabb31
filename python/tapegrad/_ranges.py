"""The values of arange and linspace, computed as PyTorch's CPU kernels compute them (AVX2 build).

Those kernels are compiled with FMA contraction, so `start + step * i` rounds once (the portable
path, TAPEGRAD_NO_SIMD=1, follows the `default` build, which rounds twice); linspace fills
its first half from `start` and its second half from `end`; arange writes blocks of two vectors
(each `base + k * step` from one rounded base) and finishes element by element. One NumPy
implementation serves both backends, so they give the same numbers.
"""

import numpy as np

from ._fma import fma, fma_int, fmaf, simd

# Elements per AVX2 vector (PyTorch's Vectorized<T>::size()) for arange's blocked loop.
_LANES = {"float64": 4, "float32": 8, "float16": 16}
_INT_NAMES = {"int64": "int64_t", "int32": "int", "int16": "int16_t", "int8": "int8_t",
              "uint8": "uint8_t"}  # fmt: skip


def to_int(v, dt):
    """Scalar.to<int type>(): truncation, PyTorch's overflow check, then two's complement wrap
    (an unsigned type accepts negatives down to -max, as c10::overflows does)."""
    v = int(v)
    info = np.iinfo(dt.np)
    bad = v > info.max or v < info.min
    if info.min == 0:
        bad = v > info.max or (v < 0 and -v > info.max)
    if bad:
        raise RuntimeError(
            f"value cannot be converted to type {_INT_NAMES.get(dt.name, dt.name)} without overflow"
        )
    v = _wrap(v, info.bits)
    return v + (1 << info.bits) if info.min == 0 and v < 0 else v


def _wrap(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >= 1 << (bits - 1) else v


def _fused(step, k, base, np_t):
    """base + step * k in np_t (float32 or float64): rounded once as PyTorch's AVX2 build does,
    or product and sum rounded apart on the portable path (its `default` build)."""
    if not simd():
        return np.asarray(np_t(step) * np.asarray(k, np_t) + np.asarray(base, np_t), np_t)
    if np_t is np.float64:
        return fma_int(step, k, base) if np.ndim(step) == 0 else fma(step, k, base)
    return fmaf(step, k, base)


def linspace_values(start, end, steps, dt):
    """PyTorch's linspace(start, end, steps) in dtype dt, as a NumPy array."""
    if steps == 0:
        return np.empty(0, dt.np)
    if not dt.is_floating_point:
        s = to_int(start, dt)
        if steps == 1:  # PyTorch fills with start and never converts end
            return np.array([s], np.int64).astype(dt.np)
        e = to_int(end, dt)
        step = (float(e) - float(s)) / (steps - 1)  # double for every integer type
        v = _halves(float(s), float(e), np.float64(step), steps, np.float64)
        return _trunc_wrap(v, dt)
    t = dt.np.type
    with np.errstate(over="ignore", invalid="ignore"):
        s, e = t(start), t(end)
        if steps == 1:
            return np.array([s], dt.np)
        step = t(e - s) / t(steps - 1)
        if dt.np == np.float16:  # c10::Half rounds after every operation: no fusing
            i = np.arange(steps)
            h = steps // 2
            lo = s + step * i[:h].astype(np.float16)
            hi = e - step * (steps - 1 - i[h:]).astype(np.float16)
            return np.concatenate([lo, hi]).astype(np.float16)
        return _halves(s, e, step, steps, t)


def _halves(s, e, step, steps, t):
    i = np.arange(steps)
    h = steps // 2
    lo = _fused(step, i[:h].astype(t), s, t)
    hi = _fused(-step, (steps - 1 - i[h:]).astype(t), e, t)
    return np.concatenate([lo, hi]).astype(t)


def _trunc_wrap(v, dt):
    """double -> integer dtype: C++'s truncating conversion (values lie between start and end)."""
    with np.errstate(invalid="ignore"):
        return np.trunc(v).astype(np.int64).astype(dt.np)


def arange_size(start, end, step, dt):
    """PyTorch's element count: int64 outputs count in (truncated) integers, others in double."""
    if dt.name == "int64":
        s, e, st = int(start), int(end), int(step)
        if st == 0:
            raise RuntimeError("step must be nonzero")
        sgn = (st > 0) - (st < 0)
        num = e - s + st - sgn
        q = abs(num) // abs(st)  # C++ division truncates towards zero
        return q if (num >= 0) == (st > 0) else -q
    return int(np.ceil((float(end) - float(start)) / float(step)))


def arange_values(start, step, n, dt):
    """PyTorch's arange values: n elements from start by step, in dtype dt."""
    if not dt.is_floating_point:
        s, st = int(start), int(step)  # a fractional step may truncate to 0, as in PyTorch
        v = (np.arange(n, dtype=np.int64) * np.int64(_wrap(st, 64))) + np.int64(_wrap(s, 64))
        return v.astype(dt.np)
    half = dt.np == np.float16
    acc = np.float32 if half else np.float64  # PyTorch's acc_type on the CPU
    s, st = acc(start), acc(step)
    lanes = _LANES[dt.name]
    nvec = n - n % (2 * lanes)
    out = np.empty(n, dt.np)
    with np.errstate(over="ignore", invalid="ignore"):
        # vector part: one base per vector, rounded to the dtype, then base + k * step in acc
        starts = np.arange(0, nvec, lanes).astype(acc)
        base = _fused(st, starts, s, acc).astype(dt.np).astype(acc)
        k = np.arange(lanes).astype(acc)
        vec = _fused(st, np.broadcast_to(k, (len(starts), lanes)), base[:, None], acc)
        vec[:, 0] = base  # lane 0 is the base itself (keeps its sign of zero)
        out[:nvec] = vec.reshape(-1).astype(dt.np)
        out[nvec:] = _fused(st, np.arange(nvec, n).astype(acc), s, acc).astype(dt.np)
    return out
