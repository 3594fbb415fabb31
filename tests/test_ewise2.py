"""The ewise2 slice on both backends, without PyTorch: clamp with tensor bounds, round(decimals=),
pow(number, tensor), float_power and the gradients of normal and bernoulli. Their bits against
PyTorch's: tests/test_ewise2_golden.py; PyTorch's grad_fn names, dtypes and errors as measured
with PyTorch 2.13 are written out here."""

import numpy as np
import pytest
import tapegrad as tg

NAN = float("nan")


def t(values, dtype=None, requires_grad=False):
    return tg.tensor(values, dtype=dtype, requires_grad=requires_grad)


# ---------------------------------------------------------------- clamp with tensor bounds


def test_clamp_tensor_values_nan_and_gradients(backend):
    with tg.use_backend(backend):
        x = t([1.0, NAN, 3.0, -2.0, 5.0], requires_grad=True)
        lo = t([2.0, 0.0, NAN, -2.0, 6.0], requires_grad=True)
        hi = t([4.0, 1.0, 4.0, 3.0, 5.5], requires_grad=True)
        y = tg.clamp(x, lo, hi)
        assert y.grad_fn.name() == "ClampBackward0"
        np.testing.assert_array_equal(y.detach().numpy(), [2.0, NAN, NAN, -2.0, 5.5])
        y.sum().backward()
        # ties (x == lo) go to x; lo > hi gives hi the gradient
        assert x.grad.tolist() == [0.0, 0.0, 0.0, 1.0, 0.0]
        assert lo.grad.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]
        assert hi.grad.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize(
    "call,name,gx,gb",
    [
        (lambda x, b: x.clamp_min(b), "ClampMinBackward1", [0, 1, 1], [1, 0, 0]),
        (lambda x, b: tg.clamp_max(x, b), "ClampMaxBackward1", [1, 1, 0], [0, 0, 1]),
        (lambda x, b: x.clamp(b), "ClampBackward0", [0, 1, 1], [1, 0, 0]),
        (lambda x, b: x.clip(max=b), "ClampBackward0", [1, 1, 0], [0, 0, 1]),
    ],
)
def test_one_sided_clamp_tensor(backend, call, name, gx, gb):
    with tg.use_backend(backend):
        x = t([1.0, 2.0, 3.0], requires_grad=True)
        b = t(2.0, requires_grad=True)  # 0-dim, broadcast: its gradient is summed
        y = call(x, b)
        assert y.grad_fn.name() == name
        y.sum().backward()
        assert x.grad.tolist() == gx and b.grad.item() == sum(gb)


def test_clamp_tensor_broadcasts_to_the_bounds_shape(backend):
    with tg.use_backend(backend):
        x = t([0.0, 1.0, 2.0], requires_grad=True)
        y = tg.clamp(x, t(np.full((2, 3), 0.5, np.float32)))
        assert tuple(y.shape) == (2, 3)
        y.sum().backward()
        assert x.grad.tolist() == [0.0, 2.0, 2.0]


@pytest.mark.parametrize(
    "x,b,dtype",
    [
        ([1, 2], [1.5, 0.0], "float32"),  # int64 with float32 bounds
        ([1.0, 2.0], [1, 3], "float32"),
        ([True, False], [True, True], "bool"),  # one-sided bool is maximum/minimum
        ([1, 2], [True, False], "int64"),
    ],
)
def test_clamp_tensor_promotes(backend, x, b, dtype):
    with tg.use_backend(backend):
        assert tg.clamp(t(x), t(b)).dtype is getattr(tg, dtype)
        assert tg.clamp_max(t(x), t(b)).dtype is getattr(tg, dtype)


def test_clamp_tensor_mixed_float_dtypes(backend):
    with tg.use_backend(backend):
        x = t([1.0, 2.0], tg.float16, requires_grad=True)
        b = t([1.5, 1.5], tg.float64, requires_grad=True)
        y = tg.clamp(x, b)
        assert y.dtype is tg.float64
        y.sum().backward()
        assert x.grad.dtype is tg.float16 and x.grad.tolist() == [0.0, 1.0]
        assert b.grad.dtype is tg.float64 and b.grad.tolist() == [1.0, 0.0]
        assert tg.clamp(x.detach(), t(1.5, tg.float64)).dtype is tg.float16  # a 0-dim bound


