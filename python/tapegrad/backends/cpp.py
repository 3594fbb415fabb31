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

# One function per op of the op list (python/tapegrad/_oplist.py), bound in C++ by a loop.
for _name in OPS:
    globals()[_name] = getattr(_core, _name)
del _name
