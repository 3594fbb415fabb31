"""The reference kernels' backward against central finite differences, in float64.

`tapegrad.backends.numpy_ref.KERNELS[name]` holds each op's forward and backward on plain
ndarrays; `vjp(name, arrays, g, **attrs)` runs them in float64 (no rounding). The op tests
(test_ops.py) take their float64 oracle from these kernels, so this file is what checks the
derivatives themselves: for each input, d(sum(g * y))/dx from central differences must match the
kernel's gradient.

Two sets of checks:

- `FD`: every kernel (a kernel without an entry fails the coverage test), on small inputs, with
  samplers away from kinks and poles, and special attribute values (pow exponents 0 and 1 ...);
- every op case of cases.py, in both dtypes: the very kernel calls, attributes and shapes the
  oracle evaluates for that case (compositions included), every input element when the inputs
  are small, else along a sparse random direction.
"""

import numpy as np
import pytest
from cases import CASES
from conftest import DOC_OPS
from oracle import away0, normal, reference, uniform
from tapegrad import _oplist
from tapegrad.backends.numpy_ref import KERNELS, Ctx, vjp
from tolerances import FD_ATOL, FD_RTOL, FD_STEP

POS = uniform(0.5, 2.0)


def away_from(kinks, gap=0.05):
    """Standard normal samples nudged at least `gap` away from each kink."""

    def sample(rng, shape):
        x = rng.standard_normal(shape)
        for k in kinks:
            x = np.where(np.abs(x - k) < gap, k + np.copysign(gap, x - k), x)
        return x

    return sample


