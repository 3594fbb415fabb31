"""The C++ backend: thin names over tapegrad._core (see docs/backends.md)."""

import sys

from .._dtype import float16, float32
from ..tensor import Tensor as _Base

try:
    from .. import _core
except ImportError as e:  # never fall back silently
    raise ImportError(
        "tapegrad's C++ extension (tapegrad._core) could not be imported: "
        f"{e}. Reinstall from source with `pip install .` (it needs a C++17 compiler; cmake and "
        "pybind11 come from PyPI), or choose the NumPy reference backend explicitly with "
        "tapegrad.set_backend('numpy') or TAPEGRAD_BACKEND=numpy."
    ) from e

name = "cpp"
Tensor = _core.install(_Base, (float32, float16), sys.modules[__name__])
OPS = tuple(_core.OPS)

from_numpy = _core.from_numpy
to_numpy = _core.to_numpy
item = _core.item
detach = _core.detach
backward = _core.backward
iop = _core.iop
fill_ = _core.fill_
copy_ = _core.copy_
set_num_threads = _core.set_num_threads
get_num_threads = _core.get_num_threads
sgd_update = _core.sgd_update
adam_update = _core.adam_update

add = _core.add
sub = _core.sub
mul = _core.mul
div = _core.div
add_scalar = _core.add_scalar
mul_scalar = _core.mul_scalar
div_scalar = _core.div_scalar
rsub_scalar = _core.rsub_scalar
rdiv_scalar = _core.rdiv_scalar
pow_scalar = _core.pow_scalar
rpow_scalar = _core.rpow_scalar
neg = _core.neg
abs = _core.abs  # noqa: A001
exp = _core.exp
log = _core.log
tanh = _core.tanh
relu = _core.relu
sigmoid = _core.sigmoid
matmul = _core.matmul
linear = _core.linear
sum = _core.sum  # noqa: A001
mean = _core.mean
reshape = _core.reshape
permute = _core.permute
slice = _core.slice  # noqa: A001
mse_loss = _core.mse_loss
l1_loss = _core.l1_loss
cast = _core.cast
