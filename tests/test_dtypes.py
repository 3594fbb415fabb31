"""Dtypes as PyTorch has them: names and aliases, the default dtype, type promotion, casts, the
factories' dtypes and reductions. The golden cases (tests/golden/torch_dtypes.json) and every
literal below come from PyTorch 2.13 (CPU); this file does not import torch."""

import numpy as np
import pytest
import tapegrad as tg
from dtype_golden import check, params

NAMES = ("float32", "float16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool")


def dt(name):
    return getattr(tg, name)


# ------------------------------------------------------------------ golden cases


@pytest.mark.parametrize("case", params("promote"))
def test_tensor_tensor_promotion(case, backend):
    """Every dtype pair, dimensioned and 0-dim operands: a 0-dim tensor only decides the dtype
    when its category (bool < integer < floating) is higher than the dimensioned one's."""
    check(case, backend)


@pytest.mark.parametrize("case", params("scalar"))
def test_tensor_python_scalar(case, backend):
    """Python bool/int/float operands: the int -1 wraps to 255 for uint8 tensors."""
    check(case, backend)


@pytest.mark.parametrize("case", params("floordiv"))
def test_floor_divide_and_remainder(case, backend):
    """`//` and `%` round toward minus infinity and take the divisor's sign, as Python does."""
    check(case, backend)


@pytest.mark.parametrize("case", params("cast"))
def test_cast(case, backend):
    check(case, backend)


@pytest.mark.parametrize("case", params("cast", ub=True))
def test_cast_out_of_range_float_to_int(case, backend):
    """NaN, inf and out-of-range floats to integers: undefined in C++; x86-64 PyTorch converts to
    int32 (int64 for int64), giving INT_MIN on overflow, then keeps the low bits."""
    check(case, backend)


@pytest.mark.parametrize("case", params("reduce"))
def test_reduction_dtypes(case, backend):
    """sum of integers and bools is int64; mean needs a floating dtype; any/all of uint8 stay
    uint8, of every other dtype give bool."""
    check(case, backend)


# ------------------------------------------------------------------ dtype objects


def test_aliases_are_the_same_objects():
    assert tg.float is tg.float32 and tg.half is tg.float16 and tg.double is tg.float64
    assert tg.long is tg.int64 and tg.int is tg.int32 and tg.short is tg.int16


def test_dtype_attributes():
    assert tg.float16.itemsize == 2 and tg.int64.itemsize == 8 and tg.bool.itemsize == 1
    assert tg.float64.is_floating_point and not tg.int32.is_floating_point
    assert not tg.bool.is_floating_point
    assert tg.int8.is_signed and not tg.uint8.is_signed and not tg.bool.is_signed


# PyTorch's promote_types, row x column in NAMES order (torch.promote_types on every pair).
PROMOTE = """
float32 float32 float32 float64 float32 float32 float32 float32 float32 float32
float16 float32 float16 float64 float16 float16 float16 float16 float16 float16
float64 float64 float64 float64 float64 float64 float64 float64 float64 float64
int64   float32 float16 float64 int64   int64   int64   int64   int64   int64
int32   float32 float16 float64 int64   int32   int32   int32   int32   int32
int16   float32 float16 float64 int64   int32   int16   int16   int16   int16
int8    float32 float16 float64 int64   int32   int16   int8    int16   int8
uint8   float32 float16 float64 int64   int32   int16   int16   uint8   uint8
bool    float32 float16 float64 int64   int32   int16   int8    uint8   bool
"""


@pytest.mark.parametrize("row", PROMOTE.strip().splitlines(), ids=lambda r: r.split()[0])
def test_promote_types(row):
    a, *want = row.split()
    for b, w in zip(NAMES, want):
        assert tg.promote_types(dt(a), dt(b)) is dt(w), (a, b)


