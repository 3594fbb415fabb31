"""Indexing with lists, integer tensors and bool masks (PyTorch's advanced indexing), read and
write, and its gradients. The golden cases (tests/golden/torch_dtypes.json: ~60 index
expressions and ~25 assignments on x = arange(120).reshape(4, 5, 6)) and every literal below
come from PyTorch 2.13 (CPU); this file does not import torch."""

import re

import numpy as np
import pytest
import tapegrad as tg
from dtype_golden import check, params


@pytest.mark.parametrize("case", params("getitem"))
def test_getitem_golden(case, backend):
    check(case, backend)


@pytest.mark.parametrize("case", params("setitem"))
def test_setitem_golden(case, backend):
    check(case, backend)


def t(data, backend, **kw):
    return tg.tensor(data, backend=backend, **kw)


def grid(rows, cols, backend, **kw):
    return t(np.arange(rows * cols, dtype=np.float32).reshape(rows, cols), backend, **kw)


# ------------------------------------------------------------------ shapes


def test_int_and_list_separated_by_a_slice(backend):
    """PyTorch applies the int first (a select), so the list index stays where it is: shape
    (3, 2). NumPy would put the broadcast index dims first: (2, 3)."""
    x = t(np.arange(24, dtype=np.float32).reshape(2, 3, 4), backend)
    y = x[0, :, [1, 2]]
    assert tuple(y.shape) == (3, 2)
    assert y.tolist() == [[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]]


def test_index_results_are_copies(backend):
    x = grid(3, 4, backend)
    y = x[[0, 1]]
    y[0, 0] = -5.0
    assert x[0, 0].item() == 0.0  # an advanced index copies
    z = x[0:2]
    z[0, 0] = -5.0
    assert x[0, 0].item() == -5.0  # a slice is a view
    m = x[x > 5]
    assert m.tolist() == [6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    m[0] = 100.0
    assert x.numpy().max() == 11.0


def test_two_dim_index_tensor(backend):
    x = grid(2, 3, backend)
    y = x[t([[1, 1], [0, 1]], backend)]
    assert tuple(y.shape) == (2, 2, 3)
    assert y[0].tolist() == [[3.0, 4.0, 5.0], [3.0, 4.0, 5.0]]


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "index, exc, msg",
    [
        ("t([0, 2], backend)", IndexError, "index 2 is out of bounds for dimension 0 with size 2"),
        ("[[0, 1], [3, 0]]", IndexError, "index 3 is out of bounds for dimension 1 with size 3"),
        (
            "t([1.0], backend)",
            IndexError,
            "tensors used as indices must be long, int, byte or bool tensors",
        ),
        (
            "(slice(None), t([True, False], backend))",
            IndexError,
            "The shape of the mask [2] at index 0 does not match the shape of the indexed "
            "tensor [2, 3] at index 1",
        ),
    ],
)
def test_index_errors(index, exc, msg, backend):
    x = grid(2, 3, backend)
    idx = eval(index)
    if isinstance(idx, list):
        idx = tuple(idx)  # x[[0, 1], [3, 0]]
    with pytest.raises(exc, match=re.escape(msg)):
        x[idx]


def test_setitem_shape_mismatch(backend):
    x = grid(2, 3, backend)
    msg = "shape mismatch: value tensor of shape [3, 3] cannot be broadcast to indexing result "
    msg += "of shape [2, 3]"
    with pytest.raises(RuntimeError, match=re.escape(msg)):
        x[[0, 1]] = t(np.ones((3, 3), np.float32), backend)


# ------------------------------------------------------------------ assignment


def test_setitem_values(backend):
    x = t([[0, 1, 2], [3, 4, 5]], backend)
    x[x > 2] = t([7, 8, 9], backend)  # one value per True, in row-major order
    assert x.tolist() == [[0, 1, 2], [7, 8, 9]]
    x = t([[0, 1, 2], [3, 4, 5]], backend)
    x[:, [0, 2]] = t([[1], [2]], backend)  # broadcast to the indexed (2, 2)
    assert x.tolist() == [[1, 1, 1], [2, 4, 2]]
    x = grid(2, 3, backend)
    x[[0, 1], [1, 2]] = t(5.5, backend)
    assert x.tolist() == [[0.0, 5.5, 2.0], [3.0, 4.0, 5.5]]
    x = t([[0, 1, 2], [3, 4, 5]], backend)
    x[0] = t([1.9, -1.9, 2.5], backend)  # float values into int64: truncated toward zero
    assert x.tolist() == [[1, -1, 2], [3, 4, 5]]


