"""Op cases, elementwise: binary with broadcasting, Python scalars, unary, casts.

Each entry: how the public API calls it and the reference kernel call it amounts to (see
oracle.Case; the oracle derives the float64 forward and gradients from the kernels).
cases_shape.py has the rest; cases.py joins them.
"""

import operator

import numpy as np
import tapegrad as tg
from oracle import Case, away0, normal, other, uniform
from tapegrad import _oplist

CASES = []


def add(*cases):
    CASES.extend(cases)


BIG = 131_075  # 2**17 + 3: past SIMD widths and tails, and the thread pool's size threshold

# ------------------------------------------------------------------ binary, broadcasting

BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}
BINARY_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 3, 1)),
    ((), (3,)),
    ((2, 3), ()),
    ((), ()),
]


def _binary_sample(name):
    return (normal(), away0() if name == "div" else normal())


def _binary_case(name, f, sa, sb):
    add(
        Case(f"{name}{sa}x{sb}", (name,), f, (sa, sb), None, _binary_sample(name), multilinear=True)
    )


def _promoted(name):
    """f16 op f32 -> f32: the float16 input is cast to float32 on the tape first."""

    def ref(T, a, b):
        f32 = [x if x.dtype is tg.float32 else T("cast", x, code=tg.float32.code) for x in (a, b)]
        return T(name, *f32)

    return ref


for name, f in BINARY.items():
    for sa, sb in BINARY_SHAPES:
        _binary_case(name, f, sa, sb)
    # f16 op f32 -> f32: the f16 input is cast on the tape, its grad rounded back to f16
    for sa, sb in [((3, 4), (3, 4)), ((3, 1), (1, 4))]:
        add(
            Case(
                f"{name}-mixed{sa}x{sb}",
                (name, "cast"),
                f,
                (sa, sb),
                _promoted(name),
                _binary_sample(name),
                mixed=True,
                multilinear=True,
            )
        )

# ------------------------------------------------------------------ Python scalars

SCALAR = [
    # id, fn, (op, attrs), sampler (default: normal, away from 0 for rdiv_scalar)
    ("x+1.5", lambda x: x + 1.5, ("add_scalar", {"s": 1.5})),
    ("1.5+x", lambda x: 1.5 + x, ("add_scalar", {"s": 1.5})),
    ("x-0.5", lambda x: x - 0.5, ("add_scalar", {"s": -0.5})),
    ("2.0-x", lambda x: 2.0 - x, ("rsub_scalar", {"s": 2.0})),
    ("x*0.1", lambda x: x * 0.1, ("mul_scalar", {"s": 0.1})),
    ("3*x", lambda x: 3 * x, ("mul_scalar", {"s": 3.0})),
    ("x/3", lambda x: x / 3, ("div_scalar", {"s": 3.0})),
    ("3/x", lambda x: 3 / x, ("rdiv_scalar", {"s": 3.0})),
    ("x**2", lambda x: x**2, ("pow_scalar", {"s": 2.0})),
    ("x**3", lambda x: x**3, ("pow_scalar", {"s": 3.0})),
    ("x.pow(2.5)", lambda x: x.pow(2.5), ("pow_scalar", {"s": 2.5}), uniform(0.5, 3)),
    ("x**0.5", lambda x: x**0.5, ("pow_scalar", {"s": 0.5}), uniform(0.5, 3)),
    ("x**-1.5", lambda x: x**-1.5, ("pow_scalar", {"s": -1.5}), uniform(0.5, 3)),
    ("2**x", lambda x: 2**x, ("rpow_scalar", {"s": 2.0}), uniform(-3, 3)),
    ("0.5**x", lambda x: 0.5**x, ("rpow_scalar", {"s": 0.5}), uniform(-3, 3)),
]


def _scalar_case(entry, shape):
    cid, fn, ref = entry[:3]
    op = ref[0]
    sampler = entry[3] if len(entry) > 3 else (away0() if op == "rdiv_scalar" else normal())
    return Case(f"{cid}{shape}", (op,), fn, (shape,), ref, (sampler,))


for entry in SCALAR:
    for shape in [(3, 4), ()]:
        add(_scalar_case(entry, shape))

# ------------------------------------------------------------------ unary

# Every unary op of the op list, sampled on its domain; the reference is the kernel of the same
# name, the call is the generated method.
DOMAIN_SAMPLERS = {
    "real": normal(2),
    "positive": uniform(0.05, 20),
    "nonzero": away0(0.1, 3),
    "unit": uniform(-1.2, 1.2),
}


def _method(op):
    return lambda x: getattr(x, op)()


UNARY = [(op, _method(op), DOMAIN_SAMPLERS[_oplist.DOMAIN[op]]) for op in _oplist.UNARY]
for op, fn, sampler in UNARY:
    for shape in [(5, 6), (), (2, 3, 4)]:
        add(Case(f"{op}{shape}", (op,), fn, (shape,), sample=(sampler,)))
add(
    Case("tg.relu", ("relu",), tg.relu, ((7,),)),
    Case("abs(x)", ("abs",), abs, ((7,),)),
    Case("-x", ("neg",), lambda x: -x, ((7,),)),
)

# ------------------------------------------------------------------ casts


def _to_other(x):
    return x.half() if x.dtype is tg.float32 else x.float()


def _cast_to_other(T, x):
    return T("cast", x, code=other(x.dtype).code)


def _cast_to_own(T, x):
    return T("cast", x, code=x.dtype.code)


add(
    Case("half()/float()", ("cast",), _to_other, ((3, 4),), _cast_to_other),
    Case("to(dtype)", ("cast",), lambda x: x.to(other(x.dtype)), ((5,),), _cast_to_other),
    Case("to(type(x))", ("cast",), lambda x: x.type(other(x.dtype)), ((),), _cast_to_other),
    Case(
        "to(tensor)",
        ("cast",),
        lambda x: x.to(tg.tensor([0.0], dtype=other(x.dtype), backend=x._be)),
        ((2, 3),),
        _cast_to_other,
    ),
    # clone is a cast to the tensor's own dtype
    Case("clone", ("cast",), lambda x: x.clone(), ((2, 3),), _cast_to_own),
)

# ------------------------------------------------------------------ large and odd sizes

for op, fn, sampler in UNARY:
    for shape in [(1003,), (BIG,)]:
        add(Case(f"{op}{shape}", (op,), fn, (shape,), sample=(sampler,)))
for entry in SCALAR[::2]:
    add(_scalar_case(entry, (BIG,)))
for name, f in BINARY.items():
    for sa, sb in [((BIG,), (BIG,)), ((517, 1), (1, 263)), ((300, 257), (257,))]:
        _binary_case(name, f, sa, sb)
add(Case("half()-big", ("cast",), _to_other, ((BIG,),), _cast_to_other))


# ------------------------------------------------------------------ // and %
# a / b kept away from the integers, where the remainder jumps
add(
    Case("remainder(3x4)", ("remainder",), operator.mod, ((3, 4), (3, 4)), None,
         (uniform(8.7, 8.9), uniform(3.0, 3.1))),
    Case("remainder-broadcast", ("remainder",), operator.mod, ((2, 3), (3,)), None,
         (uniform(8.7, 8.9), uniform(-3.1, -3.0))),
    Case("remainder-scalar", ("remainder_scalar",), lambda a: a % 2.5, ((3, 4),),
         lambda T, a: T("remainder_scalar", a, T.leaf(np.array(2.5), a.dtype)),
         (uniform(0.1, 2.4),)),
)  # fmt: skip
