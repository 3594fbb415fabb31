"""Property-based tests (hypothesis): random shapes, broadcasts and values, cpp vs the reference.

Every property builds the same inputs on the cpp backend and on the NumPy reference, runs the op
forward and backward (with a random upstream gradient), and checks that cpp agrees with the
reference within the tolerance table (tolerances.py; reductions over K terms widen by sqrt(K),
measured against a bound on the sum of the terms' magnitudes, not the possibly cancelled sum).

Deterministic: `derandomize=True` (the examples are a function of the test's source) and no
example database; each test runs at most MAX_EXAMPLES examples. conftest.py prints how many
examples ran in total.
"""

import collections

import numpy as np
import tapegrad as tg
import tapegrad.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from tolerances import assert_close

MAX_EXAMPLES = 120
EXAMPLES = collections.Counter()  # test name -> examples run (read by conftest.py)

SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DTYPES = st.sampled_from([tg.float32, tg.float16])


def values(draw, shape, lo=-2.0, hi=2.0, away=0.0):
    """A float32 array of `shape` with entries in [lo, hi] (|x| >= away when away > 0)."""
    lo, hi = float(np.float32(lo)), float(np.float32(hi))
    elems = st.floats(lo, hi, width=32, allow_nan=False, allow_infinity=False)
    a = draw(hnp.arrays(np.float32, shape, elements=elems))
    if away:
        a = np.where(np.abs(a) < away, np.where(a < 0, -away, away), a).astype(np.float32)
    return a


def run_both(fn, arrays, dtype, grad_out, rg=None):
    """fn(*tensors) on both backends; returns {backend: (output, [input grads])} as float64."""
    out = {}
    for be in ("numpy", "cpp"):
        with tg.use_backend(be):
            xs = [
                tg.tensor(a, dtype=dtype, requires_grad=True if rg is None else rg[i])
                for i, a in enumerate(arrays)
            ]
            y = fn(*xs)
            g = tg.tensor(grad_out(tuple(y.shape)), dtype=y.dtype)
            y.backward(g)
            grads = [None if x.grad is None else x.grad.numpy().astype(np.float64) for x in xs]
            out[be] = (y.detach().numpy().astype(np.float64), grads, y.dtype)
    assert out["cpp"][2] is out["numpy"][2]
    return out


def compare(out, dtype, k=1, scale=None, gk=None, gscale=None, op=None):
    (ry, rgs, _), (cy, cgs, _) = out["numpy"], out["cpp"]
    assert_close(cy, ry, dtype, k=k, scale=scale, op=op, equal_nan=True, what="forward")
    for i, (rg, cg) in enumerate(zip(rgs, cgs)):
        if rg is None:
            assert cg is None
            continue
        kk = (gk[i] if isinstance(gk, (list, tuple)) else gk) or 1
        sc = gscale[i] if isinstance(gscale, (list, tuple)) else gscale
        assert_close(cg, rg, dtype, k=kk, scale=sc, op=op, backward=True, equal_nan=True,
                     what=f"grad {i}")  # fmt: skip


def upstream(draw):
    seed = draw(st.integers(0, 2**32 - 1))

    def make(shape):
        return np.random.default_rng(seed).uniform(-1.0, 1.0, shape).astype(np.float32)

    return make


def numel(shape):
    return int(np.prod(shape, dtype=np.int64))


# ------------------------------------------------------------------ elementwise, broadcasting

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


