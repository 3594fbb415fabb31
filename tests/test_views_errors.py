"""Strided views: bad arguments raise PyTorch 2.13's exception type and message.

`exact`: the whole message is PyTorch's; otherwise the part given must appear in it (where
PyTorch's message names its own classes, e.g. `torch.FloatTensor`).
"""

import re

import numpy as np
import pytest
import tapegrad as tg

NOT_VIEWABLE = (
    "view size is not compatible with input tensor's size and stride (at least one dimension "
    "spans across two contiguous subspaces). Use .reshape(...) instead."
)


def DIM(lo, hi, got):
    return f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {got})"


def E(name, fn, exc, message, exact=True):
    return pytest.param(fn, exc, message, exact, id=name)


# fmt: off
ERRORS = [
    # view
    E("transpose.view(-1)", lambda x: x.transpose(0, 1).view(-1), RuntimeError, NOT_VIEWABLE),
    E("transpose.view(3,8)", lambda x: x.transpose(0, 1).view(3, 8), RuntimeError, NOT_VIEWABLE),
    E("x[:,1:].view(-1)", lambda x: x[:, 1:].view(-1), RuntimeError, NOT_VIEWABLE),
    E("x.T[0].view", lambda x: x.mT[0].view(6, 1, 2), RuntimeError, NOT_VIEWABLE),
    E("expand.view(6,4)", lambda x: x[:, 0:1].expand(2, 3, 4).view(6, 4), RuntimeError,
      NOT_VIEWABLE),
    E("view(5)", lambda x: x.view(5), RuntimeError, "shape '[5]' is invalid for input of size 24"),
    E("view(5,-1)", lambda x: x.view(5, -1), RuntimeError,
      "shape '[5, -1]' is invalid for input of size 24"),
    E("view(-1,-1)", lambda x: x.view(-1, -1), RuntimeError, "only one dimension can be inferred"),
    E("view empty (0,-1)", lambda x: x[1:1].view(0, -1), RuntimeError,
      "cannot reshape tensor of 0 elements into shape [0, -1] because the unspecified dimension "
      "size -1 can be any value and is ambiguous"),
    # expand
    E("expand non-singleton", lambda x: x.expand(2, 3, 5), RuntimeError,
      "The expanded size of the tensor (5) must match the existing size (4) at non-singleton "
      "dimension 2.  Target sizes: [2, 3, 5].  Tensor sizes: [2, 3, 4]"),
    E("expand fewer dims", lambda x: x.expand(3, 4), RuntimeError,
      "the number of sizes provided (2) must be greater or equal to the number of dimensions in "
      "the tensor (3)", False),
    E("expand -1 new dim", lambda x: x.expand(-1, 2, 3, 4), RuntimeError,
      "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension 0"),
    E("expand_as", lambda x: x[0].expand_as(x[:, :, :2]), RuntimeError,
      "The expanded size of the tensor (2) must match the existing size (4) at non-singleton "
      "dimension 2.  Target sizes: [2, 3, 2].  Tensor sizes: [3, 4]"),
    # select / indexing
    E("select(0,5)", lambda x: x.select(0, 5), IndexError,
      "select(): index 5 out of range for tensor of size [2, 3, 4] at dimension 0"),
    E("select(1,-4)", lambda x: x.select(1, -4), IndexError,
      "select(): index -4 out of range for tensor of size [2, 3, 4] at dimension 1"),
    E("select(3,0)", lambda x: x.select(3, 0), IndexError, DIM(-3, 2, 3)),
    E("x[5]", lambda x: x[5], IndexError, "index 5 is out of bounds for dimension 0 with size 2"),
    E("x[:,-4]", lambda x: x[:, -4], IndexError,
      "index -4 is out of bounds for dimension 1 with size 3"),
    E("x[0,3]", lambda x: x[0, 3], IndexError,
      "index 3 is out of bounds for dimension 1 with size 3"),
    E("x[0,0,0,0]", lambda x: x[0, 0, 0, 0], IndexError,
      "too many indices for tensor of dimension 3"),
    E("x[::-1]", lambda x: x[::-1], ValueError, "step must be greater than zero"),
    E("x[:,::-2]", lambda x: x[:, ::-2], ValueError, "step must be greater than zero"),
    E("x[::0]", lambda x: x[::0], ValueError, "slice step cannot be zero"),
    # narrow
    E("narrow(0,1,5)", lambda x: x.narrow(0, 1, 5), RuntimeError,
      "start (1) + length (5) exceeds dimension size (2)."),
    E("narrow(0,3,0)", lambda x: x.narrow(0, 3, 0), IndexError,
      "start out of range (expected to be in range of [-2, 2], but got 3)"),
    E("narrow(0,-3,1)", lambda x: x.narrow(0, -3, 1), IndexError,
      "start out of range (expected to be in range of [-2, 2], but got -3)"),
    E("narrow(0,0,-1)", lambda x: x.narrow(0, 0, -1), RuntimeError,
      "narrow(): length must be non-negative."),
    E("narrow(3,0,1)", lambda x: x.narrow(3, 0, 1), IndexError, DIM(-3, 2, 3)),
    # squeeze / unsqueeze
    E("squeeze(3)", lambda x: x.squeeze(3), IndexError, DIM(-3, 2, 3)),
    E("squeeze(-4)", lambda x: x.squeeze(-4), IndexError, DIM(-3, 2, -4)),
    E("squeeze((0,5))", lambda x: x.squeeze((0, 5)), IndexError, DIM(-3, 2, 5)),
    E("squeeze((0,0))", lambda x: x.squeeze((0, 0)), RuntimeError,
      "dim 0 appears multiple times in the list of dims"),
    E("0-d squeeze(1)", lambda x: x[0, 0, 0].squeeze(1), IndexError, DIM(-1, 0, 1)),
    E("unsqueeze(4)", lambda x: x.unsqueeze(4), IndexError, DIM(-4, 3, 4)),
    E("unsqueeze(-5)", lambda x: x.unsqueeze(-5), IndexError, DIM(-4, 3, -5)),
    E("0-d unsqueeze(1)", lambda x: x[0, 0, 0].unsqueeze(1), IndexError, DIM(-1, 0, 1)),
    # permute / transpose / t / mT
    E("t() of 3-D", lambda x: x.t(), RuntimeError,
      "t() expects a tensor with <= 2 dimensions, but self is 3D"),
    E("mT of 1-D", lambda x: x[0, 0].mT, RuntimeError,
      "tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor."),
    E("permute(0,1)", lambda x: x.permute(0, 1), RuntimeError,
      "number of dimensions in the tensor input does not match the length of the desired "
      "ordering of dimensions i.e. input.dim() = 3 is not equal to len(dims) = 2", False),
    E("permute(0,1,1)", lambda x: x.permute(0, 1, 1), RuntimeError,
      "permute(): duplicate dims are not allowed."),
    E("permute(0,1,3)", lambda x: x.permute(0, 1, 3), IndexError, DIM(-3, 2, 3)),
    E("transpose(0,3)", lambda x: x.transpose(0, 3), IndexError, DIM(-3, 2, 3)),
    # split / chunk / unbind
    E("split(0)", lambda x: x.split(0), RuntimeError,
      "split_size can only be 0 if dimension size is 0, but got dimension size of 2"),
    E("split(0,2)", lambda x: x.split(0, 2), RuntimeError,
      "split_size can only be 0 if dimension size is 0, but got dimension size of 4"),
    E("split(-1)", lambda x: x.split(-1), RuntimeError,
      "split expects split_size be non-negative, but got split_size=-1"),
    E("split([1,1],1)", lambda x: x.split([1, 1], 1), RuntimeError,
      "split_with_sizes expects split_sizes to sum exactly to 3 (input tensor's size at dimension "
      "1), but got split_sizes=[1, 1]"),
    E("split(1,3)", lambda x: x.split(1, 3), IndexError, DIM(-3, 2, 3)),
    E("chunk(0)", lambda x: x.chunk(0), RuntimeError,
      "chunk expects `chunks` to be greater than 0, got: 0"),
    E("chunk(-1)", lambda x: x.chunk(-1), RuntimeError,
      "chunk expects `chunks` to be greater than 0, got: -1"),
    E("unbind(3)", lambda x: x.unbind(3), IndexError, DIM(-3, 2, 3)),
    # flatten / unflatten
    E("flatten(2,1)", lambda x: x.flatten(2, 1), RuntimeError,
      "flatten() has invalid args: start_dim cannot come after end_dim"),
    E("flatten(0,3)", lambda x: x.flatten(0, 3), IndexError, DIM(-3, 2, 3)),
    E("unflatten(1,(2,2))", lambda x: x.unflatten(1, (2, 2)), RuntimeError,
      "unflatten: Provided sizes [2, 2] don't multiply up to the size of dim 1 (3) in the input "
      "tensor"),
    E("unflatten(1,())", lambda x: x.unflatten(1, ()), RuntimeError,
      "unflatten: sizes must be non-empty"),
]
# fmt: on


@pytest.mark.parametrize("fn, exc, message, exact", ERRORS)
def test_view_errors(backend, fn, exc, message, exact):
    x = tg.tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True, backend=backend)
    with pytest.raises(exc) as info:
        fn(x)
    if exact:
        assert str(info.value) == message
    else:
        assert message in str(info.value)
    assert x._version == 0


def test_view_error_leaves_nothing_behind(backend):
    # a failed view does not change the tensor, and the same call on a copy works
    x = tg.tensor(np.arange(6.0).reshape(2, 3), backend=backend)
    t = x.T
    with pytest.raises(RuntimeError, match=re.escape(NOT_VIEWABLE)):
        t.view(6)
    assert tuple(t.stride()) == (1, 3) and tuple(t.shape) == (3, 2)
    np.testing.assert_array_equal(t.reshape(6).numpy(), [0.0, 3, 1, 4, 2, 5])
    np.testing.assert_array_equal(t.contiguous().view(6).numpy(), [0.0, 3, 1, 4, 2, 5])
