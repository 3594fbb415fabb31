"""The autograd API on both backends: autograd.grad / autograd.backward, backward(inputs=),
tensor hooks, retain_grad, and module hooks. Expected values are PyTorch 2.13's (its answers
for these small graphs are exact, so they are written out)."""

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import nn


def T(data, backend, requires_grad=False, dtype=tg.float32):
    return tg.tensor(data, dtype=dtype, requires_grad=requires_grad, backend=backend)


def vals(t):
    return None if t is None else t.detach().numpy().astype(np.float64).tolist()


DTYPES = [tg.float32, tg.float16, tg.float64]


# ------------------------------------------------------------------ autograd.grad


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_grad_returns_and_leaves_grad_alone(backend, dtype):
    x = T([1.0, 2.0, 3.0], backend, True, dtype)
    w = T([0.5, -1.0, 2.0], backend, True, dtype)
    y = (x * w).sum()
    gx, gw = tg.autograd.grad(y, [x, w])
    assert vals(gx) == [0.5, -1.0, 2.0] and vals(gw) == [1.0, 2.0, 3.0]
    assert gx.dtype is dtype and x.grad is None and w.grad is None


def test_grad_of_non_leaf_runs_only_what_it_needs(backend):
    x = T([1.0, 2.0], backend, True)
    h = x * 3
    y = (h * h).sum()
    (gh,) = tg.autograd.grad(y, h, retain_graph=True)
    assert vals(gh) == [6.0, 12.0]
    assert x.grad is None
    (gx,) = tg.autograd.grad(y, x)
    assert vals(gx) == [18.0, 36.0]


def test_grad_frees_the_graph_unless_retained(backend):
    x = T([1.0, 2.0], backend, True)
    y = (x * x).sum()
    tg.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        tg.autograd.grad(y, x)


def test_grad_several_outputs_and_grad_outputs(backend):
    x = T([1.0, 2.0], backend, True)
    y1 = x * 2
    y2 = x * x
    (g,) = tg.autograd.grad([y1, y2], x, [T([1.0, 1.0], backend), T([1.0, 0.5], backend)])
    assert vals(g) == [4.0, 4.0]


def test_grad_of_a_leaf_with_respect_to_itself(backend):
    x = T([1.0, 2.0, 3.0], backend, True)
    (g,) = tg.autograd.grad(x.sum(), x, T(2.0, backend))
    assert vals(g) == [2.0, 2.0, 2.0]


def test_grad_errors(backend):
    x = T([1.0, 2.0, 3.0], backend, True)
    z = T([1.0, 2.0, 3.0], backend)
    w = T([1.0, 2.0, 3.0], backend, True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="^One of the differentiated Tensors does not require"):
        tg.autograd.grad(y, z, retain_graph=True)
    msg = "The differentiated Tensor at index 0 appears to not have been used in the graph"
    with pytest.raises(RuntimeError, match=msg):
        tg.autograd.grad(y, w, retain_graph=True)
    assert tg.autograd.grad(y, w, retain_graph=True, allow_unused=True) == (None,)
    gx, gw = tg.autograd.grad(y, [x, w], retain_graph=True, materialize_grads=True)
    assert vals(gw) == [0.0, 0.0, 0.0] and vals(gx) == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="Expected allow_unused to be True or not passed"):
        tg.autograd.grad(y, x, retain_graph=True, allow_unused=False, materialize_grads=True)
    with pytest.raises(RuntimeError, match="got 2 tensors and 1 gradients"):
        tg.autograd.grad([y, y], x, grad_outputs=[T(1.0, backend)], retain_graph=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        tg.autograd.grad(x * 2, x)
    with pytest.raises(RuntimeError, match=r"Mismatch in shape: grad_output\[0\] has a shape"):
        tg.autograd.grad(x * 2, x, grad_outputs=T([1.0, 1.0], backend))
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad"):
        tg.autograd.grad(z * 2, x)
    with pytest.raises(RuntimeError, match="`inputs` argument to `grad\\(\\)` cannot be empty"):
        tg.autograd.grad(y, [])


# ------------------------------------------------------------------ backward(inputs=)


def test_backward_inputs_fills_only_those(backend):
    x = T([1.0, 2.0, 3.0], backend, True)
    w = T([2.0, 2.0, 2.0], backend, True)
    y = x * w
    loss = (y * y).sum()
    loss.backward(inputs=[y], retain_graph=True)
    assert vals(y.grad) == [4.0, 8.0, 12.0] and x.grad is None and w.grad is None
    loss.backward(inputs=[x])
    assert vals(x.grad) == [8.0, 16.0, 24.0] and w.grad is None
    with pytest.raises(RuntimeError, match="`inputs` argument to `backward\\(\\)` cannot be"):
        (x * 1).sum().backward(inputs=[])


def test_autograd_backward_several_roots(backend):
    x = T([1.0, 2.0], backend, True)
    tg.autograd.backward([(x * x).sum(), (x * 3).sum()])
    assert vals(x.grad) == [5.0, 7.0]
    tg.autograd.backward(x * 2, grad_tensors=T([1.0, -1.0], backend))
    assert vals(x.grad) == [7.0, 5.0]


# ------------------------------------------------------------------ tensor hooks


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_hooks_on_leaf_and_non_leaf(backend, dtype):
    x = T([1.0, 2.0], backend, True, dtype)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(("h", vals(g))))
    hd = h.register_hook(lambda g: g * 10)
    x.register_hook(lambda g: seen.append(("x", vals(g))))
    (h * h).sum().backward(retain_graph=True)
    assert seen == [("h", [4.0, 8.0]), ("x", [80.0, 160.0])]
    assert vals(x.grad) == [80.0, 160.0]
    hd.remove()
    hd.remove()  # a second remove does nothing
    x.grad = None
    (h * h).sum().backward()
    assert vals(x.grad) == [8.0, 16.0]


