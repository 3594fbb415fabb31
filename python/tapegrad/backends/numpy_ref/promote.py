"""PyTorch's dtype rules for the numpy backend: type promotion (`result_type`), the conversion of
values between dtypes (`convert`), of Python numbers into a dtype (`wrap_scalar`, `checked_scalar`)
and the dtype names PyTorch prints in its errors.

Categories: bool < integer < floating. `result_type` follows ATen's ResultTypeState: operands are
grouped by priority (tensors with dims, 0-dim tensors, Python numbers), each group promotes within
itself, and a lower-priority group only matters when it is of a higher category; a Python float
then stands for the default dtype, a Python int for int64, a 0-dim tensor for its own dtype.
"""

import numpy as np

from tapegrad import _dtype
from tapegrad._dtype import BY_CODE, get_default_dtype, promote_types

BY_NP = {d.np: d for d in BY_CODE}

# ScalarType names (errors such as "result type Float can't be cast ...")
TORCH_NAME = {"float32": "Float", "float16": "Half", "float64": "Double", "int64": "Long",
              "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
              "bool": "Bool"}  # fmt: skip
# C++ type names (matmul's "expected m1 and m2 to have the same dtype")
CPP_NAME = {"float32": "float", "float16": "c10::Half", "float64": "double", "int64": "long int",
            "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char",
            "bool": "bool"}  # fmt: skip
# names in "value cannot be converted to type ... without overflow"
CHECKED_NAME = dict(CPP_NAME, int64="int64_t", int16="int16_t", int8="int8_t", uint8="uint8_t")


def dtype_of(x):
    """The tapegrad dtype of an ndarray, a NumPy dtype or a tapegrad dtype."""
    if isinstance(x, _dtype.dtype):
        return x
    return BY_NP[np.dtype(getattr(x, "dtype", x))]


def torch_name(x):
    return TORCH_NAME[dtype_of(x).name]


def is_float(x):
    return dtype_of(x).is_floating_point


def category(x):
    return dtype_of(x)._cat


def number(s):
    """A Python bool, int or float (NumPy scalars accepted); ints must fit PyTorch's argument
    parsing (int64, or uint64 for large positive values)."""
    if isinstance(s, (bool, np.bool_)):
        return bool(s)
    if isinstance(s, (int, np.integer)):
        s = int(s)
        if not -(1 << 63) <= s < (1 << 64):
            raise OverflowError("int too big to convert")
        return s
    if isinstance(s, (float, np.floating)):
        return float(s)
    raise TypeError(f"expected a Python number, got {type(s).__name__}")


def _scalar_dtype(s):
    if isinstance(s, bool):
        return _dtype.bool
    if isinstance(s, int):
        return _dtype.int64
    return get_default_dtype()


def _combine(higher, lower):
    """ATen's combine_categories: the lower-priority dtype counts only from a higher category."""
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is _dtype.bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def result_type(*operands):
    """PyTorch's result dtype of an op on `operands`: tensors (anything with `_arr`) and Python
    numbers."""
    groups = [None, None, None]  # tensors with dims, 0-dim tensors, Python numbers
    for x in operands:
        arr = getattr(x, "_arr", None)
        if arr is None:
            level, d = 2, _scalar_dtype(number(x))
        else:
            level, d = (0 if arr.ndim else 1), dtype_of(arr)
        groups[level] = d if groups[level] is None else promote_types(groups[level], d)
    return _combine(groups[0], _combine(groups[1], groups[2]))


# ---------------------------------------------------------------- values between dtypes


def _float_to_int(x, dt):
    """PyTorch's CPU float -> integer conversion (x86): truncate toward 0; int64 and int32 take
    their minimum for NaN, infinities and out-of-range values; the narrower integers go through
    int32 and keep its low bits (300.7 -> int8 44, -1.5 -> uint8 255, 3e9 -> int16 0)."""
    t = np.trunc(np.asarray(x, dtype=np.float64))
    bits = 64 if dt == np.int64 else 32
    lo = -(2.0 ** (bits - 1))
    with np.errstate(invalid="ignore"):
        ok = (t >= lo) & (t < -lo)
    wide = np.where(ok, t, lo).astype(np.int64)
    return wide.astype(dt)  # integer narrowing keeps the low bits (two's complement)


def convert(x, dt):
    """`x` (an ndarray) converted to NumPy dtype `dt` as PyTorch's `to` converts: anything to
    bool is `!= 0` (NaN is True); float to integer as `_float_to_int`; integers wrap; float64
    and int64 reach float16 through float32 (c10::Half is made from a float: two roundings)."""
    dt = np.dtype(dt)
    x = np.asarray(x)
    if x.dtype == dt:
        return x.copy()
    if dt == np.bool_:
        return x != 0
    if dt.kind in "iu" and x.dtype.kind == "f":
        return _float_to_int(x, dt)
    if dt == np.float16 and x.dtype.itemsize > 4 or dt == np.float16 and x.dtype.kind in "iu":
        x = x.astype(np.float32)
    return x.astype(dt)


def wrap_scalar(s, dt):
    """Python number s as a NumPy scalar of dtype dt, the way an op's scalar operand is
    converted: integers keep their low bits (uint8 + 300 adds 44), floats round."""
    dt = np.dtype(dt)
    if dt == np.bool_:
        return np.bool_(s != 0)
    if dt.kind in "iu":
        if isinstance(s, float):
            return _float_to_int(np.float64(s), dt)[()]
        return np.array(int(s) & ((1 << 64) - 1), dtype=np.uint64).astype(dt)[()]
    if dt == np.float16:
        return np.float16(np.float32(s))
    return dt.type(s)


def checked_scalar(s, dt):
    """Python number s as dtype dt, or PyTorch's overflow error (fill_, integer exponents):
    c10's checked conversion. Unsigned targets accept negative ints down to -max (they wrap)."""
    dt = np.dtype(dt)
    name = CHECKED_NAME[dtype_of(dt).name]
    err = RuntimeError(f"value cannot be converted to type {name} without overflow")
    if dt == np.bool_:
        return np.bool_(s != 0)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        if isinstance(s, float):
            if s != s or not info.min <= s <= info.max:
                raise err
            return dt.type(int(s))  # truncates toward 0
        s = int(s)
        if s > info.max or (s < info.min and not (dt.kind == "u" and -s <= info.max)):
            raise err
        return wrap_scalar(s, dt)
    v = float(s)
    top = float(np.finfo(dt).max)
    if v == v and abs(v) != float("inf") and abs(v) > top:
        raise err
    return wrap_scalar(v, dt)
