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