def test_leaf_hook_sees_the_summed_gradient(backend):
    x = T([1.0, 2.0], backend, True)
    calls = []
    x.register_hook(lambda g: calls.append(vals(g)))
    (x * 2 + x * 3).sum().backward()
    assert calls == [[5.0, 5.0]]


def test_hook_errors(backend):
    z = T([1.0, 2.0], backend)
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't"):
        z.register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad"):
        z.retain_grad()
    x = T([1.0, 2.0, 3.0], backend, True)
    cases = [
        (lambda g: g[:2], RuntimeError, "hook '<lambda>' has changed the size of value"),
        (
            lambda g: g.double(),
            RuntimeError,
            r"hook '<lambda>' has changed the type of value \(was torch.FloatTensor got "
            r"torch.DoubleTensor\)",
        ),
        (lambda g: 3, TypeError, "expected Variable, but hook returned 'int'"),
    ]
    for fn, err, msg in cases:
        h = x.register_hook(fn)
        with pytest.raises(err, match=msg):
            (x * 2).sum().backward()
        h.remove()


def test_retain_grad(backend):
    a = T([1.0, 1.0, 1.0], backend, True)
    b = a * 2
    assert (b.retains_grad, a.retains_grad) == (False, False)
    b.retain_grad()
    a.retain_grad()
    assert (b.retains_grad, a.retains_grad) == (True, False)
    c = (b * b).sum()
    c.backward(retain_graph=True)
    assert vals(b.grad) == [4.0, 4.0, 4.0] and vals(a.grad) == [8.0, 8.0, 8.0]
    c.backward()
    assert vals(b.grad) == [8.0, 8.0, 8.0]


def test_retain_grad_sees_what_the_hooks_made(backend):
    a = T([1.0, 2.0], backend, True)
    b = a * 1
    b.retain_grad()
    b.register_hook(lambda g: g * 3)  # registered later, still runs first (as PyTorch)
    b.sum().backward()
    assert vals(b.grad) == [3.0, 3.0] and vals(a.grad) == [3.0, 3.0]


def test_hooks_refused_in_compile():
    lin = nn.Linear(2, 1)
    x = tg.ones(4, 2)

    @tg.compile
    def step(x):
        out = lin(x)
        out.register_hook(lambda g: g)
        out.sum().backward()

    with pytest.raises(RuntimeError, match="tensor hook"):
        step(x)
    lin.register_forward_hook(lambda m, a, out: None)

    @tg.compile
    def step2(x):
        lin(x).sum().backward()

    with pytest.raises(RuntimeError, match="module hooks"):
        step2(x)


# ------------------------------------------------------------------ module hooks


def _net(backend):
    tg.manual_seed(0)
    with tg.use_backend(backend):
        return nn.Linear(3, 2)


def test_forward_hooks_order_modify_and_remove(backend):
    lin = _net(backend)
    x = T([[1.0, 2.0, 3.0]], backend)
    log = []
    h1 = lin.register_forward_pre_hook(lambda m, a: log.append("pre") or (a[0] * 2,))
    h2 = lin.register_forward_hook(lambda m, a, out: log.append("post") or out * 0)
    h3 = lin.register_forward_hook(lambda m, a, out: log.append("first"), prepend=True)
    out = lin(x)
    assert log == ["pre", "first", "post"] and vals(out) == [[0.0, 0.0]]
    for h in (h1, h2, h3):
        h.remove()
    assert vals(lin(x)) == vals(x @ lin.weight.t() + lin.bias)


def test_forward_hooks_with_kwargs_and_always_call(backend):
    class M(nn.Module):
        def forward(self, x, scale=1.0):
            if scale < 0:
                raise ValueError("negative")
            return x * scale

    m = M()
    x = T([1.0, 2.0], backend)
    m.register_forward_pre_hook(
        lambda mod, a, kw: (a, {"scale": kw["scale"] * 10}), with_kwargs=True
    )
    assert vals(m(x, scale=0.5)) == [5.0, 10.0]
    seen = []
    m.register_forward_hook(
        lambda mod, a, kw, out: seen.append(out), with_kwargs=True, always_call=True
    )
    with pytest.raises(ValueError):
        m(x, scale=-1.0)
    assert seen == [None]


