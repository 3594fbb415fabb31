"""The NumPy reference computes sigmoid, float16's exp, x ** s and s ** x with the C++ core's bits
(both follow PyTorch's loops: SLEEF's exp and pow in the vector code, the C library's in the
tail; backends/numpy_ref/pmath.py), forward and gradient, on random and special inputs, at sizes
on both sides of the vector pairs, and on transposed inputs."""

import numpy as np
import pytest
import tapegrad as tg
from tapegrad.backends.numpy_ref import sleef

SIZES = (1, 7, 16, 33, 100, 1000)
DTYPES = ("float32", "float16", "float64")
SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 1e-40, -1e-40, 1e-310, 1.0, -1.0, 0.5,
           -0.5, 2.0, -2.0, 3.0, -3.0, 88.72, 89.0, -104.0, -110.0, 100.0, 709.8, -745.2,
           65504.0, 3.0e38, -3.0e38, 1e10, -1e10, 1e300, 12345.678, 1e-7, 0.1]  # fmt: skip


@pytest.fixture(autouse=True)
def _one_thread():
    n = tg.get_num_threads()
    tg.set_num_threads(1)
    yield
    tg.set_num_threads(n)


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    eq = (a.view(np.uint8).reshape(a.size, -1) == b.view(np.uint8).reshape(b.size, -1)).all(1)
    bad = ~(eq | (np.isnan(a) & np.isnan(b)).ravel())
    assert not bad.any(), (a.ravel()[bad][:4], b.ravel()[bad][:4])


def _inputs(dtype, positive):
    rng = np.random.default_rng(7)
    for n in SIZES:
        x = rng.standard_normal(n) * 4
        yield (np.abs(x) + 1e-3 if positive else x).astype(dtype), False
    x = rng.standard_normal((33, 7)) * 3
    yield (np.abs(x) if positive else x).astype(dtype), True  # taken transposed
    with np.errstate(all="ignore"):
        yield np.array(SPECIAL).astype(dtype), False


def _both(f, arr, transpose):
    """f's output and input gradient on each backend."""
    out = []
    for backend in ("cpp", "numpy"):
        x = tg.tensor(arr, requires_grad=not transpose, backend=backend)
        if transpose:
            out.append([f(x.t()).numpy()])
            continue
        y = f(x)
        g = np.random.default_rng(1).standard_normal(y.shape).astype(arr.dtype)
        y.backward(tg.tensor(g, backend=backend))
        out.append([y.detach().numpy(), x.grad.numpy()])
    return out


def _check(f, dtype, positive=False):
    for arr, transpose in _inputs(dtype, positive):
        cpp, ref = _both(f, arr, transpose)
        for a, b in zip(cpp, ref):
            _same(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid(dtype):
    _check(tg.sigmoid, dtype)


def test_float16_exp():
    _check(tg.exp, "float16")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("e", [1.7, -3.0, 0.1, 2.0, 3.0, 0.5, -0.5, -1.0, -2.0, 4.0])
def test_pow(dtype, e):
    _check(lambda x: x**e, dtype, positive=e != int(e))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("b", [0.5, 2.5, -2.0, 10.0, 0.0, 1.0])
def test_rpow(dtype, b):
    _check(lambda x: b**x, dtype)


def test_sleef_special_values_follow_c99():
    """pow's special cases on both float widths: the answers C99's pow gives."""
    v = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, np.inf, -np.inf, np.nan, 3.0, -3.0, 2.5]
    with np.errstate(all="ignore"):
        for dt, fn in ((np.float32, sleef.powf), (np.float64, sleef.pow)):
            x, y = np.meshgrid(np.array(v, dt), np.array(v, dt))
            edge = (x == 0) | ~np.isfinite(x) | ~np.isfinite(y) | (y == 0) | (np.abs(x) == 1)
            edge |= (x < 0) & (np.trunc(y) != y)
            _same(fn(x, y)[edge], np.power(x, y)[edge])


def test_every_float16():
    """Every float16 input through the float16 math functions and pow: the core's bits."""
    x = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
    x = x[~np.isnan(x)]
    fns = [getattr(tg, op) for op in ("exp", "log", "tanh", "sin", "cos", "sigmoid")]
    fns += [lambda t, e=e: t**e for e in (1.7, 2.0, 0.5, -0.5, 0.1)]
    fns += [lambda t, b=b: b**t for b in (2.5, 0.5)]
    with np.errstate(all="ignore"):
        for f in fns:
            _same(f(tg.tensor(x)).numpy(), f(tg.tensor(x, backend="numpy")).numpy())


def test_c_library_without_the_core(monkeypatch):
    """The ctypes fallback of the C library calls gives the core loop's bits."""
    from tapegrad.backends.numpy_ref import pmath

    x = np.concatenate([np.random.default_rng(3).standard_normal(200) * 30, SPECIAL])
    forms = (("exp", (x,)), ("pow", (np.abs(x), 1.7)), ("pow", (2.5, x)))
    calls = [(n + f, dt, a) for dt, f in ((np.float32, "f"), (np.float64, "")) for n, a in forms]
    with np.errstate(all="ignore"):
        want = [pmath._each(*c[:2], *c[2]) for c in calls]
        monkeypatch.setattr(pmath, "_core_libm", lambda dtype: None)
        for (name, dt, args), w in zip(calls, want):
            _same(pmath._each(name, dt, *args), w)
