"""Every op x {float32, float16} x {cpp, numpy}: forward and backward against a float64 oracle.

The cases live in cases.py; the check (forward, then `out.backward(g)` with a random upstream
gradient, then each input's .grad) in oracle.run_case; the tolerances in tolerances.py. The
oracle is the reference backend's kernels evaluated in float64 (oracle.py), whose derivatives
test_finite_diff.py checks against finite differences.
"""

import pytest
from cases import CASES
from conftest import DOC_OPS, NO_GRAD_OPS
from oracle import run_case


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id.replace(" ", ""))
def test_op(case, dtype, backend, rng, record_op):
    record_op(case.ops, dtype, backend)
    run_case(case, dtype, backend, rng)


def test_every_documented_op_has_a_case():
    # comparisons and logic: tests/test_compare.py and the dtype goldens check them
    covered = {op for case in CASES for op in case.ops} | NO_GRAD_OPS
    assert covered == DOC_OPS, f"missing: {sorted(DOC_OPS - covered)}"
