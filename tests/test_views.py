"""Strided views, forward: each view op's shape, stride(), storage_offset(), is_contiguous(),
values and grad_fn; writes through a view reaching the base and every alias; copies that are not
views; `.numpy()` sharing memory; detach() / .data; version counters.

Every expectation is PyTorch 2.13's behaviour (checked by running these tests against PyTorch
itself). Errors: test_views_errors.py; gradients: test_views_grad.py; autograd through in-place
changes of views: test_views_inplace.py.
"""

import warnings

import numpy as np
import pytest
import tapegrad as tg

# The base of most tests: a (2, 3, 4) tensor whose values are their flat index, so a view's values
# tell which storage elements it reads.
BASE = np.arange(24.0).reshape(2, 3, 4)
# The base of the write tests: (4, 6), the same values.
M = np.arange(24.0).reshape(4, 6)


def node_name(node):
    return node.name()


def grad_fn_name(t):
    return None if t.grad_fn is None else node_name(t.grad_fn)


def _np(dtype):
    return np.float16 if dtype == tg.float16 else np.float32


def _gather(shape, stride, offset):
    """The values of the view (shape, stride, offset) of BASE's storage (values = flat index)."""
    idx = np.full(shape, float(offset))
    for k, (n, s) in enumerate(zip(shape, stride)):
        idx = idx + (np.arange(n) * s).reshape((n,) + (1,) * (len(shape) - k - 1))
    return idx


def _set(a, index, value):
    """A copy of `a` with `a[index] = value` (the NumPy side of the write tests)."""
    out = a.copy()
    out[index] = value
    return out


def G(name, fn, shape, stride, offset, contiguous, grad_fn):
    """One view case on the (2, 3, 4) base. grad_fn: PyTorch's node name, or a tuple of the names
    accepted (where the views protocol records a different node than PyTorch's)."""
    return pytest.param(fn, shape, stride, offset, contiguous, grad_fn, id=name)


VIEW, PERM, TRANS, SEL, SLICE = (
    "ViewBackward0",
    "PermuteBackward0",
    "TransposeBackward0",
    "SelectBackward0",
    "SliceBackward0",
)
UNSQ, SQ0, SQ1, SQ2, EXP = (
    "UnsqueezeBackward0",
    "SqueezeBackward0",
    "SqueezeBackward1",
    "SqueezeBackward2",
    "ExpandBackward0",
)
# PyTorch: `x[...]` and `x[:, :]` are `alias` (AliasBackward0); the spec allows ViewBackward0
ALIAS = ("AliasBackward0", VIEW)
C = (12, 4, 1)  # BASE's strides