def test_result_type(backend):
    i8 = tg.tensor([1], dtype=tg.int8, backend=backend)
    u8 = tg.tensor([1], dtype=tg.uint8, backend=backend)
    assert tg.result_type(i8, 2.5) is tg.float32  # a Python float: the default dtype
    assert tg.result_type(u8, -1) is tg.uint8  # a Python int never widens an integer tensor
    assert tg.result_type(tg.tensor([True], backend=backend), 2) is tg.int64
    assert tg.result_type(tg.tensor([True], backend=backend), True) is tg.bool
    assert tg.result_type(2, tg.tensor([1], dtype=tg.int16, backend=backend)) is tg.int16
    f16 = tg.tensor([1.0], dtype=tg.float16, backend=backend)
    assert tg.result_type(f16, 1e10) is tg.float16  # even if the value overflows
    # a 0-dim tensor of a higher category decides; of the same category it does not
    assert tg.result_type(i8, tg.tensor(1.5, dtype=tg.float64, backend=backend)) is tg.float64
    assert tg.result_type(tg.tensor([1.0], backend=backend), tg.tensor(1, backend=backend)) is (
        tg.float32
    )
    zero_dim = (tg.tensor(1, dtype=tg.int8, backend=backend), tg.tensor(1, backend=backend))
    assert tg.result_type(*zero_dim) is tg.int64  # only 0-dim tensors: plain promotion


# ------------------------------------------------------------------ default dtype


@pytest.fixture
def default_float64():
    tg.set_default_dtype(tg.float64)
    yield
    tg.set_default_dtype(tg.float32)


def test_default_dtype_is_float32():
    assert tg.get_default_dtype() is tg.float32


def test_set_default_dtype(backend, default_float64):
    assert tg.get_default_dtype() is tg.float64
    assert tg.tensor([1.5], backend=backend).dtype is tg.float64
    assert tg.tensor([1], backend=backend).dtype is tg.int64  # integers are not affected
    one = tg.tensor([1], backend=backend)
    assert (one / 2).dtype is tg.float64 and (one * 2.5).dtype is tg.float64
    with tg.use_backend(backend):
        assert tg.arange(0.0, 5).dtype is tg.float64
        assert tg.zeros(2).dtype is tg.float64 and tg.full((2,), 2.5).dtype is tg.float64


def test_set_default_dtype_rejects_integers():
    with pytest.raises(TypeError, match="only floating-point types are supported as the default"):
        tg.set_default_dtype(tg.int64)
    assert tg.get_default_dtype() is tg.float32


# ------------------------------------------------------------------ factories


def test_tensor_infers_dtype(backend):
    def kind(data):
        return tg.tensor(data, backend=backend).dtype

    assert kind([1, 2]) is tg.int64 and kind(3) is tg.int64 and kind([[1], [2]]) is tg.int64
    assert kind([True]) is tg.bool and kind(True) is tg.bool
    assert kind([1.5]) is tg.float32 and kind([1, 2.5]) is tg.float32 and kind([]) is tg.float32
    assert kind([True, 2]) is tg.int64
    # NumPy data keeps its dtype, even a NumPy float64 scalar inside a list
    assert kind(np.array([1.5])) is tg.float64 and kind(np.array([1], np.int32)) is tg.int32
    assert kind(np.float64(2.5)) is tg.float64 and kind([np.float64(2.5)]) is tg.float64
    assert kind(np.array(True)) is tg.bool


def test_tensor_with_dtype(backend):
    t = tg.tensor([1.7, -1.7], dtype=tg.int64, backend=backend)
    assert t.dtype is tg.int64 and t.tolist() == [1, -1]  # truncated toward zero
    assert tg.tensor([0, 2], dtype=tg.bool, backend=backend).tolist() == [False, True]


def test_from_numpy_keeps_dtype_and_shares_memory(backend):
    for npd, name in ((np.float64, "float64"), (np.int32, "int32"), (np.uint8, "uint8")):
        arr = np.arange(3, dtype=npd)
        with tg.use_backend(backend):
            t = tg.from_numpy(arr)
        assert t.dtype is dt(name)
        arr[0] = 7  # NumPy writes are seen by the tensor
        assert t.tolist()[0] == 7
        t[1] = 5  # tensor writes are seen by the array
        assert arr[1] == 5
    arr = np.array([True, False])
    with tg.use_backend(backend):
        t = tg.from_numpy(arr)
    assert t.dtype is tg.bool
    arr[1] = True
    assert t.tolist() == [True, True]