def _conv(stride, padding, dilation, groups):
    return {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


def _mpool(kernel, stride, padding, dilation, ceil_mode):
    return {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation,
            "ceil_mode": ceil_mode}  # fmt: skip


def _apool(kernel, stride, padding, ceil_mode, count_include_pad, divisor_override):
    return {
        "kernel": kernel,
        "stride": stride,
        "padding": padding,
        "ceil_mode": ceil_mode,
        "count_include_pad": count_include_pad,
        "divisor_override": divisor_override,
    }


def _distinct(rng, shape):
    """A permutation of well separated values: no ties and no kink within the step."""
    return rng.permutation(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape) * 0.1


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
    # the unary ops: every one of the op list, sampled on its domain (below)
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
    "view": [(((2, 3),), None, {"shape": (3, 2)}), (((1,),), None, {"shape": ()})],
    "permute": [(((2, 3, 4),), None, {"dims": (2, 0, 1)})],
    "transpose": [(((2, 3, 4),), None, {"dim0": 0, "dim1": 2})],
    "t": [(((2, 3),), None, {}), (((3,),), None, {})],
    "select": [(((5, 4),), None, {"dim": 1, "index": 2})],
    "slice": [
        (((5, 4),), None, {"dim": 0, "start": 1, "end": 5, "step": 2}),
        (((5, 4),), None, {"dim": 1, "start": 0, "end": 4, "step": 3}),
    ],
    "unsqueeze": [(((2, 3),), None, {"dim": 1})],
    "squeeze": [(((2, 1, 3),), None, {"dims": None}), (((2, 1, 1),), None, {"dims": (1, 2)})],
    "expand": [(((3, 1),), None, {"sizes": (2, 3, 4)})],
    "as_strided": [
        (((3, 4),), None, {"sizes": (2, 2), "strides": (1, 4), "offset": 1}),
        (((6,),), None, {"sizes": (3, 3), "strides": (1, 1), "offset": 0}),  # overlapping
    ],
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
    # // and %: a / b kept away from the integers, where the remainder jumps
    "remainder": [
        (((2, 3), (3,)), (uniform(8.7, 8.9), uniform(3.0, 3.1)), {}),
        (((2, 3), ()), (uniform(8.7, 8.9), uniform(-3.1, -3.0)), {}),
    ],
    # ewise
    "clamp": [
        (((2, 3),), (away_from((-0.5, 0.5)),), {"lo": lo, "hi": hi, "api": 0})
        for lo, hi in [(-0.5, 0.5), (-0.5, None), (None, 0.5)]
    ],
    "hardtanh": [(((2, 3),), (away_from((-1.0, 1.0)),), {"lo": -1.0, "hi": 1.0})],
    "maximum": [(((3, 1), (1, 4)), None, {}), (((2, 3), (2, 3)), None, {})],
    "minimum": [(((3, 1), (1, 4)), None, {}), (((2, 3), ()), None, {})],
    "pow": [(((3, 1), (1, 4)), (POS, uniform(-2, 2)), {}), (((2, 3), ()), (POS, normal()), {})],
    "leaky_relu": [(((2, 3),), (away0(),), {"slope": 0.2})],
    "elu": [(((2, 3),), (away0(),), {"alpha": 0.7})],
    "gelu": [(((2, 3),), None, {"approximate": a}) for a in (0, 1)],
    "silu": [(((2, 3),), None, {})],
    "softplus": [(((2, 3),), (normal(3),), {"beta": 1.5, "threshold": 20.0})],
    # reduce
    **{
        op: [
            (((3, 4, 5),), None, {"dims": d, "keepdim": k})
            for d, k in [(None, False), ((1,), False), ((0, 2), True)]
        ]
        for op in ("amax", "amin")
    },
    "max_all": [(((3, 4),), None, {}), (((),), None, {})],
    "min_all": [(((3, 4),), None, {})],
    "max_dim": [
        (((3, 4, 5),), None, {"dims": (d,), "keepdim": k}) for d, k in [(0, False), (2, True)]
    ],
    "min_dim": [(((3, 4, 5),), None, {"dims": (1,), "keepdim": False})],
    "cumsum": [(((3, 4),), None, {"dim": d, "dtype": "float64"}) for d in (0, 1)]
    + [
        (((),), None, {"dim": 0, "dtype": "float64"}),
        (((1, 5),), None, {"dim": 0, "dtype": "float64"}),
    ],
    "logsumexp": [
        (((3, 4, 5),), None, {"dims": d, "keepdim": k})
        for d, k in [(None, False), ((1,), False), ((0, 2), True)]
    ],
    **{
        op: [
            (((3, 4, 5),), None, {"dims": d, "correction": c, "keepdim": k})
            for d, c, k in [(None, 1.0, False), ((1,), 0.0, False), ((0, 2), 2.0, True)]
        ]
        for op in ("var", "std_dev")
    },
    # nnloss
    "softmax": [(((3, 4),), None, {"dim": 1}), (((2, 3, 4),), None, {"dim": 1})],
    "log_softmax": [(((3, 4),), None, {"dim": 1}), (((2, 3, 4),), None, {"dim": 0})],
    # shape
    "cat": [
        (((2, 3), (1, 3), (4, 3)), None, {"dim": 0, "stack": False}),
        (((2, 3), (2, 3)), None, {"dim": 1, "stack": True}),
    ],
    # losses (BCE's input kept inside (0, 1); the others are smooth away from |x - y| = p)
    "binary_cross_entropy": [
        (((3, 4), (3, 4)), (uniform(0.05, 0.95), uniform(0, 1)), {"reduction": r})
        for r in ("mean", "sum", "none")
    ],
    "binary_cross_entropy_with_logits": [
        (((3, 4), (3, 4)), (normal(2.0), uniform(0, 1)), {"reduction": r})
        for r in ("mean", "sum", "none")
    ],
    **{
        op: [
            (((3, 4), (3, 4)), (normal(2.0), normal(2.0)), {"reduction": r, "p": p})
            for r, p in (("mean", 1.0), ("sum", 0.5), ("none", 2.0))
        ]  # fmt: skip
        for op in ("smooth_l1_loss", "huber_loss")
    },
    # prodnorm
    "prod_all": [(((3, 4),), None, {}), (((),), None, {})],
    "prod_dim": [
        (((3, 4, 5),), None, {"dim": d, "keepdim": k})
        for d, k in [(0, False), (1, True), (2, False)]
    ],
    # mm2
    "addmv": [
        (((3, 4), (4,), (3,)), None, {"beta": 1.0, "alpha": 1.0}),
        (((3, 4), (4,), (1,)), None, {"beta": 0.5, "alpha": -0.3}),
        (((2, 3), (3,), ()), None, {"beta": 0.0, "alpha": 2.0}),
    ],
    "baddbmm": [
        (((2, 3, 4), (2, 4, 2), (2, 3, 2)), None, {"beta": 1.0, "alpha": 1.0}),
        (((2, 3, 4), (2, 4, 2), (2,)), None, {"beta": 0.7, "alpha": 0.3}),
    ],
    "addbmm": [
        (((2, 3, 4), (2, 4, 2), (3, 2)), None, {"beta": 1.0, "alpha": 1.0}),
        (((3, 2, 4), (3, 4, 2), (1, 2)), None, {"beta": -0.5, "alpha": 0.3}),
    ],
    # norm
    "vector_norm": [
        (((3, 4),), (away0(0.5, 2.0),), {"ord": o, "dims": d, "keepdim": k, "src": "float64"})
        for o, d, k in [
            (2.0, (), False),
            (1.0, (1,), True),
            (3.0, (0,), False),
            (0.5, (), False),
            (1.5, (1,), False),
            (float("inf"), (1,), False),
            (float("-inf"), (0,), True),
        ]  # fmt: skip
    ],
    # ewise2
    "clamp_tensor": [
        (((2, 3), (2, 3), (2, 3)), (normal(), uniform(-3, -0.2), uniform(0.2, 3)), {"api": 0}),
        (((2, 3), (3,), (2, 1)), (normal(), normal(), normal()), {"api": 0}),  # crossed too
    ],
    "round_decimals": [(((2, 3),), None, {"decimals": d}) for d in (0, 2, -1)],
    "var_mean": [
        (((3, 4),), None, {"dims": dims, "correction": 1.0, "keepdim": k, "which": w})
        for dims, k in [(None, False), ((1,), True), ((0,), False)]
        for w in range(4)
    ],
    # conv: stride, asymmetric padding, dilation, groups; 1-D as (N, C, L); the pools on
    # distinct values (a max's tie has no derivative)
    "convolution": [
        (((2, 4, 5, 4), (4, 2, 3, 2), (4,)), None, _conv((2, 1), (1, 0, 2, 1), (1, 2), 2)),
        (((1, 2, 6, 5), (3, 2, 2, 2), (3,)), None, _conv((1, 2), (0, 0, 0, 0), (2, 1), 1)),
        (((2, 2, 7), (3, 2, 3), (3,)), None, _conv((1, 2), (0, 1, 0, 2), (1, 2), 1)),
    ],
    "max_pool2d": [
        (((2, 5, 6),), (_distinct,), _mpool((3, 2), (2, 2), (1, 1), (1, 1), False)),
        (((1, 2, 7, 7),), (_distinct,), _mpool((2, 3), (2, 1), (1, 0), (2, 2), True)),
    ],
    "avg_pool2d": [
        (((1, 2, 5, 6),), None, _apool((3, 2), (2, 2), (1, 1), True, True, 0)),
        (((2, 5, 5),), None, _apool((2, 3), (2, 2), (1, 1), True, False, 0)),
        (((2, 5, 5),), None, _apool((3, 3), (1, 2), (1, 0), False, False, 4)),
    ],
    "adaptive_avg_pool2d": [
        (((1, 2, 5, 7),), None, {"output_size": (3, 4)}),
        (((2, 3, 4),), None, {"output_size": (5, 2)}),
    ],
    "native_batch_norm": [
        (((4, 3, 2), (3,), (3,)), None, {"training": True, "momentum": 0.1, "eps": 1e-5}),
        (((5, 2),), None, {"training": True, "momentum": 0.1, "eps": 1e-3}),
    ],
    "native_layer_norm": [
        (((3, 5), (5,), (5,)), None, {"normalized_ndim": 1, "eps": 1e-5}),
        (((2, 3, 4), (3, 4), (3, 4)), None, {"normalized_ndim": 2, "eps": 1e-5}),
        (((2, 6),), None, {"normalized_ndim": 1, "eps": 1e-3}),
    ],
}
# the dtype code of cast only selects storage rounding, which float64 checks do not apply

