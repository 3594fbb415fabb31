"""The numpy backend's optimizer kernels: `sgd_update`, `adam_update`, `rmsprop_update` and
`adagrad_update` (docs/backends.md,
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


def _step(step):
    """Increments the float32 0-d step count (PyTorch's state['step']); returns the new count."""
    S = _arr(step, "step")
    S[...] += np.float32(1.0)
    _bump(step)
    return float(S)


def _grad_in(P, G, C, add, maximize, weight_decay):
    """The gradient as the update uses it: negated for maximize, plus weight_decay * p."""
    d = G.astype(C)
    if maximize:
        d = -d
    if weight_decay != 0:
        d = add(d, P.astype(C), weight_decay)
    return d


def _lerp(m, d, w, R, fma):
    """m.lerp_(d, w): PyTorch's two-sided formula, fused."""
    if abs(w) < 0.5:
        return R(fma(w, d - m, m))
    return R(fma(w - type(w)(1.0), d - m, d))


def _sqrt_eps(s, R, c, H, eps):
    """s.sqrt().add_(eps); add_ takes eps in the storage dtype."""
    return R(R(np.sqrt(s)) + c(H(eps)))


def adam_update(
    p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay,
    maximize, decoupled, cell=None,
):  # fmt: skip
    """One torch.optim.Adam step (AdamW's when `decoupled`) on `p`, `exp_avg`, `exp_avg_sq` and
    amsgrad's `max_exp_avg_sq` (None without amsgrad), in place. `step` is the float32 0-d
    step-count tensor; it is incremented first, as in PyTorch."""
    P = _arr(p, "param")
    G = _arr(g, "grad")
    M = _arr(exp_avg, "exp_avg")
    V = _arr(exp_avg_sq, "exp_avg_sq")
    _same(P, G, "grad")
    _same(P, M, "exp_avg")
    _same(P, V, "exp_avg_sq")
    X = None
    if max_exp_avg_sq is not None:
        X = _arr(max_exp_avg_sq, "max_exp_avg_sq")
        _same(P, X, "max_exp_avg_sq")
    step = _step(step)
    C, R, H, add, fma = _rounding(P.dtype)
    bc1 = 1.0 - beta1**step
    bc2 = 1.0 - beta2**step
    step_size = lr / bc1
    bc2_sqrt = bc2**0.5
    c = C.type
    with np.errstate(all="ignore"):
        d = _grad_in(P, G, C, add, maximize, 0 if decoupled else weight_decay)
        p_c = P.astype(C)
        if decoupled and weight_decay != 0:
            p_c = R(p_c * c(1.0 - lr * weight_decay))  # param.mul_(1 - lr * weight_decay)
        m = _lerp(M.astype(C), d, c(1.0 - beta1), R, fma)
        v = R(V.astype(C) * c(beta2))  # mul_(beta2)
        v = R(fma(c(1.0 - beta2) * d, d, v))  # addcmul_(d, d, value=1 - beta2)
        s = v
        if X is not None:  # torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            s = np.maximum(X.astype(C), v)
            X[...] = s.astype(P.dtype)
        denom = R(np.sqrt(s))
        denom = R(denom / c(bc2_sqrt))
        denom = R(denom + c(H(eps)))  # add_(eps) takes eps in the storage dtype
        M[...] = m.astype(P.dtype)
        V[...] = v.astype(P.dtype)
        P[...] = R(p_c + (c(-step_size) * m) / denom).astype(P.dtype)
    for t in (p, exp_avg, exp_avg_sq, max_exp_avg_sq):
        if t is not None:
            _bump(t)
    return None


def rmsprop_update(
    p, g, square_avg, grad_avg, momentum_buffer, step, lr, alpha, eps, weight_decay, momentum,
    maximize, cell=None,
):  # fmt: skip
    """One torch.optim.RMSprop step on `p` and its state (in place). `grad_avg` (centered) and
    `momentum_buffer` (momentum > 0) are None when the options are off; `step` is counted."""
    P = _arr(p, "param")
    G = _arr(g, "grad")
    Q = _arr(square_avg, "square_avg")
    _same(P, G, "grad")
    _same(P, Q, "square_avg")
    A = B = None
    if grad_avg is not None:
        A = _arr(grad_avg, "grad_avg")
        _same(P, A, "grad_avg")
    if momentum_buffer is not None:
        B = _arr(momentum_buffer, "momentum_buffer")
        _same(P, B, "momentum_buffer")
    _step(step)
    C, R, H, add, fma = _rounding(P.dtype)
    c = C.type
    with np.errstate(all="ignore"):
        d = _grad_in(P, G, C, add, maximize, weight_decay)
        sq = R(Q.astype(C) * c(alpha))  # square_avg.mul_(alpha)
        sq = R(fma(c(1.0 - alpha) * d, d, sq))  # .addcmul_(grad, grad, value=1 - alpha)
        Q[...] = sq.astype(P.dtype)
        if A is not None:  # square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
            ga = _lerp(A.astype(C), d, c(1.0 - alpha), R, fma)
            A[...] = ga.astype(P.dtype)
            avg = _sqrt_eps(R(fma(-ga, ga, sq)), R, c, H, eps)
        else:
            avg = _sqrt_eps(sq, R, c, H, eps)
        if B is not None:  # buf.mul_(momentum).addcdiv_(grad, avg); param.add_(buf, alpha=-lr)
            b = R(R(B.astype(C) * c(momentum)) + d / avg)
            B[...] = b.astype(P.dtype)
            P[...] = add(P.astype(C), b, -lr).astype(P.dtype)
        else:
            P[...] = R(P.astype(C) + (c(-lr) * d) / avg).astype(P.dtype)
    for t in (p, square_avg, grad_avg, momentum_buffer):
        if t is not None:
            _bump(t)
    return None


def adagrad_update(p, g, state_sum, step, lr, lr_decay, weight_decay, eps, maximize, cell=None):
    """One torch.optim.Adagrad step on `p` and `state_sum` (in place); `step` is counted."""
    P = _arr(p, "param")
    G = _arr(g, "grad")
    S = _arr(state_sum, "sum")
    _same(P, G, "grad")
    _same(P, S, "sum")
    step = _step(step)
    clr = lr / (1 + (step - 1) * lr_decay)
    C, R, H, add, fma = _rounding(P.dtype)
    c = C.type
    with np.errstate(all="ignore"):
        d = _grad_in(P, G, C, add, maximize, weight_decay)
        s = R(fma(d, d, S.astype(C)))  # state_sum.addcmul_(grad, grad, value=1)
        S[...] = s.astype(P.dtype)
        std = _sqrt_eps(s, R, c, H, eps)
        P[...] = R(P.astype(C) + (c(-clr) * d) / std).astype(P.dtype)
    _bump(p)
    _bump(state_sum)
    return None
