"""create_graph=True never changes first-order bits: every op case, both backends, three dtypes.

The create_graph sweep (autograd/_double.py) takes first-order values from the kernels, or, for
the ops whose formula is listed as bit-exact (`_diff.EXACT`), from the formula itself. Either
way the gradients must be the very bits a plain backward gives; this file checks that on every
case of cases.py (large ones included, so the kernels' vector paths and tails are covered).
"""

import zlib

import numpy as np
import pytest
import tapegrad as tg
from cases import CASES
from conftest import NO_GRAD_OPS

DTYPES = (tg.float32, tg.float16, tg.float64)
CHECKED = [c for c in CASES if not set(c.ops) & NO_GRAD_OPS]


def _inputs(case, dtype, backend):
    rng = np.random.default_rng(zlib.crc32(case.id.encode()))
    if dtype is tg.float64:
        arrays, dts = case.inputs(tg.float32, rng), [dtype] * len(case.shapes)
    else:
        arrays, dts = case.inputs(dtype, rng), case.dtypes(dtype)
    return [
        tg.tensor(a.astype(d.np), dtype=d, requires_grad=True, backend=backend)
        for a, d in zip(arrays, dts)
    ]


def _grads(case, xs, create_graph):
    out = case.fn(*xs)
    outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if o.requires_grad]
    rng = np.random.default_rng(1)
    gs = [
        tg.tensor(rng.standard_normal(tuple(o.shape)).astype(o.dtype.np), dtype=o.dtype,
                  backend=o._be.name)
        for o in outs
    ]  # fmt: skip
    got = tg.autograd.grad(outs, xs, gs, create_graph=create_graph, allow_unused=True)
    return [None if g is None else g.detach().numpy() for g in got]


def _bits(a):
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("case", CHECKED, ids=str)
def test_first_order_bits_with_create_graph(case, dtype, backend):
    if dtype is tg.float64 and (case.mixed or "cast" in case.ops):
        pytest.skip("a float16/float32 case")
    xs = _inputs(case, dtype, backend)
    plain, recorded = _grads(case, xs, False), _grads(case, xs, True)
    for p, r in zip(plain, recorded):
        assert (p is None) == (r is None)
        if p is not None:
            assert p.dtype == r.dtype and p.shape == r.shape
            assert np.array_equal(_bits(p), _bits(r)), case.id
