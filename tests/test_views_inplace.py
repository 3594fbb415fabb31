"""Autograd through in-place changes of views (PyTorch's CopySlices semantics).

Changing a view in place changes its base: the base's history becomes a CopySlices node (its old
history outside the view's positions, the in-place op's inside), the view's own history and that
of every other view of the base are remade on top of it (AsStridedBackward0). Expectations are
PyTorch 2.13's (checked by running these tests against PyTorch).
"""

import numpy as np
import pytest
import tapegrad as tg
from tolerances import assert_close

VIEW_OF_LEAF = (
    "a view of a leaf Variable that requires grad is being used in an in-place operation."
)
LEAF = "a leaf Variable that requires grad is being used in an in-place operation."
MODIFIED = "one of the variables needed for gradient computation has been modified by an inplace"
A = np.arange(1.0, 7.0).reshape(2, 3)  # [[1, 2, 3], [4, 5, 6]]
W = np.array([[1.0, 2, 3], [4, 5, 6]])  # loss weights


def node_name(node):
    return node.name()


def grad_fn_name(t):
    return None if t.grad_fn is None else node_name(t.grad_fn)


def _np(dtype):
    return np.float16 if dtype == tg.float16 else np.float32


@pytest.fixture
def mk(backend, dtype):
    """mk(data, requires_grad=False): a tensor of the test's backend and dtype."""

    def make(data, requires_grad=False, dt=None):
        return tg.tensor(
            np.asarray(data, dtype=np.float64),
            dtype=dt or dtype,
            requires_grad=requires_grad,
            backend=backend,
        )

    return make


def _eq(t, want):
    np.testing.assert_array_equal(
        t.detach().numpy(), np.asarray(want, dtype=t.detach().numpy().dtype)
    )


# ------------------------------------------------------------------ CopySlices


def test_inplace_on_a_view_of_a_non_leaf_counts(mk):
    a = mk(np.ones(3), requires_grad=True)
    x = a * 2
    v = x.view(3)
    assert grad_fn_name(v) == "ViewBackward0" and v._base is x
    v.mul_(3)
    assert grad_fn_name(x) == "CopySlices" and grad_fn_name(v) == "AsStridedBackward0"
    assert not x.is_leaf and x.requires_grad and x._version == v._version == 1
    _eq(x, [6.0, 6, 6])
    x.sum().backward()
    _eq(a.grad, [6.0, 6, 6])  # not 2: the multiplication through the view is on the tape


def test_inplace_on_a_select(mk):
    a = mk(A, requires_grad=True)
    y = a * 2
    y[0].mul_(3)
    assert grad_fn_name(y) == "CopySlices"
    _eq(y, [[6.0, 12, 18], [8, 10, 12]])
    y.sum().backward()
    _eq(a.grad, [[6.0, 6, 6], [2, 2, 2]])


def test_view_taken_before_an_inplace_on_the_base(mk):
    a = mk(A, requires_grad=True)
    x = a * 2
    v = x[0]
    assert grad_fn_name(v) == "SelectBackward0"
    x.mul_(3)
    assert grad_fn_name(v) == "AsStridedBackward0"  # remade over x's new history
    _eq(v, [6.0, 12, 18])
    v.sum().backward()
    _eq(a.grad, [[6.0, 6, 6], [0, 0, 0]])


def test_inplace_on_a_view_then_backward_through_the_view(mk):
    a = mk(A, requires_grad=True)
    x = a * 2
    v = x[0]
    v.mul_(3)
    assert grad_fn_name(v) == "AsStridedBackward0" and grad_fn_name(x) == "CopySlices"
    v.sum().backward()
    _eq(a.grad, [[6.0, 6, 6], [0, 0, 0]])


def test_add_of_a_tensor_requiring_grad_into_a_view(mk):
    a = mk(A, requires_grad=True)
    w = mk([10.0, 20, 30], requires_grad=True)
    y = a * 2
    y[1:].add_(w)
    assert grad_fn_name(y) == "CopySlices"
    _eq(y, [[2.0, 4, 6], [18, 30, 42]])
    (y * mk(W)).sum().backward()
    _eq(a.grad, 2 * W)
    _eq(w.grad, W[1])


def test_zero_and_fill_on_a_view_of_a_non_leaf(mk):
    a = mk(A, requires_grad=True)
    y = a * 2
    y[0].zero_()
    assert grad_fn_name(y) == "CopySlices"
    (y * y).sum().backward()
    _eq(a.grad, [[0.0, 0, 0], [32, 40, 48]])
    b = mk(A, requires_grad=True)
    z = b * 2
    z[:, 1].fill_(7)
    assert grad_fn_name(z) == "CopySlices"
    _eq(z, [[2.0, 7, 6], [8, 7, 12]])
    (z * z).sum().backward()
    _eq(b.grad, [[8.0, 0, 24], [32, 0, 48]])


