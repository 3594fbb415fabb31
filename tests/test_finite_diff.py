"""The reference kernels' backward against central finite differences, in float64.

`tapegrad.backends.numpy_ops.KERNELS[name]` holds each op's forward and backward on plain
ndarrays; `vjp(name, arrays, g, **attrs)` runs them in float64 (no rounding). For each op and
input, d(sum(g * y))/dx from central differences must match the kernel's gradient.
"""

import numpy as np
import pytest
from conftest import DOC_OPS
from oracle import away0, normal, uniform
from tapegrad.backends.numpy_ops import KERNELS, Ctx, vjp
from tolerances import FD_ATOL, FD_RTOL, FD_STEP

POS = uniform(0.5, 2.0)

# op -> list of (input shapes, samplers, attrs); samplers keep away from kinks and poles
FD = {
    "add": [(((3, 1), (1, 4)), None, {}), (((2, 3), ()), None, {})],
    "sub": [(((3, 1), (1, 4)), None, {}), (((4,), (2, 3, 4)), None, {})],
    "mul": [(((3, 1), (1, 4)), None, {}), (((), (2, 3)), None, {})],
    "div": [(((3, 1), (1, 4)), (normal(), away0()), {}), (((2, 3), ()), (normal(), away0()), {})],
    "add_scalar": [(((2, 3),), None, {"s": 1.7})],
    "mul_scalar": [(((2, 3),), None, {"s": -0.3})],
    "div_scalar": [(((2, 3),), None, {"s": 3.0})],
    "rsub_scalar": [(((2, 3),), None, {"s": 2.0})],
    "rdiv_scalar": [(((2, 3),), (away0(),), {"s": 3.0})],
    "pow_scalar": [(((5,),), (POS,), {"s": s}) for s in (2, 3, 0.5, -0.5, -1, -2, 2.5, -1.5)]
    + [(((5,),), None, {"s": s}) for s in (0, 1, 2, 3)],
    "rpow_scalar": [(((5,),), (uniform(-2, 2),), {"s": s}) for s in (2.0, 0.5, 3.7)],
    "neg": [(((2, 3),), None, {})],
    "abs": [(((2, 3),), (away0(0.1, 2),), {})],
    "exp": [(((2, 3),), (uniform(-2, 2),), {})],
    "log": [(((2, 3),), (POS,), {})],
    "tanh": [(((2, 3),), (normal(1.5),), {})],
    "relu": [(((2, 3),), (away0(0.1, 2),), {})],
    "sigmoid": [(((2, 3),), (normal(2),), {})],
    "matmul": [
        (shapes, None, {})
        for shapes in [
            ((4,), (4,)),
            ((3,), (3, 2)),
            ((2, 3), (3,)),
            ((2, 3), (3, 4)),
            ((2, 1, 2, 3), (3, 3, 2)),
            ((2, 3), (2, 3, 2)),
        ]
    ],
    "linear": [
        (((4, 3), (2, 3), (2,)), None, {}),
        (((4, 3), (2, 3)), None, {}),
        (((2, 2, 3), (2, 3), (2,)), None, {}),
        (((3,), (2, 3), (2,)), None, {}),
    ],
    "sum": [
        (((2, 3, 4),), None, {"dims": d, "keepdim": k})
        for d, k in [(None, False), ((1,), False), ((0, 2), True), ((2,), True)]
    ],
    "mean": [
        (((2, 3, 4),), None, {"dims": d, "keepdim": k})
        for d, k in [(None, False), ((1,), False), ((0, 2), True)]
    ],
    "reshape": [(((2, 3),), None, {"shape": (3, 2)}), (((1,),), None, {"shape": ()})],
    "permute": [(((2, 3, 4),), None, {"dims": (2, 0, 1)})],
    "slice": [(((5, 4),), None, {"starts": (1, 0), "steps": (2, 3), "lens": (2, 2)})],
    "mse_loss": [(((2, 3), (2, 3)), None, {"reduction": r}) for r in ("mean", "sum", "none")],
    "l1_loss": [
        (
            ((2, 3), (2, 3)),
            (normal(), lambda rng, s: rng.standard_normal(s) + 5.0),
            {"reduction": r},
        )
        for r in ("mean", "sum", "none")
    ],
    "cast": [(((2, 3),), None, {"code": 0}), (((2, 3),), None, {"code": 1})],
}
# the dtype code of cast only selects storage rounding, which float64 checks do not apply

CASES = [
    pytest.param(op, shapes, samplers, attrs, id=f"{op}-{i}")
    for op, entries in FD.items()
    for i, (shapes, samplers, attrs) in enumerate(entries)
]


def _loss(op, arrays, g, attrs):
    with np.errstate(all="ignore"):
        y = KERNELS[op].forward(Ctx(np.float64), *arrays, **attrs)
    return float(np.sum(g * y))


def test_finite_differences_cover_every_kernel():
    assert set(FD) == set(KERNELS) == DOC_OPS


@pytest.mark.parametrize("op,shapes,samplers,attrs", CASES)
def test_numpy_kernel_matches_finite_differences(op, shapes, samplers, attrs, rng):
    samplers = samplers or (normal(),) * len(shapes)
    arrays = [np.asarray(s(rng, shape), dtype=np.float64) for s, shape in zip(samplers, shapes)]
    with np.errstate(all="ignore"):
        y = KERNELS[op].forward(Ctx(np.float64), *arrays, **attrs)
    g = rng.standard_normal(np.shape(y))
    y, grads = vjp(op, tuple(arrays), g, **attrs)
    assert len(grads) >= len(arrays)
    for i, x in enumerate(arrays):
        assert grads[i] is not None and grads[i].shape == x.shape, f"grad {i} of {op}"
        numeric = np.zeros_like(x)
        for j in np.ndindex(x.shape):
            old = x[j]
            x[j] = old + FD_STEP
            up = _loss(op, arrays, g, attrs)
            x[j] = old - FD_STEP
            down = _loss(op, arrays, g, attrs)
            x[j] = old
            numeric[j] = (up - down) / (2 * FD_STEP)
        np.testing.assert_allclose(
            grads[i], numeric, rtol=FD_RTOL, atol=FD_ATOL, err_msg=f"{op} {attrs} input {i}"
        )
