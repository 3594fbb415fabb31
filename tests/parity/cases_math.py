"""Parity cases for the math functions: exp, log, tanh, sigmoid, sin, cos, x ** s and s ** x with a
Python scalar, forward and backward (fixed upstream gradient), in float32, float16 and float64, at
sizes that reach PyTorch's vectorized loop and its scalar tail, in two 2-D shapes (and their
transposes), and on a vector
of special values (signed zeros, infinities, NaN, subnormals, overflow and underflow edges, huge
trigonometric arguments)."""

import zlib

import numpy as np

DTYPES = ("float32", "float16", "float64")
SIZES = (1, 7, 16, 33, 100, 1000, 4099)
SHAPES = ((33, 7), (5, 40))

SPECIAL = np.array(
    [
        0.0,
        -0.0,
        np.inf,
        -np.inf,
        np.nan,
        1e-45,
        -1e-45,
        1e-40,
        -1e-40,
        6e-8,
        1e-310,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2.0,
        -2.0,
        3.0,
        -3.0,
        11.0,
        -11.0,
        88.72,
        88.73,
        89.0,
        -87.0,
        -103.9,
        -104.0,
        -110.0,
        100.0,
        709.7,
        709.8,
        -745.2,
        -1000.0,
        -1001.0,
        65504.0,
        3.0e38,
        -3.0e38,
        1e10,
        -1e10,
        1e300,
        300.0,
        125.0,
        12345.678,
        1e-7,
        0.1,
        9.0,
        -9.1,
    ]  # fmt: skip
)

# name -> (f(T, x), how to draw x)
UNARY = {
    "exp": (lambda T, x: T.exp(x), "normal", 4.0),
    "log": (lambda T, x: T.log(x), "positive", 10.0),
    "tanh": (lambda T, x: T.tanh(x), "normal", 3.0),
    "sigmoid": (lambda T, x: T.sigmoid(x), "normal", 6.0),
    "sin": (lambda T, x: T.sin(x), "normal", 10.0),
    "cos": (lambda T, x: T.cos(x), "normal", 10.0),
}
# exponents: PyTorch's special cases (2, 3, 0.5, -0.5, -1, -2) and general ones
POW = (2.0, 3.0, 0.5, -0.5, -1.0, -2.0, 1.7, -3.0, 0.1, 4.0)
RPOW = (0.5, 2.5, -2.0, 10.0)


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def draw(rng, dtype, shape, kind, scale):
    x = rng.standard_normal(shape) * scale
    if kind == "positive":
        x = np.abs(x) + 1e-3
    return x.astype(dtype)


def fwd_bwd(T, f, arr, name):
    if name.endswith("/t"):
        # the transpose, forward only: PyTorch's loop then walks the input in memory order (for
        # s ** x it runs its scalar code throughout). The gradients through it can still differ
        # in the sign of a zero or by an ulp (not yet followed).
        return f(T, T.tensor(arr).t())
    x = T.tensor(arr, requires_grad=True)
    y = f(T, x)
    g = rng_for(name + "/upstream").standard_normal(y.shape).astype(arr.dtype)
    y.backward(T.tensor(g))
    return [y, x.grad]


def case(f, arr, name):
    return name, lambda T: fwd_bwd(T, f, arr, name)


def inputs(name, dtype, kind, scale):
    """(suffix, array) for every size, 2-D shape and the special values."""
    for n in SIZES:
        yield f"n={n}", draw(rng_for(f"{name}/{dtype}/n={n}"), dtype, (n,), kind, scale)
    for shape in SHAPES:
        label = "x".join(map(str, shape))
        arr = draw(rng_for(f"{name}/{dtype}/{label}"), dtype, shape, kind, scale)
        yield f"shape={label}", arr
        yield f"shape={label}/t", arr
    with np.errstate(all="ignore"):
        yield "special", SPECIAL.astype(dtype)


def cases():
    for op, (f, kind, scale) in UNARY.items():
        for dt in DTYPES:
            for suffix, arr in inputs(f"math/{op}", dt, kind, scale):
                yield case(f, arr, f"math/{op}/{dt}/{suffix}")
    for e in POW:
        f = lambda T, x, e=e: x**e  # noqa: E731
        kind = "normal" if e == int(e) else "positive"
        for dt in DTYPES:
            for suffix, arr in inputs(f"math/pow={e}", dt, kind, 2.0):
                yield case(f, arr, f"math/pow={e}/{dt}/{suffix}")
    for b in RPOW:
        f = lambda T, x, b=b: b**x  # noqa: E731
        for dt in DTYPES:
            for suffix, arr in inputs(f"math/rpow={b}", dt, "normal", 3.0):
                yield case(f, arr, f"math/rpow={b}/{dt}/{suffix}")