TABLE = [
    pytest.param(op, shapes, samplers, attrs, id=f"{op}-{i}")
    for op, entries in FD.items()
    for i, (shapes, samplers, attrs) in enumerate(entries)
]

# Op cases whose inputs have more than FD_ALL elements in all are checked along one sparse random
# direction per input instead of element by element: FD_SAMPLE random elements moved together
# (one pair of forward evaluations of the whole case, however big) against the gradient's
# projection on that direction.
DOMAIN = {
    "real": normal(1.5),
    "positive": POS,
    "nonzero": away0(0.1, 2),
    "unit": uniform(-1, 1),
}
for _op in _oplist.UNARY:
    FD[_op] = [(((2, 3),), (DOMAIN[_oplist.DOMAIN[_op]],), {})]

FD_ALL = 256
FD_SAMPLE = 12


def _numeric(f, arrays, i, where, v, g):
    """d(sum(g * f(arrays)))/dt for arrays[i][where] += t * v, by central differences.

    The two outputs are subtracted before weighting and summing, so outputs the moved elements
    do not reach cancel exactly instead of adding rounding noise of the size of the whole sum.
    """
    x = arrays[i]
    old = x[where].copy()
    x[where] = old + FD_STEP * v
    up = np.array(f(arrays), dtype=np.float64)  # a copy: reshape's output is a view of x
    x[where] = old - FD_STEP * v
    down = np.array(f(arrays), dtype=np.float64)
    x[where] = old
    return float(np.sum(g * (up - down))) / (2 * FD_STEP)


