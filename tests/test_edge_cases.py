"""Odd shapes and special values: zero-size, 0-d, -0.0, inf/nan, kinks, float16 overflow."""

import numpy as np
import pytest
import tapegrad as tg
from oracle import linear, loss
from tolerances import assert_close, rounded


def T(data, backend, dtype=tg.float32, requires_grad=False):
    return tg.tensor(data, dtype=dtype, requires_grad=requires_grad, backend=backend)


def values(t):
    return t.detach().numpy()


# ------------------------------------------------------------------ zero-size tensors

ZERO_SIZE_OPS = {
    "neg": lambda x: -x,
    "abs": lambda x: x.abs(),
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "tanh": lambda x: x.tanh(),
    "relu": lambda x: x.relu(),
    "sigmoid": lambda x: x.sigmoid(),
    "x*2": lambda x: x * 2.0,
    "x**2": lambda x: x**2,
    "2**x": lambda x: 2**x,
    "3/x": lambda x: 3 / x,
    "x+x": lambda x: x + x,
    "x*row": lambda x: x * T(np.ones(x.shape[-1:], x.dtype.np), x._be.name, x.dtype),
    "cast": lambda x: x.to(tg.float16 if x.dtype is tg.float32 else tg.float32),
    "permute(reversed)": lambda x: x.permute(*reversed(range(x.ndim))),  # x.T warns unless 2-D
    "transpose.reshape": lambda x: x.transpose(0, -1).reshape(-1),  # a copy when not viewable
    "view(-1)": lambda x: x.view(-1),
    "slice": lambda x: x[..., ::2],
}


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 2, 3)], ids=str)
@pytest.mark.parametrize("name", ZERO_SIZE_OPS)
def test_zero_size_through_ops(backend, dtype, name, shape):
    x = T(np.zeros(shape, dtype.np), backend, dtype, requires_grad=True)
    y = ZERO_SIZE_OPS[name](x)
    assert y.numel() == 0 and values(y).size == 0
    y.sum().backward()
    assert tuple(x.grad.shape) == shape and x.grad.dtype is dtype


def test_sum_and_mean_of_empty(backend, dtype):
    x = T(np.zeros((0, 3), dtype.np), backend, dtype, requires_grad=True)
    s = x.sum()
    assert s.shape == () and s.dtype is dtype and values(s) == 0
    np.testing.assert_array_equal(values(x.sum(0)), np.zeros(3))
    assert tuple(x.sum(1).shape) == (0,)
    assert np.isnan(values(x.mean()))
    assert np.isnan(values(x.mean(0))).all() and values(x.mean(0)).shape == (3,)
    s.backward()
    assert tuple(x.grad.shape) == (0, 3)


@pytest.mark.parametrize(
    "sa,sb,out",
    [
        ((3, 0), (0, 4), (3, 4)),
        ((0, 3), (3, 4), (0, 4)),
        ((2, 0, 3), (3, 4), (2, 0, 4)),
        ((0,), (0,), ()),
        ((3, 4), (4, 0), (3, 0)),
    ],
    ids=str,
)
def test_matmul_with_a_zero_dim(backend, dtype, sa, sb, out):
    a = T(np.ones(sa, dtype.np), backend, dtype, requires_grad=True)
    b = T(np.ones(sb, dtype.np), backend, dtype, requires_grad=True)
    y = a @ b
    assert tuple(y.shape) == out
    np.testing.assert_array_equal(values(y), np.zeros(out))  # an empty sum is 0
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.zeros(sa))
    np.testing.assert_array_equal(b.grad.numpy(), np.zeros(sb))


def test_empty_slice_backward(backend):
    x = T(np.arange(5.0), backend, requires_grad=True)
    y = x[3:1]
    assert tuple(y.shape) == (0,)
    (y.sum() + x[1:2].sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 0, 0, 0])


# ------------------------------------------------------------------ 0-d tensors


def test_zero_dim_tensor(backend, dtype):
    x = T(0.5, backend, dtype, requires_grad=True)
    assert x.shape == () and x.ndim == 0 and x.numel() == 1
    y = (x * x).exp()
    assert y.shape == () and y.dtype is dtype
    y.backward()  # a 0-d output needs no gradient argument
    xv = rounded(0.5, dtype)
    assert_close(x.grad.numpy(), 2 * xv * np.exp(xv * xv), dtype, what="d/dx exp(x*x)")
    assert isinstance(y.item(), float) and isinstance(y.tolist(), float)
    assert f"{y:.2f}" == f"{float(np.exp(0.25)):.2f}"
    z = x + T([1.0, 2.0], backend, dtype)
    assert tuple(z.shape) == (2,)


# ------------------------------------------------------------------ signed zeros


def test_negative_zero_is_preserved(backend, dtype):
    z = T([0.0, -0.0], backend, dtype)
    for got, want in [
        (-z, [-0.0, 0.0]),
        (z.neg(), [-0.0, 0.0]),
        (z * -1.0, [-0.0, 0.0]),
        (z * T([1.0, 1.0], backend, dtype), [0.0, -0.0]),
        (T([-1.0, 1.0], backend, dtype) * 0.0, [-0.0, 0.0]),
        (z.abs(), [0.0, 0.0]),
        (z.clone(), [0.0, -0.0]),
    ]:
        g = values(got)
        np.testing.assert_array_equal(np.signbit(g), np.signbit(np.array(want)), err_msg=f"{g}")