def test_copy_into_a_view_of_zeros(mk):
    w = mk([1.0, 2, 3], requires_grad=True)
    z = mk(np.zeros((2, 3)))
    z[1].copy_(w)
    assert grad_fn_name(z) == "CopySlices" and z.requires_grad and not z.is_leaf
    _eq(z, [[0.0, 0, 0], [1, 2, 3]])
    (z * mk(W)).sum().backward()
    _eq(w.grad, [4.0, 5, 6])


def test_copy_broadcasts_into_a_view(mk):
    w = mk([[1.0], [2.0]], requires_grad=True)
    z = mk(np.zeros((2, 3)))
    z[:, 1:].copy_(w)
    _eq(z, [[0.0, 1, 1], [0, 2, 2]])
    (z * mk(W)).sum().backward()
    _eq(w.grad, [[5.0], [11.0]])


def test_copy_casts_into_a_view(backend):
    w = tg.tensor([1.0, 2, 3], dtype=tg.float16, requires_grad=True, backend=backend)
    z = tg.zeros(2, 3, backend=backend)
    z[0].copy_(w)
    assert z.dtype == tg.float32 and grad_fn_name(z) == "CopySlices"
    (z * 2).sum().backward()
    assert w.grad.dtype == tg.float16
    _eq(w.grad, [2.0, 2, 2])


def test_copy_of_a_constant_into_a_view_cuts_the_gradient(mk):
    a = mk(A, requires_grad=True)
    x = a * 2
    x[0].copy_(mk([7.0, 8, 9]))
    x.sum().backward()
    _eq(a.grad, [[0.0, 0, 0], [2, 2, 2]])


def test_inplace_into_a_base_that_does_not_require_grad(mk):
    w = mk([1.0, 2, 3], requires_grad=True)
    b = mk(np.zeros((2, 3)))
    v = b[0]
    v.add_(w)
    assert b.requires_grad and not b.is_leaf and grad_fn_name(b) == "CopySlices"
    assert v.requires_grad and grad_fn_name(v) == "AsStridedBackward0"
    b.sum().backward()
    _eq(w.grad, [1.0, 1, 1])
    c = mk(np.zeros((2, 3)))  # nothing requires grad: nothing is recorded
    c[0].add_(1)
    assert not c.requires_grad and c.grad_fn is None and c.is_leaf


def test_inplace_on_a_view_of_a_view(mk):
    a = mk(A, requires_grad=True)
    x = a * 1
    x[1:][0].mul_(5)
    assert grad_fn_name(x) == "CopySlices"
    x.sum().backward()
    _eq(a.grad, [[1.0, 1, 1], [5, 5, 5]])


def test_inplace_through_a_transpose(mk):
    a = mk(A, requires_grad=True)
    x = a * 1
    x.T.mul_(mk([[1.0], [2], [3]]))
    x.sum().backward()
    _eq(a.grad, [[1.0, 2, 3], [1, 2, 3]])


def test_augmented_assignment_on_a_view(mk):
    a = mk(A, requires_grad=True)
    x = a * 2
    v = x[1]
    v += 1
    v *= 4
    assert grad_fn_name(x) == "CopySlices"
    _eq(x, [[2.0, 4, 6], [36, 44, 52]])
    x.sum().backward()
    _eq(a.grad, [[2.0, 2, 2], [8, 8, 8]])


def test_several_inplace_ops_on_overlapping_views(mk):
    a = mk(A, requires_grad=True)
    x = a * 1
    x[0].mul_(2)
    x[:, 1].mul_(3)
    x.T[2].mul_(5)
    _eq(x, [[2.0, 12, 30], [4, 15, 30]])
    x.sum().backward()
    _eq(a.grad, [[2.0, 6, 10], [1, 3, 5]])


def test_another_view_sees_the_new_history(mk):
    a = mk(A, requires_grad=True)
    x = a * 1
    v1, v2 = x[0], x[:, 0]
    v1.mul_(10)
    assert grad_fn_name(v2) == "AsStridedBackward0"
    _eq(v2, [10.0, 4])
    (v2 * mk([1.0, 2])).sum().backward()
    _eq(a.grad, [[10.0, 0, 0], [2, 0, 0]])


def test_inplace_under_no_grad_on_a_view_is_not_recorded(mk):
    a = mk(A, requires_grad=True)
    x = a * 2
    with tg.no_grad():
        x[0].mul_(3)
    assert grad_fn_name(x) == grad_fn_name(a * 2)  # unchanged
    _eq(x, [[6.0, 12, 18], [8, 10, 12]])
    x.sum().backward()
    _eq(a.grad, [[2.0, 2, 2], [2, 2, 2]])


