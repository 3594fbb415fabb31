"""The NumPy reference's sums (backends/numpy_ref/cascade.py) give the C++ core's bits: random
shapes, layouts (permuted, strided, expanded), dims and dtypes, sum and mean. Both sum in
PyTorch's order, so any difference is a bug in one of them; TAPEGRAD_NO_SIMD=1 checks the
core's portable path against the same reference."""

import numpy as np
import pytest
import tapegrad as tg
from tapegrad.backends.numpy_ref.cascade import cascade_sum, plan

SIZES = (1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33, 40, 100)
DTYPES = (np.float32, np.float64, np.float16)


def _case(seed):
    rng = np.random.default_rng(seed)
    nd = int(rng.integers(0, 5))
    shape = [int(rng.choice(SIZES)) for _ in range(nd)]
    if nd and np.prod(shape) < 300:  # long enough sums that the order shows
        shape[int(rng.integers(nd))] *= int(rng.choice([1, 17, 65, 300]))
    dt = DTYPES[int(rng.integers(3))]
    x = rng.standard_normal(shape) * np.exp(rng.uniform(-4, 4, shape))
    if rng.random() < 0.05:
        x.flat[rng.integers(x.size)] = np.inf
    view = rng.choice(["plain", "perm", "step", "expand"]) if nd else "plain"
    k = int(rng.integers(0, nd + 1))
    dims = tuple(sorted(int(d) for d in rng.choice(nd, k, replace=False))) if k else None
    return x.astype(dt), view, dims, str(rng.choice(["sum", "mean"])), rng


def _views(x, view, rng):
    """The same view of the core's tensor and of a float32/float64 array with x's strides."""
    wide = x.astype(np.float32) if x.dtype == np.float16 else x.copy()
    t = tg.tensor(x, backend="cpp")
    if view == "perm":
        perm = [int(p) for p in rng.permutation(x.ndim)]
        return t.permute(*perm), wide.transpose(perm)
    if view == "step":
        return t[..., ::2], wide[..., ::2]
    if view == "expand":
        shape = (2,) + x.shape
        return t.expand(*shape), np.broadcast_to(wide, shape)
    return t, wide


@pytest.mark.parametrize("seed", range(300))
def test_reference_sums_as_core(seed):
    x, view, dims, op, rng = _case(seed)
    t, a = _views(x, view, rng)
    if view == "expand" and dims is not None:
        dims = (0,) + tuple(d + 1 for d in dims)
    got = (t.sum() if dims is None else t.sum(dims)) if op == "sum" else None
    if op == "mean":
        got = t.mean() if dims is None else t.mean(dims)
    f16 = x.dtype == np.float16
    want = cascade_sum(a, dims, half_vectors=f16 and op == "sum", as_float=f16 and op == "mean")
    if op == "mean":
        count = a.size // max(want.size, 1) if a.size else 0
        with np.errstate(all="ignore"):
            want = want / want.dtype.type(count)
    got = got.numpy()
    want = np.asarray(want.astype(x.dtype))
    assert got.dtype == want.dtype and got.shape == want.shape
    assert got.tobytes() == want.tobytes(), (x.shape, view, dims, op, x.dtype)


def test_plan_orders_and_merges():
    # reduced dims first, then by stride; contiguous neighbours merge
    assert plan((4, 5, 6), (30, 6, 1), (1, 2)) == [(30, 1, 0), (4, 30, 1)]
    assert plan((4, 5, 6), (30, 6, 1), (0,)) == [(4, 30, 0), (30, 1, 1)]
    assert plan((4, 5, 6), (30, 6, 1), (0, 2)) == [(6, 1, 0), (4, 30, 0), (5, 6, 1)]


def test_order_differs_from_pairwise():
    # the test above must be able to fail: a long float32 sum where np.sum's pairwise order
    # and the cascade round differently
    x = (np.random.default_rng(1).standard_normal(4099) * 1e3).astype(np.float32)
    assert cascade_sum(x).tobytes() == tg.tensor(x, backend="cpp").sum().numpy().tobytes()
    diffs = 0
    for s in range(20):
        y = np.random.default_rng(s).standard_normal(4099).astype(np.float32) * 1e3
        diffs += cascade_sum(y).tobytes() != np.sum(y).tobytes()
    assert diffs > 0


def _backend_views(t, view, rng_seed, ndim):
    rng = np.random.default_rng(rng_seed)
    if view == "perm":
        return t.permute(*[int(p) for p in rng.permutation(ndim)])
    if view == "step":
        return t[..., ::2]
    if view == "expand":
        return t.expand(*((2,) + tuple(t.shape)))
    return t


@pytest.mark.parametrize("seed", range(100))
def test_numpy_backend_sums_as_cpp(seed):
    """The same through both backends' tapes: views of float16 keep their layout when the
    reference widens them, and sum's gradient stays a stride-0 view on both tapes."""
    x, view, dims, op, _ = _case(1000 + seed)
    if x.ndim == 0:
        view = "plain"
    outs = []
    for backend in ("cpp", "numpy"):
        leaf = tg.tensor(x, backend=backend, requires_grad=True)
        t = _backend_views(leaf, view, seed, x.ndim)
        d = dims if view != "expand" or dims is None else (0,) + tuple(i + 1 for i in dims)
        y = getattr(t, op)() if d is None else getattr(t, op)(d)
        b = tg.tensor(np.ones(y.shape[-1:], x.dtype), backend=backend, requires_grad=True)
        (y + b).sum().backward()
        outs.append([y.detach().numpy(), leaf.grad.numpy(), b.grad.numpy()])
    for got, want in zip(*outs):
        assert got.dtype == want.dtype and got.shape == want.shape
        assert got.tobytes() == want.tobytes(), (x.shape, x.dtype, view, dims, op)


def test_float16_view_keeps_its_layout():
    """A float16 view with gaps sums in the view's order on both backends: its columns take the
    scalar-column loop, the same values packed take the vector-column one, and the two round
    differently (large terms that cancel make the small ones' rounding show in float16)."""
    rng = np.random.default_rng(5)
    x = rng.uniform(-1e-3, 1e-3, (64, 80))
    x[0], x[-1] = 3e4, -3e4
    x = x.astype(np.float16)
    got = [tg.tensor(x, backend=b)[:, ::2].sum(0).numpy() for b in ("cpp", "numpy")]
    packed = tg.tensor(np.ascontiguousarray(x[:, ::2]), backend="cpp").sum(0).numpy()
    assert got[0].tobytes() == got[1].tobytes()
    assert got[0].tobytes() != packed.tobytes()