def _check(f, arrays, g, grads, what, rng=None):
    """Compare `grads` (one per array) with central differences of `f` at `arrays`: every
    element, or (given `rng`, for big inputs) one sparse random direction per input."""
    assert len(grads) >= len(arrays), what
    every = rng is None or sum(x.size for x in arrays) <= FD_ALL
    for i, x in enumerate(arrays):
        assert grads[i] is not None and grads[i].shape == x.shape, f"{what}: grad {i}"
        if every:
            numeric = np.zeros_like(x)
            for j in np.ndindex(x.shape):
                numeric[j] = _numeric(f, arrays, i, j, 1.0, g)
            np.testing.assert_allclose(
                grads[i], numeric, rtol=FD_RTOL, atol=FD_ATOL, err_msg=f"{what} input {i}"
            )
            continue
        flat = rng.choice(x.size, min(FD_SAMPLE, x.size), replace=False)
        where = np.unravel_index(flat, x.shape)
        v = rng.standard_normal(flat.size)
        numeric = _numeric(f, arrays, i, where, v, g)
        terms = grads[i][where] * v
        # relative to the terms' magnitudes: their signs are random, their sum may cancel
        bound = FD_ATOL + FD_RTOL * float(np.sum(np.abs(terms)))
        assert abs(float(np.sum(terms)) - numeric) <= bound, (
            f"{what} input {i}: gradient projection {np.sum(terms)!r}, finite differences "
            f"{numeric!r} (elements {flat.tolist()})"
        )


# Ops with inputs that take no gradient (a condition, indices): those inputs are fixed, the float
# ones are checked. Each entry: (float input shapes, make(rng) -> the fixed inputs by position).
def _idx(rows):
    return np.array(rows, dtype=np.int64)


