"""The ewise slice's PyTorch behaviour that the op cases do not show: result dtypes, errors,
grad_fn names, NaN and tie rules, in-place forms and the activation modules (the expected
values are PyTorch 2.13's, recorded by hand; the bits are the parity lane's,
tests/parity/cases_ewise.py)."""

import math

import numpy as np
import pytest
import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F

FLOATS = (tg.float32, tg.float16, tg.float64)


def T(values, backend, dtype=None, requires_grad=False):
    return tg.tensor(values, dtype=dtype, backend=backend, requires_grad=requires_grad)


@pytest.mark.parametrize("op", "sqrt rsqrt tan expm1 log2 log10 log1p reciprocal".split())
@pytest.mark.parametrize("dt", (tg.int64, tg.int32, tg.uint8, tg.bool))
def test_float_only_unary_ops_give_the_default_float(backend, op, dt):
    x = T([1, 0], backend, dtype=dt)
    assert getattr(tg, op)(x).dtype is tg.float32


@pytest.mark.parametrize("op", "floor ceil round trunc sign".split())
@pytest.mark.parametrize("dt", (tg.int64, tg.int32, tg.uint8))
def test_steps_keep_integers(backend, op, dt):
    x = T([0, 1, 2], backend, dtype=dt)
    y = getattr(x, op)()
    assert y.dtype is dt and y.tolist() == ([0, 1, 1] if op == "sign" else [0, 1, 2])
    y.fill_(5)
    assert x.tolist() == [0, 1, 2]  # a copy


@pytest.mark.parametrize("op", "floor ceil round trunc".split())
def test_steps_refuse_bool(backend, op):
    with pytest.raises(NotImplementedError, match=f'"{op}_vml_cpu" not implemented for .Bool.'):
        getattr(tg, op)(T([True], backend))
    assert tg.sign(T([True, False], backend)).tolist() == [True, False]


@pytest.mark.parametrize("dt", FLOATS, ids=str)
def test_unary_grad_fn_names_and_special_values(backend, dt):
    x = T([1.5, -0.0, 2.5, -2.5, 0.5], backend, dt, requires_grad=True)
    names = {
        "sqrt": "SqrtBackward0", "rsqrt": "RsqrtBackward0", "tan": "TanBackward0",
        "expm1": "Expm1Backward0", "log2": "Log2Backward0", "log10": "Log10Backward0",
        "log1p": "Log1PBackward0", "reciprocal": "ReciprocalBackward0",
        "floor": "FloorBackward0", "ceil": "CeilBackward0", "round": "RoundBackward0",
        "trunc": "TruncBackward0", "sign": "SignBackward0", "square": "PowBackward0",
    }  # fmt: skip
    for op, name in names.items():
        assert getattr(x, op)().grad_fn.name() == name, op
    assert x.round().tolist() == [2.0, -0.0, 2.0, -2.0, 0.0]  # halves to even
    assert math.copysign(1, x.sqrt().tolist()[1]) == -1  # sqrt(-0) = -0, float16 too
    s = T([float("nan"), -0.0, 0.0, -2.0], backend, dt).sign().tolist()
    assert s == [0.0, 0.0, 0.0, -1.0] and math.copysign(1, s[1]) == 1
    y = x.floor()
    y.sum().backward()
    assert x.grad.tolist() == [0.0] * 5


