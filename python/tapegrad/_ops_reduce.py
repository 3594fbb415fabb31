"""max/min, amax/amin, argmax/argmin, var/std, logsumexp and cumsum, and the keyword aliases
PyTorch's argument parser accepts on every reduction (`axis=` for `dim=`, `keepdims=` for
`keepdim=`): the functions, and `_Reductions`, the Tensor methods (a base class of Tensor).

The ops are rows of the op list (max_all, max_dim, amax, argmax, ...; ops/reduce_select.cpp and
the NumPy reference's kernels_select.py); this module only shapes their arguments and raises
PyTorch's errors for what never reaches them."""

import numpy as np

from . import return_types
from ._dtype import dtype_arg
from ._tensor_args import _norm_dim, _norm_dims

_ALIASES = {"axis": "dim", "keepdims": "keepdim"}

# PyTorch's overloads, for its "invalid combination of arguments" message: (method, function).
_SIGS = {
    "max": (
        ("()", "(Tensor other)", "(int dim, bool keepdim = False)"),
        (
            "(Tensor input, *, Tensor out = None)",
            "(Tensor input, Tensor other, *, Tensor out = None)",
            "(Tensor input, int dim, bool keepdim = False, *, tuple of Tensors out = None)",
        ),
    ),
    "sum": (
        (
            "(*, torch.dtype dtype = None)",
            "(tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None)",
        ),
        (
            "(Tensor input, *, torch.dtype dtype = None)",
            "(Tensor input, tuple of ints dim, bool keepdim = False, *, torch.dtype dtype = None, "
            "Tensor out = None)",
        ),
    ),
    "amax": (
        ("(tuple of ints dim = (), bool keepdim = False)",),
        ("(Tensor input, tuple of ints dim = (), bool keepdim = False, *, Tensor out = None)",),
    ),
    "argmax": (
        ("(int dim = None, bool keepdim = False)",),
        ("(Tensor input, int dim = None, bool keepdim = False, *, Tensor out = None)",),
    ),
    "cumsum": (
        ("(int dim, *, torch.dtype dtype = None)",),
        ("(Tensor input, int dim, *, torch.dtype dtype = None, Tensor out = None)",),
    ),
}
_SIGS["logsumexp"] = (
    ("(tuple of ints dim, bool keepdim = False)",),
    ("(Tensor input, tuple of ints dim, bool keepdim = False, *, Tensor out = None)",),
)
_SIGS["var"] = (
    (
        "(tuple of ints dim = None, *, Number correction = None, bool keepdim = False)",
        "(tuple of ints dim, bool unbiased = True, bool keepdim = False)",
        "(bool unbiased = True)",
    ),
    (
        "(Tensor input, tuple of ints dim = None, *, Number correction = None, "
        "bool keepdim = False, Tensor out = None)",
        "(Tensor input, tuple of ints dim, bool unbiased = True, bool keepdim = False, *, "
        "Tensor out = None)",
        "(Tensor input, bool unbiased = True)",
    ),
)
_SIGS["std"] = _SIGS["var"]
_SIGS["min"] = _SIGS["max"]
_SIGS["mean"] = _SIGS["sum"]
_SIGS["amin"] = _SIGS["amax"]
_SIGS["argmin"] = _SIGS["argmax"]


def _tname(x):
    from .tensor import Tensor

    if isinstance(x, Tensor):
        return "Tensor"
    return type(x).__name__


def _invalid(name, method, args, kwargs):
    pos = [_tname(a) for a in args]
    if not method:
        pos.insert(0, "Tensor")
    kws = [f"{k}={_tname(v)}" for k, v in sorted(kwargs.items())]
    got = ", ".join(pos) + "".join(", " + k for k in kws) if pos else "".join(k + ", " for k in kws)
    sigs = _SIGS[name][0 if method else 1]
    lines = "".join(f" * {s}\n" for s in sigs)
    return TypeError(
        f"{name}() received an invalid combination of arguments - got ({got}), but expected one "
        f"of:\n{lines}"
    )


