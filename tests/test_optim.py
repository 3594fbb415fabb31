"""tapegrad.optim: SGD and Adam against hand-computed updates, PyTorch's validation and defaults,
param_groups, zero_grad, state and state_dict; the update kernels live in the backend."""

import math

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import nn, optim

P0 = [1.0, -2.0, 0.5]
GRADS = [[0.1, -0.3, 2.0], [-0.5, 0.25, 1.0], [0.3, 0.3, -0.7]]


def _param(backend, values=P0, dtype=tg.float32):
    with tg.use_backend(backend):
        return nn.Parameter(tg.tensor(values, dtype=dtype))


def _run(opt_cls, backend, grads=GRADS, dtype=tg.float32, **kw):
    p = _param(backend, dtype=dtype)
    opt = opt_cls([p], **kw)
    history = []
    for g in grads:
        p.grad = tg.tensor(g, dtype=dtype, backend=backend)
        opt.step()
        history.append(np.array(p.detach().numpy(), dtype=np.float64))
    return p, opt, history


# ---------------------------------------------------------------- hand-computed references


def sgd_ref(grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
            maximize=False):  # fmt: skip
    """PyTorch's single-tensor SGD in float64, written out by hand."""
    p = np.array(P0, dtype=np.float64)
    buf = None
    out = []
    for g in grads:
        d = np.array(g, dtype=np.float64)
        if maximize:
            d = -d
        if weight_decay:
            d = d + weight_decay * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
        out.append(p.copy())
    return out


def adam_ref(grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
    p = np.array(P0, dtype=np.float64)
    m = np.zeros(3)
    v = np.zeros(3)
    out = []
    for t, g in enumerate(grads, start=1):
        d = np.array(g, dtype=np.float64)
        if maximize:
            d = -d
        if weight_decay:
            d = d + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * d
        v = betas[1] * v + (1 - betas[1]) * d * d
        mhat = m / (1 - betas[0] ** t)
        vhat = v / (1 - betas[1] ** t)
        p = p - lr * mhat / (np.sqrt(vhat) + eps)
        out.append(p.copy())
    return out


SGD_CASES = {
    "plain": dict(lr=0.1),
    "momentum": dict(lr=0.1, momentum=0.9),
    "dampening": dict(lr=0.1, momentum=0.9, dampening=0.5),
    "nesterov": dict(lr=0.1, momentum=0.9, nesterov=True),
    "weight_decay": dict(lr=0.1, weight_decay=0.01),
    "momentum_weight_decay": dict(lr=0.05, momentum=0.5, weight_decay=0.1),
    "nesterov_weight_decay": dict(lr=0.05, momentum=0.8, weight_decay=0.1, nesterov=True),
    "maximize": dict(lr=0.1, momentum=0.9, maximize=True),
}


@pytest.mark.parametrize("case", list(SGD_CASES))
def test_sgd_matches_hand_computed(backend, case):
    kw = SGD_CASES[case]
    _, _, hist = _run(optim.SGD, backend, **kw)
    for got, want in zip(hist, sgd_ref(GRADS, **kw)):
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=1e-6)


ADAM_CASES = {
    "default": dict(),
    "lr": dict(lr=0.1),
    "betas": dict(lr=0.01, betas=(0.5, 0.9)),
    "weight_decay": dict(lr=0.01, weight_decay=0.1),
    "eps": dict(lr=0.01, eps=0.1),
    "maximize": dict(lr=0.01, maximize=True),
}


