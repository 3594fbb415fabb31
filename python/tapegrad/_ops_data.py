"""Devices, the legacy constructors (`Tensor(2, 3)`, `FloatTensor`, ...), the remaining
factories (eye, empty, *_like) and random functions (normal, bernoulli, multinomial), and the
Tensor methods that go with them (`_DataMethods`, a base class of Tensor).

None of these records on the tape: factories make leaves, and random fills write in place
without recording, as `uniform_` / `normal_` do (docs/random.md)."""

import builtins
import warnings

import numpy as np

from . import _device, _ops_ewise2, _random, _random_dist
from . import _dtype as D
from ._device import CPU, NO_CUDA, device
from ._tensor_args import _shape_arg, _Size

# ---------------------------------------------------------------- Tensor methods


class _DataMethods:
    """Device, legacy and random-fill methods of `tapegrad.Tensor`; never instantiated alone."""

    __slots__ = ()

    def __new__(cls, *args, **kwargs):
        from .tensor import Tensor

        if cls is not Tensor:  # the backends build their own tensors without arguments
            return super().__new__(cls)
        return _legacy_new(None, args, kwargs)

    @property
    def device(self):
        """The device the tensor is on: always `device(type='cpu')`."""
        return CPU

    is_cuda = property(lambda self: False, doc="False: tapegrad has no GPU tensors.")
    is_cpu = property(lambda self: True, doc="True: every tapegrad tensor is on the CPU.")

    def get_device(self):
        """The device index: -1, as PyTorch answers for a CPU tensor."""
        return -1

    def cpu(self, memory_format=None):
        """Return this tensor itself: tapegrad tensors always live on the CPU."""
        return self

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """Raise as PyTorch's CPU-only build does: AssertionError ("Torch not compiled with CUDA
        enabled"), or RuntimeError for an integer device."""
        if device is not None and _device._is_int(device):
            raise RuntimeError(_device.NO_ACCELERATOR)
        raise AssertionError(NO_CUDA)

    def nelement(self):
        """The number of elements; an alias of `numel()`."""
        return self.numel()

    def ndimension(self):
        """The number of dimensions; an alias of `dim()`."""
        return self.ndim

    def bernoulli_(self, p=0.5, *, generator=None):
        """Fill with 0/1 draws: u < p per element (p a number or a tensor broadcast to self)."""
        from .tensor import Tensor

        if isinstance(p, Tensor):
            probs = np.broadcast_to(p._be.to_numpy(p), tuple(self.shape))
            arr = _random_dist.bernoulli_tensor(probs, self.dtype, generator)
        else:
            arr = _random_dist.bernoulli_scalar(tuple(self.shape), p, self.dtype, generator)
        return _fill(self, arr)

    def bernoulli(self, p=None, *, generator=None):
        """Draw 0/1 values in this tensor's shape and dtype: 1 with probability self[i], or with the
        number p when given (as `tapegrad.bernoulli`)."""
        return bernoulli(self, p, generator=generator)

    def random_(self, *args, generator=None, **kwargs):
        """random_(), random_(to), random_(from, to), random_(from=, to=None)."""
        from_, to = _random_args(args, kwargs)
        arr = _random_dist.random_(tuple(self.shape), self.dtype, from_, to, generator)
        return _fill(self, arr)

    def exponential_(self, lambd=1.0, *, generator=None):
        """Fill in place with exponential draws of rate `lambd` (PyTorch's numbers for the same
        seed); not recorded on the tape. Returns self."""
        arr = _random_dist.exponential(tuple(self.shape), lambd, self.dtype, generator)
        return _fill(self, arr)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        """Draw `num_samples` indices (int64) from each row of this 1-D or 2-D tensor of
        non-negative weights (they need not sum to 1); without replacement unless
        `replacement=True`."""
        return multinomial(self, num_samples, replacement, generator=generator)

    # new_*: factories with this tensor's dtype (and backend) unless told otherwise
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, **_layout):
        """A new leaf tensor of zeros of the given size (ints or one sequence), in this tensor's
        dtype (unless `dtype` is given) and on its backend."""
        return _new_filled(self, size, 0, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False, **_layout):
        """A new leaf tensor of ones of the given size (ints or one sequence), in this tensor's
        dtype (unless `dtype` is given) and on its backend."""
        return _new_filled(self, size, 1, dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False, **_layout):
        """Zeros (PyTorch leaves the memory uninitialized)."""
        return _new_filled(self, size, 0, dtype, device, requires_grad)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False,
                 **_layout):  # fmt: skip
        """A new leaf tensor of shape `size` filled with `fill_value`, in this tensor's dtype
        (unless `dtype` is given) and on its backend."""
        size = (size,) if _device._is_int(size) else size
        return _new_filled(self, size, fill_value, dtype, device, requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, **_layout):
        """A new leaf tensor holding a copy of `data`, in this tensor's dtype (unless `dtype` is
        given) and on its backend. Given a tensor it warns, as PyTorch does: prefer
        `t.detach().clone()`."""
        from .tensor import tensor

        _device.check(device)
        if isinstance(data, _DataMethods):
            warnings.warn(
                "To copy construct from a tensor, it is recommended to use "
                "sourceTensor.detach().clone() or sourceTensor.detach().clone()."
                "requires_grad_(True), rather than tensor.new_tensor(sourceTensor).",
                UserWarning,
                stacklevel=2,
            )
        dt = _dt(dtype, "new_tensor", self.dtype)
        _check_grad(dt, requires_grad)
        return tensor(data, dtype=dt, requires_grad=requires_grad, backend=self._be)


