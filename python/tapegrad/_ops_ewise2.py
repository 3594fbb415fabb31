"""The rest of PyTorch's everyday elementwise surface: clamp/clip/clamp_min/clamp_max with tensor
bounds (reached from the clamp functions of _ops_ewise.py), round(decimals=), pow(number, tensor),
float_power, and the zero-gradient nodes of normal and bernoulli. Functions here, and
`_Ewise2Methods`, a base class of Tensor for the methods.

The ops are rows of the op list (clamp_tensor, round_decimals, random_grad; csrc/ops/ewise2.cpp
and the NumPy reference's kernels_ewise2.py)."""

import numpy as np

from ._grad_mode import is_grad_enabled


def _is_number(x):
    return isinstance(x, (bool, int, float, np.bool_, np.integer, np.floating))


def _type_name(x):
    from .tensor import Tensor

    return "Tensor" if isinstance(x, Tensor) else type(x).__name__


# ---------------------------------------------------------------- clamp with tensor bounds


def clamp_tensor(t, lo, hi, api, fn):
    """t clamped to tensor bounds lo and/or hi (PyTorch's clamp.Tensor, clamp_min.Tensor,
    clamp_max.Tensor). PyTorch has no overload mixing a tensor bound with a number."""
    from .tensor import Tensor, _check_same

    bounds = [b for b in (lo, hi) if b is not None]
    if not all(isinstance(b, Tensor) for b in bounds):
        got = ", ".join(["Tensor"] + [_type_name(b) for b in (lo, hi) if b is not None])
        raise TypeError(
            f"{fn}() received an invalid combination of arguments - got ({got}), but expected "
            "one of:\n * (Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = "
            "None)\n * (Tensor input, Number min = None, Number max = None, *, Tensor out = None)"
        )
    for b in bounds:
        _check_same(t, b)
    return t._be.clamp_tensor(t, lo, hi, api)


# ---------------------------------------------------------------- round(decimals=)


def _round(t, decimals):
    if decimals is None:
        return t._be.round(t)
    if isinstance(decimals, (bool, np.bool_)) or not isinstance(decimals, (int, np.integer)):
        raise TypeError(
            "round() received an invalid combination of arguments - got (Tensor, decimals="
            f"{type(decimals).__name__}), but expected one of:\n * (Tensor input, *, Tensor out "
            "= None)\n * (Tensor input, *, int decimals, Tensor out = None)"
        )
    return t._be.round_decimals(t, int(decimals))


# ---------------------------------------------------------------- the random functions' nodes

# normal's overloads by which of (mean, std) is a tensor; bernoulli(p tensor)
_NORMAL_KIND = {(True, False): 1, (False, True): 2, (True, True): 3}


def random_node(sample, a, b, kind):
    """sample (fresh, no grad) recorded as drawn from tensors a and b (None: a number) by
    PyTorch's NormalBackward1-3 (kind 1-3) or BernoulliBackward0 (4): zero gradients."""
    if not is_grad_enabled() or not any(t is not None and t.requires_grad for t in (a, b)):
        return sample
    return sample._be.random_grad(sample, a, b, kind)


def normal_node(sample, mean, std):
    from .tensor import Tensor

    t_mean, t_std = isinstance(mean, Tensor), isinstance(std, Tensor)
    kind = _NORMAL_KIND[(t_mean, t_std)]
    return random_node(sample, mean if t_mean else None, std if t_std else None, kind)


# ---------------------------------------------------------------- methods


class _Ewise2Methods:
    __slots__ = ()

    def round(self, *, decimals=None):
        """Half to even; with decimals, PyTorch's round_decimals (RoundBackward1)."""
        return _round(self, decimals)

    def round_(self, *, decimals=None):
        """In-place `round(decimals=decimals)`; returns self."""
        from ._ops_ewise import _write_back

        return _write_back(self, _round(self, decimals))

    def float_power(self, exponent):
        """Elementwise self ** exponent computed in float64: the result is float64 whatever the
        dtypes of self and `exponent` (a tensor or a number)."""
        return float_power(self, exponent)


