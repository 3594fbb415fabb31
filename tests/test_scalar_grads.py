"""The gradients of x ** e, s ** x and s / x bit for bit as PyTorch 2.13 computes them (its
backward formulas, in its order and with its roundings; float16 rounds after every op). Values
recorded from PyTorch in tests/golden/torch_scalar_grads.json."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import tapegrad as tg
from simd_path import simd

GOLDEN = json.loads((Path(__file__).parent / "golden" / "torch_scalar_grads.json").read_text())
RNG = np.random.default_rng(3)  # the inputs the values were recorded for
XS = RNG.uniform(0.2, 3.0, 40).astype(np.float32)
XS[3], XS[5] = 0.0, 1.0
NEG = RNG.uniform(-3, 3, 40).astype(np.float32)
# Recorded from PyTorch's AVX2 kernels: there float32 pow runs SLEEF's powf on whole pairs of
# vectors; its portable build (tapegrad's portable path answers as that) runs the C library's.
AVX2_ONLY = {"pow -2 float32 40", "rpow 0.5 float32 40"}


def _grad(case, backend):
    op, arg, dt, n = case.split()
    n, d, a = int(n), getattr(tg, dt), float(arg)
    f = {"pow": lambda x: x**a, "rpow": lambda x: a**x, "rdiv": lambda x: a / x}[op]
    base = XS if op == "pow" else NEG
    x = tg.tensor(base[:n], dtype=d, requires_grad=True, backend=backend)
    w = tg.tensor(np.linspace(-1, 2, n).astype(np.float32), dtype=d, backend=backend)
    f(x).backward(w)
    return x.grad.numpy().astype(np.float64)


@pytest.mark.parametrize("case", sorted(GOLDEN["cases"]))
def test_scalar_op_gradients_are_pytorchs(case):
    if case in AVX2_ONLY and not simd():
        pytest.skip("recorded from PyTorch's AVX2 kernels; this is the portable path")
    got = _grad(case, "cpp")
    want = np.array([float.fromhex(v) for v in GOLDEN["cases"][case]])
    same = all(a == b or (math.isnan(a) and math.isnan(b)) for a, b in zip(got, want))
    assert same, (case, got, want)


@pytest.mark.parametrize("case", sorted(GOLDEN["cases"]))
def test_the_reference_backend_is_close(case):
    got = _grad(case, "numpy")
    want = np.array([float.fromhex(v) for v in GOLDEN["cases"][case]])
    rtol = 2e-3 if "float16" in case else 2e-6
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0, equal_nan=True)


@pytest.mark.parametrize("n", [1, 40])
@pytest.mark.parametrize("dtype", [tg.float32, tg.float16, tg.float64])
def test_relu_keeps_negative_zero_and_nan(backend, dtype, n):
    # PyTorch 2.13: relu(-0.0) is -0.0, relu(nan) is nan, relu(-1) is +0.0
    x = tg.tensor([-0.0, float("nan"), -1.0, 2.0] * (n // 4 or 1), dtype=dtype, backend=backend)
    y = tg.relu(x[:n] if n > 1 else x[:1]).numpy().astype(np.float64)
    assert math.copysign(1.0, y[0]) == -1.0 and y[0] == 0.0
    if n > 1:
        assert math.isnan(y[1]) and math.copysign(1.0, y[2]) == 1.0 and y[3] == 2.0