def _parse(name, method, args, kwargs, names, required=0):
    """Bind args/kwargs to the parameter `names` (aliases resolved), as PyTorch's parser."""
    if len(args) > len(names):
        raise _invalid(name, method, args, kwargs)
    bound = dict(zip(names, args))
    for k, v in kwargs.items():
        k2 = _ALIASES.get(k, k)
        if k2 in bound:  # given twice: by position (no overload fits), or by two keywords
            if names.index(k2) < len(args):
                raise _invalid(name, method, args, kwargs)
            raise TypeError(f"{name}() got an unexpected keyword argument '{k}'")
        if k2 not in names and k2 != "dtype":
            raise _invalid(name, method, args, kwargs)
        bound[k2] = v
    if len([n for n in names[:required] if n in bound]) < required:
        missing = names[len(args) : required]
        if missing:
            raise TypeError(f'{name}() missing 1 required positional arguments: "{missing[0]}"')
    return bound


def _is_int(x):
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _need_tensor(name, x):
    from .tensor import Tensor

    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")


def _nonempty(name, t, dims):
    for d in dims:
        if t.ndim and t.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


# ---------------------------------------------------------------- max / min


def _max_min(name, t, args, kwargs, method):
    from .tensor import Tensor

    b = _parse(name, method, args, kwargs, ("dim", "keepdim", "other"))
    if "dtype" in b:
        raise _invalid(name, method, args, kwargs)
    dim, other = b.get("dim"), b.get("other")
    if isinstance(dim, Tensor) and other is None and "dim" in b:
        dim, other = None, dim
        if "keepdim" in b:
            raise _invalid(name, method, args, kwargs)
    if other is not None:
        if not isinstance(other, Tensor) or dim is not None or "keepdim" in b:
            raise _invalid(name, method, args, kwargs)
        import tapegrad

        fn = getattr(tapegrad, "maximum" if name == "max" else "minimum", None)
        if fn is None:
            raise NotImplementedError(f"{name}(input, other) needs tapegrad.maximum/minimum")
        return fn(t, other)
    if dim is None:
        if "keepdim" in b or "dim" in b:
            raise _invalid(name, method, args, kwargs)
        if t.numel() == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return getattr(t._be, name + "_all")(t)
    if not _is_int(dim):
        raise _invalid(name, method, args, kwargs)
    d = _norm_dim(dim, t.ndim)
    _nonempty(name, t, (d,))
    keepdim = bool(b.get("keepdim", False))
    values = getattr(t._be, name + "_dim")(t, d, keepdim)
    indices = getattr(t._be, "arg" + name)(t.detach(), d, keepdim)
    return getattr(return_types, name)(values, indices)


def _amax_amin(name, t, args, kwargs, method):
    b = _parse(name, method, args, kwargs, ("dim", "keepdim"))
    if "dtype" in b:
        raise _invalid(name, method, args, kwargs)
    dim = b.get("dim", ())
    if _is_int(dim):
        dim = (dim,)
    if not isinstance(dim, (tuple, list)) or not all(_is_int(d) for d in dim):
        raise _invalid(name, method, args, kwargs)
    seen = set()
    for d in dim:
        n = _norm_dim(d, t.ndim)
        if n in seen:
            raise RuntimeError(f"dim {n} appears multiple times in the list of dims")
        seen.add(n)
    dims = _norm_dims(list(dim), t.ndim)
    if dims is None:
        if t.numel() == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
    else:
        _nonempty(name, t, dims)
    return getattr(t._be, name)(t, dims, bool(b.get("keepdim", False)))


def _argmax_argmin(name, t, args, kwargs, method):
    b = _parse(name, method, args, kwargs, ("dim", "keepdim"))
    if "dtype" in b:
        raise _invalid(name, method, args, kwargs)
    dim = b.get("dim")
    if dim is not None and not _is_int(dim):
        raise _invalid(name, method, args, kwargs)
    if t.dtype.name == "bool":
        raise RuntimeError(f"{name}(): does not support bool input")
    keepdim = bool(b.get("keepdim", False))
    if dim is None:
        if t.numel() == 0:
            raise IndexError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
            )
        r = getattr(t._be, name)(t, None, False)
        return r.reshape((1,) * t.ndim) if keepdim else r
    d = _norm_dim(dim, t.ndim)
    _nonempty(name, t, (d,))
    return getattr(t._be, name)(t, d, keepdim)


# ---------------------------------------------------------------- var, std