# ---------------------------------------------------------------- functions


def round(input, *, decimals=None):  # noqa: A001 - PyTorch's name
    """Round to the nearest integer, halves to even (as PyTorch and NumPy); with `decimals`, to that
    many decimal places (negative: to tens, hundreds, ...)."""
    from .tensor import Tensor

    if not isinstance(input, Tensor):
        raise TypeError(
            f"round(): argument 'input' (position 1) must be Tensor, not {_type_name(input)}"
        )
    return _round(input, decimals)


def pow(input, exponent):  # noqa: A001
    """input ** exponent; a number base gives `exponent.__rpow__(base)`, as PyTorch's
    pow.Scalar (PowBackward2)."""
    from .tensor import Tensor

    if isinstance(input, Tensor) and (isinstance(exponent, Tensor) or _is_number(exponent)):
        return input**exponent
    if _is_number(input) and isinstance(exponent, Tensor):
        return exponent.__rpow__(input)
    raise TypeError(
        f"pow() received an invalid combination of arguments - got ({_type_name(input)}, "
        f"{_type_name(exponent)}), but expected one of:\n * (Tensor input, Tensor exponent, *, "
        "Tensor out = None)\n * (Number self, Tensor exponent, *, Tensor out = None)\n * (Tensor "
        "input, Number exponent, *, Tensor out = None)"
    )


def float_power(input, exponent):
    """pow in float64: PyTorch's composite (both operands `.to(float64)`, a number as a
    float), so the nodes are ToCopyBackward0 and PowBackward0/1/2 as there."""
    from ._dtype import float64
    from .tensor import Tensor

    t_in, t_exp = isinstance(input, Tensor), isinstance(exponent, Tensor)
    if (
        not (t_in or t_exp)
        or not (t_in or _is_number(input))
        or not (t_exp or _is_number(exponent))
    ):
        raise TypeError(
            f"float_power() received an invalid combination of arguments - got "
            f"({_type_name(input)}, {_type_name(exponent)}), but expected one of:\n * (Tensor "
            "input, Tensor exponent, *, Tensor out = None)\n * (Number self, Tensor exponent, *, "
            "Tensor out = None)\n * (Tensor input, Number exponent, *, Tensor out = None)"
        )
    base = input.to(float64) if t_in else float(input)
    exp = exponent.to(float64) if t_exp else float(exponent)
    return pow(base, exp)


# ---------------------------------------------------------------- var_mean, std_mean


def _var_mean(name, input, args, kwargs):
    """(var or std, mean) by PyTorch's var_mean / std_mean kernel (Welford's update for every
    reduction, so the mean's bits may differ from mean()'s): a plain tuple, both outputs from
    one node name (two nodes here, one per output; their gradients add at the input as
    PyTorch's node adds them)."""
    from ._ops_reduce import _var_std
    from .tensor import Tensor

    if not isinstance(input, Tensor):
        raise TypeError(
            f"{name}(): argument 'input' (position 1) must be Tensor, not {_type_name(input)}"
        )
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"{name} only support floating point and complex dtypes")
    std = name == "std_mean"

    def both(t, dims, correction, keepdim):
        be = t._be
        spread = be.var_mean(t, dims, correction, keepdim, 1 if std else 0)
        return spread, be.var_mean(t, dims, correction, keepdim, 3 if std else 2)

    return _var_std("std" if std else "var", input, args, kwargs, False, both, name)


def var_mean(input, *args, **kwargs):
    """Return (var, mean) over `dim` (all elements by default) as a tuple, computed together in one
    pass; `correction` (1, Bessel's, by default), `unbiased=` and `keepdim` as for `var`. Floating
    point input only."""
    return _var_mean("var_mean", input, args, kwargs)


def std_mean(input, *args, **kwargs):
    """Return (std, mean) over `dim` (all elements by default) as a tuple, computed together in one
    pass; `correction` (1, Bessel's, by default), `unbiased=` and `keepdim` as for `std`. Floating
    point input only."""
    return _var_mean("std_mean", input, args, kwargs)
