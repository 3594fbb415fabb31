"""All op cases (cases_elementwise.py, cases_shape.py), checked by test_ops.py."""

import cases_elementwise
import cases_nnloss
import cases_shape

CASES = cases_elementwise.CASES + cases_shape.CASES + cases_nnloss.CASES
assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"
