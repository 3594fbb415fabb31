"""Tensor.register_post_accumulate_grad_hook, and when leaves receive their gradient: as soon as
the last node that feeds them has run (PyTorch's AccumulateGrad), not at the end of the sweep.
DistributedDataParallel starts its allreduce from these hooks. Expected behaviour is PyTorch
2.13's, written out."""

import numpy as np
import pytest
import tapegrad as tg


def T(data, backend, requires_grad=False, dtype=tg.float32):
    return tg.tensor(data, dtype=dtype, requires_grad=requires_grad, backend=backend)


def test_hook_sees_the_accumulated_grad_and_the_tensor(backend):
    a = T([1.0, 1.0, 1.0], backend, True)
    b = T([1.0, 1.0, 1.0], backend, True)
    seen = []
    a.register_post_accumulate_grad_hook(lambda t: seen.append(("a", t is a, t.grad.tolist())))
    b.register_post_accumulate_grad_hook(lambda t: seen.append(("b", t.grad.tolist())))
    b.register_hook(lambda g: seen.append(("b grad hook",)))
    ((a * 2).sum() + (b * 3).sum()).backward()
    ((a * 2).sum()).backward()
    # PyTorch's order: b's branch was recorded last, so it runs first; grad hooks before
    assert seen == [
        ("b grad hook",),
        ("b", [3.0, 3.0, 3.0]),
        ("a", True, [2.0, 2.0, 2.0]),
        ("a", True, [4.0, 4.0, 4.0]),  # the second backward: after accumulation
    ]


def test_leaf_gets_its_grad_before_the_sweep_ends(backend):
    w0 = T(np.ones(4), backend, True)
    w1 = T(np.ones(4), backend, True)
    seen = []
    w1.register_post_accumulate_grad_hook(lambda t: seen.append(("w1", w0.grad is None)))
    w0.register_post_accumulate_grad_hook(lambda t: seen.append(("w0", w0.grad is None)))
    x = T(np.arange(4.0), backend)
    ((x * w0).tanh() * w1).sum().backward()
    assert seen == [("w1", True), ("w0", False)]


def test_a_leaf_used_twice_gets_one_summed_grad(backend):
    w = T([1.0, 2.0], backend, True)
    calls = []
    w.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.tolist()))
    ((w * w).sum() + (w * 3).exp().sum() * 0).backward()
    assert calls == [[2.0, 4.0]]


def test_not_run_by_autograd_grad_and_removable(backend):
    a = T([1.0, 2.0], backend, True)
    calls = []
    h = a.register_post_accumulate_grad_hook(lambda t: calls.append(1))
    tg.autograd.grad((a * 2).sum(), a)
    assert calls == []
    (a * a).sum().backward(create_graph=True)  # the Python create_graph sweep runs it too
    assert calls == [1]
    h.remove()
    (a * 2).sum().backward()
    assert calls == [1]


def test_errors_as_pytorch(backend):
    a = T([1.0, 2.0], backend, True)
    with pytest.raises(RuntimeError, match="^post accumulate grad hooks cannot be registered on"):
        (a * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="^cannot register a hook on a tensor that doesn't"):
        T([1.0], backend).register_post_accumulate_grad_hook(lambda t: None)
    h = a.register_post_accumulate_grad_hook(lambda t: 5)
    with pytest.raises(TypeError, match="^expected Variable, but hook returned 'int'$"):
        (a * 2).sum().backward()
    h.remove()
    h = a.register_post_accumulate_grad_hook(lambda t: t * 2)
    with pytest.raises(RuntimeError, match="^Tensor post accumulate grad hooks should return None"):
        (a * 2).sum().backward()
    h.remove()


def test_compile_refuses_a_post_accumulate_hook():
    w = tg.ones(3, requires_grad=True, backend="cpp")
    w.register_post_accumulate_grad_hook(lambda t: None)
    x = tg.ones(3, backend="cpp")

    @tg.compile
    def step(x):
        (w * x).sum().backward()

    with pytest.raises(RuntimeError, match="post-accumulate-grad hook"):
        step(x)
