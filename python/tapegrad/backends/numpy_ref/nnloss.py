"""The numpy backend's functions of the nnloss ops (the Python front end, tapegrad.nn.functional
and _ops_nnloss.py, has checked the arguments and normalized dim)."""

import numpy as np

from .tape import _run
from .tensor import _check

_NOT_IMPL = "\"{}_lastdim_kernel_impl\" not implemented for '{}'"


def _softmax(op, a, dim):
    _check(a)
    if a._arr.dtype.kind != "f":
        from .promote import TORCH_NAME

        raise NotImplementedError(_NOT_IMPL.format(op, TORCH_NAME[a._arr.dtype.name]))
    return _run(op, (a,), {"dim": int(dim)})


def softmax(a, dim):
    return _softmax("softmax", a, dim)


def log_softmax(a, dim):
    return _softmax("log_softmax", a, dim)


def _nll(op, x, target, weight, reduction, ignore_index):
    _check(x)
    _check(target)
    if weight is not None:
        _check(weight)
    if target._arr.dtype != np.int64:
        from .arith import cast

        target = cast(target, 3)
    attrs = {"reduction": reduction, "ignore_index": int(ignore_index)}
    return _run(op, (x, target, weight), attrs)


def nll_loss(x, target, weight, reduction, ignore_index):
    return _nll("nll_loss", x, target, weight, reduction, ignore_index)


def nll_loss2d(x, target, weight, reduction, ignore_index):
    return _nll("nll_loss2d", x, target, weight, reduction, ignore_index)


def embedding(weight, indices, padding_idx):
    _check(weight)
    _check(indices)
    return _run("embedding", (weight, indices), {"padding_idx": int(padding_idx)})
