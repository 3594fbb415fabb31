"""create_graph=True through the matmul family, the views, and the shape and index ops
(autograd/_diff/views.py): gradgradcheck in float64 on both backends, in-place writes into views
(CopySlices), and third derivatives against closed forms."""

import numpy as np
import pytest
import tapegrad as tg

F = tg.nn.functional


def _idx(like, values):
    return tg.tensor(values, dtype=tg.int64, backend=like._be.name)


def _setitem(a, z):
    y = a * 1
    y[:, 1] = z
    return y


def _mul_row(a):
    y = a * 1
    y[0].mul_(2)
    y[1:, ::2] += y[:-1, 1::2]
    return y


def _set_rows(a, v):
    y = a * 1
    y[_idx(a, [0, 2])] = v
    return y


def _index_put_acc(a, v):
    return a._be.index_put(a, _idx(a, [[0], [2], [0]]), v, True)


# id, fn, input shapes
CASES = [
    ("dot", lambda a, b: a @ b, [(5,), (5,)]),
    ("mv", lambda a, b: a @ b, [(4, 5), (5,)]),
    ("vm", lambda a, b: a @ b, [(5,), (5, 3)]),
    ("mm", lambda a, b: a @ b, [(4, 5), (5, 3)]),
    ("bmm_broadcast", lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)]),
    ("batched_vec", lambda a, b: a @ b, [(2, 3, 4), (4,)]),
    ("vec_batched", lambda a, b: a @ b, [(4,), (2, 4, 3)]),
    ("linear", lambda x, w, b: F.linear(x, w, b), [(2, 3, 4), (3, 4), (3,)]),
    ("linear_nobias", lambda x, w: F.linear(x, w), [(3, 4), (2, 4)]),
    ("linear_1d", lambda x, w, b: F.linear(x, w, b), [(4,), (3, 4), (3,)]),
    (
        "mlp",
        lambda x, w, b, v: F.linear(F.linear(x, w, b).tanh(), v),
        [(3, 4), (5, 4), (5,), (2, 5)],
    ),
    ("addmv", lambda i, a, v: tg.addmv(i, a, v, beta=0.5, alpha=2.0), [(3,), (3, 4), (4,)]),
    (
        "baddbmm",
        lambda i, a, b: tg.baddbmm(i, a, b, beta=0.5, alpha=-1.5),
        [(1, 3, 2), (2, 3, 4), (2, 4, 2)],
    ),
    (
        "addbmm",
        lambda i, a, b: tg.addbmm(i, a, b, beta=2.0, alpha=0.5),
        [(2,), (2, 3, 4), (2, 4, 2)],
    ),
    ("view", lambda a: a.view(3, 4) * a.view(3, 4), [(4, 3)]),
    ("reshape_copy", lambda a: a.t().reshape(-1) ** 2, [(4, 3)]),
    ("permute", lambda a: a.permute(2, 0, -2) ** 2, [(2, 3, 4)]),
    ("transpose_t", lambda a: a.transpose(0, -1) @ a.t().t(), [(3, 4)]),
    ("select", lambda a: a.select(1, 2) * a.select(-1, 0), [(4, 5)]),
    ("slice_step", lambda a: a[1:4, ::2] ** 3, [(5, 6)]),
    ("unsqueeze_squeeze", lambda a: a.unsqueeze(-1).squeeze() * a.unsqueeze(0).squeeze(0), [(6,)]),
    ("squeeze_dim", lambda a: a.squeeze(1) ** 2, [(3, 1, 4)]),
    ("expand", lambda a: a.expand(3, 4, 5) * a, [(4, 1)]),
    ("as_strided", lambda a: a.as_strided((3, 3), (2, 1), 1) ** 2, [(12,)]),
    ("as_strided_overlap", lambda a: a.as_strided((4, 3), (1, 1)) ** 2, [(8,)]),
    ("cat", lambda a, b: tg.cat([a, b * b, a], -1), [(3, 2), (3, 4)]),
    ("cat_chain", lambda a, b: tg.cat([a, b, a * a, b, a, b * b, a], 0) ** 2, [(2, 3), (1, 3)]),
    ("stack_last", lambda a, b: tg.stack([a, b * a], -1), [(3, 4), (3, 4)]),
    ("repeat", lambda a: a.repeat(2, 1, 3) ** 2, [(3, 2)]),
    ("index", lambda a: a[_idx(a, [0, 2, 2])] * a[_idx(a, [1, 1, 3])], [(4, 3)]),
    ("index_2d", lambda a: a[_idx(a, [0, 2, 2]), _idx(a, [1, 1, 0])] ** 2, [(4, 3)]),
    ("gather", lambda a: tg.gather(a, 1, _idx(a, [[0, 1, 1], [2, 0, 0]])) ** 2, [(2, 4)]),
    ("index_select", lambda a: tg.index_select(a, 0, _idx(a, [0, 2, 2])) ** 2, [(4, 3)]),
    ("flip", lambda a: tg.flip(a, (0,)) * a, [(4, 3)]),
    ("masked_select", lambda a: tg.masked_select(a, a > 0) ** 2, [(4, 5)]),
    ("embedding", lambda w: F.embedding(_idx(w, [[1, 3, 3], [0, 1, 2]]), w) ** 2, [(5, 4)]),
    (
        "embedding_pad",
        lambda w: F.embedding(_idx(w, [[1, 3, 3], [0, 1, 2]]), w, padding_idx=3) ** 2,
        [(5, 4)],
    ),
    ("setitem_index", lambda a, v: _set_rows(a * a, v * v), [(4, 3), (2, 3)]),
    ("index_put_acc", lambda a, v: _index_put_acc(a * a, v * v), [(4, 3), (3,)]),
    (
        "scatter",
        lambda a, v: tg.scatter(a * a, 1, _idx(a, [[0, 1], [2, 0]]), v * v),
        [(2, 4), (2, 2)],
    ),
    (
        "scatter_add",
        lambda a, v: tg.scatter_add(a * a, 1, _idx(a, [[0, 0], [2, 0]]), v * v),
        [(2, 4), (2, 2)],
    ),
    ("scatter_value", lambda a: tg.scatter(a * a, 1, _idx(a, [[0, 1], [2, 0]]), 2.0), [(2, 4)]),
    ("setitem_view", lambda a, z: _setitem(a * a, z * z), [(3, 4), (3,)]),
    ("inplace_on_views", lambda a: _mul_row(a * a), [(3, 4)]),
]


