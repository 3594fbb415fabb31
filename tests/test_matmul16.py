"""float16 mm, matmul and linear, forward and backward, bit for bit as PyTorch 2.13 computes them
on a CPU without AVX512-FP16: each of ATen's kernels sums a dot product in its own order, and
tapegrad follows the one PyTorch picks for each product. The answers were recorded from PyTorch
(tests/golden/torch_matmul16.json, made by tests/golden/make_matmul16_golden.py from the cases of
tests/parity/cases_matmul16.py): its AVX2 build for tapegrad's SIMD path, its `default` build for
the portable one. The NumPy reference (backends/numpy_ref/matmul16.py) follows the same orders."""

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import tapegrad as tg

HERE = Path(__file__).parent
GOLDEN = json.loads((HERE / "golden" / "torch_matmul16.json").read_text())
_spec = importlib.util.spec_from_file_location(
    "cases_matmul16", HERE / "parity" / "cases_matmul16.py"
)
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
CASES = dict(_mod.cases())
WANT = GOLDEN["avx2" if tg._core.simd_enabled() else "default"]


def test_every_case_is_recorded():
    assert sorted(CASES) == sorted(WANT)


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_float16_product_matches_pytorch(name, backend):
    with tg.use_backend(backend):
        got = CASES[name](tg)
    assert len(got) == len(WANT[name])
    for i, (t, want) in enumerate(zip(got, WANT[name])):
        arr = np.array(t.detach().numpy(), order="C")  # keeps 0-dim
        assert str(arr.dtype) == want["dtype"], (name, i)
        assert list(arr.shape) == want["shape"], (name, i)
        assert hashlib.sha256(arr.tobytes()).hexdigest() == want["sha256"], (name, i)
