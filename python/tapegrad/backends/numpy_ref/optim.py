"""The numpy backend's optimizer kernels: `sgd_update` and `adam_update` (docs/backends.md,
"Optimizer kernels"), as plain functions on NTensor.

They follow the rounding contract line by line: every line is one PyTorch tensor op, computed
in float32 (float64 for float64 parameters) and rounded to the parameter's dtype where
PyTorch's CPU kernel stores its result; the fused multiply-adds of PyTorch's AVX2 kernels are
emulated exactly in float32 (`_fma32`) and all but exactly in float64 (`_fma64`). They write
into the tensors' storage arrays in place, bump the version counters and ignore grad mode
(nothing is recorded on the tape).
"""

import numpy as np

_F32 = np.dtype(np.float32)
_F16 = np.dtype(np.float16)


def _arr(t, what):
    arr = getattr(t, "_arr", None)
    if arr is None:
        be = getattr(t, "_be", None)
        if be is not None:
            raise RuntimeError(
                "expected all tensors to be on the same backend, but found at least two: "
                f"numpy and {be.name}"
            )
        raise TypeError(f"optimizer: {what} must be a tapegrad tensor, got {type(t).__name__}")
    return arr


def _describe(arr):
    return f"[{arr.dtype.name} {tuple(arr.shape)}]"


def _same(p_arr, arr, what):
    if arr.shape != p_arr.shape or arr.dtype != p_arr.dtype:
        raise RuntimeError(
            f"optimizer: {what} of {_describe(arr)} does not match the parameter's "
            f"{_describe(p_arr)}"
        )


_F64 = np.dtype(np.float64)
# PyTorch's float16 add runs its last numel % 32 elements in Half arithmetic (see _rounding).
_HALF_CHUNK = 32


def _fma32(a, b, c):
    """float32 fused a*b + c, rounded once. a*b is exact in float64; the float64 sum is made
    round-to-odd (TwoSum gives its error), so that its rounding to float32 is the correct one."""
    a, b, c = (np.asarray(x, _F32).astype(_F64) for x in (a, b, c))
    p = a * b
    s = p + c
    bv = s - p
    err = (p - (s - bv)) + (c - bv)
    bits = np.asarray(s).view(np.int64)
    nudge = (err != 0) & ((bits & 1) == 0) & np.isfinite(s)
    step = np.where((err > 0) == (s > 0), 1, -1)
    s = np.where(nudge, (bits + step).view(_F64), s)
    return s.astype(_F32)


def _fma64(a, b, c):
    """float64 fused a*b + c: Dekker's exact product and TwoSum, summed (the correctly rounded
    result but in rare near-tie cases)."""
    a, b, c = (np.asarray(x, _F64) for x in (a, b, c))
    p = a * b
    split = 134217729.0  # 2**27 + 1

    def halves(x):
        t = split * x
        hi = t - (t - x)
        return hi, x - hi

    ah, al = halves(a)
    bh, bl = halves(b)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl  # p + e == a * b exactly
    s = p + c
    bv = s - p
    t = (p - (s - bv)) + (c - bv)
    return np.where(np.isfinite(p), s + (t + e), p + c)


def _rounding(dtype):
    """(C, R, H, add, fma) for storage `dtype`.

    C is the compute dtype (float64 for float64 storage, else float32); R rounds a C array to
    the storage dtype (keeping C); H turns a Python float into the scalar PyTorch's kernels take
    for this dtype (`Scalar.to<scalar_t>()`); fma(a, b, c) is a*b + c rounded once in C, as
    PyTorch's AVX2 kernels compute add(alpha), lerp_ and addcmul_ (compiled with FMA
    contraction). add(a, b, s) is PyTorch's CPU `a.add(b, alpha=s)`: fused, except in a float16
    tensor's last numel % 32 elements, which compute `a + alpha*b` in Half arithmetic (alpha and
    the product rounded to float16).
    """
    if dtype == _F64:

        def add(a, b, s):
            return _fma64(np.float64(s), b, a)

        return _F64, np.asarray, np.float64, add, _fma64

    if dtype == _F16:

        def R(x):
            return np.asarray(x, _F32).astype(_F16).astype(_F32)

        def H(s):
            return np.float32(np.float16(np.float32(s)))

        def add(a, b, s):
            s = H(s)
            out = _fma32(s, b, a)
            k = out.size // _HALF_CHUNK * _HALF_CHUNK
            flat, af, bf = out.reshape(-1), np.asarray(a).reshape(-1), np.asarray(b).reshape(-1)
            flat[k:] = af[k:] + R(s * bf[k:])
            return R(out)

        return _F32, R, H, add, _fma32

    def add(a, b, s):
        return _fma32(np.float32(s), b, a)

    return _F32, np.asarray, np.float32, add, _fma32


