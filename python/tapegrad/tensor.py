"""The user-facing Tensor and the factories. Shapes arguments, never computes (docs/backends.md)."""

import builtins

import numpy as np

from . import _backend
from ._dtype import BY_CODE, dtype, float16, float32, to_dtype
from ._format import format_tensor

_pyfloat = builtins.float
_MIX = "expected all tensors to be on the same backend, but found at least two: {} and {}"
_MAX_BYTES = 1 << 40


def _check_same(a, b):
    if a._be is not b._be:
        raise RuntimeError(_MIX.format(a._be.name, b._be.name))


def _is_scalar(x):
    return isinstance(x, (int, _pyfloat, np.integer, np.floating)) and not isinstance(
        x, (np.complexfloating, complex)
    )


def _arith(op, t, other, reflected):
    """`t op other` (or `other op t` when reflected); `t` is a Tensor."""
    be = t._be
    if isinstance(other, Tensor):
        _check_same(t, other)
        a, b = (other, t) if reflected else (t, other)
        if op == "pow":
            if b.numel() == 1 and not b.requires_grad:
                return be.pow_scalar(a, b.item())
            raise TypeError(
                "tapegrad: the exponent of ** must be a Python number "
                "(or a 1-element tensor that does not require grad)"
            )
        return getattr(be, op)(a, b)
    if isinstance(other, (bool, np.bool_)):
        other = int(other)
    if _is_scalar(other):
        s = _pyfloat(other)
        if not reflected:
            if op == "sub":
                return be.add_scalar(t, -s)
            return getattr(be, op + "_scalar")(t, s)
        if op in ("add", "mul"):
            return getattr(be, op + "_scalar")(t, s)
        return getattr(be, "r" + op + "_scalar")(t, s)
    if isinstance(other, (np.ndarray, list, tuple)):
        return _arith(op, t, tensor(other, backend=be), reflected)
    return NotImplemented


def _inplace(op, t, other):
    if isinstance(other, Tensor):
        _check_same(t, other)
        return t._be.iop(op, t, other)
    if isinstance(other, (bool, np.bool_)):
        other = int(other)
    if _is_scalar(other):
        return t._be.iop(op, t, _pyfloat(other))
    if isinstance(other, (np.ndarray, list, tuple)):
        return t._be.iop(op, t, tensor(other, dtype=t.dtype, backend=t._be))
    return NotImplemented


def _scaled(fn, t, other, alpha):
    """`other * alpha` for add/sub(other, alpha=), computed as tapegrad does (never as NumPy or
    Python would: a str times a huge int is a huge str, uint8 arrays overflow)."""
    if isinstance(alpha, (bool, np.bool_)):
        alpha = int(alpha)
    if not _is_scalar(alpha):
        raise TypeError(f"{fn}(): argument 'alpha' must be Number, not {type(alpha).__name__}")
    if alpha == 1:
        return other
    try:
        alpha = _pyfloat(alpha)
    except OverflowError:
        raise RuntimeError(f"{fn}(): alpha={alpha} does not fit a float") from None
    if isinstance(other, (bool, np.bool_)):
        other = int(other)
    if _is_scalar(other):
        return _pyfloat(other) * alpha
    if isinstance(other, (np.ndarray, list, tuple)):
        other = tensor(other, backend=t._be)
    if not isinstance(other, Tensor):
        raise TypeError(
            f"{fn}(): argument 'other' (position 1) must be Tensor or a number, "
            f"not {type(other).__name__}"
        )
    return other * alpha


def _inplace_method(op, t, other):
    """The `add_`/`sub_`/`mul_`/`div_` methods: like `t op= other`, but never NotImplemented."""
    out = _inplace(op, t, other)
    if out is NotImplemented:
        raise TypeError(
            f"{op}_(): argument 'other' (position 1) must be Tensor or a number, "
            f"not {type(other).__name__}"
        )
    return out


def _norm_dim(d, ndim):
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
        raise TypeError(f"dim must be an int, got {type(d).__name__}")
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})"
        )
    return int(d) % n


def _norm_dims(dim, ndim):
    if dim is None:
        return None
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    if not dims:  # PyTorch: an empty dim list reduces over everything
        return None
    out = tuple(sorted({_norm_dim(d, ndim) for d in dims}))
    if len(out) != len(dims):
        raise RuntimeError("dim appears multiple times in the list of dims")
    if ndim == 0:
        return ()
    return out


def _shape_arg(args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    for s in args:
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"shape must be a sequence of ints, got {type(s).__name__}")
    return tuple(int(s) for s in args)


