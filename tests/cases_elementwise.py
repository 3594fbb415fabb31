"""Op cases, elementwise: binary with broadcasting, Python scalars, unary, casts.

Each entry: how the public API calls it, the float64 forward, and the analytic gradients
(see oracle.Case). cases_shape.py has the rest; cases.py joins them.
"""

import math
import operator

import numpy as np
import tapegrad as tg
from oracle import Case, away0, normal, other, uniform

CASES = []


def add(*cases):
    CASES.extend(cases)


BIG = 131_075  # 2**17 + 3: past SIMD widths and tails, and the thread pool's size threshold

# ------------------------------------------------------------------ binary, broadcasting

BINARY = {
    "add": (operator.add, lambda g, y, a, b: (g, g)),
    "sub": (operator.sub, lambda g, y, a, b: (g, -g)),
    "mul": (operator.mul, lambda g, y, a, b: (g * b, g * a)),
    "div": (operator.truediv, lambda g, y, a, b: (g / b, -g * a / (b * b))),
}
BINARY_SHAPES = [
    ((3, 4), (3, 4)),
    ((3, 1), (1, 4)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 3, 1)),
    ((), (3,)),
    ((2, 3), ()),
    ((), ()),
]
for name, (f, grads) in BINARY.items():
    for sa, sb in BINARY_SHAPES:
        add(
            Case(
                f"{name}{sa}x{sb}",
                (name,),
                f,
                f,
                grads,
                (sa, sb),
                sample=(normal(), away0() if name == "div" else normal()),
                multilinear=True,
            )
        )
    # f16 op f32 -> f32: the f16 input is cast on the tape, its grad rounded back to f16
    for sa, sb in [((3, 4), (3, 4)), ((3, 1), (1, 4))]:
        add(
            Case(
                f"{name}-mixed{sa}x{sb}",
                (name, "cast"),
                f,
                f,
                grads,
                (sa, sb),
                sample=(normal(), away0() if name == "div" else normal()),
                mixed=True,
                out="f32",
                multilinear=True,
            )
        )

# ------------------------------------------------------------------ Python scalars

LN2 = math.log(2.0)
SCALAR = [
    # id, op, fn, fwd, bwd(g, y, x), sampler, saved_output
    ("x+1.5", "add_scalar", lambda x: x + 1.5, lambda x: x + 1.5, lambda g, y, x: (g,)),
    ("1.5+x", "add_scalar", lambda x: 1.5 + x, lambda x: 1.5 + x, lambda g, y, x: (g,)),
    ("x-0.5", "add_scalar", lambda x: x - 0.5, lambda x: x - 0.5, lambda g, y, x: (g,)),
    ("2.0-x", "rsub_scalar", lambda x: 2.0 - x, lambda x: 2.0 - x, lambda g, y, x: (-g,)),
    ("x*0.1", "mul_scalar", lambda x: x * 0.1, lambda x: x * 0.1, lambda g, y, x: (g * 0.1,)),
    ("3*x", "mul_scalar", lambda x: 3 * x, lambda x: 3 * x, lambda g, y, x: (3 * g,)),
    ("x/3", "div_scalar", lambda x: x / 3, lambda x: x / 3, lambda g, y, x: (g / 3,)),
    ("3/x", "rdiv_scalar", lambda x: 3 / x, lambda x: 3 / x, lambda g, y, x: (-3 * g / x**2,)),
    ("x**2", "pow_scalar", lambda x: x**2, lambda x: x**2, lambda g, y, x: (2 * x * g,)),
    ("x**3", "pow_scalar", lambda x: x**3, lambda x: x**3, lambda g, y, x: (3 * x**2 * g,)),
    (
        "x.pow(2.5)",
        "pow_scalar",
        lambda x: x.pow(2.5),
        lambda x: x**2.5,
        lambda g, y, x: (2.5 * x**1.5 * g,),
        uniform(0.5, 3),
    ),
    (
        "x.sqrt()",
        "pow_scalar",
        lambda x: x.sqrt(),
        np.sqrt,
        lambda g, y, x: (0.5 * g / np.sqrt(x),),
        uniform(0.5, 3),
    ),
    (
        "x**-1.5",
        "pow_scalar",
        lambda x: x**-1.5,
        lambda x: x**-1.5,
        lambda g, y, x: (-1.5 * x**-2.5 * g,),
        uniform(0.5, 3),
    ),
    (
        "2**x",
        "rpow_scalar",
        lambda x: 2**x,
        lambda x: 2**x,
        lambda g, y, x: (g * y * LN2,),
        uniform(-3, 3),
        True,
    ),
    (
        "0.5**x",
        "rpow_scalar",
        lambda x: 0.5**x,
        lambda x: 0.5**x,
        lambda g, y, x: (-g * y * LN2,),
        uniform(-3, 3),
        True,
    ),
]
for entry in SCALAR:
    cid, op, fn, fwd, bwd = entry[:5]
    sampler = entry[5] if len(entry) > 5 else (away0() if op == "rdiv_scalar" else normal())
    saved = entry[6] if len(entry) > 6 else False
    for shape in [(3, 4), ()]:
        add(Case(f"{cid}{shape}", (op,), fn, fwd, bwd, (shape,), (sampler,), saved_output=saved))

