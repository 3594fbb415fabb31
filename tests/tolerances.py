"""The suite's tolerances and the comparison helper.

Every numeric check in the suite compares a backend's result with a float64 oracle evaluated on
the already-rounded inputs, through `assert_close`. The per-op table is the package's
(python/tapegrad/autograd/_tolerances.py, shared with the lockstep tool); what only the tests
need (chains of ops, finite differences) is here, with the reason next to it.
"""

import numpy as np
from tapegrad.autograd._tolerances import (  # noqa: F401 (the table, re-exported)
    F16_EXTRA_BACKWARD,
    F16_EXTRA_FORWARD,
    TOLERANCES,
    TRANSCENDENTAL,
    TRANSCENDENTAL_F32_FACTOR,
)
from tapegrad.autograd._tolerances import tolerance as _tolerance

# Whole chains of ops (test_graphs.py: linear -> relu -> linear -> tanh -> mse_loss, six ops deep,
# every intermediate rounded), with errors measured relative to each gradient's largest entry
# (entries are sums that cancel): treated as a reduction of CHAIN_K terms, i.e. 4x the table.
# Measured: max error 1.6e-3 of the largest entry in float16 (limit 4e-3), 3.4e-7 in float32.
CHAIN_K = 16

# Finite differences on the reference kernels in float64 (test_finite_diff.py): central
# differences with step h have truncation error ~h**2 * (third derivative) / 6, ~1e-12 here, and
# rounding error ~eps * |L| / h, ~1e-9 for the O(1) losses used: far inside these bounds.
FD_STEP = 1e-6
FD_RTOL = 1e-6
FD_ATOL = 1e-7


def _name(dtype):
    """Accept a tapegrad dtype, a NumPy dtype/type or a name."""
    name = getattr(dtype, "name", None)
    if isinstance(name, str) and name in TOLERANCES:
        return name
    return np.dtype(dtype).name


def tolerance(dtype, k=1, op=None, backward=False):
    """(rtol, atol) for `dtype`; a reduction over `k` terms widens both by sqrt(k)."""
    return _tolerance(_name(dtype), k, op, backward)


def assert_close(
    actual, expected, dtype, k=1, op=None, backward=False, scale=None, equal_nan=False, what=""
):
    """Assert `actual` (a backend result) matches the float64 `expected` within the table.

    `dtype` is the dtype the result is stored in; `k` the number of terms a reduction summed;
    `op`/`backward` select the documented extra factors above.

    `scale` (default |expected|) is what the relative tolerance is measured against. For a sum
    whose terms were rounded before being added (a broadcast gradient summed back, a batched
    matmul gradient), pass the sum of the terms' magnitudes: the rounding error of a sum is
    relative to that, not to the possibly cancelled result (the textbook summation bound).

    Shapes must match exactly; NaN matches NaN only with `equal_nan`; infinities must coincide.
    """
    actual = np.asarray(actual)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    rtol, atol = tolerance(dtype, k, op, backward)
    got = actual.astype(np.float64)
    info = f"{what} [{_name(dtype)}, k={k}, rtol={rtol:.3g}, atol={atol:.3g}]"
    if scale is None:
        np.testing.assert_allclose(
            got, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, err_msg=info
        )
        return
    scale = np.maximum(np.abs(np.asarray(scale, dtype=np.float64)), np.abs(expected))
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(got - expected) <= atol + rtol * scale)
    if equal_nan:
        bad &= ~(np.isnan(got) & np.isnan(expected))
    bad &= ~((got == expected) & np.isinf(expected))
    if bad.any():
        i = tuple(int(j) for j in np.unravel_index(np.argmax(bad), bad.shape))
        raise AssertionError(
            f"{info}: {int(bad.sum())} of {bad.size} elements differ; first at {i}: "
            f"got {got[i]!r}, expected {expected[i]!r}, scale {scale[i]!r}\n"
            f"actual:   {got}\nexpected: {expected}"
        )


def rounded(x, dtype):
    """float64 view of `x` after rounding it to `dtype` (what the backend stores)."""
    np_dtype = getattr(dtype, "np", dtype)
    return np.asarray(x, dtype=np.float64).astype(np_dtype).astype(np.float64)
