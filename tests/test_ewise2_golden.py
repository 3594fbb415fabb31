"""Every case of tests/parity/cases_ewise2.py against PyTorch's recorded answers
(tests/golden/ewise2.json, written by `tests/golden/make_digest_golden.py ewise2`), bit for bit,
on both backends and without PyTorch: the SIMD path against its AVX2 kernels, the portable path
(TAPEGRAD_NO_SIMD=1) against its `default` ones."""

import pytest
import tapegrad as tg
from golden_util import digest, golden, parity_cases
from tapegrad._fma import simd

cases_ewise2 = parity_cases("ewise2")
GOLDEN = golden("ewise2.json")
# float_power's float64 pow is MKL's vector math in PyTorch, 1 ulp from ours on a few elements
# (the parity lane's exception): not replayed here
MKL = "ewise2/float_power/"
ALL_CASES = dict(cases_ewise2.cases())
CASES = {k: v for k, v in ALL_CASES.items() if not k.startswith(MKL)}


def test_the_golden_covers_every_case():
    assert set(GOLDEN["avx2"]) == set(ALL_CASES) == set(GOLDEN["default"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_matches_pytorch(name, backend):
    expected = GOLDEN["avx2" if simd() else "default"][name]
    with tg.use_backend(backend):
        got = digest(CASES[name](tg), one_nan=True)  # make_digest_golden.py ONE_NAN
    assert got == expected
