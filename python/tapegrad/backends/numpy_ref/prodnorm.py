"""The numpy backend's prod (kernels: kernels_prodnorm.py). The dim arrives normalised by the
front end (tapegrad/_ops_prodnorm.py); integers and bool reduce in int64."""

import numpy as np

from tapegrad._dtype import int64

from .arith import cast
from .tape import _run
from .tensor import _check


def _int64(a):
    _check(a)
    if a._arr.dtype.kind == "f" or a._arr.dtype == np.int64:
        return a
    return cast(a, int64.code)


def prod_all(a):
    return _run("prod_all", (_int64(a),), {})


def prod_dim(a, dim, keepdim=False):
    return _run("prod_dim", (_int64(a),), {"dim": int(dim), "keepdim": bool(keepdim)})
