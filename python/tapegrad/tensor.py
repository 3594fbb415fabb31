"""The user-facing Tensor. Shapes arguments, never computes (docs/backends.md).

Its conversion methods are in _tensor_convert.py and its view and shape methods in
_tensor_views.py (base classes), the factories in _factories.py,
the argument helpers in _tensor_args.py and the arithmetic helpers in _tensor_arith.py; this
module re-exports the names other modules import from it.
"""

import numpy as np

from . import _oplist
from ._device import device as _device
from ._dtype import dtype, float16, float32
from ._ops_data import _DataMethods, to_args
from ._ops_divmod import _DivMod
from ._ops_ewise import _EwiseMethods
from ._ops_ewise2 import _Ewise2Methods
from ._ops_mm2 import _MM2
from ._ops_nnloss import _NnLossMethods
from ._ops_norm import _Norm
from ._ops_prodnorm import _ProdNorm
from ._ops_reduce import _Reductions
from ._ops_shape import _ShapeOps
from ._ops_shape_mm import _ShapeMM

# Also names of this module (other modules import them from here).
from ._tensor_args import _MIX as _MIX
from ._tensor_args import _check_nbytes as _check_nbytes
from ._tensor_args import (
    _check_same,
    _is_scalar,
    _norm_dim,
    _Size,
)
from ._tensor_args import _shape_arg as _shape_arg
from ._tensor_convert import _Conversions
from ._tensor_hooks import _HookMethods
from ._tensor_logic import _Logic
from ._tensor_views import _Views


