"""`nn.Parameter`: a mark on a backend tensor, not a tensor subclass."""

from ...tensor import Tensor


class _ParameterMeta(type):
    """`Parameter(t)` returns a marked tensor; `isinstance(x, Parameter)` reads the mark.

    The concrete tensor classes belong to the backends (a C type for cpp, `NTensor` for numpy),
    so a parameter cannot be an instance of a Python subclass. It is the backend's own tensor
    with `_is_param = True` (see docs/backends.md).
    """

    def __call__(cls, data=None, requires_grad=True):
        if data is None:
            raise TypeError(
                "Parameter() needs a tensor: tapegrad has no zero-size tensors, "
                "so an empty Parameter cannot be made"
            )
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter expects a tensor, got {type(data).__name__}")
        p = data.detach()  # shares storage with `data`, like PyTorch
        p.requires_grad = bool(requires_grad)
        p._is_param = True
        return p

    def __instancecheck__(cls, x):
        return isinstance(x, Tensor) and bool(getattr(x, "_is_param", False))

    def __subclasscheck__(cls, sub):
        return False


class Parameter(metaclass=_ParameterMeta):
    """A tensor that a `Module` registers as a parameter when assigned as an attribute.

    `nn.Parameter(t)` returns `t.detach()` (same storage) with `requires_grad=True` and the
    parameter mark set; `isinstance(x, nn.Parameter)` is true for such tensors.
    """


def _is_param(x):
    return isinstance(x, Tensor) and bool(getattr(x, "_is_param", False))