def _resolve_shape(shape, numel):
    shape = _shape_arg(shape) if not isinstance(shape, tuple) else shape
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"invalid shape dimension {min(shape)}")
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if neg:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class _Size(tuple):
    """Shapes print like PyTorch's torch.Size."""

    __slots__ = ()

    def __repr__(self):
        return f"tapegrad.Size({list(self)})"

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n


class Tensor:
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
            o = tensor(o, backend=self._be)
        if not isinstance(o, Tensor):
            return NotImplemented
        _check_same(self, o)
        return self._be.matmul(self, o)

    def __rmatmul__(self, o):
        if isinstance(o, (np.ndarray, list)):
            return tensor(o, backend=self._be).__matmul__(self)
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
        return self + _scaled("add", self, other, alpha)

    def sub(self, other, alpha=1):
        return self - _scaled("sub", self, other, alpha)

    def mul(self, other):
        return self * other

    def div(self, other):
        return self / other

    def matmul(self, other):
        return self.__matmul__(other)

    def neg(self):
        return self._be.neg(self)

    def abs(self):
        return self._be.abs(self)

    def exp(self):
        return self._be.exp(self)

    def log(self):
        return self._be.log(self)

    def tanh(self):
        return self._be.tanh(self)

    def relu(self):
        return self._be.relu(self)

    def sigmoid(self):
        return self._be.sigmoid(self)

    def pow(self, exponent):
        return self.__pow__(exponent)

    def sqrt(self):
        return self._be.pow_scalar(self, 0.5)

    def square(self):
        return self._be.pow_scalar(self, 2.0)

    def sum(self, dim=None, keepdim=False, dtype=None):
        out = self._be.sum(self, _norm_dims(dim, self.ndim), bool(keepdim))
        return out if dtype is None else out.to(dtype)

    def mean(self, dim=None, keepdim=False, dtype=None):
        t = self if dtype is None else self.to(dtype)
        return t._be.mean(t, _norm_dims(dim, t.ndim), bool(keepdim))

    # ---- in place ----
    def add_(self, other, alpha=1):
        return _inplace_method("add", self, _scaled("add_", self, other, alpha))

    def sub_(self, other, alpha=1):
        return _inplace_method("sub", self, _scaled("sub_", self, other, alpha))

    def mul_(self, other):
        return _inplace_method("mul", self, other)

    def div_(self, other):
        return _inplace_method("div", self, other)

    def zero_(self):
        return self._be.fill_(self, 0.0)

    def fill_(self, value):
        if isinstance(value, Tensor):
            value = value.item()
        if not _is_scalar(value):
            raise TypeError(f"fill_ expects a number, got {type(value).__name__}")
        return self._be.fill_(self, _pyfloat(value))

    def copy_(self, src):
        if not isinstance(src, Tensor):
            src = tensor(src, dtype=self.dtype, backend=self._be)
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
        n = 1
        for s in self.shape:
            n *= s
        return n

    def dim(self):
        return self.ndim

    def size(self, dim=None):
        if dim is None:
            return _Size(self.shape)
        return self.shape[_norm_dim(dim, self.ndim)]

    def view(self, *shape):
        return self._be.reshape(self, _resolve_shape(_shape_arg(shape), self.numel()))

    reshape = view

    def view_as(self, other):
        _need_like("view_as", other)
        return self.view(other.shape)

    def flatten(self):
        return self.view(-1)

    def unsqueeze(self, dim):
        d = _norm_dim(dim, self.ndim + 1)
        s = list(self.shape)
        s.insert(d, 1)
        return self._be.reshape(self, tuple(s))

    def squeeze(self, dim=None):
        if dim is None:
            s = tuple(x for x in self.shape if x != 1)
        else:
            d = _norm_dim(dim, self.ndim)
            s = (
                self.shape[:d] + self.shape[d + 1 :]
                if self.shape and self.shape[d] == 1
                else self.shape
            )
        return self._be.reshape(self, tuple(s))

    def permute(self, *dims):
        dims = _shape_arg(dims)
        if len(dims) != self.ndim:
            raise RuntimeError(
                "permute(sparse_coo): number of dimensions in the tensor input does not match "
                f"the length of the desired ordering of dimensions i.e. input.dim() = {self.ndim} "
                f"is not equal to len(dims) = {len(dims)}"
            )
        nd = tuple(_norm_dim(d, self.ndim) for d in dims)
        if len(set(nd)) != len(nd):
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        if nd == tuple(range(self.ndim)):
            return self._be.reshape(self, self.shape)
        return self._be.permute(self, nd)

    def transpose(self, dim0, dim1):
        order = list(range(self.ndim))
        a, b = _norm_dim(dim0, self.ndim), _norm_dim(dim1, self.ndim)
        order[a], order[b] = order[b], order[a]
        return self.permute(order)

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(
                f"t() expects a tensor with <= 2 dimensions, but self is {self.ndim}D"
            )
        return self.permute(tuple(reversed(range(self.ndim))))

    @property
    def T(self):
        return self.permute(tuple(reversed(range(self.ndim))))

    def __getitem__(self, index):
        from ._index import apply_index

        return apply_index(self, index)

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
        d = kwargs.get("dtype")
        for a in args:
            if isinstance(a, Tensor):
                d = a.dtype
            elif isinstance(a, str) and a in ("cpu",):
                continue
            elif a is not None:
                d = a
        if d is None:
            return self
        d = to_dtype(d)
        if d is self.dtype:
            return self
        return self._be.cast(self, d.code)

    def half(self):
        return self.to(float16)

    def float(self):
        return self.to(float32)

    def type_as(self, other):
        _need_like("type_as", other)
        return self.to(other.dtype)

    def is_floating_point(self):
        return True

    # ---- autograd ----
    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        if create_graph:
            raise NotImplementedError(
                "tapegrad does not support create_graph=True (higher-order gradients)"
            )
        if gradient is None:
            if self.requires_grad and self.numel() != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            # the backend makes the ones itself
        else:
            if not isinstance(gradient, Tensor):
                gradient = tensor(gradient, dtype=self.dtype, backend=self._be)
            _check_same(self, gradient)
            if tuple(gradient.shape) != tuple(self.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {_Size(gradient.shape)} "
                    f"and output[0] has a shape of {_Size(self.shape)}."
                )
            if gradient.dtype is not self.dtype:
                gradient = gradient.to(self.dtype)
        self._be.backward(self, gradient, bool(retain_graph))

    def requires_grad_(self, requires_grad=True):
        if not isinstance(requires_grad, (bool, np.bool_)):
            raise TypeError(
                "requires_grad_(): argument 'requires_grad' (position 1) must be bool, "
                f"not {type(requires_grad).__name__}"
            )
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self):
        return self._be.detach(self)

    def detach_(self):
        raise RuntimeError("detach_() is not supported; use t = t.detach()")

    def clone(self):
        return self._be.cast(self, self.dtype.code)

    def retain_grad(self):
        raise NotImplementedError("retain_grad() is not supported yet")

    # ---- conversion ----
    def numpy(self, force=False):
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        return self._be.to_numpy(self)

    def item(self):
        n = self.numel()
        if n != 1:
            raise RuntimeError(f"a Tensor with {n} elements cannot be converted to Scalar")
        return self._be.item(self)

    def tolist(self):
        arr = self._be.to_numpy(self)
        return arr.astype(np.float64).tolist() if arr.ndim else _pyfloat(arr)

    def __array__(self, dtype=None, copy=None):
        arr = self._be.to_numpy(self)
        if dtype is not None:
            return arr.astype(dtype)
        return arr.copy() if copy else arr

    def __float__(self):
        return self.item()

    def __int__(self):
        v = self.item()
        if v != v or v in (float("inf"), float("-inf")):
            raise RuntimeError(f"value cannot be converted to type int without overflow: {v}")
        return int(v)

    def __index__(self):
        raise TypeError("only integer tensors of a single element can be converted to an index")

    def __bool__(self):
        if self.numel() != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __format__(self, spec):
        if self.numel() == 1 and spec:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self):
        return format_tensor(self)

    __hash__ = object.__hash__

    def __reduce__(self):
        raise TypeError("tapegrad tensors are not picklable; use tapegrad.save for state dicts")

    @property
    def device(self):
        return "cpu"

    @property
    def backend(self):
        return self._be.name


