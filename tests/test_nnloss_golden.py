"""Every case of tests/parity/cases_nnloss.py against PyTorch's recorded answers
(tests/golden/nnloss.json, written by `tests/golden/make_digest_golden.py nnloss`), bit for bit,
on both backends and without PyTorch: the SIMD path against its AVX2 kernels, the portable path
(TAPEGRAD_NO_SIMD=1) against its `default` ones."""

import pytest
import tapegrad as tg
from golden_util import digest, golden, parity_cases
from tapegrad._fma import simd

cases_nnloss = parity_cases("nnloss")
GOLDEN = golden("nnloss.json")
CASES = dict(cases_nnloss.cases())


def test_the_golden_covers_every_case():
    assert set(GOLDEN["avx2"]) == set(CASES) == set(GOLDEN["default"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_matches_pytorch(name, backend):
    expected = GOLDEN["avx2" if simd() else "default"][name]
    with tg.use_backend(backend):
        got = digest(CASES[name](tg))
    assert got == expected
