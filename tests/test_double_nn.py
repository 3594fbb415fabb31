"""create_graph formulas of the reductions, softmax and the losses (autograd/_diff/reduce.py,
nn.py): second derivatives by gradgradcheck (finite differences of the first order, float64)
and a few closed forms, on both backends. PyTorch itself is compared by the parity lane
(tests/parity/run.py).
"""

import numpy as np
import pytest
import tapegrad as tg

F = tg.nn.functional
RNG = np.random.default_rng(5)
A = RNG.standard_normal((5, 9))  # 45 elements
B = RNG.standard_normal((3, 4, 5))
T5 = RNG.integers(0, 9, size=5)
W9 = RNG.random(9) + 0.5
P = RNG.random((5, 9)) * 0.8 + 0.1
Y = RNG.random((5, 9))
TIES = np.array([[1.0, 3.0, 3.0, 0.5], [2.0, 2.0, 2.0, 2.0], [5.0, -1.0, 5.0, 4.0]])


def T(values, backend, rg=True):
    return tg.tensor(np.asarray(values, np.float64), requires_grad=rg, backend=backend)


def const(values, backend):
    return tg.tensor(np.asarray(values), backend=backend)


def norm(p, dim=None, keepdim=False):
    return lambda x: tg.linalg.vector_norm(x, p, dim=dim, keepdim=keepdim)


# (name, fn, input) : every op of the assignment, its options and its negative dims
UNARY = [
    ("softmax", lambda x: tg.softmax(x, 1), A),
    ("softmax-3d-dim0", lambda x: tg.softmax(x, 0), B),
    ("log_softmax", lambda x: tg.log_softmax(x, -1), A),
    ("log_softmax-3d", lambda x: tg.log_softmax(x, -2), B),
    ("logsumexp", lambda x: tg.logsumexp(x, 1), A),
    ("logsumexp-keep", lambda x: tg.logsumexp(x, (0, -1), keepdim=True), B),
    ("var-all", lambda x: x.var(), A),
    ("var-dim", lambda x: x.var(-1, correction=0), B),
    ("var-keep", lambda x: x.var((0, 2), keepdim=True, correction=2), B),
    ("std-all", lambda x: x.std(), A),
    ("std-dim", lambda x: x.std(1, keepdim=True), A),
    ("var_mean", lambda x: tg.var_mean(x, 1), A),
    ("std_mean", lambda x: tg.std_mean(x, (0, 2), keepdim=True), B),
    ("amax", lambda x: x.amax(1), A),
    ("amin-keep", lambda x: x.amin((0, -1), keepdim=True), B),
    ("max_all", lambda x: x.max(), A),
    ("min_all", lambda x: x.min(), A),
    ("max_dim", lambda x: x.max(1).values, A),
    ("min_dim-keep", lambda x: x.min(-1, keepdim=True).values, B),
    ("cumsum", lambda x: x.cumsum(1), A),
    ("cumsum-3d", lambda x: x.cumsum(-3), B),
    ("prod_all", lambda x: x.prod(), RNG.random(8) + 0.5),
    ("prod_dim", lambda x: x.prod(-1), B),
    ("prod_dim-keep", lambda x: x.prod(0, keepdim=True), A),
    ("norm-2", norm(2), A),
    ("norm-2-dim", norm(2, dim=1), A),
    ("norm-1", norm(1, dim=(0, 2), keepdim=True), B),
    ("norm-3", norm(3, dim=-1), B),
    ("norm-1.5", norm(1.5), A),
    ("norm-0.5", norm(0.5, dim=0), A),
    ("norm-inf", norm(float("inf"), dim=1), A),
    ("norm--inf", norm(float("-inf")), A),
]


@pytest.mark.parametrize("name,fn,x0", UNARY, ids=[c[0] for c in UNARY])
def test_gradgradcheck_reductions(backend, name, fn, x0):
    assert tg.autograd.gradgradcheck(fn, (T(x0, backend),))


