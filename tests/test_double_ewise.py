"""create_graph=True through the elementwise ops (autograd/_diff/ewise.py): gradgradcheck on
every formula, closed forms in float64, third order, the zero-gradient ops, float16, and the
inputs where a formula's branch not taken could overflow."""

import math

import numpy as np
import pytest
import tapegrad as tg

F = tg.nn.functional
RNG = np.random.default_rng(15)


def T(values, backend, dtype=tg.float64, rg=True):
    return tg.tensor(np.asarray(values), dtype=dtype, requires_grad=rg, backend=backend)


def away(shape, lo=-2.0, hi=2.0, gap=0.15, kinks=(0.0,)):
    """Uniform values kept `gap` away from the kinks (finite differences straddle none)."""
    v = RNG.uniform(lo, hi, shape)
    for k in kinks:
        near = np.abs(v - k) < gap
        v[near] = k + np.where(v[near] >= k, gap, -gap)
    return v


POS = lambda shape: RNG.uniform(0.4, 2.0, shape)  # noqa: E731

# name, fn, input values: each op's formula checked by finite differences of its first order
CASES = [
    ("rpow_scalar", lambda x: 1.7**x, [away((2, 3))]),
    ("abs", lambda x: x.abs() * x, [away((2, 3))]),
    ("relu", lambda x: x.relu() * x, [away((2, 3))]),
    ("sqrt", lambda x: x.sqrt(), [POS((2, 3))]),
    ("rsqrt", lambda x: x.rsqrt(), [POS((2, 3))]),
    ("tan", lambda x: x.tan(), [away((2, 3), -1.2, 1.2)]),
    ("expm1", lambda x: x.expm1(), [away((2, 3))]),
    ("log2", lambda x: x.log2(), [POS((2, 3))]),
    ("log10", lambda x: x.log10(), [POS((2, 3))]),
    ("log1p", lambda x: x.log1p(), [POS((2, 3))]),
    ("reciprocal", lambda x: x.reciprocal(), [POS((2, 3))]),
    ("floor", lambda x: x.floor() * x, [away((2, 3), kinks=(-1, 0, 1))]),
    ("ceil", lambda x: x.ceil() * x, [away((2, 3), kinks=(-1, 0, 1))]),
    ("round", lambda x: x.round() * x, [away((2, 3), kinks=(-1.5, -0.5, 0.5, 1.5))]),
    ("trunc", lambda x: x.trunc() * x, [away((2, 3), kinks=(-1, 1))]),
    ("sign", lambda x: x.sign() * x * x, [away((2, 3))]),
    ("round_decimals", lambda x: tg.round(x, decimals=1) * x, [np.full((2, 3), 0.33)]),
    ("clamp", lambda x: x.clamp(-0.5, 1.0) * x, [away((2, 3), kinks=(-0.5, 1.0))]),
    ("clamp min", lambda x: x.clamp(min=-0.5) ** 2, [away((2, 3), kinks=(-0.5,))]),
    ("clamp max", lambda x: x.clamp(max=0.7) ** 2, [away((2, 3), kinks=(0.7,))]),
    ("maximum", lambda x, y: tg.maximum(x, y) ** 2, [np.arange(6.0).reshape(2, 3), away((3,))]),
    ("minimum", lambda x, y: tg.minimum(x, y) ** 2, [away((2, 1)), np.arange(6.0).reshape(2, 3)]),
    ("pow", lambda x, e: x**e, [POS((2, 3)), away((3,), -1, 2)]),
    ("pow keepdim", lambda x, e: (x**e).sum(-1, keepdim=True), [POS((2, 3)), away((2, 1))]),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.2) ** 2, [away((2, 3))]),
    ("elu", lambda x: F.elu(x, alpha=1.3), [away((2, 3))]),
    ("gelu", lambda x: F.gelu(x), [away((2, 3), -3, 3)]),
    ("gelu tanh", lambda x: F.gelu(x, approximate="tanh"), [away((2, 3), -3, 3)]),
    ("silu", lambda x: F.silu(x), [away((2, 3), -4, 4)]),
    ("softplus", lambda x: F.softplus(x), [away((2, 3), -4, 4)]),
    ("softplus beta", lambda x: F.softplus(x, beta=2.0, threshold=3.0), [away((2, 3), -1, 1)]),
    ("hardtanh", lambda x: F.hardtanh(x, -0.5, 0.8) ** 2, [away((2, 3), kinks=(-0.5, 0.8))]),
    ("where", lambda x, y: tg.where(x > 0, x * x, y * x), [away((2, 3)), away((3,))]),
    ("where scalar", lambda x: tg.where(x > 0, x**3, 0.5), [away((2, 3))]),
    ("remainder", lambda x, y: tg.remainder(x, y) * x, [RNG.uniform(0.1, 0.9, (2, 3)), POS((3,))]),
    ("remainder scalar", lambda x: (x % 0.7) ** 2, [RNG.uniform(0.05, 0.65, (2, 3))]),
    ("cast", lambda x: x.to(tg.float64) ** 3 * x, [away((2, 3)).astype(np.float32)]),
    ("clamp_tensor", lambda x, lo, hi: tg.clamp(x, lo, hi) ** 2,
     [away((2, 3)), RNG.uniform(-1.5, -0.5, (3,)), RNG.uniform(0.5, 1.5, (2, 1))]),
    ("clamp_tensor min", lambda x, lo: tg.clamp(x, min=lo) * x,
     [np.array([[-1.0, 0.5, 2.0]]), np.array([[0.0, 0.0, 0.0]])]),
    ("random_grad", lambda m, s: tg.normal(m, s) * 0 + m * s * s, [away((2, 3)), POS((2, 3))]),
]  # fmt: skip