CONST = {
    "where": [
        (((2, 3), (2, 3)), lambda rng: {0: rng.random((2, 3)) > 0.5}),
        (((3,), ()), lambda rng: {0: rng.random((2, 3)) > 0.5}),
    ],
    "index": [
        (((4, 3),), lambda rng: {1: _idx([[0], [2], [2], [3]])}),  # repeated rows accumulate
        (((3, 4, 2),), lambda rng: {1: _idx([[[0, 1], [2, 3]], [[0, 1], [1, 0]]])}),
    ],
    "index_put": [
        (((4, 3), (2, 3)), lambda rng: {1: _idx([[1], [3]])}),
        (((4, 3), (3,)), lambda rng: {1: _idx([[0], [2]])}),  # a broadcast value
    ],
    "remainder_scalar": [(((2, 3),), lambda rng: {1: np.array(2.5)})],
    # nnloss: the target / indices fixed (the weight is a fixed input too)
    "nll_loss": [
        (((4, 3),), lambda rng: {1: _idx([0, 2, 2, 1]), 2: None}),
        (((4, 3),), lambda rng: {1: _idx([0, 2, 2, 1]), 2: np.array([0.5, 2.0, 1.0])}),
    ],
    "nll_loss2d": [(((2, 3, 2, 2),), lambda rng: {1: _idx([[[0, 2], [1, 1]], [[2, 0], [0, 1]]])})],
    "embedding": [(((5, 3),), lambda rng: {1: _idx([[0, 4], [4, 2]])})],
    # shape: full coordinates (repeated ones accumulate); a third item holds attributes
    "take": [
        (((3, 2),), lambda rng: {1: _idx([[0, 1], [2, 1], [0, 1], [1, 0]])}),
        (((3, 2),), lambda rng: {1: _idx([[2, 1], [1, 0], [0, 1]])}, {"kind": 1}),
    ],
    "put": [
        (
            ((3, 2), (4,)),
            lambda rng: {1: _idx([[0, 1], [2, 1], [0, 1], [1, 0]])},
            {"accumulate": True},
        ),
        (((3, 2), (2,)), lambda rng: {1: _idx([[0, 1], [2, 0]])}),
    ],
    "repeat": [
        (
            ((2, 3),),
            lambda rng: {1: np.indices((2, 4, 3)).transpose(1, 2, 3, 0)[..., 1:] % [2, 3]},
            {"repeats": (2, 2, 1)},
        ),
    ],
    # losses: the weights are fixed inputs
    "binary_cross_entropy_with_logits": [
        (((3, 4), (3, 4)), lambda rng: {2: rng.uniform(0.5, 2, (3, 4)), 3: None}),
        (((3, 4), (3, 4)), lambda rng: {2: None, 3: rng.uniform(0.5, 2, (3, 4))}),
    ],
    # ewise2: a one-sided clamp (the absent bound None); the sample of a random node fixed
    "clamp_tensor": [
        (((2, 3), (3,)), lambda rng: {2: None}, {"api": 1}),
        (((2, 3), (2, 3)), lambda rng: {1: None}, {"api": 2}),
    ],
    "random_grad": [
        (((2, 3), (3,)), lambda rng: {0: rng.standard_normal((2, 3))}, {"kind": 3}),
        (((2, 3),), lambda rng: {0: rng.standard_normal((2, 3)), 2: None}, {"kind": 4}),
    ],
    # conv without bias; batch norm in eval (the running statistics fixed), without a weight
    "convolution": [
        (
            ((1, 2, 5, 5), (2, 1, 2, 3)),
            lambda rng: {2: None},
            _conv((1, 1), (1, 0, 0, 1), (1, 1), 2),
        )
    ],
    "native_batch_norm": [
        (
            ((3, 2, 4), (2,), (2,)),
            lambda rng: {3: rng.standard_normal(2), 4: rng.uniform(0.5, 2, 2)},
            {"training": False, "momentum": 0.1, "eps": 1e-5},
        ),
        (
            ((3, 2), (2,)),
            lambda rng: {1: None, 3: rng.standard_normal(2), 4: rng.uniform(0.5, 2, 2)},
            {"training": False, "momentum": 0.1, "eps": 1e-5},
        ),
    ],
}
# Comparisons and logic: bool results, no gradient at all.
NO_GRAD = {n for n in _oplist.NAMES if _oplist.GRAD_FN[n] == "-"}
# No derivative in PyTorch: the backward raises PyTorch's error.
NO_DERIVATIVE = {"floor_divide"}


