"""The float64 oracle machinery: op cases, samplers, and the forward + backward check.

A `Case` names the tape ops it exercises, how to call it through the public API (`fn`), and its
float64 formulas: `fwd(*xs)` and `bwd(g, y, *xs)` (the analytic input gradients for upstream `g`;
each may have the output's broadcast shape: it is summed back to the input's shape here). The
oracle is plain NumPy float64 applied to the inputs after rounding them to the tested dtype, so
it is independent of both backends.
"""

import dataclasses
from typing import Callable, Optional

import numpy as np
import tapegrad as tg
from tolerances import assert_close

# ------------------------------------------------------------------ samplers (float64 arrays)


def normal(scale=1.0):
    return lambda rng, shape: rng.standard_normal(shape) * scale


def uniform(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def away0(lo=0.5, hi=2.0):
    """|x| in [lo, hi) with a random sign: safe divisors."""
    return lambda rng, shape: rng.uniform(lo, hi, shape) * rng.choice([-1.0, 1.0], shape)


# ------------------------------------------------------------------ helpers


def other(dt):
    return tg.float16 if dt is tg.float32 else tg.float32


def unbroadcast(grad, shape):
    """Sum a broadcast gradient back to `shape` (what autograd does for broadcasting ops)."""
    grad = np.asarray(grad, dtype=np.float64)
    if grad.ndim < len(shape):
        grad = np.broadcast_to(grad, shape)
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for i, s in enumerate(shape):
        if s == 1 and grad.shape[i] != 1:
            grad = grad.sum(axis=i, keepdims=True)
    return np.broadcast_to(grad, shape)


def _functional():
    try:
        import tapegrad.nn.functional as F
    except ImportError:
        return None
    return F


def linear(x, w, b=None):
    """`tapegrad.nn.functional.linear` if it exists, else the backend op."""
    F = _functional()
    if F is not None and hasattr(F, "linear"):
        return F.linear(x, w, b)
    return x._be.linear(x, w, b)


def loss(name, a, b, reduction):
    """`tapegrad.nn.functional.<name>` (mse_loss / l1_loss) if it exists, else the backend op."""
    F = _functional()
    if F is not None and hasattr(F, name):
        return getattr(F, name)(a, b, reduction=reduction)
    return getattr(a._be, name)(a, b, reduction)


# ------------------------------------------------------------------ the case type and the check


@dataclasses.dataclass
class Case:
    id: str
    ops: tuple  # tape op names (docs/backends.md) this case exercises
    fn: Callable  # tapegrad tensors -> tensor
    fwd: Callable  # float64 arrays -> float64 array
    bwd: Callable  # (g, y, *xs) -> one gradient per input
    shapes: tuple
    sample: tuple = ()  # one sampler per input; default standard normal
    k: Optional[int] = None  # terms summed per output element; None: inferred (sum, mean, losses)
    saved_output: bool = False  # bwd may use the rounded output y (as PyTorch's tanh/sigmoid do)
    mixed: bool = False  # second input has the other dtype (f16 op f32 promotion)
    out: str = "same"  # output dtype: "same" as input 0, "other", or "f32"
    # fwd and bwd are sums of products of their arguments (add ... div, matmul, linear, sum):
    # evaluating them on |args| gives the sum of the terms' magnitudes, the scale of a sum's error
    multilinear: bool = False

    def __str__(self):
        return self.id


def _terms(case, shapes, out_size):
    if case.k is not None:
        return case.k
    biggest = max((int(np.prod(s)) for s in shapes), default=1)
    return max(1, biggest // max(out_size, 1))


def run_case(case, dtype, backend, rng):
    """Forward and backward of `case` on `backend` in `dtype`, against the float64 oracle."""
    dts = [dtype] + [other(dtype) if case.mixed else dtype] * (len(case.shapes) - 1)
    samplers = case.sample or (normal(),) * len(case.shapes)
    arrays = [s(rng, shape).astype(dt.np) for s, shape, dt in zip(samplers, case.shapes, dts)]
    xs = [tg.tensor(a, dtype=dt, requires_grad=True, backend=backend) for a, dt in zip(arrays, dts)]
    x64 = [a.astype(np.float64) for a in arrays]
    out_dt = {"same": dtype, "other": other(dtype), "f32": tg.float32}[case.out]
    op = case.ops[0]

    out = case.fn(*xs)
    assert out.dtype is out_dt, f"output dtype {out.dtype}, expected {out_dt}"
    assert out.requires_grad and out.grad_fn is not None, "output is not on the tape"
    expected = np.asarray(case.fwd(*x64), dtype=np.float64)
    y = out.detach().numpy()
    assert y.dtype == out_dt.np
    k = _terms(case, case.shapes, expected.size)
    scale = case.fwd(*map(np.abs, x64)) if case.multilinear and k > 1 else None
    assert_close(y, expected, out_dt, k=k, op=op, scale=scale, what=f"{case.id} forward")

    g = rng.standard_normal(y.shape).astype(out_dt.np)
    out.backward(tg.tensor(g, dtype=out_dt, backend=backend))
    g64 = g.astype(np.float64)
    for x, dt in zip(xs, dts):
        assert x.grad is not None, f"{case.id}: an input got no .grad"
        assert x.grad.dtype is dt and tuple(x.grad.shape) == tuple(x.shape)
    grads = [x.grad.numpy() for x in xs]

    # Backward formulas that use the output may see the stored (rounded) y, as PyTorch's do, or
    # recompute it exactly; either convention passes.
    candidates = [y.astype(np.float64), expected] if case.saved_output else [expected]
    failures = []
    for yy in candidates:
        try:
            want = case.bwd(g64, yy, *x64)
            mags = (
                case.bwd(np.abs(g64), np.abs(yy), *map(np.abs, x64)) if case.multilinear else want
            )
            assert len(want) == len(xs)
            for i, (got, w, m, a, dt) in enumerate(zip(grads, want, mags, arrays, dts)):
                kb = max(1, expected.size * k // max(a.size, 1))
                w, m = unbroadcast(w, a.shape), unbroadcast(np.abs(m), a.shape)
                assert_close(
                    got, w, dt, k=kb, op=op, backward=True, scale=m, what=f"{case.id} grad {i}"
                )
            return
        except AssertionError as e:
            failures.append(e)
    raise failures[0]
