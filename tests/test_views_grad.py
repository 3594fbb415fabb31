"""Strided views: gradients (PyTorch 2.13's, checked by running these tests against PyTorch).

The backward of a view scatters the incoming gradient to the input positions the view reads
(summing where expand repeats a position). The oracle follows each output element to its input
element: the same view applied by NumPy to an array of flat indices, then np.bincount.
"""

import numpy as np
import pytest
import tapegrad as tg
from tolerances import assert_close


def node_name(node):
    return node.name()


def grad_fn_name(t):
    return None if t.grad_fn is None else node_name(t.grad_fn)


def _np(dtype):
    return np.float16 if dtype == tg.float16 else np.float32


def _leaf(arr, dtype, backend):
    return tg.tensor(arr, dtype=dtype, requires_grad=True, backend=backend)


def R(name, shape, fn, np_fn):
    return pytest.param(shape, fn, np_fn, id=name)


# fn: the tensor code; np_fn: the same positions by NumPy, on an index array
# fmt: off
CASES = [
    R("x[1:,::2]", (5, 8), lambda x: x[1:, ::2], lambda i: i[1:, ::2]),
    R("x[-3:,1::3]", (5, 8), lambda x: x[-3:, 1::3], lambda i: i[-3:, 1::3]),
    R("select x[2]", (5, 8), lambda x: x[2], lambda i: i[2]),
    R("select(1,-1)", (4, 9, 3), lambda x: x.select(1, -1), lambda i: i[:, -1]),
    R("x[1,2,0] 0-d", (4, 9, 3), lambda x: x[1, 2, 0], lambda i: i[1, 2, 0]),
    R("narrow(1,2,5)", (4, 9, 3), lambda x: x.narrow(1, 2, 5), lambda i: i[:, 2:7]),
    R("view(6,6)", (4, 9), lambda x: x.view(6, 6), lambda i: i.reshape(6, 6)),
    R("view of a view", (4, 9, 3), lambda x: x.view(12, 9)[2:].view(-1, 3)[::4],
      lambda i: i.reshape(12, 9)[2:].reshape(-1, 3)[::4]),
    R("reshape viewable", (4, 9, 3), lambda x: x[:, 3:].reshape(4, 2, 9),
      lambda i: i[:, 3:].reshape(4, 2, 9)),
    R("reshape copy", (4, 9, 3), lambda x: x.transpose(0, 1).reshape(-1),
      lambda i: i.transpose(1, 0, 2).reshape(-1)),
    R("permute(2,0,1)", (4, 9, 3), lambda x: x.permute(2, 0, 1), lambda i: i.transpose(2, 0, 1)),
    R("transpose chain", (4, 9, 3), lambda x: x.transpose(0, 2).permute(1, 2, 0).transpose(-1, 0),
      lambda i: i.transpose(2, 1, 0).transpose(1, 2, 0).swapaxes(-1, 0)),
    R("permute.slice.mT", (4, 9, 3), lambda x: x.permute(2, 0, 1)[1:, :, ::2].mT,
      lambda i: i.transpose(2, 0, 1)[1:, :, ::2].swapaxes(-1, -2)),
    R("t()", (5, 8), lambda x: x.t(), lambda i: i.T),
    R("T", (5, 8), lambda x: x.T[2:, 1:4], lambda i: i.T[2:, 1:4]),
    R("unsqueeze.squeeze", (5, 8), lambda x: x.unsqueeze(1)[::2].squeeze(1).unsqueeze(-1),
      lambda i: i[:, None][::2][:, 0][..., None]),
    R("squeeze((0,2))", (1, 8, 1, 5), lambda x: x.squeeze((0, 2)), lambda i: i[0, :, 0]),
    R("squeeze()", (1, 8, 1, 5), lambda x: x.squeeze(), lambda i: i[0, :, 0]),
    R("None and ...", (5, 8), lambda x: x[None, ..., 1:, None], lambda i: i[None, ..., 1:, None]),
    R("flatten(1)", (4, 9, 3), lambda x: x[:, ::2].flatten(1), lambda i: i[:, ::2].reshape(4, -1)),
    R("unflatten", (4, 9, 3), lambda x: x.unflatten(1, (3, 3))[:, 1], lambda i: i[:, 3:6]),
    R("contiguous()", (4, 9, 3), lambda x: x.transpose(0, 1).contiguous(),
      lambda i: i.transpose(1, 0, 2)),
    R("expand(4,9,3)", (4, 1, 3), lambda x: x.expand(4, 9, 3),
      lambda i: np.broadcast_to(i, (4, 9, 3))),
    R("expand new dims", (9, 1), lambda x: x.expand(2, 4, 9, 3),
      lambda i: np.broadcast_to(i, (2, 4, 9, 3))),
    R("expand_as of a slice", (5, 8), lambda x: x[1:2, ::2].expand_as(x[:, 4:]),
      lambda i: np.broadcast_to(i[1:2, ::2], (5, 4))),
    R("transpose.expand", (3, 1, 5), lambda x: x.transpose(0, 2).expand(5, 4, 3),
      lambda i: np.broadcast_to(i.transpose(2, 1, 0), (5, 4, 3))),
]
# fmt: on


