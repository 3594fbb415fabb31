"""Print options and what printing touches; PyTorch's text itself is checked by test_print.py."""

import numpy as np
import pytest
import tapegrad as tg
from tapegrad import _ops_print

DEFAULT = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


@pytest.fixture(autouse=True)
def _restore():
    yield
    tg.set_printoptions(profile="default")


def test_defaults_and_profiles():
    assert _ops_print.get_printoptions() == DEFAULT
    tg.set_printoptions(profile="short")
    assert _ops_print.get_printoptions() == {**DEFAULT, "precision": 2, "edgeitems": 2}
    tg.set_printoptions(profile="full", precision=6)
    assert _ops_print.get_printoptions() == {**DEFAULT, "precision": 6, "threshold": np.inf}
    tg.set_printoptions(profile="default")
    assert _ops_print.get_printoptions() == DEFAULT


def test_sci_mode_resets_when_left_out():
    tg.set_printoptions(sci_mode=True)
    assert repr(tg.tensor([1.5, 2.0])) == "tensor([1.5000e+00, 2.0000e+00])"
    tg.set_printoptions(precision=3)  # like PyTorch, every call sets sci_mode
    assert repr(tg.tensor([1.5, 2.0])) == "tensor([1.500, 2.000])"


def test_printoptions_context_restores():
    with _ops_print.printoptions(precision=1, linewidth=20):
        assert repr(tg.tensor([1.25])) == "tensor([1.2])"
    assert _ops_print.get_printoptions() == DEFAULT


def test_not_exported_where_pytorch_has_none():
    assert hasattr(tg, "set_printoptions")
    assert not hasattr(tg, "get_printoptions") and not hasattr(tg, "printoptions")


@pytest.mark.parametrize("backend", ("cpp", "numpy"))
@pytest.mark.parametrize(
    "shape", [(60000, 10), (10, 60000), (5000,), (40, 50, 60), (3, 2000), (9, 9, 9, 9)]
)
def test_big_tensor_reads_only_its_summary(backend, shape, monkeypatch):
    with tg.use_backend(backend):
        t = tg.zeros(*shape)
        read = []
        real = t._be.to_numpy
        monkeypatch.setattr(t._be, "to_numpy", lambda x: read.append(x.numel()) or real(x))
        text = repr(t)
    shown = int(np.prod([min(n, 6) for n in shape]))
    assert sum(read) == shown
    assert "..." in text and len(text) < 50 * shown


@pytest.mark.parametrize("backend", ("cpp", "numpy"))
def test_printing_leaves_autograd_alone(backend):
    with tg.use_backend(backend):
        x = tg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        y = (x * x).sum()
        assert repr(y) == "tensor(30., grad_fn=<SumBackward0>)"
        assert repr(x) == "tensor([[1., 2.],\n        [3., 4.]], requires_grad=True)"
        assert f"{y:.1f}" == "30.0"
        assert tg.is_grad_enabled()
        y.backward()
        assert x.grad.tolist() == [[2.0, 4.0], [6.0, 8.0]]


@pytest.mark.parametrize("backend", ("cpp", "numpy"))
def test_views_print_their_own_values(backend):
    with tg.use_backend(backend):
        base = tg.arange(24.0).reshape(4, 6)
        assert repr(base.t()[1]) == "tensor([ 1.,  7., 13., 19.])"
        assert repr(base[1:3, ::2]) == "tensor([[ 6.,  8., 10.],\n        [12., 14., 16.]])"
        tg.set_printoptions(threshold=10, edgeitems=1)
        assert repr(base.t()) == (
            "tensor([[ 0.,  ..., 18.],\n        ...,\n        [ 5.,  ..., 23.]])"
        )


@pytest.mark.parametrize("backend", ("cpp", "numpy"))
def test_format_spec_errors(backend):
    with tg.use_backend(backend):
        with pytest.raises(TypeError, match=r"^unsupported format string passed to Tensor"):
            format(tg.ones(1), ".2f")
        assert format(tg.ones(1), "") == "tensor([1.])"
        p = tg.nn.Parameter(tg.tensor(1.5))
        with pytest.raises(TypeError, match=r"^unsupported format string passed to Parameter"):
            format(p, ".2f")
        assert f"{tg.tensor(7)}|{tg.tensor(7):03d}|{tg.tensor(True)}" == "7|007|True"
        for t in (tg.ones(2), tg.tensor(1.5)):
            with pytest.raises(TypeError, match=r"^__format__\(\) argument must be str, not int$"):
                t.__format__(5)
