"""`autograd.Variable`, PyTorch's legacy name: `Variable(t, requires_grad=...)` is a tensor that
shares `t`'s storage (a detached alias), and every tensor is a Variable."""

import warnings


class _VariableMeta(type):
    def __call__(cls, data=None, requires_grad=False, volatile=False):
        from ..tensor import Tensor, zeros

        if volatile:
            warnings.warn(
                "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                UserWarning,
                stacklevel=2,
            )
        if data is None:
            data = zeros(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if requires_grad and not data.dtype.is_floating_point:
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients"
            )
        v = data.detach()
        v.requires_grad = bool(requires_grad)
        return v

    def __instancecheck__(cls, x):
        from ..tensor import Tensor

        return isinstance(x, Tensor)


class Variable(metaclass=_VariableMeta):
    """PyTorch's legacy `torch.autograd.Variable`: calling it returns a tensor."""
