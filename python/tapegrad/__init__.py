"""tapegrad: a small, fast, honest tape-based autograd library with a C++ core."""

from . import _backend, nn, optim
from ._backend import get_backend, set_backend, use_backend
from ._compile import compile  # noqa: A004
from ._dtype import dtype, float, float16, float32, half  # noqa: A004
from ._grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from ._random import initial_seed, manual_seed, rand, randn, seed
from .serialization import load, save
from .tensor import (
    Tensor,
    arange,
    as_tensor,
    from_numpy,
    full,
    is_tensor,
    linspace,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)

__version__ = "0.1.0"


def _unary(name):
    def f(input):
        return getattr(input, name)()

    f.__name__ = name
    return f


relu = _unary("relu")
tanh = _unary("tanh")
sigmoid = _unary("sigmoid")
exp = _unary("exp")
log = _unary("log")
abs = _unary("abs")  # noqa: A001
neg = _unary("neg")
sqrt = _unary("sqrt")


def sum(input, dim=None, keepdim=False):  # noqa: A001
    return input.sum(dim, keepdim)


def mean(input, dim=None, keepdim=False):
    return input.mean(dim, keepdim)


def matmul(a, b):
    return a @ b


def mm(a, b):
    return a @ b


def pow(input, exponent):  # noqa: A001
    return input**exponent


def add(a, b):
    return a + b


def mul(a, b):
    return a * b


def reshape(input, shape):
    return input.reshape(shape)


def transpose(input, dim0, dim1):
    return input.transpose(dim0, dim1)


def permute(input, dims):
    return input.permute(dims)


def set_num_threads(n):
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    _backend.current().set_num_threads(n)


def get_num_threads():
    return _backend.current().get_num_threads()
