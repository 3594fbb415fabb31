"""create_graph=True through the autograd API: values, history, hooks, Functions, errors.

Every op's formula is checked by test_gradgrad.py; this file checks the sweep around them
(autograd/_double.py) against closed forms in float64, on both backends.
"""

import numpy as np
import pytest
import tapegrad as tg
from tapegrad.autograd import _diff

X = np.linspace(-1.3, 1.7, 40)


def T(values, backend, dtype=tg.float64, rg=True):
    return tg.tensor(np.asarray(values), dtype=dtype, requires_grad=rg, backend=backend)


def test_second_derivative_closed_form(backend):
    x = T(X, backend)
    (g,) = tg.autograd.grad((x * x * x).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_allclose(g.detach().numpy(), 3 * X**2, rtol=1e-14)
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * X, rtol=1e-14)


def test_third_order_elementwise(backend):
    x = T(X, backend)
    (g1,) = tg.autograd.grad(x.sin().sum(), x, create_graph=True)
    (g2,) = tg.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = tg.autograd.grad(g2.sum(), x)
    np.testing.assert_allclose(g3.numpy(), -np.cos(X), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float16], ids=lambda d: d.name)
def test_first_order_bits_unchanged(backend, dtype):
    """create_graph takes its first-order values from the kernels: the same bits."""
    x0 = X.astype(dtype.np)

    def f(x):
        return (x.tanh() * x.sigmoid() + x.exp() / 3 - x.sin() * x).sum()

    x = T(x0, backend, dtype)
    (plain,) = tg.autograd.grad(f(x), x)
    (recorded,) = tg.autograd.grad(f(x), x, create_graph=True)
    assert np.array_equal(plain.numpy(), recorded.detach().numpy())


def test_backward_create_graph_sets_grad_with_history(backend):
    x = T(X, backend)
    (x * x).sum().backward(create_graph=True)
    gx = x.grad
    assert gx.grad_fn is not None
    np.testing.assert_allclose(gx.detach().numpy(), 2 * X)
    x.grad = None
    (gx * gx).sum().backward()  # d/dx sum((2x)^2) = 8x
    np.testing.assert_allclose(x.grad.numpy(), 8 * X)


def test_backward_create_graph_accumulates(backend):
    x = T(X[:4], backend)
    (x * x).sum().backward(create_graph=True)
    (x * x * x).sum().backward(create_graph=True)
    np.testing.assert_allclose(x.grad.detach().numpy(), 2 * X[:4] + 3 * X[:4] ** 2)
    assert x.grad.grad_fn is not None


def test_grad_outputs_with_history(backend):
    """The first-order gradient depends on the weights v: a double-vjp (jvp) through them."""
    x = T(X[:5], backend)
    v = T(np.ones(5), backend)
    (g,) = tg.autograd.grad(x.sin(), x, v, create_graph=True)
    u = T(np.arange(5.0), backend, rg=False)
    (jv,) = tg.autograd.grad(g, v, u)
    np.testing.assert_allclose(jv.numpy(), np.cos(X[:5]) * np.arange(5.0), rtol=1e-14)


def test_gradient_w_r_t_a_non_leaf(backend):
    x = T(X[:6], backend)
    y = x * 2
    z = (y * y * y).sum()
    (gy,) = tg.autograd.grad(z, y, create_graph=True)
    (gx,) = tg.autograd.grad(gy.sum(), x)
    np.testing.assert_allclose(gx.numpy(), 6 * (2 * X[:6]) * 2, rtol=1e-14)


def test_gradient_penalty_into_weights(backend):
    """d/dw of |d(w*x^2)/dx|^2 = d/dw (2wx)^2 = 8 w x^2, summed."""
    x = T(X[:8], backend)
    w = T([0.7], backend)
    (g,) = tg.autograd.grad((w * x * x).sum(), x, create_graph=True)
    (g * g).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [8 * 0.7 * (X[:8] ** 2).sum()], rtol=1e-13)