def test_setitem_repeated_and_negative_indices(backend):
    x = t([0, 1, 2, 3, 4], backend)
    x[[0, 0]] = t(9, backend)
    assert x.tolist() == [9, 1, 2, 3, 4]
    x = t([0, 1, 2, 3, 4], backend)
    x[t([-1, -2], backend)] = t([7, 8], backend)
    assert x.tolist() == [0, 1, 2, 8, 7]
    x = t([0.0, 0.0, 0.0, 0.0, 0.0], backend)
    x[t([1, 3], backend)] += 1  # read, add, write back: no accumulation
    assert x.tolist() == [0.0, 1.0, 0.0, 1.0, 0.0]


# ------------------------------------------------------------------ gradients


def test_gradient_accumulates_repeated_indices(backend):
    x = t([0.0, 1.0, 2.0, 3.0, 4.0], backend, requires_grad=True)
    y = x[[0, 0, 2]]
    assert y.grad_fn.name() == "IndexBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 1.0, 0.0, 0.0]


def test_gradient_of_a_two_dim_index(backend):
    x = grid(2, 3, backend, requires_grad=True)
    y = x[t([[1, 1], [0, 1]], backend)]
    y.backward(t(np.arange(12, dtype=np.float32).reshape(2, 2, 3), backend))
    assert x.grad.tolist() == [[6.0, 7.0, 8.0], [12.0, 15.0, 18.0]]


def test_gradient_of_a_column_index_with_negatives(backend):
    x = grid(2, 3, backend, requires_grad=True)
    x[:, [2, 2, -1]].sum().backward()  # -1 is column 2 as well
    assert x.grad.tolist() == [[0.0, 0.0, 3.0], [0.0, 0.0, 3.0]]


def test_embedding_lookup(backend):
    """makemore's C[X]: rows of C picked by an int64 (n, 3) tensor; C.grad counts the picks."""
    C = t(np.arange(54, dtype=np.float32).reshape(27, 2), backend, requires_grad=True)
    X = t([[0, 0, 5], [5, 13, 13], [26, 0, 1]], backend)
    emb = C[X]
    assert tuple(emb.shape) == (3, 3, 2)
    assert emb.view(3, 6).tolist() == [
        [0.0, 1.0, 0.0, 1.0, 10.0, 11.0],
        [10.0, 11.0, 26.0, 27.0, 26.0, 27.0],
        [52.0, 53.0, 0.0, 1.0, 2.0, 3.0],
    ]
    emb.sum().backward()
    got = C.grad[[0, 1, 5, 13, 26, 2]].tolist()
    assert got == [[3.0, 3.0], [1.0, 1.0], [2.0, 2.0], [2.0, 2.0], [1.0, 1.0], [0.0, 0.0]]


def test_mask_assignment_on_a_non_leaf_is_recorded(backend):
    x = t([0.0, 1.0, 2.0, 3.0], backend, requires_grad=True)
    y = x * 2
    y[y > 2] = 0
    assert y.grad_fn.name() == "IndexPutBackward0"
    assert y.tolist() == [0.0, 2.0, 0.0, 0.0]
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 0.0, 0.0]  # no gradient through overwritten places


def test_assigned_values_get_gradients(backend):
    x = t([0.0, 1.0, 2.0, 3.0], backend)
    v = t([10.0, 20.0], backend, requires_grad=True)
    x[[1, 3]] = v  # x does not require grad; after this it does
    assert x.requires_grad and x.grad_fn.name() == "IndexPutBackward0"
    assert x.tolist() == [0.0, 10.0, 2.0, 20.0]
    x.sum().backward()
    assert v.grad.tolist() == [1.0, 1.0]


def test_assignment_into_a_leaf_that_requires_grad(backend):
    x = t([0.0, 1.0, 2.0, 3.0], backend, requires_grad=True)
    with pytest.raises(
        RuntimeError, match="^a leaf Variable that requires grad is being used in an in-place"
    ):
        x[x > 1] = 0
    # an int index makes a view first, and PyTorch's message says so
    with pytest.raises(
        RuntimeError, match="a view of a leaf Variable that requires grad is being used in an"
    ):
        x[0] = 0