def _new_filled(t, size, value, dtype, device, requires_grad):
    from ._factories import _filled

    _device.check(device)
    dt = _dt(dtype, "new_full", t.dtype)
    _check_grad(dt, requires_grad)
    return _filled(size, value, dt, requires_grad, t._be)


def _fill(t, arr):
    from ._grad_mode import is_grad_enabled

    if t.requires_grad and t.grad_fn is None and is_grad_enabled():
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    return _random._write(t, arr)


def _random_args(args, kwargs):
    if "from" in kwargs:
        kwargs["from_"] = kwargs.pop("from")
    unknown = set(kwargs) - {"from_", "to"}
    if unknown or len(args) > 2:
        raise TypeError("random_() takes random_(), random_(to) or random_(from, to)")
    if len(args) == 1 and not kwargs:
        return None, _int_like(args[0], "to")
    vals = dict(zip(("from_", "to"), args), **kwargs)
    if not vals:
        return None, None
    from_ = _int_like(vals.get("from_", 0), "from")
    to = vals.get("to")
    return from_, (None if to is None else _int_like(to, "to"))


def _int_like(v, name):
    if isinstance(v, (builtins.bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"random_(): argument '{name}' must be int, not {type(v).__name__}")
    return int(v)


# ---------------------------------------------------------------- .to() arguments

_TO_SIG = (
    "to() received an invalid combination of arguments - got ({}), but expected one of: "
    "(torch.device device = None, torch.dtype dtype = None, bool non_blocking = False, "
    "bool copy = False), (torch.dtype dtype, bool non_blocking = False, bool copy = False), "
    "(Tensor tensor, bool non_blocking = False, bool copy = False)"
)


def _is_dtype(a):
    return isinstance(a, D.dtype) or a is builtins.float or a is builtins.int or a is bool


def _is_device(a):
    return isinstance(a, (str, device)) or _device._is_int(a)


def _bad_to(args, kwargs):
    got = [type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in kwargs.items()]
    return TypeError(_TO_SIG.format(", ".join(got)))


def to_args(args, kwargs):
    """Parse `Tensor.to` / `Module.to` arguments as PyTorch does; refuse devices other than the
    CPU with PyTorch's CPU-build error. Returns (dtype or None, copy)."""
    kw = dict(kwargs)
    kw.pop("memory_format", None)
    dev, dt = kw.pop("device", None), kw.pop("dtype", None)
    flags = [kw.pop("non_blocking", False), kw.pop("copy", False)]
    rest = list(args)
    if kw:
        raise _bad_to(args, kwargs)
    if rest and isinstance(rest[0], _DataMethods):  # a tensor (every Tensor is one)
        dt = rest.pop(0).dtype
    elif rest and _is_dtype(rest[0]):
        dt = rest.pop(0)
    elif rest and (rest[0] is None or _is_device(rest[0])):
        dev = rest.pop(0)
        if rest and _is_dtype(rest[0]):
            dt = rest.pop(0)
        elif rest and rest[0] is None:
            rest.pop(0)
    if len(rest) > 2 or not all(isinstance(f, (builtins.bool, np.bool_)) for f in rest):
        raise _bad_to(args, kwargs)
    flags[: len(rest)] = rest
    _device.check(dev)
    return (None if dt is None else D.dtype_arg(dt, "to")), builtins.bool(flags[1])


# ---------------------------------------------------------------- legacy constructors

_CPP_TYPE = {"float32": "float", "float64": "double", "float16": "c10::Half",
             "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
             "uint8": "unsigned char", "bool": "bool"}  # fmt: skip


def _options(dt):
    return (
        f"TensorOptions(dtype={_CPP_TYPE[dt.name]}, device=cpu, layout=Strided, requires_grad="
        "false (default), pinned_memory=false (default), memory_format=(nullopt))"
    )


def _legacy_new(dt, args, kwargs):
    """`Tensor(*sizes)`, `Tensor(data)`, `Tensor(tensor)`, `Tensor()` and the typed classes
    (`FloatTensor(...)`, dt given): PyTorch's legacy constructor. Sizes give zeros (PyTorch
    leaves the memory uninitialized)."""
    from .tensor import Tensor, tensor, zeros

    kwargs = dict(kwargs)
    _device.check(kwargs.pop("device", None))
    if kwargs:
        got = ", ".join([type(a).__name__ for a in args] + [f"{k}=" for k in kwargs])
        raise TypeError(f"new() received an invalid combination of arguments - got ({got})")
    target = D.get_default_dtype() if dt is None else dt
    if not args:
        return zeros(0, dtype=target)
    if len(args) == 1 and isinstance(args[0], Tensor):
        t = args[0]
        if dt is not None and t.dtype is not dt:
            raise TypeError(f"expected {_options(dt)} (got {_options(t.dtype)})")
        return t
    if len(args) == 1 and isinstance(args[0], _Size):
        return zeros(tuple(args[0]), dtype=target)
    if all(_device._is_int(a) or isinstance(a, np.integer) for a in args):
        shape = [int(a) for a in args]
        for s in shape:
            if s < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {shape}")
        return zeros(tuple(shape), dtype=target)
    if len(args) == 1:
        data = args[0]
        if isinstance(data, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
        if isinstance(data, (list, tuple, np.ndarray)):
            return tensor(data, dtype=target)
        raise TypeError(f"new(): data must be a sequence (got {type(data).__name__})")
    bad = next(a for a in args if not _device._is_int(a))
    raise TypeError(
        f"new(): argument 'size' failed to unpack the object at pos {args.index(bad) + 1} with "
        f'error "type must be tuple of ints,but got {type(bad).__name__}"'
    )


class _LegacyType(type):
    """`FloatTensor(...)` builds a tensor of that dtype; `isinstance(t, FloatTensor)` checks the
    dtype, as PyTorch's legacy tensor types do."""

    def __call__(cls, *args, **kwargs):
        return _legacy_new(cls._dtype, args, kwargs)

    def __instancecheck__(cls, obj):
        from .tensor import Tensor

        return isinstance(obj, Tensor) and obj.dtype is cls._dtype


def _legacy_class(name, dt):
    return _LegacyType(name, (), {"_dtype": dt, "__doc__": f"PyTorch's legacy {name} ({dt})."})


FloatTensor = _legacy_class("FloatTensor", D.float32)
DoubleTensor = _legacy_class("DoubleTensor", D.float64)
HalfTensor = _legacy_class("HalfTensor", D.float16)
LongTensor = _legacy_class("LongTensor", D.int64)
IntTensor = _legacy_class("IntTensor", D.int32)
ShortTensor = _legacy_class("ShortTensor", D.int16)
CharTensor = _legacy_class("CharTensor", D.int8)
ByteTensor = _legacy_class("ByteTensor", D.uint8)
BoolTensor = _legacy_class("BoolTensor", D.bool)


# ---------------------------------------------------------------- factories


def _need_tensor(fn, t):
    from .tensor import Tensor

    if not isinstance(t, Tensor):
        raise TypeError(
            f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(t).__name__}"
        )


def _make(arr, requires_grad, be=None):
    from ._backend import current

    return (be or current()).from_numpy(np.asarray(arr, order="C"), builtins.bool(requires_grad))


def _dt(dtype, fn, default=None):
    if dtype is None:
        return default if default is not None else D.get_default_dtype()
    return D.dtype_arg(dtype, fn)


def _check_grad(dt, requires_grad):
    if requires_grad and not dt.is_floating_point:
        raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")


_SQUARE = object()  # eye's m when not given (an explicit None is PyTorch's TypeError)


def eye(n, m=_SQUARE, *, dtype=None, device=None, requires_grad=False, out=None):
    """The n x m identity (m defaults to n)."""
    _device.check(device)
    m = n if m is _SQUARE else m
    for name, pos, v in (("n", 1, n), ("m", 2, m)):
        if not (_device._is_int(v) or isinstance(v, np.integer)):
            raise TypeError(
                f"eye(): argument '{name}' (position {pos}) must be int, not {type(v).__name__}"
            )
    n, m = int(n), int(m)
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    dt = _dt(dtype, "eye")
    _check_grad(dt, requires_grad)
    return _make(np.eye(n, m, dtype=dt.np), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, **_layout):
    """A tensor of the given shape. Its values are zeros: PyTorch leaves them uninitialized, so a
    program cannot rely on them either way."""
    from .tensor import _check_nbytes

    _device.check(device)
    dt = _dt(dtype, "empty")
    _check_grad(dt, requires_grad)
    shape = _shape_arg(size)
    _check_nbytes(shape, dt)
    return _make(np.zeros(shape, dt.np), requires_grad)


def _like(fn, input, dtype, device):
    _need_tensor(fn, input)
    _device.check(device)
    return _dt(dtype, fn, input.dtype)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    """A tensor with input's shape and dtype (or `dtype`). tapegrad fills it with zeros; PyTorch
    leaves the memory uninitialized, so a program should not read it either way."""
    dt = _like("empty_like", input, dtype, device)
    _check_grad(dt, requires_grad)
    return _make(np.zeros(tuple(input.shape), dt.np), requires_grad, input._be)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False,
              memory_format=None):  # fmt: skip
    """A tensor with input's shape filled with `fill_value`, in input's dtype unless `dtype` is
    given."""
    from ._factories import _filled

    dt = _like("full_like", input, dtype, device)
    _check_grad(dt, requires_grad)
    return _filled(tuple(input.shape), fill_value, dt, requires_grad, input._be)


