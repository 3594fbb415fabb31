"""tg.autograd.functional (vjp, jvp, jacobian, hessian, hvp, vhp) against closed forms in
float64 on both backends, its result structure, strict mode and its errors (PyTorch's wording),
and create_graph results checked with gradgradcheck."""

import numpy as np
import pytest
import tapegrad as tg

F = tg.autograd.functional


def _t(backend, a, requires_grad=False):
    return tg.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad, backend=backend)


def _close(t, want, tol=1e-12):
    np.testing.assert_allclose(t.detach().numpy(), want, rtol=tol, atol=tol)


@pytest.fixture
def xv(rng):
    return rng.standard_normal(5), rng.standard_normal(5)


# ---------------------------------------------------------------- values against closed forms


def test_vjp_and_jvp(backend, xv):
    x0, v0 = xv
    x, v = _t(backend, x0), _t(backend, v0)
    out, g = F.vjp(lambda x: x.sin() * x, x, v)
    _close(out, np.sin(x0) * x0)
    _close(g, v0 * (np.cos(x0) * x0 + np.sin(x0)))
    out, g = F.jvp(lambda x: x.sin() * x, x, v)
    _close(g, v0 * (np.cos(x0) * x0 + np.sin(x0)))
    assert not out.requires_grad and not g.requires_grad


def test_jvp_is_j_times_v(backend, rng):
    a0, x0, v0 = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(4)
    a = _t(backend, a0)
    _, g = F.jvp(lambda x: (a * x.exp()).sum(1), _t(backend, x0), _t(backend, v0))
    _close(g, (a0 * np.exp(x0)) @ v0)
    _, g = F.vjp(lambda x: (a * x.exp()).sum(1), _t(backend, x0), _t(backend, v0[:3]))
    _close(g, v0[:3] @ (a0 * np.exp(x0)))


def test_jacobian_shapes_and_values(backend, rng):
    x0, y0 = rng.standard_normal((2, 3)), rng.standard_normal(3)
    x, y = _t(backend, x0), _t(backend, y0)
    j = F.jacobian(lambda x: x.exp(), x)
    assert tuple(j.shape) == (2, 3, 2, 3)
    want = np.zeros((6, 6))
    want[np.arange(6), np.arange(6)] = np.exp(x0).ravel()
    _close(j.reshape(6, 6), want)
    (jx, jy), (sx, sy) = F.jacobian(lambda x, y: (x * y, x.sum()), (x, y))
    assert [tuple(t.shape) for t in (jx, jy, sx, sy)] == [(2, 3, 2, 3), (2, 3, 3), (2, 3), (3,)]
    _close(sx, np.ones((2, 3)))
    _close(sy, np.zeros(3))  # unused input: zeros, not None
    _close(jy.reshape(6, 3), np.vstack([np.diag(x0[0]), np.diag(x0[1])]))
    jx, jy = F.jacobian(lambda x, y: (x * y).sum(0), (x, y))  # one output, tuple inputs
    assert tuple(jx.shape) == (3, 2, 3) and tuple(jy.shape) == (3, 3)
    (only,) = F.jacobian(lambda x: (x.sin(),), x)  # tuple output, one input
    assert tuple(only.shape) == (2, 3, 2, 3)


def test_hessian_closed_forms(backend, xv, rng):
    x0, _ = xv
    h = F.hessian(lambda x: (x**3).sum(), _t(backend, x0))
    _close(h, np.diag(6 * x0))
    a0 = rng.standard_normal((5, 5))
    a = _t(backend, a0)
    h = F.hessian(lambda x: (x * (a * x).sum(1)).sum(), _t(backend, x0))  # x^T A x
    _close(h, a0 + a0.T)
    y0 = rng.standard_normal(5)
    (hxx, hxy), (hyx, hyy) = F.hessian(
        lambda x, y: (x * x * y).sum(), (_t(backend, x0), _t(backend, y0))
    )
    _close(hxx, np.diag(2 * y0))
    _close(hxy, np.diag(2 * x0))
    _close(hyx, np.diag(2 * x0))
    _close(hyy, np.zeros((5, 5)))
    h = F.hessian(lambda x: x.tanh(), _t(backend, 0.7))  # 0-d input
    t = np.tanh(0.7)
    assert tuple(h.shape) == () and abs(h.item() - (-2 * t * (1 - t * t))) < 1e-14


def test_hvp_vhp(backend, xv, rng):
    x0, v0 = xv
    a0 = rng.standard_normal((5, 5))
    a = _t(backend, a0)

    def f(x):
        return (x * (a * x).sum(1)).sum() + x.sin().sum()

    h = a0 + a0.T - np.diag(np.sin(x0))
    out, hv = F.hvp(f, _t(backend, x0), _t(backend, v0))
    _close(out, x0 @ a0 @ x0 + np.sin(x0).sum())
    _close(hv, h @ v0)
    _, vh = F.vhp(f, _t(backend, x0), _t(backend, v0))
    _close(vh, v0 @ h)
    _, (hx, hy) = F.hvp(
        lambda x, y: (x * y.exp()).sum(),
        (_t(backend, x0), _t(backend, v0)),
        (_t(backend, np.ones(5)), _t(backend, np.ones(5))),
    )
    _close(hx, np.exp(v0))
    _close(hy, np.exp(v0) * (1 + x0))


# ---------------------------------------------------------------- create_graph and gradgradcheck


