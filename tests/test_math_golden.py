"""exp, log, tanh, sigmoid, sin, cos, x ** s and s ** x (forward and gradient) bit for bit as
PyTorch 2.13 computes them: the cases of tests/parity/cases_math.py recorded in
tests/golden/torch_math.json (tests/golden/make_math_golden.py), replayed without PyTorch.
tapegrad's SIMD path answers as PyTorch's AVX2 kernels, its portable path (TAPEGRAD_NO_SIMD=1)
as PyTorch's `default` ones."""

import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import tapegrad as tg
from simd_path import simd

HERE = Path(__file__).parent
GOLDEN = json.loads((HERE / "golden" / "torch_math.json").read_text())


def _load_cases():
    spec = importlib.util.spec_from_file_location("cases_math", HERE / "parity" / "cases_math.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return dict(mod.cases())


CASES = _load_cases()


def _expected(name):
    if simd():
        return GOLDEN["avx2"]["cases"][name]
    return GOLDEN["default"]["cases"].get(name, GOLDEN["avx2"]["cases"][name])


def _matches(t, rec):
    arr = np.array(t.detach().numpy(), order="C")
    arr = np.where(np.isnan(arr), np.array(np.nan, dtype=arr.dtype), arr)  # as the generator
    if arr.dtype.name != rec["dtype"] or list(arr.shape) != rec["shape"]:
        return False
    if "hex" in rec:
        return arr.tobytes().hex() == rec["hex"]
    return hashlib.sha256(arr.tobytes()).hexdigest() == rec["sha256"]


@pytest.mark.parametrize("name", sorted(GOLDEN["avx2"]["cases"]))
def test_math_is_pytorchs(name):
    tg.set_num_threads(1)
    got = CASES[name](tg)
    want = _expected(name)
    assert len(got) == len(want)
    for i, (t, rec) in enumerate(zip(got, want)):
        assert _matches(t, rec), (name, i, t.detach().numpy().ravel()[:4], rec.get("head_hex"))
