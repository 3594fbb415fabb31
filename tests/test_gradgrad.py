"""create_graph=True for every op: gradgradcheck on the op cases, in float64, float32, float16.

Each case of cases.py small enough for finite differences (every input element is moved) runs
through `tg.autograd.gradgradcheck` on both backends: the second derivatives the recorded backward
formulas (autograd/_diff) give, against central differences of the float64 first-order
gradients. The coverage test names the count of ops checked and fails when an op of the op list
with a gradient has no checked case (unless listed in NO_DOUBLE_BACKWARD with its reason).
"""

import zlib

import numpy as np
import pytest
import tapegrad as tg
from cases import CASES
from conftest import NO_GRAD_OPS
from tapegrad import _oplist
from tapegrad.autograd._diff import DIFF

DTYPES = (tg.float64, tg.float32, tg.float16)
MAX_ELEMENTS = 48  # inputs' total size: finite differences move every element

# op -> why its backward is not differentiable (the test checks that create_graph raises)
NO_DOUBLE_BACKWARD = {}


def _small(case):
    return sum(int(np.prod(s)) for s in case.shapes) <= MAX_ELEMENTS


CHECKED = [c for c in CASES if _small(c) and not set(c.ops) & NO_GRAD_OPS]


def _inputs(case, dtype, backend):
    rng = np.random.default_rng(zlib.crc32(case.id.encode()))
    if dtype is tg.float64:  # sampled as float32, checked in float64
        arrays, dts = case.inputs(tg.float32, rng), [dtype] * len(case.shapes)
    else:
        arrays, dts = case.inputs(dtype, rng), case.dtypes(dtype)
    return [
        tg.tensor(a.astype(d.np), dtype=d, requires_grad=True, backend=backend)
        for a, d in zip(arrays, dts)
    ]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("case", CHECKED, ids=str)
def test_gradgradcheck(case, dtype, backend):
    if case.mixed and dtype is tg.float64:
        pytest.skip("a float16/float32 mixed case")
    missing = [op for op in case.ops if op not in DIFF and op not in NO_DOUBLE_BACKWARD]
    xs = _inputs(case, dtype, backend)
    if missing or set(case.ops) & set(NO_DOUBLE_BACKWARD):
        with pytest.raises((NotImplementedError, RuntimeError)):
            tg.autograd.gradgradcheck(case.fn, xs)
        return
    assert tg.autograd.gradgradcheck(case.fn, xs)


def test_every_op_is_checked():
    with_grad = {n for n in _oplist.NAMES if n not in NO_GRAD_OPS}
    checked = {op for c in CHECKED for op in c.ops} & with_grad
    differentiable = checked & set(DIFF)
    unchecked = sorted(with_grad - checked - set(NO_DOUBLE_BACKWARD))
    no_formula = sorted(with_grad - set(DIFF) - set(NO_DOUBLE_BACKWARD))
    print(f"\ngradgradcheck: {len(differentiable)} of {len(with_grad)} ops with a gradient")
    assert not no_formula, f"ops without a create_graph formula: {no_formula}"
    assert not unchecked, f"ops with no small case for gradgradcheck: {unchecked}"
