"""mm, bmm, mv, dot, outer, addmm on both backends: grad_fn names, exact products where PyTorch
computes products (outer, dot's and mv's gradients), PyTorch's errors (recorded from PyTorch
2.13); and the indexing and narrow behaviours the shape slice checked against PyTorch."""

import warnings

import numpy as np
import pytest
import tapegrad as tg

FLOATS = (tg.float32, tg.float16, tg.float64)


def _t(arr, backend, rg=False):
    return tg.tensor(arr, backend=backend, requires_grad=rg)


def _data(shape, dt, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dt.np)


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_names_and_shapes(backend, dt):
    a = _t(_data((4, 3), dt), backend, True)
    b = _t(_data((3, 5), dt, 1), backend, True)
    v = _t(_data((3,), dt, 2), backend, True)
    m = _t(_data((5,), dt, 3), backend, True)
    bb = _t(_data((2, 4, 3), dt, 4), backend, True)
    bc = _t(_data((2, 3, 5), dt, 5), backend, True)
    for y, name, shape in [
        (tg.mm(a, b), "MmBackward0", (4, 5)),
        (a.mm(b), "MmBackward0", (4, 5)),
        (tg.bmm(bb, bc), "BmmBackward0", (2, 4, 5)),
        (tg.mv(a, v), "MvBackward0", (4,)),
        (tg.dot(v, v), "DotBackward0", ()),
        (tg.outer(v, m), "MulBackward0", (3, 5)),
        (tg.addmm(m, a, b), "AddmmBackward0", (4, 5)),
    ]:
        assert y.grad_fn.name() == name and y.shape == shape and y.dtype is dt


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_dot_mv_outer_gradients_are_exact_products(backend, dt):
    a = _data((6, 9), dt)
    v = _data((9,), dt, 1)
    g = _data((6,), dt, 2)
    g[1] = -0.0
    x = _t(a, backend, True)
    y = _t(v, backend, True)
    tg.mv(x, y).backward(_t(g, backend))
    want = (g.astype(np.float64)[:, None] * v.astype(np.float64)).astype(dt.np)
    assert np.array_equal(x.grad.numpy().view(np.uint8), want.view(np.uint8))
    p = _t(v, backend, True)
    q = _t(v[::-1].copy(), backend, True)
    tg.dot(p, q).backward(_t(np.array(-0.0, dt.np), backend))
    assert np.signbit(p.grad.numpy()).tolist() == (v[::-1] > 0).tolist()
    o = tg.outer(_t(v, backend), _t(g, backend))
    want = (v.astype(np.float64)[:, None] * g.astype(np.float64)).astype(dt.np)
    assert np.array_equal(o.numpy().view(np.uint8), want.view(np.uint8))


def test_addmm_scaled_and_matrix_input(backend):
    a = _data((4, 3), tg.float64)
    b = _data((3, 5), tg.float64, 1)
    m = _data((4, 5), tg.float64, 2)
    got = tg.addmm(_t(m, backend), _t(a, backend), _t(b, backend), beta=0.5, alpha=2).numpy()
    np.testing.assert_allclose(got, 0.5 * m + 2 * (a @ b), rtol=1e-12)
    nan = np.full((4, 5), np.nan)
    got = tg.addmm(_t(nan, backend), _t(a, backend), _t(b, backend), beta=0).numpy()
    np.testing.assert_allclose(got, a @ b, rtol=1e-12)


ERRORS = [
    (lambda a, v: tg.mm(a, a), "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    (lambda a, v: tg.mm(a, v), "mat2 must be a matrix"),
    (lambda a, v: tg.mm(v, a), "self must be a matrix"),
    (
        lambda a, v: tg.mm(a, a.t().double()),
        "expected m1 and m2 to have the same dtype, but got: float != double",
    ),
    (lambda a, v: tg.bmm(a, a), "batch1 must be a 3D tensor"),
    (
        lambda a, v: tg.bmm(a[None], a[None]),
        "Expected size for first two dimensions of batch2 tensor to be: [1, 3] but got: [1, 2].",
    ),
    (
        lambda a, v: tg.bmm(a[None], a.t()[None].half()),
        "expected scalar type Float but found Half",
    ),
    (lambda a, v: tg.mv(a, a), "vector + matrix @ vector expected, got 1, 2, 2"),
    (lambda a, v: tg.mv(a, v[:2]), "size mismatch, got input (2), mat (2x3), vec (2)"),
    (
        lambda a, v: tg.mv(a, v.double()),
        "addmv input tensors must have the same dtype, but got Double, Float, and Double",
    ),
    (lambda a, v: tg.dot(v, a), "1D tensors expected, but got 1D and 2D tensors"),
    (
        lambda a, v: tg.dot(v, v[:2]),
        "inconsistent tensor size, expected tensor [3] and src [2] to have the same number of "
        "elements, but got 3 and 2 elements respectively",
    ),
    (
        lambda a, v: tg.dot(v, v.double()),
        "dot : expected both vectors to have same dtype, but found Float and Double",
    ),
    (lambda a, v: tg.outer(a, v), "outer: Expected 1-D argument self, but got 2-D"),
    (lambda a, v: tg.addmm(v, v, a), "mat1 must be a matrix, got 1-D tensor"),
    (
        lambda a, v: tg.addmm(v, a, a.t()),
        "The expanded size of the tensor (2) must match the existing size (3) at non-singleton "
        "dimension 1.  Target sizes: [2, 2].  Tensor sizes: [3]",
    ),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_are_pytorchs(backend, k):
    call, msg = ERRORS[k]
    a = _t(np.ones((2, 3), np.float32), backend)
    v = _t(np.ones(3, np.float32), backend)
    with pytest.raises(RuntimeError) as info:
        call(a, v)
    assert str(info.value) == msg


def test_uint8_index_is_a_mask_and_setitem_checks_dtypes(backend):
    x = _t(np.arange(12, dtype=np.float32).reshape(3, 4), backend)
    with pytest.warns(UserWarning, match="indexing with dtype torch.uint8 is now deprecated"):
        y = x[_t(np.array([1, 0, 1], np.uint8), backend)]
    assert y.shape == (2, 4)
    m = _t(np.array([True, False, True]), backend)
    x[m] = _t(np.array(2.0), backend)  # one element under a lone mask: converted
    assert x.numpy()[0].tolist() == [2.0] * 4
    with pytest.raises(RuntimeError, match="Index put requires the source and destination dtypes"):
        x[_t(np.array([0, 2]), backend)] = _t(np.array(2.0), backend)
    with pytest.raises(RuntimeError, match="got Float for the destination and Half for the"):
        x[m] = _t(np.ones((2, 4), np.float16), backend)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x[m] = 3.0  # a Python number: no warning, no error


def test_narrow_takes_a_0dim_tensor_start(backend):
    x = _t(np.arange(12.0).reshape(3, 4), backend)
    assert x.narrow(0, _t(np.array(1), backend), 2).numpy().tolist() == [
        [4.0, 5.0, 6.0, 7.0],
        [8.0, 9.0, 10.0, 11.0],
    ]