def _losses(backend):
    t5, w9 = const(T5, backend), const(W9, backend)
    cases = []
    for red in ("mean", "sum", "none"):
        cases += [
            (f"nll-{red}", lambda x, r=red: F.nll_loss(tg.log_softmax(x, 1), t5, reduction=r), A),
            (
                f"nll-w-ignore-{red}",
                lambda x, r=red: F.nll_loss(
                    tg.log_softmax(x, 1), t5, weight=w9, reduction=r, ignore_index=int(T5[2])
                ),
                A,
            ),
            (
                f"nll2d-{red}",
                lambda x, r=red: F.nll_loss(
                    tg.log_softmax(x, 1),
                    const(T5[: 8 - 3].tolist() + [0, 1, 2], backend).reshape(2, 2, 2) % 3,
                    reduction=r,
                ),
                B[:2, :3, :4].reshape(2, 3, 2, 2),
            ),
            (f"cross_entropy-{red}", lambda x, r=red: F.cross_entropy(x, t5, reduction=r), A),
            (
                f"cross_entropy-smooth-{red}",
                lambda x, r=red: F.cross_entropy(
                    x, t5, weight=w9, reduction=r, label_smoothing=0.2
                ),
                A,
            ),
        ]
    return cases


def test_gradgradcheck_nll_and_cross_entropy(backend):
    for name, fn, x0 in _losses(backend):
        assert tg.autograd.gradgradcheck(fn, (T(x0, backend),)), name


@pytest.mark.parametrize("red", ["mean", "sum", "none"])
def test_gradgradcheck_pointwise_losses(backend, red):
    w, pw = const(W9, backend), const(W9[::-1].copy(), backend)
    cases = [
        ("mse", lambda x, y: F.mse_loss(x * x, y, reduction=red), A, Y),
        ("l1", lambda x, y: F.l1_loss(x * x, y, reduction=red), A, Y),
        ("bce", lambda x, y: F.binary_cross_entropy(x, y, reduction=red), P, Y),
        ("bce-w", lambda x, y: F.binary_cross_entropy(x, y, weight=w, reduction=red), P, Y),
        ("bcel", lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=red), A, Y),
        (
            "bcel-w-pw",
            lambda x, y: F.binary_cross_entropy_with_logits(
                x, y, weight=w, pos_weight=pw, reduction=red
            ),
            A,
            Y,
        ),
        ("smooth_l1", lambda x, y: F.smooth_l1_loss(x * x, y, reduction=red, beta=0.5), A, Y),
        ("smooth_l1-0", lambda x, y: F.smooth_l1_loss(x * x, y, reduction=red, beta=0.0), A, Y),
        ("huber", lambda x, y: F.huber_loss(x * x, y, reduction=red, delta=0.7), A, Y),
    ]
    for name, fn, x0, y0 in cases:
        args = (T(x0, backend), T(y0, backend))
        assert tg.autograd.gradgradcheck(fn, args), name