def _var_std(name, t, args, kwargs, method, op=None, label=None):
    """var or std (or `op`, called as var is, named `label`: _ops_ewise2's var_mean) of t for
    PyTorch's overloads."""
    if args and isinstance(args[0], bool):  # the (bool unbiased) overload
        if len(args) > 1 or any(_ALIASES.get(k, k) != "unbiased" for k in kwargs):
            raise _invalid(name, method, args, kwargs)
        b = {"unbiased": args[0]}
    else:
        b = _parse(name, method, args, kwargs, ("dim", "unbiased", "keepdim", "correction"))
        if "dtype" in b or len(args) > 3:
            raise _invalid(name, method, args, kwargs)
    dim, unbiased, correction = b.get("dim"), b.get("unbiased"), b.get("correction")
    if dim is not None and not (
        _is_int(dim) or (isinstance(dim, (tuple, list)) and all(_is_int(d) for d in dim))
    ):
        raise _invalid(name, method, args, kwargs)
    if unbiased is not None and correction is not None:
        raise RuntimeError(f"{name}: can't specify both unbiased and correction")
    if correction is None:
        correction = 0 if unbiased is False else 1
    if not t.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dims = _norm_dims(dim, t.ndim)
    n = t.numel()
    if dims:
        n = 1
        for d in dims:
            n *= t.shape[d]
    if n - correction <= 0:
        import warnings

        warnings.warn(
            f"{label or name}(): degrees of freedom is <= 0. Correction should be strictly less "
            "than the reduction factor (input numel divided by output numel).",
            UserWarning,
            stacklevel=3,
        )
    if op is None:
        op = t._be.std_dev if name == "std" else t._be.var
    return op(t, dims, float(correction), bool(b.get("keepdim", False)))


# ---------------------------------------------------------------- logsumexp, cumsum, sum, mean


def _logsumexp(t, args, kwargs, method):
    b = _parse("logsumexp", method, args, kwargs, ("dim", "keepdim"), required=1)
    if "dtype" in b:
        raise _invalid("logsumexp", method, args, kwargs)
    dim = b["dim"]
    if _is_int(dim):
        dim = (dim,)
    if not isinstance(dim, (tuple, list)) or not all(_is_int(d) for d in dim):
        raise TypeError(
            "logsumexp(): argument 'dim' (position 1) must be tuple of ints, not "
            f"{type(b['dim']).__name__}"
        )
    seen = set()
    for d in dim:
        n = _norm_dim(d, t.ndim)
        if n in seen:
            raise RuntimeError(f"dim {n} appears multiple times in the list of dims")
        seen.add(n)
    keepdim = bool(b.get("keepdim", False))
    if not dim and t.ndim and not keepdim:  # PyTorch 2.13's own failure for an empty dim list
        raise RuntimeError(f"output with shape [] doesn't match the broadcast shape {[1] * t.ndim}")
    if not t.dtype.is_floating_point:
        from ._dtype import get_default_dtype

        t = t.to(get_default_dtype())
    return t._be.logsumexp(t, _norm_dims(list(dim), t.ndim), keepdim)


def _cumsum(t, args, kwargs, method):
    b = _parse("cumsum", method, args, kwargs, ("dim",), required=1)
    dim = b.get("dim")
    if not _is_int(dim):
        raise _invalid("cumsum", method, args, kwargs)
    dt = b.get("dtype")
    code = None if dt is None else dtype_arg(dt, "cumsum").code
    return t._be.cumsum(t, _norm_dim(dim, t.ndim), code)


def _sum_mean(name, t, args, kwargs, method):
    b = _parse(name, method, args, kwargs, ("dim", "keepdim"))
    dim, dt = b.get("dim"), b.get("dtype")
    if dim is not None and not (
        _is_int(dim) or (isinstance(dim, (tuple, list)) and all(_is_int(d) for d in dim))
    ):
        raise _invalid(name, method, args, kwargs)
    if dt is not None:
        dt = dtype_arg(dt, name)
        if name == "mean" and not dt.is_floating_point:
            raise RuntimeError(
                "mean(): could not infer output dtype. Optional dtype must be either a floating "
                f"point or complex dtype. Got: {_torch_name(dt)}"
            )
        t = t.to(dt)
    op = getattr(t._be, name)
    return op(t, _norm_dims(dim, t.ndim), bool(b.get("keepdim", False)))


def _torch_name(dt):
    names = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
             "bool": "Bool", "float16": "Half", "float32": "Float",
             "float64": "Double"}  # fmt: skip
    return names.get(dt.name, dt.name)