# fmt: off
GEOMETRY = [
    # G(name, fn,
    #   shape, stride, storage_offset, is_contiguous, grad_fn)
    G("view(4,6)", lambda x: x.view(4, 6),
      (4, 6),       (6, 1),         0,  True,  VIEW),
    G("view(-1)", lambda x: x.view(-1),
      (24,),        (1,),           0,  True,  VIEW),
    G("view(2,-1,2)", lambda x: x.view(2, -1, 2),
      (2, 6, 2),    (12, 2, 1),     0,  True,  VIEW),
    G("view((3,8))", lambda x: x.view((3, 8)),
      (3, 8),       (8, 1),         0,  True,  VIEW),
    G("view(same)", lambda x: x.view(2, 3, 4),
      (2, 3, 4),    C,              0,  True,  VIEW),
    G("view_as", lambda x: x.view_as(x.reshape(6, 4)),
      (6, 4),       (4, 1),         0,  True,  VIEW),
    G("view 0-d to (1,1)", lambda x: x[1, 2, 3].view(1, 1),
      (1, 1),       (1, 1),         23, True,  VIEW),
    G("x[:,:,::2].view(-1)", lambda x: x[:, :, ::2].view(-1),
      (12,),        (2,),           0,  False, VIEW),
    G("x[:,1:].view(2,8)", lambda x: x[:, 1:].view(2, 8),
      (2, 8),       (12, 1),        4,  False, VIEW),
    G("transpose.view", lambda x: x.transpose(0, 1).view(3, 2, 4),
      (3, 2, 4),    (4, 12, 1),     0,  False, VIEW),
    G("transpose.view split", lambda x: x.transpose(0, 1).view(3, 2, 2, 2),
      (3, 2, 2, 2), (4, 12, 2, 1),  0,  False, VIEW),
    G("reshape(6,4)", lambda x: x.reshape(6, 4),
      (6, 4),       (4, 1),         0,  True,  VIEW),
    G("reshape(2,-1)", lambda x: x.reshape(2, -1),
      (2, 12),      (12, 1),        0,  True,  VIEW),
    # a viewable non-contiguous reshape is PyTorch's _reshape_alias; the spec records ViewBackward0
    G("x[:,:,1].reshape(-1)", lambda x: x[:, :, 1].reshape(-1),
      (6,),         (4,),           1,  False, ("ReshapeAliasBackward0", VIEW)),
    G("permute(2,0,1)", lambda x: x.permute(2, 0, 1),
      (4, 2, 3),    (1, 12, 4),     0,  False, PERM),
    G("permute((1,-1,0))", lambda x: x.permute((1, -1, 0)),
      (3, 4, 2),    (4, 1, 12),     0,  False, PERM),
    G("permute(identity)", lambda x: x.permute(0, 1, 2),
      (2, 3, 4),    C,              0,  True,  PERM),
    G("transpose(0,2)", lambda x: x.transpose(0, 2),
      (4, 3, 2),    (1, 4, 12),     0,  False, TRANS),
    G("transpose(-1,1)", lambda x: x.transpose(-1, 1),
      (2, 4, 3),    (12, 1, 4),     0,  False, TRANS),
    G("transpose(1,1)", lambda x: x.transpose(1, 1),
      (2, 3, 4),    C,              0,  True,  TRANS),
    G("x[0].t()", lambda x: x[0].t(),
      (4, 3),       (1, 4),         0,  False, "TBackward0"),
    G("x[1,2].t() 1-d", lambda x: x[1, 2].t(),
      (4,),         (1,),           20, True,  "TBackward0"),
    G("x[1,2,3].t() 0-d", lambda x: x[1, 2, 3].t(),
      (),           (),             23, True,  "TBackward0"),
    G("x[0].T", lambda x: x[0].T,
      (4, 3),       (1, 4),         0,  False, PERM),
    G("x.mT", lambda x: x.mT,
      (2, 4, 3),    (12, 1, 4),     0,  False, TRANS),
    G("x[1].mT", lambda x: x[1].mT,
      (4, 3),       (1, 4),         12, False, TRANS),
    G("x.mT.mT", lambda x: x.mT.mT,
      (2, 3, 4),    C,              0,  True,  TRANS),
    G("select(1,-1)", lambda x: x.select(1, -1),
      (2, 4),       (12, 1),        8,  False, SEL),
    G("select(-1,0)", lambda x: x.select(-1, 0),
      (2, 3),       (12, 4),        0,  False, SEL),
    G("x[1]", lambda x: x[1],
      (3, 4),       (4, 1),         12, True,  SEL),
    G("x[-1,-1]", lambda x: x[-1, -1],
      (4,),         (1,),           20, True,  SEL),
    G("x[:,1]", lambda x: x[:, 1],
      (2, 4),       (12, 1),        4,  False, SEL),
    G("x[1,2,3]", lambda x: x[1, 2, 3],
      (),           (),             23, True,  SEL),
    G("x.view(-1)[3]", lambda x: x.view(-1)[3],
      (),           (),             3,  True,  SEL),
    G("x.permute(2,0,1)[1:,1]", lambda x: x.permute(2, 0, 1)[1:, 1],
      (3, 3),       (1, 4),         13, False, SEL),
    G("narrow(2,1,2)", lambda x: x.narrow(2, 1, 2),
      (2, 3, 2),    C,              1,  False, SLICE),
    G("narrow(0,-1,1)", lambda x: x.narrow(0, -1, 1),
      (1, 3, 4),    C,              12, True,  SLICE),
    G("narrow(1,-3,2)", lambda x: x.narrow(1, -3, 2),
      (2, 2, 4),    C,              0,  False, SLICE),
    G("narrow(1,3,0)", lambda x: x.narrow(1, 3, 0),
      (2, 0, 4),    C,              12, True,  SLICE),
    G("x[1:]", lambda x: x[1:],
      (1, 3, 4),    C,              12, True,  SLICE),
    G("x[:]", lambda x: x[:],
      (2, 3, 4),    C,              0,  True,  SLICE),
    G("x[::5]", lambda x: x[::5],
      (1, 3, 4),    (60, 4, 1),     0,  True,  SLICE),
    G("x[:,::2,1:]", lambda x: x[:, ::2, 1:],
      (2, 2, 3),    (12, 8, 1),     1,  False, SLICE),
    G("x[1:,::2]", lambda x: x[1:, ::2],
      (1, 2, 4),    (12, 8, 1),     12, False, SLICE),
    G("x[...,-3:]", lambda x: x[..., -3:],
      (2, 3, 3),    C,              1,  False, SLICE),
    G("x[...,::3]", lambda x: x[..., ::3],
      (2, 3, 2),    (12, 4, 3),     0,  False, SLICE),
    G("x[:,-2:,-3::2]", lambda x: x[:, -2:, -3::2],
      (2, 2, 2),    (12, 4, 2),     5,  False, SLICE),
    G("x[:,0:1:3]", lambda x: x[:, 0:1:3],
      (2, 1, 4),    (12, 12, 1),    0,  False, SLICE),
    G("x[:,1::2,::9]", lambda x: x[:, 1::2, ::9],
      (2, 1, 1),    (12, 8, 9),     4,  False, SLICE),
    G("x[1:1]", lambda x: x[1:1],
      (0, 3, 4),    C,              12, True,  SLICE),
    G("x[5:100]", lambda x: x[5:100],
      (0, 3, 4),    C,              24, True,  SLICE),
    G("x[-100:1]", lambda x: x[-100:1],
      (1, 3, 4),    C,              0,  True,  SLICE),
    G("x[:,10:]", lambda x: x[:, 10:],
      (2, 0, 4),    C,              12, True,  SLICE),
    G("x[1][1:][::2]", lambda x: x[1][1:][::2],
      (1, 4),       (8, 1),         16, True,  SLICE),
    G("x.view(-1)[3:20:4]", lambda x: x.view(-1)[3:20:4],
      (5,),         (4,),           3,  False, SLICE),
    G("x[None]", lambda x: x[None],
      (1, 2, 3, 4), (24, 12, 4, 1), 0,  True,  UNSQ),
    G("x[:,None]", lambda x: x[:, None],
      (2, 1, 3, 4), (12, 12, 4, 1), 0,  True,  UNSQ),
    G("x[...,None]", lambda x: x[..., None],
      (2, 3, 4, 1), (12, 4, 1, 1),  0,  True,  UNSQ),
    G("x[None,1,...,None,::2]", lambda x: x[None, 1, ..., None, ::2],
      (1, 3, 1, 2), (24, 4, 4, 2),  12, False, SLICE),
    G("x[...]", lambda x: x[...],
      (2, 3, 4),    C,              0,  True,  ALIAS),
    G("x[:,:]", lambda x: x[:, :],
      (2, 3, 4),    C,              0,  True,  ALIAS),
    G("unsqueeze(0)", lambda x: x.unsqueeze(0),
      (1, 2, 3, 4), (24, 12, 4, 1), 0,  True,  UNSQ),
    G("unsqueeze(1)", lambda x: x.unsqueeze(1),
      (2, 1, 3, 4), (12, 12, 4, 1), 0,  True,  UNSQ),
    G("unsqueeze(-1)", lambda x: x.unsqueeze(-1),
      (2, 3, 4, 1), (12, 4, 1, 1),  0,  True,  UNSQ),
    G("x[:,::2].unsqueeze(2)", lambda x: x[:, ::2].unsqueeze(2),
      (2, 2, 1, 4), (12, 8, 4, 1),  0,  False, UNSQ),
    G("permute.unsqueeze(3)", lambda x: x.permute(2, 0, 1).unsqueeze(3),
      (4, 2, 3, 1), (1, 12, 4, 1),  0,  False, UNSQ),
    G("x[:,0:1].squeeze()", lambda x: x[:, 0:1].squeeze(),
      (2, 4),       (12, 1),        0,  False, SQ0),
    G("x[:,0:1].squeeze(1)", lambda x: x[:, 0:1].squeeze(1),
      (2, 4),       (12, 1),        0,  False, SQ1),
    G("x[:,:1,:1].squeeze(-1)", lambda x: x[:, :1, :1].squeeze(-1),
      (2, 1),       (12, 4),        0,  False, SQ1),
    G("squeeze(1) kept", lambda x: x.squeeze(1),
      (2, 3, 4),    C,              0,  True,  SQ1),
    G("squeeze() none", lambda x: x.squeeze(),
      (2, 3, 4),    C,              0,  True,  SQ0),
    G("squeeze((0,2))", lambda x: x[None, :, 0:1].squeeze((0, 2)),
      (2, 4),       (12, 1),        0,  False, SQ2),
    G("x[:,:1,:1].squeeze((1,2))", lambda x: x[:, :1, :1].squeeze((1, 2)),
      (2,),         (12,),          0,  False, SQ2),
    G("expand(2,3,5)", lambda x: x[:, :, 0:1].expand(2, 3, 5),
      (2, 3, 5),    (12, 4, 0),     0,  False, EXP),
    G("expand new dim", lambda x: x[0, :, 0:1].expand(2, 3, 4),
      (2, 3, 4),    (0, 4, 0),      0,  False, EXP),
    G("expand(5,3,2)", lambda x: x[0, :, :1].expand(5, 3, 2),
      (5, 3, 2),    (0, 4, 0),      0,  False, EXP),
    G("expand(-1,3,-1)", lambda x: x[:, 0:1].expand(-1, 3, -1),
      (2, 3, 4),    (12, 0, 1),     0,  False, EXP),
    G("expand(same)", lambda x: x.expand(2, 3, 4),
      (2, 3, 4),    C,              0,  True,  EXP),
    # a new leading dim of size 1 gets the stride a contiguous tensor would have (PyTorch)
    G("expand(1,2,3,4)", lambda x: x.expand(1, 2, 3, 4),
      (1, 2, 3, 4), (24, 12, 4, 1), 0,  True,  EXP),
    G("expand_as", lambda x: x[0, 0:1, :].expand_as(x),
      (2, 3, 4),    (0, 0, 1),      0,  False, EXP),
    G("flatten()", lambda x: x.flatten(),
      (24,),        (1,),           0,  True,  VIEW),
    G("flatten(1)", lambda x: x.flatten(1),
      (2, 12),      (12, 1),        0,  True,  VIEW),
    G("flatten(0,1)", lambda x: x.flatten(0, 1),
      (6, 4),       (4, 1),         0,  True,  VIEW),
    G("flatten 0-d", lambda x: x[1, 2, 3].flatten(),
      (1,),         (1,),           23, True,  VIEW),
    G("unflatten(2,(2,2))", lambda x: x.unflatten(2, (2, 2)),
      (2, 3, 2, 2), (12, 4, 2, 1),  0,  True,  VIEW),
    G("unflatten(-1,(2,-1))", lambda x: x.unflatten(-1, (2, -1)),
      (2, 3, 2, 2), (12, 4, 2, 1),  0,  True,  VIEW),
    G("unflatten(0,(1,2))", lambda x: x.unflatten(0, (1, 2)),
      (1, 2, 3, 4), (24, 12, 4, 1), 0,  True,  VIEW),
    G("x[:,::2].unflatten", lambda x: x[:, ::2].unflatten(2, (2, 2)),
      (2, 2, 2, 2), (12, 8, 2, 1),  0,  False, VIEW),
    G("transpose.unflatten", lambda x: x.transpose(0, 2).unflatten(0, (2, 2)),
      (2, 2, 3, 2), (2, 1, 4, 12),  0,  False, VIEW),
]
# fmt: on


