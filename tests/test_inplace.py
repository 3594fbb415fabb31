"""In-place ops (`+= -= *= /=`, add_ ..., fill_, copy_): values, broadcasting, casts, the tape."""

import operator

import numpy as np
import pytest
import tapegrad as tg
from oracle import other
from tolerances import assert_close

IOPS = {
    "add": (operator.iadd, operator.add),
    "sub": (operator.isub, operator.sub),
    "mul": (operator.imul, operator.mul),
    "div": (operator.itruediv, operator.truediv),
}
OTHERS = ["scalar", "same", "broadcast", "other-dtype"]


def _operand(kind, rng, dtype, backend):
    if kind == "scalar":
        return 1.75, 1.75
    shape = (3, 4) if kind == "same" else (4,)
    dt = other(dtype) if kind == "other-dtype" else dtype
    arr = (rng.uniform(0.5, 2.0, shape) * rng.choice([-1, 1], shape)).astype(dt.np)
    return tg.tensor(arr, dtype=dt, backend=backend), arr.astype(np.float64)


@pytest.mark.parametrize("kind", OTHERS)
@pytest.mark.parametrize("op", IOPS)
def test_inplace_values(backend, dtype, op, kind, rng):
    start = rng.standard_normal((3, 4)).astype(dtype.np)
    a = tg.tensor(start, dtype=dtype, backend=backend)
    b, b64 = _operand(kind, rng, dtype, backend)
    # a float32 `other` of a float16 `a` is not rounded first: like PyTorch, both backends
    # compute in float32 and round the result once
    obj = a
    a = IOPS[op][0](a, b)
    assert a is obj and a.dtype is dtype and a._version == 1 and tuple(a.shape) == (3, 4)
    want = IOPS[op][1](start.astype(np.float64), b64)
    assert_close(a.numpy(), want, dtype, what=f"{op}= {kind}")


@pytest.mark.parametrize("op", IOPS)
def test_inplace_on_a_non_leaf_backward(backend, dtype, op, rng):
    xa = rng.standard_normal((3, 4)).astype(dtype.np)
    wa = (rng.uniform(0.5, 2.0, (4,)) * rng.choice([-1, 1], (4,))).astype(dtype.np)
    x = tg.tensor(xa, dtype=dtype, requires_grad=True, backend=backend)
    w = tg.tensor(wa, dtype=dtype, requires_grad=True, backend=backend)
    h = x * 1.0
    h = IOPS[op][0](h, w)
    g = rng.standard_normal((3, 4)).astype(dtype.np)
    h.backward(tg.tensor(g, dtype=dtype, backend=backend))
    x64, w64, g64 = xa.astype(float), wa.astype(float), g.astype(float)
    gx, gw = {
        "add": (g64, g64),
        "sub": (g64, -g64),
        "mul": (g64 * w64, g64 * x64),
        "div": (g64 / w64, -g64 * x64 / (w64 * w64)),
    }[op]
    assert_close(x.grad.numpy(), gx, dtype, op=op, backward=True, what="x.grad")
    assert_close(
        w.grad.numpy(),
        gw.sum(0),
        dtype,
        k=3,
        op=op,
        backward=True,
        scale=np.abs(gw).sum(0),
        what="w.grad",
    )


def test_fill_zero_and_copy(backend, dtype):
    a = tg.tensor(np.ones((3, 4), dtype.np), dtype=dtype, backend=backend)
    assert a.fill_(2.5) is a and a._version == 1
    np.testing.assert_array_equal(a.numpy(), np.full((3, 4), 2.5))
    src_arr = np.array([1.0, 2.0, 3.0, 1e-4], other(dtype).np)
    src = tg.tensor(src_arr, backend=backend)
    assert a.copy_(src) is a and a.dtype is dtype and a._version == 2  # broadcast + cast
    want = np.broadcast_to(src_arr.astype(dtype.np), (3, 4))
    np.testing.assert_array_equal(a.numpy(), want)
    assert a.zero_() is a and a._version == 3
    np.testing.assert_array_equal(a.numpy(), np.zeros((3, 4)))


# ---- in-place unary forms on tensors in a graph (checked against PyTorch 2.13 once)
INPLACE_UNARY = {
    "clamp_": (lambda y: y.clamp_(-0.5, 0.5), [1.0, 0.0, 0.0, 1.0]),
    "relu_": (lambda y: y.relu_(), [1.0, 0.0, 1.0, 0.0]),
    "abs_": (lambda y: y.abs_(), [1.0, -1.0, 1.0, -1.0]),
    "sin_": (lambda y: y.sin_(), [0.95534, 0.36236, -0.41615, 0.995]),
    "pow_": (lambda y: y.pow_(2), [0.6, -2.4, 4.0, -0.2]),
    "tanh_": (lambda y: y.tanh_(), [0.91514, 0.30502, 0.07065, 0.99007]),
    "sigmoid_": (lambda y: y.sigmoid_(), [0.24446, 0.17789, 0.10499, 0.24938]),
    "exp_": (lambda y: y.exp_(), [1.34986, 0.30119, 7.38906, 0.90484]),
    "clamp_min_": (lambda y: y.clamp_min_(0.1), [1.0, 0.0, 1.0, 0.0]),
    "neg_": (lambda y: y.neg_(), [-1.0, -1.0, -1.0, -1.0]),
    "hardtanh_": (lambda y: tg.nn.functional.hardtanh_(y), [1.0, 0.0, 0.0, 1.0]),
    "leaky_relu_": (lambda y: tg.nn.functional.leaky_relu_(y, 0.1), [1.0, 0.1, 1.0, 0.1]),
}


@pytest.mark.parametrize("name", sorted(INPLACE_UNARY))
def test_inplace_unary_in_a_graph(backend, name):
    """The op may save its input for backward: the in-place form must not break that."""
    fn, expect = INPLACE_UNARY[name]
    x = tg.tensor([0.3, -1.2, 2.0, -0.1], requires_grad=True, backend=backend)
    y = x * 1
    assert fn(y) is y
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), expect, rtol=1e-4, atol=1e-6)


def test_relu_inplace_writes_the_input(backend):
    F = tg.nn.functional
    x = tg.tensor([0.3, -1.2, 2.0, -0.1], requires_grad=True, backend=backend)
    y = x * 2
    assert F.relu(y, inplace=True) is y
    np.testing.assert_allclose(y.detach().numpy(), [0.6, 0.0, 4.0, 0.0], rtol=1e-6)
    (y * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.4, 0.0, 16.0, 0.0], rtol=1e-6)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x.relu_()