def test_hooks_run_and_may_replace(backend):
    x = T(X[:5], backend)
    y = x * x
    seen = []
    y.register_hook(lambda g: seen.append(g.requires_grad) or g * 3)
    (g,) = tg.autograd.grad(y.sum(), x, create_graph=True)
    assert seen == [False]  # the ones given as grad_outputs carry no history
    np.testing.assert_allclose(g.detach().numpy(), 6 * X[:5])
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), np.full(5, 6.0))


def test_leaf_hook_sees_gradient(backend):
    x = T(X[:3], backend)
    x.register_hook(lambda g: g * 2)
    (x * x).sum().backward(create_graph=True)
    np.testing.assert_allclose(x.grad.detach().numpy(), 4 * X[:3])


class Cube(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


class CubeOnce(Cube):
    @staticmethod
    @tg.autograd.once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x * x


def test_function_backward_is_recorded(backend):
    x = T(X[:6], backend)
    (g,) = tg.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * X[:6], rtol=1e-14)
    (plain,) = tg.autograd.grad(CubeOnce.apply(x).sum(), x)
    np.testing.assert_allclose(plain.numpy(), 3 * X[:6] ** 2, rtol=1e-14)
    with pytest.raises(RuntimeError, match="once_differentiable"):
        tg.autograd.grad(CubeOnce.apply(x).sum(), x, create_graph=True)


def test_gradgradcheck_finds_a_wrong_formula(backend, monkeypatch):
    monkeypatch.setitem(_diff.DIFF, "sin", lambda node, g: [g * node.input(0).sin()])
    x = T(X[:4], backend)
    assert tg.autograd.gradgradcheck(lambda a: a.cos(), x)  # cos's formula is right
    with pytest.raises(tg.autograd.GradcheckError, match="gradgradcheck failed"):
        tg.autograd.gradgradcheck(lambda a: a.sin(), x)
    assert not tg.autograd.gradgradcheck(lambda a: a.sin(), x, raise_exception=False)


def test_gradgradcheck_third_order(backend):
    def first(a):
        return tg.autograd.grad((a.tanh() * a).sum(), a, create_graph=True)[0]

    assert tg.autograd.gradgradcheck(first, T(X[:5], backend))


def test_no_formula_is_a_clear_error(backend, monkeypatch):
    monkeypatch.delitem(_diff.DIFF, "tanh")
    x = T(X[:3], backend)
    with pytest.raises(NotImplementedError, match="TanhBackward0"):
        tg.autograd.grad(x.tanh().sum(), x, create_graph=True)


def test_grad_prunes_unneeded_branches(backend, monkeypatch):
    """Only the nodes that lead to `inputs` run: a branch without a formula is not reached."""
    monkeypatch.delitem(_diff.DIFF, "tanh")
    x, w = T(X[:3], backend), T(X[3:6], backend)
    (g,) = tg.autograd.grad((x * x).sum() + w.tanh().sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), 2 * X[:3])


def test_tools_show_the_double_backward_graph(backend):
    """tape, backward_steps and viz.draw name the node each recorded backward op came from."""
    x = T(X[:3], backend)
    (g,) = tg.autograd.grad((x.tanh() * x).sum(), x, create_graph=True)
    listing = str(tg.autograd.tape(g))
    assert "(backward of %" in listing and " tanh)" in listing and "(gradients summed)" in listing
    steps = [str(s) for s in tg.autograd.backward_steps((g * g).sum())]
    assert any("(backward of %" in s for s in steps)
    svg = tg.viz.draw((g * g).sum())._repr_svg_()
    assert "backward of %" in svg


def test_compiled_gradient_penalty_step_replays():
    """A captured step with create_graph (the sweep's kernels are recorded like any other)
    gives the eager step's numbers, call after call, with new inputs."""

    def run(compiled):
        tg.manual_seed(0)
        w = tg.randn(4, requires_grad=True)
        xx = tg.zeros(8, 4, requires_grad=True)  # the point the penalty differentiates at
        opt = tg.optim.SGD([w], lr=0.1)

        def step(xx):
            opt.zero_grad()
            xx.grad = None  # loss.backward() reaches xx too
            y = (xx * w).tanh().sum()
            (g,) = tg.autograd.grad(y, xx, create_graph=True)
            loss = y + (g * g).sum()
            loss.backward()
            opt.step()
            return loss

        f = tg.compile(step) if compiled else step
        rng = np.random.default_rng(1)
        losses = []
        for _ in range(4):
            with tg.no_grad():
                xx.copy_(tg.tensor(rng.standard_normal((8, 4)), dtype=tg.float32))
            losses.append(f(xx).item())
        if compiled:
            assert f.captures == 1  # captured once, replayed three times
        return losses, w.detach().numpy()

    eager, compiled = run(False), run(True)
    assert eager[0] == compiled[0]
    assert np.array_equal(eager[1], compiled[1])


