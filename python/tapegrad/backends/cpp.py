"""The C++ backend: thin names over tapegrad._core (see docs/backends.md)."""

import sys

from .. import _dtype
from .._dtype import BY_CODE
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
Tensor = _core.install(_Base, BY_CODE, sys.modules[__name__])
OPS = tuple(_core.OPS)

from_numpy = _core.from_numpy


def from_numpy_shared(arr):
    """A tensor over the array's own memory (PyTorch's from_numpy)."""
    return _core.from_numpy(arr, False, True)


to_numpy = _core.to_numpy
item = _core.item
detach = _core.detach
backward = _core.backward
run_backward = _core.run_backward  # several roots, named inputs (autograd.grad)
set_grad_hook = _core.set_grad_hook
set_post_accumulate_hook = _core.set_post_accumulate_hook
retain_grad = _core.retain_grad
retains_grad = _core.retains_grad
function_node = _core.function_node  # a user's autograd.Function
with_history = _core.with_history  # create_graph: first-order values, the formula's graph
run_leaf_hooks = _core.run_leaf_hooks
set_history = _core.set_history  # ctx.mark_dirty: the input itself becomes the output
bump_version = _core.bump_version
iop = _core.iop
fill_ = _core.fill_
sub_scalar = _core.sub_scalar  # add_scalar(a, -s), its node named SubBackward0
scalar_overload = _core.scalar_overload  # names the node as ATen's Scalar overload
copy_ = _core.copy_
index_put_ = _core.index_put_
put_ = _core.put_
masked_fill = _core.masked_fill
_dtype._listeners.append(lambda d: _core.set_default_dtype(d.code))
_core.set_default_dtype(_dtype.get_default_dtype().code)
set_num_threads = _core.set_num_threads
get_num_threads = _core.get_num_threads
sgd_update = _core.sgd_update
adam_update = _core.adam_update
rmsprop_update = _core.rmsprop_update
adagrad_update = _core.adagrad_update
Hyper = _core.Hyper  # an optimizer group's hyperparameters, as a captured step reads them

# One function per op of the op list (python/tapegrad/_oplist.py), bound in C++ by a loop.
for _name in OPS:
    globals()[_name] = getattr(_core, _name)
del _name