def _not_implemented(kernel, dt):
    return NotImplementedError(
        f"\"{kernel}\" not implemented for '{_random_dist.scalar_name(dt)}'"
    )  # fmt: skip


def rand_like(input, *, dtype=None, device=None, requires_grad=False, generator=None,
              memory_format=None):  # fmt: skip
    """Uniform draws on [0, 1) with input's shape and dtype (or `dtype`, a floating one): PyTorch's
    numbers for the same seed."""
    dt = _like("rand_like", input, dtype, device)
    if not dt.is_floating_point:
        raise _not_implemented("check_uniform_bounds", dt)
    _random._refuse_in_capture("rand_like()")
    arr = _random._uniform_array(_random._gen(generator), tuple(input.shape), 0.0, 1.0, dt)
    return _make(arr, requires_grad, input._be)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, generator=None,
               memory_format=None):  # fmt: skip
    """Standard normal draws with input's shape and dtype (or `dtype`, a floating one): PyTorch's
    numbers for the same seed."""
    dt = _like("randn_like", input, dtype, device)
    if not dt.is_floating_point:
        raise _not_implemented("normal_kernel_cpu", dt)
    _random._refuse_in_capture("randn_like()")
    arr = _random._normal_array(_random._gen(generator), tuple(input.shape), 0.0, 1.0, dt)
    return _make(arr, requires_grad, input._be)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False,
                 generator=None, memory_format=None):  # fmt: skip
    """randint_like(input, high) or randint_like(input, low, high), in input's dtype."""
    dt = _like("randint_like", input, dtype, device)
    if high is None:
        low, high = 0, low
    arr = _random_dist.random_(tuple(input.shape), dt, _int_arg(low), _int_arg(high), generator)
    _check_grad(dt, requires_grad)
    return _make(arr, requires_grad, input._be)


