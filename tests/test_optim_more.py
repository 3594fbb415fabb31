"""tapegrad.optim's AdamW, RMSprop, Adagrad, Adam's amsgrad and every optimizer's maximize:
float64 hand-written references, the two backends bit for bit against each other, PyTorch's
state layout, state_dict round trips (in memory, copy.deepcopy, tg.save/tg.load) and compiled
steps. PyTorch's own bits are checked by tests/test_optim_golden.py."""

import copy
import io

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import nn, optim

P0 = [1.0, -2.0, 0.5]
GRADS = [[0.1, -0.3, 2.0], [-0.5, 0.25, 1.0], [0.3, 0.3, -0.7], [1.5, -0.2, 0.05]]


def _param(backend, values=P0, dtype=tg.float64):
    with tg.use_backend(backend):
        return nn.Parameter(tg.tensor(values, dtype=dtype))


def _run(cls, backend, dtype=tg.float64, grads=GRADS, **kw):
    p = _param(backend, dtype=dtype)
    opt = cls([p], **kw)
    for g in grads:
        p.grad = tg.tensor(g, dtype=dtype, backend=backend)
        opt.step()
    return p, opt


# ---------------------------------------------------------------- float64 references


def adam_ref(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             maximize=False, decoupled=False):  # fmt: skip
    p = np.array(P0)
    m, v, vmax = np.zeros(3), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, start=1):
        g = -np.array(g) if maximize else np.array(g)
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        vmax = np.maximum(vmax, v)
        s = vmax if amsgrad else v
        denom = np.sqrt(s) / np.sqrt(1 - betas[1] ** t) + eps
        p = p - lr / (1 - betas[0] ** t) * m / denom
    return p


def rmsprop_ref(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                maximize=False):  # fmt: skip
    p = np.array(P0)
    v, ga, buf = np.zeros(3), np.zeros(3), np.zeros(3)
    for g in GRADS:
        g = -np.array(g) if maximize else np.array(g)
        g = g + weight_decay * p
        v = alpha * v + (1 - alpha) * g * g
        if centered:
            ga = alpha * ga + (1 - alpha) * g
            avg = np.sqrt(v - ga * ga) + eps
        else:
            avg = np.sqrt(v) + eps
        if momentum > 0:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg
    return p


def adagrad_ref(lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                eps=1e-10, maximize=False):  # fmt: skip
    p = np.array(P0)
    s = np.full(3, initial_accumulator_value)
    for t, g in enumerate(GRADS, start=1):
        g = -np.array(g) if maximize else np.array(g)
        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
    return p


REF_CASES = [
    (optim.Adam, adam_ref, dict(lr=0.1, amsgrad=True)),
    (optim.Adam, adam_ref, dict(lr=0.1, amsgrad=True, weight_decay=0.1, maximize=True)),
    (optim.Adam, adam_ref, dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    (optim.AdamW, adam_ref, dict(lr=0.1)),
    (optim.AdamW, adam_ref, dict(lr=0.1, betas=(0.3, 0.9), weight_decay=0.2, amsgrad=True)),
    (optim.AdamW, adam_ref, dict(lr=0.1, maximize=True)),
    (optim.RMSprop, rmsprop_ref, dict()),
    (optim.RMSprop, rmsprop_ref, dict(lr=0.05, alpha=0.9, weight_decay=0.1, maximize=True)),
    (optim.RMSprop, rmsprop_ref, dict(lr=0.05, momentum=0.9)),
    (optim.RMSprop, rmsprop_ref, dict(lr=0.05, centered=True, alpha=0.3)),
    (optim.RMSprop, rmsprop_ref, dict(lr=0.05, centered=True, momentum=0.5, eps=1e-3)),
    (optim.Adagrad, adagrad_ref, dict()),
    (optim.Adagrad, adagrad_ref, dict(lr=0.1, lr_decay=0.5, weight_decay=0.1, maximize=True)),
    (optim.Adagrad, adagrad_ref, dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-3)),
]


@pytest.mark.parametrize("cls, ref, kw", REF_CASES)
def test_matches_the_float64_formulas(backend, cls, ref, kw):
    p, _ = _run(cls, backend, **kw)
    rkw = dict(kw)
    if cls is optim.AdamW:
        rkw.setdefault("weight_decay", 1e-2)
        rkw["decoupled"] = True
    if "decoupled_weight_decay" in rkw:
        rkw["decoupled"] = rkw.pop("decoupled_weight_decay")
    np.testing.assert_allclose(p.numpy(force=True), ref(**rkw), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.AdamW, optim.RMSprop, optim.Adagrad])