@SETTINGS
@given(data=st.data(), op=st.sampled_from(sorted(BINARY)), dtype=DTYPES)
def test_binary_broadcasting(data, op, dtype):
    EXAMPLES["binary"] += 1
    shapes = data.draw(
        hnp.mutually_broadcastable_shapes(
            num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=4
        )  # fmt: skip
    )
    sa, sb = shapes.input_shapes
    a = values(data.draw, sa)
    b = values(data.draw, sb, away=0.5 if op == "div" else 0.0)
    out = run_both(BINARY[op], [a, b], dtype, upstream(data.draw))
    # each input's gradient sums (output numel / input numel) terms of magnitude <= 8
    res = shapes.result_shape
    ks = [max(1, numel(res) // max(1, numel(s))) for s in (sa, sb)]
    compare(out, dtype, gk=ks, gscale=[8.0 * k for k in ks], op=op)


UNARY = {
    "neg": (lambda x: -x, -2, 2),
    "abs": (lambda x: x.abs(), -2, 2),
    "exp": (lambda x: x.exp(), -4, 4),
    "log": (lambda x: x.log(), 0.05, 8),
    "tanh": (lambda x: x.tanh(), -4, 4),
    "relu": (lambda x: x.relu(), -2, 2),
    "sigmoid": (lambda x: x.sigmoid(), -6, 6),
}
SCALAR = {
    "add_scalar": lambda x, s: x + s,
    "rsub_scalar": lambda x, s: s - x,
    "mul_scalar": lambda x, s: x * s,
    "div_scalar": lambda x, s: x / s,
    "rdiv_scalar": lambda x, s: s / x,
    "pow_scalar": lambda x, s: x.abs() ** s,
    "rpow_scalar": lambda x, s: abs(s) ** x,
}
SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)


@SETTINGS
@given(data=st.data(), op=st.sampled_from(sorted(UNARY)), dtype=DTYPES, shape=SHAPES)
def test_unary(data, op, dtype, shape):
    EXAMPLES["unary"] += 1
    fn, lo, hi = UNARY[op]
    x = values(data.draw, shape, lo, hi)
    compare(run_both(fn, [x], dtype, upstream(data.draw)), dtype, op=op)


@SETTINGS
@given(
    data=st.data(),
    op=st.sampled_from(sorted(SCALAR)),
    dtype=DTYPES,
    shape=SHAPES,
    s=st.sampled_from([-2.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 3.0, 0.1]),
)
def test_scalar_ops(data, op, dtype, shape, s):
    EXAMPLES["scalar"] += 1
    away = 0.5 if op in ("rdiv_scalar", "pow_scalar") else 0.0
    x = values(data.draw, shape, -2.0, 2.0, away=away)
    out = run_both(lambda t: SCALAR[op](t, s), [x], dtype, upstream(data.draw))
    compare(out, dtype, op=op)


# ------------------------------------------------------------------ reductions


@SETTINGS
@given(data=st.data(), dtype=DTYPES, shape=SHAPES, mean=st.booleans(), keepdim=st.booleans())
def test_sum_mean(data, dtype, shape, mean, keepdim):
    EXAMPLES["reduce"] += 1
    nd = len(shape)
    dims = data.draw(st.none() | st.lists(st.integers(0, max(nd - 1, 0)), unique=True, max_size=nd))
    if nd == 0 and dims:
        dims = None
    x = values(data.draw, shape)
    red = shape if dims is None else [shape[d] for d in dims] if dims else shape
    k = max(1, numel(red))

    def fn(t):
        return t.mean(dims, keepdim) if mean else t.sum(dims, keepdim)

    out = run_both(fn, [x], dtype, upstream(data.draw))
    compare(out, dtype, k=k, scale=None if mean else 2.0 * k)


# ------------------------------------------------------------------ matmul, linear, losses


@st.composite
def matmul_shapes(draw):
    m, k, n = (draw(st.integers(0, 5)) for _ in range(3))
    ra, rb = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3))
    ba, bb = batch.input_shapes
    sa = (k,) if ra == 1 else tuple(ba[: max(0, ra - 2)]) + (m, k)
    sb = (k,) if rb == 1 else tuple(bb[: max(0, rb - 2)]) + (k, n)
    return sa, sb, k


