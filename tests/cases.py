"""All op cases (cases_elementwise.py, cases_shape.py, cases_shape_ops.py), checked by
test_ops.py."""

import cases_elementwise
import cases_shape
import cases_shape_ops

CASES = cases_elementwise.CASES + cases_shape.CASES + cases_shape_ops.CASES
assert len({c.id for c in CASES}) == len(CASES), "duplicate case ids"