def test_maximize_is_minimizing_the_negated_gradient(backend, cls):
    up, _ = _run(cls, backend, lr=0.1, maximize=True)
    neg = [[-x for x in g] for g in GRADS]
    down, _ = _run(cls, backend, lr=0.1, grads=neg)
    np.testing.assert_array_equal(up.numpy(force=True), down.numpy(force=True))


# ------------------------------------------------- the two backends bit for bit, every dtype

BITS_CASES = [
    (optim.AdamW, dict(lr=0.01, eps=1e-4, weight_decay=0.3)),
    (optim.AdamW, dict(lr=0.02, betas=(0.4, 0.9), eps=1e-4, amsgrad=True, maximize=True)),
    (optim.Adam, dict(lr=0.01, eps=1e-4, amsgrad=True, weight_decay=0.1)),
    (optim.RMSprop, dict(lr=0.005, eps=1e-4)),
    (
        optim.RMSprop,
        dict(
            lr=0.003,
            alpha=0.4,
            eps=1e-3,
            weight_decay=0.05,
            momentum=0.5,
            centered=True,
            maximize=True,
        ),
    ),  # fmt: skip
    (
        optim.Adagrad,
        dict(
            lr=0.05,
            lr_decay=0.02,
            weight_decay=0.05,
            initial_accumulator_value=0.3,
            eps=1e-6,
            maximize=True,
        ),
    ),  # fmt: skip
]


def _trajectory(backend, cls, kw, dtype, n, steps=20):
    rng = np.random.default_rng(n)
    x0 = rng.standard_normal(n).astype(dtype)
    with tg.use_backend(backend):
        p = nn.Parameter(tg.tensor(x0))
        opt = cls([p], **kw)
        for k in range(steps):
            x = p.detach().numpy().astype(np.float64)
            g = np.cos(0.37 * k + 1.3 * x + 0.01 * np.arange(n)) * (1 + np.arange(n) % 5)
            p.grad = tg.tensor(g.astype(dtype))
            opt.step()
        return [p.detach().numpy().copy()] + [v.numpy().copy() for v in opt.state[p].values()]


@pytest.mark.parametrize("cls, kw", BITS_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
@pytest.mark.parametrize("n", [7, 33, 100])
def test_cpp_simd_matches_the_numpy_reference(cls, kw, dtype, n):
    # the reference follows the AVX2 kernels: only the SIMD path is held to its bits
    if not tg._core.simd_enabled():
        pytest.skip("the portable path follows PyTorch's baseline kernels, not the reference")
    a = _trajectory("cpp", cls, kw, dtype, n)
    b = _trajectory("numpy", cls, kw, dtype, n)
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x.view(f"u{x.itemsize}"), y.view(f"u{y.itemsize}"))


# ---------------------------------------------------------------- state, defaults, errors