def test_create_graph_keeps_history(backend, xv):
    x0, v0 = xv
    x = _t(backend, x0, requires_grad=True)
    out, g = F.vjp(lambda x: (x**3).sum(), x, create_graph=True)
    assert out.requires_grad and g.requires_grad
    (gg,) = tg.autograd.grad(g.sum(), x)
    _close(gg, 6 * x0)
    h = F.hessian(lambda x: (x**3).sum(), x, create_graph=True)
    assert h.requires_grad
    (d,) = tg.autograd.grad(h.sum(), x)  # the third derivative of x**3 is 6
    _close(d, np.full(5, 6.0))
    _, hv = F.hvp(lambda x: (x**3).sum(), x, _t(backend, v0), create_graph=True)
    (d,) = tg.autograd.grad(hv.sum(), x)
    _close(d, 6 * v0)
    h = F.hessian(lambda x: (x**3).sum(), x)
    assert not h.requires_grad


def test_gradgradcheck_through_functional(backend, xv):
    x0, v0 = xv
    x = _t(backend, x0, requires_grad=True)
    v = _t(backend, v0)
    assert tg.autograd.gradgradcheck(lambda x: F.vjp(lambda y: y.tanh() * y, x, v, True)[1], x)
    assert tg.autograd.gradgradcheck(
        lambda x: F.vhp(lambda y: (y.sin() * y).sum(), x, v, create_graph=True)[1], x
    )


def test_grad_mode_is_left_alone(backend, xv):
    x0, v0 = xv
    with tg.no_grad():
        _, g = F.vjp(lambda x: x.exp(), _t(backend, x0), _t(backend, v0))
        assert not tg.is_grad_enabled() and not g.requires_grad
    _close(g, v0 * np.exp(x0))


def test_vectorize_gives_the_same_jacobian(backend, xv):
    x0, _ = xv
    x = _t(backend, x0)
    a = F.jacobian(lambda x: x.sin() * x.sum(), x)
    b = F.jacobian(lambda x: x.sin() * x.sum(), x, vectorize=True)
    np.testing.assert_array_equal(a.numpy(), b.numpy())


# ---------------------------------------------------------------- strict mode and errors


def _raises(exc, match, fn):
    with pytest.raises(exc, match=match):
        fn()


def test_strict(backend, xv):
    x0, v0 = xv
    x, y, v = _t(backend, x0), _t(backend, v0), _t(backend, v0)
    _, (gx, gy) = F.vjp(lambda x, y: x * 2, (x, y), v)
    _close(gy, np.zeros(5))
    _raises(
        RuntimeError,
        "independent of input 1. This is not allowed in strict mode",
        lambda: F.vjp(lambda x, y: x * 2, (x, y), v, strict=True),
    )
    _raises(
        RuntimeError,
        "Output 0 of the user-provided function is independent of input 1",
        lambda: F.jacobian(lambda x, y: x * 2, (x, y), strict=True),
    )
    _raises(
        RuntimeError,
        "does not require gradients",
        lambda: F.jacobian(lambda x: y * 2, x, strict=True),
    )
    _raises(
        RuntimeError,
        "jacobian of the user-provided function with respect to input 0 is independent",
        lambda: F.hessian(lambda x: (x * 2).sum(), x, strict=True),
    )
    _close(F.hessian(lambda x: (x * 2).sum(), x), np.zeros((5, 5)))


def test_errors(backend, xv):
    x0, v0 = xv
    x, v = _t(backend, x0), _t(backend, v0)
    _raises(TypeError, "has type <class 'list'>", lambda: F.vjp(lambda x: x, [x], v))
    _raises(TypeError, "value at index 1 has type", lambda: F.jacobian(lambda x, y: x, (x, 1)))
    _raises(RuntimeError, "v can only be None", lambda: F.vjp(lambda x: x * 2, x))
    _raises(RuntimeError, "v can only be None", lambda: F.hvp(lambda x: x.sum(), x))
    _raises(
        RuntimeError,
        r"v has invalid size: should be torch.Size\(\[5\]\) but got torch.Size\(\[4\]\)",
        lambda: F.jvp(lambda x: x, x, _t(backend, v0[:4])),
    )
    _raises(
        RuntimeError, "v is a tuple of invalid length", lambda: F.vjp(lambda x: (x, x), x, (v,))
    )
    _raises(
        RuntimeError,
        "given to hessian should contain a single element",
        lambda: F.hessian(lambda x: x * 2, x),
    )
    _raises(
        RuntimeError,
        "given to vhp should return a single Tensor",
        lambda: F.vhp(lambda x: (x,), x, v),
    )
    _raises(AssertionError, "reverse-mode", lambda: F.jacobian(lambda x: x, x, strategy="rev"))
    _raises(
        NotImplementedError,
        "forward-mode",
        lambda: F.jacobian(lambda x: x, x, strategy="forward-mode", vectorize=True),
    )
    _raises(
        NotImplementedError,
        'create_graph=True` and `strategy="forward-mode"',
        lambda: F.hessian(lambda x: x.sum(), x, True, outer_jacobian_strategy="forward-mode"),
    )
    _raises(
        RuntimeError,
        "`strict=True` and `vectorized=True`",
        lambda: F.jacobian(lambda x: x, x, strict=True, vectorize=True),
    )


def test_one_element_defaults(backend):
    x = _t(backend, [0.5])
    out, g = F.vjp(lambda x: (x**2).sum(), x)
    _close(g, [1.0])
    _, g = F.jvp(lambda x: x**2, x)
    _close(g, [1.0])
    _, g = F.hvp(lambda x: (x**3).sum(), x)
    _close(g, [3.0])
