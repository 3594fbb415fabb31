"""Shared fixtures: the backend and dtype parameters, and the op-case counter.

The cpp backend is never skipped: when the extension is missing, every cpp test fails (CI must
see a failure, not a skip).
"""

import sys
import zlib

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import _oplist

BACKENDS = ("cpp", "numpy")
DTYPES = (tg.float32, tg.float16)

# Every op of the op list (python/tapegrad/_oplist.py): each needs a case in cases.py, except
# the ones without a gradient (comparisons, logic), which the float64 oracle does not apply to.
DOC_OPS = frozenset(_oplist.NAMES)
NO_GRAD_OPS = frozenset(n for n in _oplist.NAMES if _oplist.GRAD_FN[n] == "-")
# floor_divide's backward raises, as PyTorch's (the dtype goldens and the parity lane check it)
NO_GRAD_OPS |= {"floor_divide"}
ORACLE_OPS = DOC_OPS - NO_GRAD_OPS


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Backend name; tests build tensors with `tg.tensor(..., backend=backend)`."""
    return request.param


@pytest.fixture(params=DTYPES, ids=lambda d: d.name)
def dtype(request):
    return request.param


@pytest.fixture
def rng(request):
    """A NumPy generator seeded from the test's id: deterministic and order-independent."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))


# ------------------------------------------------------------------ op-case counter

_passed = set()
_failed = set()
_tests = [0]  # passing tests that checked at least one op case


@pytest.fixture
def record_op(request):
    """Call `record_op(ops, dtype, backend)` at the start of a test that checks those ops."""

    def record(ops, dtype, backend):
        for op in ops:
            assert op in DOC_OPS, f"unknown op label {op!r}"
            request.node.user_properties.append(("op_case", (op, dtype.name, backend)))

    return record


# bad-input cases (test_bad_inputs.py): (case id, backend) of every passing case; the ids of
# the cases that ran
_bad_passed = set()
_bad_ran = set()


def pytest_runtest_logreport(report):
    if report.when != "call":
        return
    cases = [value for key, value in report.user_properties if key == "op_case"]
    (_passed if report.passed else _failed).update(cases)
    _tests[0] += bool(cases) and report.passed
    if report.nodeid.split("::")[0].endswith("test_bad_inputs.py") and "[" in report.nodeid:
        _bad_ran.add(report.nodeid)
        _bad_passed.update(v for k, v in report.user_properties if k == "bad_input_case")


def pytest_terminal_summary(terminalreporter):
    props = sys.modules.get("test_properties")
    if props is not None and props.EXAMPLES:
        ex = props.EXAMPLES
        terminalreporter.write_line(
            f"hypothesis examples run: {sum(ex.values())} (cpp vs reference, forward and "
            f"backward; " + ", ".join(f"{k} {v}" for k, v in sorted(ex.items())) + ")"
        )
    if _bad_ran:
        ids = {cid for cid, _ in _bad_passed}
        failed = len(_bad_ran) - len(_bad_passed)
        terminalreporter.write_line(
            f"bad-input cases checked: {len(ids)} distinct cases passed "
            f"({len(_bad_passed)} case x backend runs), {failed} runs failed, 0 crashes "
            "(a crash would have ended this run)"
        )
    if not (_passed or _failed):
        return
    ok = _passed - _failed
    total = len(ORACLE_OPS) * len(DTYPES) * len(BACKENDS)
    terminalreporter.write_line(
        f"op cases checked: {len(ok)} (op x dtype x backend) passed, of {total} possible, "
        f"in {_tests[0]} passing tests; {len(_failed)} with a failure"
    )
    ran = {(d, b) for _, d, b in _passed | _failed}  # (dtype, backend) selected in this run
    missing = sorted(
        (op, d.name, b)
        for op in ORACLE_OPS
        for d in DTYPES
        for b in BACKENDS
        if (d.name, b) in ran and (op, d.name, b) not in ok
    )
    if missing:
        shown = ", ".join("/".join(m) for m in missing[:40])
        more = f" (+{len(missing) - 40} more)" if len(missing) > 40 else ""
        terminalreporter.write_line(f"op cases not passed: {shown}{more}")