def test_arange_dtypes(backend):
    with tg.use_backend(backend):
        assert tg.arange(5).dtype is tg.int64 and tg.arange(5).tolist() == [0, 1, 2, 3, 4]
        assert tg.arange(0.0, 5).dtype is tg.float32
        assert tg.arange(0, 5, 0.5).dtype is tg.float32
        assert tg.arange(5, dtype=tg.float64).dtype is tg.float64
        t = tg.arange(1, 4, dtype=tg.uint8)
        assert t.dtype is tg.uint8 and t.tolist() == [1, 2, 3]


def test_filled_factories(backend):
    with tg.use_backend(backend):
        assert tg.full((2,), 7).dtype is tg.int64  # an int fill value: int64, as PyTorch
        assert tg.full((2,), True).dtype is tg.bool
        assert tg.full((2,), 2.5).dtype is tg.float32
        assert tg.full((2,), 7, dtype=tg.float16).dtype is tg.float16
        z = tg.zeros(2, dtype=tg.int64)
        assert z.dtype is tg.int64 and z.tolist() == [0, 0]
        o = tg.ones(2, 3, dtype=tg.bool)
        assert o.dtype is tg.bool and o.tolist() == [[True] * 3] * 2
        assert tg.zeros(2).dtype is tg.float32
        k = tg.tensor([1, 2])
        assert tg.zeros_like(k).dtype is tg.int64
        assert tg.ones_like(k, dtype=tg.float64).dtype is tg.float64


def test_item_and_tolist_give_python_types(backend):
    assert type(tg.tensor([3], backend=backend).item()) is int
    assert type(tg.tensor([True], backend=backend).item()) is bool
    assert type(tg.tensor([3.0], backend=backend).item()) is float
    assert tg.tensor([True], backend=backend).tolist() == [True]
    assert type(tg.tensor([1, 2], backend=backend).tolist()[0]) is int


# ------------------------------------------------------------------ gradients and dtypes


def test_integer_tensors_cannot_require_grad(backend):
    msg = "Only Tensors of floating point and complex dtype can require gradients"
    with pytest.raises(RuntimeError, match=msg):
        tg.tensor([1, 2], requires_grad=True, backend=backend)
    with pytest.raises(RuntimeError, match=msg), tg.use_backend(backend):
        tg.zeros(2, dtype=tg.int64, requires_grad=True)
    # requires_grad_() words it differently in PyTorch
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require"):
        tg.tensor([1, 2], backend=backend).requires_grad_()
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require"):
        tg.tensor([True], backend=backend).requires_grad_()
    assert tg.tensor([1.0], dtype=tg.float16, backend=backend).requires_grad_().requires_grad


def test_gradient_through_an_integer_operand(backend):
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True, backend=backend)
    k = tg.tensor([2, 0, -1], backend=backend)
    y = x * k
    assert y.dtype is tg.float32 and y.grad_fn.name() == "MulBackward0"
    y.sum().backward()
    assert x.grad.dtype is tg.float32 and x.grad.tolist() == [2.0, 0.0, -1.0]


def test_casts_and_the_graph(backend):
    x = tg.tensor([1.0, 2.0, 3.0], requires_grad=True, backend=backend)
    y = x.to(tg.int64)  # an integer result leaves the graph
    assert not y.requires_grad and y.grad_fn is None
    z = x.double()
    assert z.requires_grad and z.grad_fn.name() == "ToCopyBackward0"
    (z * z).sum().backward()
    assert x.grad.dtype is tg.float32 and x.grad.tolist() == [2.0, 4.0, 6.0]
    assert x.half().grad_fn.name() == "ToCopyBackward0"


def test_in_place_cannot_cast_the_result(backend):
    k = tg.tensor([1, 2], backend=backend)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output"):
        k += 1.5
    assert k.tolist() == [1, 2]  # unchanged
    b = tg.tensor([True, False], backend=backend)
    with pytest.raises(RuntimeError, match="result type Long can't be cast to the desired output"):
        b += 1