def test_in_place_unary_forms(backend):
    x = T([4.0, 9.0], backend)
    assert x.sqrt_() is x and x.tolist() == [2.0, 3.0]
    x.square_()
    assert x.tolist() == [4.0, 9.0]
    i = T([4, 9], backend)
    i.floor_()
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output"):
        i.sqrt_()
    leaf = T([1.0], backend, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.sqrt_()


@pytest.mark.parametrize("dt", FLOATS, ids=str)
def test_clamp_forms_grad_fn_and_gradient_at_the_bounds(backend, dt):
    x = T([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0], backend, dt, requires_grad=True)
    cases = [
        (lambda: x.clamp(-1, 1), "ClampBackward1", [0, 1, 1, 1, 1, 0]),
        (lambda: tg.clamp(x, min=-1), "ClampBackward1", [0, 1, 1, 1, 1, 1]),
        (lambda: x.clip(max=1), "ClampBackward1", [1, 1, 1, 1, 1, 0]),
        (lambda: x.clamp_min(-1), "ClampMinBackward0", [0, 1, 1, 1, 1, 1]),
        (lambda: tg.clamp_max(x, 1), "ClampMaxBackward0", [1, 1, 1, 1, 1, 0]),
    ]
    for make, name, grad in cases:
        x.grad = None
        y = make()
        assert y.grad_fn.name() == name and y.dtype is dt
        y.sum().backward()
        assert x.grad.tolist() == grad


def test_clamp_values_dtypes_and_errors(backend):
    x = T([1.0, float("nan"), -3.0], backend)
    assert x.clamp(3, 1).tolist()[::2] == [1.0, 1.0]  # min > max: max
    assert math.isnan(x.clamp(-1, 1).tolist()[1])
    assert all(math.isnan(v) for v in x.clamp(float("nan"), 1).tolist())
    i = T([1, 2, 5], backend)
    assert i.clamp(0, 3).dtype is tg.int64 and i.clamp(0, 3).tolist() == [1, 2, 3]
    assert i.clamp(0.5, 1.5).dtype is tg.float32
    h = T([1.0], backend, tg.float16)
    assert h.clamp(0, 2.0).dtype is tg.float16
    for args in [(), (None, None)]:
        with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):
            x.clamp(*args)
    y = T([5.0, -5.0], backend)
    assert y.clamp_(-1, 1) is y and y.tolist() == [1.0, -1.0]


def test_maximum_minimum(backend):
    a = T([1.0, 2.0, float("nan"), 0.0], backend, requires_grad=True)
    b = T([1.0, 3.0, 1.0, -1.0], backend, requires_grad=True)
    y = tg.maximum(a, b)
    assert y.grad_fn.name() == "MaximumBackward0"
    assert math.isnan(y.tolist()[2]) and y.tolist()[3] == 0.0
    y.sum().backward()
    assert a.grad.tolist() == [0.5, 0.0, 1.0, 1.0] and b.grad.tolist() == [0.5, 1.0, 1.0, 0.0]
    m = a.minimum(b)
    assert m.grad_fn.name() == "MinimumBackward0" and m.tolist()[:2] == [1.0, 2.0]
    ints = tg.maximum(T([1, 5], backend), T([3, 2], backend))
    assert ints.dtype is tg.int64 and ints.tolist() == [3, 5]
    assert tg.maximum(T([1, 5], backend), T([1.5, 2.0], backend)).dtype is tg.float32
    with pytest.raises(TypeError, match=r"maximum\(\): argument 'other' \(position 2\) must be"):
        tg.maximum(a, 2.0)


def test_pow_with_a_tensor_exponent(backend):
    b = T([0.0, 0.0, 2.0, 3.0], backend, requires_grad=True)
    e = T([0.0, 2.0, -1.0, 2.0], backend, requires_grad=True)
    y = b**e
    assert y.grad_fn.name() == "PowBackward1" and y.tolist() == [1.0, 0.0, 0.5, 9.0]
    y.sum().backward()
    assert b.grad.tolist() == [0.0, 0.0, -0.25, 6.0]
    assert e.grad.tolist()[:2] == [0.0, 0.0]  # a zero base with a non-negative exponent
    assert np.allclose(e.grad.tolist()[2:], [0.5 * math.log(2), 9 * math.log(3)])
    i = T([2, 3], backend) ** T([2, -1], backend)
    assert i.dtype is tg.int64 and i.tolist() == [4, 0]
    assert (T([2, 3], backend) ** T([2.0, 1.0], backend)).dtype is tg.float32
    assert tg.pow(T([2.0], backend), T([3.0], backend)).tolist() == [8.0]


