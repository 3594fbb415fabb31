"""The NumPy reference backend on PyTorch's dtypes, at the backend level (no front end, no torch).

Every expectation below was observed with PyTorch 2.13 (CPU) and is written in as data: result
dtypes of promotion, values bit for bit (wrapping integers, PyTorch's float-to-integer casts),
error messages, gradients in float64 and the order repeated indices accumulate in.
"""

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import _dtype
from tapegrad.backends import numpy_ref as be
from tapegrad.backends.numpy_ref.promote import result_type

NAN, INF = float("nan"), float("inf")
CODE = {d.name: d.code for d in _dtype.BY_CODE}
SHORT = {"f32": "float32", "f16": "float16", "f64": "float64", "i64": "int64", "i32": "int32",
         "i16": "int16", "i8": "int8", "u8": "uint8", "b": "bool"}  # fmt: skip


def T(values, dtype="float32", requires_grad=False):
    return be.from_numpy(np.asarray(values, dtype=dtype), requires_grad)


def check(t, want, dtype):
    """t has NumPy dtype `dtype` and exactly the values `want` (NaN where want has NaN)."""
    got = be.to_numpy(t)
    assert got.dtype == np.dtype(dtype), (got.dtype, dtype)
    np.testing.assert_array_equal(got, np.asarray(want, dtype=dtype))


@pytest.fixture
def default_float64():
    _dtype.set_default_dtype(_dtype.float64)
    yield
    _dtype.set_default_dtype(_dtype.float32)


# ------------------------------------------------------------------ promotion