class Tensor(
    _DataMethods,
    _DivMod,
    _Logic,
    _Views,
    _Conversions,
    _Reductions,
    _Ewise2Methods,
    _EwiseMethods,
    _NnLossMethods,
    _ShapeOps,
    _ShapeMM,
    _ProdNorm,
    _MM2,
    _HookMethods,
    _Norm,
):
    """A tensor on one backend. Concrete classes: `_core.CTensor` (cpp) and `NTensor` (numpy)."""

    __slots__ = ()
    __array_ufunc__ = None  # so that `ndarray + tensor` reaches Tensor.__radd__
    __array_priority__ = 1000

    # ---- arithmetic (the cpp class overrides these with C slots) ----
    def __add__(self, o):
        return _arith("add", self, o, False)

    def __radd__(self, o):
        return _arith("add", self, o, True)

    def __sub__(self, o):
        return _arith("sub", self, o, False)

    def __rsub__(self, o):
        return _arith("sub", self, o, True)

    def __mul__(self, o):
        return _arith("mul", self, o, False)

    def __rmul__(self, o):
        return _arith("mul", self, o, True)

    def __truediv__(self, o):
        return _arith("div", self, o, False)

    def __rtruediv__(self, o):
        return _arith("div", self, o, True)

    def __pow__(self, o):
        return _arith("pow", self, o, False)

    def __rpow__(self, o):
        return _arith("pow", self, o, True)

    def __matmul__(self, o):
        if isinstance(o, (np.ndarray, list)):
            o = operand(o, self._be)
        if not isinstance(o, Tensor):
            return NotImplemented
        _check_same(self, o)
        return self._be.matmul(self, o)

    def __rmatmul__(self, o):
        if isinstance(o, (np.ndarray, list)):
            return operand(o, self._be).__matmul__(self)
        return NotImplemented

    def __neg__(self):
        return self._be.neg(self)

    def __pos__(self):
        return self

    def __iadd__(self, o):
        return _inplace("add", self, o)

    def __isub__(self, o):
        return _inplace("sub", self, o)

    def __imul__(self, o):
        return _inplace("mul", self, o)

    def __itruediv__(self, o):
        return _inplace("div", self, o)

    def __abs__(self):
        return self._be.abs(self)

    # ---- math methods ----
    def add(self, other, alpha=1):
        """self + alpha * other, broadcast and type-promoted; `other` a tensor or a number."""
        return self + _scaled("add", self, other, alpha)

    def sub(self, other, alpha=1):
        """self - alpha * other, broadcast and type-promoted; `other` a tensor or a number."""
        return self - _scaled("sub", self, other, alpha)

    def mul(self, other):
        """Elementwise self * other, with broadcasting and type promotion."""
        return self * other

    def div(self, other):
        """True division self / other, with broadcasting; integer inputs give a floating result.
        PyTorch's `rounding_mode=` is not taken: use `floor_divide` or `trunc()`."""
        return self / other

    def matmul(self, other):
        """The matrix product `self @ other`, with PyTorch's rules: 1-D operands are vectors and
        batch dims broadcast."""
        return self.__matmul__(other)

    def pow(self, exponent):
        """Elementwise self ** exponent (a tensor or a number), with type promotion."""
        if not isinstance(exponent, Tensor) and not _is_scalar(exponent):
            # `**` would hand an array to NumPy's reflected pow; the method refuses, as PyTorch's
            name = f"{type(exponent).__module__}.{type(exponent).__qualname__}".replace(
                "builtins.", ""
            )
            raise TypeError(
                f"pow() received an invalid combination of arguments - got ({name}), but "
                "expected one of:\n * (Tensor exponent)\n * (Number exponent)\n"
            )
        return self.__pow__(exponent)

    def square(self):
        """Elementwise self ** 2; integer tensors stay integers."""
        return self._be.pow_scalar(self, 2)  # an int exponent: integers stay integers

    # ---- in place ----
    def add_(self, other, alpha=1):
        """In-place `add(other, alpha=alpha)`; returns self."""
        return _inplace_method("add", self, _scaled("add_", self, other, alpha))

    def sub_(self, other, alpha=1):
        """In-place `sub(other, alpha=alpha)`; returns self."""
        return _inplace_method("sub", self, _scaled("sub_", self, other, alpha))

    def mul_(self, other):
        """In-place `mul(other)`; returns self."""
        return _inplace_method("mul", self, other)

    def div_(self, other):
        """In-place `div(other)`; returns self."""
        return _inplace_method("div", self, other)

    def zero_(self):
        """Fill with zeros in place; returns self."""
        return self._be.fill_(self, 0)

    def fill_(self, value):
        """Fill in place with the number `value` (or a one-element tensor's value); returns self."""
        if isinstance(value, Tensor):
            value = value.item()
        if not _is_scalar(value) and not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"fill_ expects a number, got {type(value).__name__}")
        return self._be.fill_(self, _number(value))

    def copy_(self, src):
        """Copy `src`'s values into self in place, broadcast to self's shape and cast to its dtype;
        returns self. Besides tensors, tapegrad takes lists and NumPy arrays."""
        if not isinstance(src, Tensor):
            src = operand(src, self._be, dtype=self.dtype)
        _check_same(self, src)
        return self._be.copy_(self, src)

    def uniform_(self, from_=0.0, to=1.0, *, generator=None, **kwargs):
        """Fill in place with PyTorch's uniform_(from, to) numbers (never recorded on the tape)."""
        from ._random import fill_uniform_

        from_ = kwargs.pop("from", from_)  # PyTorch's keyword name
        if kwargs:
            raise TypeError(f"uniform_() got an unexpected keyword argument {next(iter(kwargs))!r}")
        return fill_uniform_(self, from_, to, generator)

    def normal_(self, mean=0.0, std=1.0, *, generator=None):
        """Fill in place with PyTorch's normal_(mean, std) numbers (never recorded on the tape)."""
        from ._random import fill_normal_

        return fill_normal_(self, mean, std, generator)

    # ---- shape ----
    def numel(self):
        """The number of elements."""
        n = 1
        for s in self.shape:
            n *= s
        return n

    def dim(self):
        """The number of dimensions."""
        return self.ndim

    def size(self, dim=None):
        """The shape as a `tapegrad.Size` (a tuple), or the size of dim `dim`."""
        if dim is None:
            return _Size(self.shape)
        return self.shape[_norm_dim(dim, self.ndim)]

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    # ---- dtype ----
    def to(self, *args, **kwargs):
        """This tensor in another dtype (a copy on the tape), or itself; devices: the CPU only
        (PyTorch's CPU-build errors for others)."""
        # the common calls first: to(dtype), to(dtype=...), to("cpu"), to(device, dtype)
        d = args[0] if len(args) == 1 and not kwargs else None
        if not args and len(kwargs) == 1:
            d = kwargs.get("dtype")
        elif len(args) == 2 and not kwargs and _is_cpu(args[0]):
            d = args[1]
        if isinstance(d, dtype):
            return self if d is self.dtype else self._be.cast(self, d.code)
        if len(args) == 1 and not kwargs and _is_cpu(args[0]):
            return self
        d, copy = to_args(args, kwargs)
        if d is None or d is self.dtype:
            return self.clone() if copy else self
        return self._be.cast(self, d.code)

    def half(self):
        """This tensor as float16 (itself if it already is)."""
        return self.to(float16)

    def float(self):
        """This tensor as float32 (itself if it already is)."""
        return self.to(float32)

    def type_as(self, other):
        """This tensor in `other`'s dtype (itself if they match)."""
        _need_like("type_as", other)
        return self.to(other.dtype)

    # ---- autograd ----
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Add the gradient of this tensor (weighted by `gradient`) to the leaves' `.grad`,
        or only to `inputs`' `.grad` when given."""
        if create_graph or inputs is not None:
            from .autograd import backward

            return backward(self, gradient, retain_graph, create_graph, inputs=inputs)
        gradient = _fit_gradient(0, self, gradient)  # None: the backend makes the ones itself
        self._be.backward(self, gradient, bool(retain_graph))

    def requires_grad_(self, requires_grad=True):
        """Set `requires_grad` in place and return self; only floating point tensors can require
        gradients."""
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(
                "requires_grad_(): argument 'requires_grad' (position 1) must be bool, "
                f"not {type(requires_grad).__name__}"
            )
        if requires_grad and not self.dtype.is_floating_point:  # PyTorch words this one apart
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        """A new tensor that shares this tensor's data but not its history: it does not require
        grad."""
        return self._be.detach(self)

    def detach_(self):
        """Not supported: raises RuntimeError, where PyTorch detaches in place. Use `t =
        t.detach()`."""
        raise RuntimeError("detach_() is not supported; use t = t.detach()")

    def clone(self):
        """A copy with its own memory, recorded on the tape (gradients flow back to self)."""
        return self._be.cast(self, self.dtype.code)

    # ---- conversion: inherited from _Conversions (_tensor_convert.py) ----


