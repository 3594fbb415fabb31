"""Graph shapes and aliasing: diamonds, views, detach, leaves, a small MLP end to end."""

import numpy as np
import pytest
import tapegrad as tg
from oracle import linear, loss
from tolerances import CHAIN_K, assert_close

INPLACE_MSG = "modified by an inplace operation"


def T(data, backend, requires_grad=False, dtype=tg.float32):
    return tg.tensor(data, dtype=dtype, requires_grad=requires_grad, backend=backend)


def test_diamond_graph(backend):
    # x feeds two branches that meet again: every path's contribution must arrive exactly once
    xa = np.array([0.3, -0.7, 1.1])
    x = T(xa, backend, requires_grad=True)
    h = x * 2.0
    out = (h * h + h.exp() + h.tanh() * x).sum()
    out.backward()
    x64 = xa.astype(np.float32).astype(np.float64)
    h64 = 2 * x64
    want = 2 * (2 * h64 + np.exp(h64) + (1 - np.tanh(h64) ** 2) * x64) + np.tanh(h64)
    assert_close(x.grad.numpy(), want, tg.float32, k=4)


def test_backward_on_a_leaf(backend):
    x = T([1.0, 2.0], backend, requires_grad=True)
    x.backward(T([3.0, 4.0], backend))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 4.0])


def test_grad_reset_to_none(backend):
    x = T([1.0, 2.0], backend, requires_grad=True)
    (x * 3.0).sum().backward()
    x.grad = None
    (x * 5.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [5.0, 5.0])


def test_reshape_shares_storage_and_version(backend):
    x = T([[1.0, 2.0], [3.0, 4.0]], backend)
    v = x.view(-1)
    v += 1.0
    np.testing.assert_array_equal(x.numpy(), [[2.0, 3.0], [4.0, 5.0]])
    assert x._version == v._version == 1


def test_inplace_through_a_view_of_a_saved_tensor_raises(backend):
    x = T([1.0, 2.0, 3.0], backend, requires_grad=True)
    w = T([4.0, 5.0, 6.0], backend)
    y = (x * w).sum()  # saves w
    w.view(3, 1).mul_(2.0)
    with pytest.raises(RuntimeError, match=INPLACE_MSG):
        y.backward()


def test_inplace_through_detach_of_a_saved_output_raises(backend):
    x = T([0.5, 1.5], backend, requires_grad=True)
    y = x.exp()  # saves its output
    y.detach().zero_()
    with pytest.raises(RuntimeError, match=INPLACE_MSG):
        y.sum().backward()


def test_branch_without_grad_is_not_recorded(backend):
    x = T([1.0, 2.0], backend, requires_grad=True)
    c = T([3.0, 4.0], backend)
    k = c * 2.0 + 1.0  # no input requires grad: off the tape
    assert not k.requires_grad and k.grad_fn is None
    (x * k).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 9.0])
    assert c.grad is None


@pytest.mark.parametrize("bias", [True, False])
def test_mlp_step_matches_float64_backprop(backend, dtype, bias, rng):
    """linear -> relu -> linear -> tanh -> mse_loss, the whole chain against float64 by hand."""
    shapes = {"x": (16, 10), "w1": (32, 10), "b1": (32,), "w2": (3, 32), "b2": (3,), "t": (16, 3)}
    arrs = {k: (rng.standard_normal(s) * 0.5).astype(dtype.np) for k, s in shapes.items()}
    p = {k: T(a, backend, requires_grad=k != "t", dtype=dtype) for k, a in arrs.items()}
    h = linear(p["x"], p["w1"], p["b1"] if bias else None).relu()
    out = linear(h, p["w2"], p["b2"] if bias else None).tanh()
    lossv = loss("mse_loss", out, p["t"], "mean")
    lossv.backward()

    a = {k: v.astype(np.float64) for k, v in arrs.items()}
    b1, b2 = (a["b1"], a["b2"]) if bias else (0.0, 0.0)
    z1 = a["x"] @ a["w1"].T + b1
    h64 = np.maximum(z1, 0)
    o64 = np.tanh(h64 @ a["w2"].T + b2)
    d = o64 - a["t"]
    assert_close(lossv.detach().numpy(), (d * d).mean(), dtype, k=CHAIN_K, what="loss")
    go = 2 * d / d.size * (1 - o64**2)
    gh = go @ a["w2"] * (z1 > 0)
    want = {"w2": go.T @ h64, "b2": go.sum(0), "w1": gh.T @ a["x"], "b1": gh.sum(0)}
    want["x"] = gh @ a["w1"]
    k = CHAIN_K  # see tolerances.py
    for name, w in want.items():
        if name.startswith("b") and not bias:
            assert p[name].grad is None
            continue
        scale = np.abs(w).max()  # relative to the largest entry: grads of cancelling sums
        assert_close(p[name].grad.numpy(), w, dtype, k=k, scale=np.full(w.shape, scale), what=name)
