"""Comparisons, logic, masks, where, masked_fill, nonzero and truth values, as PyTorch has them.
The golden cases (tests/golden/torch_dtypes.json) and every literal below come from PyTorch 2.13
(CPU); this file does not import torch."""

import math
import re

import pytest
import tapegrad as tg
from dtype_golden import check, params


@pytest.mark.parametrize("case", params("compare"))
def test_compare_golden(case, backend):
    check(case, backend)


def t(data, backend, **kw):
    return tg.tensor(data, backend=backend, **kw)


# ------------------------------------------------------------------ comparisons


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_operator_and_method_agree(op, backend):
    a = t([1.0, 2.0, 3.0], backend)
    b = t([3.0, 2.0, 1.0], backend)
    want = {
        "eq": [False, True, False],
        "ne": [True, False, True],
        "lt": [True, False, False],
        "le": [True, True, False],
        "gt": [False, False, True],
        "ge": [False, True, True],
    }[op]
    sym = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}[op]
    for got in (getattr(a, op)(b), getattr(tg, op)(a, b), eval(f"a {sym} b")):
        assert got.dtype is tg.bool and got.tolist() == want


def test_scalar_on_the_left(backend):
    assert (1 < t([0, 1, 2], backend)).tolist() == [False, False, True]
    assert (2 == t([0, 2], backend)).tolist() == [False, True]


def test_comparisons_broadcast_and_promote(backend):
    assert (t([1, 2], backend) == t([1.0, 3.0], backend)).tolist() == [True, False]
    got = t([[1], [2]], backend) < t([1, 2, 3], backend)
    assert got.tolist() == [[False, True, True], [False, False, True]]
    msg = (
        "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"
    )
    with pytest.raises(RuntimeError, match=re.escape(msg)):
        _ = t([1, 2], backend) < t([1, 2, 3], backend)


def test_nan_compares_unequal(backend):
    nan = math.nan
    assert (t([1.0, nan], backend) != t([1.0, nan], backend)).tolist() == [False, True]
    assert (t([1.0, nan], backend) == t([1.0, nan], backend)).tolist() == [True, False]


def test_comparison_results_leave_the_graph(backend):
    x = t([1.0, 2.0], backend, requires_grad=True)
    r = x > 1
    assert r.dtype is tg.bool and not r.requires_grad and r.grad_fn is None


def test_equal(backend):
    assert tg.equal(t([1, 2], backend), t([1.0, 2.0], backend)) is True  # across dtypes
    assert tg.equal(t([1.0], backend), t([[1.0]], backend)) is False  # shapes differ
    assert tg.equal(t([1.0, math.nan], backend), t([1.0, math.nan], backend)) is False


def test_accuracy_idiom(backend):
    pred = t([0, 2, 1, 1], backend)
    y = t([0, 1, 1, 1], backend)
    acc = (pred == y).float().mean()
    assert acc.dtype is tg.float32 and acc.item() == 0.75
    correct = (pred == y).sum()
    assert correct.dtype is tg.int64 and correct.item() == 3 and type(correct.item()) is int


# ------------------------------------------------------------------ logic and reductions


def test_mask_operators(backend):
    m = t([True, False, True, False], backend)
    n = t([True, True, False, False], backend)
    assert (~m).tolist() == [False, True, False, True]
    assert (m & n).tolist() == [True, False, False, False]
    assert (m | n).tolist() == [True, True, True, False]
    assert (m ^ n).tolist() == [False, True, True, False]
    assert tg.logical_xor(m, n).tolist() == [False, True, True, False]


def test_any_all(backend):
    m = t([[False, True], [False, False]], backend)
    assert tg.any(m, dim=1).tolist() == [True, False]
    assert tg.all(t([[True, True], [False, True]], backend), dim=0).tolist() == [False, True]
    x = t([1.0, 2.0], backend)
    got = x.eq(x).all()
    assert got.dtype is tg.bool and got.shape == () and got.item() is True
    empty = t([], backend)
    assert empty.all().item() is True and empty.any().item() is False


# ------------------------------------------------------------------ truth values and hashing