@pytest.mark.parametrize("fn, shape, stride, offset, contiguous, grad_fn", GEOMETRY)
def test_view_geometry_and_values(backend, dtype, fn, shape, stride, offset, contiguous, grad_fn):
    x = tg.tensor(BASE, dtype=dtype, backend=backend)
    v = fn(x)
    assert tuple(v.shape) == shape
    assert tuple(v.stride()) == stride
    assert [v.stride(d) for d in range(-v.ndim, v.ndim)] == list(stride) * 2
    assert v.storage_offset() == offset
    assert v.is_contiguous() is contiguous
    assert v.dtype == dtype
    assert v._is_view() and v._base is x and not x._is_view() and x._base is None
    if v.numel():
        assert v.data_ptr() == x.data_ptr() + offset * dtype.itemsize
    got = v.numpy()
    assert got.dtype == _np(dtype)
    np.testing.assert_array_equal(got, _gather(shape, stride, offset))


@pytest.mark.parametrize("fn, shape, stride, offset, contiguous, grad_fn", GEOMETRY)
def test_view_grad_fn(backend, fn, shape, stride, offset, contiguous, grad_fn):
    x = tg.tensor(BASE, requires_grad=True, backend=backend)
    v = fn(x)
    names = (grad_fn,) if isinstance(grad_fn, str) else grad_fn
    assert grad_fn_name(v) in names
    assert v.requires_grad and not v.is_leaf and v._base is x
    assert tuple(v.stride()) == stride and v.storage_offset() == offset