def test_clamp_tensor_in_place(backend):
    with tg.use_backend(backend):
        x = t([1.0, 2.0], tg.float16)
        assert x.clamp_(t([1.5, 0.0], tg.float64)) is x
        assert x.dtype is tg.float16 and x.tolist() == [1.5, 2.0]
        i = t([1, 2])
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired"):
            i.clamp_(t([1.5, 0.0]))
        i.clamp_min_(t([3, 0]))
        assert i.tolist() == [3, 2]


def test_clamp_tensor_errors(backend):
    with tg.use_backend(backend):
        x = t([1.0, 2.0, 3.0])
        with pytest.raises(RuntimeError, match="At least one of 'min' or 'max' must not be None"):
            x.clamp(None, None)
        with pytest.raises(TypeError, match="clamp\\(\\) received an invalid combination"):
            tg.clamp(x, t([0.0, 0.0, 0.0]), 2.0)
        with pytest.raises(TypeError, match="invalid combination"):
            x.clip(1.0, t([3.0, 3.0, 3.0]))
        with pytest.raises(RuntimeError, match="The size of tensor a \\(3\\) must match"):
            tg.clamp(x, t([0.0, 1.0]))
        b = t([True, False])
        with pytest.raises(NotImplementedError, match="\"clamp_cpu\" not implemented for 'Bool'"):
            tg.clamp(b, b, b)


def test_clamp_tensor_integers(backend):
    with tg.use_backend(backend):
        y = tg.clamp(t([1, 5, 3]), t([2, 2, 2]), t([4, 4, 4]))
        assert y.dtype is tg.int64 and y.tolist() == [2, 4, 3]


# ---------------------------------------------------------------- round(decimals=)


@pytest.mark.parametrize("dtype", [tg.float32, tg.float64, tg.float16])
def test_round_decimals_name_gradient_and_range(backend, dtype):
    with tg.use_backend(backend):
        x = t([1.2345, 2.5, -3.55, 0.125], dtype, requires_grad=True)
        for d in (0, 1, 2, -1):
            y = tg.round(x, decimals=d)
            assert y.grad_fn.name() == "RoundBackward1" and y.dtype is dtype
        y.sum().backward()
        assert x.grad.tolist() == [0.0] * 4
        assert x.round().grad_fn.name() == "RoundBackward0"
        assert x.round(decimals=0).tolist() == x.round().tolist()
        # 10^d past the type's range: inf, then NaN (x * inf / inf; x / inf * inf)
        assert np.isnan(x.round(decimals=400).detach().numpy()).all()
        assert np.isnan(x.round(decimals=-400).detach().numpy()).all()
        assert np.isnan(x.round(decimals=-(2**63)).detach().numpy()).all()


def test_round_decimals_halves_to_even_after_scaling(backend):
    with tg.use_backend(backend):
        assert t([0.125, 0.375, -2.5], tg.float64).round(decimals=2).tolist() == [
            0.12,
            0.38,
            -2.5,
        ]
        assert t([25.0, 35.0, -150.0], tg.float64).round(decimals=-1).tolist() == [
            20.0,
            40.0,
            -150.0,
        ]


def test_round_decimals_errors(backend):
    with tg.use_backend(backend):
        i = t([15, 25])
        with pytest.raises(NotImplementedError, match="\"round_cpu\" not implemented for 'Long'"):
            tg.round(i, decimals=1)
        with pytest.raises(NotImplementedError, match='"round_vml_cpu" not implemented'):
            i.round(decimals=0)
        with pytest.raises(TypeError, match="decimals=float"):
            tg.round(t([1.0]), decimals=1.5)
        with pytest.raises(TypeError):
            tg.round(t([1.0]), 2)  # decimals is keyword-only


def test_round_decimals_in_place(backend):
    with tg.use_backend(backend):
        x = t([1.25, 2.35])
        assert x.round_(decimals=1) is x
        assert x.tolist() == pytest.approx([1.2, 2.4])


# ---------------------------------------------------------------- pow(number, tensor)


@pytest.mark.parametrize("base", [2, 2.5, True, 0, -1.5])
def test_pow_number_tensor_is_rpow(backend, base):
    with tg.use_backend(backend):
        e = t([1.0, 2.5, -1.0], requires_grad=True)
        y = tg.pow(base, e)
        assert y.grad_fn.name() == "PowBackward2"
        np.testing.assert_array_equal(y.detach().numpy(), (base**e).detach().numpy())