def test_full_backward_hooks(backend):
    lin = _net(backend)
    x = T([[1.0, 2.0, 3.0]], backend, True)
    seen = {}

    def pre(m, grad_output):
        seen["pre"] = vals(grad_output[0])
        return (grad_output[0] * 2,)

    def post(m, grad_input, grad_output):
        seen["gi"] = vals(grad_input[0])
        seen["go"] = vals(grad_output[0])

    lin.register_full_backward_pre_hook(pre)
    lin.register_full_backward_hook(post)
    lin(x).sum().backward()
    assert seen["pre"] == [[1.0, 1.0]] and seen["go"] == [[2.0, 2.0]]
    w = lin.weight.detach().numpy().astype(np.float64)
    np.testing.assert_allclose(seen["gi"], 2 * w.sum(0, keepdims=True), rtol=1e-6)
    assert vals(x.grad) == seen["gi"]


def test_full_backward_hook_without_input_grad(backend):
    lin = _net(backend)
    seen = []
    lin.register_full_backward_hook(lambda m, gi, go: seen.append((gi, vals(go[0]))))
    with pytest.warns(UserWarning, match="no inputs require gradients"):
        lin(T([[1.0, 2.0, 3.0]], backend)).sum().backward()
    assert seen == [((None,), [[1.0, 1.0]])]


def test_non_leaf_grad_warns_unless_retained(backend):
    x = T([1.0, 2.0], backend, True)
    y = x * 2
    with pytest.warns(UserWarning, match="The .grad attribute of a Tensor that is not a leaf"):
        assert y.grad is None
    y.retain_grad()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y.grad is None and x.grad is None


def test_is_grads_batched(backend):
    """One vjp per row of the batched grad_outputs: a Jacobian from the identity."""
    x0 = np.linspace(-1.0, 1.0, 40)
    x = tg.tensor(x0, dtype=tg.float64, requires_grad=True, backend=backend)
    eye = tg.tensor(np.eye(40), dtype=tg.float64, backend=backend)
    (jac,) = tg.autograd.grad(x.sin() * x, x, eye, is_grads_batched=True, retain_graph=True)
    np.testing.assert_allclose(jac.numpy(), np.diag(np.cos(x0) * x0 + np.sin(x0)), rtol=1e-15)
    (g,) = tg.autograd.grad(x * x * x, x, eye, is_grads_batched=True, create_graph=True)
    (h,) = tg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x0, rtol=1e-14)
    w = tg.ones(3, requires_grad=True, backend=backend)
    ones = tg.ones(3, dtype=tg.float64, backend=backend)
    got = tg.autograd.grad((x * x).sum(), [x, w], ones, is_grads_batched=True, allow_unused=True)
    assert tuple(got[0].shape) == (3, 40) and got[1] is None
    with pytest.raises(RuntimeError, match="we interpret the first dimension of each grad_output"):
        tg.autograd.grad(x.sin(), x, tg.ones(2, 3, backend=backend), is_grads_batched=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar"):
        tg.autograd.grad(x.sin(), x, is_grads_batched=True)


class _TwoInTwoOut(tg.nn.Module):
    def forward(self, a, k, b):
        return a * b + k, (a - b).tanh()


def test_full_backward_hooks_several_inputs_and_outputs(backend):
    """As PyTorch: one call with every tensor argument's gradient (zeros where none reached
    it, None for a non-tensor) and every output's (None where unused); the hook's result
    replaces grad_input."""
    m = _TwoInTwoOut()
    seen = []
    m.register_full_backward_pre_hook(lambda mod, go: seen.append(("pre", go)))

    def post(mod, gi, go):
        seen.append(("post", gi, go))
        return tuple(None if g is None else g * 2 for g in gi)

    m.register_full_backward_hook(post)
    a0, b0 = np.array([0.5, -1.0, 2.0]), np.array([1.5, 0.25, -0.5])
    a = tg.tensor(a0, dtype=tg.float64, requires_grad=True, backend=backend)
    b = tg.tensor(b0, dtype=tg.float64, requires_grad=True, backend=backend)
    y, z = m(a, 3.0, b)
    assert y.grad_fn.name() == "BackwardHookFunctionBackward"
    (y.sum() + (z * z).sum()).backward()
    zz = np.tanh(a0 - b0)
    dz = 2 * zz * (1 - zz * zz)
    (_, go), (_, gi, go2) = seen
    np.testing.assert_allclose(go[1].numpy(), 2 * zz)
    assert gi[1] is None and go2[1] is go[1]
    np.testing.assert_allclose(gi[0].numpy(), b0 + dz)
    np.testing.assert_allclose(a.grad.numpy(), 2 * (b0 + dz))
    np.testing.assert_allclose(b.grad.numpy(), 2 * (a0 - dz))

    seen.clear()
    y, z = m(a, 3.0, tg.tensor([1.0, 2.0, 3.0], dtype=tg.float64, backend=backend))
    z.sum().backward()
    (_, go), (_, gi, _) = seen
    assert go[0] is None
    np.testing.assert_array_equal(gi[2].numpy(), np.zeros(3))  # no gradient reached it