def _int_arg(v):
    if isinstance(v, (builtins.bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"randint_like(): expected an int bound, got {type(v).__name__}")
    return int(v)


# ---------------------------------------------------------------- random functions


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad=False, out=None):  # fmt: skip
    """normal(mean, std, size) for numbers, or with a tensor mean and/or std (the result has
    their broadcast shape). As ATen: a tensor std draws normal_(0, 1) then `* std + mean`; a
    number std with a tensor mean draws normal_(0, std) then `+ mean`, in the tensors' dtype.

    The tensor forms record PyTorch's NormalBackward1-3 when a tensor requires grad (zero
    gradients: _ops_ewise2.py)."""
    from ._grad_mode import no_grad
    from .tensor import Tensor

    t_mean, t_std = isinstance(mean, Tensor), isinstance(std, Tensor)
    _device.check(device)
    if not t_mean and not t_std:
        if size is None:
            raise TypeError(
                "normal() received an invalid combination of arguments - got (float, float), "
                "but expected one of: (Tensor mean, Tensor std), (Tensor mean, float std), "
                "(float mean, Tensor std), (float mean, float std, tuple of ints size)"
            )
        dt = _dt(dtype, "normal")
        _random._refuse_in_capture("normal()")
        shape = _shape_arg((size,) if isinstance(size, (int, np.integer)) else tuple(size))
        if not dt.is_floating_point:
            raise _not_implemented("normal_kernel_cpu", dt)
        arr = _random._normal_array(_random._gen(generator), shape, mean, std, dt)
        return _make(arr, requires_grad)
    if size is not None:
        raise TypeError("normal(): size is only taken with a number mean and std")
    ref = mean if t_mean else std
    dt = ref.dtype  # the output is made like mean (like std for a number mean)
    if not dt.is_floating_point:
        raise _not_implemented("normal_kernel_cpu", dt)
    if t_std:
        s = std._be.to_numpy(std)
        if s.size and not builtins.bool(np.all(s >= 0)):
            raise RuntimeError("normal expects all elements of std >= 0.0")
    shape = _broadcast(tuple(mean.shape) if t_mean else (), tuple(std.shape) if t_std else ())
    g = _random._gen(generator)
    with no_grad():
        if t_std:
            out = _make(_random._normal_array(g, shape, 0.0, 1.0, dt), False, ref._be)
            out.mul_(std).add_(mean)
        else:
            out = _make(_random._normal_array(g, shape, 0.0, std, dt), False, ref._be)
            out.add_(mean)
    return _ops_ewise2.normal_node(out, mean, std)


