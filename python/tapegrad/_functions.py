"""PyTorch's module-level functions over comparisons and dtypes: where, the logic functions,
isnan/isinf/isfinite, equal/allclose/isclose, nonzero, any/all, masked_fill, default dtypes and
type promotion."""

import numpy as np

from . import _dtype
from ._tensor_logic import _tensor_only
from .tensor import Tensor, _check_same, tensor, zeros


def _as_tensor(x, be):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple, np.ndarray)):
        return tensor(x, backend=be)
    raise TypeError(f"expected a Tensor, got {type(x).__name__}")


def where(condition, input=None, other=None):
    """`input` where condition is True, else `other` (either may be a Python number);
    `where(condition)` alone is `condition.nonzero(as_tuple=True)`."""
    if not isinstance(condition, Tensor):
        raise TypeError(
            f"where(): argument 'condition' (position 1) must be Tensor, not "
            f"{type(condition).__name__}"
        )
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)
    if condition.dtype is _dtype.uint8:  # PyTorch still takes it, with this warning
        import warnings

        warnings.warn(
            "where received a uint8 condition tensor. This behavior is deprecated and will be "
            "removed in a future version of PyTorch. Use a boolean condition instead.",
            UserWarning,
            stacklevel=2,
        )
        condition = condition != 0
    be = condition._be
    args = []
    for x in (input, other):
        if isinstance(x, Tensor):
            _check_same(condition, x)
        elif not isinstance(x, (bool, int, float, np.bool_, np.integer, np.floating)):
            x = _as_tensor(x, be)
        args.append(x)
    return be.where(condition, args[0], args[1])


def _fn(name):
    def f(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}"
            )
        if name in _TENSOR_OTHER and args and not isinstance(args[0], Tensor):
            _tensor_only(input, args[0], name, position=2)
        return getattr(input, name)(*args, **kwargs)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"tapegrad.{name}(input, ...): input.{name}(...) (PyTorch's torch.{name})."
    return f


_TENSOR_OTHER = ("logical_and", "logical_or", "logical_xor")
NAMES = (
    "eq ne lt le gt ge greater greater_equal less less_equal not_equal logical_and logical_or "
    "logical_xor logical_not isnan isinf isfinite equal allclose isclose nonzero any all "
    "masked_fill"
).split()
for _name in NAMES:
    globals()[_name] = _fn(_name)
del _name


def get_default_dtype():
    """The dtype of new floating point tensors: float32 unless `set_default_dtype` changed it."""
    return _dtype.get_default_dtype()


def set_default_dtype(d):
    """The dtype Python floats and the float factories give (float32, float64 or float16)."""
    _dtype.set_default_dtype(d)


promote_types = _dtype.promote_types


def _probe(x):
    if isinstance(x, Tensor):
        return zeros((0,) if x.ndim else (), dtype=x.dtype, backend=x._be)
    if isinstance(x, (bool, int, float, np.bool_, np.integer, np.floating)):
        return x
    raise TypeError(f"result_type(): expected a Tensor or a number, got {type(x).__name__}")


def result_type(tensor1, tensor2):
    """PyTorch's result dtype of an arithmetic op between two tensors or numbers."""
    a, b = _probe(tensor1), _probe(tensor2)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError("result_type(): at least one argument must be a Tensor")
    return (a + b).dtype if isinstance(a, Tensor) else (b + a).dtype