def test_T_of_other_than_2_dims_reverses_them(backend):
    # PyTorch warns that this use of .T is deprecated; the result is permute(reversed dims)
    x = tg.tensor(BASE, requires_grad=True, backend=backend)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v, v1, v0 = x.T, x[0, 0].T, x[0, 0, 0].T
    assert tuple(v.shape) == (4, 3, 2) and tuple(v.stride()) == (1, 4, 12)
    assert grad_fn_name(v) == "PermuteBackward0" and v._base is x
    np.testing.assert_array_equal(v.detach().numpy(), BASE.transpose(2, 1, 0))
    assert tuple(v1.shape) == (4,) and tuple(v1.stride()) == (1,) and v1._base is x
    assert tuple(v0.shape) == () and v0.item() == 0.0 and v0._base is x


# split / chunk / unbind: a tuple of views. PyTorch's nodes are SplitBackward0,
# SplitWithSizesBackward0 and UnbindBackward0; the spec builds them of slices and selects.
# fmt: off
SPLITS = [
    ("split(2,2)",      lambda x: x.split(2, 2),      [((2, 3, 2), C, 0), ((2, 3, 2), C, 2)],
     ("SplitBackward0", SLICE)),
    ("split(2,-2)",     lambda x: x.split(2, -2),     [((2, 2, 4), C, 0), ((2, 1, 4), C, 8)],
     ("SplitBackward0", SLICE)),
    ("split([1,2],1)",  lambda x: x.split([1, 2], 1), [((2, 1, 4), C, 0), ((2, 2, 4), C, 4)],
     ("SplitWithSizesBackward0", SLICE)),
    ("split(5,1)",      lambda x: x.split(5, 1),      [((2, 3, 4), C, 0)],
     ("SplitBackward0", SLICE)),
    ("chunk(2,1)",      lambda x: x.chunk(2, 1),      [((2, 2, 4), C, 0), ((2, 1, 4), C, 8)],
     ("SplitBackward0", SLICE)),
    ("chunk(3,2)",      lambda x: x.chunk(3, 2),      [((2, 3, 2), C, 0), ((2, 3, 2), C, 2)],
     ("SplitBackward0", SLICE)),
    ("chunk(5,1)",      lambda x: x.chunk(5, 1),      [((2, 1, 4), C, o) for o in (0, 4, 8)],
     ("SplitBackward0", SLICE)),
    ("unbind(1)",       lambda x: x.unbind(1),        [((2, 4), (12, 1), o) for o in (0, 4, 8)],
     ("UnbindBackward0", SEL)),
    ("unbind()",        lambda x: x.unbind(),         [((3, 4), (4, 1), o) for o in (0, 12)],
     ("UnbindBackward0", SEL)),
]
# fmt: on