@pytest.mark.parametrize("shape, fn, np_fn", CASES)
def test_view_backward_scatters_the_gradient(backend, dtype, shape, fn, np_fn, rng):
    npdt = _np(dtype)
    n = int(np.prod(shape))
    xa = rng.standard_normal(shape).astype(npdt)
    x = _leaf(xa, dtype, backend)
    v = fn(x)
    idx = np_fn(np.arange(n).reshape(shape))
    assert tuple(v.shape) == idx.shape
    np.testing.assert_array_equal(v.detach().numpy(), xa.reshape(-1)[idx])
    g = rng.standard_normal(idx.shape).astype(npdt)
    v.backward(tg.tensor(g, dtype=dtype, backend=backend))
    g64 = g.astype(np.float64).reshape(-1)
    want = np.bincount(idx.reshape(-1), weights=g64, minlength=n).reshape(shape)
    k = int(np.bincount(idx.reshape(-1), minlength=n).max(initial=0))
    grad = x.grad
    assert grad.dtype == dtype and tuple(grad.shape) == shape and grad.is_contiguous()
    if k <= 1:  # every input element got at most one gradient element: an exact copy
        np.testing.assert_array_equal(grad.numpy(), want.astype(npdt))
    else:  # expand: sums of k gradient elements
        scale = np.bincount(idx.reshape(-1), weights=np.abs(g64), minlength=n).reshape(shape)
        assert_close(grad.numpy(), want, npdt, k=k, backward=True, scale=scale, what="x.grad")


def test_slice_times_3_sum(backend, dtype):
    x = _leaf(np.ones((5, 8)), dtype, backend)
    y = x[1:, ::2] * 3
    y.sum().backward()
    want = np.zeros((5, 8))
    want[1:, ::2] = 3
    np.testing.assert_array_equal(x.grad.numpy(), want)


def test_expand_then_sum(backend, dtype):
    a = _leaf(np.arange(3.0).reshape(3, 1), dtype, backend)
    a.expand(2, 3, 4).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((3, 1), 8.0))
    w = np.arange(24.0).reshape(2, 3, 4) / 8
    b = _leaf(np.ones((3, 1)), dtype, backend)
    (b.expand(2, 3, 4) * tg.tensor(w, dtype=dtype, backend=backend)).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), w.sum((0, 2))[:, None])


def test_gradients_of_several_views_of_one_leaf_accumulate(backend, dtype):
    x = _leaf(np.arange(20.0).reshape(4, 5) / 4, dtype, backend)
    loss = (
        (x[0] * 2).sum()
        + (x.T[1] * 3).sum()
        + x.view(-1)[7]
        + (x[:, 1:].unsqueeze(0).expand(3, 4, 4)).sum()
        + (x.permute(1, 0)[::2, 1:3] * -1).sum()
    )
    loss.backward()
    want = np.zeros((4, 5))
    want[0] += 2
    want[:, 1] += 3
    want.reshape(-1)[7] += 1
    want[:, 1:] += 3
    want.T[::2, 1:3] -= 1
    np.testing.assert_array_equal(x.grad.numpy(), want)


def test_split_chunk_unbind_backward(backend, dtype):
    x = _leaf(np.zeros((4, 9, 3)), dtype, backend)
    loss = sum((k + 1) * p.sum() for k, p in enumerate(x.split([2, 3, 4], 1)))
    loss = loss + sum((k + 1) * p.sum() for k, p in enumerate(x.chunk(2, 0)))
    loss = loss + x.unbind(2)[1].sum() * 10
    loss.backward()
    want = np.zeros((4, 9, 3))
    want[:, :2] += 1
    want[:, 2:5] += 2
    want[:, 5:] += 3
    want[:2] += 1
    want[2:] += 2
    want[:, :, 1] += 10
    np.testing.assert_array_equal(x.grad.numpy(), want)
    # one piece used: the others get zero gradient
    y = _leaf(np.zeros((3, 4)), dtype, backend)
    y.unbind(1)[2].sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), np.eye(4)[[2, 2, 2]])


def test_view_of_a_non_leaf(backend, dtype, rng):
    # the view's history continues through the ops before it
    npdt = _np(dtype)
    xa = rng.uniform(0.5, 2.0, (4, 9, 3)).astype(npdt)
    x = _leaf(xa, dtype, backend)
    h = x * 2
    v = h.permute(1, 2, 0)[::2, 1:]
    assert grad_fn_name(v) == "SliceBackward0" and v._base is h
    assert grad_fn_name(h.permute(1, 2, 0)) == "PermuteBackward0"
    (v * v).sum().backward()
    want = np.zeros((4, 9, 3))
    x64 = xa.astype(np.float64)
    want.transpose(1, 2, 0)[::2, 1:] = 8 * x64.transpose(1, 2, 0)[::2, 1:]
    assert_close(x.grad.numpy(), want, npdt, backward=True, what="x.grad")


def test_grad_fn_next_functions_of_a_view_chain(backend):
    x = _leaf(np.zeros((2, 3)), tg.float32, backend)
    node = x.T[1:].unsqueeze(0).grad_fn
    names = []
    for _ in range(4):
        names.append(node_name(node))
        if names[-1] != "AccumulateGrad":
            node = node.next_functions[0][0]
    assert names == ["UnsqueezeBackward0", "SliceBackward0", "PermuteBackward0", "AccumulateGrad"]
