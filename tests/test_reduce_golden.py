"""sum and mean give PyTorch's bits: the cases of tests/golden/torch_reduce.json (recorded by
tests/golden/make_reduce_golden.py from tests/parity/cases_reduce.py) replayed on the cpp
backend with one and two threads (TAPEGRAD_NO_SIMD=1 runs the portable path) and on the NumPy
reference, which sums in the same order."""

import hashlib

import numpy as np
import pytest
import tapegrad as tg
from golden_util import golden, parity_cases

cases_reduce = parity_cases("reduce")
GOLD = golden("torch_reduce.json")
CASES = dict(cases_reduce.cases())


def _rng_fingerprint():
    g = np.random.default_rng(12345)
    x = np.concatenate([g.standard_normal(64), g.uniform(-3, 3, 64)])
    return hashlib.sha256(x.tobytes()).hexdigest()


def _flat(r):
    if isinstance(r, (list, tuple)):
        return [v for x in r for v in _flat(x)]
    return [r]


def _check(rec, arr):
    arr = np.array(arr, order="C")
    assert arr.dtype.name == rec["dtype"]
    assert list(arr.shape) == rec["shape"]
    if "hex" in rec:
        assert arr.tobytes().hex() == rec["hex"]
    else:
        assert arr.reshape(-1)[:4].tobytes().hex() == rec["head_hex"]
        assert hashlib.sha256(arr.tobytes()).hexdigest() == rec["sha256"]


def test_recorded_enough():
    assert len(GOLD["cases"]) >= 36
    assert set(GOLD["cases"]) <= set(CASES)


@pytest.mark.parametrize("where", ["cpp-1", "cpp-2", "numpy"])
@pytest.mark.parametrize("name", sorted(GOLD["cases"]))
def test_reduce_matches_torch(name, where):
    if _rng_fingerprint() != GOLD["rng"]:
        pytest.skip("NumPy's generator draws other numbers than when the golden file was made")
    old, old_backend = tg.get_num_threads(), tg.get_backend()
    tg.set_num_threads(2 if where == "cpp-2" else 1)
    tg.set_backend("numpy" if where == "numpy" else "cpp")
    try:
        outs = [t.detach().numpy() for t in _flat(CASES[name](tg))]
    finally:
        tg.set_num_threads(old)
        tg.set_backend(old_backend)
    recs = GOLD["cases"][name]
    assert len(outs) == len(recs)
    for rec, arr in zip(recs, outs):
        _check(rec, arr)
