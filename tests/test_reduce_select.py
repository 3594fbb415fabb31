"""max/min, amax/amin, argmax/argmin, cumsum and the reductions' keyword aliases, on both
backends. The expected values, dtypes, node names and messages are PyTorch 2.13's (checked by
hand; the parity lane, tests/parity/cases_reduce.py, compares them with PyTorch bit for bit).
The backends must also agree with each other bit for bit: the NumPy reference is the spec."""

import math

import numpy as np
import pytest
import tapegrad as tg

NAN = math.nan
FLOATS = (tg.float16, tg.float32, tg.float64)


def T(data, backend, dtype=tg.float32, rg=False):
    return tg.tensor(np.asarray(data), dtype=dtype, requires_grad=rg, backend=backend)


def bits(t):
    a = t.detach().numpy()
    return a.dtype, a.shape, a.tobytes()


def tied(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, shape) * 0.75
    x[rng.random(shape) < 0.1] = -0.0
    x[rng.random(shape) < 0.03] = NAN
    return x


CALLS = {
    "max()": lambda x: x.max(),
    "min()": lambda x: x.min(),
    "max(1)": lambda x: x.max(1),
    "min(0,keepdim)": lambda x: x.min(0, keepdim=True),
    "amax()": lambda x: x.amax(),
    "amax(-1)": lambda x: x.amax(-1),
    "amin((0,2),keepdim)": lambda x: x.amin((0, 2), keepdim=True),
    "argmax()": lambda x: x.argmax(),
    "argmin(2)": lambda x: x.argmin(2),
    "cumsum(1)": lambda x: x.cumsum(1),
    "cumsum(0,f64)": lambda x: x.cumsum(0, dtype=tg.float64),
}


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_the_backends_agree_bit_for_bit(name, dt):
    arr = tied((5, 33, 7), 3)
    w = np.random.default_rng(4).standard_normal(2000)
    outs = {}
    for be in ("cpp", "numpy"):
        x = T(arr, be, dt, rg=True)
        y = CALLS[name](x.transpose(0, 2) if "cumsum" in name else x)
        ys = list(y) if isinstance(y, tuple) else [y]
        if ys[0].dtype.is_floating_point:
            wt = T(w[: ys[0].numel()].reshape(ys[0].shape), be, ys[0].dtype)
            (ys[0] * wt).sum().backward()
            ys.append(x.grad)
        outs[be] = [bits(t) for t in ys]
    assert outs["cpp"] == outs["numpy"]


def test_max_min_values_indices_and_nan(backend):
    x = T([[1.0, 5.0, 5.0], [NAN, 2.0, NAN]], backend)
    r = x.max(1)
    assert isinstance(r, tuple) and isinstance(r, tg.return_types.max) and len(r) == 2
    v, i = r
    assert v is r.values and i is r.indices and i.dtype is tg.int64
    assert i.tolist() == [1, 0] and v[0].item() == 5.0 and math.isnan(v[1].item())
    assert x.min(1).indices.tolist() == [0, 0]
    assert math.isnan(x.max().item()) and x.argmax().item() == 3 and x.argmin().item() == 3
    assert repr(tg.min(T([2.0, 1.0], backend), 0)).startswith("torch.return_types.min(\nvalues=")
    k = x.max(0, keepdim=True)
    assert k.values.shape == (1, 3) and k.indices.tolist() == [[1, 0, 1]]


def test_signed_zero_ties(backend):
    # ties go to the first element; max()/min() over everything keep the last
    a, b = T([0.0, -0.0], backend), T([-0.0, 0.0], backend)
    sign = lambda t: math.copysign(1, t.item())  # noqa: E731
    assert (sign(a.max()), sign(b.max())) == (-1, 1)
    assert (sign(a.amax()), sign(b.amax())) == (1, -1)
    assert (sign(a.max(0).values), sign(b.max(0).values)) == (1, -1)