# torch.result_type(A, B) for operands D<dtype> (a tensor of shape (2,)), Z<dtype> (a 0-dim
# tensor) and S<bool|int|float> (a Python True, 3, 1.5); default dtype float32, then float64.
# fmt: off
RESULT_TYPES_F32 = """
    Df32 Df32 f32   Df32 Df16 f32   Df32 Df64 f64   Df32 Di64 f32   Df32 Di32 f32   Df32 Di16 f32
    Df32 Di8 f32    Df32 Du8 f32    Df32 Db f32     Df32 Zf32 f32   Df32 Zf16 f32   Df32 Zf64 f32
    Df32 Zi64 f32   Df32 Zi32 f32   Df32 Zi16 f32   Df32 Zi8 f32    Df32 Zu8 f32    Df32 Zb f32
    Df32 Sbool f32  Df32 Sint f32   Df32 Sfloat f32  Df16 Df32 f32   Df16 Df16 f16   Df16 Df64 f64
    Df16 Di64 f16   Df16 Di32 f16   Df16 Di16 f16   Df16 Di8 f16    Df16 Du8 f16    Df16 Db f16
    Df16 Zf32 f16   Df16 Zf16 f16   Df16 Zf64 f16   Df16 Zi64 f16   Df16 Zi32 f16   Df16 Zi16 f16
    Df16 Zi8 f16    Df16 Zu8 f16    Df16 Zb f16     Df16 Sbool f16  Df16 Sint f16   Df16 Sfloat f16
    Df64 Df32 f64   Df64 Df16 f64   Df64 Df64 f64   Df64 Di64 f64   Df64 Di32 f64   Df64 Di16 f64
    Df64 Di8 f64    Df64 Du8 f64    Df64 Db f64     Df64 Zf32 f64   Df64 Zf16 f64   Df64 Zf64 f64
    Df64 Zi64 f64   Df64 Zi32 f64   Df64 Zi16 f64   Df64 Zi8 f64    Df64 Zu8 f64    Df64 Zb f64
    Df64 Sbool f64  Df64 Sint f64   Df64 Sfloat f64  Di64 Df32 f32   Di64 Df16 f16   Di64 Df64 f64
    Di64 Di64 i64   Di64 Di32 i64   Di64 Di16 i64   Di64 Di8 i64    Di64 Du8 i64    Di64 Db i64
    Di64 Zf32 f32   Di64 Zf16 f16   Di64 Zf64 f64   Di64 Zi64 i64   Di64 Zi32 i64   Di64 Zi16 i64
    Di64 Zi8 i64    Di64 Zu8 i64    Di64 Zb i64     Di64 Sbool i64  Di64 Sint i64   Di64 Sfloat f32
    Di32 Df32 f32   Di32 Df16 f16   Di32 Df64 f64   Di32 Di64 i64   Di32 Di32 i32   Di32 Di16 i32
    Di32 Di8 i32    Di32 Du8 i32    Di32 Db i32     Di32 Zf32 f32   Di32 Zf16 f16   Di32 Zf64 f64
    Di32 Zi64 i32   Di32 Zi32 i32   Di32 Zi16 i32   Di32 Zi8 i32    Di32 Zu8 i32    Di32 Zb i32
    Di32 Sbool i32  Di32 Sint i32   Di32 Sfloat f32  Di16 Df32 f32   Di16 Df16 f16   Di16 Df64 f64
    Di16 Di64 i64   Di16 Di32 i32   Di16 Di16 i16   Di16 Di8 i16    Di16 Du8 i16    Di16 Db i16
    Di16 Zf32 f32   Di16 Zf16 f16   Di16 Zf64 f64   Di16 Zi64 i16   Di16 Zi32 i16   Di16 Zi16 i16
    Di16 Zi8 i16    Di16 Zu8 i16    Di16 Zb i16     Di16 Sbool i16  Di16 Sint i16   Di16 Sfloat f32
    Di8 Df32 f32    Di8 Df16 f16    Di8 Df64 f64    Di8 Di64 i64    Di8 Di32 i32    Di8 Di16 i16
    Di8 Di8 i8      Di8 Du8 i16     Di8 Db i8       Di8 Zf32 f32    Di8 Zf16 f16    Di8 Zf64 f64
    Di8 Zi64 i8     Di8 Zi32 i8     Di8 Zi16 i8     Di8 Zi8 i8      Di8 Zu8 i8      Di8 Zb i8
    Di8 Sbool i8    Di8 Sint i8     Di8 Sfloat f32  Du8 Df32 f32    Du8 Df16 f16    Du8 Df64 f64
    Du8 Di64 i64    Du8 Di32 i32    Du8 Di16 i16    Du8 Di8 i16     Du8 Du8 u8      Du8 Db u8
    Du8 Zf32 f32    Du8 Zf16 f16    Du8 Zf64 f64    Du8 Zi64 u8     Du8 Zi32 u8     Du8 Zi16 u8
    Du8 Zi8 u8      Du8 Zu8 u8      Du8 Zb u8       Du8 Sbool u8    Du8 Sint u8     Du8 Sfloat f32
    Db Df32 f32     Db Df16 f16     Db Df64 f64     Db Di64 i64     Db Di32 i32     Db Di16 i16
    Db Di8 i8       Db Du8 u8       Db Db b         Db Zf32 f32     Db Zf16 f16     Db Zf64 f64
    Db Zi64 i64     Db Zi32 i32     Db Zi16 i16     Db Zi8 i8       Db Zu8 u8       Db Zb b
    Db Sbool b      Db Sint i64     Db Sfloat f32   Zf32 Df32 f32   Zf32 Df16 f16   Zf32 Df64 f64
    Zf32 Di64 f32   Zf32 Di32 f32   Zf32 Di16 f32   Zf32 Di8 f32    Zf32 Du8 f32    Zf32 Db f32
    Zf32 Zf32 f32   Zf32 Zf16 f32   Zf32 Zf64 f64   Zf32 Zi64 f32   Zf32 Zi32 f32   Zf32 Zi16 f32
    Zf32 Zi8 f32    Zf32 Zu8 f32    Zf32 Zb f32     Zf32 Sbool f32  Zf32 Sint f32   Zf32 Sfloat f32
    Zf16 Df32 f32   Zf16 Df16 f16   Zf16 Df64 f64   Zf16 Di64 f16   Zf16 Di32 f16   Zf16 Di16 f16
    Zf16 Di8 f16    Zf16 Du8 f16    Zf16 Db f16     Zf16 Zf32 f32   Zf16 Zf16 f16   Zf16 Zf64 f64
    Zf16 Zi64 f16   Zf16 Zi32 f16   Zf16 Zi16 f16   Zf16 Zi8 f16    Zf16 Zu8 f16    Zf16 Zb f16
    Zf16 Sbool f16  Zf16 Sint f16   Zf16 Sfloat f16  Zf64 Df32 f32   Zf64 Df16 f16   Zf64 Df64 f64
    Zf64 Di64 f64   Zf64 Di32 f64   Zf64 Di16 f64   Zf64 Di8 f64    Zf64 Du8 f64    Zf64 Db f64
    Zf64 Zf32 f64   Zf64 Zf16 f64   Zf64 Zf64 f64   Zf64 Zi64 f64   Zf64 Zi32 f64   Zf64 Zi16 f64
    Zf64 Zi8 f64    Zf64 Zu8 f64    Zf64 Zb f64     Zf64 Sbool f64  Zf64 Sint f64   Zf64 Sfloat f64
    Zi64 Df32 f32   Zi64 Df16 f16   Zi64 Df64 f64   Zi64 Di64 i64   Zi64 Di32 i32   Zi64 Di16 i16
    Zi64 Di8 i8     Zi64 Du8 u8     Zi64 Db i64     Zi64 Zf32 f32   Zi64 Zf16 f16   Zi64 Zf64 f64
    Zi64 Zi64 i64   Zi64 Zi32 i64   Zi64 Zi16 i64   Zi64 Zi8 i64    Zi64 Zu8 i64    Zi64 Zb i64
    Zi64 Sbool i64  Zi64 Sint i64   Zi64 Sfloat f32  Zi32 Df32 f32   Zi32 Df16 f16   Zi32 Df64 f64
    Zi32 Di64 i64   Zi32 Di32 i32   Zi32 Di16 i16   Zi32 Di8 i8     Zi32 Du8 u8     Zi32 Db i32
    Zi32 Zf32 f32   Zi32 Zf16 f16   Zi32 Zf64 f64   Zi32 Zi64 i64   Zi32 Zi32 i32   Zi32 Zi16 i32
    Zi32 Zi8 i32    Zi32 Zu8 i32    Zi32 Zb i32     Zi32 Sbool i32  Zi32 Sint i32   Zi32 Sfloat f32
    Zi16 Df32 f32   Zi16 Df16 f16   Zi16 Df64 f64   Zi16 Di64 i64   Zi16 Di32 i32   Zi16 Di16 i16
    Zi16 Di8 i8     Zi16 Du8 u8     Zi16 Db i16     Zi16 Zf32 f32   Zi16 Zf16 f16   Zi16 Zf64 f64
    Zi16 Zi64 i64   Zi16 Zi32 i32   Zi16 Zi16 i16   Zi16 Zi8 i16    Zi16 Zu8 i16    Zi16 Zb i16
    Zi16 Sbool i16  Zi16 Sint i16   Zi16 Sfloat f32  Zi8 Df32 f32    Zi8 Df16 f16    Zi8 Df64 f64
    Zi8 Di64 i64    Zi8 Di32 i32    Zi8 Di16 i16    Zi8 Di8 i8      Zi8 Du8 u8      Zi8 Db i8
    Zi8 Zf32 f32    Zi8 Zf16 f16    Zi8 Zf64 f64    Zi8 Zi64 i64    Zi8 Zi32 i32    Zi8 Zi16 i16
    Zi8 Zi8 i8      Zi8 Zu8 i16     Zi8 Zb i8       Zi8 Sbool i8    Zi8 Sint i8     Zi8 Sfloat f32
    Zu8 Df32 f32    Zu8 Df16 f16    Zu8 Df64 f64    Zu8 Di64 i64    Zu8 Di32 i32    Zu8 Di16 i16
    Zu8 Di8 i8      Zu8 Du8 u8      Zu8 Db u8       Zu8 Zf32 f32    Zu8 Zf16 f16    Zu8 Zf64 f64
    Zu8 Zi64 i64    Zu8 Zi32 i32    Zu8 Zi16 i16    Zu8 Zi8 i16     Zu8 Zu8 u8      Zu8 Zb u8
    Zu8 Sbool u8    Zu8 Sint u8     Zu8 Sfloat f32  Zb Df32 f32     Zb Df16 f16     Zb Df64 f64
    Zb Di64 i64     Zb Di32 i32     Zb Di16 i16     Zb Di8 i8       Zb Du8 u8       Zb Db b
    Zb Zf32 f32     Zb Zf16 f16     Zb Zf64 f64     Zb Zi64 i64     Zb Zi32 i32     Zb Zi16 i16
    Zb Zi8 i8       Zb Zu8 u8       Zb Zb b         Zb Sbool b      Zb Sint i64     Zb Sfloat f32
"""
RESULT_TYPES_F64 = """
    Df32 Sbool f32  Df32 Sint f32   Df32 Sfloat f32  Df16 Sbool f16  Df16 Sint f16   Df16 Sfloat f16
    Df64 Sbool f64  Df64 Sint f64   Df64 Sfloat f64  Di64 Sbool i64  Di64 Sint i64   Di64 Sfloat f64
    Di32 Sbool i32  Di32 Sint i32   Di32 Sfloat f64  Di16 Sbool i16  Di16 Sint i16   Di16 Sfloat f64
    Di8 Sbool i8    Di8 Sint i8     Di8 Sfloat f64  Du8 Sbool u8    Du8 Sint u8     Du8 Sfloat f64
    Db Sbool b      Db Sint i64     Db Sfloat f64   Zf32 Sbool f32  Zf32 Sint f32   Zf32 Sfloat f32
    Zf16 Sbool f16  Zf16 Sint f16   Zf16 Sfloat f16  Zf64 Sbool f64  Zf64 Sint f64   Zf64 Sfloat f64
    Zi64 Sbool i64  Zi64 Sint i64   Zi64 Sfloat f64  Zi32 Sbool i32  Zi32 Sint i32   Zi32 Sfloat f64
    Zi16 Sbool i16  Zi16 Sint i16   Zi16 Sfloat f64  Zi8 Sbool i8    Zi8 Sint i8     Zi8 Sfloat f64
    Zu8 Sbool u8    Zu8 Sint u8     Zu8 Sfloat f64  Zb Sbool b      Zb Sint i64     Zb Sfloat f64
"""
# fmt: on


def _operand(tok):
    kind, name = tok[0], tok[1:]
    if kind == "S":
        return {"bool": True, "int": 3, "float": 1.5}[name]
    return T(np.ones((2,) if kind == "D" else ()), SHORT[name])


def _table(text):
    words = text.split()
    return [tuple(words[i : i + 3]) for i in range(0, len(words), 3)]