# ---------------------------------------------------------------- factories


def _np_from(data, dt):
    """Turn user data into a C-contiguous float32/float16 ndarray we may keep (always a copy)."""
    if isinstance(data, Tensor):
        arr = data._be.to_numpy(data)
    elif isinstance(data, np.ndarray):
        arr = data
    else:
        if isinstance(data, (str, bytes, dict, set)) or data is None:
            raise TypeError(f"tensor(): could not convert {type(data).__name__} to a tensor")
        try:
            arr = np.asarray(data)
        except (ValueError, TypeError) as e:
            raise TypeError(f"tensor(): could not convert data to a tensor: {e}") from None
    kind = arr.dtype.kind
    if kind not in "fiub":
        raise TypeError(
            f"can't convert np.ndarray of type {arr.dtype} to a tensor: "
            "only real numbers are supported"
        )
    if dt is None:
        dt = float16 if kind == "f" and arr.dtype.itemsize == 2 else float32  # any byte order
    with np.errstate(over="ignore"):  # 1e39 -> inf, silently, as in PyTorch
        out = np.array(arr, dtype=dt.np, order="C", copy=True)
    return out, dt


def _check_nbytes(shape, dt):
    n = 1
    for s in shape:
        if s < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {s}: {list(shape)}"
            )
        n *= s
    nbytes = n * dt.itemsize
    if nbytes > _MAX_BYTES:
        raise MemoryError(
            f"tapegrad: refusing to allocate {nbytes} bytes for a tensor of shape {list(shape)}"
        )


