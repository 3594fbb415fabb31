"""x[index] = value: basic indices (ints, slices, None, ...) on both backends, as PyTorch 2.13 does
it (expectations observed there). Advanced indices are not supported yet."""

import numpy as np
import pytest
import tapegrad as tg


def test_assignment_writes_through_the_indexed_view(backend, dtype):
    x = tg.zeros(3, 4, dtype=dtype, backend=backend)
    row = x[1]
    x[0] = 5
    x[:, 1:] = tg.ones(3, dtype=dtype, backend=backend)
    x[1, 2] = 7.0
    want = [[5, 1, 1, 1], [0, 1, 7, 1], [0, 1, 1, 1]]
    np.testing.assert_array_equal(x.numpy(), np.array(want, dtype=dtype.np))
    np.testing.assert_array_equal(row.numpy(), np.array(want[1], dtype=dtype.np))  # an alias


def test_assignment_broadcasts_a_tensor_and_counts_one_version(backend):
    z = tg.zeros(2, 3, backend=backend)
    z[...] = tg.tensor([1.0, 2.0, 3.0], backend=backend)
    np.testing.assert_array_equal(z.numpy(), [[1, 2, 3], [1, 2, 3]])
    assert z._version == 1


def test_float16_value_rounds_once(backend):
    h = tg.zeros(3, dtype=tg.float16, backend=backend)
    h[1] = 1.7
    assert h.numpy()[1] == np.float16(1.7)  # 1.7002, as PyTorch prints


def test_assignment_is_recorded_as_copyslices(backend):
    a = tg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True, backend=backend)
    w = tg.tensor([1.0, -1.0, 2.0, 0.5], requires_grad=True, backend=backend)
    y = a * 2
    y[1] = w
    assert y.grad_fn.name() in ("CopySlices", "torch::autograd::CopySlices")
    y.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[2] * 4, [0] * 4, [2] * 4])
    np.testing.assert_array_equal(w.grad.numpy(), [1, 1, 1, 1])


def test_assignment_into_a_leaf_that_requires_grad(backend):
    a = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, backend=backend)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        a[0] = 1
    with tg.no_grad():
        a[0] = 0  # the usual way to set weights by hand
    np.testing.assert_array_equal(a.detach().numpy(), [[0, 0], [3, 4]])


@pytest.mark.parametrize(
    "value, error, message",
    [
        ([4, 5, 6], TypeError, "can't assign a list to a torch.FloatTensor"),
        (
            np.array([1.0, 2.0, 3.0]),
            TypeError,
            "can't assign a numpy.ndarray to a torch.FloatTensor",
        ),
        (
            "ones2",
            RuntimeError,
            "The expanded size of the tensor (3) must match the existing size (2)",
        ),
    ],
)
def test_bad_values(backend, value, error, message):
    z = tg.zeros(2, 3, backend=backend)
    if isinstance(value, str):
        value = tg.ones(2, backend=backend)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        z[0] = value


def test_index_out_of_range(backend):
    z = tg.zeros(2, 3, backend=backend)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 2"):
        z[5] = 1