@pytest.mark.parametrize("name,fn,values", CASES, ids=[c[0] for c in CASES])
def test_gradgradcheck(backend, name, fn, values):
    inputs = tuple(T(v, backend, tg.float32 if v.dtype == np.float32 else tg.float64)
                   for v in values)  # fmt: skip
    assert tg.autograd.gradgradcheck(fn, inputs)


def second(f, x0, backend, dtype=tg.float64):
    """(f', f'') at x0 through create_graph (f elementwise)."""
    x = T(x0, backend, dtype)
    (g,) = tg.autograd.grad(f(x).sum(), x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x)
    return g.detach().numpy(), h.numpy()


X = np.linspace(-2.9, 3.1, 48)
PHI = np.exp(-0.5 * X * X) / math.sqrt(2 * math.pi)


@pytest.mark.parametrize(
    "f,d2",
    [
        (lambda x: x.sqrt(), lambda v: -0.25 * v**-1.5),
        (lambda x: x.rsqrt(), lambda v: 0.75 * v**-2.5),
        (lambda x: x.log2(), lambda v: -1 / (v * v * math.log(2))),
        (lambda x: x.reciprocal(), lambda v: 2 / v**3),
        (lambda x: 2.5**x, lambda v: 2.5**v * math.log(2.5) ** 2),
    ],
)
def test_closed_form_positive(backend, f, d2):
    x0 = np.linspace(0.3, 3.0, 45)
    _, h = second(f, x0, backend)
    np.testing.assert_allclose(h, d2(x0), rtol=1e-13)


def test_closed_form_activations(backend):
    sig = 1 / (1 + np.exp(-X))
    _, h = second(F.gelu, X, backend)
    np.testing.assert_allclose(h, 2 * PHI - X * X * PHI, rtol=1e-13, atol=1e-16)
    _, h = second(F.silu, X, backend)
    np.testing.assert_allclose(h, sig * (1 - sig) * (2 + X * (1 - 2 * sig)), rtol=1e-13)
    _, h = second(lambda x: F.softplus(x, beta=2.0), X, backend)
    s2 = 1 / (1 + np.exp(-2 * X))
    np.testing.assert_allclose(h, 2 * s2 * (1 - s2), rtol=1e-13)
    _, h = second(lambda x: F.elu(x, alpha=0.7), X, backend)
    np.testing.assert_allclose(h, np.where(X < 0, 0.7 * np.exp(X), 0.0), rtol=1e-14)


