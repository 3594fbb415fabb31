"""Formulas for the ewise ops (see __init__.py): unary math, steps, clamps, max/min, pow, the
activations, where, remainder and cast."""

import math

import tapegrad as tg

from . import attr, diff, link, sum_to


def _needs(node):
    """Which inputs take a gradient (a formula skips the others: their graph would be dropped)."""
    return [f is not None for f, _ in node.next_functions]


def _zero_where(cond, g):
    """g where cond is false, else 0 (PyTorch's masked_fill / where(cond, 0, g))."""
    return tg.where(cond, 0.0, g)


# ---------------------------------------------------------------- unary math


@diff("abs")
def _abs(node, g):
    return [g * node.input(0).sign()]


@diff("relu")
def _relu(node, g):  # threshold_backward(grad, result, 0): connected to the result
    y = node.output()
    return [link(_zero_where(y <= 0, g), y)]


@diff("sqrt")
def _sqrt(node, g):
    return [g / (2 * node.output())]


@diff("rsqrt")
def _rsqrt(node, g):
    return [(g * -0.5) * node.output() ** 3]


@diff("tan")
def _tan(node, g):
    return [g * (1 + node.output() ** 2)]


@diff("expm1")
def _expm1(node, g):
    return [g * (node.output() + 1)]


@diff("log2")
def _log2(node, g):
    return [g / (node.input(0) * 0.6931471805599453)]


@diff("log10")
def _log10(node, g):
    return [g / (node.input(0) * 2.3025850929940456)]


@diff("log1p")
def _log1p(node, g):
    return [g / (node.input(0) + 1)]


@diff("reciprocal")
def _reciprocal(node, g):
    y = node.output()
    return [-g * (y * y)]


@diff("floor", "ceil", "round", "trunc", "sign", "round_decimals", "random_grad")
def _zero_grad(node, g):
    # zeros whatever g is: the kernel's constant zeros are already the whole answer
    return [None] * len(node.input_shapes)


@diff("rpow_scalar", cpp={"s": "s"})
def _rpow_scalar(node, g):  # s ** x: grad * (y * log(s)); 0 ** x for x >= 0 (y <= 1) gives 0
    s = attr(node, "s")
    y = node.output()
    t = y * (math.log(s) if s > 0 else -math.inf if s == 0 else math.nan)
    if s == 0:
        t = tg.where(y <= 1, 0.0, t)
    return [g * t]


@diff("cast")
def _cast(node, g):
    return [g.to(getattr(tg, node.input_dtypes[0]))]


# ---------------------------------------------------------------- clamps, maximum, minimum


def _has(bit):
    return lambda f, n: bool(f["i1"] & bit)


@diff(
    "clamp",
    cpp={"lo": "s", "hi": "s2", "has_lo": _has(4), "has_hi": _has(8)},
    numpy={"has_lo": lambda a, n: a.get("lo") is not None,
           "has_hi": lambda a, n: a.get("hi") is not None},
)  # fmt: skip
def _clamp(node, g):  # clamp_backward: grad where lo <= x <= hi
    x = node.input(0)
    keep = None
    if attr(node, "has_lo"):
        keep = x >= attr(node, "lo")
    if attr(node, "has_hi"):
        le = x <= attr(node, "hi")
        keep = le if keep is None else keep & le
    return [tg.where(keep, g, 0.0)]


@diff("hardtanh", cpp={"lo": "s", "hi": "s2"})
def _hardtanh(node, g):  # hardtanh_backward: grad where lo < x < hi
    x = node.input(0)
    return [link(tg.where((x > attr(node, "lo")) & (x < attr(node, "hi")), g, 0.0), x)]


@diff(
    "clamp_tensor",
    cpp={"has_lo": _has(4), "has_hi": _has(8)},
    numpy={"has_lo": lambda a, n: n.input_shapes[1] is not None,
           "has_hi": lambda a, n: n.input_shapes[2] is not None},
)  # fmt: skip
def _clamp_tensor(node, g):  # clamp_backward_min_max, each gradient summed to its input
    has_lo, has_hi = attr(node, "has_lo"), attr(node, "has_hi")
    x = node.input(0)
    lo = node.input(1) if has_lo else None
    hi = node.input(2) if has_hi else None
    need = _needs(node)
    shapes = node.input_shapes
    out = [None, None, None]
    if need[0]:
        keep = None
        if has_lo:
            keep = x >= lo
        if has_hi:
            le = x <= hi
            keep = le if keep is None else keep & le
        out[0] = sum_to(tg.where(keep, g, 0.0), shapes[0])
    if has_lo and need[1]:
        m = (x < lo) & (lo < hi) if has_hi else x < lo
        out[1] = sum_to(tg.where(m, g, 0.0), shapes[1])
    if has_hi and need[2]:
        m = (x > hi) | (hi < lo) if has_lo else x > hi
        out[2] = sum_to(tg.where(m, g, 0.0), shapes[2])
    return out


def _minmax(node, g, mx):
    """where(x == y, grad / 2, grad), zero where the input loses; summed to each input."""
    x, y = node.input(0), node.input(1)
    need = _needs(node)
    tie = tg.where(x == y, g / 2, g)
    x_loses, y_loses = (x < y, x > y) if mx else (x > y, x < y)
    shapes = node.input_shapes
    return [sum_to(_zero_where(x_loses, tie), shapes[0]) if need[0] else None,
            sum_to(_zero_where(y_loses, tie), shapes[1]) if need[1] else None]  # fmt: skip


