"""Formulas for the elementwise ops: binary, with a Python scalar, and unary."""

from . import attr, diff, sum_to


def _binary(formula):
    """A broadcasting binary op: each gradient summed back to its input's shape."""

    def vjp(node, g):
        a, b = node.input(0), node.input(1)
        ga, gb = formula(g, a, b)
        shapes = node.input_shapes
        return [None if ga is None else sum_to(ga, shapes[0]),
                None if gb is None else sum_to(gb, shapes[1])]  # fmt: skip

    return vjp


diff("add")(_binary(lambda g, a, b: (g, g)))
diff("sub")(_binary(lambda g, a, b: (g, -g)))
diff("mul")(_binary(lambda g, a, b: (None if b is None else g * b, None if a is None else g * a)))
diff("div")(_binary(lambda g, a, b: (g / b, None if a is None else -g * a / (b * b))))

_S = {"s": "s"}


@diff("add_scalar", cpp=_S)
def _add_scalar(node, g):
    return [g]


@diff("mul_scalar", cpp=_S)
def _mul_scalar(node, g):
    return [g * attr(node, "s")]


@diff("div_scalar", cpp=_S)
def _div_scalar(node, g):
    return [g / attr(node, "s")]


@diff("rsub_scalar", cpp=_S)
def _rsub_scalar(node, g):
    return [-g]


@diff("rdiv_scalar", cpp=_S)
def _rdiv_scalar(node, g):
    x = node.input(0)
    return [-g * attr(node, "s") / (x * x)]


@diff("pow_scalar", cpp=_S)
def _pow_scalar(node, g):
    s = attr(node, "s")
    if s == 0:
        return [g * 0]
    return [g * s * node.input(0) ** (s - 1)]


@diff("neg")
def _neg(node, g):
    return [-g]


@diff("exp")
def _exp(node, g):
    return [g * node.output()]


@diff("log")
def _log(node, g):
    return [g / node.input(0)]


@diff("sin")
def _sin(node, g):
    return [g * node.input(0).cos()]


@diff("cos")
def _cos(node, g):
    return [g * -node.input(0).sin()]


@diff("tanh")
def _tanh(node, g):
    y = node.output()
    return [g * (1 - y * y)]


@diff("sigmoid")
def _sigmoid(node, g):
    y = node.output()
    return [g * (y * (1 - y))]
