"""tg.autograd.Function on both backends: forward/backward, ctx, its node on the tape, and
PyTorch's errors (the messages are PyTorch 2.13's)."""

import numpy as np
import pytest
import tapegrad as tg
from tapegrad.autograd import Function, once_differentiable


def T(data, backend, requires_grad=False, dtype=tg.float32):
    return tg.tensor(data, dtype=dtype, requires_grad=requires_grad, backend=backend)


def vals(t):
    return t.detach().numpy().astype(np.float64).tolist()


class MyReLU(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        ctx.seen = (ctx.needs_input_grad, tg.is_grad_enabled())
        return g * (x > 0)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float16, tg.float64], ids=lambda d: d.name)
def test_custom_relu(backend, dtype):
    x = T([-1.0, 2.0, 3.0], backend, True, dtype)
    y = MyReLU.apply(x)
    assert vals(y) == [0.0, 2.0, 3.0] and y.dtype is dtype
    assert y.grad_fn.name() == "MyReLUBackward"
    assert "grad_fn=<MyReLUBackward>" in repr(y)
    assert y.grad_fn.next_functions[0][0].name() == "AccumulateGrad"
    (y * 2).sum().backward()
    assert vals(x.grad) == [0.0, 2.0, 2.0] and x.grad.dtype is dtype
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()


def test_ctx_flags_and_grad_mode(backend):
    class F(Function):
        @staticmethod
        def forward(ctx, x, w, k):
            ctx.grad_mode = tg.is_grad_enabled()
            ctx.save_for_backward(x, w)
            ctx.k = k
            return x * w * k

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            ctx.seen = (ctx.needs_input_grad, tg.is_grad_enabled())
            return g * w * ctx.k, g * x * ctx.k, None

    x = T([1.0, 2.0], backend, True)
    w = T([3.0, 4.0], backend)
    y = F.apply(x, w, 2.0)
    (y.sum()).backward()
    assert vals(x.grad) == [6.0, 8.0] and w.grad is None
    assert y.grad_fn.next_functions[0][0].name() == "AccumulateGrad"


def test_no_node_without_grad(backend):
    z = T([1.0, -1.0], backend)
    out = MyReLU.apply(z)
    assert not out.requires_grad and out.grad_fn is None
    x = T([1.0, -1.0], backend, True)
    with tg.no_grad():
        assert MyReLU.apply(x).grad_fn is None


def test_new_style_setup_context(backend):
    class Scale(Function):
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    x = T([1.0, 1.0, 1.0], backend, True)
    Scale.apply(x, 3.0).sum().backward()
    assert vals(x.grad) == [3.0, 3.0, 3.0]


def test_non_differentiable_output_and_materialized_grads(backend):
    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            i = x.argmax()
            ctx.mark_non_differentiable(i)
            return x * 2, i

        @staticmethod
        def backward(ctx, g, gi):
            ctx.gi = gi
            return g * 2

    x = T([1.0, 5.0, 2.0], backend, True)
    a, i = Two.apply(x)
    assert a.grad_fn.name() == "TwoBackward" and not i.requires_grad and i.grad_fn is None
    a.sum().backward()
    assert vals(x.grad) == [2.0, 2.0, 2.0]
    assert a.grad_fn is not None


def test_gradient_summed_to_a_broadcast_input(backend):
    class Expand(Function):
        @staticmethod
        def forward(ctx, b):
            return b * 1

        @staticmethod
        def backward(ctx, g):
            return g.expand(4, 3)  # a gradient of the broadcast shape, summed to the input's

    b = T([1.0, 2.0, 3.0], backend, True)
    Expand.apply(b).sum().backward()
    assert vals(b.grad) == [4.0, 4.0, 4.0]


