"""softmax and log_softmax as tapegrad functions and Tensor methods (PyTorch's torch.softmax,
torch.log_softmax, Tensor.softmax, Tensor.log_softmax); the backends compute them (one op each,
SoftmaxBackward0 / LogSoftmaxBackward0)."""

from ._tensor_args import _norm_dim


def _run(name, input, dim, dtype):
    from .tensor import Tensor

    if not isinstance(input, Tensor):
        raise TypeError(
            f"{name}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    if dim is None:
        raise TypeError(f"{name}() missing required argument 'dim' (pos 2)")
    if dtype is not None:  # PyTorch casts first (ToCopyBackward0 under the softmax)
        input = input.to(dtype)
    d = _norm_dim(dim, input.dim())
    return getattr(input._be, name)(input, d)


def softmax(input, dim, dtype=None):
    """exp(x) / exp(x).sum(dim), computed as PyTorch's CPU kernel does (max subtracted first)."""
    return _run("softmax", input, dim, dtype)


def log_softmax(input, dim, dtype=None):
    """x - max - log(exp(x - max).sum(dim)), as PyTorch's CPU kernel."""
    return _run("log_softmax", input, dim, dtype)


class _NnLossMethods:
    """Tensor.softmax and Tensor.log_softmax."""

    __slots__ = ()

    def softmax(self, dim, dtype=None):
        """exp(self) normalized to sum to 1 along `dim`; with `dtype` the input is cast first."""
        return _run("softmax", self, dim, dtype)

    def log_softmax(self, dim, dtype=None):
        """log(softmax(self, dim)), computed stably. With `dtype` the input is cast to it first."""
        return _run("log_softmax", self, dim, dtype)