# ------------------------------------------------------------------ unary


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


UNARY = [
    # op, fn, fwd, bwd(g, y, x), sampler, saved_output
    ("neg", lambda x: -x, np.negative, lambda g, y, x: (-g,), normal(), False),
    ("abs", lambda x: x.abs(), np.abs, lambda g, y, x: (g * np.sign(x),), normal(), False),
    ("exp", lambda x: x.exp(), np.exp, lambda g, y, x: (g * y,), uniform(-3, 3), True),
    ("log", lambda x: x.log(), np.log, lambda g, y, x: (g / x,), uniform(0.05, 20), False),
    ("tanh", lambda x: x.tanh(), np.tanh, lambda g, y, x: (g * (1 - y * y),), normal(2), True),
    (
        "relu",
        lambda x: x.relu(),
        lambda x: np.maximum(x, 0),
        lambda g, y, x: (g * (x > 0),),
        normal(),
        False,
    ),
    (
        "sigmoid",
        lambda x: x.sigmoid(),
        _sigmoid,
        lambda g, y, x: (g * y * (1 - y),),
        normal(3),
        True,
    ),
]
for op, fn, fwd, bwd, sampler, saved in UNARY:
    for shape in [(5, 6), (), (2, 3, 4)]:
        add(Case(f"{op}{shape}", (op,), fn, fwd, bwd, (shape,), (sampler,), saved_output=saved))
add(
    Case("tg.relu", ("relu",), tg.relu, UNARY[5][2], UNARY[5][3], ((7,),)),
    Case("abs(x)", ("abs",), abs, np.abs, UNARY[1][3], ((7,),)),
    Case("x.neg()", ("neg",), lambda x: x.neg(), np.negative, UNARY[0][3], ((7,),)),
)

# ------------------------------------------------------------------ casts


def _to_other(x):
    return x.half() if x.dtype is tg.float32 else x.float()


def _ident(g, y, x):
    return (g,)


add(
    Case("half()/float()", ("cast",), _to_other, lambda x: x, _ident, ((3, 4),), out="other"),
    Case(
        "to(dtype)",
        ("cast",),
        lambda x: x.to(other(x.dtype)),
        lambda x: x,
        _ident,
        ((5,),),
        out="other",
    ),
    Case(
        "to(name)",
        ("cast",),
        lambda x: x.to(other(x.dtype).name),
        lambda x: x,
        _ident,
        ((),),
        out="other",
    ),
    Case(
        "to(tensor)",
        ("cast",),
        lambda x: x.to(tg.tensor([0.0], dtype=other(x.dtype), backend=x._be)),
        lambda x: x,
        _ident,
        ((2, 3),),
        out="other",
    ),
    Case("clone", ("cast",), lambda x: x.clone(), lambda x: x, _ident, ((2, 3),)),
)

# ------------------------------------------------------------------ large and odd sizes

for op, fn, fwd, bwd, sampler, saved in UNARY:
    for shape in [(1003,), (BIG,)]:
        add(Case(f"{op}{shape}", (op,), fn, fwd, bwd, (shape,), (sampler,), saved_output=saved))
for entry in SCALAR[::2]:
    cid, op, fn, fwd, bwd = entry[:5]
    sampler = entry[5] if len(entry) > 5 else (away0() if op == "rdiv_scalar" else normal())
    add(
        Case(
            f"{cid}{(BIG,)}",
            (op,),
            fn,
            fwd,
            bwd,
            ((BIG,),),
            (sampler,),
            saved_output=entry[6] if len(entry) > 6 else False,
        )
    )
for name, (f, grads) in BINARY.items():
    for sa, sb in [((BIG,), (BIG,)), ((517, 1), (1, 263)), ((300, 257), (257,))]:
        add(
            Case(
                f"{name}{sa}x{sb}",
                (name,),
                f,
                f,
                grads,
                (sa, sb),
                sample=(normal(), away0() if name == "div" else normal()),
                multilinear=True,
            )
        )
add(Case("half()-big", ("cast",), _to_other, lambda x: x, _ident, ((BIG,),), out="other"))