def test_larger_inplace_through_a_strided_view(backend, dtype, rng):
    npdt = _np(dtype)
    aa = rng.uniform(0.5, 2.0, (5, 8)).astype(npdt)
    wa = rng.uniform(0.5, 2.0, (4, 4)).astype(npdt)
    ga = rng.standard_normal((5, 8)).astype(npdt)
    a = tg.tensor(aa, dtype=dtype, requires_grad=True, backend=backend)
    w = tg.tensor(wa, dtype=dtype, requires_grad=True, backend=backend)
    y = a * 2
    y[1:, ::2].mul_(w)
    (y * tg.tensor(ga, dtype=dtype, backend=backend)).sum().backward()
    a64, w64, g64 = (t.astype(np.float64) for t in (aa, wa, ga))
    want_a = 2 * g64
    want_a[1:, ::2] *= w64
    # y[1:, ::2] was rounded to the dtype before the multiplication by w
    y_slice = (2 * a64[1:, ::2]).astype(npdt).astype(np.float64)
    assert_close(a.grad.numpy(), want_a, npdt, k=2, backward=True, what="a.grad")
    assert_close(w.grad.numpy(), y_slice * g64[1:, ::2], npdt, backward=True, what="w.grad")


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda a: a[0].mul_(2), id="a[0].mul_"),
        pytest.param(lambda a: a.view(6).mul_(2), id="a.view(6).mul_"),
        pytest.param(lambda a: a.T.zero_(), id="a.T.zero_"),
        pytest.param(lambda a: a[:, 0].fill_(1), id="a[:,0].fill_"),
        pytest.param(lambda a: a[1:].copy_(a[:1].detach()), id="a[1:].copy_"),
        pytest.param(lambda a: a[1].__iadd__(1), id="a[1] += 1"),
        pytest.param(lambda a: a[1:][0].add_(1), id="view of a view"),
    ],
)
def test_inplace_on_a_view_of_a_leaf_requiring_grad(mk, change):
    a = mk(A, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        change(a)
    assert str(info.value) == VIEW_OF_LEAF
    _eq(a, A)  # nothing changed
    assert a._version == 0 and a.is_leaf and a.grad_fn is None
    with pytest.raises(RuntimeError) as info:
        a.mul_(2)
    assert str(info.value) == LEAF


def test_inplace_on_a_view_of_a_leaf_is_fine_under_no_grad(mk):
    a = mk(A, requires_grad=True)
    with tg.no_grad():
        a[0].mul_(2)
        a.view(6)[5].add_(100)
    _eq(a, [[2.0, 4, 6], [4, 5, 106]])
    assert a.is_leaf and a.requires_grad and a.grad_fn is None and a._version == 2
    a.sum().backward()
    _eq(a.grad, np.ones((2, 3)))


def test_inplace_through_detach_of_a_leaf_is_allowed(mk):
    a = mk(A, requires_grad=True)
    a.detach()[0].mul_(2)
    a.data[1].add_(1)
    _eq(a, [[2.0, 4, 6], [5, 6, 7]])
    assert a.is_leaf and a.grad_fn is None


def test_saved_tensor_changed_through_a_view_fails_at_backward(mk):
    a = mk(A, requires_grad=True)
    y = a * 1
    z = y.sin()  # saves y
    y[0].mul_(2)
    with pytest.raises(RuntimeError, match=MODIFIED):
        z.sum().backward()


def test_saved_view_changed_through_its_base_fails_at_backward(mk):
    a = mk(A, requires_grad=True)
    y = a * 1
    s = y[0]
    z = s.sin()  # saves the view s
    y.mul_(2)
    with pytest.raises(RuntimeError, match=MODIFIED):
        z.sum().backward()


def test_saved_output_changed_through_a_view_fails_at_backward(mk):
    a = mk(A, requires_grad=True)
    z = a[0].exp()  # saves its output
    z.view(3)[1].mul_(2)
    with pytest.raises(RuntimeError, match=MODIFIED):
        z.sum().backward()


def test_one_version_counter_for_the_whole_storage(mk):
    # w and v do not overlap, but a change through v changes the version w was saved at
    a = mk(A, requires_grad=True)
    x = a * 1
    v, w = x[0], x[1]
    v.mul_(w)  # saves w
    with pytest.raises(RuntimeError, match=MODIFIED):
        x.sum().backward()


def test_view_multiplied_by_itself_in_place_fails_at_backward(mk):
    a = mk(A, requires_grad=True)
    x = a * 1
    v = x[:, 1:]
    v.mul_(v)
    _eq(x, [[1.0, 4, 9], [4, 25, 36]])
    with pytest.raises(RuntimeError, match=MODIFIED):
        x.sum().backward()


def test_detach_shares_the_version_counter_data_does_not(mk):
    a = mk(A, requires_grad=True)
    z = a.sin()  # saves a
    a.detach().mul_(2)
    with pytest.raises(RuntimeError, match=MODIFIED):
        z.sum().backward()
    b = mk(A, requires_grad=True)
    z = b.sin()
    b.data.mul_(2)  # not counted: backward uses the changed values
    z.sum().backward()
    assert b._version == 0
    assert_close(b.grad.numpy(), np.cos(2 * A), _np(b.dtype), what="b.grad")


def test_inplace_on_an_expanded_view_is_refused(mk):
    x = mk(np.zeros((3, 1)))
    with pytest.raises(RuntimeError) as info:
        x.expand(3, 4).add_(1)
    assert str(info.value) == (
        "unsupported operation: more than one element of the written-to tensor refers to a "
        "single memory location. Please clone() the tensor before performing the operation."
    )
    _eq(x, np.zeros((3, 1)))
