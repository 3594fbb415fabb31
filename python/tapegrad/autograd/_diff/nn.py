"""Formulas for the nn ops (see __init__.py): softmax, log_softmax and the losses."""

import numpy as np

from . import attr, diff, link
from .reduce import const

_REDUCTION = ("none", "mean", "sum")  # the cpp backend's Reduction enum
_DIM = {"dim": "i1"}
_LOSS = {"reduction": lambda f, n: _REDUCTION[f["i1"] & 3]}
_LOSS_P = dict(_LOSS, p="s")


def _const(t, dtype):
    """t (a mask or a weight) as a constant of `dtype`: PyTorch does not differentiate it."""
    return t.detach().to(dtype)


def _rest(node, grads):
    """grads padded with None for the node's remaining inputs (weights: no gradient)."""
    return grads + [None] * (len(node.input_shapes) - len(grads))


def _norm(node, x):
    """The loss reduction's factor on each element's gradient."""
    return 1.0 / x.numel() if attr(node, "reduction") == "mean" else 1.0


@diff("softmax", cpp=_DIM)
def _softmax(node, g):
    y = node.output()
    if y.dim() == 0:
        return [g * 0 * y]
    d = attr(node, "dim")
    return [y * (g - (g * y).sum(d, keepdim=True))]


@diff("log_softmax", cpp=_DIM)
def _log_softmax(node, g):
    y = node.output()
    if y.dim() == 0:
        return [g - y.exp() * g]
    d = attr(node, "dim")
    return [g - y.exp() * g.sum(d, keepdim=True)]


@diff(
    "nll_loss",
    "nll_loss2d",
    cpp=dict(_LOSS, ignore_index=lambda f, n: f["a1"][0]),
)
def _nll_loss(node, g):
    # g (one per target for 'none') put at each kept target's class, times -weight[class]
    shape, dtype = node.input_shapes[0], g.dtype
    t = node.input(1).detach()
    w = node.input(2) if len(node.input_shapes) > 2 and node.input_shapes[2] else None
    cdim = 0 if len(shape) == 1 else 1
    c = shape[cdim]
    tk = t.unsqueeze(cdim)
    lane = [1] * len(shape)
    lane[cdim] = c
    classes = const(np.arange(c).reshape(lane), t)
    hit = _const((classes == tk) & (tk != attr(node, "ignore_index")), dtype)
    coef = hit if w is None else hit * _const(w, dtype).reshape(lane)
    red = attr(node, "reduction")
    if red == "none":
        gx = -(g.unsqueeze(cdim) * coef)
    elif red == "sum":
        gx = -(g * coef)
    else:
        total = coef.sum()
        gx = -(g / total * coef)
    return _rest(node, [link(gx, node.link(0))])  # nll_loss_backward takes the input


@diff("mse_loss", cpp=_LOSS)
def _mse_loss(node, g):
    x, y = node.input(0), node.input(1)
    k = 2.0 * _norm(node, x)
    return [k * (x - y) * g, k * (y - x) * g]


@diff("l1_loss", cpp=_LOSS)
def _l1_loss(node, g):
    x, y = node.input(0), node.input(1)
    s = (x.detach() - y.detach()).sign()
    # PyTorch's l1_loss is (x - y).abs() then mean / sum: g / n, then times sgn
    ga = (g / x.numel() if attr(node, "reduction") == "mean" else g) * s
    # PyTorch's grad * (x - y).sgn(): connected to both through sgn
    return [link(ga, node.link(0), node.link(1)), link(-ga, node.link(0), node.link(1))]


def _weights(node, x):
    """BCE's (weight, pos_weight) expanded to x's shape (None where absent), as constants."""
    ctx = getattr(node, "ctx", None)
    if ctx is not None:  # numpy backend: the kernel keeps them on its context

        def wrap(a):
            return None if a is None else const(a, x).to(x.dtype)

        return wrap(ctx.w), wrap(getattr(ctx, "pw", None))
    bits = attr(node, "flags")
    slot = next((s["value"] for s in node.saved() if s["index"] == 2), None)
    if node.op == "binary_cross_entropy":
        return (slot.to(x.dtype).reshape(x.shape) if bits & 4 else None), None
    rows = slot.reshape(2, -1)
    return tuple(
        rows[k].to(x.dtype).reshape(x.shape) if bits & bit else None for k, bit in ((0, 4), (1, 8))
    )


_BCE = dict(_LOSS, flags="i1")


@diff("binary_cross_entropy", cpp=_BCE)
def _bce(node, g):
    # binary_cross_entropy_backward: g (x - y) / max(x (1 - x), eps) weight
    x, y = node.input(0), node.input(1)
    w, _ = _weights(node, x)
    k = _norm(node, x)
    # PyTorch's double backward divides by (x + eps) (1 - x + eps), not by the clamp
    gx = g * (x - y) / ((1 - x + 1e-12) * (x + 1e-12)) * k
    gy = g * ((1 - x).log() - x.log()) * k
    if w is not None:
        gx, gy = gx * w, gy * w
    return _rest(node, [gx, gy])


@diff("binary_cross_entropy_with_logits", cpp=_BCE)
def _bce_logits(node, g):
    import tapegrad.nn.functional as F

    x, y = node.input(0), node.input(1)
    w, pw = _weights(node, x)
    k = _norm(node, x)
    if pw is None:
        gx = (x.sigmoid() - y) * g
        gy = -x * g
    else:
        t = pw * y
        gx = ((t + 1 - y) * x.sigmoid() - t) * g
        gy = (-F.softplus(x) + F.softplus(-x) * pw) * g  # log_sigmoid(-x) - log_sigmoid(x) pw
    if w is not None:
        gx, gy = gx * w, gy * w
    return _rest(node, [gx * k, gy * k])


@diff("smooth_l1_loss", cpp=_LOSS_P)
def _smooth_l1(node, g):
    x, y = node.input(0), node.input(1)
    beta = float(attr(node, "p"))
    d = x - y
    s = _const(d.sign(), x.dtype)
    if beta == 0:
        e = s
    else:
        inner = _const(d.abs() < beta, x.dtype)
        e = d / beta * inner + s * (1 - inner)
    ga = e * g * _norm(node, x)
    return [ga, -ga]


@diff("huber_loss", cpp=_LOSS_P)
def _huber(node, g):
    x, y = node.input(0), node.input(1)
    delta = float(attr(node, "p"))
    d = x - y
    dd = d.detach()
    inner = _const((dd > -delta) & (dd < delta), x.dtype)
    e = d * inner + _const(dd.sign(), x.dtype) * delta * (1 - inner)
    ga = e * g * _norm(node, x)
    return [ga, -ga]
