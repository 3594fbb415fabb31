"""tapegrad's dtypes, PyTorch's names and codes shared with the C++ core (csrc/core/tensor.h).

The codes are the C++ `tg::DType` values. float32 and float16 are the fast dtypes; float64 and the
integer and bool dtypes are computed by plain loops (docs/design.md, Dtypes).
"""

import builtins

import numpy as np


class dtype:
    """A tensor element type, such as `tapegrad.float32`: PyTorch's `torch.dtype`. It has `itemsize`
    (bytes), `is_floating_point` and `is_signed`; tapegrad has no complex dtypes."""

    __slots__ = ("name", "code", "np", "itemsize", "is_floating_point", "is_signed", "_cat")

    def __init__(self, name, code, np_dtype, cat):
        self.name = name
        self.code = code
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.is_floating_point = cat == 2
        self.is_signed = name not in ("uint8", "bool")
        self._cat = cat  # promotion category: 0 bool, 1 integer, 2 floating

    def __repr__(self):
        return f"torch.{self.name}"  # PyTorch's spelling: programs print it

    __str__ = __repr__

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_complex(self):
        """Raise TypeError: tapegrad has no complex dtypes (PyTorch returns the matching complex
        dtype)."""
        raise TypeError("tapegrad has no complex dtypes")


float32 = dtype("float32", 0, np.float32, 2)
float16 = dtype("float16", 1, np.float16, 2)
float64 = dtype("float64", 2, np.float64, 2)
int64 = dtype("int64", 3, np.int64, 1)
int32 = dtype("int32", 4, np.int32, 1)
int16 = dtype("int16", 5, np.int16, 1)
int8 = dtype("int8", 6, np.int8, 1)
uint8 = dtype("uint8", 7, np.uint8, 1)
bool = dtype("bool", 8, np.bool_, 0)  # noqa: A001 - PyTorch's name
# PyTorch's aliases
float = float32  # noqa: A001
half = float16
double = float64
long = int64
int = int32  # noqa: A001
short = int16

BY_CODE = (float32, float16, float64, int64, int32, int16, int8, uint8, bool)
# PyTorch's scalar type names in its messages ("expected scalar type Float but found Double")
_TORCH = ("Float", "Half", "Double", "Long", "Int", "Short", "Char", "Byte", "Bool")
TORCH_NAMES = dict(zip((d.name for d in BY_CODE), _TORCH))
_NAMES = {d.name: d for d in BY_CODE}
_NAMES.update(float=float32, half=float16, double=float64, long=int64, int=int32, short=int16)
_BY_NP = {d.np: d for d in BY_CODE}
_SUPPORTED = "float32, float16, float64, int64, int32, int16, int8, uint8 and bool"


def _by_name(name):
    return _NAMES[name]


def to_dtype(d):
    """Accept a tapegrad dtype, a NumPy dtype/type, a Python type or a name; return the dtype."""
    if isinstance(d, dtype):
        return d
    if d is builtins.float:  # PyTorch maps Python's types to these
        return float64
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool
    if isinstance(d, str):
        found = _NAMES.get(d.replace("torch.", "").replace("tapegrad.", ""))
        if found is not None:
            return found
        raise TypeError(f"unsupported dtype {d!r}: tapegrad has {_SUPPORTED}")
    try:
        nd = np.dtype(d)
    except TypeError:
        raise TypeError(f"unsupported dtype {d!r}: tapegrad has {_SUPPORTED}") from None
    found = _BY_NP.get(nd.newbyteorder("=")) if nd.kind in "fiub" else None
    if found is None:
        raise TypeError(f"unsupported dtype {d!r}: tapegrad has {_SUPPORTED}")
    return found


# PyTorch's default floating dtype (set_default_dtype): what Python floats and float factories make.
_default = [float32]


def get_default_dtype():
    return _default[0]


def set_default_dtype(d):
    d = to_dtype(d)
    if d not in (float32, float64, float16):
        raise TypeError("only floating-point types are supported as the default type")
    _default[0] = d
    for listener in _listeners:
        listener(d)


_listeners = []  # backends that keep their own copy (the C++ core)


def promote_types(a, b):
    """PyTorch's promote_types: the smallest dtype both convert to without losing the category."""
    a, b = to_dtype(a), to_dtype(b)
    if a is b:
        return a
    if a._cat != b._cat:
        return a if a._cat > b._cat else b
    if a._cat == 2:  # float16 < float32 < float64
        order = (float16, float32, float64)
        return order[max(order.index(a), order.index(b))]
    if a is bool:
        return b
    if b is bool:
        return a
    signed = (int8, int16, int32, int64)
    if a is uint8 or b is uint8:
        other = b if a is uint8 else a
        return int16 if other is int8 else other
    return signed[max(signed.index(a), signed.index(b))]


def dtype_arg(d, fn):
    """A `dtype=` argument as PyTorch takes it: a tapegrad dtype, or Python's float/int/bool
    (float64, int64, bool); anything else is PyTorch's TypeError."""
    if isinstance(d, dtype):
        return d
    if d is builtins.float or d is builtins.int or d is builtins.bool:
        return to_dtype(d)
    raise TypeError(f"{fn}(): argument 'dtype' must be torch.dtype, not {type(d).__name__}")