def test_output_that_is_the_input(backend):
    class Same(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 5

    x = T([1.0, 2.0], backend, True)
    s = Same.apply(x)
    assert s is not x and s.grad_fn.name() == "SameBackward"
    s.sum().backward()
    assert vals(x.grad) == [5.0, 5.0]


def test_backward_errors(backend):
    x = T([1.0, 1.0, 1.0], backend, True)
    w = T([1.0, 1.0, 1.0], backend, True)

    class Bad(Function):
        @staticmethod
        def forward(ctx, x, w):
            return x * w

        @staticmethod
        def backward(ctx, g):
            return g

    with pytest.raises(RuntimeError, match=r"function BadBackward returned an incorrect number "
                       r"of gradients \(expected 2, got 1\)"):  # fmt: skip
        Bad.apply(x, w).sum().backward()

    class Bad2(Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

        @staticmethod
        def backward(ctx, g):
            return g, g

    msg = (
        "function Bad2Backward returned a gradient different than None at position 2, but the "
        "corresponding forward input was not a Variable"
    )
    with pytest.raises(RuntimeError, match=msg):
        Bad2.apply(x, 2.0).sum().backward()

    class Bad3(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g[:2]

    msg = r"Function Bad3Backward returned an invalid gradient at index 0 - got \[2\] but "
    with pytest.raises(RuntimeError, match=msg + r"expected shape compatible with \[3\]"):
        Bad3.apply(x).sum().backward()


def test_saved_tensor_changed_in_place(backend):
    class Sv(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * 2

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g

    x = T([1.0, 1.0, 1.0], backend, True)
    y = Sv.apply(x)
    with tg.no_grad():
        x.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_once_differentiable_and_instantiation(backend):
    class F(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 3

        @staticmethod
        @once_differentiable
        def backward(ctx, g):
            return g * 3

    x = T([1.0], backend, True)
    F.apply(x).sum().backward()
    assert vals(x.grad) == [3.0]
    with pytest.raises(RuntimeError, match="should not be instantiated"):
        F()


def test_function_in_the_learner_tools():
    x = T([-1.0, 2.0], "cpp", True)
    y = (MyReLU.apply(x) * 2).sum()
    listing = str(tg.autograd.tape(y))
    assert "MyReLUBackward" in listing and "= MyReLU(x" in listing
    assert "saved: [0] f32[2] = [-1.0, 2.0]" in listing
    svg = tg.viz.draw(y)
    assert "MyReLU" in svg.svg


def test_function_refused_in_compile():
    x = T([1.0, 2.0], "cpp", True)

    @tg.compile
    def step(x):
        MyReLU.apply(x).sum().backward()

    with pytest.raises(RuntimeError, match="autograd.Function"):
        step(x)


class SinCosLike(Function):
    """Two differentiable outputs: (2x, x*x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * 2, x * x

    @staticmethod
    def backward(ctx, g1, g2):
        (x,) = ctx.saved_tensors
        ctx.got = (g1 is None, g2 is None)
        out = 0
        if g1 is not None:
            out = out + g1 * 2
        if g2 is not None:
            out = out + g2 * 2 * x
        return out


@pytest.mark.parametrize("use", ["both", "first", "second"])
def test_two_differentiable_outputs(backend, use):
    x = T([1.0, 2.0, 3.0], backend, True)
    a, b = SinCosLike.apply(x)
    assert a.grad_fn.name() == "SinCosLikeBackward" == b.grad_fn.name()
    loss = {"both": a.sum() + (b * 3).sum(), "first": a.sum(), "second": (b * 3).sum()}[use]
    loss.backward()
    expect = {"both": [8.0, 14.0, 20.0], "first": [2.0, 2.0, 2.0], "second": [6.0, 12.0, 18.0]}
    assert vals(x.grad) == expect[use]


def test_materialize_grads_off_passes_none(backend):
    seen = []

    class M(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            seen.append((g1 is None, g2 is None))
            return g1 if g1 is not None else g2 * 3

    x = T([1.0, 2.0], backend, True)
    p, q = M.apply(x)
    p.sum().backward(retain_graph=True)
    q.sum().backward()
    assert seen == [(False, True), (True, False)]
    assert vals(x.grad) == [4.0, 4.0]


@pytest.mark.parametrize("n", [4, 7, 12])
def test_many_inputs(backend, n):
    class WeightedSum(Function):
        @staticmethod
        def forward(ctx, *xs):
            out = xs[0] * 1
            for k, x in enumerate(xs[1:], start=2):
                out = out + x * k
            return out

        @staticmethod
        def backward(ctx, g):
            return tuple(g * (k + 1) for k in range(len(ctx.needs_input_grad)))

    xs = [T([1.0, 2.0], backend, k % 3 != 1) for k in range(n)]
    WeightedSum.apply(*xs).sum().backward()
    for k, x in enumerate(xs):
        if k % 3 == 1:
            assert x.grad is None
        else:
            assert vals(x.grad) == [k + 1.0, k + 1.0]


class _SquareInPlace(tg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x.mul_(x)
        ctx.mark_dirty(x)
        ctx.save_for_backward(x)
        return x

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        return g * 2 * y.sqrt()


def test_mark_dirty(backend):
    """As PyTorch: the input itself is the output, its history the Function's node, its
    version bumped by the change and by mark_dirty; a leaf that requires grad is refused."""
    a = tg.tensor([1.0, 2.0, 3.0], requires_grad=True, backend=backend)
    b = a * 1
    c = _SquareInPlace.apply(b)
    assert c is b and c.grad_fn.name() == "_SquareInPlaceBackward" and b._version == 2
    c.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 4.0, 6.0])
    (g,) = tg.autograd.grad(_SquareInPlace.apply(a * 1).sum(), a, create_graph=True)
    np.testing.assert_array_equal(g.detach().numpy(), [2.0, 4.0, 6.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used"):
        _SquareInPlace.apply(tg.tensor([1.0, 2.0], requires_grad=True, backend=backend))
    x = tg.tensor([1.0, 2.0], backend=backend)
    assert _SquareInPlace.apply(x) is x and x.tolist() == [1.0, 4.0]
    with pytest.raises(NotImplementedError, match="mark_dirty on a view"):
        _SquareInPlace.apply((a * 1)[1:])
