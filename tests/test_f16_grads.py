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