def test_gradients_split_ties_as_pytorch(backend):
    x = T([3.0, 1.0, 3.0, 3.0], backend, rg=True)
    x.max().backward()
    third = float(np.float32(1 / 3))
    assert x.grad.tolist() == [third, 0.0, third, third]
    assert x.max().grad_fn.name() == "MaxBackward1"
    x.grad = None
    (x.amax() * -1.0).backward()  # (g / count) * mask: -0.0 off the maximum
    g = x.grad.numpy()
    assert g.tolist() == [-third, 0.0, -third, -third] and math.copysign(1, g[1]) == -1
    x.grad = None
    x.max(0).values.backward()  # to the first index only
    assert x.grad.tolist() == [1.0, 0.0, 0.0, 0.0]
    y = T([1.0, NAN, 2.0, NAN], backend, rg=True)
    y.max().backward()  # every NaN shares it
    assert y.grad.tolist() == [0.0, 0.5, 0.0, 0.5]
    y.grad = None
    y.amax().backward()  # nothing equals NaN: 1/0 * 0
    assert np.isnan(y.grad.numpy()).all()


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda x: x.max(), "MaxBackward1"),
        (lambda x: x.min(), "MinBackward1"),
        (lambda x: x.max(0).values, "MaxBackward0"),
        (lambda x: tg.min(x, 1)[0], "MinBackward0"),
        (lambda x: x.amax(0), "AmaxBackward0"),
        (lambda x: tg.amin(x), "AminBackward0"),
        (lambda x: x.cumsum(0), "CumsumBackward0"),
        (lambda x: x.cumsum(0, dtype=tg.float64), "CumsumBackward0"),
    ],
)
def test_grad_fn_names(backend, call, name):
    x = T([[1.0, 2.0], [3.0, 4.0]], backend, rg=True)
    assert call(x).grad_fn.name() == name
    assert x.max(0).indices.grad_fn is None and not x.argmax().requires_grad


def test_integers_and_bool(backend):
    i = T([1, 5, 5], backend, tg.int16)
    assert i.max().dtype is tg.int16 and i.max().item() == 5
    assert i.max(0).indices.item() == 1 and i.argmax().item() == 1 and i.amax().item() == 5
    c = i.cumsum(0)
    assert c.dtype is tg.int64 and c.tolist() == [1, 6, 11]
    assert T([100, 100], backend, tg.int8).cumsum(0, dtype=tg.int8).tolist() == [100, -56]
    b = T([[True, False]], backend, tg.bool)
    assert b.amax(1).tolist() == [True] and b.min(1).indices.tolist() == [1]
    assert b.cumsum(1).dtype is tg.int64 and b.cumsum(1).tolist() == [[1, 1]]
    for f in ("argmax", "argmin"):
        with pytest.raises(RuntimeError, match=rf"^{f}\(\): does not support bool input$"):
            getattr(b, f)()


def test_cumsum_rounds_each_partial_sum_only():
    # float32: the running sum is kept in double, each output rounded once
    vals = [1.0, 2.0**-30, 2.0**-30, -1.0]
    for be in ("cpp", "numpy"):
        out = T(vals, be).cumsum(0).tolist()
        assert out[-1] == np.float32(2.0**-29)
        h = T([2048.0, 1.0, 1.0], be, tg.float16).cumsum(0).tolist()
        assert h == [2048.0, 2048.0, 2050.0]  # float16 accumulates in float32


def test_cumsum_gradient_is_the_reversed_running_sum(backend):
    x = T([1.0, 2.0, 3.0], backend, rg=True)
    (x.cumsum(0) * T([1.0, 10.0, 100.0], backend)).sum().backward()
    assert x.grad.tolist() == [111.0, 110.0, 100.0]
    h = T([1.0, 2.0], backend, tg.float16, rg=True)
    h.cumsum(0, dtype=tg.float32).sum().backward()
    assert h.grad.dtype is tg.float16 and h.grad.tolist() == [2.0, 1.0]