def tensor(data, dtype=None, requires_grad=False, backend=None, device=None):
    be = _pick_backend(backend)
    arr, dt = _np_from(data, None if dtype is None else to_dtype(dtype))
    return be.from_numpy(arr, bool(requires_grad))


as_tensor = tensor


def from_numpy(arr):
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    return tensor(arr)


def _pick_backend(backend):
    if backend is None:
        return _backend.current()
    return _backend.load(backend) if isinstance(backend, str) else backend


def _filled(shape, value, dtype, requires_grad, backend=None):
    if isinstance(value, (bool, np.bool_)):
        value = int(value)
    if not _is_scalar(value):
        raise TypeError(
            f"full(): argument 'fill_value' (position 2) must be Number, not {type(value).__name__}"
        )
    dt = float32 if dtype is None else to_dtype(dtype)
    shape = _shape_arg(shape)
    _check_nbytes(shape, dt)
    arr = np.full(shape, value, dtype=dt.np)
    return _pick_backend(backend).from_numpy(arr, bool(requires_grad))


def zeros(*shape, dtype=None, requires_grad=False, device=None, backend=None):
    return _filled(shape, 0.0, dtype, requires_grad, backend)


def ones(*shape, dtype=None, requires_grad=False, device=None, backend=None):
    return _filled(shape, 1.0, dtype, requires_grad, backend)


def full(size, fill_value, dtype=None, requires_grad=False, device=None, backend=None):
    shape = (size,) if isinstance(size, int) else size
    return _filled(shape, fill_value, dtype, requires_grad, backend)


def _need_like(fn, t):
    if not isinstance(t, Tensor):
        raise TypeError(f"{fn}(): argument 'input' must be Tensor, not {type(t).__name__}")


def zeros_like(t, dtype=None, requires_grad=False):
    _need_like("zeros_like", t)
    return _filled(t.shape, 0.0, dtype or t.dtype, requires_grad, t._be)


def ones_like(t, dtype=None, requires_grad=False):
    _need_like("ones_like", t)
    return _filled(t.shape, 1.0, dtype or t.dtype, requires_grad, t._be)


def arange(start, end=None, step=1, dtype=None, requires_grad=False, device=None):
    if end is None:
        start, end = 0, start
    for v in (start, end, step):
        if not _is_scalar(v) and not isinstance(v, (bool, np.bool_)):
            raise TypeError(f"arange(): expected numbers, got {type(v).__name__}")
    lo, hi, st = _pyfloat(start), _pyfloat(end), _pyfloat(step)
    if st == 0:
        raise RuntimeError("step must be nonzero")
    if not (np.isfinite(lo) and np.isfinite(hi) and np.isfinite(st)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (hi - lo) / st < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    _check_nbytes((int(np.ceil((hi - lo) / st)),), float32 if dtype is None else to_dtype(dtype))
    return tensor(np.arange(start, end, step), dtype=dtype or float32, requires_grad=requires_grad)


def linspace(start, end, steps, dtype=None, requires_grad=False, device=None):
    if not isinstance(steps, (int, np.integer)) or steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    _check_nbytes((int(steps),), float32 if dtype is None else to_dtype(dtype))
    # PyTorch computes linspace in the output dtype with a symmetric formula; float64 then round
    # gives the same float32 values for the sizes tutorials use.
    arr = np.linspace(_pyfloat(start), _pyfloat(end), int(steps))
    return tensor(arr, dtype=dtype or float32, requires_grad=requires_grad)


def _dtype_of(code):
    return BY_CODE[code]


def is_tensor(x):
    return isinstance(x, Tensor)


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