@pytest.mark.parametrize("default", ["f32", "f64"])
def test_result_type_matches_torch(default):
    table = _table(RESULT_TYPES_F32 if default == "f32" else RESULT_TYPES_F64)
    assert len(table) == (18 * 21 if default == "f32" else 18 * 3)
    _dtype.set_default_dtype(SHORT[default])
    try:
        for a, b, want in table:
            got = result_type(_operand(a), _operand(b))
            assert got.name == SHORT[want], (a, b, got, want)
    finally:
        _dtype.set_default_dtype(_dtype.float32)


# ------------------------------------------------------------------ data observed in PyTorch

# fmt: off
U8_IN = [
    0, 6, 13, 19, 26, 32, 39, 45, 52, 58, 65, 71, 78, 84, 91, 97, 104, 110, 117, 123, 130, 136,
    143, 149, 156, 162, 169, 175, 182, 188, 195, 201, 208, 214, 221, 227, 234, 240, 247, 253
]
U8_PLUS_300 = [
    44, 50, 57, 63, 70, 76, 83, 89, 96, 102, 109, 115, 122, 128, 135, 141, 148, 154, 161, 167, 174,
    180, 187, 193, 200, 206, 213, 219, 226, 232, 239, 245, 252, 2, 9, 15, 22, 28, 35, 41
]
CAST_IN = [
    0.5, -37.79999923706055, 75.0999984741211, -112.4000015258789, 149.6999969482422, -187.0,
    224.3000030517578, -261.6000061035156, 298.8999938964844, -336.20001220703125, 373.5,
    -410.79998779296875, 448.1000061035156, -485.3999938964844, 522.7000122070312, -560.0,
    597.2999877929688, -634.5999755859375, 671.9000244140625, -709.2000122070312, 746.5,
    -783.7999877929688, 821.0999755859375, -858.4000244140625, 895.7000122070312, -933.0,
    970.2999877929688, -1007.5999755859375, 1044.9000244140625, -1082.199951171875, NAN, INF, -INF,
    3000000000.0, -3000000000.0, 1.0000000200408773e+20
]
CAST_INT8 = [
    0, -37, 75, -112, -107, 69, -32, -5, 42, -80, 117, 102, -64, 27, 10, -48, 85, -122, -97, 59,
    -22, -15, 53, -90, 127, 91, -54, 17, 20, -58, 0, 0, 0, 0, 0, 0
]
CAST_UINT8 = [
    0, 219, 75, 144, 149, 69, 224, 251, 42, 176, 117, 102, 192, 27, 10, 208, 85, 134, 159, 59, 234,
    241, 53, 166, 127, 91, 202, 17, 20, 198, 0, 0, 0, 0, 0, 0
]
CAST_INT16 = [
    0, -37, 75, -112, 149, -187, 224, -261, 298, -336, 373, -410, 448, -485, 522, -560, 597, -634,
    671, -709, 746, -783, 821, -858, 895, -933, 970, -1007, 1044, -1082, 0, 0, 0, 0, 0, 0
]
CAST_INT32 = [
    0, -37, 75, -112, 149, -187, 224, -261, 298, -336, 373, -410, 448, -485, 522, -560, 597, -634,
    671, -709, 746, -783, 821, -858, 895, -933, 970, -1007, 1044, -1082, -2147483648, -2147483648,
    -2147483648, -2147483648, -2147483648, -2147483648
]
CAST_INT64 = [
    0, -37, 75, -112, 149, -187, 224, -261, 298, -336, 373, -410, 448, -485, 522, -560, 597, -634,
    671, -709, 746, -783, 821, -858, 895, -933, 970, -1007, 1044, -1082, -9223372036854775808,
    -9223372036854775808, -9223372036854775808, 3000000000, -3000000000, -9223372036854775808
]
CAST_BOOL = [
    True, True, True, True, True, True, True, True, True, True, True, True, True, True, True, True,
    True, True, True, True, True, True, True, True, True, True, True, True, True, True, True, True,
    True, True, True, True
]
POW2_I8 = [
    0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0
]
I8_CUBED = [
    -64, 53, 56, -49, 0, -47, 72, 107, 64, -51, 24, 39, 0, -87, 40, -125, -64, -27, -8, -1, 0, 1,
    8, 27, 64, 125, -40, 87, 0, -39, -24, 51, -64, -107, -72, 47, 0, 49, -56, -53
]
IDX = [
    0, 2, 4, 1, 3, 0, 2, 4, 1, 3, 0, 2, 4, 1, 3, 0, 2, 4, 1, 3, 0, 2, 4, 1, 3, 0, 2, 4, 1, 3, 0, 2,
    4, 1, 3, 0, 2, 4, 1, 3
]
INDEX_GRAD = [
    [105.0, 107.0, 109.0], [123.0, 125.0, 127.0], [111.0, 113.0, 115.0], [129.0, 131.0, 133.0],
    [117.0, 119.0, 121.0]
]
PUT_LAST = [
    [35.0, 35.0, 35.0], [38.0, 38.0, 38.0], [36.0, 36.0, 36.0], [39.0, 39.0, 39.0], [37.0, 37.0,
    37.0]
]
PUT_ACC = [
    [141.0, 141.0, 141.0], [165.0, 165.0, 165.0], [149.0, 149.0, 149.0], [173.0, 173.0, 173.0],
    [157.0, 157.0, 157.0]
]
F16_ACC = [1.0, 0.0]
F16_INDEX_GRAD = [1.0, 0.0]
CMP_IN = [
    NAN, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, -3.0, -2.0, NAN, 0.0, 1.0, 2.0, 3.0, -3.0, -2.0, -1.0,
    0.0, NAN, 2.0, 3.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, NAN, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0,
    -3.0, NAN, -1.0, 0.0, 1.0
]
CMP_EQ_0 = [
    0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1,
    0, 0, 0, 0, 0, 0, 1, 0
]
CMP_NE_0 = [
    1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0,
    1, 1, 1, 1, 1, 1, 0, 1
]
CMP_LT_0 = [
    0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0,
    0, 0, 0, 1, 0, 1, 0, 0
]
CMP_LE_0 = [
    0, 1, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1,
    0, 0, 0, 1, 0, 1, 1, 0
]
CMP_GT_0 = [
    0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0,
    1, 1, 1, 0, 0, 0, 0, 1
]
CMP_GE_0 = [
    0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1,
    1, 1, 1, 0, 0, 0, 1, 1
]
# fmt: on

# ------------------------------------------------------------------ storage and conversion

ALL = ("float32", "float16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool")


@pytest.mark.parametrize("dtype", ALL)
def test_from_numpy_keeps_every_dtype(dtype):
    arr = (np.arange(40) % 3).astype(dtype)
    t = be.from_numpy(arr)
    assert t.dtype.name == dtype and t.dtype.code == CODE[dtype]
    check(t, arr, dtype)
    arr[0] = 2  # from_numpy copies
    assert be.to_numpy(t)[0] == 0


def test_unsupported_dtypes_and_integer_grads_are_refused():
    with pytest.raises(
        TypeError,
        match=r"can't convert np.ndarray of type numpy.uint16\. The "
        r"only supported types are: float64, float32, float16, complex64",
    ):
        be.from_numpy(np.zeros(3, np.uint16))
    for dt in ("int64", "uint8", "bool"):
        with pytest.raises(
            RuntimeError,
            match="^Only Tensors of floating point and complex dtype can require gradients$",
        ):
            be.from_numpy(np.zeros(3, dt), True)
        t = be.from_numpy(np.zeros(3, dt))
        with pytest.raises(RuntimeError, match="^only Tensors of floating point and complex"):
            t.requires_grad = True
        t.requires_grad = False
    assert be.from_numpy(np.zeros(3, np.float64), True).requires_grad


