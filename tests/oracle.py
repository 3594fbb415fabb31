"""The float64 oracle machinery: op cases, samplers, and the forward + backward check.

The oracle is the reference backend's own kernels (`tapegrad.backends.numpy_ref.KERNELS`) run in
float64, without rounding, on the inputs after rounding them to the tested dtype. The kernels'
derivatives are checked against central finite differences in test_finite_diff.py, so no
formula is written a second time here.

A `Case` names the tape ops it exercises, how to call it through the public API (`fn`) and how to
express that call as reference-kernel calls (`ref`):

- `None`: the kernel named by `ops[0]`, without attributes (most unary and binary ops);
- `"op"` or `("op", {attrs})`: one kernel call, e.g. `("sum", {"dims": (1,), "keepdim": False})`;
- a function `(T, *xs) -> value` for a composition, e.g. `lambda T, a, b: T("add", T("cast", a,
  code=0), b)`: `T(op, *values, **attrs)` applies a kernel and records it, so the input
  gradients follow by the chain rule from the kernels' own backward functions (`Tape`). Each
  value carries the tapegrad dtype the backend stores it in (`x.dtype`), as the public API does.
"""

import dataclasses
from collections.abc import Callable

import numpy as np
import tapegrad as tg
from tapegrad.backends.numpy_ref import KERNELS, Ctx
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


# ------------------------------------------------------------------ the reference in float64

_BY_CODE = {d.code: d for d in (tg.float32, tg.float16)}


def _exact(x):
    return x


def _rounding_to(dtype):
    return lambda x: np.asarray(x).astype(dtype.np).astype(np.float64)


@dataclasses.dataclass(eq=False)
class Value:
    """A float64 array on a `Tape`, and the tapegrad dtype the backend would store it in."""

    array: np.ndarray
    dtype: object

    @property
    def shape(self):
        return self.array.shape

    @property
    def ndim(self):
        return self.array.ndim


def fixed(array):
    """A non-differentiable input of a kernel call (where's condition, index's indices)."""
    return Value(np.asarray(array), None)


class Tape:
    """Reference kernels applied in float64 and recorded, for the chain rule.

    `T(op, *values, **attrs)` runs `KERNELS[op].forward` on a fresh float64 `Ctx` and returns a
    `Value`; `T.backward(out, g, leaves)` runs the recorded kernels' backward functions in
    reverse order and returns d(sum(g * out))/d(leaf) for each leaf. The backward never rounds.

    `saved_rounded=True` rounds each forward result to its storage dtype, as the tape of a
    backend stores it, so a backward that reads the saved output (exp, tanh, sigmoid, ...) sees
    the rounded output the backends see. Only the gradients of such a tape are of use.
    """

    def __init__(self, saved_rounded=False):
        self.saved_rounded = saved_rounded
        self.nodes = []

    def leaf(self, array, dtype):
        return Value(np.asarray(array, dtype=np.float64), dtype)

    def __call__(self, op, *inputs, **attrs):
        kernel = KERNELS[op]
        if op == "cast":
            dtype = _BY_CODE[attrs["code"]]
        else:
            # fixed inputs (a condition, indices: `fixed(...)`) have no float dtype
            dtypes = {v.dtype for v in inputs if v is not None and v.dtype is not None}
            assert len(dtypes) == 1, f"{op} of different dtypes: cast first, as the backends do"
            (dtype,) = dtypes
        ctx = Ctx(np.float64)
        if self.saved_rounded:
            ctx.round = _rounding_to(dtype)
        with np.errstate(all="ignore"):
            y = kernel.forward(ctx, *(None if v is None else v.array for v in inputs), **attrs)
        ctx.round = ctx.round_in = _exact  # the backward is exact in either case
        out = Value(np.asarray(y, dtype=np.float64), dtype)
        self.nodes.append((op, kernel, ctx, inputs, out))
        return out

    @property
    def ops(self):
        return {op for op, *_ in self.nodes}

    def backward(self, out, g, leaves):
        grads = {id(out): np.asarray(g, dtype=np.float64)}
        for _, kernel, ctx, inputs, y in reversed(self.nodes):
            gy = grads.pop(id(y), None)
            if gy is None:
                continue
            with np.errstate(all="ignore"):
                gxs = kernel.backward(ctx, gy)
            for x, gx in zip(inputs, gxs):
                if x is None or gx is None:
                    continue
                gx = np.asarray(gx, dtype=np.float64)
                grads[id(x)] = grads[id(x)] + gx if id(x) in grads else gx
        return [grads.get(id(x), np.zeros(x.shape)) for x in leaves]


def as_function(ref, ops=()):
    """A case's `ref` (None, "op", ("op", attrs) or a function) as a function (T, *xs) -> Value."""
    if callable(ref):
        return ref
    if ref is None:
        ref = ops[0]
    op, attrs = (ref, {}) if isinstance(ref, str) else ref

    def one_kernel(T, *xs):
        return T(op, *xs, **attrs)

    return one_kernel


