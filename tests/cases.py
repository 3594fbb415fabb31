"""All op cases (cases_elementwise.py, cases_shape.py, cases_ewise.py, cases_reduce.py,
cases_nnloss.py, cases_shape_ops.py, cases_losses.py, cases_prodnorm.py, cases_mm2.py,
cases_norm.py, cases_ewise2.py, cases_conv.py), checked by test_ops.py."""

import cases_conv
import cases_elementwise
import cases_ewise
import cases_ewise2
import cases_losses
import cases_mm2
import cases_nnloss
import cases_norm
import cases_prodnorm
import cases_reduce
import cases_shape
import cases_shape_ops

CASES = (
    cases_elementwise.CASES
    + cases_shape.CASES
    + cases_ewise.CASES
    + cases_reduce.CASES
    + cases_nnloss.CASES
    + cases_shape_ops.CASES
    + cases_losses.CASES
    + cases_prodnorm.CASES
    + cases_mm2.CASES
    + cases_norm.CASES
    + cases_ewise2.CASES
    + cases_conv.CASES
)
assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"
