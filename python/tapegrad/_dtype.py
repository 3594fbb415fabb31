"""The two dtypes tapegrad stores: float32 (default) and float16."""

import numpy as np


class dtype:
    __slots__ = ("name", "code", "np", "itemsize", "is_floating_point")

    def __init__(self, name, code, np_dtype):
        self.name = name
        self.code = code
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.is_floating_point = True

    def __repr__(self):
        return f"tapegrad.{self.name}"

    __str__ = __repr__

    def __reduce__(self):
        return (_by_name, (self.name,))


float32 = dtype("float32", 0, np.float32)
float16 = dtype("float16", 1, np.float16)
float = float32  # noqa: A001 - PyTorch's alias
half = float16

BY_CODE = (float32, float16)
_NAMES = {"float32": float32, "float": float32, "float16": float16, "half": float16}


def _by_name(name):
    return _NAMES[name]


def to_dtype(d):
    """Accept a tapegrad dtype, a NumPy dtype/type or a name; return the tapegrad dtype."""
    if isinstance(d, dtype):
        return d
    if isinstance(d, str):
        found = _NAMES.get(d.replace("torch.", "").replace("tapegrad.", ""))
        if found is not None:
            return found
        raise TypeError(f"unsupported dtype {d!r}: tapegrad stores float32 and float16")
    try:
        nd = np.dtype(d)
    except TypeError:
        raise TypeError(f"unsupported dtype {d!r}: tapegrad stores float32 and float16") from None
    if nd == np.float32:
        return float32
    if nd == np.float16:
        return float16
    raise TypeError(f"unsupported dtype {d!r}: tapegrad stores float32 and float16")