def test_empty_inputs(backend):
    e = T(np.zeros((0, 3)), backend)
    for f in ("max", "min", "amax", "amin"):
        msg = rf"^{f}\(\): Expected reduction dim to be specified for input.numel\(\) == 0\."
        with pytest.raises(RuntimeError, match=msg):
            getattr(e, f)()
        with pytest.raises(
            IndexError, match=rf"^{f}\(\): Expected reduction dim 0 to have non-zero"
        ):
            getattr(e, f)(0)
        assert getattr(e, f)(1)[0].shape == (0,) if f in ("max", "min") else True
    assert e.amax(1).shape == (0,) and e.argmax(1).shape == (0,)
    with pytest.raises(IndexError, match=r"^argmax\(\): Expected reduction dim to be specified"):
        e.argmax()
    with pytest.raises(IndexError, match=r"^argmin\(\): Expected reduction dim 0 to have"):
        e.argmin(0)
    assert e.cumsum(0).shape == (0, 3)


def test_zero_dim_and_keepdim_shapes(backend):
    s = T(3.0, backend)
    assert s.max(0).values.item() == 3.0 and s.argmax(0).item() == 0 and s.cumsum(0).item() == 3
    x = T(np.arange(6.0).reshape(2, 3), backend)
    assert x.argmax(keepdim=True).shape == (1, 1) and x.argmax(keepdim=True).item() == 5
    assert x.amax((0, 1), keepdim=True).shape == (1, 1)
    assert x.max(-1, True).values.shape == (2, 1)


def test_numpy_style_keyword_aliases(backend):
    x = T(np.arange(6.0).reshape(2, 3), backend)
    assert x.sum(axis=0).tolist() == [3.0, 5.0, 7.0]
    assert tg.sum(x, axis=1, keepdims=True).shape == (2, 1)
    assert tg.mean(x, axis=1, keepdims=True).tolist() == [[1.0], [4.0]]
    assert x.max(axis=0, keepdims=True).indices.tolist() == [[1, 1, 1]]
    assert tg.amax(x, axis=0, keepdims=True).tolist() == [[3.0, 4.0, 5.0]]
    assert tg.argmax(x, axis=1).tolist() == [2, 2]
    assert tg.cumsum(x, axis=1).tolist() == [[0.0, 1.0, 3.0], [3.0, 7.0, 12.0]]
    assert x.sum(0, True, dtype=tg.float64).dtype is tg.float64
    assert T([1, 2], backend, tg.int64).mean(dtype=tg.float32).item() == 1.5


def test_bad_arguments(backend):
    x = T(np.arange(6.0).reshape(2, 3), backend)
    with pytest.raises(TypeError, match=r"^sum\(\) received an invalid combination of arguments"
                       r" - got \(foo=int, \), but expected one of:\n \* "):  # fmt: skip
        x.sum(foo=0)
    with pytest.raises(TypeError, match=r"^max\(\) received an invalid combination .* got "
                       r"\(Tensor, foo=int\)"):  # fmt: skip
        tg.max(x, foo=0)
    with pytest.raises(TypeError, match=r"got \(dim=tuple, \)"):
        x.max(dim=(0, 1))
    with pytest.raises(TypeError, match=r"got \(int, axis=int, keepdim=bool\)"):
        x.max(0, keepdim=True, axis=1)
    with pytest.raises(TypeError, match=r"^sum\(\) got an unexpected keyword argument 'axis'$"):
        x.sum(dim=0, axis=0)
    with pytest.raises(
        TypeError, match=r'^cumsum\(\) missing 1 required positional arguments: "dim"'
    ):
        x.cumsum()
    with pytest.raises(IndexError, match=r"^Dimension out of range \(expected to be in range of "):
        x.argmax(5)
    with pytest.raises(RuntimeError, match=r"^dim 0 appears multiple times in the list of dims$"):
        x.amax(dim=[0, 0])
    with pytest.raises(RuntimeError, match=r"^mean\(\): could not infer output dtype\. Optional"):
        T([1, 2], backend, tg.int64).mean(dtype=tg.int64)
    with pytest.raises(TypeError, match=r"^max\(\): argument 'input' must be Tensor, not list$"):
        tg.max([1.0, 2.0])


def test_max_with_a_tensor_is_maximum(backend):
    if not hasattr(tg, "maximum"):
        pytest.skip("tapegrad.maximum is not in this build")
    a, b = T([1.0, 4.0], backend), T([3.0, 2.0], backend)
    assert tg.max(a, b).tolist() == [3.0, 4.0] and a.min(b).tolist() == [1.0, 2.0]


