"""python/tapegrad/_fma.py: the NumPy emulations of a correctly rounded fma (used where the C++
core is not built) give the same bits as the core's std::fma, including near ties and with
cancellation."""

from fractions import Fraction

import numpy as np
import pytest
from tapegrad import _fma


def _operands(dt, n=20000, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n) * 10.0 ** rng.integers(-6, 6, n)
    b = rng.normal(size=n)
    c = np.where(
        np.arange(n) % 2 == 0, -a * b * (1 + rng.normal(size=n) * 1e-7), rng.normal(size=n)
    )
    return a.astype(dt), b.astype(dt), c.astype(dt)


def _round(v, dt):
    """The exact rational v rounded to nearest-even in dt."""
    x = dt(float(v))  # within one ulp of the answer
    cands = [np.nextafter(x, dt(-np.inf)), x, np.nextafter(x, dt(np.inf))]
    ints = np.int32 if dt is np.float32 else np.int64
    return min(cands, key=lambda y: (abs(Fraction(float(y)) - v), int(np.array(y).view(ints)) & 1))


def _exact(a, b, c, dt):
    vals = (
        Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z)) for x, y, z in zip(a, b, c)
    )
    return np.array([_round(v, dt) for v in vals], dt)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_emulation_is_correctly_rounded(dt):
    a, b, c = _operands(dt, 3000)
    emulated = _fma._fmaf_emulated if dt is np.float32 else _fma._fma_emulated
    got = np.asarray(emulated(a, b, c), dt)
    assert got.tobytes() == _exact(a, b, c, dt).tobytes()


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_core_and_emulation_agree(dt):
    if _fma._core_fma("fma_f64") is None:
        pytest.skip("the C++ core is not built")
    a, b, c = _operands(dt)
    emulated = _fma._fmaf_emulated if dt is np.float32 else _fma._fma_emulated
    core = _fma.fmaf if dt is np.float32 else _fma.fma
    assert np.asarray(emulated(a, b, c), dt).tobytes() == core(a, b, c).tobytes()


def test_fma_int_without_the_core(monkeypatch):
    rng = np.random.default_rng(1)
    k = np.arange(-5000, 5000, dtype=np.float64) * 977
    for _ in range(10):
        a, c = rng.normal() * 10.0 ** rng.integers(-8, 8), rng.normal(size=k.size)
        with_core = _fma.fma_int(a, k, c)
        monkeypatch.setattr(_fma, "_core_fma", lambda name: None)
        emulated = _fma.fma_int(a, k, c)
        monkeypatch.undo()
        assert emulated.tobytes() == _exact(np.full(k.size, a), k, c, np.float64).tobytes()
        assert with_core.tobytes() == emulated.tobytes()
