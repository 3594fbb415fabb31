"""The numpy backend's addmv, baddbmm and addbmm (kernels: kernels_mm2.py); the front end
(tapegrad/_ops_mm2.py) checks the arguments."""

from .tape import _run
from .tensor import _check


def _apply(op, a, b, input, beta, alpha):
    for t in (a, b, input):
        _check(t)
    return _run(op, (a, b, input), {"beta": float(beta), "alpha": float(alpha)})


def addmv(mat, vec, input, beta, alpha):
    return _apply("addmv", mat, vec, input, beta, alpha)


def baddbmm(batch1, batch2, input, beta, alpha):
    return _apply("baddbmm", batch1, batch2, input, beta, alpha)


def addbmm(batch1, batch2, input, beta, alpha):
    return _apply("addbmm", batch1, batch2, input, beta, alpha)