def test_from_numpy_shared_shares_memory_both_ways():
    arr = np.arange(48, dtype=np.int32).reshape(6, 8)
    t = be.from_numpy_shared(arr)
    arr[1, 2] = -5
    assert be.to_numpy(t)[1, 2] == -5
    be.fill_(be.select(t, 0, 0), 7)  # a write through a view of the tensor
    assert (arr[0] == 7).all()
    strided = arr[::2, 1::3]  # any non-negative strides
    s = be.from_numpy_shared(strided)
    assert s._strides == (16, 3)
    be.iop("add", s, 100)
    np.testing.assert_array_equal(be.to_numpy(s), strided)
    assert arr[2, 1] == 117
    with pytest.raises(
        ValueError, match="At least one stride in the given numpy array is negative"
    ):
        be.from_numpy_shared(arr[::-1])
    with pytest.raises(ValueError, match="byte order different from the native byte order"):
        be.from_numpy_shared(np.zeros(3, ">i4"))
    ro = np.zeros(40, np.float64)
    ro.flags.writeable = False
    with pytest.warns(UserWarning, match="The given NumPy array is not writable"):
        with tg.use_backend("numpy"):
            tg.from_numpy(ro)  # the front end warns, for both backends


def test_item_gives_the_python_type():
    assert be.item(T([3], "int64")) == 3 and isinstance(be.item(T([3], "int64")), int)
    assert be.item(T([True], "bool")) is True
    assert isinstance(be.item(T([0.5], "float16")), float)


# ------------------------------------------------------------------ casts


@pytest.mark.parametrize(
    "dtype, want",
    [
        ("int8", CAST_INT8),
        ("uint8", CAST_UINT8),
        ("int16", CAST_INT16),
        ("int32", CAST_INT32),
        ("int64", CAST_INT64),
        ("bool", CAST_BOOL),
    ],
)
def test_cast_float_to_integers_as_pytorch(dtype, want):
    x = T(CAST_IN, "float32")
    check(be.cast(x, CODE[dtype]), want, dtype)
    check(be.cast(be.cast(x, CODE["float64"]), CODE[dtype]), want, dtype)
    y = be.copy_(T(np.zeros(len(CAST_IN)), dtype), x)  # copy_ converts the same way
    check(y, want, dtype)


def test_cast_between_integers_floats_and_bool():
    xi = T([-1, 255, 256, 300, -129, 2**31 + 5, 2**40 + 7, -(2**63), 2**62 + 1], "int64")
    check(be.cast(xi, CODE["int32"]), [-1, 255, 256, 300, -129, -2147483643, 7, 0, 1], "int32")
    check(be.cast(xi, CODE["int8"]), [-1, -1, 0, 44, 127, 5, 7, 0, 1], "int8")
    check(be.cast(xi, CODE["uint8"]), [255, 255, 0, 44, 127, 5, 7, 0, 1], "uint8")
    check(be.cast(xi, CODE["float16"]), [-1, 255, 256, 300, -129, INF, INF, -INF, INF], "float16")
    check(be.cast(T([0.0, -0.0, NAN, 1e-30]), CODE["bool"]), [False, False, True, True], "bool")
    # float64 -> float16 rounds through float32, as c10::Half does: 1 + 2**-11 + 2**-40 -> 1.0
    check(
        be.cast(T([1 + 2**-11 + 2**-40, 65520.0], "float64"), CODE["float16"]),
        [1.0, INF],
        "float16",
    )


def test_cast_gradients_only_between_floating_dtypes():
    x = T(np.linspace(-2, 2, 40), "float32", True)
    assert not be.cast(x, CODE["int64"]).requires_grad
    y = be.cast(x, CODE["float64"])
    assert y.grad_fn.name() == "ToCopyBackward0"
    be.backward(be.sum(be.mul(y, y)), None)
    assert x.grad.dtype.name == "float32"
    check(x.grad, 2 * np.linspace(-2, 2, 40).astype(np.float32).astype(np.float64), "float32")


# ------------------------------------------------------------------ binary and scalar ops


def test_bool_arithmetic():
    a, b = T([True, False, True, False], "bool"), T([True, True, False, False], "bool")
    check(be.add(a, b), [True, True, True, False], "bool")
    check(be.mul(a, b), [True, False, False, False], "bool")
    check(be.div(a, b), [1.0, 0.0, INF, NAN], "float32")
    check(be.add_scalar(a, True), [True, True, True, True], "bool")
    check(be.mul_scalar(a, 2), [2, 0, 2, 0], "int64")
    check(be.mul_scalar(a, 2.5), [2.5, 0, 2.5, 0], "float32")
    two_bools = r"with two bool tensors is not supported. Use the `\^` or `logical_xor\(\)`"
    with pytest.raises(RuntimeError, match=two_bools):
        be.sub(a, b)
    with pytest.raises(RuntimeError, match=two_bools):
        be.rsub_scalar(a, True)
    one_bool = r"^Subtraction, the `-` operator, with a bool tensor is not supported. If you"
    with pytest.raises(RuntimeError, match=one_bool):
        be.sub(T([1, 2, 3, 4], "int64"), a)
    with pytest.raises(RuntimeError, match=one_bool):
        be.rsub_scalar(a, 1.5)
    with pytest.raises(RuntimeError, match=one_bool):
        be.rsub_scalar(T([1, 2], "int64"), True)


def test_integer_arithmetic_wraps_and_promotes():
    u = T(U8_IN, "uint8")
    check(be.add_scalar(u, 300), U8_PLUS_300, "uint8")
    check(be.add_scalar(T([1, 250], "uint8"), -1), [0, 249], "uint8")
    check(be.mul_scalar(T([1, 250], "uint8"), 300), [44, 248], "uint8")
    check(be.add_scalar(T([1, 120], "int8"), 2**40 + 5), [6, 125], "int8")
    check(be.mul(T([2**62, 3], "int64"), T([4, 5], "int64")), [0, 15], "int64")
    check(be.add(T([1, 2], "int8"), T([1, 2], "uint8")), [2, 4], "int16")
    check(be.add(T([1, 2], "int64"), T(0.5, "float64")), [1.5, 2.5], "float64")  # 0-dim
    check(be.add(T([1, 2], "float16"), T(0.5, "float64")), [1.5, 2.5], "float16")
    check(be.add_scalar(T([1, 120], "int64"), 1.5), [2.5, 121.5], "float32")
    check(be.div_scalar(T([1, 3], "int64"), 2), [0.5, 1.5], "float32")
    check(be.div(T([1, -3, 0], "int64"), T([0, 0, 0], "int64")), [INF, -INF, NAN], "float32")
    check(be.rdiv_scalar(T([1, 3, 0], "int64"), 2), [2.0, 0.6666666865348816, INF], "float32")
    check(be.rsub_scalar(T([1, 3, 0], "int64"), 2), [1, -1, 2], "int64")
    check(be.add_scalar(T([3, 1], "float16"), 70000), [INF, INF], "float16")
    with pytest.raises(OverflowError, match="int too big to convert"):
        be.add_scalar(T([1, 2], "int64"), 2**70)


def test_default_dtype_decides_int_to_float(default_float64):
    check(be.div_scalar(T([3, -2, 0], "int64"), 2), [1.5, -1.0, 0.0], "float64")
    check(be.add_scalar(T([3, -2, 0], "int64"), 1.5), [4.5, -0.5, 1.5], "float64")
    check(be.add_scalar(T([1.0], "float32"), 1.5), [2.5], "float32")
    assert be.exp(T([1, 2], "int64")).dtype.name == "float64"