@pytest.mark.parametrize("fn, pieces, grad_fn", [pytest.param(*s[1:], id=s[0]) for s in SPLITS])
def test_split_chunk_unbind(backend, dtype, fn, pieces, grad_fn):
    x = tg.tensor(BASE, dtype=dtype, backend=backend)
    out = fn(x)
    assert isinstance(out, tuple) and len(out) == len(pieces)
    for v, (shape, stride, offset) in zip(out, pieces):
        assert tuple(v.shape) == shape and tuple(v.stride()) == stride
        assert v.storage_offset() == offset and v._base is x
        np.testing.assert_array_equal(v.numpy(), _gather(shape, stride, offset))
    xr = tg.tensor(BASE, requires_grad=True, backend=backend)
    assert all(grad_fn_name(v) in grad_fn and v.requires_grad for v in fn(xr))


# ------------------------------------------------------------------ results that are copies

# fmt: off
COPIES = [
    ("transpose.reshape(-1)", lambda x: x.transpose(0, 1).reshape(-1),
     lambda a: a.transpose(1, 0, 2).reshape(-1), "UnsafeViewBackward0"),
    ("transpose.reshape(3,8)", lambda x: x.transpose(0, 1).reshape(3, 8),
     lambda a: a.transpose(1, 0, 2).reshape(3, 8), "UnsafeViewBackward0"),
    ("x[:,1:].reshape(-1)", lambda x: x[:, 1:].reshape(-1),
     lambda a: a[:, 1:].reshape(-1), "UnsafeViewBackward0"),
    ("expand.reshape(6,4)", lambda x: x[:, 0:1].expand(2, 3, 4).reshape(6, 4),
     lambda a: np.broadcast_to(a[:, 0:1], (2, 3, 4)).reshape(6, 4), "UnsafeViewBackward0"),
    ("transpose.flatten()", lambda x: x.transpose(0, 2).flatten(),
     lambda a: a.transpose(2, 1, 0).reshape(-1), "UnsafeViewBackward0"),
    ("x[:,1].flatten()", lambda x: x[:, 1].flatten(), lambda a: a[:, 1].reshape(-1),
     "UnsafeViewBackward0"),
    ("x[:,0].contiguous()", lambda x: x[:, 0].contiguous(), lambda a: a[:, 0], "CloneBackward0"),
    ("permute.contiguous()", lambda x: x.permute(2, 0, 1).contiguous(),
     lambda a: a.transpose(2, 0, 1), "CloneBackward0"),
    ("expand.contiguous()", lambda x: x[:, 0:1].expand(2, 3, 4).contiguous(),
     lambda a: np.broadcast_to(a[:, 0:1], (2, 3, 4)), "CloneBackward0"),
]
# fmt: on


