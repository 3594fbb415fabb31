"""The numpy backend's optimizer kernels: `sgd_update` and `adam_update` (docs/backends.md,
"Optimizer kernels"), as plain functions on NTensor.

They follow the rounding contract line by line: every line is one PyTorch tensor op, computed
in float32 (NumPy float32 arithmetic is IEEE, never fused) and rounded to the parameter's dtype
where PyTorch's CPU kernel stores its result. They write into the tensors' storage arrays in
place, bump the version counters and ignore grad mode (nothing is recorded on the tape).
"""

import math

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


def _fma(a, b, c):
    """float32 fused a*b + c, rounded once to float32. a*b of two float32 values is exact in
    float64; the float64 sum then rounds to float32 (a double rounding that differs from a true
    fma with probability ~2**-29 per element)."""
    return (np.asarray(a, _F64) * np.asarray(b, _F64) + np.asarray(c, _F64)).astype(_F32)


def _rounding(dtype):
    """(R, H, add) for storage `dtype`.

    R rounds a float32 array to the storage dtype (keeping float32); H turns a Python float into
    float32 and rounds it to the storage dtype (PyTorch's `Scalar.to<scalar_t>()`); add(a, b, s)
    is PyTorch's CPU `a.add(b, alpha=s)`: one fused multiply-add in float32, and for float16 its
    element-wise Half path, `a + alpha*b` with alpha and the product rounded to float16.
    """
    if dtype == _F16:

        def R(x):
            return np.asarray(x, _F32).astype(_F16).astype(_F32)

        def H(s):
            return np.float32(np.float16(np.float32(s)))

        def add(a, b, s):
            return R(a + R(H(s) * b))

        return R, H, add

    def R(x):
        return np.asarray(x, _F32)

    def H(s):
        return np.float32(s)

    def add(a, b, s):
        return _fma(np.float32(s), b, a)

    return R, H, add


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
    R, H, add = _rounding(P.dtype)
    with np.errstate(all="ignore"):
        d = G.astype(_F32)
        if maximize:
            d = -d
        if weight_decay != 0:
            d = add(d, P.astype(_F32), weight_decay)
        new_buf = None
        if momentum != 0.0:
            if buf is None:
                b = d
                new_buf = p._be.from_numpy(d.astype(P.dtype), False)
            else:
                b = R(B.astype(_F32) * np.float32(momentum))
                b = add(b, d, 1.0 - dampening)
                B[...] = b.astype(P.dtype)
                _bump(buf)
                new_buf = buf
            d = add(d, b, momentum) if nesterov else b
        P[...] = add(P.astype(_F32), d, -lr).astype(P.dtype)
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
    R, H, add = _rounding(P.dtype)
    bc1 = 1.0 - beta1**step
    bc2 = 1.0 - beta2**step
    step_size = lr / bc1
    bc2_sqrt = math.sqrt(bc2)
    w = np.float32(1.0 - beta1)
    with np.errstate(all="ignore"):
        d = G.astype(_F32)
        if maximize:
            d = -d
        if weight_decay != 0:
            d = add(d, P.astype(_F32), weight_decay)
        m = M.astype(_F32)
        if abs(w) < 0.5:  # lerp_(d, w): PyTorch's two-sided formula, fused
            m = R(_fma(w, d - m, m))
        else:
            m = R(_fma(w - np.float32(1.0), d - m, d))
        v = R(V.astype(_F32) * np.float32(beta2))  # mul_(beta2)
        v = R(_fma(np.float32(1.0 - beta2) * d, d, v))  # addcmul_(d, d, value=1 - beta2)
        denom = R(np.sqrt(v))
        denom = R(denom / np.float32(bc2_sqrt))
        denom = R(denom + H(eps))
        M[...] = m.astype(P.dtype)
        V[...] = v.astype(P.dtype)
        P[...] = R(P.astype(_F32) + (np.float32(-step_size) * m) / denom).astype(P.dtype)
    _bump(p)
    _bump(exp_avg)
    _bump(exp_avg_sq)
    return None
