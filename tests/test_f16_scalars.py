"""float16 tensor op Python scalar, bit for bit as PyTorch 2.13 computes it: the scalar of an add
or sub is cast to float16 first, mul and div read it whole. The values were recorded from PyTorch
(tests/golden/torch_f16_scalars.json: 40 float16 inputs and each result's bits)."""

import json
from pathlib import Path

import numpy as np
import pytest
import tapegrad as tg

GOLDEN = json.loads((Path(__file__).parent / "golden" / "torch_f16_scalars.json").read_text())
X = np.frombuffer(bytes.fromhex(GOLDEN["x_hex"]), np.float16)
OPS = {
    "add": lambda x, s: x + s,
    "sub": lambda x, s: x - s,
    "rsub": lambda x, s: s - x,
    "mul": lambda x, s: x * s,
    "div": lambda x, s: x / s,
    "rdiv": lambda x, s: s / x,
}


@pytest.mark.parametrize("case", sorted(GOLDEN["cases"]))
@pytest.mark.parametrize("n", [1, 7, 40])  # PyTorch's scalar and vectorized paths
def test_float16_with_a_python_scalar(backend, case, n):
    name, s = case.split()
    x = tg.tensor(X[:n], backend=backend)
    got = OPS[name](x, float(s)).numpy().view(np.uint16)
    want = np.frombuffer(bytes.fromhex(GOLDEN["cases"][case]), np.uint16)[:n]
    np.testing.assert_array_equal(got, want)


def test_the_examples_of_the_report(backend):
    def h(v):
        return tg.tensor(v, dtype=tg.float16, backend=backend)

    assert (h(-0.0999) + 0.1).item() == 6.103515625e-05
    assert (1.7 - h(1.7)).item() == 0.0