def _fit_gradient(i, out, g):
    """The gradient given for output i of a backward sweep, checked and in out's dtype; None
    stays None (ones), which only a 1-element output may take."""
    if g is None:
        if out.requires_grad and out.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        return None
    if not isinstance(g, Tensor):
        g = operand(g, out._be, dtype=out.dtype)
    _check_same(out, g)
    if tuple(g.shape) != tuple(out.shape):
        raise RuntimeError(
            f"Mismatch in shape: grad_output[{i}] has a shape of {_Size(g.shape)} and "
            f"output[{i}] has a shape of {_Size(out.shape)}."
        )
    if g.dtype is not out.dtype:
        g = g.to(out.dtype)
    return g


def _is_cpu(a):
    return (type(a) is str and a == "cpu") or (type(a) is _device and a.type == "cpu")


def _unary_method(name):
    def method(self):
        return getattr(self._be, name)(self)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"The {_oplist.UNARY_DOC[name]} of each element (PyTorch's Tensor.{name})."
    return method


# The unary ops of the op list (python/tapegrad/_oplist.py) are plain methods.
for _name in _oplist.UNARY:
    if _name not in _Ewise2Methods.__dict__:  # round takes decimals= there
        setattr(Tensor, _name, _unary_method(_name))
del _name


# These modules use Tensor, so they are imported once it exists.
from ._factories import (  # noqa: E402
    _need_like,
    arange,
    as_tensor,
    from_numpy,
    full,
    is_tensor,
    linspace,
    ones,
    ones_like,
    operand,
    tensor,
    zeros,
    zeros_like,
)
from ._tensor_arith import _arith, _inplace, _inplace_method, _number, _scaled  # noqa: E402

__all__ = [
    "Tensor",
    "tensor",
    "as_tensor",
    "from_numpy",
    "zeros",
    "ones",
    "full",
    "zeros_like",
    "ones_like",
    "arange",
    "linspace",
    "is_tensor",
    "dtype",
]