def test_pow_number_tensor_integers_and_errors(backend):
    with tg.use_backend(backend):
        assert tg.pow(2, t([1, 2, 3])).tolist() == [2, 4, 8]
        assert tg.pow(2.5, t([1, 2])).dtype is tg.float32
        with pytest.raises(TypeError, match="pow\\(\\) received an invalid combination"):
            tg.pow(2, 3)


def test_float_power(backend):
    with tg.use_backend(backend):
        x = t([1.0, 2.0], requires_grad=True)
        y = tg.float_power(x, 2)
        assert y.dtype is tg.float64 and y.grad_fn.name() == "PowBackward0"
        assert tg.float_power(2, x).grad_fn.name() == "PowBackward2"
        assert x.float_power(x).grad_fn.name() == "PowBackward1"
        y.sum().backward()
        assert x.grad.dtype is tg.float32 and x.grad.tolist() == [2.0, 4.0]


# ---------------------------------------------------------------- normal, bernoulli


@pytest.mark.parametrize("kind", ["tn", "nt", "tt", "bernoulli"])
@pytest.mark.parametrize("dtype", [tg.float32, tg.float64, tg.float16])
def test_random_gradients_are_zero_and_values_unchanged(backend, kind, dtype):
    with tg.use_backend(backend):
        m = t(np.linspace(-1, 1, 33), dtype)
        s = t(np.linspace(0.5, 2, 33), dtype)
        p = t(np.linspace(0, 1, 33), dtype)

        def draw(rg):
            args = [a.detach().requires_grad_(rg) for a in (m, s, p)]
            tg.manual_seed(5)
            if kind == "tn":
                return tg.normal(args[0], 2.0), [args[0]], "NormalBackward1"
            if kind == "nt":
                return tg.normal(0.5, args[1]), [args[1]], "NormalBackward2"
            if kind == "tt":
                return tg.normal(args[0], args[1]), args[:2], "NormalBackward3"
            return tg.bernoulli(args[2]), [args[2]], "BernoulliBackward0"

        plain, _, _ = draw(False)
        y, ins, name = draw(True)
        assert plain.grad_fn is None and y.grad_fn.name() == name
        np.testing.assert_array_equal(y.detach().numpy(), plain.numpy())
        (y * 3).sum().backward()
        for a in ins:
            assert a.grad.dtype is dtype and not a.grad.numpy().any()
        with tg.no_grad():
            assert tg.normal(ins[0], 1.0).grad_fn is None


# ---------------------------------------------------------------- var_mean, std_mean


@pytest.mark.parametrize("name", ["var_mean", "std_mean"])
def test_var_mean_is_a_tuple_with_named_nodes_and_gradients(backend, name):
    with tg.use_backend(backend):
        x = tg.arange(12.0).reshape(3, 4).requires_grad_()
        r = getattr(tg, name)(x, 0)
        assert type(r) is tuple and len(r) == 2
        node = "VarMeanBackward0" if name == "var_mean" else "StdMeanBackward0"
        assert r[0].grad_fn.name() == node and r[1].grad_fn.name() == node
        assert r[1].tolist() == [4.0, 5.0, 6.0, 7.0]
        (r[0].sum() + r[1].sum()).backward()
        if name == "var_mean":  # 2 (x - mean) / 2 + 1 / 3
            expect = [[-4 + 1 / 3] * 4, [1 / 3] * 4, [4 + 1 / 3] * 4]
            np.testing.assert_allclose(x.grad.numpy(), expect, rtol=1e-6)


def test_var_mean_overloads_and_errors(backend):
    with tg.use_backend(backend):
        x = tg.arange(12.0).reshape(3, 4)
        v, m = tg.var_mean(x, dim=1, unbiased=False)
        assert v.tolist() == [1.25] * 3 and m.tolist() == [1.5, 5.5, 9.5]
        v, m = tg.var_mean(x, dim=(0, 1), correction=2)
        assert v.item() == pytest.approx(14.3) and m.item() == 5.5
        v, m = tg.std_mean(x, 1, keepdim=True)
        assert tuple(v.shape) == (3, 1) and tuple(m.shape) == (3, 1)
        with pytest.raises(RuntimeError, match="var_mean only support floating point"):
            tg.var_mean(tg.arange(3))
        with pytest.raises(RuntimeError, match="std_mean only support floating point"):
            tg.std_mean(tg.arange(3))
        e = tg.zeros(0)
        assert all(np.isnan(t.item()) for t in tg.var_mean(e))
