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
import tapegrad.nn.functional as F
from cases import CASES
from conftest import NO_GRAD_OPS
from oracle import Case
from tapegrad import _oplist
from tapegrad.autograd._diff import DIFF

DTYPES = (tg.float64, tg.float32, tg.float16)
MAX_ELEMENTS = 96  # inputs' total size: finite differences move every element

# op -> why its backward is not differentiable (the test checks that create_graph raises)
NO_DOUBLE_BACKWARD = {}


def _small(case):
    return sum(int(np.prod(s)) for s in case.shapes) <= MAX_ELEMENTS


def _pointwise_loss(name, reduction, p):
    key = "beta" if name == "smooth_l1_loss" else "delta"
    return Case(f"{name}/{reduction}/p={p}/small", (name,),
                lambda x, y: getattr(F, name)(x, y, reduction=reduction, **{key: p}),
                ((3, 5), (3, 5)), (name, {"reduction": reduction, "p": p}))  # fmt: skip


# the op cases of these two losses are too large to move every element
SMALL_EXTRA = [
    _pointwise_loss(name, reduction, p)
    for name in ("smooth_l1_loss", "huber_loss")
    for reduction in ("mean", "sum", "none")
    for p in (1.0, 0.5)
]


def _small_cnn(tag, op, fn, shapes):
    return Case(f"{tag}/small", (op,), fn, shapes, (op, {}))


def _stats(x):
    c = x.shape[1]
    return [tg.tensor(np.linspace(lo, hi, c), dtype=x.dtype, backend=x.backend)
            for lo, hi in ((-0.5, 0.5), (0.5, 2.0))]  # fmt: skip


# strides, groups, dilation, ceil_mode and the affine variants: the small op cases of
# cases_conv.py have none of them
SMALL_EXTRA += [
    _small_cnn("batch_norm/eval/affine", "native_batch_norm",
               lambda x, w, b: F.batch_norm(x, *_stats(x), w, b, False), ((4, 3, 2), (3,), (3,))),
    _small_cnn("batch_norm/train/bias_only", "native_batch_norm",
               lambda x, b: F.batch_norm(x, None, None, None, b, True), ((4, 3, 2), (3,))),
    _small_cnn("layer_norm/2 dims/bias_only", "native_layer_norm",
               lambda x, b: F.layer_norm(x, (2, 4), None, b), ((3, 2, 4), (2, 4))),
    _small_cnn("conv2d/stride(2,1)/pad(1,0)", "convolution",
               lambda x, w, b: F.conv2d(x, w, b, (2, 1), (1, 0)),
               ((1, 2, 4, 5), (3, 2, 2, 2), (3,))),
    _small_cnn("conv2d/groups2/dilation2/stride2", "convolution",
               lambda x, w, b: F.conv2d(x, w, b, 2, 1, 2, 2), ((1, 4, 4, 4), (2, 2, 2, 2), (2,))),
    _small_cnn("conv2d/same/even", "convolution",
               lambda x, w: F.conv2d(x, w, padding="same"), ((1, 1, 5, 4), (2, 1, 2, 3))),
    _small_cnn("conv1d/stride2/pad1", "convolution",
               lambda x, w, b: F.conv1d(x, w, b, 2, 1), ((2, 2, 7), (3, 2, 3), (3,))),
    _small_cnn("max_pool2d/k3s2p1", "max_pool2d",
               lambda x: F.max_pool2d(x, 3, 2, 1), ((1, 2, 5, 5),)),
    _small_cnn("max_pool2d/ceil/dilation", "max_pool2d",
               lambda x: F.max_pool2d(x, 2, 2, 0, (1, 2), True), ((1, 7, 8),)),
    _small_cnn("avg_pool2d/k3s2p1/exclude_pad", "avg_pool2d",
               lambda x: F.avg_pool2d(x, 3, 2, 1, False, False), ((1, 2, 5, 5),)),
    _small_cnn("avg_pool2d/ceil/divisor5", "avg_pool2d",
               lambda x: F.avg_pool2d(x, (3, 2), 2, 1, True, True, 5), ((1, 6, 7),)),
    _small_cnn("adaptive_avg_pool2d/uneven", "adaptive_avg_pool2d",
               lambda x: F.adaptive_avg_pool2d(x, (3, 4)), ((1, 2, 5, 7),)),
    _small_cnn("adaptive_avg_pool2d/upsample", "adaptive_avg_pool2d",
               lambda x: F.adaptive_avg_pool2d(x, (5, 6)), ((1, 3, 4),)),
]  # fmt: skip
CHECKED = [c for c in list(CASES) + SMALL_EXTRA if _small(c) and not set(c.ops) & NO_GRAD_OPS]


def _ties(arrays):
    """Two inputs equal somewhere: l1, maximum, clamp ... have a kink there, which finite
    differences would straddle."""
    return any(
        a.shape == b.shape and np.any(a == b) for i, a in enumerate(arrays) for b in arrays[i + 1 :]
    )


def _inputs(case, dtype, backend):
    for attempt in range(20):  # float16 rounding can make two inputs meet: draw again
        rng = np.random.default_rng(zlib.crc32(case.id.encode()) + attempt)
        if dtype is tg.float64:  # sampled as float32, checked in float64
            arrays, dts = case.inputs(tg.float32, rng), [dtype] * len(case.shapes)
        else:
            arrays, dts = case.inputs(dtype, rng), case.dtypes(dtype)
        if not _ties(arrays):
            break
    return [
        tg.tensor(a.astype(d.np), dtype=d, requires_grad=True, backend=backend)
        for a, d in zip(arrays, dts)
    ]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("case", CHECKED, ids=str)
def test_gradgradcheck(case, dtype, backend):
    if dtype is tg.float64 and case.mixed:
        pytest.skip("a float16/float32 mixed case")
    if "cast" in case.ops and dtype is not tg.float32:
        # it rounds to float16 on purpose: its first-order gradient is a rounding of v, a step
        # function finite differences cannot differentiate (float32 checks cast's formula)
        pytest.skip("a case that rounds through float16")
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


# ---- third order for the elementwise ops: gradgradcheck of their create_graph gradient
import cases_elementwise  # noqa: E402
import cases_ewise  # noqa: E402
import cases_ewise2  # noqa: E402

ELEMENTWISE = [
    c
    for c in cases_elementwise.CASES + cases_ewise.CASES + cases_ewise2.CASES
    if sum(int(np.prod(s)) for s in c.shapes) <= 24
    and not set(c.ops) & NO_GRAD_OPS
    and "cast" not in c.ops
    and not c.mixed
]


def _first_order(fn):
    def first(*xs):
        out = fn(*xs)
        got = tg.autograd.grad(out.sum(), xs, create_graph=True, allow_unused=True)
        return tuple(tg.zeros_like(x) if g is None else g for x, g in zip(xs, got))

    return first


@pytest.mark.parametrize("case", ELEMENTWISE, ids=str)
def test_third_order_elementwise(case, backend):
    xs = _inputs(case, tg.float64, backend)
    assert tg.autograd.gradgradcheck(_first_order(case.fn), xs)


def test_third_order_covers_the_elementwise_ops():
    covered = {op for c in ELEMENTWISE for op in c.ops}
    unary = set(_oplist.UNARY) - NO_GRAD_OPS
    print(f"\nthird order: {len(covered)} elementwise ops")
    assert unary <= covered, sorted(unary - covered)