@diff("maximum")
def _maximum(node, g):
    return _minmax(node, g, True)


@diff("minimum")
def _minimum(node, g):
    return _minmax(node, g, False)


# ---------------------------------------------------------------- pow, remainder, where


@diff("pow")
def _pow(node, g):  # pow_backward_self and pow_backward_exponent
    x, e = node.input(0), node.input(1)
    need = _needs(node)
    shapes = node.input_shapes
    gx = ge = None
    if need[0]:
        gx = sum_to(_zero_where(e == 0, g * (e * x ** (e - 1))), shapes[0])
    if need[1]:
        t = _zero_where((x == 0) & (e >= 0), x**e * x.log())
        ge = sum_to(g * t, shapes[1])
    return [gx, ge]


@diff("remainder")
def _remainder(node, g):  # other: -grad * floor(a / b), the quotient a constant
    need = _needs(node)
    shapes = node.input_shapes
    gb = None
    if need[1]:
        q = tg.floor_divide(node.input(0).detach(), node.input(1).detach())
        gb = sum_to(-g * q, shapes[1])
    return [sum_to(g, shapes[0]) if need[0] else None, gb]


@diff("remainder_scalar")
def _remainder_scalar(node, g):
    return [g] + [None] * (len(node.input_shapes) - 1)


@diff("floor_divide")
def _floor_divide(node, g):
    raise RuntimeError("derivative for aten::floor_divide is not implemented")


def _where_cond(node):
    if hasattr(node, "kernel"):  # numpy: the condition is input 0
        return node.input(0)
    # cpp: inputs are the two values; the condition is kept in saved slot 2
    return next(d["value"] for d in node.saved() if d["index"] == 2)


@diff("where")
def _where(node, g):
    cond = _where_cond(node)
    shapes = node.input_shapes
    need = _needs(node)
    k = len(shapes) - 2  # numpy's inputs are (cond, a, b), cpp's (a, b)
    ga = sum_to(tg.where(cond, g, 0.0), shapes[k]) if need[k] else None
    gb = sum_to(_zero_where(cond, g), shapes[k + 1]) if need[k + 1] else None
    return [None] * k + [ga, gb]


# ---------------------------------------------------------------- activations


@diff("leaky_relu", cpp={"slope": "s"})
def _leaky_relu(node, g):
    x = node.input(0)
    return [link(tg.where(x > 0, g, g * attr(node, "slope")), x)]


@diff("elu", cpp={"alpha": "s"})
def _elu(node, g):  # elu_backward (scale = input_scale = 1)
    x = node.input(0)
    # exp of the negative side only: an overflowing exp in the branch not taken would turn the
    # zeros where's backward sends it into NaN. x == 0 takes the negative branch's value, but
    # (as PyTorch's elu_double_backward, which masks by x < 0) no second derivative.
    e = tg.where(x < 0, x, 0.0).exp()
    return [tg.where(x > 0, g, (g * attr(node, "alpha")) * e)]


_PDF_SCALE = 1.12837916709551257390 * 0.70710678118654752440 * 0.5
_TANH_BETA = 1.41421356237309504880 * 1.12837916709551257390 * 0.5
_KAPPA = 0.044715
_GELU_GRAD = []


def _gelu_second(x, tanh):
    """gelu''(x): PyTorch's gelu_double_backward without its two gradient factors (sech^2 is
    written 1 - tanh^2: tapegrad has no cosh)."""
    if not tanh:
        sq = x * x
        pdf = _PDF_SCALE * (-0.5 * sq).exp()
        return 2 * pdf - sq * pdf
    th = (_TANH_BETA * (x + _KAPPA * x**3)).tanh()
    f = 0.5 * x
    g = 1 - th * th
    h = _TANH_BETA * (1 + 3 * _KAPPA * x * x)
    g_prime = (-2 * th * g) * h
    h_prime = 6 * _KAPPA * x * _TANH_BETA
    return 2 * (0.5 * g * h) + f * h * g_prime + f * g * h_prime


def _gelu_grad(node, x, tanh):
    """gelu'(x) with a history, an op of its own as PyTorch's gelu_backward is (tapegrad has no
    erf to write it with): its values are the kernel's (gelu's backward of a gradient of ones),
    its derivative gelu_double_backward's. Written as one factor, float16 overflows where
    PyTorch's does (grad * grad_output * gelu'')."""
    if not _GELU_GRAD:

        class GeluBackward(tg.autograd.Function):
            @staticmethod
            def forward(ctx, x, node, tanh):
                ctx.save_for_backward(x)
                ctx.tanh = tanh
                return node.apply(tg.ones_like(x))[0]

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * _gelu_second(x, ctx.tanh), None, None

        _GELU_GRAD.append(GeluBackward)
    return _GELU_GRAD[0].apply(x, node, tanh)


@diff("gelu", cpp={"approximate": "i1"})
def _gelu(node, g):
    return [g * _gelu_grad(node, node.input(0), bool(attr(node, "approximate")))]


@diff("silu")
def _silu(node, g):  # infinitely_differentiable_silu_backward
    x = node.input(0)
    s = x.sigmoid()
    return [g * s * (1 + x * (1 - s))]


@diff("softplus", cpp={"beta": "s", "threshold": "s2"})
def _softplus(node, g):  # z / (z + 1) with z = exp(beta x) is sigmoid(beta x), finite everywhere
    x = node.input(0)
    xb = x * attr(node, "beta")
    return [tg.where(xb > attr(node, "threshold"), g, g * xb.sigmoid())]