def _broadcast(a, b):
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    for d in range(n - 1, -1, -1):
        if a[d] != b[d] and 1 not in (a[d], b[d]):
            raise RuntimeError(
                f"The size of tensor a ({a[d]}) must match the size of tensor b ({b[d]}) at "
                f"non-singleton dimension {d}"
            )
    return tuple(max(x, y) if 0 not in (x, y) else 0 for x, y in zip(a, b))


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 draws in input's dtype: with probabilities `input`, or with the number p."""
    _need_tensor("bernoulli", input)
    dt = input.dtype
    if p is not None:
        arr = _random_dist.bernoulli_scalar(tuple(input.shape), p, dt, generator)
    else:
        arr = _random_dist.bernoulli_tensor(input._be.to_numpy(input), dt, generator)
        return _ops_ewise2.random_node(_make(arr, False, input._be), input, None, 4)
    return _make(arr, False, input._be)


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices (int64) drawn from the rows of `input` (weights, not necessarily normalized)."""
    _need_tensor("multinomial", input)
    if not (_device._is_int(num_samples) or isinstance(num_samples, np.integer)):
        raise TypeError(
            "multinomial(): argument 'num_samples' (position 2) must be int, not "
            f"{type(num_samples).__name__}"
        )
    arr = _random_dist.multinomial(input._be.to_numpy(input), num_samples, replacement, generator)
    return _make(arr, False, input._be)