@pytest.mark.parametrize("dt", FLOATS, ids=str)
def test_activation_grad_fn_names(backend, dt):
    x = T([-2.0, -0.5, 0.0, 0.5, 3.0], backend, dt, requires_grad=True)
    names = [
        (F.leaky_relu, "LeakyReluBackward0"), (F.elu, "EluBackward0"),
        (F.gelu, "GeluBackward0"), (F.silu, "SiluBackward0"),
        (F.softplus, "SoftplusBackward0"), (F.hardtanh, "HardtanhBackward0"),
        (F.relu6, "HardtanhBackward0"),
    ]  # fmt: skip
    for f, name in names:
        y = f(x)
        assert y.grad_fn.name() == name and y.dtype is dt
        y.sum().backward()
    assert F.relu6(x * 4).tolist() == [0.0, 0.0, 0.0, 2.0, 6.0]
    assert F.leaky_relu(x, 0.5).tolist() == [-1.0, -0.25, 0.0, 0.5, 3.0]


def test_activation_errors(backend):
    i = T([1, 2], backend)
    for f, kernel in [(F.leaky_relu, "leaky_relu_cpu"), (F.elu, "elu_cpu"),
                      (F.silu, "silu_cpu"), (F.softplus, "softplus_cpu")]:  # fmt: skip
        with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented for .Long.'):
            f(i)
    assert F.relu6(T([1, 8], backend)).tolist() == [1, 6]
    x = T([1.0], backend)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh."):
        F.gelu(x, approximate="foo")
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(x, 2, 1)
    with pytest.raises(TypeError, match=r"leaky_relu\(\): argument 'input'"):
        F.leaky_relu([1.0])


def test_activation_inplace(backend):
    x = T([1.0, -2.0], backend)
    assert F.leaky_relu(x, 0.01, inplace=True) is x and x.tolist()[1] == pytest.approx(-0.02)
    w = T([1.0, -2.0], backend, requires_grad=True)
    y = F.elu(w * 1, inplace=True)  # recorded: computed out of place
    y.sum().backward()
    assert w.grad.tolist()[0] == 1.0


def test_activation_modules(backend):
    reprs = [
        (nn.LeakyReLU(), "LeakyReLU(negative_slope=0.01)"),
        (nn.LeakyReLU(0.2, True), "LeakyReLU(negative_slope=0.2, inplace=True)"),
        (nn.ELU(), "ELU(alpha=1.0)"),
        (nn.ELU(0.5, inplace=True), "ELU(alpha=0.5, inplace=True)"),
        (nn.GELU(), "GELU(approximate='none')"),
        (nn.GELU("tanh"), "GELU(approximate='tanh')"),
        (nn.SiLU(), "SiLU()"),
        (nn.SiLU(True), "SiLU(inplace=True)"),
        (nn.Softplus(), "Softplus(beta=1.0, threshold=20.0)"),
        (nn.Softplus(2, 10), "Softplus(beta=2, threshold=10)"),
        (nn.Hardtanh(), "Hardtanh(min_val=-1.0, max_val=1.0)"),
        (nn.Hardtanh(-2, 2, True), "Hardtanh(min_val=-2, max_val=2, inplace=True)"),
        (nn.ReLU6(), "ReLU6()"),
        (nn.ReLU6(True), "ReLU6(inplace=True)"),
    ]
    for m, text in reprs:
        assert repr(m) == text
    x = T([-1.0, 0.5, 7.0], backend)
    for m, f in [(nn.GELU("tanh"), lambda v: F.gelu(v, approximate="tanh")), (nn.ReLU6(), F.relu6),
                 (nn.Softplus(2, 10), lambda v: F.softplus(v, 2, 10))]:  # fmt: skip
        assert m(x).tolist() == f(x).tolist()