class _Reductions:
    """The Tensor methods of this module."""

    __slots__ = ()

    def max(self, *args, **kwargs):
        """max() gives the largest element (a 0-dim tensor); max(dim, keepdim=False) gives the named
        tuple (values, indices) along `dim`; max(other) is `maximum(other)`."""
        return _max_min("max", self, args, kwargs, True)

    def min(self, *args, **kwargs):
        """min() gives the smallest element (a 0-dim tensor); min(dim, keepdim=False) gives the
        named tuple (values, indices) along `dim`; min(other) is `minimum(other)`."""
        return _max_min("min", self, args, kwargs, True)

    def amax(self, *args, **kwargs):
        """The maximum over `dim` (an int or a tuple; all dims by default). Unlike max(dim), it
        returns the values only and its gradient is shared evenly among ties."""
        return _amax_amin("amax", self, args, kwargs, True)

    def amin(self, *args, **kwargs):
        """The minimum over `dim` (an int or a tuple; all dims by default). Unlike min(dim), it
        returns the values only and its gradient is shared evenly among ties."""
        return _amax_amin("amin", self, args, kwargs, True)

    def argmax(self, *args, **kwargs):
        """The index (int64) of the largest element: into the flattened tensor when `dim` is None,
        else along `dim`. Ties give the first index; bool input is refused, as in PyTorch."""
        return _argmax_argmin("argmax", self, args, kwargs, True)

    def argmin(self, *args, **kwargs):
        """The index (int64) of the smallest element: into the flattened tensor when `dim` is None,
        else along `dim`. Ties give the first index; bool input is refused, as in PyTorch."""
        return _argmax_argmin("argmin", self, args, kwargs, True)

    def cumsum(self, *args, **kwargs):
        """Cumulative sum along `dim`; integer and bool inputs give int64 unless `dtype` is set."""
        return _cumsum(self, args, kwargs, True)

    def logsumexp(self, *args, **kwargs):
        """log(sum(exp(self))) over `dim` (an int or a tuple), computed stably by shifting by the
        maximum."""
        return _logsumexp(self, args, kwargs, True)

    def var(self, *args, **kwargs):
        """Variance over `dim` (all elements by default), dividing by N - correction: `correction=1`
        (Bessel's) by default; `unbiased=False` means correction 0."""
        return _var_std("var", self, args, kwargs, True)

    def std(self, *args, **kwargs):
        """Standard deviation over `dim` (all elements by default), dividing by N - correction:
        `correction=1` (Bessel's) by default; `unbiased=False` means correction 0."""
        return _var_std("std", self, args, kwargs, True)

    def sum(self, *args, **kwargs):
        """The sum of all elements, or over `dim` (an int or a tuple). Integer and bool inputs sum
        in int64 unless `dtype` is given."""
        if not args and not kwargs:  # the common call, kept as cheap as before
            return self._be.sum(self, None, False)
        return _sum_mean("sum", self, args, kwargs, True)

    def mean(self, *args, **kwargs):
        """The mean of all elements, or over `dim` (an int or a tuple). It needs a floating input or
        a floating `dtype`, as in PyTorch."""
        if not args and not kwargs:
            return self._be.mean(self, None, False)
        return _sum_mean("mean", self, args, kwargs, True)


def _function(name, impl):
    def f(input, *args, **kwargs):
        _need_tensor(name, input)
        return impl(input, args, kwargs, False)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"tapegrad.{name}(input, ...): PyTorch's torch.{name} (as input.{name}(...))."
    return f


max = _function("max", lambda t, a, k, m: _max_min("max", t, a, k, m))  # noqa: A001
min = _function("min", lambda t, a, k, m: _max_min("min", t, a, k, m))  # noqa: A001
amax = _function("amax", lambda t, a, k, m: _amax_amin("amax", t, a, k, m))
amin = _function("amin", lambda t, a, k, m: _amax_amin("amin", t, a, k, m))
argmax = _function("argmax", lambda t, a, k, m: _argmax_argmin("argmax", t, a, k, m))
argmin = _function("argmin", lambda t, a, k, m: _argmax_argmin("argmin", t, a, k, m))
cumsum = _function("cumsum", _cumsum)
logsumexp = _function("logsumexp", _logsumexp)
var = _function("var", lambda t, a, k, m: _var_std("var", t, a, k, m))
std = _function("std", lambda t, a, k, m: _var_std("std", t, a, k, m))
sum = _function("sum", lambda t, a, k, m: _sum_mean("sum", t, a, k, m))  # noqa: A001
mean = _function("mean", lambda t, a, k, m: _sum_mean("mean", t, a, k, m))