@SETTINGS
@given(data=st.data(), dtype=DTYPES, shapes=matmul_shapes())
def test_matmul(data, dtype, shapes):
    EXAMPLES["matmul"] += 1
    sa, sb, k = shapes
    a, b = values(data.draw, sa), values(data.draw, sb)
    out = run_both(lambda x, y: x @ y, [a, b], dtype, upstream(data.draw))
    ys = out["numpy"][0].shape
    # a gradient entry sums over the other matrix's free dim and the broadcast batch
    kg = max(1, numel(ys) // max(1, k)) if ys else 1
    compare(out, dtype, k=max(k, 1), scale=4.0 * max(k, 1), gk=kg, gscale=2.0 * kg)


@SETTINGS
@given(
    data=st.data(),
    dtype=DTYPES,
    batch=st.lists(st.integers(0, 4), max_size=2),
    fin=st.integers(0, 6),
    fout=st.integers(0, 6),
    bias=st.booleans(),
)
def test_linear(data, dtype, batch, fin, fout, bias):
    EXAMPLES["linear"] += 1
    x = values(data.draw, tuple(batch) + (fin,))
    w = values(data.draw, (fout, fin))
    arrays = [x, w] + ([values(data.draw, (fout,))] if bias else [])
    out = run_both(lambda *t: F.linear(*t), arrays, dtype, upstream(data.draw))
    rows = max(1, numel(batch))
    k = max(fin, 1)
    compare(
        out, dtype, k=k + 1, scale=4.0 * k + 2, gk=max(rows, fout), gscale=2.0 * max(rows, fout)
    )


@SETTINGS
@given(
    data=st.data(),
    dtype=DTYPES,
    shape=SHAPES,
    loss=st.sampled_from(["mse_loss", "l1_loss"]),
    reduction=st.sampled_from(["mean", "sum", "none"]),
)
def test_losses(data, dtype, shape, loss, reduction):
    EXAMPLES["loss"] += 1
    a, b = values(data.draw, shape), values(data.draw, shape)
    out = run_both(
        lambda x, y: getattr(F, loss)(x, y, reduction=reduction), [a, b], dtype, upstream(data.draw)
    )
    k = max(1, numel(shape))
    scale = 16.0 * k if reduction == "sum" else None
    compare(out, dtype, k=k if reduction != "none" else 1, scale=scale, op=loss)


# ------------------------------------------------------------------ shape ops (exact)


@SETTINGS
@given(data=st.data(), dtype=DTYPES, shape=SHAPES)
def test_shape_ops_are_exact(data, dtype, shape):
    EXAMPLES["shape"] += 1
    nd = len(shape)
    perm = tuple(data.draw(st.permutations(range(nd))))
    index = tuple(
        data.draw(
            st.one_of(
                st.integers(-s, s - 1) if s else st.just(slice(None)),
                st.builds(
                    slice,
                    st.integers(-6, 6) | st.none(),
                    st.integers(-6, 6) | st.none(),
                    st.integers(1, 3) | st.none(),
                ),  # fmt: skip
            )
        )
        for s in shape
    )

    def fn(t):
        y = t.permute(perm) if nd else t
        y = y.reshape(-1) if y.numel() else y.reshape(y.shape)
        y = y.reshape(t.shape)[index]
        return y.unsqueeze(0).squeeze(0).clone().half().float().to(t.dtype)

    x = values(data.draw, shape)
    out = run_both(fn, [x], dtype, upstream(data.draw))
    (ry, rgs, _), (cy, cgs, _) = out["numpy"], out["cpp"]
    np.testing.assert_array_equal(cy, ry)
    np.testing.assert_array_equal(cgs[0], rgs[0])
    want = x.astype(dtype.np).astype(np.float16).astype(np.float64)
    np.testing.assert_array_equal(ry, want.transpose(perm).reshape(shape)[index] if nd else want)


# ------------------------------------------------------------------ mixed dtypes


@SETTINGS
@given(data=st.data(), op=st.sampled_from(sorted(BINARY)))
def test_mixed_dtype_promotion(data, op):
    EXAMPLES["mixed"] += 1
    shapes = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=4))
    sa, sb = shapes.input_shapes
    a = values(data.draw, sa)
    b = values(data.draw, sb, away=0.5 if op == "div" else 0.0)
    g = upstream(data.draw)
    out = {}
    for be in ("numpy", "cpp"):
        with tg.use_backend(be):
            x = tg.tensor(a, dtype=tg.float16, requires_grad=True)
            y = tg.tensor(b, requires_grad=True)
            z = BINARY[op](x, y)
            # PyTorch: a 0-dim float32 does not promote a float16 tensor with dims
            zdt = tg.float16 if y.ndim == 0 and x.ndim > 0 else tg.float32
            assert z.dtype is zdt
            z.backward(tg.tensor(g(tuple(z.shape))))
            assert x.grad.dtype is tg.float16 and y.grad.dtype is tg.float32
            out[be] = [z.detach().numpy(), x.grad.numpy(), y.grad.numpy()]
    ks = [max(1, numel(shapes.result_shape) // max(1, numel(s))) for s in (sa, sb)]
    assert_close(out["cpp"][0], out["numpy"][0], zdt, op=op)
    assert_close(out["cpp"][1], out["numpy"][1], tg.float16, k=ks[0], scale=8.0 * ks[0], op=op,
                 backward=True)  # fmt: skip
    assert_close(out["cpp"][2], out["numpy"][2], zdt, k=ks[1], scale=8.0 * ks[1], op=op,
                 backward=True)  # fmt: skip