def reference(ref, arrays, dtypes, g=None, saved_rounded=False):
    """Evaluate `ref` (see `as_function`) on float64 `arrays` stored as `dtypes`.

    Returns (forward, output dtype, input gradients for upstream `g` or None, tape). The
    generic helper of the oracle: `reference("exp", [x], [tg.float32], g)` is the float64
    forward and gradient of the exp kernel.
    """
    T = Tape(saved_rounded)
    xs = [T.leaf(a, dt) for a, dt in zip(arrays, dtypes)]
    y = as_function(ref)(T, *xs)
    grads = None if g is None else T.backward(y, g, xs)
    return y.array, y.dtype, grads, T


# ------------------------------------------------------------------ the case type and the check


@dataclasses.dataclass
class Case:
    id: str
    ops: tuple  # tape op names (docs/backends.md) this case exercises
    fn: Callable  # tapegrad tensors -> tensor
    shapes: tuple
    ref: object = None  # the reference-kernel call(s): see the module docstring
    sample: tuple = ()  # one sampler per input; default standard normal
    k: int | None = None  # terms summed per output element; None: inferred (sum, mean, losses)
    mixed: bool = False  # second input has the other dtype (f16 op f32 promotion)
    # the kernels are sums of products of their arguments (add ... div, matmul, linear, sum):
    # evaluating them on |args| gives the sum of the terms' magnitudes, the scale of a sum's error
    multilinear: bool = False

    def __post_init__(self):
        self.ref = as_function(self.ref, self.ops)

    def __str__(self):
        return self.id

    def dtypes(self, dtype):
        """The tapegrad dtype of each input when the case runs in `dtype`."""
        return [dtype] + [other(dtype) if self.mixed else dtype] * (len(self.shapes) - 1)

    def inputs(self, dtype, rng):
        """Sampled inputs, rounded to their dtypes (NumPy arrays of those dtypes)."""
        samplers = self.sample or (normal(),) * len(self.shapes)
        return [
            s(rng, shape).astype(dt.np)
            for s, shape, dt in zip(samplers, self.shapes, self.dtypes(dtype))
        ]


def _terms(case, shapes, out_size):
    if case.k is not None:
        return case.k
    biggest = max((int(np.prod(s)) for s in shapes), default=1)
    return max(1, biggest // max(out_size, 1))


def run_case(case, dtype, backend, rng):
    """Forward and backward of `case` on `backend` in `dtype`, against the float64 oracle."""
    dts = case.dtypes(dtype)
    arrays = case.inputs(dtype, rng)
    xs = [tg.tensor(a, dtype=dt, requires_grad=True, backend=backend) for a, dt in zip(arrays, dts)]
    x64 = [a.astype(np.float64) for a in arrays]
    op = case.ops[0]

    out = case.fn(*xs)
    expected, out_dt, _, tape = reference(case.ref, x64, dts)
    missing = set(case.ops) - tape.ops
    assert not missing, f"{case.id}: the reference does not use {sorted(missing)}"
    assert out.dtype is out_dt, f"output dtype {out.dtype}, expected {out_dt}"
    assert out.requires_grad and out.grad_fn is not None, "output is not on the tape"
    y = out.detach().numpy()
    assert y.dtype == out_dt.np
    k = _terms(case, case.shapes, expected.size)
    magnitudes = [np.abs(a) for a in x64]
    scale = reference(case.ref, magnitudes, dts)[0] if case.multilinear and k > 1 else None
    assert_close(y, expected, out_dt, k=k, op=op, scale=scale, what=f"{case.id} forward")

    g = rng.standard_normal(y.shape).astype(out_dt.np)
    out.backward(tg.tensor(g, dtype=out_dt, backend=backend))
    g64 = g.astype(np.float64)
    for x, dt in zip(xs, dts):
        assert x.grad is not None, f"{case.id}: an input got no .grad"
        assert x.grad.dtype is dt and tuple(x.grad.shape) == tuple(x.shape)
    grads = [x.grad.numpy() for x in xs]

    # A backward that reads the op's output may see the stored (rounded) output, as PyTorch's
    # and the reference's do, or recompute it exactly; either convention passes.
    exact = reference(case.ref, x64, dts, g64)[2]
    candidates = [exact]
    saved = reference(case.ref, x64, dts, g64, saved_rounded=True)[2]
    if any(not np.array_equal(a, b) for a, b in zip(saved, exact)):
        candidates.append(saved)
    if case.multilinear:
        mags = reference(case.ref, magnitudes, dts, np.abs(g64))[2]
    failures = []
    for want in candidates:
        try:
            assert len(want) == len(xs)
            for i, (got, w, a, dt) in enumerate(zip(grads, want, arrays, dts)):
                assert w.shape == a.shape, f"{case.id}: reference grad {i} has shape {w.shape}"
                kb = max(1, expected.size * k // max(a.size, 1))
                m = np.abs(mags[i] if case.multilinear else w)
                assert_close(
                    got, w, dt, k=kb, op=op, backward=True, scale=m, what=f"{case.id} grad {i}"
                )
            return
        except AssertionError as e:
            failures.append(e)
    raise failures[0]