@pytest.mark.parametrize(
    "op,shapes,make,attrs",
    [
        pytest.param(op, e[0], e[1], e[2] if len(e) > 2 else {}, id=f"{op}-{i}")
        for op, es in CONST.items()
        for i, e in enumerate(es)
    ],
)
def test_kernels_with_fixed_inputs_match_finite_differences(op, shapes, make, attrs, rng):
    fixed = make(rng)
    floats = [rng.standard_normal(s) for s in shapes]
    n = len(floats) + len(fixed)
    slots = [i for i in range(n) if i not in fixed]

    def full(xs):
        args = [None] * n
        for i, v in fixed.items():
            args[i] = v
        for i, x in zip(slots, xs):
            args[i] = x
        return args

    def forward(xs):
        return KERNELS[op].forward(Ctx(np.float64), *full(xs), **attrs)

    g = rng.standard_normal(np.shape(forward(floats)))
    _, grads = vjp(op, tuple(full(floats)), g, **attrs)
    for i in fixed:
        assert grads[i] is None, f"{op}: a fixed input got a gradient"
    _check(forward, floats, g, [grads[i] for i in slots], op)


def test_comparisons_have_no_gradient():
    for op in sorted(NO_GRAD - {"max_pool2d_indices"}):
        a = np.array([1.0, 2.0, 3.0])
        args = (a,) if op in ("logical_not", "argmax", "argmin") else (a, a[::-1].copy())
        _, grads = vjp(op, args, np.zeros(3))
        assert all(gr is None for gr in grads), op
    x = np.arange(12.0).reshape(1, 3, 4)  # max_pool2d's indices: an int64 result, no gradient
    idx, grads = vjp("max_pool2d_indices", (x,), np.zeros((1, 1, 2)), kernel=(2, 2), stride=(2, 2))
    assert idx.dtype == np.int64 and idx.tolist() == [[[5, 7]]] and grads == (None,)


def test_ops_without_a_derivative_raise_in_backward():
    a = np.array([7.0, -7.0, 3.5])
    for op in sorted(NO_DERIVATIVE):
        with pytest.raises(RuntimeError, match=f"derivative for aten::{op} is not implemented"):
            vjp(op, (a, np.full(3, 2.0)), np.ones(3))


def test_finite_differences_cover_every_kernel():
    """Every kernel of the reference has an entry in FD (and the kernels are the doc's ops)."""
    assert set(KERNELS) == DOC_OPS
    missing = sorted(
        op
        for op in KERNELS
        if not FD.get(op) and op not in CONST and op not in NO_GRAD | NO_DERIVATIVE
    )
    assert not missing, f"kernels without a finite-difference entry: {missing}"
    assert set(FD) <= set(KERNELS), f"entries for unknown ops: {sorted(set(FD) - set(KERNELS))}"


@pytest.mark.parametrize("op,shapes,samplers,attrs", TABLE)
def test_numpy_kernel_matches_finite_differences(op, shapes, samplers, attrs, rng):
    samplers = samplers or (normal(),) * len(shapes)
    arrays = [np.asarray(s(rng, shape), dtype=np.float64) for s, shape in zip(samplers, shapes)]

    def forward(xs):
        with np.errstate(all="ignore"):
            return KERNELS[op].forward(Ctx(np.float64), *xs, **attrs)

    g = rng.standard_normal(np.shape(forward(arrays)))
    _, grads = vjp(op, tuple(arrays), g, **attrs)
    _check(forward, arrays, g, grads, f"{op} {attrs}")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id.replace(" ", ""))
def test_op_case_reference_matches_finite_differences(case, dtype, rng):
    """The kernel calls test_ops.py takes its oracle from, with the case's attributes and shapes.

    The dtype only decides which input a mixed case casts and the code of a cast; the values
    are float64 samples, not rounded to it.
    """
    dtypes = case.dtypes(dtype)
    samplers = case.sample or (normal(),) * len(case.shapes)
    arrays = [np.asarray(s(rng, sh), dtype=np.float64) for s, sh in zip(samplers, case.shapes)]

    def forward(xs):
        return reference(case.ref, xs, dtypes)[0]

    g = rng.standard_normal(np.shape(forward(arrays)))
    grads = reference(case.ref, arrays, dtypes, g)[2]
    _check(forward, arrays, g, grads, case.id, rng)