def test_pow_with_integers():
    i = T([1, 3, -4], "int64")
    check(be.pow_scalar(i, 2), [1, 9, 16], "int64")
    check(be.pow_scalar(i, 0), [1, 1, 1], "int64")
    check(be.pow_scalar(i, 3), [1, 27, -64], "int64")
    check(be.pow_scalar(T([1, 4, -4], "int64"), 0.5), [1.0, 2.0, NAN], "float32")
    check(be.pow_scalar(T([1, 4, -4], "int64"), 2.0), [1.0, 16.0, 16.0], "float32")
    check(be.pow_scalar(T(np.arange(-20, 20), "int8"), 3), I8_CUBED, "int8")
    check(be.pow_scalar(T([True, False], "bool"), 2), [1, 0], "int64")
    check(be.pow_scalar(T([True, False], "bool"), True), [True, False], "bool")
    check(be.pow_scalar(T([True, False], "bool"), False), [True, True], "bool")
    with pytest.raises(
        RuntimeError, match=r"^Integers to negative integer powers are not allowed\.$"
    ):
        be.pow_scalar(i, -1)
    with pytest.raises(
        RuntimeError, match="value cannot be converted to type int without overflow"
    ):
        be.pow_scalar(T([3, 1], "int32"), 2**40)
    with pytest.raises(RuntimeError, match="value cannot be converted to type int8_t without"):
        be.pow_scalar(T([3, 1], "int8"), 300)


def test_rpow_with_integers():
    check(
        be.rpow_scalar(T([1, 4, 0, 62, 63, 64], "int64"), 2),
        [2, 16, 1, 2**62, -(2**63), 0],
        "int64",
    )
    check(be.rpow_scalar(T(np.arange(-4, 36), "int8"), 2), POW2_I8, "int8")
    check(be.rpow_scalar(T([-1, -2], "int64"), 1), [1, 1], "int64")
    check(be.rpow_scalar(T([-1, -2], "int64"), -1), [-1, 1], "int64")
    check(be.rpow_scalar(T([-1, -2], "int64"), 0), [0, 0], "int64")
    check(be.rpow_scalar(T([3, 9], "uint8"), 2), [8, 0], "uint8")
    check(be.rpow_scalar(T([1, 2], "uint8"), 300), [44, 144], "uint8")
    check(be.rpow_scalar(T([1, 4, 0], "int64"), 2.5), [2.5, 39.0625, 1.0], "float32")
    check(be.rpow_scalar(T([True, False], "bool"), 2), [2, 1], "int64")
    with pytest.raises(NotImplementedError, match="\"pow\" not implemented for 'Bool'"):
        be.rpow_scalar(T([True, False], "bool"), True)


# ------------------------------------------------------------------ unary ops and reductions


def test_unary_ops_on_integers_and_bools():
    b = T([True, False], "bool")
    i8 = T([-128, 5], "int8")
    check(be.neg(i8), [-128, -5], "int8")
    check(be.neg(T([200, 5], "uint8")), [56, 251], "uint8")
    check(be.abs(i8), [-128, 5], "int8")
    check(be.relu(T([3, -2, 0], "int64")), [3, 0, 0], "int64")
    check(be.log(b), [0.0, -INF], "float32")
    check(be.exp(T([0, 0], "uint8")), [1.0, 1.0], "float32")
    for op in ("tanh", "sigmoid", "sin", "cos"):
        assert getattr(be, op)(i8).dtype.name == "float32"
    with pytest.raises(RuntimeError, match=r"^Negation, the `-` operator, on a bool tensor is not"):
        be.neg(b)
    with pytest.raises(NotImplementedError, match="\"abs_cpu\" not implemented for 'Bool'"):
        be.abs(b)
    with pytest.raises(RuntimeError, match="^Boolean inputs not supported for relu$"):
        be.relu(b)


@pytest.mark.parametrize(
    "dtype, name",
    [
        ("bool", "Bool"),
        ("int64", "Long"),
        ("int32", "Int"),
        ("int16", "Short"),
        ("int8", "Char"),
        ("uint8", "Byte"),
    ],
)
def test_integer_reductions(dtype, name):
    x = T(np.arange(40) % 2 if dtype == "bool" else np.arange(40) * 5 % 120, dtype)
    total = int(np.asarray(be.to_numpy(x), dtype=np.int64).sum())
    check(be.sum(x), total, "int64")
    check(
        be.sum(be.view(x, (4, 10)), (1,)),
        np.asarray(be.to_numpy(x), np.int64).reshape(4, 10).sum(1),
        "int64",
    )
    msg = (
        "^mean\\(\\): could not infer output dtype. Input dtype must be either a floating "
        f"point or complex dtype. Got: {name}$"
    )
    with pytest.raises(RuntimeError, match=msg):
        be.mean(x)
    with pytest.raises(RuntimeError, match=msg):
        be.mean(x, (0,))


# ------------------------------------------------------------------ matmul, linear, losses


def _ones(shape, dtype):
    return T(np.ones(shape), dtype)


@pytest.mark.parametrize(
    "sa, da, sb, db, msg",
    [
        (
            (3,),
            "float32",
            (3,),
            "float64",
            "dot : expected both vectors to have same dtype, but found Float and Double",
        ),
        (
            (3,),
            "int16",
            (3,),
            "uint8",
            "dot : expected both vectors to have same dtype, but found Short and Byte",
        ),
        (
            (2, 3),
            "float32",
            (3,),
            "float64",
            "addmv input tensors must have the same dtype, but got Double, Float, and Double",
        ),
        (
            (4, 2, 3),
            "float32",
            (3,),
            "float64",
            "addmv input tensors must have the same dtype, but got Double, Float, and Double",
        ),
        (
            (2, 3),
            "int32",
            (3,),
            "int64",
            "addmv input tensors must have the same dtype, but got Long, Int, and Long",
        ),
        (
            (2, 3),
            "float32",
            (3, 2),
            "float64",
            "expected m1 and m2 to have the same dtype, but got: float != double",
        ),
        (
            (2, 3),
            "float16",
            (3, 2),
            "float32",
            "expected m1 and m2 to have the same dtype, but got: c10::Half != float",
        ),
        (
            (3,),
            "float32",
            (3, 2),
            "float64",
            "expected m1 and m2 to have the same dtype, but got: float != double",
        ),
        (
            (4, 2, 3),
            "float32",
            (3, 2),
            "float64",
            "expected m1 and m2 to have the same dtype, but got: float != double",
        ),
        (
            (2, 3),
            "float32",
            (3, 2),
            "int8",
            "expected m1 and m2 to have the same dtype, but got: float != signed char",
        ),
        (
            (2, 3),
            "int64",
            (3, 2),
            "float32",
            "expected m1 and m2 to have the same dtype, but got: long int != float",
        ),
        ((4, 2, 3), "float32", (4, 3, 2), "float64", "expected scalar type Float but found Double"),
        ((4, 2, 3), "int64", (4, 3, 2), "float16", "expected scalar type Long but found Half"),
        ((2, 3), "float32", (4, 3, 2), "float64", "expected scalar type Float but found Double"),
        ((3,), "float32", (4, 3, 2), "float64", "expected scalar type Float but found Double"),
    ],
)
def test_matmul_of_mixed_dtypes_is_refused(sa, da, sb, db, msg):
    with pytest.raises(RuntimeError, match="^" + msg.replace("(", r"\(") + "$"):
        be.matmul(_ones(sa, da), _ones(sb, db))