@pytest.mark.parametrize("fn, np_fn, grad_fn", [pytest.param(*c[1:], id=c[0]) for c in COPIES])
def test_non_viewable_results_are_contiguous_copies(backend, dtype, fn, np_fn, grad_fn):
    x = tg.tensor(BASE, dtype=dtype, backend=backend)
    c = fn(x)
    want = np_fn(BASE)
    assert tuple(c.shape) == want.shape and c.is_contiguous() and c.storage_offset() == 0
    assert tuple(c.stride()) == tuple(s // 8 for s in np.ascontiguousarray(want).strides)
    assert not c._is_view() and c._base is None and c.data_ptr() != x.data_ptr()
    np.testing.assert_array_equal(c.numpy(), want)
    c.mul_(-1)  # the copy and the base are independent
    np.testing.assert_array_equal(x.numpy(), BASE)
    x.add_(100)
    np.testing.assert_array_equal(c.numpy(), -want)
    assert grad_fn_name(fn(tg.tensor(BASE, requires_grad=True, backend=backend))) == grad_fn


def test_contiguous_of_a_contiguous_tensor_is_itself(backend):
    x = tg.tensor(BASE, requires_grad=True, backend=backend)
    assert x.contiguous() is x
    for v in (x[1], x[::5], x[1:], x.view(6, 4), x.unsqueeze(1)):
        assert v.is_contiguous() and v.contiguous() is v
    # size-1 dims do not count: (3, 1) with strides (1, 3) is contiguous
    r = tg.tensor([[1.0, 2.0, 3.0]], backend=backend).T
    assert tuple(r.stride()) == (1, 3) and r.is_contiguous() and r.contiguous() is r
    # flatten of nothing to flatten returns the tensor itself
    assert x.flatten(1, 1) is x
    w = x[0, 0]
    assert w.flatten() is w


# ------------------------------------------------------------------ writes through aliases


def _augmented(x, mk):
    v = x[::2]
    v += 1
    v *= 3
    w = x[:, -2:]
    w -= 1
    w /= 2


def _augmented_want(a):
    b = _set(a, np.s_[::2], (a[::2] + 1) * 3)
    return _set(b, np.s_[:, -2:], (b[:, -2:] - 1) / 2)


# (name, write(x, mk), expected(a)) on M (4, 6); mk makes a tensor of x's backend and dtype
# fmt: off
WRITES = [
    ("x[0].mul_(5)", lambda x, mk: x[0].mul_(5), lambda a: _set(a, np.s_[0], a[0] * 5)),
    ("x.T.mul_(5)", lambda x, mk: x.T.mul_(5), lambda a: a * 5),
    ("x[:,1:].zero_()", lambda x, mk: x[:, 1:].zero_(), lambda a: _set(a, np.s_[:, 1:], 0)),
    ("x[1].copy_(t)", lambda x, mk: x[1].copy_(mk(np.arange(100.0, 106.0))),
     lambda a: _set(a, np.s_[1], np.arange(100.0, 106.0))),
    ("x[:,2].copy_(bcast)", lambda x, mk: x[:, 2:4].copy_(mk([[-1.0], [-2.0], [-3.0], [-4.0]])),
     lambda a: _set(a, np.s_[:, 2:4], [[-1.0], [-2.0], [-3.0], [-4.0]])),
    ("x.view(-1)[3].add_(100)", lambda x, mk: x.view(-1)[3].add_(100),
     lambda a: _set(a, np.s_[0, 3], 103)),
    ("x.T[1:,::2].div_(4)", lambda x, mk: x.T[1:, ::2].div_(4),
     lambda a: _set(a.T, np.s_[1:, ::2], a.T[1:, ::2] / 4).T),
    ("x[::2,::3].fill_(-1)", lambda x, mk: x[::2, ::3].fill_(-1),
     lambda a: _set(a, np.s_[::2, ::3], -1)),
    ("x[:,2].add_(t,alpha=2)", lambda x, mk: x[:, 2].add_(mk([1.0, 2, 3, 4]), alpha=2),
     lambda a: _set(a, np.s_[:, 2], a[:, 2] + 2 * np.array([1.0, 2, 3, 4]))),
    ("x[1:3].mul_(row)", lambda x, mk: x[1:3].mul_(mk(np.arange(6.0))),
     lambda a: _set(a, np.s_[1:3], a[1:3] * np.arange(6.0))),
    ("x.permute(1,0)[2].sub_(t)", lambda x, mk: x.permute(1, 0)[2].sub_(mk([1.0, 2, 3, 4])),
     lambda a: _set(a, np.s_[:, 2], a[:, 2] - [1.0, 2, 3, 4])),
    ("x.narrow(1,2,3).mul_(-1)", lambda x, mk: x.narrow(1, 2, 3).mul_(-1),
     lambda a: _set(a, np.s_[:, 2:5], -a[:, 2:5])),
    ("x.unflatten[:,1].add_(7)", lambda x, mk: x.unflatten(1, (2, 3))[:, 1].add_(7),
     lambda a: _set(a, np.s_[:, 3:], a[:, 3:] + 7)),
    ("x.view(2,12)[1,5:].zero_()", lambda x, mk: x.view(2, 12)[1, 5:].zero_(),
     lambda a: _set(a.reshape(2, 12), np.s_[1, 5:], 0).reshape(4, 6)),
    ("x.reshape(3,8)[:,::4].mul_(.5)", lambda x, mk: x.reshape(3, 8)[:, ::4].mul_(0.5),
     lambda a: _set(a.reshape(3, 8), np.s_[:, ::4], a.reshape(3, 8)[:, ::4] * 0.5).reshape(4, 6)),
    ("x[1][2:].mul_(10)", lambda x, mk: x[1][2:].mul_(10),
     lambda a: _set(a, np.s_[1, 2:], a[1, 2:] * 10)),
    ("x.t().t()[0].mul_(2)", lambda x, mk: x.t().t()[0].mul_(2),
     lambda a: _set(a, np.s_[0], a[0] * 2)),
    ("x.mT[1:3].mul_(2)", lambda x, mk: x.mT[1:3].mul_(2),
     lambda a: _set(a, np.s_[:, 1:3], a[:, 1:3] * 2)),
    ("x[None][0,1].zero_()", lambda x, mk: x[None][0, 1].zero_(), lambda a: _set(a, np.s_[1], 0)),
    ("x.unsqueeze(1)[2,0].fill_(5)", lambda x, mk: x.unsqueeze(1)[2, 0].fill_(5),
     lambda a: _set(a, np.s_[2], 5)),
    ("x[...].add_(1)", lambda x, mk: x[...].add_(1), lambda a: a + 1),
    ("x.expand(2,4,6)[1].add_(1)", lambda x, mk: x.expand(2, 4, 6)[1].add_(1), lambda a: a + 1),
    ("x.split(2,1)[1].add_(1)", lambda x, mk: x.split(2, 1)[1].add_(1),
     lambda a: _set(a, np.s_[:, 2:4], a[:, 2:4] + 1)),
    ("x.chunk(3,1)[2].zero_()", lambda x, mk: x.chunk(3, 1)[2].zero_(),
     lambda a: _set(a, np.s_[:, 4:], 0)),
    ("x.unbind(0)[2].fill_(9)", lambda x, mk: x.unbind(0)[2].fill_(9),
     lambda a: _set(a, np.s_[2], 9)),
    ("v=x[::2]; v+=1; v*=3; w=x[:,-2:]; w-=1; w/=2", _augmented, _augmented_want),
]
# fmt: on


@pytest.mark.parametrize("write, want", [pytest.param(*w[1:], id=w[0]) for w in WRITES])
def test_writes_through_a_view_reach_the_base_and_every_alias(backend, dtype, write, want):
    x = tg.tensor(M, dtype=dtype, backend=backend)

    def mk(data):
        return tg.tensor(np.asarray(data, dtype=np.float64), dtype=dtype, backend=backend)

    # aliases taken before the write, with how each reads the base
    aliases = [
        (x.view(-1), lambda e: e.reshape(-1)),
        (x.T, lambda e: e.T),
        (x[1:, ::2], lambda e: e[1:, ::2]),
        (x[2], lambda e: e[2]),
        (x[3, 5], lambda e: e[3, 5]),
        (x.unsqueeze(0).expand(2, 4, 6), lambda e: np.broadcast_to(e, (2, 4, 6))),
    ]
    write(x, mk)
    expected = want(M)
    np.testing.assert_array_equal(x.numpy(), expected.astype(_np(dtype)))
    for alias, read in aliases:
        np.testing.assert_array_equal(alias.numpy(), read(expected).astype(_np(dtype)))
        assert alias._version == x._version  # one version counter per storage
    assert x._version >= 1


def test_a_view_taken_earlier_sees_later_writes_to_the_base(backend, dtype):
    x = tg.tensor(M, dtype=dtype, backend=backend)
    v, col, s = x[1:, ::2], x.T[2], x[3, 5]
    x.mul_(2)
    x[0].add_(1)  # through another view
    x.T.sub_(tg.tensor(np.arange(4.0), dtype=dtype, backend=backend))  # row i -= i
    want = M * 2
    want[0] += 1
    want = want - np.arange(4.0)[:, None]
    np.testing.assert_array_equal(v.numpy(), want[1:, ::2])
    np.testing.assert_array_equal(col.numpy(), want[:, 2])
    assert s.item() == want[3, 5]
    x.copy_(tg.zeros(4, 6, dtype=dtype, backend=backend))
    assert not v.numpy().any() and s.item() == 0.0
    assert v._version == col._version == s._version == x._version == 4


def test_inplace_methods_return_the_view_itself(backend):
    x = tg.tensor(M, backend=backend)
    v = x[1:, ::2]
    t = tg.tensor(np.ones((3, 3)), backend=backend)
    assert v.mul_(2) is v and v.add_(1) is v and v.sub_(t) is v and v.div_(2) is v
    assert v.zero_() is v and v.fill_(3) is v and v.copy_(t) is v
    w = v
    v += 1
    v *= 2
    assert v is w and v._base is x
    assert x[1, 0].item() == 4.0 and x[1, 1].item() == 7.0


NUMPY_VIEWS = [
    (lambda t: t.transpose(0, 2), lambda a: a.transpose(2, 1, 0)),
    (lambda t: t[:, 1], lambda a: a[:, 1]),
    (lambda t: t[..., ::2], lambda a: a[..., ::2]),
    (lambda t: t[:, 0:1].expand(2, 3, 4), lambda a: np.broadcast_to(a[:, 0:1], (2, 3, 4))),
    (lambda t: t[1], lambda a: a[1]),
    (lambda t: t[1, 2, 3], lambda a: a[1, 2, 3]),
]


def test_numpy_of_a_view_shares_memory_with_the_base(backend, dtype):
    x = tg.tensor(BASE, dtype=dtype, backend=backend)
    for fn, np_fn in NUMPY_VIEWS:
        v = fn(x)
        arr = v.numpy()
        assert np.shares_memory(arr, x.numpy())
        assert arr.strides == tuple(s * dtype.itemsize for s in v.stride())
        np.testing.assert_array_equal(arr, np_fn(BASE))
    arr = x[1].numpy()
    x.mul_(2)  # a later write through the tensor is seen by the array
    np.testing.assert_array_equal(arr, BASE[1] * 2)
    arr[0, 0] = -1  # and a write into the array by the tensor and its views
    assert x[1, 0, 0].item() == -1.0 and x.view(-1)[12].item() == -1.0


def test_detach_and_data_share_storage_but_are_not_views(backend):
    x = tg.tensor(M, requires_grad=True, backend=backend)
    for alias in (x.detach(), x.data):
        assert not alias.requires_grad and alias.grad_fn is None and alias.is_leaf
        assert not alias._is_view() and alias._base is None
        assert alias.data_ptr() == x.data_ptr() and tuple(alias.stride()) == (6, 1)
    x.detach()[0].mul_(2)  # no error: detach() is not a view of a leaf for autograd
    x.data[1].add_(1)
    x.detach().T[2].zero_()
    want = M.copy()
    want[0] *= 2
    want[1] += 1
    want[:, 2] = 0
    np.testing.assert_array_equal(x.detach().numpy(), want)
    assert x.is_leaf and x.requires_grad and x.grad_fn is None


def test_version_counters_detach_shares_data_does_not(backend):
    x = tg.zeros(2, 3, backend=backend)
    v, w, d, dd = x[0], x.T, x.detach(), x.data
    assert x._version == 0
    v.add_(1)
    assert x._version == v._version == w._version == d._version == 1
    assert dd._version == 0  # .data has a counter of its own
    dd.add_(1)
    assert x._version == v._version == d._version == 1
    d.add_(1)
    assert x._version == v._version == w._version == d._version == 2
    np.testing.assert_array_equal(x.numpy(), [[3.0, 3, 3], [2, 2, 2]])