@pytest.mark.parametrize("fn,shapes", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_gradgradcheck(fn, shapes, backend):
    rng = np.random.default_rng(sum(map(len, shapes)))
    xs = [
        tg.tensor(rng.standard_normal(s), dtype=tg.float64, requires_grad=True, backend=backend)
        for s in shapes
    ]
    assert tg.autograd.gradgradcheck(fn, xs)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float16], ids=lambda d: d.name)
def test_mlp_gradient_penalty_low_precision(backend, dtype):
    """The hessian-vector path of an MLP runs in float32 and float16 and stays near float64's."""
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s) * 0.5 for s in [(8, 5), (6, 5), (6,), (1, 6)]]

    def penalty(dt):
        x, w, b, v = (tg.tensor(a, dtype=dt, requires_grad=True, backend=backend) for a in arrays)
        y = F.linear(F.linear(x, w, b).tanh(), v).sin().sum()
        (gx,) = tg.autograd.grad(y, x, create_graph=True)
        (gw,) = tg.autograd.grad((gx * gx).sum(), w)
        return gw.numpy().astype(np.float64)

    want = penalty(tg.float64)
    got = penalty(dtype)
    tol = 1e-5 if dtype is tg.float32 else 2e-2
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())


def test_third_order_dot(backend):
    """y = (x.x)^2: the third derivative of y along ones, summed twice, is 16 sum(x) + 8 n x."""
    x0 = np.linspace(-1.2, 0.9, 41)
    x = tg.tensor(x0, dtype=tg.float64, requires_grad=True, backend=backend)
    (g1,) = tg.autograd.grad((x @ x) ** 2, x, create_graph=True)
    (g2,) = tg.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = tg.autograd.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.numpy(), 16 * x0.sum() + 8 * x0.size * x0, rtol=1e-12)


def test_third_order_through_views(backend):
    """sum((a[:, ::2].t() @ a[:, 1::2])^2) with a (2, 2): y = (p^2 + q^2) where p, q are the two
    products; checked against its derivatives written out by hand."""
    a0 = np.array([[0.3, -1.1], [0.7, 0.4]])
    a = tg.tensor(a0, dtype=tg.float64, requires_grad=True, backend=backend)
    m = a[:, ::2].t() @ a[:, 1::2]  # (1, 1): s = a00 a01 + a10 a11
    (g1,) = tg.autograd.grad((m**3).sum(), a, create_graph=True)
    s = (a0[:, 0] * a0[:, 1]).sum()
    swap = a0[:, ::-1]
    np.testing.assert_allclose(g1.detach().numpy(), 3 * s**2 * swap, rtol=1e-13)
    # d/da of sum(g1) = 3 s^2 sum(swap): 6 s sum(swap) swap + 3 s^2 (ones)
    (g2,) = tg.autograd.grad(g1.sum(), a, create_graph=True)
    want2 = 6 * s * swap.sum() * swap + 3 * s**2
    np.testing.assert_allclose(g2.detach().numpy(), want2, rtol=1e-13)
    (g3,) = tg.autograd.grad(g2.sum(), a)
    # sum(g2) = 6 s S^2 + 12 s^2 with S = sum(a): d/da = 6 S^2 swap + 12 s S + 24 s swap
    S = a0.sum()
    want3 = 6 * S**2 * swap + 12 * s * S + 24 * s * swap
    np.testing.assert_allclose(g3.numpy(), want3, rtol=1e-12)


def test_first_order_after_a_sum(backend):
    """A sum's gradient reaches matmul and linear as a broadcast view: create_graph must give
    the same first-order values as a plain backward."""
    rng = np.random.default_rng(5)
    x0, w0 = rng.standard_normal((6, 5)), rng.standard_normal((4, 5))
    for f in (lambda x, w: F.linear(x, w), lambda x, w: x @ w.t()):
        x = tg.tensor(x0, requires_grad=True, backend=backend)
        w = tg.tensor(w0, requires_grad=True, backend=backend)
        (plain,) = tg.autograd.grad(f(x, w).sum(), x)
        (recorded,) = tg.autograd.grad(f(x, w).sum(), x, create_graph=True)
        np.testing.assert_array_equal(recorded.detach().numpy(), plain.numpy())
        np.testing.assert_allclose(plain.numpy(), np.broadcast_to(w0.sum(0), (6, 5)))