@pytest.mark.parametrize(
    "cls, kw, keys",
    [
        (optim.Adam, dict(amsgrad=True), ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
        (optim.AdamW, dict(), ["step", "exp_avg", "exp_avg_sq"]),
        (optim.RMSprop, dict(), ["step", "square_avg"]),
        (
            optim.RMSprop,
            dict(momentum=0.9, centered=True),
            ["step", "square_avg", "momentum_buffer", "grad_avg"],
        ),  # fmt: skip
        (optim.Adagrad, dict(), ["step", "sum"]),
    ],
)
def test_state_layout(backend, cls, kw, keys):
    p, opt = _run(cls, backend, dtype=tg.float16, **kw)
    st = opt.state[p]
    assert list(st) == keys
    assert st["step"].dtype == tg.float32 and st["step"].shape == () and st["step"].item() == 4
    for k in keys[1:]:
        assert st[k].dtype == tg.float16 and st[k].shape == (3,) and not st[k].requires_grad


def test_defaults():
    p = _param("numpy")
    d = optim.AdamW([p]).defaults
    assert d["weight_decay"] == 1e-2 and d["decoupled_weight_decay"] is True
    assert optim.Adam([p]).defaults["decoupled_weight_decay"] is False
    d = optim.RMSprop([p]).defaults
    assert (d["lr"], d["alpha"], d["eps"], d["momentum"], d["centered"]) == (
        1e-2, 0.99, 1e-8, 0, False,
    )  # fmt: skip
    d = optim.Adagrad([p]).defaults
    assert (d["lr"], d["lr_decay"], d["eps"], d["initial_accumulator_value"]) == (
        1e-2, 0, 1e-10, 0,
    )  # fmt: skip


def test_adagrad_state_is_made_with_the_optimizer():
    p = _param("numpy", dtype=tg.float16)
    opt = optim.Adagrad([p], initial_accumulator_value=0.1)
    st = opt.state[p]
    assert st["step"].item() == 0.0
    # full_like rounds the fill through float32, as PyTorch's Scalar does
    assert st["sum"].numpy()[0] == np.float16(np.float32(0.1))
    assert opt.state_dict()["state"][0]["sum"] is st["sum"]


def test_adagrad_group_added_later_gets_state_at_its_first_step(backend):
    p, q = _param(backend), _param(backend)
    opt = optim.Adagrad([p], lr=0.1)
    opt.add_param_group({"params": [q], "lr": 0.2})
    q.grad = tg.tensor(GRADS[0], dtype=tg.float64, backend=backend)
    opt.step()
    assert opt.state[q]["step"].item() == 1.0
    assert opt.param_groups[1]["lr_decay"] == 0


def test_bad_arguments():
    p = _param("numpy")
    for cls, kw, msg in [
        (optim.AdamW, dict(lr=-1.0), "Invalid learning rate: -1.0"),
        (optim.AdamW, dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
        (optim.Adam, dict(betas=(1, 0.5)), "Invalid beta parameter at index 0: 1"),
        (optim.Adam, dict(betas=(0, 0.5)), "betas must be either both floats or both Tensors"),
        (optim.RMSprop, dict(alpha=-0.5), "Invalid alpha value: -0.5"),
        (optim.RMSprop, dict(momentum=-0.5), "Invalid momentum value: -0.5"),
        (optim.Adagrad, dict(lr_decay=-0.5), "Invalid lr_decay value: -0.5"),
        (optim.Adagrad, dict(eps=-0.5), "Invalid epsilon value: -0.5"),
    ]:
        with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
            cls([p], **kw)
    with pytest.raises(NotImplementedError, match="fused"):
        optim.Adagrad([p], fused=True)
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.RMSprop([p], differentiable=True)


def test_repr_lists_every_option():
    r = repr(optim.RMSprop([_param("numpy")], lr=0.1, centered=True))
    assert r.startswith("RMSprop (\nParameter Group 0\n")
    assert "    alpha: 0.99\n" in r and "    centered: True\n" in r


# ---------------------------------------------------------------- state_dict round trips

RESUME = [
    (optim.SGD, dict(lr=0.05, momentum=0.9)),
    (optim.Adam, dict(lr=0.05, amsgrad=True)),
    (optim.AdamW, dict(lr=0.05, weight_decay=0.1)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
]


def _save_load(sd):
    buf = io.BytesIO()
    tg.save(sd, buf)
    buf.seek(0)
    return tg.load(buf)


@pytest.mark.parametrize("cls, kw", RESUME)
@pytest.mark.parametrize("how", ["same", "deepcopy", "tg.save"])
def test_resumed_training_continues_on_the_same_bits(backend, cls, kw, how):
    full, _ = _run(cls, backend, dtype=tg.float32, **kw)
    p = _param(backend, dtype=tg.float32)
    opt = cls([p], **kw)
    for g in GRADS[:2]:
        p.grad = tg.tensor(g, backend=backend)
        opt.step()
    sd = opt.state_dict()
    sd = {"same": lambda s: s, "deepcopy": copy.deepcopy, "tg.save": _save_load}[how](sd)
    q = _param(backend, p.tolist(), dtype=tg.float32)
    opt2 = cls([q], lr=123.0)
    opt2.load_state_dict(sd)
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    assert opt2.param_groups[0] == {**opt.param_groups[0], "params": [q]}
    for g in GRADS[2:]:
        q.grad = tg.tensor(g, backend=backend)
        opt2.step()
    np.testing.assert_array_equal(q.numpy(force=True), full.numpy(force=True))
    assert opt2.state[q]["step" if cls is not optim.SGD else "momentum_buffer"] is not None


def test_state_dict_shares_like_pytorch():
    p, opt = _run(optim.Adam, "numpy", lr=0.1)
    sd = opt.state_dict()
    # state_dict hands out the optimizer's own tensors and deep-copies nothing
    assert sd["state"][0]["exp_avg"] is opt.state[p]["exp_avg"]
    assert sd["param_groups"][0] is not opt.param_groups[0]
    assert sd["param_groups"][0]["params"] == [0]
    q = _param("numpy", p.tolist())
    opt2 = optim.Adam([q], lr=1.0)
    opt2.load_state_dict(sd)
    # load_state_dict deep-copies the groups and keeps tensors that need no cast (PyTorch's .to)
    assert opt2.param_groups[0]["betas"] == (0.9, 0.999)
    assert opt2.state[q]["exp_avg"] is opt.state[p]["exp_avg"]
    assert opt2.state[q]["step"] is opt.state[p]["step"]
    # a dtype change casts (a copy)
    r = _param("numpy", p.tolist(), dtype=tg.float32)
    opt3 = optim.Adam([r], lr=1.0)
    opt3.load_state_dict(sd)
    assert opt3.state[r]["exp_avg"].dtype == tg.float32
    assert opt3.state[r]["step"].dtype == tg.float32


def test_save_load_keeps_the_layout():
    p, opt = _run(optim.AdamW, "numpy", dtype=tg.float16, lr=0.1, amsgrad=True)
    back = _save_load(opt.state_dict())
    assert set(back) == {"state", "param_groups"}
    g = back["param_groups"][0]
    assert g["betas"] == (0.9, 0.999) and g["foreach"] is None and g["params"] == [0]
    assert g == {k: v for k, v in opt.state_dict()["param_groups"][0].items()}
    st = back["state"][0]
    assert list(st) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    assert st["step"].dtype == tg.float32 and st["step"].item() == 4.0
    np.testing.assert_array_equal(st["exp_avg"].numpy(), opt.state[p]["exp_avg"].numpy())
    assert st["exp_avg"].dtype == tg.float16


def test_save_refuses_what_json_cannot_hold():
    sd = optim.SGD([_param("numpy")], lr=0.1).state_dict()
    sd["param_groups"][0]["fn"] = object()
    with pytest.raises(TypeError, match="without pickle"):
        tg.save(sd, io.BytesIO())


def test_adamw_stays_decoupled_after_loading_an_adam_state():
    p = _param("numpy")
    src = optim.Adam([p], lr=0.1)
    dst = optim.AdamW([_param("numpy")], lr=0.1)
    dst.load_state_dict(src.state_dict())
    assert dst.param_groups[0]["decoupled_weight_decay"] is True


def test_zero_grad_set_to_none(backend):
    p, opt = _run(optim.RMSprop, backend)
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and p.grad.tolist() == [0.0, 0.0, 0.0]
    opt.zero_grad()
    assert p.grad is None


# ---------------------------------------------------------------- compiled steps


def _mlp(dtype):
    tg.manual_seed(0)
    m = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 3))
    return {"float16": m.half, "float64": m.double}.get(dtype, m.float)()


COMPILE = [
    (optim.AdamW, dict(lr=1e-2, eps=1e-4, amsgrad=True)),
    (optim.RMSprop, dict(lr=1e-3, eps=1e-4, momentum=0.5, weight_decay=1e-3)),
    # (float16 centered reaches NaN as PyTorch's does: square_avg - grad_avg**2 rounds below 0)
    (optim.RMSprop, dict(lr=1e-3, eps=1e-4, centered=True, maximize=True)),
    (optim.Adagrad, dict(lr=1e-2, lr_decay=0.01, eps=1e-4)),
]


@pytest.mark.parametrize("cls, kw", COMPILE)
@pytest.mark.parametrize("dtype", ["float32", "float16", "float64"])
def test_compiled_steps_match_eager_bit_for_bit(cls, kw, dtype):
    with tg.use_backend("cpp"):
        rng = np.random.default_rng(0)
        dt = getattr(tg, dtype)
        x = tg.tensor(rng.standard_normal((32, 10)), dtype=dt)
        y = tg.tensor(rng.standard_normal((32, 3)), dtype=dt)
        results = []
        for compiled in (False, True):
            m = _mlp(dtype)
            opt = cls(m.parameters(), **kw)

            def step(x, y, m=m, opt=opt):
                opt.zero_grad()
                loss = nn.MSELoss()(m(x), y)
                loss.backward()
                opt.step()
                return loss

            run = tg.compile(step) if compiled else step
            losses = []
            for i in range(30):
                for g in opt.param_groups:  # a schedule: read at every replay
                    g["lr"] = kw["lr"] / (1 + i)
                losses.append(run(x, y).item())
            if compiled:
                assert run.captures == 1
            results.append((losses, [p.detach().numpy().copy() for p in m.parameters()]))
        np.testing.assert_array_equal(results[0][0], results[1][0])  # (NaN equals NaN)
        for a, b in zip(results[0][1], results[1][1]):
            np.testing.assert_array_equal(a, b)