def test_pow_mixed_partials(backend):
    x0, e0 = np.linspace(0.5, 2.5, 40), np.linspace(-1.0, 2.0, 40)
    x, e = T(x0, backend), T(e0, backend)
    gx, ge = tg.autograd.grad((x**e).sum(), (x, e), create_graph=True)
    hxx, hxe = tg.autograd.grad(gx.sum(), (x, e))
    (hee,) = tg.autograd.grad(ge.sum(), e)
    lx = np.log(x0)
    np.testing.assert_allclose(hxx.numpy(), e0 * (e0 - 1) * x0 ** (e0 - 2), rtol=1e-13)
    # x's gradient is masked to 0 where e == 0 (PyTorch's pow_backward_self), so is its
    # derivative in e there
    mixed = np.where(e0 == 0, 0.0, x0 ** (e0 - 1) * (1 + e0 * lx))
    np.testing.assert_allclose(hxe.numpy(), mixed, rtol=1e-13)
    np.testing.assert_allclose(hee.numpy(), x0**e0 * lx * lx, rtol=1e-13, atol=1e-16)


def test_pow_zero_base(backend):
    """PyTorch's x == 0 handling: the exponent's gradient is 0 where x == 0 and e >= 0, the
    base's where e == 0. Their second order at x == 0 is NaN, as PyTorch's (0 * log 0 in the
    branch a where does not take)."""
    x, e = T([0.0, 0.0, 0.0, 2.0], backend), T([0.0, 1.0, 2.0, 0.0], backend)
    gx, ge = tg.autograd.grad((x**e).sum(), (x, e), create_graph=True)
    np.testing.assert_array_equal(gx.detach().numpy(), [0.0, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(ge.detach().numpy(), [0.0, 0.0, 0.0, math.log(2.0)])
    hx, he = tg.autograd.grad((gx + ge).sum(), (x, e))
    nan = math.nan
    np.testing.assert_allclose(hx.numpy(), [nan, nan, nan, 0.5], rtol=1e-15)
    np.testing.assert_allclose(he.numpy(), [nan, nan, nan, math.log(2.0) ** 2], rtol=1e-15)


def test_rpow_zero_base(backend):
    """0 ** x: zero gradients where x >= 0 and, as PyTorch's, NaN second order there."""
    x = T([0.0, 1.0, 2.0], backend)
    (g,) = tg.autograd.grad((0.0**x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [0.0, 0.0, 0.0])
    (h,) = tg.autograd.grad(g.sum(), x)
    assert np.isnan(h.numpy()).all()


@pytest.mark.parametrize(
    "f,d3",
    [
        (lambda x: x.tanh(), lambda v: -2 * (1 - np.tanh(v) ** 2) * (1 - 3 * np.tanh(v) ** 2)),
        (lambda x: (x + 3).sqrt(), lambda v: 0.375 * (v + 3) ** -2.5),
        (F.gelu, lambda v: PHI * (v**3 - 4 * v)),
        (lambda x: F.softplus(x), lambda v: (s := 1 / (1 + np.exp(-v))) * (1 - s) * (1 - 2 * s)),
        (lambda x: (x + 3) ** tg.tensor(2.5, dtype=x.dtype, backend=x._be.name),
         lambda v: 2.5 * 1.5 * 0.5 * (v + 3) ** -0.5),
    ],
)  # fmt: skip
def test_third_order(backend, f, d3):
    x = T(X, backend)
    (g1,) = tg.autograd.grad(f(x).sum(), x, create_graph=True)
    (g2,) = tg.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = tg.autograd.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.numpy(), d3(X), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "f",
    [lambda x: x.floor(), lambda x: x.ceil(), lambda x: x.round(), lambda x: x.trunc(),
     lambda x: x.sign(), lambda x: tg.round(x, decimals=2)],
)  # fmt: skip
def test_step_ops_zero_second_order(backend, f):
    x = T(X, backend)
    (g,) = tg.autograd.grad((f(x) * x).sum(), x, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), f(x).detach().numpy())
    (h,) = tg.autograd.grad(g.sum(), x, allow_unused=True)
    assert h is None or not h.numpy().any()


def test_floor_divide_has_no_derivative(backend):
    x, y = T([1.0, 2.0, 3.0], backend), T([0.5, 0.7, 2.0], backend, rg=False)
    with pytest.raises(RuntimeError, match="derivative for aten::floor_divide is not implemented"):
        tg.autograd.grad((x // y).sum(), x, create_graph=True)


def test_remainder_divisor_second_order(backend):
    """b's gradient -g * floor(a / b): the quotient is a constant (PyTorch's div with a
    rounding mode has a zero derivative), so only the weight carries a second order."""
    a, b = T([5.0, -3.5, 2.25], backend), T([2.0, 1.5, -1.0], backend)
    (gb,) = tg.autograd.grad((tg.remainder(a, b) * b).sum(), b, create_graph=True)
    q = np.floor(np.array([5.0, -3.5, 2.25]) / np.array([2.0, 1.5, -1.0]))
    ha, hb = tg.autograd.grad(gb.sum(), (a, b))
    np.testing.assert_array_equal(ha.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(hb.numpy(), -2 * q)


def test_where_gradients_to_both_values(backend):
    c = T([True, False, True], backend, tg.bool, rg=False)
    x, y = T([1.0, 2.0, 3.0], backend), T([4.0], backend)
    gx, gy = tg.autograd.grad((tg.where(c, x * x, y * y * y)).sum(), (x, y), create_graph=True)
    np.testing.assert_array_equal(gx.detach().numpy(), [2.0, 0.0, 6.0])
    np.testing.assert_array_equal(gy.detach().numpy(), [48.0])
    hx, hy = tg.autograd.grad((gx.sum() + gy.sum()), (x, y))
    np.testing.assert_array_equal(hx.numpy(), [2.0, 0.0, 2.0])
    np.testing.assert_array_equal(hy.numpy(), [24.0])


def test_clamp_tensor_bound_gradients(backend):
    x = T([-2.0, 0.0, 2.0], backend)
    lo, hi = T([-1.0], backend), T([1.0], backend)
    gx, glo, ghi = tg.autograd.grad((tg.clamp(x, lo, hi) ** 2).sum(), (x, lo, hi),
                                    create_graph=True)  # fmt: skip
    np.testing.assert_array_equal(gx.detach().numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(glo.detach().numpy(), [-2.0])
    np.testing.assert_array_equal(ghi.detach().numpy(), [2.0])
    hx, hlo, hhi = tg.autograd.grad(glo.sum() + ghi.sum(), (x, lo, hi), allow_unused=True)
    assert hx is None or not hx.numpy().any()
    np.testing.assert_array_equal(hlo.numpy(), [2.0])
    np.testing.assert_array_equal(hhi.numpy(), [2.0])


def test_cast_round_trip_dtype(backend):
    x = T(X, backend, tg.float32)
    (g,) = tg.autograd.grad((x.to(tg.float64) ** 3).sum(), x, create_graph=True)
    assert g.dtype == tg.float32
    (h,) = tg.autograd.grad(g.sum(), x)
    assert h.dtype == tg.float32
    np.testing.assert_allclose(h.numpy(), 6 * X.astype(np.float32), rtol=1e-6)


def test_untaken_branch_does_not_poison(backend):
    """Where an exp overflows in the branch a formula's where does not take, the second
    derivative stays finite (elu's exp of x > 0, softplus past its threshold)."""
    x0 = [-3.0, 0.5, 100.0, 800.0]
    for f in (F.elu, lambda x: F.softplus(x, threshold=1e4), F.silu):
        _, h = second(f, x0, backend)
        assert np.isfinite(h).all()


@pytest.mark.parametrize("dtype", [tg.float32, tg.float16], ids=lambda d: d.name)
def test_low_precision_close_to_float64(backend, dtype):
    x0 = np.linspace(0.25, 2.0, 40)
    fns = [
        lambda x: x.sqrt() * x.abs(),
        lambda x: F.gelu(x - 1),
        lambda x: x ** (x * 0.5),
        lambda x: F.softplus(x).log1p() * F.elu(x - 1),
        lambda x: tg.maximum(x, 1 - x) ** 3,
    ]
    tol = {tg.float32: 1e-5, tg.float16: 2e-2}[dtype]
    for f in fns:
        _, ref = second(f, x0, backend)
        _, h = second(f, x0.astype(dtype.np), backend, dtype)
        assert h.dtype == dtype.np
        np.testing.assert_allclose(
            h.astype(np.float64), ref, rtol=tol, atol=tol * np.abs(ref).max()
        )