def test_logsumexp(backend):
    x = T([[1.0, 2.0, 3.0], [4.0, 5.0, math.inf]], backend, rg=True)
    y = x.logsumexp(1)
    assert y.grad_fn.name() == "LogsumexpBackward0"
    assert abs(y[0].item() - 3.4076059) < 1e-6 and y[1].item() == math.inf
    assert tg.logsumexp(x, dim=1, keepdims=True).shape == (2, 1)
    assert x.logsumexp((0, 1)).item() == math.inf
    y.sum().backward()
    g = x.grad.numpy()
    assert abs(g[0].sum() - 1) < 1e-6 and g[1, :2].tolist() == [0.0, 0.0] and math.isnan(g[1, 2])
    assert T([[-math.inf] * 3], backend).logsumexp(1).tolist() == [-math.inf]
    i = T([1, 2], backend, tg.int64).logsumexp(0)
    assert i.dtype is tg.float32 and abs(i.item() - 2.3132617) < 1e-6
    assert T(np.zeros((0, 3)), backend).logsumexp(0).tolist() == [-math.inf] * 3
    with pytest.raises(TypeError, match=r"^logsumexp\(\) missing 1 required positional"):
        x.logsumexp()
    with pytest.raises(TypeError, match=r"must be tuple of ints, not float$"):
        x.logsumexp(1.5)


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_logsumexp_backends_agree(dt):
    arr = np.random.default_rng(5).standard_normal((7, 33)) * 4
    outs = {}
    for be in ("cpp", "numpy"):
        x = T(arr, be, dt, rg=True)
        y = x.t().logsumexp(1)
        (y * T(np.linspace(-1, 1, 33), be, dt)).sum().backward()
        outs[be] = [bits(y), bits(x.grad)] if dt is tg.float16 else [y.detach(), x.grad]
    if dt is tg.float16:
        assert outs["cpp"] == outs["numpy"]
        return
    # float32/float64 exp and log: each backend's own polynomials, an ulp or two apart (which
    # exp(x - result) in the gradient scales by |x - result|)
    for a, b in zip(outs["cpp"], outs["numpy"]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=64 * np.finfo(a.numpy().dtype).eps)


def test_var_std(backend):
    x = T([[1.0, 2.0, 4.0], [4.0, 5.0, 9.0]], backend, rg=True)
    assert x.var().grad_fn.name() == "VarBackward0" and x.std(1).grad_fn.name() == "StdBackward0"
    assert abs(x.var().item() - 7.766667) < 1e-5
    assert x.var(0, unbiased=False).tolist() == [2.25, 2.25, 6.25]
    assert x.var(0, False).tolist() == [2.25, 2.25, 6.25]
    assert x.std(dim=1, keepdim=True, correction=0).shape == (2, 1)
    assert abs(x.std(False).item() - 2.5440562) < 1e-6
    assert tg.var(x, axis=1, keepdims=True).shape == (2, 1)
    x.var().backward()
    assert np.allclose(x.grad.numpy(), (x.detach().numpy() - 25 / 6) * 2 / 5)
    with pytest.raises(RuntimeError, match=r"^std and var only support floating point"):
        T([1, 2], backend, tg.int64).std()
    with pytest.warns(UserWarning, match=r"degrees of freedom is <= 0"):
        assert math.isnan(T([1.0], backend).std().item())


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("op", ("var", "std"))
def test_var_std_backends_agree(dt, op):
    arr = np.random.default_rng(6).standard_normal((5, 33, 7)) * 3 + 1
    w = np.random.default_rng(7).standard_normal(64)
    outs = {}
    for be in ("cpp", "numpy"):
        x = T(arr, be, dt, rg=True)
        res = []
        for y in (
            getattr(x, op)(),
            getattr(x.transpose(0, 2), op)((0, 2)),
            getattr(x, op)(1, False),
        ):
            (y * T(w[: y.numel()].reshape(y.shape), be, dt)).sum().backward()
            res += [bits(y), bits(x.grad)]
            x.grad = None
        outs[be] = res
    assert outs["cpp"] == outs["numpy"]