def test_integer_matmul_and_bool_refusal():
    check(
        be.matmul(T([[1, 2], [3, 4]], "int64"), T([[1, 2], [3, 2**62]], "int64")),
        [[7, -9223372036854775806], [15, 6]],
        "int64",
    )
    check(be.matmul(T([[100, 2]], "int8"), T([[3], [4]], "int8")), [[52]], "int8")
    check(be.matmul(T([[100, 2]], "uint8"), T([[3], [4]], "uint8")), [[52]], "uint8")
    check(be.matmul(T([1, 2], "int64"), T([3, 4], "int64")), 11, "int64")
    for sa, sb, kernel in [
        ((2,), (2,), "dot"),
        ((1, 2), (2,), "addmv_impl_cpu"),
        ((1, 2), (2, 1), "addmm_impl_cpu_"),
        ((2,), (2, 1), "addmm_impl_cpu_"),
        ((1, 1, 2), (1, 2, 1), "bmm"),
    ]:
        with pytest.raises(NotImplementedError, match=f"\"{kernel}\" not implemented for 'Bool'"):
            be.matmul(_ones(sa, "bool"), _ones(sb, "bool"))


def test_linear_dtypes():
    f32, f64 = "float32", "float64"
    cases = [
        (
            (2, 3),
            f32,
            f64,
            None,
            "expected m1 and m2 to have the same dtype, but got: float != double",
        ),
        (
            (5, 2, 3),
            f32,
            f64,
            None,
            "expected m1 and m2 to have the same dtype, but got: float != double",
        ),
        (
            (2, 3),
            f64,
            f32,
            None,
            "expected m1 and m2 to have the same dtype, but got: double != float",
        ),
        ((2, 3), f32, f32, f64, "self and mat2 must have the same dtype, but got Double and Float"),
        ((3,), f32, f32, f64, "self and mat2 must have the same dtype, but got Double and Float"),
        ((2, 3), f64, f64, f32, "self and mat2 must have the same dtype, but got Float and Double"),
        ((2, 3), f32, f64, f64, "mat1 and mat2 must have the same dtype, but got Float and Double"),
        (
            (5, 2, 3),
            f32,
            f64,
            f64,
            "mat1 and mat2 must have the same dtype, but got Float and Double",
        ),
        ((2, 3), f64, f32, f32, "mat1 and mat2 must have the same dtype, but got Double and Float"),
    ]
    for sx, dx, dw, db, msg in cases:
        b = None if db is None else _ones((4,), db)
        with pytest.raises(RuntimeError, match="^" + msg + "$"):
            be.linear(_ones(sx, dx), _ones((4, 3), dw), b)
    check(be.linear(T([[1, 2]], "int64"), T([[3, 4]], "int64"), T([1], "int64")), [[12]], "int64")
    with pytest.raises(NotImplementedError, match="\"addmm_impl_cpu_\" not implemented for 'Bool'"):
        be.linear(_ones((1, 1), "bool"), _ones((1, 1), "bool"))


def test_losses_promote_and_refuse_integers():
    a = T(np.linspace(-1, 1, 40), "float32", True)
    b = T(np.linspace(0, 2, 40), "float64", True)
    loss = be.mse_loss(a, b)
    assert loss.dtype.name == "float64" and loss.grad_fn.name() == "MseLossBackward0"
    be.backward(loss, None)
    assert a.grad.dtype.name == "float32" and b.grad.dtype.name == "float64"
    check(be.mse_loss(_ones((2,), "float32"), T([3, 4], "int64")), 6.5, "float32")
    check(be.l1_loss(_ones((2,), "float32"), T([3, 4], "int64")), 2.5, "float32")
    with pytest.raises(NotImplementedError, match="\"mse_cpu\" not implemented for 'Long'"):
        be.mse_loss(T([1, 2], "int64"), T([3, 4], "int64"))
    with pytest.raises(NotImplementedError, match="\"mse_cpu\" not implemented for 'Bool'"):
        be.mse_loss(T([True], "bool"), T([False], "bool"))
    check(be.l1_loss(T([1, 2], "int64"), T([3, 5], "int64"), "sum"), 5, "int64")
    check(be.l1_loss(T([1, 2], "int64"), T([3, 5], "int64"), "none"), [2, 3], "int64")
    check(be.l1_loss(T([1], "int8"), T([-128], "int8"), "none"), [127], "int8")
    check(be.l1_loss(T([1], "int8"), T([-128], "int8"), "sum"), 127, "int64")
    with pytest.raises(
        RuntimeError,
        match="Input dtype must be either a floating point or complex dtype. Got: Long",
    ):
        be.l1_loss(T([1, 2], "int64"), T([3, 5], "int64"))
    with pytest.raises(RuntimeError, match="with two bool tensors is not supported"):
        be.l1_loss(T([True], "bool"), T([False], "bool"), "none")


# ------------------------------------------------------------------ in-place ops, fill_, copy_


@pytest.mark.parametrize(
    "dtype, vals, op, other, want",
    [
        ("int64", [1, 250, -3], "add", 2, [3, 252, -1]),
        ("int64", [1, 250, -3], "add", True, [2, 251, -2]),
        ("int64", [1, 250, -3], "mul", ("int8", [2]), [2, 500, -6]),
        ("int32", [1, 250, -3], "sub", ("int64", 300), [-299, -50, -303]),
        ("uint8", [1, 250, 3], "add", ("int64", 300), [45, 38, 47]),
        ("uint8", [1, 250, 3], "sub", 2, [255, 248, 1]),
        ("uint8", [1, 250, 3], "mul", 300, [44, 248, 132]),
        ("bool", [True, False, True], "add", True, [True, True, True]),
        ("bool", [True, False, True], "mul", ("bool", [True]), [True, False, True]),
        ("float16", [1, 250, -3], "mul", ("int64", 300), [300.0, INF, -900.0]),
        ("float16", [1, 250, -3], "div", ("float64", 2.5), [0.39990234375, 100.0, -1.2001953125]),
        ("float16", [1, 250, -3], "div", 1.5, [0.66650390625, 166.625, -2.0]),
        ("float64", [1, 250, -3], "div", 1.5, [2 / 3, 250 / 1.5, -2.0]),
    ],
)
def test_inplace_values(dtype, vals, op, other, want):
    a = T(vals, dtype)
    if isinstance(other, tuple):
        other = T(other[1], other[0])
    check(be.iop(op, a, other), want, dtype)
    assert a._version == 1


@pytest.mark.parametrize(
    "dtype, op, other, msg",
    [
        ("int64", "add", 1.5, "result type Float can't be cast to the desired output type Long"),
        ("int64", "div", 2, "result type Float can't be cast to the desired output type Long"),
        (
            "int32",
            "add",
            ("float64", 2.5),
            "result type Double can't be cast to the desired output type Int",
        ),
        (
            "uint8",
            "div",
            ("int8", [2]),
            "result type Float can't be cast to the desired output type Byte",
        ),
        ("bool", "add", 2, "result type Long can't be cast to the desired output type Bool"),
        (
            "bool",
            "mul",
            ("int8", [2]),
            "result type Char can't be cast to the desired output type Bool",
        ),
        ("int64", "sub", True, "with a bool tensor is not supported"),
        ("bool", "sub", ("bool", [True]), "with two bool tensors is not supported"),
        ("float16", "sub", True, "with a bool tensor is not supported"),
    ],
)
def test_inplace_refusals(dtype, op, other, msg):
    a = T([1, 0, 1], dtype)
    if isinstance(other, tuple):
        other = T(other[1], other[0])
    with pytest.raises(RuntimeError, match=msg):
        be.iop(op, a, other)
    check(a, [1, 0, 1], dtype)
    assert a._version == 0