def test_compiled_step_refuses_a_new_leaf():
    def step(xb):
        xx = xb.clone().requires_grad_(True)
        (g,) = tg.autograd.grad(xx.tanh().sum(), xx, create_graph=True)
        return (g * g).sum()

    with pytest.raises(RuntimeError, match="cannot capture a change of requires_grad"):
        tg.compile(step)(tg.ones(3))


F = tg.nn.functional
# Whether the gradient of f(x).sum() still depends on x, as PyTorch 2.13 answers (probed once):
# "zeros" connected with a zero second derivative (PyTorch's backward op takes the input),
# "none" not connected (the gradient does not require grad), "values" a nonzero one.
CONNECTED = {
    "relu": (lambda x: x.relu(), "zeros"),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1), "zeros"),
    "hardtanh": (lambda x: F.hardtanh(x), "zeros"),
    "relu6": (lambda x: F.hardtanh(x, 0.0, 6.0), "zeros"),
    "abs": (lambda x: x.abs(), "zeros"),
    "norm_p1": (lambda x: x.norm(p=1), "zeros"),
    "norm_inf": (lambda x: tg.linalg.vector_norm(x, float("inf")), "zeros"),
    "l1_loss": (lambda x: F.l1_loss(x, tg.zeros(5, backend=x._be.name)), "zeros"),
    "nll_loss": (
        lambda x: F.nll_loss(x.reshape(1, 5), tg.tensor([1], backend=x._be.name)),
        "zeros",
    ),
    "sign": (lambda x: x.sign(), "none"),
    "clamp": (lambda x: x.clamp(-0.5, 0.5), "none"),
    "maximum": (lambda x: tg.maximum(x, tg.zeros(5, backend=x._be.name)), "none"),
    "max_dim": (lambda x: x.reshape(1, 5).max(dim=1)[0], "none"),
    "amax": (lambda x: x.amax(), "none"),
    "floor": (lambda x: x.floor(), "none"),
    "mul": (lambda x: x * 2, "none"),
    "matmul": (lambda x: x @ tg.ones(5, backend=x._be.name), "none"),
    "where": (lambda x: tg.where(x > 0, x, x * 2), "none"),
    "index": (lambda x: x[[0, 2]], "none"),
    "cumsum": (lambda x: x.cumsum(0), "none"),
    "smooth_l1_loss": (lambda x: F.smooth_l1_loss(x, tg.zeros(5, backend=x._be.name)), "values"),
    "mse_loss": (lambda x: F.mse_loss(x, tg.zeros(5, backend=x._be.name)), "values"),
}


@pytest.mark.parametrize("name", sorted(CONNECTED))
def test_second_gradient_connects_as_pytorch(backend, name):
    f, expect = CONNECTED[name]
    x = T([0.5, -1.0, 2.0, -0.3, 0.0], backend, tg.float32)
    (g,) = tg.autograd.grad(f(x).sum(), x, create_graph=True)
    if expect == "none":
        assert not g.requires_grad
        return
    (h,) = tg.autograd.grad(g.sum(), x)
    assert bool((h != 0).any()) == (expect == "values")


