"""The numpy backend's functions of the losses ops (tapegrad.nn.functional has checked the
arguments and expanded the weights to the input's shape)."""

from .tape import _run
from .tensor import _check


def _args(*ts):
    for t in ts:
        if t is not None:
            _check(t)


def binary_cross_entropy(x, y, weight, reduction):
    _args(x, y, weight)
    return _run("binary_cross_entropy", (x, y, weight), {"reduction": reduction})


def binary_cross_entropy_with_logits(x, y, weight, pos_weight, reduction):
    _args(x, y, weight, pos_weight)
    attrs = {"reduction": reduction}
    return _run("binary_cross_entropy_with_logits", (x, y, weight, pos_weight), attrs)


def smooth_l1_loss(x, y, reduction, beta):
    _args(x, y)
    return _run("smooth_l1_loss", (x, y), {"reduction": reduction, "p": float(beta)})


def huber_loss(x, y, reduction, delta):
    _args(x, y)
    return _run("huber_loss", (x, y), {"reduction": reduction, "p": float(delta)})