def test_fill_converts_as_pytorch():
    cases = [
        ("int64", 1.7, 1),
        ("int64", -1.7, -1),
        ("int8", -1, -1),
        ("uint8", -1, 255),
        ("uint8", 1.7, 1),
        ("bool", NAN, True),
        ("bool", -1.7, True),
        ("float16", 1.7, 1.7001953125),
        ("float64", 1.7, 1.7),
        ("int64", 1e10, 10**10),
        ("float16", NAN, NAN),
        ("float32", INF, INF),
    ]
    for dtype, value, want in cases:
        check(be.fill_(T(np.zeros(40), dtype), value), np.full(40, want), dtype)
    refused = [
        ("int64", NAN, "int64_t"),
        ("int32", 2**40, "int"),
        ("int8", 300, "int8_t"),
        ("uint8", -1.7, "uint8_t"),
        ("uint8", -256, "uint8_t"),
        ("int16", 40000, "int16_t"),
        ("float16", 65519.0, "c10::Half"),
        ("float32", 1e40, "float"),
    ]
    for dtype, value, name in refused:
        with pytest.raises(
            RuntimeError, match=f"^value cannot be converted to type {name} without overflow$"
        ):
            be.fill_(T(np.zeros(3), dtype), value)


def test_copy_converts_as_pytorch():
    src = T([-1.5, 300.7, NAN, 0.0], "float32")
    check(be.copy_(T(np.zeros(4), "int64"), src), [-1, 300, -(2**63), 0], "int64")
    check(be.copy_(T(np.zeros(4), "int8"), src), [-1, 44, 0, 0], "int8")
    check(be.copy_(T(np.zeros(4), "uint8"), src), [255, 44, 0, 0], "uint8")
    check(be.copy_(T(np.zeros(4), "bool"), src), [True, True, True, False], "bool")
    check(be.copy_(T(np.zeros(4), "float64"), src), [-1.5, 300.70001220703125, NAN, 0.0], "float64")
    check(be.copy_(T([0.0], "float16"), T([1 + 2**-11 + 2**-40], "float64")), [1.0], "float16")
    # into an integer tensor nothing is recorded, even from a source that requires grad
    x = be.mul_scalar(T(np.ones(3), "float32", True), 2.0)
    d = be.copy_(T(np.zeros(3), "int64"), x)
    assert not d.requires_grad and d.grad_fn is None


# ------------------------------------------------------------------ gradients in float64


def test_float64_gradients_through_every_kind_of_op():
    rng = np.random.default_rng(0)
    xv, wv = rng.normal(size=(8, 5)), rng.normal(size=(3, 5))
    x, w = T(xv, "float64", True), T(wv, "float64", True)
    y = be.linear(x, w)  # (8, 3)
    z = be.sum(be.mul(be.tanh(y), be.exp(be.mul_scalar(y, 0.5))), (1,))
    loss = be.mse_loss(z, T(np.zeros(8), "float64"))
    assert loss.dtype.name == "float64"
    be.backward(loss, None)
    assert x.grad.dtype.name == "float64" and w.grad.dtype.name == "float64"
    # the same computation written out in float64
    yv = xv @ wv.T
    zv = (np.tanh(yv) * np.exp(0.5 * yv)).sum(1)
    dz = 2 * zv / 8
    dy = dz[:, None] * (
        (1 - np.tanh(yv) ** 2) * np.exp(0.5 * yv) + np.tanh(yv) * 0.5 * np.exp(0.5 * yv)
    )
    np.testing.assert_allclose(be.to_numpy(x.grad), dy @ wv, rtol=1e-12)
    np.testing.assert_allclose(be.to_numpy(w.grad), dy.T @ xv, rtol=1e-12)


def test_float64_matmul_pow_and_views_keep_float64():
    a = T(np.arange(40.0).reshape(5, 8) / 7, "float64", True)
    b = be.transpose(a, 0, 1)
    y = be.sum(be.pow_scalar(be.matmul(a, b), 2))
    be.backward(y, None)
    av = np.arange(40.0).reshape(5, 8) / 7
    m = av @ av.T
    np.testing.assert_allclose(be.to_numpy(a.grad), 2 * (2 * m) @ av, rtol=1e-13)
    assert a.grad.dtype.name == "float64"


# ------------------------------------------------------------------ comparisons and logic


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_compare_with_nan(op):
    want = {
        "eq": CMP_EQ_0,
        "ne": CMP_NE_0,
        "lt": CMP_LT_0,
        "le": CMP_LE_0,
        "gt": CMP_GT_0,
        "ge": CMP_GE_0,
    }[op]
    x = T(CMP_IN, "float32", True)
    for other in (0, 0.0, T(0.0, "float64"), T(np.zeros(40), "float16")):
        r = getattr(be, op)(x, other)
        check(r, np.array(want, bool), "bool")
        assert not r.requires_grad and r.grad_fn is None


def test_compare_promotes_first():
    u8 = T([255], "uint8")
    check(be.eq(u8, -1), [True], "bool")  # -1 becomes uint8 255
    check(be.lt(u8, -1), [False], "bool")
    check(be.eq(u8, 511), [True], "bool")
    check(be.eq(T([-1], "int8"), T([255], "int64")), [False], "bool")
    check(be.eq(u8, T([-1], "int8")), [False], "bool")
    check(be.eq(T([0.1], "float32"), T([0.1], "float64")), [False], "bool")
    check(be.eq(T([0.1], "float32"), 0.1), [True], "bool")
    check(be.eq(T([2**24 + 1], "int64"), 16777216.0), [True], "bool")
    check(
        be.lt(T([[1.0], [2.0]]), T([1.0, 2.0, 3.0])),
        [[False, True, True], [False, False, True]],
        "bool",
    )
    with pytest.raises(
        RuntimeError,
        match=r"The size of tensor a \(2\) must match the size of "
        r"tensor b \(3\) at non-singleton dimension 0",
    ):
        be.lt(T([1.0, 2.0]), T([1.0, 2.0, 3.0]))
    with pytest.raises(OverflowError, match="int too big to convert"):
        be.eq(T([1], "int64"), 2**70)


def test_logical_ops():
    a, b = T([1.0, NAN, 3.0, -0.0, 2.0]), T([1.0, NAN, 2.0, 0.0, 5.0])
    check(be.logical_and(a, b), [True, True, True, False, True], "bool")
    check(be.logical_or(a, b), [True, True, True, False, True], "bool")
    check(be.logical_xor(a, b), [False] * 5, "bool")
    check(be.logical_and(T([True, False], "bool"), T([0.5, 0.0])), [True, False], "bool")
    check(be.logical_not(T([0.0, NAN, 2.0, -0.0])), [True, False, False, True], "bool")
    check(be.logical_not(T([0, 3], "int64")), [True, False], "bool")
    assert not be.logical_not(T([1.0, 2.0], "float32", True)).requires_grad