def _bump(t):
    t._ver[0] += 1


def sgd_update(p, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize, cell=None):
    """One torch.optim.SGD step on `p` (in place). Returns the momentum buffer (created on the
    first momentum step) or None without momentum."""
    P = _arr(p, "param")
    G = _arr(g, "grad")
    _same(P, G, "grad")
    momentum = float(momentum)
    if momentum != 0.0 and buf is not None:
        B = _arr(buf, "momentum buffer")
        _same(P, B, "momentum buffer")
    C, R, H, add, _ = _rounding(P.dtype)
    with np.errstate(all="ignore"):
        d = G.astype(C)
        if maximize:
            d = -d
        if weight_decay != 0:
            d = add(d, P.astype(C), weight_decay)
        new_buf = None
        if momentum != 0.0:
            if buf is None:
                b = d
                new_buf = p._be.from_numpy(d.astype(P.dtype), False)
            else:
                b = R(B.astype(C) * C.type(momentum))
                b = add(b, d, 1.0 - dampening)
                B[...] = b.astype(P.dtype)
                _bump(buf)
                new_buf = buf
            d = add(d, b, momentum) if nesterov else b
        P[...] = add(P.astype(C), d, -lr).astype(P.dtype)
    _bump(p)
    return new_buf


def adam_update(
    p, g, exp_avg, exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay, maximize, cell=None
):
    """One torch.optim.Adam step (amsgrad=False) on `p`, `exp_avg` and `exp_avg_sq` (in place).
    `step` is the float32 0-d step-count tensor; it is incremented first, as in PyTorch."""
    P = _arr(p, "param")
    G = _arr(g, "grad")
    M = _arr(exp_avg, "exp_avg")
    V = _arr(exp_avg_sq, "exp_avg_sq")
    _same(P, G, "grad")
    _same(P, M, "exp_avg")
    _same(P, V, "exp_avg_sq")
    S = _arr(step, "step")  # the float32 0-d step count: incremented here, as PyTorch does
    S[...] += np.float32(1.0)
    _bump(step)
    step = float(S)
    C, R, H, add, fma = _rounding(P.dtype)
    bc1 = 1.0 - beta1**step
    bc2 = 1.0 - beta2**step
    step_size = lr / bc1
    bc2_sqrt = bc2**0.5
    c = C.type
    w = c(1.0 - beta1)
    with np.errstate(all="ignore"):
        d = G.astype(C)
        if maximize:
            d = -d
        if weight_decay != 0:
            d = add(d, P.astype(C), weight_decay)
        m = M.astype(C)
        if abs(w) < 0.5:  # lerp_(d, w): PyTorch's two-sided formula, fused
            m = R(fma(w, d - m, m))
        else:
            m = R(fma(w - c(1.0), d - m, d))
        v = R(V.astype(C) * c(beta2))  # mul_(beta2)
        v = R(fma(c(1.0 - beta2) * d, d, v))  # addcmul_(d, d, value=1 - beta2)
        denom = R(np.sqrt(v))
        denom = R(denom / c(bc2_sqrt))
        denom = R(denom + c(H(eps)))  # add_(eps) takes eps in the storage dtype
        M[...] = m.astype(P.dtype)
        V[...] = v.astype(P.dtype)
        P[...] = R(P.astype(C) + (c(-step_size) * m) / denom).astype(P.dtype)
    _bump(p)
    _bump(exp_avg)
    _bump(exp_avg_sq)
    return None