def test_ties_split_evenly(backend):
    """amax / max() share the gradient among ties; max(dim) gives it to the picked index."""
    v = const(np.arange(12.0).reshape(3, 4), backend)
    for fn, first in (
        (lambda x: x.amax(1), [[0, 0.5, 0.5, 0], [0.25] * 4, [0.5, 0, 0.5, 0]]),
        (lambda x: x.max(1).values, [[0, 1, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]),
    ):
        x = T(TIES, backend)
        y = fn(x)
        (g,) = tg.autograd.grad((y * y).sum(), x, create_graph=True)
        share = np.asarray(first)
        np.testing.assert_allclose(g.detach().numpy(), 2 * TIES.max(1, keepdims=True) * share)
        (h,) = tg.autograd.grad((g * v).sum(), x)
        hv = 2 * (share * np.arange(12.0).reshape(3, 4)).sum(1, keepdims=True) * share
        np.testing.assert_allclose(h.numpy(), hv, rtol=1e-14)


def test_softmax_hessian_closed_form(backend):
    """d/dx of grad(sum(softmax * v)) . w, with s = softmax(x), u = s (v - s.v):
    J_u w = u * (w - s.w) - s * (u.w)."""
    x0, v0, w0 = A[0], A[1], A[2]
    x = T(x0, backend)
    (g,) = tg.autograd.grad((tg.softmax(x, 0) * const(v0, backend)).sum(), x, create_graph=True)
    (h,) = tg.autograd.grad((g * const(w0, backend)).sum(), x)
    s = np.exp(x0 - x0.max())
    s /= s.sum()
    u = s * (v0 - s @ v0)
    np.testing.assert_allclose(h.numpy(), u * (w0 - s @ w0) - s * (u @ w0), rtol=1e-12)


def test_cross_entropy_gradient_penalty(backend):
    """|d CE / d x|^2 differentiated again: the common classifier gradient penalty."""
    x = T(A, backend)
    (g,) = tg.autograd.grad(F.cross_entropy(x, const(T5, backend)), x, create_graph=True)
    (h,) = tg.autograd.grad((g * g).sum(), x)
    s = np.exp(A - A.max(1, keepdims=True))
    s /= s.sum(1, keepdims=True)
    gv = (s - np.eye(9)[T5]) / 5
    hv = 2 / 5 * s * (gv - (s * gv).sum(1, keepdims=True))  # J_softmax^T (2 g) / N
    np.testing.assert_allclose(g.detach().numpy(), gv, rtol=1e-13, atol=1e-17)
    np.testing.assert_allclose(h.numpy(), hv, rtol=1e-12, atol=1e-17)


def test_var_std_closed_form(backend):
    x = T(A, backend)
    (g,) = tg.autograd.grad(x.std(1).sum(), x, create_graph=True)
    (h,) = tg.autograd.grad((g * const(B.reshape(-1)[:45].reshape(5, 9), backend)).sum(), x)
    n, w = 9, B.reshape(-1)[:45].reshape(5, 9)
    d = A - A.mean(1, keepdims=True)
    s = np.sqrt((d * d).sum(1, keepdims=True) / (n - 1))
    wc = w - w.mean(1, keepdims=True)
    hv = (wc - d * (d * w).sum(1, keepdims=True) / ((n - 1) * s * s)) / ((n - 1) * s)
    np.testing.assert_allclose(h.numpy(), hv, rtol=1e-12)


def test_prod_with_zeros(backend):
    """Grad mode's prod backward stays exact with one or two zeros in a lane."""
    x0 = np.array([[2.0, 0.0, 3.0, 0.5], [0.0, 1.5, 0.0, 2.0], [1.0, 2.0, 3.0, 4.0]])
    for fn in (lambda x: x.prod(1), lambda x: x.reshape(-1)[:6].prod()):
        assert tg.autograd.gradgradcheck(fn, (T(x0, backend),))


def test_third_order_log_softmax(backend):
    x = T(A[:2], backend)
    (g1,) = tg.autograd.grad(tg.log_softmax(x, 1)[:, 0].sum(), x, create_graph=True)
    (g2,) = tg.autograd.grad(g1[:, 0].sum(), x, create_graph=True)
    (g3,) = tg.autograd.grad(g2[:, 0].sum(), x)
    s = np.exp(A[:2] - A[:2].max(1, keepdims=True))
    s /= s.sum(1, keepdims=True)
    # g1[:, 0] = 1 - s0 ; d/dx (-s0) = -s0 (e0 - s) ; and once more
    e0 = np.eye(9)[0]
    s0 = s[:, :1]
    g2v = -s0 * (e0 - s)
    # d/dx_j of -s0 + s0^2: (-1 + 2 s0) s0 (e0 - s)
    np.testing.assert_allclose(g2.detach().numpy(), g2v, rtol=1e-13, atol=1e-17)
    np.testing.assert_allclose(g3.numpy(), (-1 + 2 * s0) * s0 * (e0 - s), rtol=1e-12, atol=1e-17)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float16], ids=lambda d: d.name)
def test_low_precision_runs(backend, dtype):
    x = tg.tensor(A, dtype=dtype, requires_grad=True, backend=backend)
    loss = F.cross_entropy(x, const(T5, backend)) + tg.logsumexp(x, 1).var() + x.std()
    (g,) = tg.autograd.grad(loss, x, create_graph=True)
    (h,) = tg.autograd.grad((g * g).sum(), x)
    assert h.dtype is dtype and np.isfinite(h.float().numpy()).all()