def test_where():
    c = T([True, False, True], "bool")
    check(be.where(c, 1, 0), [1, 0, 1], "int64")
    check(be.where(c, 1.5, 0), [1.5, 0.0, 1.5], "float32")
    check(be.where(c, True, False), [True, False, True], "bool")
    check(be.where(c, T([1, 2, 3], "int32"), 1.5), [1.0, 1.5, 3.0], "float32")
    check(be.where(c, T([1, 2, 3], "int32"), 7), [1, 7, 3], "int32")
    check(be.where(c, T([1, 2, 3], "float16"), T([1.0], "float64")), [1, 1, 3], "float64")
    check(be.where(c, T([1, 2, 3], "float16"), T(1.0, "float64")), [1, 1, 3], "float16")
    check(
        be.where(T([[True], [False]], "bool"), T([1.0, 2, 3]), T(0.0)),
        [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]],
        "float32",
    )
    for dtype, name in (("float32", "Float"), ("int64", "Long")):
        with pytest.raises(
            RuntimeError,
            match="^where expected condition to be a boolean tensor, "
            f"but got a tensor with dtype {name}$",
        ):
            be.where(T([1], dtype), T([1.0]), T([2.0]))
    with pytest.warns(UserWarning, match="where received a uint8 condition tensor"):
        check(be.where(T([1, 0], "uint8"), T([1.0, 1.0]), T([2.0, 2.0])), [1.0, 2.0], "float32")
    with pytest.raises(
        RuntimeError, match=r"size of tensor a \(2\) must match the size of tensor b \(3\)"
    ):
        be.where(T([True, False], "bool"), T([1.0, 2, 3]), T(0.0))


def test_where_gradients():
    cv = np.arange(40) % 3 == 0
    x = T(np.linspace(-1, 1, 40), "float32", True)
    y = T(np.zeros((2, 1)), "float64", True)
    w = be.where(T(cv, "bool"), x, y)  # (2, 40), float64
    assert w.dtype.name == "float64" and w.grad_fn.name() == "WhereBackward0"
    be.backward(be.sum(w), None)
    check(x.grad, 2.0 * cv, "float32")
    check(y.grad, [[26.0], [26.0]], "float64")
    z = be.where(T(cv, "bool"), x, 5.0)
    assert z.grad_fn.name() == "WhereBackward0" and z.dtype.name == "float32"


# ------------------------------------------------------------------ index and index_put


def _idx(rows):
    return T(np.asarray(rows).reshape(len(rows), -1), "int64")


def test_index_gathers_and_accumulates_repeats():
    a = T(np.zeros((5, 3)), "float64", True)
    r = be.index(a, _idx(IDX))
    assert r.shape == (40, 3) and r.grad_fn.name() == "IndexBackward0"
    be.backward(r, T(np.arange(120.0).reshape(40, 3) * 0.25, "float64"))
    check(a.grad, INDEX_GRAD, "float64")
    v = T(np.arange(12.0).reshape(3, 4))
    check(be.index(v, _idx([[0, 1], [2, 3], [0, 1]])), [1.0, 11.0, 1.0], "float32")
    check(be.index(v, _idx([2, 0, 2])), [[8, 9, 10, 11], [0, 1, 2, 3], [8, 9, 10, 11]], "float32")
    check(be.index(T(np.arange(12).reshape(3, 4), "int16"), _idx([1])), [[4, 5, 6, 7]], "int16")


def test_float16_repeats_accumulate_in_float16():
    vals = T([1.0] + [2**-11] * 40, "float16")
    idx = T(np.zeros((41, 1)), "int64")
    check(be.index_put(T(np.zeros(2), "float16"), idx, vals, True), F16_ACC, "float16")
    h = T(np.zeros(2), "float16", True)
    be.backward(be.index(h, idx), vals)
    check(h.grad, F16_INDEX_GRAD, "float16")


def test_index_put_values():
    v = T(np.repeat(np.arange(40.0), 3).reshape(40, 3), "float64")
    check(be.index_put(T(np.zeros((5, 3)), "float64"), _idx(IDX), v, False), PUT_LAST, "float64")
    check(be.index_put(T(np.ones((5, 3)), "float64"), _idx(IDX), v, True), PUT_ACC, "float64")
    last = be.index_put(T(np.zeros(40)), _idx([3] * 33), T(np.arange(33.0)), False)
    assert be.to_numpy(last)[3] == 32.0
    check(
        be.index_put(T(np.zeros(3), "int64"), _idx([0, 0]), T([5, 7], "int64"), True),
        [12, 0, 0],
        "int64",
    )
    with pytest.raises(
        RuntimeError,
        match="^Index put requires the source and destination dtypes "
        "match, got Float for the destination and Double for the source.$",
    ):
        be.index_put(T(np.zeros(3)), _idx([0]), T([1.0], "float64"), False)
    for shape in ((2,), (3,), (2, 3, 4), (1, 3, 4)):
        with pytest.raises(
            RuntimeError,
            match=r"^shape mismatch: value tensor of shape "
            rf"\[{', '.join(map(str, shape))}\] cannot be broadcast to indexing "
            r"result of shape \[3, 4\]$",
        ):
            be.index_put(T(np.zeros((3, 4))), _idx([0, 1, 2]), T(np.ones(shape)), False)


def test_index_put_gradients():
    g = T(np.arange(12.0).reshape(3, 4), "float64")
    idx = _idx([[0, 1], [2, 3], [0, 1]])
    for accumulate, want_a in (
        (False, [[0, 0, 2, 3], [4, 5, 6, 7], [8, 9, 10, 0]]),
        (True, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]),
    ):
        a = T(np.zeros((3, 4)), "float64", True)
        v = T(np.ones(3), "float64", True)
        r = be.index_put(a, idx, v, accumulate)
        assert r.grad_fn.name() == "IndexPutBackward0"
        be.backward(r, g)
        check(a.grad, want_a, "float64")
        check(v.grad, [1.0, 11.0, 1.0], "float64")
    a = T(np.zeros((3, 4)), "float64", True)
    vb = T([1.0], "float64", True)  # broadcast: its gradient is summed
    be.backward(be.index_put(a, idx, vb, False), g)
    check(vb.grad, [13.0], "float64")


def test_index_put_in_place():
    leaf = T(np.zeros((3, 4)), "float32", True)
    with pytest.raises(
        RuntimeError,
        match="^a leaf Variable that requires grad is being used in an in-place operation.$",
    ):
        be.index_put_(leaf, _idx([0]), T([5.0]), False)
    with pytest.raises(RuntimeError, match="^a view of a leaf Variable that requires grad"):
        be.index_put_(be.select(leaf, 0, 1), _idx([0]), T([5.0]), False)
    x = be.mul_scalar(leaf, 1.0)  # a non-leaf
    row = be.select(x, 0, 1)
    out = be.index_put_(row, _idx([0, 1]), T([5.0, 6.0]), False)
    assert out is row and row._version == 1
    check(x, [[0, 0, 0, 0], [5, 6, 0, 0], [0, 0, 0, 0]], "float32")
    assert x.grad_fn.name() == "CopySlices"
    be.backward(be.sum(x), None)
    check(leaf.grad, [[1, 1, 1, 1], [0, 0, 1, 1], [1, 1, 1, 1]], "float32")
    b = T([False, False, False], "bool")
    check(be.index_put_(b, _idx([0, 2]), T(True, "bool"), False), [True, False, True], "bool")
    acc = T(np.zeros(4), "int64")
    be.index_put_(acc, _idx([1] * 40), T(np.arange(40), "int64"), True)
    check(acc, [0, 780, 0, 0], "int64")