def test_bool_of_one_element(backend):
    assert bool(t([0.0], backend)) is False
    assert bool(t(2, backend)) is True
    assert bool(t([[math.nan]], backend)) is True
    if t([3], backend) > 2:  # a one-element comparison works in an if
        pass
    else:
        pytest.fail("tensor([3]) > 2 is false")


def test_bool_of_several_or_no_elements_is_ambiguous(backend):
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is"):
        bool(t([1.0, 2.0], backend))
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is"):
        if t([1, 2], backend) > 0:
            pass
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
        bool(t([], backend))


def test_hash_is_identity(backend):
    a = t([1.0], backend)
    b = t([1.0], backend)  # equal values, a different tensor
    d = {a: 1, b: 2}
    assert len(d) == 2 and d[a] == 1 and d[b] == 2
    assert a in {a} and b not in {a}
    assert hash(a) == hash(a)


# ------------------------------------------------------------------ gradients


def test_masked_fill_gradient(backend):
    x = t([1.0, -2.0, 3.0, -4.0], backend, requires_grad=True)
    m = t([True, False, False, True], backend)
    y = x.masked_fill(m, 0.5)
    assert y.grad_fn.name() == "MaskedFillBackward0"
    assert y.tolist() == [0.5, -2.0, 3.0, 0.5]
    y.backward(t([1.0, 2.0, 3.0, 4.0], backend))
    assert x.grad.tolist() == [0.0, 2.0, 3.0, 0.0]


def test_masked_fill_with_a_tensor_value(backend):
    """A 0-dim tensor value gets the gradient of every filled place; PyTorch names the node
    MaskedFillBackward1 then."""
    x = t([1.0, -2.0, 3.0, -4.0], backend, requires_grad=True)
    v = t(-2.0, backend, requires_grad=True)
    m = t([True, False, False, True], backend)
    y = x.masked_fill(m, v)
    assert y.grad_fn.name() == "MaskedFillBackward1"
    assert y.tolist() == [-2.0, -2.0, 3.0, -2.0]
    y.backward(t([1.0, 2.0, 3.0, 4.0], backend))
    assert x.grad.tolist() == [0.0, 2.0, 3.0, 0.0]
    assert v.grad.shape == () and v.grad.item() == 5.0


def test_where_gradient_with_broadcasting(backend):
    a = t([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], backend, requires_grad=True)
    b = t([10.0, 20.0, 30.0], backend, requires_grad=True)
    c = t([[True, False, True], [False, False, True]], backend)
    y = tg.where(c, a, b)
    assert y.grad_fn.name() == "WhereBackward0"
    assert y.tolist() == [[1.0, 20.0, 3.0], [10.0, 20.0, 6.0]]
    y.backward(t([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], backend))
    assert a.grad.tolist() == [[1.0, 0.0, 3.0], [0.0, 0.0, 6.0]]
    assert b.grad.tolist() == [4.0, 7.0, 0.0]  # summed over the broadcast dim


def test_where_with_a_scalar_branch(backend):
    a = t([1.0, -2.0, 3.0], backend, requires_grad=True)
    y = tg.where(a > 0, a, 0.0)  # relu by hand
    assert y.grad_fn.name() == "WhereBackward0"
    (y * y).sum().backward()
    assert a.grad.tolist() == [2.0, 0.0, 6.0]


@pytest.mark.parametrize("other", [2, 2.5, True])
def test_logical_ops_take_tensors_only(other):
    # PyTorch 2.13's messages: the method names position 1, the function position 2
    x = tg.ones(3)
    for name in ("logical_and", "logical_or", "logical_xor"):
        kind = type(other).__name__
        with pytest.raises(
            TypeError,
            match=rf"^{name}\(\): argument 'other' \(position 1\) must be Tensor, not {kind}$",
        ):  # noqa: E501
            getattr(x, name)(other)
        with pytest.raises(TypeError, match=r"\(position 2\) must be Tensor"):
            getattr(tg, name)(x, other)


def test_bool_mask_operators_take_a_python_bool():
    m = tg.tensor([True, False, True])
    assert (m & True).tolist() == [True, False, True]
    assert (m | False).tolist() == [True, False, True]
    assert (m ^ True).tolist() == [False, True, False]