@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_adam_matches_hand_computed(backend, case):
    kw = ADAM_CASES[case]
    _, opt, hist = _run(optim.Adam, backend, **kw)
    for got, want in zip(hist, adam_ref(GRADS, **kw)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    st = opt.state[opt.param_groups[0]["params"][0]]
    assert st["step"].item() == len(GRADS)
    assert st["exp_avg"].shape == (3,) and st["exp_avg_sq"].dtype is tg.float32


def test_adam_first_step_is_lr_times_sign(backend):
    # After one step, m_hat / sqrt(v_hat) = g / |g|: every coordinate moves by lr.
    p, _, hist = _run(optim.Adam, backend, grads=[[3.0, -0.001, 10.0]], lr=0.5)
    np.testing.assert_allclose(
        hist[0], np.array(P0) - 0.5 * np.array([1, -1, 1]), rtol=1e-5, atol=1e-6
    )


def test_sgd_float16_rounds_like_pytorch(backend):
    # PyTorch's CPU add_(g, alpha=-lr) on float16 rounds alpha to float16 and the product to
    # float16 before adding (docs/backends.md, "Optimizer kernels"). These are the float16
    # tutorial's first two updates (examples/float16_neuron.py): the weight goes -0.0075073 ->
    # 0.086609 -> 0.143066.
    p = _param(backend, [-0.00750732421875, 0.53662109375], dtype=tg.float16)
    opt = optim.SGD([p], lr=0.1)
    p.grad = tg.tensor([-0.94140625, -0.94140625], dtype=tg.float16, backend=backend)
    opt.step()
    assert p.tolist() == [0.08660888671875, 0.630859375]
    p.grad = tg.tensor([-0.5654296875, -0.5654296875], dtype=tg.float16, backend=backend)
    opt.step()
    assert p.tolist() == [0.1430664062500, 0.6875]


def test_adam_float16_eps_underflows_like_pytorch(backend):
    # eps is added as a float16 scalar: 1e-8 is 0 in float16, so a zero gradient gives 0/0.
    p = _param(backend, [1.0, 2.0], dtype=tg.float16)
    opt = optim.Adam([p], lr=0.1)
    p.grad = tg.tensor([0.0, 1.0], dtype=tg.float16, backend=backend)
    opt.step()
    vals = p.tolist()
    assert math.isnan(vals[0])
    assert vals[1] == pytest.approx(1.9, abs=1e-3)


def test_optimizer_step_is_not_on_the_tape(backend):
    p = _param(backend)
    for cls in (optim.SGD, optim.Adam):
        opt = cls([p], lr=0.1)
        v0 = p._version
        p.grad = tg.tensor([1.0, 1.0, 1.0], backend=backend)
        opt.step()  # grad mode is on: still allowed, nothing recorded
        assert p.is_leaf and p.grad_fn is None and p.requires_grad
        assert p._version > v0


def test_update_kernels_are_the_backends(backend):
    be = tg._backend.load(backend)
    assert callable(be.sgd_update) and callable(be.adam_update)
    if backend == "cpp":
        from tapegrad import _core

        assert be.sgd_update is _core.sgd_update and be.adam_update is _core.adam_update


def test_sgd_buffer_and_state(backend):
    p, opt, _ = _run(optim.SGD, backend, lr=0.1, momentum=0.9)
    buf = opt.state[p]["momentum_buffer"]
    assert buf.shape == p.shape and not buf.requires_grad
    _, opt2, _ = _run(optim.SGD, backend, lr=0.1)
    assert all("momentum_buffer" not in s for s in opt2.state.values())


def test_params_without_grad_are_skipped(backend):
    a, b = _param(backend), _param(backend)
    opt = optim.SGD([a, b], lr=1.0, momentum=0.9)
    a.grad = tg.tensor([1.0, 1.0, 1.0], backend=backend)
    opt.step()
    assert a.tolist() == [0.0, -3.0, -0.5]
    assert b.tolist() == P0 and b not in opt.state


def test_param_groups(backend):
    a, b = _param(backend), _param(backend)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.5, momentum=0.0)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 1.0]
    assert opt.param_groups[0]["momentum"] == 0.0 and opt.param_groups[1]["nesterov"] is False
    for p in (a, b):
        p.grad = tg.tensor([1.0, 1.0, 1.0], backend=backend)
    opt.step()
    assert a.tolist() == [0.5, -2.5, 0.0]
    assert b.tolist() == [0.0, -3.0, -0.5]
    c = _param(backend)
    opt.add_param_group({"params": c, "lr": 2.0})
    assert len(opt.param_groups) == 3 and opt.param_groups[2]["params"] == [c]
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    opt.param_groups[0]["lr"] = 0.0  # changing a group's lr takes effect (schedulers do this)
    a.grad = tg.tensor([1.0, 1.0, 1.0], backend=backend)
    opt.step()
    assert a.tolist() == [0.5, -2.5, 0.0]


def test_zero_grad(backend):
    with tg.use_backend(backend):
        model = nn.Linear(3, 2)
    opt = optim.SGD(model.parameters(), lr=0.1)
    model(tg.tensor(np.ones((4, 3), np.float32), backend=backend)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not np.any(p.grad.numpy()) for p in model.parameters())
    opt.zero_grad()  # set_to_none=True by default, as in PyTorch 2
    assert all(p.grad is None for p in model.parameters())