def test_anomaly_and_lockstep_tools_watch_a_create_graph_sweep():
    """The formulas' ops are ordinary ops: detect_anomaly names them, check_backends runs them
    on the reference too."""
    x = tg.tensor([1.0, 0.0, 2.0], requires_grad=True)
    with tg.autograd.detect_anomaly():
        with pytest.raises(tg.autograd.AnomalyError, match="DivBackward0"):
            tg.autograd.grad(x.sqrt().sum(), x, create_graph=True)  # sqrt'(0) = inf
    y = tg.tensor([1.0, 0.5, 2.0], requires_grad=True)
    with tg.autograd.check_backends():
        (g,) = tg.autograd.grad((y * y).tanh().sum(), y, create_graph=True)
        (h,) = tg.autograd.grad(g.sum(), y)
    x0 = np.array([1.0, 0.5, 2.0])
    t = np.tanh(x0 * x0)
    expect = 2 * (1 - t * t) - 8 * x0 * x0 * t * (1 - t * t)
    np.testing.assert_allclose(h.numpy(), expect, rtol=1e-5, atol=1e-4)  # float32, 1 - t*t


@pytest.mark.parametrize("create_graph", [False, True])
def test_inputs_below_other_inputs(backend, create_graph):
    """An input reached through another input still gets the whole gradient; a tensor named
    twice gets it twice (found by differential testing against PyTorch)."""
    x0 = np.array([0.5, -1.0, 2.0])
    x = T(x0, backend)
    h = x * 2
    loss = (h * h).sum() + x.sum()
    gh, gx = tg.autograd.grad(loss, [h, x], create_graph=create_graph, retain_graph=True)
    np.testing.assert_allclose(gh.detach().numpy(), 4 * x0)
    np.testing.assert_allclose(gx.detach().numpy(), 8 * x0 + 1)
    u = h * h
    gh, gu = tg.autograd.grad(u.sum(), [h, u], create_graph=create_graph)
    np.testing.assert_allclose(gh.detach().numpy(), 4 * x0)
    y = (x**3).sum()
    a, b = tg.autograd.grad(y, [x, x], create_graph=create_graph)
    np.testing.assert_allclose(a.detach().numpy(), 3 * x0**2)
    np.testing.assert_allclose(b.detach().numpy(), 3 * x0**2)


@pytest.mark.parametrize("create_graph", [False, True])
def test_retain_grad_and_backward_inputs_fill_grad_once(backend, create_graph):
    x = T([0.5, -1.0, 2.0], backend)
    h = x * 2
    u = h * h
    h.retain_grad()
    u.retain_grad()
    (u.sum() + h.sum()).backward(inputs=[h, u], create_graph=create_graph)
    np.testing.assert_allclose(h.grad.numpy(), [3.0, -3.0, 9.0])
    np.testing.assert_allclose(u.grad.numpy(), [1.0, 1.0, 1.0])


class ExpSavingOutput(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        y = x.exp()
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * y


def test_function_saved_output_keeps_its_history(backend):
    """A Function that saves its output: under create_graph the saved output carries the
    node's history, so d2/dx2 sum(exp(x)^2) = 4 exp(2x), not half of it."""
    x0 = np.array([0.5, -1.0, 2.0])
    x = T(x0, backend)
    y = ExpSavingOutput.apply(x)
    (g,) = tg.autograd.grad((y * y).sum(), x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 4 * np.exp(2 * x0), rtol=1e-14)
    y = ExpSavingOutput.apply(x)
    (g,) = tg.autograd.grad(y.sum(), x, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), np.exp(x0), rtol=1e-14)


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x  # should be 3 x^2


def test_gradcheck_float64(backend):
    """gradcheck takes float64 inputs (PyTorch's default for it) and still catches a wrong
    gradient."""
    x = T(X[:5], backend)
    assert tg.autograd.gradcheck(lambda a: (a.tanh() * a).exp(), (x,))
    with pytest.raises(tg.autograd.GradcheckError, match="float64"):
        tg.autograd.gradcheck(WrongCube.apply, (x,))


def test_grad_set_by_create_graph_is_a_copy(backend):
    """.grad never aliases the weights handed to backward (PyTorch's AccumulateGrad copies in
    grad mode): zeroing it in place must leave them alone."""
    x = T([1.0, 2.0], backend)
    v = T([3.0, 4.0], backend, rg=False)
    (x + 1).backward(v, create_graph=True)
    x.grad.zero_()
    np.testing.assert_array_equal(v.numpy(), [3.0, 4.0])
