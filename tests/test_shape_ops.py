"""cat/stack, repeat/tile, flip/roll, gather/scatter, index_select, masked_select on both
backends: values (exact: these ops only move values), gradients (exact where they are copies;
where they add, the two backends agree bit for bit and match float64 within rounding),
grad_fn names, dtypes, and PyTorch's errors (its wording, recorded from PyTorch 2.13)."""

import numpy as np
import pytest
import tapegrad as tg

FLOATS = (tg.float32, tg.float16, tg.float64)
SHAPES = ((7,), (33,), (1000,), (7, 33), (3, 17, 20))


def _data(shape, dt, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * np.exp(rng.uniform(-3, 3, shape))).astype(dt.np)


def _t(arr, backend, rg=False):
    return tg.tensor(arr, backend=backend, requires_grad=rg)


def _bits(x):
    return np.ascontiguousarray(x).view(np.uint8)


def _same(got, want):
    got = got.detach().numpy() if hasattr(got, "numpy") else got
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(_bits(got), _bits(want.astype(got.dtype))), (got, want)


def _grads(f, arrays, backend, seed=9):
    """y = f(*xs) and the inputs' gradients of (y * w).sum() (w holding some -0.0)."""
    xs = [_t(a, backend, True) for a in arrays]
    y = f(*xs)
    w = _data(tuple(y.shape), y.dtype, seed)
    if w.size:
        w.reshape(-1)[:: max(1, w.size // 5)] = -0.0
    (y * _t(w, backend)).sum().backward()
    return y, w, [None if x.grad is None else x.grad.numpy() for x in xs]


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
@pytest.mark.parametrize("shape", SHAPES)
def test_copying_ops_values_and_gradients(backend, dt, shape):
    a = _data(shape, dt)
    nd = len(shape)
    other = list(shape)
    other[-1] = 2
    b = _data(tuple(other), dt, 1)
    # (name, call, numpy forward, numpy backward of w -> per input)
    checks = [
        ("CatBackward0", lambda x, y: tg.cat([x, y], -1), lambda x, y: np.concatenate([x, y], -1),
         lambda w: [w[..., : shape[-1]], w[..., shape[-1]:]]),
        ("StackBackward0", lambda x, y: tg.stack([x, y * 1], 0), lambda x, y: np.stack([x, x]),
         lambda w: [w[0], w[1]]),
        ("FlipBackward0", lambda x, y: x.flip(tuple(range(nd))), lambda x, y: np.flip(x),
         lambda w: [np.flip(w), None]),
        ("RollBackward0", lambda x, y: x.roll(3, -1), lambda x, y: np.roll(x, 3, -1),
         lambda w: [np.roll(w, -3, -1), None]),
        ("ViewBackward0", lambda x, y: x.roll(5), lambda x, y: np.roll(x, 5),
         lambda w: [np.roll(w, -5), None]),
    ]  # fmt: skip
    for name, call, fwd, bwd in checks:
        if name == "StackBackward0":
            arrays = [a, a]
        else:
            arrays = [a, b]
        y, w, grads = _grads(call, arrays, backend)
        assert type(y.grad_fn).__name__ == name or y.grad_fn.name() == name
        _same(y, fwd(*arrays))
        for g, want in zip(grads, bwd(w)):
            if want is not None and name != "StackBackward0":
                _same(g, want)
        if name == "StackBackward0":
            _same(grads[0], w[0])  # y * 1: the second input's gradient went through a mul


def _name(t):
    return t.grad_fn.name()


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: d.name)
def test_accumulating_ops_agree_across_backends(dt):
    a = _data((7, 33), dt)
    idx = np.random.default_rng(3).integers(0, 33, (7, 66))
    sel = np.random.default_rng(4).integers(0, 7, (20,))
    src = _data((7, 66), dt, 5)
    calls = [
        ("GatherBackward0", lambda x, s, i: x.gather(1, i), idx),
        ("IndexSelectBackward0", lambda x, s, i: x.index_select(0, i), sel),
        ("ScatterAddBackward0", lambda x, s, i: x.scatter_add(1, i, s), idx[:, :33]),
        ("ScatterBackward0", lambda x, s, i: x.scatter(1, i, s), idx[:, :33]),
        ("RepeatBackward0", lambda x, s, i: x.repeat(3, 2, 5), None),
        ("MaskedSelectBackward0", lambda x, s, i: x.masked_select(x > 0), None),
    ]
    for name, call, index in calls:
        out = {}
        for be in ("cpp", "numpy"):
            i = None if index is None else _t(index.astype(np.int64), be)
            y, w, grads = _grads(lambda x, s, call=call, i=i: call(x, s, i), [a, src], be)
            assert _name(y) == name
            out[be] = [y.detach().numpy()] + [g for g in grads]
        for g_cpp, g_np in zip(out["cpp"], out["numpy"]):
            assert (g_cpp is None) == (g_np is None), name
            if g_cpp is not None:
                _same(g_cpp, g_np)


def test_float16_gradients_add_where_pytorch_adds(backend):
    """PyTorch 2.13: gather's gradient (scatter_add) adds float16 in float and rounds once;
    index_select's (index_add) does so along the first or last dim of a 2-D or more tensor,
    else rounds after each addition."""
    g = np.array([2048, 1, 1, 1], np.float16)  # 2048 + 1 rounds back to 2048 in float16
    i = _t(np.array([0, 0, 0, 0]), backend)
    x = _t(np.zeros(3, np.float16), backend, True)
    x.gather(0, i).backward(_t(g, backend))
    _same(x.grad, np.array([2052, 0, 0], np.float16))
    x = _t(np.zeros(3, np.float16), backend, True)
    x.index_select(0, i).backward(_t(g, backend))
    _same(x.grad, np.array([2048, 0, 0], np.float16))
    for shape, dim, want in [((1, 2), 0, 2052), ((2, 1), 1, 2052), ((2, 1, 2), 1, 2048)]:
        x = _t(np.zeros(shape, np.float16), backend, True)
        y = x.index_select(dim, i)
        gshape = [1] * len(shape)
        gshape[dim] = 4
        y.backward(_t(np.broadcast_to(g.reshape(gshape), y.shape).copy(), backend))
        _same(x.grad, np.full(shape, want, np.float16))
    z = _t(np.zeros(1, np.float16), backend)
    _same(z.scatter_add(0, i, _t(g, backend)), np.array([2052], np.float16))


def test_repeat_gradient_sums_like_pytorch(backend):
    x = _t(np.ones((2, 3), np.float32), backend, True)
    y = x.repeat(4, 2, 3)
    assert y.shape == (4, 4, 9) and _name(y) == "RepeatBackward0"
    y.sum().backward()
    _same(x.grad, np.full((2, 3), 24, np.float32))
    z = _t(np.ones((2, 3), np.float32), backend, True)
    z.repeat(0, 1).sum().backward()
    _same(z.grad, np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("dt", (tg.int64, tg.int32, tg.uint8, tg.bool), ids=lambda d: d.name)
def test_integer_and_bool_dtypes(backend, dt):
    a = (np.arange(12).reshape(3, 4) % 3).astype(dt.np)
    x = _t(a, backend)
    i = _t(np.array([[0, 3], [1, 1], [2, 0]]), backend)
    _same(tg.cat([x, x], 1), np.concatenate([a, a], 1))
    _same(tg.stack([x, x], 2), np.stack([a, a], 2))
    _same(x.repeat(2, 1), np.tile(a, (2, 1)))
    _same(x.flip(1), a[:, ::-1])
    _same(x.roll(1, 0), np.roll(a, 1, 0))
    _same(x.gather(1, i), np.take_along_axis(a, np.array([[0, 3], [1, 1], [2, 0]]), 1))
    _same(x.index_select(1, _t(np.array([3, 0]), backend)), a[:, [3, 0]])
    _same(x.masked_select(_t(a > 0, backend)), a[a > 0])
    want = a.copy()
    want[[0, 0, 1, 1, 2, 2], [0, 3, 1, 1, 2, 0]] = a[[0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 1]]
    _same(x.scatter(1, i, x[:, :2].contiguous()), want)


def test_cat_promotes_and_skips_legacy_empty(backend):
    a = _t(np.ones((2, 3), np.float32), backend)
    b = _t(np.ones((1, 3), np.int32), backend)
    h = _t(np.ones((1, 3), np.float16), backend)
    assert tg.cat([a, b]).dtype is tg.float32
    assert tg.cat([b, b.to(tg.bool)]).dtype is tg.int32
    assert tg.cat([h, a.double()]).dtype is tg.float64
    e = _t(np.ones((0,), np.float64), backend)
    y = tg.cat([a, e])
    assert y.shape == (2, 3) and y.dtype is tg.float64
    assert tg.cat([e, e]).shape == (0,)
    assert tg.concat([a, a], 1).shape == (2, 6)
    assert tg.concatenate([a, a], axis=1).shape == (2, 6)
    assert tg.hstack([a, a]).shape == (2, 6)
    assert tg.vstack([_t(np.ones(3, np.float32), backend), a]).shape == (3, 3)


def test_cat_of_many_inputs_sends_each_its_slice(backend):
    arrays = [_data((2, k + 1), tg.float32, k) for k in range(8)]
    y, w, grads = _grads(lambda *xs: tg.cat(xs, 1), arrays, backend)
    _same(y, np.concatenate(arrays, 1))
    off = 0
    for k, g in enumerate(grads):
        _same(g, w[:, off : off + k + 1])
        off += k + 1
    assert _name(y) == "CatBackward0"


def test_scatter_in_place(backend):
    x = _t(np.zeros((2, 4), np.float32), backend, True)
    s = _t(np.arange(1, 7, dtype=np.float32).reshape(2, 3), backend, True)
    i = _t(np.array([[0, 1, 0], [3, 3, 2]]), backend)
    y = x * 1
    v0 = y._version
    assert y.scatter_add_(1, i, s) is y
    assert y._version > v0 and _name(y) == "ScatterAddBackward0"
    _same(y, np.array([[4, 2, 0, 0], [0, 0, 6, 9]], np.float32))
    y.scatter_(0, _t(np.array([[1, 0, 0, 1]]), backend), 7.0)
    assert _name(y) == "ScatterBackward1"
    y.sum().backward()
    _same(x.grad, np.array([[1, 0, 0, 1], [0, 1, 1, 0]], np.float32))
    _same(s.grad, np.array([[1, 0, 1], [0, 0, 1]], np.float32))
    leaf = _t(np.zeros(3, np.float32), backend, True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        leaf.scatter_(0, _t(np.array([0]), backend), 1.0)


ERRORS = [
    (lambda a, i: tg.cat([]), ValueError, "torch.cat(): expected a non-empty list of Tensors"),
    (
        lambda a, i: tg.cat([a, a[:, :2]]),
        RuntimeError,
        "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 2 for "
        "tensor number 1 in the list.",
    ),
    (
        lambda a, i: tg.cat([a, a[0]]),
        RuntimeError,
        "Tensors must have same number of dimensions: got 2 and 1",
    ),
    (
        lambda a, i: tg.cat([a, a], 2),
        IndexError,
        "Dimension out of range (expected to be in range of [-2, 1], but got 2)",
    ),
    (
        lambda a, i: tg.cat([a[0, 0], a[0, 0]]),
        RuntimeError,
        "zero-dimensional tensor (at position 0) cannot be concatenated",
    ),
    (
        lambda a, i: tg.cat(a),
        TypeError,
        "cat(): argument 'tensors' (position 1) must be tuple of Tensors, not",
    ),
    (
        lambda a, i: tg.cat([a, 3]),
        TypeError,
        "expected Tensor as element 1 in argument 0, but got int",
    ),
    (
        lambda a, i: tg.cat([a, a], dim=None),
        TypeError,
        "cat(): argument 'dim' must be int, not NoneType",
    ),
    (lambda a, i: tg.stack([]), RuntimeError, "stack expects a non-empty TensorList"),
    (
        lambda a, i: tg.stack([a, a[:, :2]]),
        RuntimeError,
        "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [2, 2] at "
        "entry 1",
    ),
    (
        lambda a, i: tg.stack([a, a], 3),
        IndexError,
        "Dimension out of range (expected to be in range of [-3, 2], but got 3)",
    ),
    (
        lambda a, i: a.repeat(2),
        RuntimeError,
        "Number of dimensions of repeat dims can not be smaller than number of dimensions of "
        "tensor",
    ),
    (
        lambda a, i: a.repeat(2, -1),
        RuntimeError,
        "Trying to create tensor with negative dimension -3: [4, -3]",
    ),
    (lambda a, i: a.flip(0, 0), RuntimeError, "dim 0 appears multiple times in the list of dims"),
    (
        lambda a, i: a.roll((1, 2), (0,)),
        RuntimeError,
        "shifts and dimensions must align. shifts: 2, dims:1",
    ),
    (lambda a, i: tg.roll(a, [], []), RuntimeError, "`shifts` required"),
    (
        lambda a, i: a.gather(1, i[0]),
        RuntimeError,
        "Index tensor must have the same number of dimensions as input tensor",
    ),
    (
        lambda a, i: a.gather(1, i * 5),
        RuntimeError,
        "index 5 is out of bounds for dimension 1 with size 3",
    ),
    (
        lambda a, i: a.gather(1, i - 1),
        RuntimeError,
        "index -1 is out of bounds for dimension 1 with size 3",
    ),
    (
        lambda a, i: a.gather(1, i.float()),
        RuntimeError,
        "gather(): Expected dtype int32/int64 for index",
    ),
    (
        lambda a, i: a.scatter(1, i, a.double()),
        RuntimeError,
        "scatter(): Expected self.dtype to be equal to src.dtype",
    ),
    (
        lambda a, i: a.scatter(1, i.float(), 1.0),
        RuntimeError,
        "scatter(): Expected dtype int32/int64 for index",
    ),
    (
        lambda a, i: a.scatter_add(1, i, 2.0),
        TypeError,
        "scatter_add(): argument 'src' (position 3) must be Tensor, not float",
    ),
    (lambda a, i: a.index_select(0, i[0] * 2), IndexError, "index out of range in self"),
    (
        lambda a, i: a.index_select(0, i.float()[0]),
        RuntimeError,
        "index_select(): Expected dtype int32 or int64 for index",
    ),
    (
        lambda a, i: a.index_select(0, i),
        IndexError,
        "index_select(): Index is supposed to be a vector",
    ),
    (lambda a, i: a.masked_select(i), RuntimeError, "masked_select: expected BoolTensor for mask"),
]


@pytest.mark.parametrize("k", range(len(ERRORS)))
def test_errors_are_pytorchs(backend, k):
    call, exc, msg = ERRORS[k]
    a = _t(np.ones((2, 3), np.float32), backend)
    i = _t(np.array([[0, 1], [1, 0]]), backend)
    with pytest.raises(exc) as info:
        call(a, i)
    assert str(info.value).startswith(msg), str(info.value)