def test_defaults():
    p = _param("numpy")
    sgd = optim.SGD([p])
    assert sgd.defaults["lr"] == 1e-3 and sgd.defaults["momentum"] == 0
    assert sgd.defaults["dampening"] == 0 and sgd.defaults["weight_decay"] == 0
    assert sgd.defaults["nesterov"] is False and sgd.defaults["maximize"] is False
    adam = optim.Adam([p])
    assert adam.defaults["lr"] == 1e-3 and adam.defaults["betas"] == (0.9, 0.999)
    assert adam.defaults["eps"] == 1e-8 and adam.defaults["weight_decay"] == 0
    assert adam.defaults["amsgrad"] is False


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: optim.SGD([p], lr=-0.1), "Invalid learning rate: -0.1"),
        (lambda p: optim.SGD([p], lr=0.1, momentum=-1), "Invalid momentum value: -1"),
        (lambda p: optim.SGD([p], lr=0.1, weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
        (
            lambda p: optim.SGD([p], lr=0.1, nesterov=True),
            "Nesterov momentum requires a momentum and zero dampening",
        ),
        (
            lambda p: optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
            "Nesterov momentum requires a momentum and zero dampening",
        ),
        (lambda p: optim.Adam([p], lr=-1e-3), "Invalid learning rate: -0.001"),
        (lambda p: optim.Adam([p], eps=-1e-8), "Invalid epsilon value: -1e-08"),
        (lambda p: optim.Adam([p], betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
        (lambda p: optim.Adam([p], betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
        (lambda p: optim.Adam([p], weight_decay=-1), "Invalid weight_decay value: -1"),
        (lambda p: optim.SGD([], lr=0.1), "optimizer got an empty parameter list"),
    ],
)
def test_validation_messages(make, message):
    p = _param("numpy")
    with pytest.raises(ValueError) as ei:
        make(p)
    assert str(ei.value) == message


def test_bad_params():
    p = _param("numpy")
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
        optim.SGD([p, 3.0], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([p * 2], lr=0.1)


def test_closure(backend):
    p = _param(backend)
    opt = optim.SGD([p], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == pytest.approx(5.25)
    np.testing.assert_allclose(p.tolist(), [0.8, -1.6, 0.4], rtol=1e-6)


@pytest.mark.parametrize(
    "cls, kw", [(optim.SGD, dict(lr=0.1, momentum=0.9)), (optim.Adam, dict(lr=0.1))]
)
def test_state_dict_resume(backend, cls, kw):
    full, _, hist = _run(cls, backend, **kw)
    # Two steps, save, rebuild, load, third step: the same as three steps in one go.
    p = _param(backend)
    opt = cls([p], **kw)
    for g in GRADS[:2]:
        p.grad = tg.tensor(g, backend=backend)
        opt.step()
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"} and sd["param_groups"][0]["params"] == [0]
    p2 = _param(backend, p.tolist())
    opt2 = cls([p2], lr=123.0)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    p2.grad = tg.tensor(GRADS[2], backend=backend)
    opt2.step()
    np.testing.assert_array_equal(p2.numpy(force=True), hist[2].astype(np.float32))


def test_load_state_dict_mismatch():
    a, b = _param("numpy"), _param("numpy")
    sd = optim.SGD([a, b], lr=0.1).state_dict()
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.SGD([a], lr=0.1).load_state_dict(sd)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(sd)


def test_kernel_argument_checks(backend):
    be = tg._backend.load(backend)
    p = _param(backend)
    g16 = tg.tensor([1.0, 1.0, 1.0], dtype=tg.float16, backend=backend)
    with pytest.raises(RuntimeError):
        be.sgd_update(p, g16, None, 0.1, 0.0, 0.0, 0.0, False, False, None)
    g2 = tg.tensor([1.0, 1.0], backend=backend)
    with pytest.raises(RuntimeError):
        be.sgd_update(p, g2, None, 0.1, 0.0, 0.0, 0.0, False, False, None)
    assert p.tolist() == P0


def test_repr():
    opt = optim.SGD([_param("numpy")], lr=0.1, momentum=0.9)
    r = repr(opt)
    assert r.startswith("SGD (\nParameter Group 0\n") and "    lr: 0.1\n" in r
    assert "    momentum: 0.9\n" in r
