"""float16 gradients round after every op, as PyTorch's: `div`'s gradient for the divisor is
-g * ((a / b) / b) with each step rounded to float16, and `mul`'s products are rounded before a
broadcast input sums them. Both backends."""

import numpy as np
import pytest
import tapegrad as tg

BACKENDS = ("cpp", "numpy")


def _data(n, seed):
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(n) * 3).astype(np.float16)
    b = (rng.standard_normal(n) * 3).astype(np.float16)
    b[np.abs(b) < 0.05] = np.float16(0.5)
    g = rng.standard_normal(n).astype(np.float16)
    return a, b, g


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n", [1, 7, 16, 33, 1000])
def test_div_divisor_grad_rounds_each_step(backend, n):
    a, b, g = _data(n, n)
    x = tg.tensor(a, requires_grad=True, backend=backend)
    y = tg.tensor(b, requires_grad=True, backend=backend)
    (x / y).backward(tg.tensor(g, backend=backend))
    h = np.float16
    want = (-g * ((a / b).astype(h) / b).astype(h)).astype(h)
    assert y.grad.numpy().tobytes() == want.tobytes()
    assert x.grad.numpy().tobytes() == (g / b).astype(h).tobytes()


def test_div_grad_recorded_from_pytorch():
    # PyTorch 2.13: a = [1.5, -2.25], b = [0.3, 7.1] (float16), g = ones -> b's grad
    x = tg.tensor([1.5, -2.25], dtype=tg.float16, requires_grad=True)
    y = tg.tensor([0.3, 7.1], dtype=tg.float16, requires_grad=True)
    (x / y).sum().backward()
    assert y.grad.tolist() == [-16.65625, 0.04461669921875]


@pytest.mark.parametrize("backend", BACKENDS)
def test_mul_broadcast_grad_rounds_products_first(backend):
    # two columns: a float32 sum of two terms has one order, so the bits are fixed
    rng = np.random.default_rng(3)
    a = (rng.standard_normal((64, 2)) * 3).astype(np.float16)
    b = (rng.standard_normal((64, 1)) * 3).astype(np.float16)
    g = rng.standard_normal((64, 2)).astype(np.float16)
    x = tg.tensor(a, requires_grad=True, backend=backend)
    y = tg.tensor(b, requires_grad=True, backend=backend)
    (x * y).backward(tg.tensor(g, backend=backend))
    prods = (g * a).astype(np.float16).astype(np.float32)
    want = prods.sum(axis=1, keepdims=True).astype(np.float16)
    assert y.grad.numpy().tobytes() == want.tobytes()


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_dim_factor_and_divisor_read_whole(backend):
    # PyTorch 2.13's answers: the 0-dim operand is not cast to float16 first
    x = tg.tensor([0.3, 1.7, -2.9, 1000.0], dtype=tg.float16, backend=backend)
    tenth = tg.tensor(0.1, dtype=tg.float64, backend=backend)
    assert (x * tenth).tolist() == [0.029998779296875, 0.1700439453125, -0.2900390625, 100.0]
    assert (x / tenth).tolist() == [3.0, 17.0, -29.0, 10000.0]
    big = tg.tensor(70000, backend=backend)
    assert (x * big).tolist() == [21008.0, float("inf"), float("-inf"), float("inf")]
    assert (x / tenth.half()).tolist() == [3.001953125, 17.0, -29.015625, 10000.0]
    assert (x * tenth).dtype == tg.float16


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op", ["mul", "div"])
def test_zero_dim_whole_value_gradients(backend, op):
    a, _, g = _data(40, 5)
    h = np.float16
    x = tg.tensor(a, requires_grad=True, backend=backend)
    z = tg.tensor(0.1, dtype=tg.float64, requires_grad=True, backend=backend)
    y = x * z if op == "mul" else x / z
    y.backward(tg.tensor(g, backend=backend))
    w = np.float32(0.1)
    g32, a32 = g.astype(np.float32), a.astype(np.float32)
    if op == "mul":
        want_x = (g32 * w).astype(h)
        terms = (g * a).astype(h)
    else:
        want_x = (g32 / w).astype(h)
        q = ((a32 / w).astype(h).astype(np.float32) / w).astype(h)
        terms = (-g * q).astype(h)
    assert x.grad.numpy().tobytes() == want_x.tobytes()
    # z's gradient: the float16 terms summed (in float32, rounded to float16), then cast
    want_z = float(terms.astype(np.float32).sum(dtype=np.float32).astype(h))
    assert z.grad.dtype == tg.float64
    assert z.grad.item() == pytest.approx(want_z, rel=2e-3)