# ------------------------------------------------------------------ inf / nan

SPECIAL = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1.0, -2.5, 0.75])
SPECIAL_OPS = {
    "neg": (lambda x: -x, np.negative),
    "abs": (lambda x: x.abs(), np.abs),
    "exp": (lambda x: x.exp(), np.exp),
    "log": (lambda x: x.log(), np.log),
    "tanh": (lambda x: x.tanh(), np.tanh),
    "relu": (lambda x: x.relu(), lambda x: np.where(np.isnan(x), x, np.maximum(x, 0))),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
    "x*2": (lambda x: x * 2.0, lambda x: x * 2.0),
    "x+1": (lambda x: x + 1.0, lambda x: x + 1.0),
    "x-x": (lambda x: x - x, lambda x: x - x),
    "x*0": (lambda x: x * 0.0, lambda x: x * 0.0),
    "x*x": (lambda x: x * x, lambda x: x * x),
    "1/x": (lambda x: 1.0 / x, lambda x: 1.0 / x),
    "x/0": (lambda x: x / 0.0, lambda x: x / 0.0),
    "x**2": (lambda x: x**2, lambda x: x**2),
    "2**x": (lambda x: 2**x, lambda x: 2.0**x),
    "strided add": (lambda x: x[1::2] + x[::2], lambda x: x[1::2] + x[::2]),
    "sum(x[3:])": (lambda x: x[3:].sum(), lambda x: x[3:].sum()),
    "sum(x[:2])": (lambda x: x[:2].sum(), lambda x: x[:2].sum()),
    "sum(x)": (lambda x: x.sum(), np.sum),
    "mean(x[:2])": (lambda x: x[:2].mean(), lambda x: x[:2].mean()),
    # matmul oracles avoid BLAS (which may skip zeros and so lose inf * 0 = nan)
    "x[:2]@x[5:7]": (lambda x: x[:2] @ x[5:7], lambda x: (x[:2] * x[5:7]).sum()),
    "x[0:1]@x[3:4]": (lambda x: x[0:1] @ x[3:4], lambda x: (x[0:1] * x[3:4]).sum()),
    "matmul": (
        lambda x: x.view(2, 4) @ x.view(4, 2),
        lambda x: np.einsum("ij,jk->ik", x.reshape(2, 4), x.reshape(4, 2)),
    ),
    "mse_loss": (
        lambda x: loss("mse_loss", x, x * 0.0, "none"),
        lambda x: (x - x * 0.0) ** 2,
    ),
    "linear": (
        lambda x: linear(x.view(2, 4), x.view(2, 4), x[2:4]),
        lambda x: np.einsum("ij,kj->ik", x.reshape(2, 4), x.reshape(2, 4)) + x[2:4],
    ),
}


@pytest.mark.parametrize("name", SPECIAL_OPS)
def test_inf_and_nan_propagate_like_float64(backend, dtype, name):
    fn, oracle = SPECIAL_OPS[name]
    x = T(SPECIAL, backend, dtype)
    with np.errstate(all="ignore"):
        want = oracle(rounded(SPECIAL, dtype))
    # k: the reductions here sum at most len(SPECIAL) terms
    assert_close(values(fn(x)), want, dtype, k=len(SPECIAL), equal_nan=True, what=name)


# ------------------------------------------------------------------ kinks


def test_relu_and_abs_have_zero_gradient_at_zero(backend, dtype):
    data = np.array([0.0, -0.0, 2.0, -3.0], dtype.np)
    x = T(data, backend, dtype, requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, 0.0])
    x = T(data, backend, dtype, requires_grad=True)
    x.abs().sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 1.0, -1.0])


# ------------------------------------------------------------------ float16 range and accumulation


def test_float16_overflow_gives_inf(backend):
    big = T([65504.0], backend, tg.float16)
    for t, want in [
        (big * 2.0, np.inf),
        (big + big, np.inf),
        (big + 65504.0, np.inf),
        (-big * 2.0, -np.inf),
        (big * T([2.0], backend, tg.float16), np.inf),
        (T([12.0], backend, tg.float16).exp(), np.inf),
        (T([65504.0, 65504.0], backend, tg.float16).sum(), np.inf),
        (T([1e5], backend).half(), np.inf),
        (T([256.0, 256.0], backend, tg.float16) @ T([256.0, 256.0], backend, tg.float16), np.inf),
    ]:
        assert t.dtype is tg.float16
        np.testing.assert_array_equal(values(t).astype(np.float64).ravel(), [want])


def test_float16_accumulates_in_float32(backend):
    # a float16 accumulator would stall at 2048 (2048 + 1 rounds back to 2048)
    ones = T(np.ones(3000, np.float16), backend, tg.float16)
    assert float(values(ones.sum())) == 3000.0
    assert float(values(T([65504.0, 65504.0], backend, tg.float16).mean())) == 65504.0
    row = T(np.ones((1, 4096), np.float16), backend, tg.float16)
    assert float(values(row @ row.T)[0, 0]) == 4096.0


def test_python_scalars_never_promote(backend):
    x = T([1.0, 2.0], backend, tg.float16)
    for t in (x * 0.1, x + 1, 2.0 - x, x / 3, 3 / x, x**2, 2**x, x * np.float64(2)):
        assert t.dtype is tg.float16
    np.testing.assert_array_equal(values(x * 0.1), np.float16([0.1, 0.2]))
